import { systemClock, type Clock } from './clock.js';
import type { CircuitBreaker, CircuitTransition } from './circuit-breaker.js';
import { ConnectorError, type ConnectorErrorCode } from './errors.js';
import type { ParkedItem, ParkingStore } from './parking/parking-store.js';
import type { TokenBucket } from './rate-limiter.js';
import { DEFAULT_CONNECTOR_RETRY_POLICY, retryDelay, type ConnectorRetryPolicy } from './retry.js';

/** One event of one dossier, as a connector delivers it to a target. */
export interface GateDelivery {
  dossier: string;
  /** The event's position in the global log; where a parking starts. */
  position: number;
}

/** What the gate tells metrics and logs. Every callback is optional and must not throw. */
export interface TargetGateListener {
  /** A call to the target is about to be made (attempt 1, 2, …). */
  attempt?(e: GateDelivery & { target: string; attempt: number }): void;
  /** A retriable failure; the next attempt comes after `delayMs`. */
  retryScheduled?(
    e: GateDelivery & { target: string; attempt: number; delayMs: number; error: ConnectorError },
  ): void;
  /** The pair parked after this delivery failed. */
  parked?(e: GateDelivery & { target: string; parking: ParkedItem; error: ConnectorError }): void;
  /** The pair was parked already: the event waits behind the parking, the target is not called. */
  held?(e: GateDelivery & { target: string }): void;
  /**
   * One call through the breaker ended: `ok`, or the ConnectorError's code (`circuit-open` when the
   * breaker refused it without calling the target; then `seconds` is 0). `seconds` is the call's time.
   */
  called?(e: { target: string; outcome: 'ok' | ConnectorErrorCode; seconds: number }): void;
  /** The target took the delivery. */
  delivered?(e: GateDelivery & { target: string; attempts: number }): void;
  /** The target's circuit breaker changed state. */
  circuit?(t: CircuitTransition): void;
}

export type GateResult<T> =
  | { status: 'delivered'; value: T; attempts: number }
  /**
   * Not delivered, and the dossier waits for this target. `error` and `attempts` > 0 when this run
   * parked it; `attempts` 0 and no error when it was parked already (the event is held, not tried).
   */
  | { status: 'parked'; attempts: number; error?: ConnectorError; parking?: ParkedItem };

export interface TargetGateOptions {
  target: string;
  breaker: CircuitBreaker;
  /** Without one, calls are not rate-limited. */
  limiter?: TokenBucket;
  parking: ParkingStore;
  /** See {@link DEFAULT_CONNECTOR_RETRY_POLICY}. */
  retry?: Partial<ConnectorRetryPolicy>;
  listener?: TargetGateListener;
  clock?: Clock;
  /** Uniform in [0, 1); the jitter of the backoff. */
  random?: () => number;
}

/**
 * Everything between a connector and one target: parking, rate limit, circuit breaker, retries.
 *
 * `run(delivery, fn)`:
 * 1. If the (target, dossier) pair is parked, the event is held behind the parking and `fn` is not
 *    called: `parked` with 0 attempts. Other dossiers and other targets are not affected.
 * 2. Otherwise, per attempt: wait for a token, then call `fn` through the breaker.
 * 3. A data error parks the pair at once. A retriable error is retried after
 *    {@link retryDelay} (backoff with equal jitter, at least the target's Retry-After); the attempt
 *    that fails `maxAttempts`-th parks the pair with its reason.
 * 4. An open circuit refuses without calling the target: that waits for the cool-down and is not an
 *    attempt, so an outage holds the deliveries instead of parking every dossier that arrives during it.
 *    A failed trial call of the half-open circuit is not one either (it probes the target, not the
 *    dossier): the dossier in flight when the target went down is held through an outage of any
 *    length, not parked after `maxAttempts` cool-downs. Both wait for the rest of the cool-down, not
 *    a backoff grown by the trials, so the held dossiers come back with the target.
 *
 * `fn` must throw ConnectorErrors (see classifyHttpStatus, classifyNetworkError, mappingError); any
 * other error is a bug of the hub, not of the dossier or the target, and is thrown on unchanged.
 * A 429 also slows the rate limiter down, and each success lets it speed up again.
 */
