/**
 * Why a call to an external system failed, in two kinds that decide everything downstream:
 * - `retriable`: the target is unavailable, overloaded or slow (network error, timeout, 5xx, 429, 408,
 *   an open circuit). Retrying later can succeed; the breaker counts it against the target.
 * - `data`: the target answered and refused the content (4xx validation), or the hub could not map
 *   the dossier. Retrying the same payload cannot help; the (target, dossier) pair parks at once and
 *   the breaker does not count it, since the target is healthy.
 */
export type ConnectorErrorKind = 'retriable' | 'data';

/** A stable code for each way a call fails; logs and metrics group by it, never by message text. */
export type ConnectorErrorCode =
  | 'network' // connection refused, reset, DNS failure
  | 'timeout'
  | 'unavailable' // 5xx other than 501
  | 'rate-limited' // 429
  | 'circuit-open' // the hub's own breaker refused the call without trying
  | 'rejected' // a 4xx: the target refused the content
  | 'mapping'; // the hub could not turn the dossier into the target's format

export interface ConnectorErrorOptions {
  kind: ConnectorErrorKind;
  code: ConnectorErrorCode;
  /** The external system, e.g. `national-portal`. */
  target: string;
  /** The HTTP status the target answered with, when it answered. */
  status?: number;
  /** The target's `Retry-After`, in milliseconds: no retry should come sooner. */
  retryAfterMs?: number;
  cause?: unknown;
}

/** A failed call to one target. Retries and parking decide on `kind`, never on the message. */
export class ConnectorError extends Error {
  readonly kind: ConnectorErrorKind;
  readonly code: ConnectorErrorCode;
  readonly target: string;
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(message: string, options: ConnectorErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConnectorError';
    this.kind = options.kind;
    this.code = options.code;
    this.target = options.target;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  get retriable(): boolean {
    return this.kind === 'retriable';
  }
}

export const isConnectorError = (e: unknown): e is ConnectorError => e instanceof ConnectorError;

/**
 * Parses an HTTP `Retry-After` value (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) into
 * milliseconds from `now`; undefined when absent or unparseable, 0 for a date in the past.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at) || !/[a-z]/i.test(text)) return undefined;
  return Math.max(0, at - now);
}

/**
 * The error for an HTTP answer that is not a success: 408, 429 and every 5xx but 501 are retriable
 * (the target is overloaded or down), any other 4xx and 501 are data errors (the target understood
 * the request and refused it; sending it again changes nothing). `retryAfter` is the raw header.
 */
export function classifyHttpStatus(
  target: string,
  status: number,
  details: { retryAfter?: string | null; message?: string; now?: number } = {},
): ConnectorError {
  const retryAfterMs = parseRetryAfter(details.retryAfter, details.now);
  const text = details.message ? `: ${details.message}` : '';
  const common = { target, status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  if (status === 429)
    return new ConnectorError(`${target} answered 429 Too Many Requests${text}`, {
      ...common,
      kind: 'retriable',
      code: 'rate-limited',
    });
  if (status === 408)
    return new ConnectorError(`${target} answered 408 Request Timeout${text}`, {
      ...common,
      kind: 'retriable',
      code: 'timeout',
    });
  if (status >= 500 && status !== 501)
    return new ConnectorError(`${target} answered ${status}${text}`, {
      ...common,
      kind: 'retriable',
      code: 'unavailable',
    });
  return new ConnectorError(`${target} refused the request with ${status}${text}`, {
    ...common,
    kind: 'data',
    code: 'rejected',
  });
}

/** Error codes of Node's sockets and undici that mean the request never got an answer. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * The error for a call that threw instead of answering. A ConnectorError passes through unchanged.
 * Anything else thrown by the transport (fetch's `TypeError: fetch failed` and its `cause`, a socket
 * error code, an `AbortSignal.timeout` abort) means the target could not be reached in time, so it is
 * retriable; there is no content to blame when no answer came.
 */
export function classifyNetworkError(target: string, err: unknown): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const code = errorCode(err);
  const name = (err as { name?: unknown } | null)?.name;
  const timedOut = (code !== undefined && TIMEOUT_CODES.has(code)) || name === 'TimeoutError';
  const message = err instanceof Error ? err.message : String(err);
  const detail = code && !message.includes(code) ? `${message} (${code})` : message;
  return new ConnectorError(
    timedOut ? `${target} did not answer in time: ${detail}` : `${target} is unreachable: ${detail}`,
    { kind: 'retriable', code: timedOut ? 'timeout' : 'network', target, cause: err },
  );
}

/** A data error for a dossier the hub could not map to the target's format. */
export function mappingError(target: string, message: string, cause?: unknown): ConnectorError {
  return new ConnectorError(`cannot map the dossier for ${target}: ${message}`, {
    kind: 'data',
    code: 'mapping',
    target,
    cause,
  });
}

/** The first socket-level code on the error or along its `cause` chain (fetch wraps it). */
function errorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || TIMEOUT_CODES.has(code))) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
