import { backoffDelay, DEFAULT_RETRY_POLICY } from '#lgsp/subscriptions';

describe('backoffDelay', () => {
  const policy = DEFAULT_RETRY_POLICY;

  it('doubles from 100 ms and caps at 30 s, before jitter', () => {
    const top = (attempt: number) => backoffDelay(attempt, policy, () => 1);
    expect([1, 2, 3, 4, 5].map(top)).toEqual([100, 200, 400, 800, 1600]);
    expect(top(9)).toBe(25_600);
    expect(top(10)).toBe(30_000);
    expect(top(1000)).toBe(30_000);
  });

  it('jitters between half and all of the nominal delay', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(200);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(300);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(4, policy);
      expect(d).toBeGreaterThanOrEqual(400);
      expect(d).toBeLessThanOrEqual(800);
    }
  });
});
