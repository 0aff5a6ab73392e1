import { isIP } from 'node:net';
import {
  systemClock,
  type Clock,
  type HubMetrics,
  type Logger,
  type RateLimitPolicy,
} from '#lgsp/observability';
import {
  KeyedRateLimiter,
  msUntilTokens,
  type BucketState,
  type Client,
  type RateLimit,
} from '#lgsp/security';
import type { HubConfig } from '#lgsp/hub-config';
import { problem, type Problem } from './problem.js';

/** Where the rate-limit headers go: a Fastify reply, or a wrapped Node response. */
export interface HeaderSink {
  header(name: string, value: string): unknown;
}

const LOG_EVERY_MS = 60_000;

/** `RateLimit-Policy` values by policy and limit object: a limit's value is made once. */
const policies: Record<RateLimitPolicy, WeakMap<RateLimit, string>> = {
  client: new WeakMap(),
  address: new WeakMap(),
  metrics: new WeakMap(),
};

/**
 * `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers): the bucket as a quota of `burst`
 * requests per window of `burst / ratePerSecond` seconds, rounded up to whole seconds (so the
 * advertised average never exceeds the rate).
 */
export function rateLimitPolicyHeader(name: RateLimitPolicy, limit: RateLimit): string {
  const window = Math.max(1, Math.ceil(limit.burst / limit.ratePerSecond));
  return `"${name}";q=${limit.burst};w=${window}`;
}

/**
 * `RateLimit`: `r` the whole requests the bucket allows now, `t` the seconds until it allows one
 * more (at least 1). When `r` is 0, `t` is also the `Retry-After`.
 */
export function rateLimitHeader(name: RateLimitPolicy, limit: RateLimit, tokens: number): string {
  const remaining = wholeTokens(tokens);
  return `"${name}";r=${remaining};t=${secondsUntil(tokens, limit, remaining + 1)}`;
}

/** `Retry-After` of a refused request: the seconds until the bucket holds its cost, at least 1. */
export function retryAfterSeconds(limit: RateLimit, tokens: number, cost = 1): number {
  return secondsUntil(tokens, limit, Math.min(cost, limit.burst));
}

/** Events of the log read for one unit of a client's rate limit. */
export const EVENTS_PER_UNIT = 10;
const PAGED_READ = /^\/v1\/(events|streams\/[^/?]+)(\?|$)/;
const LIMIT_PARAM = /[?&]limit=([0-9]+)(&|$)/;

/**
 * What a request costs of its client's limit: one unit, and a read of the log (`GET /v1/events`,
 * `GET /v1/streams/…`) one per {@link EVENTS_PER_UNIT} events it asks for (`limit`, 100 by default:
 * 10 units), so that a unit is about the same work whatever the request: a page of 100 events costs
 * about 2 ms of the event loop, a write of one event about 0.2 ms.
 */
export function requestCost(method: string, url: string): number {
  if (method !== 'GET' || !PAGED_READ.test(url)) return 1;
  // Above the largest page (1,000) the read is refused with 400; it costs what the largest would.
  const asked = Math.min(1000, Number(LIMIT_PARAM.exec(url)?.[1] ?? 100));
  return Math.max(1, Math.ceil(asked / EVENTS_PER_UNIT));
}

const wholeTokens = (tokens: number): number => Math.max(0, Math.floor(tokens + 1e-9));

const secondsUntil = (tokens: number, limit: RateLimit, wanted: number): number =>
  Math.max(1, Math.ceil(msUntilTokens(tokens, limit.ratePerSecond, wanted) / 1000));

/**
 * The key of a remote address: the address itself for IPv4, its /64 network for IPv6 (one host is
 * usually given a whole /64, so per-address limits would not hold per address). An IPv4 address
 * mapped into IPv6 (`::ffff:192.0.2.1`) counts as the IPv4 address.
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const ip = address.split('%')[0] ?? address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail] = ip.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 address takes two groups.
  const tailWidth = tailGroups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups =
    tail === undefined
      ? headGroups
      : [...headGroups, ...Array<string>(8 - headGroups.length - tailWidth).fill('0'), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/**
 * The hub's inbound rate limits, one bucket per key and policy:
 * - `client`: each authenticated client, by id, with its own limit, or `rateLimit.operator` for
 *   admins and operators and `rateLimit.client` for the others;
 * - `address`: each remote address, for requests without a valid token;
 * - `metrics`: each remote address, for `/metrics`.
 *
 * Each take sets `RateLimit-Policy` and `RateLimit` on the response; a refusal also sets
 * `Retry-After` and counts in `lgsp_http_rate_limited_total`. Refused addresses are not logged (an
 * address is personal data, and a flood would write as many lines).
 */
