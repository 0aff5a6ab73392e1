import { systemClock, type Clock } from './clock.js';
import { ConnectorError } from './errors.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

/** What moves the breaker. */
export type CircuitEvent =
  | 'tripped' // closed: too many consecutive failures, or too high a failure ratio in the window
  | 'cool-down-elapsed' // open: the cool-down has passed; the next call is a trial
  | 'trial-succeeded' // half-open: every trial call succeeded
  | 'trial-failed'; // half-open: a trial call failed

/**
 * The breaker's lifecycle. Any move not in this table is a bug and throws
 * {@link IllegalCircuitTransitionError}.
 *
 * | from      | event             | to        |
 * |-----------|-------------------|-----------|
 * | closed    | tripped           | open      |
 * | open      | cool-down-elapsed | half-open |
 * | half-open | trial-succeeded   | closed    |
 * | half-open | trial-failed      | open      |
 */
export const CIRCUIT_TRANSITIONS: Readonly<
  Record<CircuitState, Readonly<Partial<Record<CircuitEvent, CircuitState>>>>
> = {
  closed: { tripped: 'open' },
  open: { 'cool-down-elapsed': 'half-open' },
  'half-open': { 'trial-succeeded': 'closed', 'trial-failed': 'open' },
};

export class IllegalCircuitTransitionError extends Error {
  constructor(
    readonly from: CircuitState,
    readonly event: CircuitEvent,
  ) {
    super(`circuit breaker: no transition from ${from} on ${event}`);
    this.name = 'IllegalCircuitTransitionError';
  }
}

/** One change of state, for metrics and logs. */
export interface CircuitTransition {
  target: string;
  from: CircuitState;
  to: CircuitState;
  event: CircuitEvent;
  /** Clock time of the change, in ms. */
  at: number;
  /** Why, e.g. "5 consecutive failures". */
  reason: string;
}

export interface CircuitBreakerOptions {
  /**
   * Consecutive failures that open the circuit.
   * @defaultValue 5
   */
  failureThreshold: number;
  /**
   * Share of failed calls in the window that opens the circuit, once the window holds at least
   * `minimumCalls` calls.
   * @defaultValue 0.5
   */
  failureRatio: number;
  /**
   * Length of the sliding window for the ratio.
   * @defaultValue 30000
   */
  windowMs: number;
  /**
   * Calls the window must hold before the ratio can trip.
   * @defaultValue 10
   */
  minimumCalls: number;
  /**
   * Time the circuit stays open before trial calls go through.
   * @defaultValue 30000
   */
  coolDownMs: number;
  /**
   * Trial calls let through when half-open; all must succeed to close.
   * @defaultValue 1
   */
  halfOpenTrials: number;
}

export const DEFAULT_CIRCUIT_BREAKER_OPTIONS: Readonly<CircuitBreakerOptions> = {
  failureThreshold: 5,
  failureRatio: 0.5,
  windowMs: 30_000,
  minimumCalls: 10,
  coolDownMs: 30_000,
  halfOpenTrials: 1,
};

/**
 * Counts against the target: a retriable ConnectorError (down, overloaded, too slow). A data error is
 * the payload's fault and proves the target answered, so it counts as a success.
 */
const countsAgainstTarget = (err: unknown) => err instanceof ConnectorError && err.retriable;
/** Says something about the target: any ConnectorError. Other errors (a bug before the call) say nothing. */
const aboutTarget = (err: unknown) => err instanceof ConnectorError;

type Outcome = 'success' | 'failure' | 'neutral';

/**
 * A circuit breaker for one target. Closed, calls go through and outcomes are counted; after
 * `failureThreshold` consecutive failures or a failure ratio of `failureRatio` over `windowMs`, it
 * opens and `call` fails fast with a retriable ConnectorError (code `circuit-open`, `retryAfterMs`
 * the rest of the cool-down). After `coolDownMs` it is half-open: `halfOpenTrials` calls go through
 * while the others still fail fast; when all of them succeed it closes, and one failure re-opens it
 * for another cool-down. Only retriable ConnectorErrors are failures.
 */
