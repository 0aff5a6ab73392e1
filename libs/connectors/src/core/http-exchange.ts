import { ConnectorError, classifyHttpStatus, classifyNetworkError } from './errors.js';
import { tracing } from '#lgsp/observability';
import { replayHeaders } from './replay-context.js';

/** Where and how a client reaches its target over HTTP. */
export interface HttpExchangeOptions {
  /** Base URL of the target, e.g. `http://127.0.0.1:4010`. */
  baseUrl: string;
  /** Per HTTP call. @defaultValue 10000 */
  timeoutMs?: number;
  /** @defaultValue the global fetch */
  fetch?: typeof fetch;
}

export interface ExchangeRequest {
  /** Sent as JSON (with its content-type) when set. */
  body?: unknown;
  /** Added to `accept: application/json` (and the content-type). */
  headers?: Readonly<Record<string, string>>;
  /** The caller's signal: its abort is rethrown as is, never classified. */
  signal?: AbortSignal | undefined;
}

/** A target's answer, read whole: any status, the body as text. */
export interface Exchanged {
  response: Response;
  text: string;
}

/**
 * One JSON-over-HTTP round trip to a target, with a timeout per call. What the body means is left
 * to each client, since every target says "refused" and "unknown" in its own dialect.
 */
export class HttpExchange {
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(
    readonly target: string,
    private readonly options: HttpExchangeOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchFn = options.fetch ?? fetch;
  }

  /**
   * Sends the request and reads the whole answer, whatever its status. Inside `withReplay` the
   * request carries the replay header. The caller's abort is
   * rethrown as is (the caller stopped, the target did not fail); any other failure to get an answer
   * (no connection, the timeout, a body cut off) is a `retriable` ConnectorError.
   */
  async exchange(method: string, path: string, request: ExchangeRequest = {}): Promise<Exchanged> {
    const { body, headers, signal } = request;
    // One controller for the caller's abort and the timeout (AbortSignal.timeout and .any cost four times
    // as much a call, and their weak references weigh on the collector at thousands of calls a second).
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
      this.timeoutMs,
    );
    const onAbort = () => controller.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await this.fetchFn(new URL(path, this.options.baseUrl), {
        method,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          // Calls made for an operator's replay say so (x-lgsp-replay: <replay id>).
          ...replayHeaders(),
          // The trace the call belongs to (injected by the undici instrumentation when tracing is on).
          ...tracing().outboundHeaders(),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: controller.signal,
      });
      return { response, text: await response.text() };
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw classifyNetworkError(this.target, err);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/**
 * The target's JSON answer in `text`, or undefined when `text` is not a JSON object that
 * `isAnswer` recognises (by its marker field), e.g. a proxy's HTML error page.
 */
export function parseJsonAnswer<T>(
  text: string,
  isAnswer: (v: Readonly<Record<string, unknown>>) => boolean,
): T | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && isAnswer(v as Record<string, unknown>)) {
      return v as T;
    }
  } catch {
    // Not JSON, e.g. a proxy's HTML error page.
  }
  return undefined;
}

/** The classified error of a non-2xx answer, with the target's Retry-After. */
export function httpStatusError(target: string, response: Response, message: string): ConnectorError {
  return classifyHttpStatus(target, response.status, {
    retryAfter: response.headers.get('retry-after'),
    message,
  });
}

/**
 * A `retriable` error (`unavailable`) for an answer the hub cannot use, e.g. a 2xx that is not the
 * target's JSON: it is the target's (or a proxy's) trouble, not the dossier's.
 */
export function unavailableError(target: string, message: string, status = 200): ConnectorError {
  return new ConnectorError(message, { kind: 'retriable', code: 'unavailable', target, status });
}

/** {@link unavailableError} for a body that is not the target's answer to `what`. */
export function notItsAnswer(
  target: string,
  what: string,
  status: number,
  answer = 'its JSON',
): ConnectorError {
  return unavailableError(target, `${target} answered ${what} with a body that is not ${answer}`, status);
}

/**
 * A `data` error (`rejected`): the target answered (HTTP `status`, usually 200 with a refusal
 * inside) and refused the content; sending it again changes nothing.
 */
export function refusedError(target: string, message: string, status = 200): ConnectorError {
  return new ConnectorError(message, { kind: 'data', code: 'rejected', target, status });
}

/**
 * `message` with every run of 9 to 12 digits masked: targets echo refused values, such a run may be
 * a citizen ID, and these messages reach logs and parking records.
 */
export const redactIdNumbers = (message: string): string =>
  message.replace(/(?<!\d)\d{9,12}(?!\d)/g, '[redacted]');
