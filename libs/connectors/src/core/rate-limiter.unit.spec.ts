import { ManualClock, RateLimiterStoppedError, TokenBucket, flush } from '#lgsp/connectors';

function bucket(ratePerSecond: number, burst: number) {
  const clock = new ManualClock(0);
  const limiter = new TokenBucket('payments', { ratePerSecond, burst }, clock);
  const granted: string[] = [];
  const take = (name: string, signal?: AbortSignal) =>
    limiter.acquire(signal).then(
      () => void granted.push(`${name}@${clock.now()}`),
      (e: unknown) => void granted.push(`${name}:${e instanceof Error ? e.name : String(e)}@${clock.now()}`),
    );
  return { clock, limiter, granted, take };
}

describe('TokenBucket', () => {
  it('lets a burst through at once, then one call per 1/rate seconds', async () => {
    const { clock, granted, take } = bucket(4, 2);
    for (const n of ['a', 'b', 'c', 'd', 'e']) void take(n);
    await flush();
    expect(granted).toEqual(['a@0', 'b@0']);
    await clock.advance(1000);
    expect(granted).toEqual(['a@0', 'b@0', 'c@250', 'd@500', 'e@750']);
  });

  it('reports how long each queued call waited for its token, and nothing for a call served at once', async () => {
    const clock = new ManualClock(0);
    const waits: number[] = [];
    const limiter = new TokenBucket(
      'portal',
      { ratePerSecond: 4, burst: 1, onWait: (ms) => waits.push(ms) },
      clock,
    );
    await limiter.acquire();
    expect(waits).toEqual([]);
    const second = limiter.acquire();
    const third = limiter.acquire();
    await clock.advance(500);
    await Promise.all([second, third]);
    expect(waits).toEqual([250, 500]);
  });

  it('grants in arrival order: a newcomer queues behind waiters even when tokens are there', async () => {
    const { clock, limiter, granted, take } = bucket(10, 3);
    for (const n of ['a', 'b', 'c', 'w1', 'w2']) void take(n);
    await flush();
    expect(granted).toEqual(['a@0', 'b@0', 'c@0']);
    clock.skew(300); // the pump's timer is late: three tokens are there, two callers wait for them
    void take('late');
    await flush();
    expect(granted).toHaveLength(3);
    await clock.advance(0);
    expect(granted).toEqual(['a@0', 'b@0', 'c@0', 'w1@300', 'w2@300', 'late@300']);
    void take('next');
    await clock.advance(100);
    expect(granted.at(-1)).toBe('next@400');
    expect(limiter.waiting).toBe(0);
  });

  it('refills up to the burst only, so a quiet spell does not allow a flood', async () => {
    const { clock, granted, take } = bucket(10, 3);
    await clock.advance(60_000);
    for (const n of ['a', 'b', 'c', 'd']) void take(n);
    await clock.advance(100);
    expect(granted).toEqual(['a@60000', 'b@60000', 'c@60000', 'd@60100']);
  });

  it('a cancelled waiter leaves the queue with the signal’s reason; the next in line moves up', async () => {
    const { clock, limiter, granted, take } = bucket(1, 1);
    await take('a');
    const cancel = new AbortController();
    void take('b', cancel.signal);
    void take('c');
    await flush();
    cancel.abort(new Error('shutting down'));
    await clock.advance(1000);
    expect(granted).toEqual(['a@0', 'b:Error@0', 'c@1000']);
    expect(limiter.waiting).toBe(0);
    const aborted = AbortSignal.abort(new Error('already'));
    await expect(limiter.acquire(aborted)).rejects.toThrow('already');
  });

  it('stop refuses every waiter and every later acquire', async () => {
    const { clock, limiter, granted, take } = bucket(1, 1);
    await take('a');
    void take('b');
    void take('c');
    await flush();
    limiter.stop();
    await flush();
    expect(granted).toEqual(['a@0', 'b:RateLimiterStoppedError@0', 'c:RateLimiterStoppedError@0']);
    await expect(limiter.acquire()).rejects.toThrow(RateLimiterStoppedError);
    await clock.advance(5000);
    expect(clock.pending).toBe(0);
  });

  it('after a 429 halves the rate, grants nothing before Retry-After, and speeds up step by step', async () => {
    const clock = new ManualClock(0);
    const limiter = new TokenBucket('portal', { ratePerSecond: 10, burst: 5, recoveryStep: 0.25 }, clock);
    limiter.slowDown(2000);
    expect(limiter.currentRate).toBe(5);
    const granted: number[] = [];
    for (let i = 0; i < 3; i++) void limiter.acquire().then(() => granted.push(clock.now()));
    await clock.advance(2000);
    expect(granted).toEqual([]); // the tokens were dropped and nothing accrued while paused
    await clock.advance(600);
    expect(granted).toEqual([2200, 2400, 2600]);
    limiter.speedUp();
    expect(limiter.currentRate).toBe(7.5);
    limiter.speedUp();
    limiter.speedUp();
    expect(limiter.currentRate).toBe(10);
  });

  it('never slows below the minimum share of the configured rate, and refuses a bad configuration', () => {
    const limiter = new TokenBucket(
      'portal',
      { ratePerSecond: 8, burst: 1, minRateFactor: 0.25 },
      new ManualClock(),
    );
    for (let i = 0; i < 10; i++) limiter.slowDown();
    expect(limiter.currentRate).toBe(2);
    expect(() => new TokenBucket('x', { ratePerSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new TokenBucket('x', { ratePerSecond: 1, burst: 0 })).toThrow(RangeError);
  });
});