export class RequestLimits {
  private readonly clients: KeyedRateLimiter;
  private readonly addresses: KeyedRateLimiter;
  private readonly scrapes: KeyedRateLimiter;

  /** When each client's refusals were last logged. */
  private readonly loggedAt = new Map<string, number>();
  /** Refusals waiting to be answered. */
  private held = 0;
  private readonly now: () => number;

  constructor(
    private readonly config: HubConfig['rateLimit'],
    private readonly metrics: HubMetrics,
    private readonly logger?: Logger,
    clock: Pick<Clock, 'now'> = systemClock,
  ) {
    this.now = () => clock.now();
    const options = { clock };
    this.clients = new KeyedRateLimiter(options);
    this.addresses = new KeyedRateLimiter(options);
    this.scrapes = new KeyedRateLimiter(options);
  }

  /**
   * Takes a request of this client; false when refused (the headers are set either way). The first
   * refusal of a client after a minute without one is logged with the client's name.
   */
  client(client: Pick<Client, 'id' | 'name' | 'role' | 'rateLimit'>, reply: HeaderSink, cost = 1): boolean {
    const staff = client.role === 'admin' || client.role === 'operator';
    const limit = client.rateLimit ?? (staff ? this.config.operator : this.config.client);
    const granted = this.answer('client', limit, this.clients.take(client.id, limit, cost), reply, cost);
    if (!granted && this.logger) {
      const now = this.now();
      if (now - (this.loggedAt.get(client.id) ?? -Infinity) >= LOG_EVERY_MS) {
        this.loggedAt.set(client.id, now);
        this.logger.info(
          { client: client.name, rateLimit: limit },
          'client over its rate limit; answering 429',
        );
      }
    }
    return granted;
  }

  /** Takes a request without a valid token from this remote address. */
  address(remote: string | undefined, reply: HeaderSink): boolean {
    const limit = this.config.address;
    return this.answer('address', limit, this.addresses.take(addressKey(remote), limit), reply);
  }

  /** Takes a `/metrics` request from this remote address. */
  metricsScrape(remote: string | undefined, reply: HeaderSink): boolean {
    const limit = this.config.metrics;
    return this.answer('metrics', limit, this.scrapes.take(addressKey(remote), limit), reply);
  }

  /**
   * Waits before a refusal is answered: half to all of `rateLimit.refusalDelayMs`, at most the `Retry-After` just set,
   * unless `rateLimit.refusalsHeld` already wait. A client that sends regardless of 429 then holds its
   * connection instead of costing the hub a refusal per round trip (the floods of the benchmark made
   * 10,000 refusals a second, and a quiet client's p99 rose with them).
   */
  async holdRefusal(retryAfterSeconds: number): Promise<void> {
    // Jittered (half to all of it): refusals released together would come back together, and the
    // bucket would serve them as one burst.
    const ms = Math.min(this.config.refusalDelayMs, retryAfterSeconds * 1000) * (0.5 + Math.random() / 2);
    if (ms <= 0 || this.held >= this.config.refusalsHeld) return;
    this.held += 1;
    try {
      await new Promise((resolve) => setTimeout(resolve, ms));
    } finally {
      this.held -= 1;
    }
  }

  private answer(
    name: RateLimitPolicy,
    limit: RateLimit,
    state: BucketState,
    reply: HeaderSink,
    cost = 1,
  ): boolean {
    let policy = policies[name].get(limit);
    if (policy === undefined) {
      policy = rateLimitPolicyHeader(name, limit);
      policies[name].set(limit, policy);
    }
    reply.header('ratelimit-policy', policy);
    reply.header('ratelimit', rateLimitHeader(name, limit, state.tokens));
    if (!state.granted) {
      reply.header('retry-after', String(retryAfterSeconds(limit, state.tokens, cost)));
      this.metrics.requestRateLimited(name);
    }
    return state.granted;
  }
}

/** The problem document of a request over its limit (429). */
export function rateLimitedProblem(instance?: string): Problem {
  return problem(
    'rate-limited',
    'too many requests; wait as long as Retry-After says, then retry',
    [],
    instance,
  );
}