export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private readonly options: CircuitBreakerOptions;
  private readonly clock: Clock;
  private readonly listeners = new Set<(t: CircuitTransition) => void>();
  private consecutiveFailures = 0;
  /** Closed-state outcomes, oldest first; those before `windowStart` have left the window. */
  private window: { at: number; failed: boolean }[] = [];
  private windowStart = 0;
  private windowFailures = 0;
  private openedAt = 0;
  private trialsStarted = 0;
  private trialsSucceeded = 0;
  /** Bumped at every transition: an outcome only counts in the state its call was admitted in. */
  private epoch = 0;

  constructor(
    readonly target: string,
    options: Partial<CircuitBreakerOptions> = {},
    clock: Clock = systemClock,
  ) {
    this.options = { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, ...options };
    this.clock = clock;
    const o = this.options;
    if (!(o.failureThreshold >= 1 && o.halfOpenTrials >= 1 && o.minimumCalls >= 1))
      throw new RangeError('circuit breaker: failureThreshold, halfOpenTrials and minimumCalls must be ≥ 1');
    if (!(o.failureRatio > 0 && o.failureRatio <= 1))
      throw new RangeError('circuit breaker: failureRatio must be in (0, 1]');
  }

  /** The state now; an open circuit whose cool-down has passed reports (and becomes) half-open. */
  get state(): CircuitState {
    this.checkCoolDown();
    return this.current;
  }

  /** What is left of the cool-down of an open circuit (0 when it is not open, or the cool-down passed). */
  get coolDownRemainingMs(): number {
    return this.current === 'open'
      ? Math.max(0, this.openedAt + this.options.coolDownMs - this.clock.now())
      : 0;
  }

  /** Listens to every change of state; returns the function that stops listening. */
  onTransition(listener: (t: CircuitTransition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs `fn` if the circuit lets it through, and records its outcome.
   * @throws ConnectorError `circuit-open` (retriable) without calling `fn` when the circuit is open,
   *   or half-open with all its trial calls in flight; otherwise whatever `fn` throws.
   */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    const epoch = this.admit();
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      this.record(epoch, countsAgainstTarget(err) ? 'failure' : aboutTarget(err) ? 'success' : 'neutral');
      throw err;
    }
    this.record(epoch, 'success');
    return result;
  }

  private admit(): number {
    this.checkCoolDown();
    if (this.current === 'closed') return this.epoch;
    if (this.current === 'half-open' && this.trialsStarted < this.options.halfOpenTrials) {
      this.trialsStarted++;
      return this.epoch;
    }
    throw new ConnectorError(`the circuit to ${this.target} is ${this.current}: not calling it`, {
      kind: 'retriable',
      code: 'circuit-open',
      target: this.target,
      retryAfterMs: this.coolDownRemainingMs,
    });
  }

  private record(epoch: number, outcome: Outcome): void {
    // A call that outlived its state (admitted closed, ending after the circuit opened) says nothing.
    if (epoch !== this.epoch) return;
    if (this.current === 'closed') {
      if (outcome === 'neutral') return;
      const now = this.clock.now();
      const failed = outcome === 'failure';
      this.consecutiveFailures = failed ? this.consecutiveFailures + 1 : 0;
      const calls = this.slide(now, failed);
      const failures = this.windowFailures;
      if (this.consecutiveFailures >= this.options.failureThreshold)
        this.transition('tripped', `${this.consecutiveFailures} consecutive failures`);
      else if (failed && calls >= this.options.minimumCalls && failures / calls >= this.options.failureRatio)
        this.transition('tripped', `${failures} of ${calls} calls failed in ${this.options.windowMs} ms`);
      return;
    }
    if (outcome === 'failure') {
      this.transition('trial-failed', 'a trial call failed');
    } else if (outcome === 'neutral') {
      this.trialsStarted = Math.max(0, this.trialsStarted - 1); // the slot goes to another trial
    } else if (++this.trialsSucceeded >= this.options.halfOpenTrials) {
      this.transition('trial-succeeded', `${this.trialsSucceeded} trial calls succeeded`);
    }
  }

  /**
   * Adds an outcome at `now` and drops those older than the window (the clock only moves forward, so
   * they are at the front): constant time per call, however many calls the window holds. Returns the
   * calls in the window.
   */
  private slide(now: number, failed: boolean): number {
    this.window.push({ at: now, failed });
    if (failed) this.windowFailures++;
    const since = now - this.options.windowMs;
    for (let c = this.window[this.windowStart]; c !== undefined && c.at <= since;) {
      if (c.failed) this.windowFailures--;
      c = this.window[++this.windowStart];
    }
    if (this.windowStart > 1024 && this.windowStart * 2 > this.window.length) {
      this.window = this.window.slice(this.windowStart);
      this.windowStart = 0;
    }
    return this.window.length - this.windowStart;
  }

  private checkCoolDown(): void {
    if (this.current === 'open' && this.clock.now() >= this.openedAt + this.options.coolDownMs)
      this.transition('cool-down-elapsed', `open for ${this.options.coolDownMs} ms`);
  }

  private transition(event: CircuitEvent, reason: string): void {
    const from = this.current;
    const to = CIRCUIT_TRANSITIONS[from][event];
    if (to === undefined) throw new IllegalCircuitTransitionError(from, event);
    this.current = to;
    this.epoch++;
    const at = this.clock.now();
    if (to === 'open') this.openedAt = at;
    if (to === 'half-open') {
      this.trialsStarted = 0;
      this.trialsSucceeded = 0;
    }
    if (to === 'closed') {
      this.consecutiveFailures = 0;
      this.window = [];
      this.windowStart = 0;
      this.windowFailures = 0;
    }
    const change: CircuitTransition = { target: this.target, from, to, event, at, reason };
    for (const listener of this.listeners) listener(change);
  }
}
