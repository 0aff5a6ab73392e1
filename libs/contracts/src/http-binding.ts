import type { CloudEvent } from './cloudevent.js';
import { parseStrictJsonBytes } from './strict-json.js';
import { DomainError, pointerToken, type Issue } from './errors.js';
import { hasUtf8Charset, isJsonEssence, parseMediaType, type MediaType } from './media-type.js';

/** Media type of one event in structured mode (CloudEvents JSON format). */
export const CLOUDEVENTS_JSON = 'application/cloudevents+json';
/** Media type of a batch of events (CloudEvents JSON batch format). */
export const CLOUDEVENTS_BATCH_JSON = 'application/cloudevents-batch+json';

/** How the events were carried (CloudEvents HTTP protocol binding 1.0). */
export type HttpEventMode = 'structured' | 'batch' | 'binary';

/** An HTTP request as far as the CloudEvents binding needs it. */
export interface HttpEventsInput {
  /** The `Content-Type` header. */
  contentType: string | undefined;
  /** Request headers with lower-case names, as Node gives them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer | undefined;
  /** Most events accepted in one batch. */
  maxEvents: number;
}

/** The events of a request, neither normalised nor validated yet. */
export interface HttpEvents {
  mode: HttpEventMode;
  events: CloudEvent[];
}

const ACCEPTED =
  `send ${CLOUDEVENTS_JSON} (one event), ${CLOUDEVENTS_BATCH_JSON} (a batch), ` +
  'or binary mode: ce-* headers with an application/json body';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const malformed = (message: string, issues: Issue[] = [{ pointer: '', message }]): DomainError =>
  new DomainError('malformed', message, issues);

/** Parses a JSON body held to the limits and I-JSON rules of {@link parseStrictJsonBytes}. */
function parseJsonBody(body: Buffer | undefined, what: string, pointer = ''): unknown {
  if (body === undefined || body.length === 0) throw malformed(`the body is empty; it must hold ${what}`);
  return parseStrictJsonBytes(body, 'body', pointer);
}

function requireUtf8(mediaType: MediaType): void {
  if (!hasUtf8Charset(mediaType)) {
    throw new DomainError(
      'unsupported-media-type',
      `charset ${mediaType.parameters.get('charset')} is not supported; JSON must be UTF-8`,
    );
  }
}

function header(headers: HttpEventsInput['headers'], name: string): string | undefined {
  const value = headers[name];
  if (value === undefined || typeof value === 'string') return value;
  if (value.length === 1) return value[0];
  throw malformed(`header ${name} appears ${value.length} times`);
}

// Printable ASCII and space: what a header value may hold once the binding has percent-encoded the rest.
const NOT_HEADER_TEXT = /[^\x20-\x7e]/;

/**
 * Decodes the `%XX` escapes of a binary-mode header value (UTF-8 octets, CloudEvents HTTP binding
 * §3.1.3.2). Raw bytes outside printable ASCII are refused: the binding requires them percent-encoded,
 * and their meaning (Node reads them as Latin-1) would be a guess.
 */
function percentDecode(value: string, headerName: string, attribute: string): string {
  if (NOT_HEADER_TEXT.test(value)) {
    const message = `header ${headerName} holds raw bytes outside printable ASCII; percent-encode them as UTF-8`;
    throw malformed(message, [{ pointer: `/${pointerToken(attribute)}`, message: 'is not percent-encoded' }]);
  }
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    const message = `header ${headerName} has an invalid percent-encoded UTF-8 sequence`;
    throw malformed(message, [{ pointer: `/${pointerToken(attribute)}`, message }]);
  }
}

function structured(body: Buffer | undefined): HttpEvents {
  const event = parseJsonBody(body, 'one CloudEvent (a JSON object)');
  if (!isRecord(event)) {
    throw malformed(`a ${CLOUDEVENTS_JSON} body must be one JSON object (the event)`);
  }
  return { mode: 'structured', events: [event as CloudEvent] };
}

