import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
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
 * POSTs deliveries: keep-alive connections per origin, a whole-request timeout, no redirect followed
 * (a 3xx is a failure), and the target's address checked on the connection itself (the DNS answer the
 * socket uses, or the IP literal), so a DNS change cannot turn a webhook into a probe of the hub's network.
 */
export class WebhookSender {
  private readonly timeoutMs: number;
  private readonly allowInsecure: boolean;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(options: WebhookSenderOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.allowInsecure = options.allowInsecureTargets ?? false;
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets ?? 16,
      lookup: safeLookup(this.allowInsecure),
    };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
  }

  /** POSTs `body`; never rejects: every failure is in the result. */
  async post(url: URL, headers: Record<string, string>, body: string): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      if (url.protocol !== 'https:' && !(this.allowInsecure && url.protocol === 'http:'))
        throw new Error(`${url.protocol} targets are not allowed`);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) !== 0) assertPublicIpLiteral(host, this.allowInsecure);
      const answer = await this.request(url, headers, body);
      return { ...answer, durationMs: elapsed() };
    } catch (err) {
      return { error: describe(err), durationMs: elapsed() };
    }
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private request(
    url: URL,
    headers: Record<string, string>,
    body: string,
  ): Promise<Omit<SendResult, 'durationMs'>> {
    const payload = Buffer.from(body);
    const secure = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(
        url,
        {
          method: 'POST',
          agent: secure ? this.httpsAgent : this.httpAgent,
          headers: { ...headers, 'content-length': String(payload.length) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          res.on('data', (chunk: Buffer) => {
            if (kept < RESPONSE_EXCERPT_BYTES) {
              chunks.push(chunk.subarray(0, RESPONSE_EXCERPT_BYTES - kept));
              kept += Math.min(chunk.length, RESPONSE_EXCERPT_BYTES - kept);
            }
          });
          res.on('error', reject);
          res.on('end', () => {
            clearTimeout(timer);
            const status = res.statusCode ?? 0;
            const response = chunks.length > 0 ? Buffer.concat(chunks).toString('utf8') : undefined;
            const retryAfterMs =
              status === 429 || status === 503 ? parseRetryAfter(res.headers['retry-after']) : undefined;
            resolve({
              status,
              ...(response === undefined ? {} : { response }),
              ...(status >= 200 && status < 300 ? {} : { error: statusError(status, res.headers.location) }),
              ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
            });
          });
        },
      );
      const timer = setTimeout(
        () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end(payload);
    });
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
