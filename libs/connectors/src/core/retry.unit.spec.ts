import { backoffDelay } from '#lgsp/subscriptions';
import { DEFAULT_CONNECTOR_RETRY_POLICY, retryDelay } from '#lgsp/connectors';

describe('retryDelay', () => {
  const policy = DEFAULT_CONNECTOR_RETRY_POLICY;

  it('doubles from 500 ms up to the 60 s cap: nominal_n = min(cap, 500 · 2^(n−1))', () => {
    const top = (n: number) => retryDelay(n, policy, undefined, () => 1);
    expect([1, 2, 3, 4, 5].map(top)).toEqual([500, 1000, 2000, 4000, 8000]);
    expect(top(8)).toBe(60_000);
    expect(top(50)).toBe(60_000);
  });

  it('jitters between half and all of the nominal delay (equal jitter, the subscribers’ formula)', () => {
    expect(retryDelay(3, policy, undefined, () => 0)).toBe(1000);
    expect(retryDelay(3, policy, undefined, () => 0.5)).toBe(1500);
    expect(retryDelay(3, policy, undefined, () => 0.25)).toBe(backoffDelay(3, policy, () => 0.25));
  });

  it('waits at least the target’s Retry-After, uncapped, and no longer when the backoff is longer', () => {
    expect(retryDelay(1, policy, 5000, () => 0)).toBe(5000);
    expect(retryDelay(1, policy, 120_000, () => 1)).toBe(120_000);
    expect(retryDelay(5, policy, 1000, () => 1)).toBe(8000);
    expect(retryDelay(5, policy, 0, () => 0)).toBe(4000);
  });

  it('gives up to 15.5 s and at least 7.75 s of backoff before the sixth and last attempt', () => {
    const total = (r: () => number) =>
      [1, 2, 3, 4, 5].reduce((s, n) => s + retryDelay(n, policy, undefined, r), 0);
    expect(policy.maxAttempts).toBe(6);
    expect(total(() => 1)).toBe(15_500);
    expect(total(() => 0)).toBe(7750);
  });
});