function batch(body: Buffer | undefined, maxEvents: number): HttpEvents {
  const events = parseJsonBody(body, 'a JSON array of CloudEvents');
  if (!Array.isArray(events)) {
    throw malformed(`a ${CLOUDEVENTS_BATCH_JSON} body must be a JSON array of events`);
  }
  if (events.length === 0) throw malformed('batch is empty');
  if (events.length > maxEvents) {
    throw new DomainError(
      'too-large',
      `batch has ${events.length} events; at most ${maxEvents} are accepted in one request`,
    );
  }
  const issues: Issue[] = [];
  for (let i = 0; i < events.length; i++) {
    if (!isRecord(events[i])) issues.push({ pointer: `/${i}`, message: 'an event must be a JSON object' });
  }
  if (issues.length > 0) throw malformed('every element of a batch must be a JSON object (an event)', issues);
  return { mode: 'batch', events: events as CloudEvent[] };
}

function binary(input: HttpEventsInput, mediaType: MediaType | undefined): HttpEvents {
  if (mediaType === undefined || !isJsonEssence(mediaType.essence)) {
    throw new DomainError(
      'unsupported-media-type',
      `binary mode accepts only application/json or a +json media type as data, got ${input.contentType ?? 'no Content-Type'}`,
    );
  }
  requireUtf8(mediaType);
  const event: Record<string, unknown> = {};
  for (const name of Object.keys(input.headers)) {
    if (!name.startsWith('ce-')) continue;
    const value = header(input.headers, name);
    if (value === undefined) continue;
    const attribute = name.slice(3);
    if (
      attribute === '' ||
      attribute === '__proto__' ||
      attribute === 'data' ||
      attribute === 'data_base64'
    ) {
      throw malformed(`header ${name} is not accepted: in binary mode the body is the event data`, [
        { pointer: `/${pointerToken(attribute)}`, message: `header ${name} is not accepted` },
      ]);
    }
    event[attribute] = percentDecode(value, name, attribute);
  }
  event['datacontenttype'] = input.contentType;
  event['data'] = parseJsonBody(input.body, 'the event data (JSON)', '/data');
  return { mode: 'binary', events: [event as CloudEvent] };
}

/**
 * Reads the CloudEvents of an HTTP request per the CloudEvents HTTP protocol binding 1.0, JSON only:
 * structured mode (`application/cloudevents+json`, one event), batched mode
 * (`application/cloudevents-batch+json`, a non-empty array of at most `maxEvents` events) and binary mode
 * (`ce-*` headers carry the attributes, percent-decoded; `Content-Type` becomes `datacontenttype`; the JSON
 * body is `data`). Does not normalise or validate the events.
 * JSON is held to the limits and I-JSON rules of {@link parseStrictJsonBytes}.
 * @throws DomainError `unsupported-media-type` (no or another media type, a charset other than UTF-8),
 *   `malformed` (bad UTF-8 or JSON, not I-JSON, wrong shape, empty batch, empty binary body, a header
 *   value with raw non-ASCII bytes or bad percent-encoding), `too-large` (more than `maxEvents` events,
 *   a JSON limit exceeded).
 */
export function parseHttpEvents(input: HttpEventsInput): HttpEvents {
  const mediaType = input.contentType === undefined ? undefined : parseMediaType(input.contentType);
  if (mediaType?.essence === CLOUDEVENTS_JSON) {
    requireUtf8(mediaType);
    return structured(input.body);
  }
  if (mediaType?.essence === CLOUDEVENTS_BATCH_JSON) {
    requireUtf8(mediaType);
    return batch(input.body, input.maxEvents);
  }
  if (input.headers['ce-specversion'] !== undefined) return binary(input, mediaType);
  throw new DomainError(
    'unsupported-media-type',
    input.contentType === undefined
      ? `no Content-Type: ${ACCEPTED}`
      : `Content-Type ${input.contentType} is not accepted: ${ACCEPTED}`,
  );
}
