import { isIP } from 'node:net';
import { Agent } from 'undici';
import { assertPublicIpLiteral, safeLookup } from './target-safety.js';

/** What one POST to an endpoint came to. */
export interface SendResult {
  /** The HTTP status; absent when no answer came (refused, reset, timed out, unsafe address). */
  status?: number;
  /** The first KiB of the answer's body. */
  response?: string;
  /** Why it failed, one line; absent on a 2xx. */
  error?: string;
  /** `Retry-After` of a 429 or 503, in milliseconds. */
  retryAfterMs?: number;
  durationMs: number;
}

/** A webhook URL taken apart once, for every delivery to it. */
export interface SendTarget {
  protocol: string;
  origin: string;
  /** Path and query. */
  path: string;
  /** The host when it is an IP literal (checked before each connection), else undefined. */
  ipLiteral?: string;
}

/** The parts of `url` a delivery uses. */
export function sendTarget(url: URL): SendTarget {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return {
    protocol: url.protocol,
    origin: url.origin,
    path: url.pathname + url.search,
    ...(isIP(host) === 0 ? {} : { ipLiteral: host }),
  };
}

export interface WebhookSenderOptions {
  /** Whole request, connection included. @defaultValue 15000 */
  timeoutMs?: number;
  /** http and private or loopback addresses allowed (tests, closed networks). @defaultValue false */
  allowInsecureTargets?: boolean;
  /** Sockets kept open per endpoint. @defaultValue 16 */
  maxSockets?: number;
}

/** Bytes of an answer's body kept for the attempts log. */
export const RESPONSE_EXCERPT_BYTES = 1024;

/**
 * POSTs deliveries with undici: keep-alive connections per origin (at most `maxSockets`), a
 * whole-request timeout, no redirect followed (a 3xx is a failure), and the target's address checked
 * on the connection itself (the DNS answer the socket uses, or the IP literal), so a DNS change cannot
 * turn a webhook into a probe of the hub's network.
 */
export class WebhookSender {
  private readonly timeoutMs: number;
  private readonly allowInsecure: boolean;
  private readonly agent: Agent;

  constructor(options: WebhookSenderOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.allowInsecure = options.allowInsecureTargets ?? false;
    this.agent = new Agent({
      connections: options.maxSockets ?? 16,
      connect: { lookup: safeLookup(this.allowInsecure), timeout: this.timeoutMs },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      keepAliveTimeout: 30_000,
    });
  }

  /**
   * POSTs `body`; never rejects: every failure is in the result. The answer's headers must come within
   * the timeout, and each chunk of its body within the timeout of the previous one.
   */
  async post(
    url: URL | SendTarget,
    headers: Record<string, string>,
    body: string | Buffer,
  ): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const target = url instanceof URL ? sendTarget(url) : url;
      if (target.protocol !== 'https:' && !(this.allowInsecure && target.protocol === 'http:'))
        throw new Error(`${target.protocol} targets are not allowed`);
      if (target.ipLiteral !== undefined) assertPublicIpLiteral(target.ipLiteral, this.allowInsecure);
      const res = await this.agent.request({
        origin: target.origin,
        path: target.path,
        method: 'POST',
        headers,
        body,
      });
      const status = res.statusCode;
      let response: string | undefined;
      let kept = 0;
      const chunks: Buffer[] = [];
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        if (kept < RESPONSE_EXCERPT_BYTES) {
          chunks.push(chunk.subarray(0, RESPONSE_EXCERPT_BYTES - kept));
          kept += Math.min(chunk.length, RESPONSE_EXCERPT_BYTES - kept);
        }
      }
      if (chunks.length > 0) response = Buffer.concat(chunks).toString('utf8');
      const retryAfterMs =
        status === 429 || status === 503 ? parseRetryAfter(res.headers['retry-after']) : undefined;
      const location = res.headers['location'];
      return {
        status,
        ...(response === undefined ? {} : { response }),
        ...(status >= 200 && status < 300
          ? {}
          : { error: statusError(status, Array.isArray(location) ? location[0] : location) }),
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        durationMs: elapsed(),
      };
    } catch (err) {
      return { error: describe(err), durationMs: elapsed() };
    }
  }

  close(): void {
    void this.agent.close().catch(() => undefined);
  }
}

function statusError(status: number, location: string | undefined): string {
  if (status >= 300 && status < 400)
    return `answered ${status} (redirect${location ? ' to another location' : ''} not followed)`;
  return `answered ${status}`;
}

/** `Retry-After` as delay-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const text = typeof e.message === 'string' ? e.message : String(err);
  return typeof e.code === 'string' && !text.includes(e.code) ? `${e.code}: ${text}` : text;
}
