import { msUntilTokens, refilledTokens } from '#lgsp/security';
import { systemClock, type Clock } from './clock.js';

export interface RateLimiterOptions {
  /** Tokens added per second: the sustained call rate the target can bear. */
  ratePerSecond: number;
  /** Tokens the bucket holds at most: calls that may go at once after a quiet spell. */
  burst: number;
  /**
   * Lowest share of `ratePerSecond` that {@link TokenBucket.slowDown} may bring the rate to.
   * @defaultValue 0.1
   */
  minRateFactor?: number;
  /**
   * Share of `ratePerSecond` that each {@link TokenBucket.speedUp} gives back.
   * @defaultValue 0.05
   */
  recoveryStep?: number;
  /**
   * Told how long each call that had to queue waited for its token, in ms, when it gets it (for the
   * metrics); a call served at once is not reported. Must not throw.
   */
  onWait?: (ms: number) => void;
}

/** The limiter was stopped: the waiting call and every later one are refused. */
export class RateLimiterStoppedError extends Error {
  constructor(target: string) {
    super(`the rate limiter of ${target} is stopped`);
    this.name = 'RateLimiterStoppedError';
  }
}

interface Waiter {
  /** Clock time it queued. */
  since: number;
  resolve: () => void;
  reject: (err: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * A token bucket for one target: `burst` tokens at most, refilled at the current rate (tokens/s);
 * each call takes one. `acquire` resolves when the caller may call, strictly in arrival order (a caller
 * arriving while others wait queues behind them even if a token is there), and can be cancelled with
 * an AbortSignal or refused by `stop`.
 *
 * Adaptive (AIMD): `slowDown` after a 429 halves the rate (not below `minRateFactor` of the configured
 * one), empties the bucket and grants nothing before the target's `Retry-After`; each `speedUp` after
 * a success adds `recoveryStep` of the configured rate back, up to the configured rate.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;
  private rate: number;
  private pausedUntil = 0;
  private readonly queue: Waiter[] = [];
  private pumping = false;
  private stopped = false;
  private readonly stopping = new AbortController();
  private readonly clock: Clock;
  private readonly minRate: number;
  private readonly step: number;

  constructor(
    readonly target: string,
    private readonly options: RateLimiterOptions,
    clock: Clock = systemClock,
  ) {
    if (!(options.ratePerSecond > 0) || !(options.burst >= 1))
      throw new RangeError(`rate limiter of ${target}: ratePerSecond must be > 0 and burst ≥ 1`);
    this.clock = clock;
    this.tokens = options.burst;
    this.refilledAt = clock.now();
    this.rate = options.ratePerSecond;
    this.minRate = options.ratePerSecond * (options.minRateFactor ?? 0.1);
    this.step = options.ratePerSecond * (options.recoveryStep ?? 0.05);
  }

  /** The current refill rate in tokens per second (below the configured one after a slow-down). */
  get currentRate(): number {
    return this.rate;
  }

  /** Callers waiting for a token. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Resolves when the caller may make one call.
   * @throws the signal's reason when `signal` aborts first; RateLimiterStoppedError after `stop`.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (this.stopped) return Promise.reject(new RateLimiterStoppedError(this.target));
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.refill();
    if (this.queue.length === 0 && this.delayMs() === 0) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { since: this.clock.now(), resolve, reject };
      if (signal) {
        waiter.signal = signal;
        waiter.onAbort = () => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      void this.pump();
    });
  }

  /**
   * Takes a token when one is there and nobody waits, without a promise (a hot path's shortcut);
   * false otherwise (then {@link acquire}).
   */
  tryAcquire(): boolean {
    if (this.stopped || this.queue.length > 0) return false;
    this.refill();
    if (this.delayMs() > 0) return false;
    this.tokens -= 1;
    return true;
  }

  /** After a 429: halve the rate, drop the tokens, and grant nothing for `retryAfterMs`. */
  slowDown(retryAfterMs = 0): void {
    this.refill();
    this.rate = Math.max(this.minRate, this.rate / 2);
    this.tokens = Math.min(this.tokens, 0);
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + retryAfterMs);
  }

  /** After a success: give back one step of the configured rate. */
  speedUp(): void {
    if (this.rate >= this.options.ratePerSecond) return;
    this.refill();
    this.rate = Math.min(this.options.ratePerSecond, this.rate + this.step);
  }

  /** Refuses every waiting and later `acquire` with RateLimiterStoppedError. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopping.abort();
    for (const waiter of this.queue.splice(0)) {
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(new RateLimiterStoppedError(this.target));
    }
  }

  /** Grants tokens to the head of the queue as they come, one sleep at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.stopped) {
        this.refill();
        const wait = this.delayMs();
        if (wait > 0) {
          // Woken early only by stop; a slow-down during the sleep is seen when it ends.
          await this.clock.sleep(wait, this.stopping.signal).catch(() => undefined);
          continue;
        }
        this.tokens -= 1;
        const waiter = this.queue.shift();
        if (waiter === undefined) continue;
        if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
        this.options.onWait?.(this.clock.now() - waiter.since);
        waiter.resolve();
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Milliseconds until a token can be granted (0: now). */
  private delayMs(): number {
    const now = this.clock.now();
    const paused = Math.max(0, this.pausedUntil - now);
    return Math.max(paused, msUntilTokens(this.tokens, this.rate));
  }

  private refill(): void {
    const now = this.clock.now();
    // Nothing accrues while the target asked us to wait.
    const elapsed = Math.max(0, now - Math.max(this.refilledAt, this.pausedUntil));
    this.refilledAt = now;
    this.tokens = refilledTokens(this.tokens, elapsed, this.rate, this.options.burst);
  }
}
