import { isContractName, isEventType } from '#lgsp/contracts';
import { MASK, maskPointer } from '#lgsp/observability';
import type { FastifyRequest } from 'fastify';

/** Query parameters of the hub's API (a name outside these and the contracts is the sender's text). */
const QUERY_PARAMETERS: ReadonlySet<string> = new Set([
  'after',
  'limit',
  'from',
  'type',
  'province',
  'subject',
  'target',
  'action',
  'category',
]);
/** Positions, limits, province and commune codes: short numbers are no personal data. */
const SHORT_NUMBER = /^[0-9]{1,8}$/;
/** Pointers logged per refused request; a batch can have thousands. */
const MAX_LOGGED_POINTERS = 20;

const isApiName = (name: string): boolean => QUERY_PARAMETERS.has(name) || isContractName(name);

/**
 * What a log line may say about a request: the method, the route pattern (`/v1/streams/:stream`, never
 * the path, whose parameters are the sender's text) and the query with unknown names and every value
 * but short numbers and catalogue event types masked. The raw URL is parsed here, not `req.query`, so
 * that this works for requests the router refused too.
 */
export function requestLogFields(req: FastifyRequest): Record<string, unknown> {
  const fields: Record<string, unknown> = { method: req.method, route: req.routeOptions?.url ?? null };
  const at = req.url.indexOf('?');
  if (at === -1 || at === req.url.length - 1) return fields;
  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(req.url.slice(at + 1))) {
    query[isApiName(name) ? name : '*'] = SHORT_NUMBER.test(value) || isEventType(value) ? value : MASK;
  }
  fields['query'] = query;
  return fields;
}

/** The pointers of a problem as they may be logged (see `maskPointer`), at most {@link MAX_LOGGED_POINTERS}. */
export function loggablePointers(errors: readonly { pointer: string }[]): string[] {
  return errors.slice(0, MAX_LOGGED_POINTERS).map((e) => maskPointer(e.pointer, isApiName));
}
