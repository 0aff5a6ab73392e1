import { systemClock, type Clock } from '#lgsp/observability';

/** A sustained rate and a burst: what a token bucket lets through. */
export interface RateLimit {
  /** Tokens added per second: the sustained rate. */
  ratePerSecond: number;
  /** Tokens the bucket holds at most: what may go at once after a quiet spell. */
  burst: number;
}

/** Float refills land a hair below 1 (1000 ms × 3/s / 1000 = 2.9999…); that is a whole token. */
const EPSILON = 1e-9;

/**
 * The arithmetic of a token bucket, shared by the inbound {@link KeyedRateLimiter} and the connectors'
 * outbound limiter: the tokens a bucket holding `tokens` has after `elapsedMs` more of refill.
 */
export function refilledTokens(
  tokens: number,
  elapsedMs: number,
  ratePerSecond: number,
  burst: number,
): number {
  return Math.min(burst, tokens + (elapsedMs * ratePerSecond) / 1000);
}

/** Milliseconds until a bucket holding `tokens` has `wanted` whole tokens (0: it has them). */
export function msUntilTokens(tokens: number, ratePerSecond: number, wanted = 1): number {
  return tokens >= wanted - EPSILON ? 0 : Math.ceil(((wanted - tokens) * 1000) / ratePerSecond);
}

/** A key's bucket as the last {@link KeyedRateLimiter.take} left it; read it at once, the next take changes it. */
export interface BucketState {
  /** Whether the last take got a token. */
  readonly granted: boolean;
  /** The tokens left, a fraction included. */
  readonly tokens: number;
}

interface Bucket {
  granted: boolean;
  tokens: number;
  refilledAt: number;
  ratePerSecond: number;
  burst: number;
}

export interface KeyedRateLimiterOptions {
  /**
   * Most keys held. Past it, the buckets that have refilled (as good as absent) are dropped, then
   * the oldest. @defaultValue 100000
   */
  maxKeys?: number;
  /** The clock of refills, for tests. @defaultValue systemClock */
  clock?: Pick<Clock, 'now'>;
}

const FIRST_SWEEP = 1024;

/**
 * Token buckets by key (a client id, a remote address) that answer at once: a request takes a token
 * or is refused, nothing queues. Each take is a map look-up and a few operations on numbers. The
 * buckets live in this process's memory: replicas each count separately.
 */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxKeys: number;
  private readonly now: () => number;
  private sweepAt: number;

  constructor(options: KeyedRateLimiterOptions = {}) {
    this.maxKeys = options.maxKeys ?? 100_000;
    const clock = options.clock ?? systemClock;
    this.now = () => clock.now();
    this.sweepAt = Math.min(FIRST_SWEEP, this.maxKeys);
  }

  /** Takes a token from `key`'s bucket, refilled under `limit` (which may change between calls). */
  /**
   * Takes `cost` tokens (a request that costs more, such as a large page of the log, takes more);
   * a cost above the burst takes the whole burst.
   */
  take(key: string, limit: RateLimit, cost = 1): BucketState {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.sweepAt) this.sweep(now);
      bucket = {
        granted: false,
        tokens: limit.burst,
        refilledAt: now,
        ratePerSecond: limit.ratePerSecond,
        burst: limit.burst,
      };
      this.buckets.set(key, bucket);
    } else {
      bucket.tokens = refilledTokens(
        bucket.tokens,
        Math.max(0, now - bucket.refilledAt),
        limit.ratePerSecond,
        limit.burst,
      );
      bucket.refilledAt = now;
      bucket.ratePerSecond = limit.ratePerSecond;
      bucket.burst = limit.burst;
    }
    const wanted = Math.min(cost, limit.burst);
    bucket.granted = msUntilTokens(bucket.tokens, limit.ratePerSecond, wanted) === 0;
    if (bucket.granted) bucket.tokens -= wanted;
    return bucket;
  }

  /** Keys with a bucket. */
  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    for (const [key, b] of this.buckets) {
      if (refilledTokens(b.tokens, now - b.refilledAt, b.ratePerSecond, b.burst) >= b.burst)
        this.buckets.delete(key);
    }
    // Still full of busy keys: drop the oldest (a map iterates in insertion order).
    const keep = Math.floor(this.maxKeys * 0.9);
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < keep) break;
      this.buckets.delete(key);
    }
    this.sweepAt = Math.min(this.maxKeys, Math.max(FIRST_SWEEP, this.buckets.size * 2));
  }
}
