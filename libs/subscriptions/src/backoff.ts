/** Exponential backoff for a failing subscriber. */
export interface RetryPolicy {
  /**
   * Delay before the first retry.
   * @defaultValue 100
   */
  initialDelayMs: number;
  /**
   * Upper bound of any delay.
   * @defaultValue 30000
   */
  maxDelayMs: number;
  /**
   * Growth per failed attempt.
   * @defaultValue 2
   */
  factor: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  initialDelayMs: 100,
  maxDelayMs: 30_000,
  factor: 2,
};

/**
 * Delay before retry number `attempt` (1 for the first retry): `min(max, initial × factor^(attempt−1))`,
 * then "equal jitter": a uniformly random value between half of that and all of it, so subscribers
 * failing together do not retry in lockstep yet never retry sooner than half the nominal delay.
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, attempt - 1);
  const nominal = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** exponent);
  return Math.round(nominal / 2 + (nominal / 2) * random());
}
