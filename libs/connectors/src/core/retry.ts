import { backoffDelay, type RetryPolicy } from '#lgsp/subscriptions';

/**
 * How a connector retries a retriable failure before it parks the (target, dossier) pair. The
 * backoff fields are the hub's one {@link RetryPolicy} (subscribers and Kafka ingest use the same).
 */
export interface ConnectorRetryPolicy extends RetryPolicy {
  /**
   * Attempts in all, the first call included; after this many retriable failures the pair parks.
   * @defaultValue 6
   */
  maxAttempts: number;
}

/**
 * 0.5 s, 1 s, 2 s, 4 s, 8 s nominal between six attempts: 15.5 s at most and 7.75 s at the least before
 * a dossier parks, longer than a rolling restart of a target and short enough for an operator to see.
 */
export const DEFAULT_CONNECTOR_RETRY_POLICY: Readonly<ConnectorRetryPolicy> = {
  initialDelayMs: 500,
  maxDelayMs: 60_000,
  factor: 2,
  maxAttempts: 6,
};

/**
 * Delay before retry number `retry` (1 for the retry after the first failed attempt):
 *
 *     nominal_n = min(maxDelay, initial · factor^(n−1))
 *     jittered_n = nominal_n / 2 + random() · nominal_n / 2          ("equal jitter", backoffDelay)
 *     delay_n   = max(jittered_n, retryAfter)                          (Retry-After of a 429/503)
 *
 * Equal jitter rather than full jitter (random(0, nominal)): many dossiers fail together when a target
 * goes down, and the jitter spreads their retries over [nominal/2, nominal] so they do not come back in
 * lockstep, while the floor of nominal/2 means a struggling target is never hit again within
 * milliseconds (full jitter draws near-zero delays often; here the breaker and the rate limit already
 * bound the load, so the floor costs little). It is the formula the subscribers use, so one backoff
 * is documented and tested once. The target's `Retry-After` is a lower bound and is not capped: the
 * target knows when it will be back, and the jitter must not bring a retry before it.
 */
export function retryDelay(
  retry: number,
  policy: RetryPolicy,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  return Math.max(backoffDelay(retry, policy, random), retryAfterMs ?? 0);
}
