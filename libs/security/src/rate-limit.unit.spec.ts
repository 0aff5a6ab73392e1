import { KeyedRateLimiter, msUntilTokens, refilledTokens } from '#lgsp/security';

function limiter(maxKeys?: number) {
  let now = 1_000_000;
  const limits = new KeyedRateLimiter({ clock: { now: () => now }, ...(maxKeys ? { maxKeys } : {}) });
  return {
    limits,
    advance: (ms: number) => (now += ms),
    /** How many of `n` takes at this instant are granted. */
    granted: (key: string, n: number, limit = { ratePerSecond: 10, burst: 5 }) =>
      Array.from({ length: n }, () => limits.take(key, limit).granted).filter(Boolean).length,
  };
}

describe('token bucket arithmetic', () => {
  it('refills at the rate up to the burst, and says how long until whole tokens are there', () => {
    expect(refilledTokens(0, 250, 4, 10)).toBe(1);
    expect(refilledTokens(9.5, 60_000, 4, 10)).toBe(10);
    expect(msUntilTokens(0, 4)).toBe(250);
    expect(msUntilTokens(0.5, 4)).toBe(125);
    expect(msUntilTokens(1, 4)).toBe(0);
    expect(msUntilTokens(2.9999999999, 3, 3)).toBe(0);
    expect(msUntilTokens(1.2, 4, 2)).toBe(200);
  });
});

describe('KeyedRateLimiter', () => {
  it('grants the burst at once, then one take per 1/rate seconds', () => {
    const { limits, advance, granted } = limiter();
    expect(granted('a', 8)).toBe(5);
    const refused = limits.take('a', { ratePerSecond: 10, burst: 5 });
    expect(refused.granted).toBe(false);
    expect(refused.tokens).toBeCloseTo(0);
    advance(99);
    expect(granted('a', 1)).toBe(0);
    advance(1);
    expect(granted('a', 1)).toBe(1);
    advance(1000);
    expect(granted('a', 20)).toBe(5);
  });

  it('keeps keys apart: one key spending its bucket leaves the others whole', () => {
    const { granted } = limiter();
    expect(granted('noisy', 100)).toBe(5);
    expect(granted('quiet', 5)).toBe(5);
  });

  it('applies a new limit at the next take, a lower burst cutting the tokens held', () => {
    const { limits, advance } = limiter();
    const wide = { ratePerSecond: 100, burst: 100 };
    expect(limits.take('c', wide).tokens).toBe(99);
    const narrow = { ratePerSecond: 1, burst: 2 };
    expect(limits.take('c', narrow)).toMatchObject({ granted: true, tokens: 1 });
    expect(limits.take('c', narrow)).toMatchObject({ granted: true, tokens: 0 });
    expect(limits.take('c', narrow).granted).toBe(false);
    advance(1000);
    expect(limits.take('c', narrow).granted).toBe(true);
  });

  it('never holds more keys than its maximum: refilled buckets go first, then the oldest', () => {
    const { limits, advance, granted } = limiter(2000);
    for (let i = 0; i < 1500; i++) granted(`idle-${i}`, 1);
    advance(1000); // every idle bucket has refilled: as good as absent
    for (let i = 0; i < 1500; i++) granted(`busy-${i}`, 5);
    expect(limits.size).toBeLessThanOrEqual(2000);
    expect(limits.size).toBeGreaterThanOrEqual(1500);
    // The busy keys' empty buckets were kept: they are still refused.
    expect(granted('busy-1499', 1)).toBe(0);
    for (let i = 0; i < 5000; i++) granted(`flood-${i}`, 1);
    expect(limits.size).toBeLessThanOrEqual(2000);
  });
});
