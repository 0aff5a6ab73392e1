import { DomainError, isDomainError } from '#lgsp/contracts';
import { bearerToken, type Client, type ClientService, type Role } from '#lgsp/security';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { negotiateLanguage } from './language.js';
import { localizeProblem, problemHeaders } from './problem.js';
import { rateLimitedProblem, requestCost, type RequestLimits } from './rate-limits.js';

declare module 'fastify' {
  interface FastifyRequest {
    client?: Client;
  }
}

const HEALTH = /^\/health\/(live|ready)(\?|$)/;
/** The web console: its session cookie instead of a token (console/console-http.ts). */
const CONSOLE = /^\/console(\/|\?|$)/;
const METRICS = /^\/metrics(\?|$)/;
/** The payment platform's callbacks, authenticated by their `MaXacThuc` digest instead of a token. */
const CALLBACKS = /^\/v1\/callbacks\/payments(\?|$)/;
/** The OpenAPI document and its reference page: public, the same for every caller. */
const API_DOCS = /^\/(openapi\.json|docs)(\/|\?|$)/;

/** What the request guard needs of the hub. */
export interface GuardParts {
  clients: Pick<ClientService, 'authenticate'>;
  limits: RequestLimits;
  /** Throws for a scrape without the metrics token; null when `/metrics` is on a listener of its own. */
  authorizeMetrics: ((authorization: string | string[] | undefined) => void) | null;
  /** The client of the console session a request's cookie names; absent: no console. */
  consoleClient?: (req: FastifyRequest) => Promise<Client | undefined>;
}

/**
 * Authenticates and rate-limits in Fastify's onRequest hook, before the body is read, so a request
 * without a valid token or over its limit is refused without spending effort on its body:
 * - health probes pass untouched;
 * - `/metrics` counts against its own per-address limit and needs the metrics token when one is set;
 * - a valid token (a client's, the bootstrap admin's, or a JWT of the identity provider) counts
 *   against its client's limit;
 * - everything else (no token, a token this process does not know yet, one expired or revoked, the
 *   payment callbacks, the API document and its page) counts against its remote address first, so
 *   that guessed or forged tokens cost no store look-up or signature check once the address is over
 *   its limit.
 *
 * A request over its limit is answered here, without an exception or a log line (a flood would
 * make as many); `lgsp_http_rate_limited_total` counts them.
 */
export async function guardRequest(
  parts: GuardParts,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  const url = req.url;
  if (HEALTH.test(url)) return undefined;
  const { limits } = parts;
  if (METRICS.test(url)) {
    if (parts.authorizeMetrics === null) {
      if (!limits.address(req.ip, reply)) return refuse(limits, reply);
      throw new DomainError('not-found', 'the metrics are served on a listener of their own');
    }
    if (!limits.metricsScrape(req.ip, reply)) return refuse(limits, reply);
    parts.authorizeMetrics(req.headers.authorization);
    return undefined;
  }
  if (CALLBACKS.test(url) || API_DOCS.test(url))
    return limits.address(req.ip, reply) ? undefined : refuse(limits, reply);
  if (parts.consoleClient && CONSOLE.test(url)) {
    // The console's pages decide what a request without a session gets (the login page).
    const client = await parts.consoleClient(req);
    if (!client) return limits.address(req.ip, reply) ? undefined : refuse(limits, reply);
    if (!limits.client(client, reply, requestCost(req.method, url))) return refuse(limits, reply);
    req.client = client;
    return undefined;
  }
  const token = bearerToken(req.headers.authorization);
  if (!token) {
    if (!limits.address(req.ip, reply)) return refuse(limits, reply);
    throw new DomainError('unauthenticated', 'send Authorization: Bearer <token>');
  }
  // A token this process does not know yet, or one that is not valid (expired, revoked), counts
  // against the address once, as no token does.
  let addressCounted = false;
  const addressAllows = () => {
    if (addressCounted) return true;
    addressCounted = true;
    return limits.address(req.ip, reply);
  };
  let addressRefused = false;
  let client: Client | undefined;
  try {
    client = await parts.clients.authenticate(token, () => {
      addressRefused = !addressAllows();
      return !addressRefused;
    });
  } catch (e) {
    if (isDomainError(e) && e.code === 'unauthenticated' && !addressAllows()) return refuse(limits, reply);
    throw e;
  }
  if (addressRefused) return refuse(limits, reply);
  if (!client) {
    if (!addressAllows()) return refuse(limits, reply);
    throw new DomainError('unauthenticated', 'the token is not valid');
  }
  if (!limits.client(client, reply, requestCost(req.method, url))) return refuse(limits, reply);
  req.client = client;
  return undefined;
}

/** Answers 429 after the limits' hold; the RateLimit fields and Retry-After are already set. */
async function refuse(limits: RequestLimits, reply: FastifyReply): Promise<FastifyReply> {
  await limits.holdRefusal(Number(reply.getHeader('retry-after') ?? 1));
  const language = negotiateLanguage(reply.request.headers['accept-language']);
  return reply
    .code(429)
    .headers(problemHeaders(language))
    .send(localizeProblem(rateLimitedProblem(reply.request.url.split('?')[0]), language));
}

/** The authenticated client, or 403 when its role is not among `roles`. */
export function principal(req: FastifyRequest, ...roles: Role[]): Client {
  const client = req.client;
  if (!client) throw new DomainError('unauthenticated', 'send Authorization: Bearer <token>');
  if (roles.length > 0 && !roles.includes(client.role)) {
    throw new DomainError(
      'forbidden',
      `this needs the role ${roles.join(' or ')}; client ${client.name} is ${client.role}`,
    );
  }
  return client;
}