export class TargetGate {
  readonly target: string;
  private readonly policy: ConnectorRetryPolicy;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly listener: TargetGateListener;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: TargetGateOptions) {
    this.target = options.target;
    this.policy = { ...DEFAULT_CONNECTOR_RETRY_POLICY, ...options.retry };
    if (!(this.policy.maxAttempts >= 1)) throw new RangeError(`${this.target}: maxAttempts must be ≥ 1`);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.listener = options.listener ?? {};
    this.unsubscribe = options.breaker.onTransition((t) => this.listener.circuit?.(t));
  }

  /**
   * Delivers one event through the gate; `fn` receives the attempt number (1, 2, …).
   * @throws the signal's reason when `signal` aborts while waiting; any non-ConnectorError of `fn`.
   */
  async run<T>(
    delivery: GateDelivery,
    fn: (attempt: number) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<GateResult<T>> {
    const { target } = this;
    const { parking, breaker, limiter } = this.options;
    if (await parking.hold(target, delivery.dossier, delivery.position)) {
      this.listener.held?.({ ...delivery, target });
      return { status: 'parked', attempts: 0 };
    }
    let attempts = 0;
    /** Attempts that were the half-open circuit's trial call and failed: the target's, not the dossier's. */
    let failedTrials = 0;
    for (;;) {
      signal?.throwIfAborted();
      await limiter?.acquire(signal);
      let value: T;
      let counted = false;
      let trial = false;
      let calledAt = 0;
      try {
        value = await breaker.call(() => {
          counted = true;
          trial = breaker.state === 'half-open';
          attempts++;
          this.listener.attempt?.({ ...delivery, target, attempt: attempts });
          calledAt = this.clock.now();
          return fn(attempts);
        });
      } catch (err) {
        if (!(err instanceof ConnectorError)) throw err;
        this.listener.called?.({
          target,
          outcome: err.code,
          seconds: counted ? (this.clock.now() - calledAt) / 1000 : 0,
        });
        if (err.code === 'rate-limited') limiter?.slowDown(err.retryAfterMs);
        if (trial && err.kind !== 'data') failedTrials++;
        if (err.kind === 'data' || (counted && !trial && attempts - failedTrials >= this.policy.maxAttempts))
          return this.park(delivery, err, attempts);
        // The backoff grows with the dossier's own failed attempts. A refusal of the open circuit and a
        // failed trial call are the target's, not the dossier's: they wait for the cool-down (at least
        // the first backoff step), so that a dossier held through a long outage comes back with the
        // target instead of sleeping a backoff grown by every trial it happened to make.
        const own = counted && !trial ? attempts - failedTrials : 1;
        const waitFor = Math.max(err.retryAfterMs ?? 0, breaker.coolDownRemainingMs);
        const delayMs = retryDelay(Math.max(1, own), this.policy, waitFor, this.random);
        this.listener.retryScheduled?.({ ...delivery, target, attempt: attempts, delayMs, error: err });
        await this.clock.sleep(delayMs, signal);
        continue;
      }
      this.listener.called?.({ target, outcome: 'ok', seconds: (this.clock.now() - calledAt) / 1000 });
      limiter?.speedUp();
      this.listener.delivered?.({ ...delivery, target, attempts });
      return { status: 'delivered', value, attempts };
    }
  }

  /** Stops forwarding the breaker's transitions to the listener. */
  dispose(): void {
    this.unsubscribe();
  }

  private async park<T>(
    delivery: GateDelivery,
    error: ConnectorError,
    attempts: number,
  ): Promise<GateResult<T>> {
    const parking = await this.options.parking.park(this.target, delivery.dossier, {
      reason:
        error.kind === 'data'
          ? `${this.target} cannot take the dossier: ${error.message}`
          : `${this.target} still failing after ${attempts} attempts: ${error.message}`,
      kind: error.kind,
      attempts,
      firstPosition: delivery.position,
      lastError: `${error.code}${error.status === undefined ? '' : ` ${error.status}`}: ${error.message}`,
      parkedAt: new Date(this.clock.now()).toISOString(),
    });
    this.listener.parked?.({ ...delivery, target: this.target, parking, error });
    return { status: 'parked', attempts, error, parking };
  }
}
