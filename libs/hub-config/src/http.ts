import { integer, positive, settingsObject } from './schema.js';
import { intFromEnv, type Env } from './env.js';

/** The HTTP listener and its connection limits. */
export interface HttpConfig {
  /** @defaultValue "0.0.0.0" (env `LGSP_HTTP_HOST`) */
  host: string;
  /** @defaultValue 3000 (env `LGSP_HTTP_PORT`) */
  port: number;
  /** Largest request body accepted, in bytes; larger gets 413. @defaultValue 1048576 */
  bodyLimitBytes: number;
  /** A connection that has not sent a request's headers this long after it began is answered 408 and closed. @defaultValue 10000 */
  headersTimeoutMs: number;
  /**
   * A request whose headers and body have not all arrived this long after it began is answered 408
   * and closed; 0 = no limit. A response, however long (the SSE tail), is not limited. @defaultValue 60000
   */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (longer than a load balancer's idle timeout, often 60 s). @defaultValue 72000 */
  keepAliveTimeoutMs: number;
  /**
   * Connections one remote address (an IPv6 /64) may hold open; more are closed at once. 0 = no cap.
   * Room for a client that opens a connection per request in flight, and for many behind one NAT or
   * load balancer. @defaultValue 1024
   */
  maxConnectionsPerAddress: number;
  /**
   * A console session (`/console`) not used this long ends; the operator signs in again.
   * @defaultValue 30
   */
  consoleSessionMinutes: number;
}

/**
 * Token buckets per process (replicas each count their own). A refused request gets 429 with
 * `Retry-After` and the `RateLimit-Policy` / `RateLimit` headers. Health probes are never limited.
 */
export interface RateLimitConfig {
  /**
   * Each authenticated client, unless the client has a limit of its own (`lgsp clients create|update
   * --rate-limit`). Enough for a commune's bulk load or a province's few hundred events a second, and
   * well below what one process serves (about 13,000 requests/s on 2 cores), so that one client cannot
   * take the hub from the others. @defaultValue 1000 units/s, burst 2000 (a unit is a request; a read of the log, one per 10 events)
   */
  client: RateLimitSettings;
  /**
   * Each admin and operator client (the bootstrap admin included) without a limit of its own: the
   * hub's own operators and their tools (the CLI, reconciliation checks paging the whole log), high
   * enough to stop only a runaway script. @defaultValue 20000 units/s, burst 40000
   */
  operator: RateLimitSettings;
  /**
   * Each remote address, for the requests that have no valid token (none, a bad one, the payment
   * callbacks): throttles token guessing and floods of bad tokens. @defaultValue 100 requests/s, burst 200
   */
  address: RateLimitSettings;
  /** Each remote address, for `/metrics`. @defaultValue 10 requests/s, burst 20 */
  metrics: RateLimitSettings;
  /**
   * A refused request is answered after this long (at most its `Retry-After`), so a client that keeps
   * sending regardless holds each connection that long instead of costing the hub a refusal per
   * round trip; at most `refusalsHeld` wait at once, beyond that they are answered at once.
   * @defaultValue 1000 ms, 10000 held
   */
  refusalDelayMs: number;
  refusalsHeld: number;
}

/** A token bucket: the sustained rate and what may go at once. */
export interface RateLimitSettings {
  ratePerSecond: number;
  burst: number;
}

export const HTTP_DEFAULTS: HttpConfig = {
  host: '0.0.0.0',
  port: 3000,
  bodyLimitBytes: 1_048_576,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 72_000,
  maxConnectionsPerAddress: 1024,
  consoleSessionMinutes: 30,
};

export const RATE_LIMIT_DEFAULTS: RateLimitConfig = {
  client: { ratePerSecond: 1000, burst: 2000 },
  operator: { ratePerSecond: 20_000, burst: 40_000 },
  address: { ratePerSecond: 100, burst: 200 },
  metrics: { ratePerSecond: 10, burst: 20 },
  refusalDelayMs: 1000,
  refusalsHeld: 10_000,
};

export const HTTP_SCHEMA = settingsObject({
  host: { type: 'string', minLength: 1 },
  port: integer(0, 65535),
  bodyLimitBytes: integer(1024, 104_857_600),
  headersTimeoutMs: integer(100, 600_000),
  requestTimeoutMs: integer(0, 3_600_000),
  keepAliveTimeoutMs: integer(100, 3_600_000),
  maxConnectionsPerAddress: integer(0, 1_000_000),
  consoleSessionMinutes: integer(1, 1440),
});

const BUCKET_SCHEMA = settingsObject({
  ratePerSecond: positive(1_000_000),
  burst: integer(1, 1_000_000),
});

export const RATE_LIMIT_SCHEMA = settingsObject({
  client: BUCKET_SCHEMA,
  operator: BUCKET_SCHEMA,
  address: BUCKET_SCHEMA,
  metrics: BUCKET_SCHEMA,
  refusalDelayMs: integer(0, 60_000),
  refusalsHeld: integer(0, 1_000_000),
});

export function applyHttpEnv(http: HttpConfig, env: Env, problems: string[]): void {
  const port = intFromEnv(env, problems, 'LGSP_HTTP_PORT', 0, 65535);
  if (port !== undefined) http.port = port;
  if (env.LGSP_HTTP_HOST) http.host = env.LGSP_HTTP_HOST;
}

/** The timeouts' rule, checked once every source is applied. */
export function checkHttp(http: HttpConfig, problems: string[]): void {
  const { headersTimeoutMs, requestTimeoutMs } = http;
  if (requestTimeoutMs > 0 && headersTimeoutMs > requestTimeoutMs)
    problems.push(
      `http.headersTimeoutMs (${headersTimeoutMs}) must not exceed http.requestTimeoutMs (${requestTimeoutMs})`,
    );
}
