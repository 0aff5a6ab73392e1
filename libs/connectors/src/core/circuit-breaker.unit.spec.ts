import {
  CIRCUIT_TRANSITIONS,
  CircuitBreaker,
  ConnectorError,
  IllegalCircuitTransitionError,
  ManualClock,
  classifyHttpStatus,
  type CircuitBreakerOptions,
  type CircuitTransition,
} from '#lgsp/connectors';

const TARGET = 'national-portal';
const down = () => Promise.reject(classifyHttpStatus(TARGET, 503));
const refused = () => Promise.reject(classifyHttpStatus(TARGET, 422));
const ok = () => Promise.resolve('ok');

function breaker(options: Partial<CircuitBreakerOptions> = {}) {
  const clock = new ManualClock(1_000_000);
  const b = new CircuitBreaker(TARGET, { coolDownMs: 10_000, ...options }, clock);
  const transitions: CircuitTransition[] = [];
  b.onTransition((t) => transitions.push(t));
  const moves = () => transitions.map((t) => `${t.from}→${t.to} (${t.event})`);
  return { b, clock, transitions, moves };
}

const settle = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof ConnectorError ? e.code : 'other'),
  );

describe('CircuitBreaker', () => {
  it('declares every legal move in its transition table', () => {
    expect(CIRCUIT_TRANSITIONS).toEqual({
      closed: { tripped: 'open' },
      open: { 'cool-down-elapsed': 'half-open' },
      'half-open': { 'trial-succeeded': 'closed', 'trial-failed': 'open' },
    });
    expect(new IllegalCircuitTransitionError('closed', 'trial-failed').message).toBe(
      'circuit breaker: no transition from closed on trial-failed',
    );
  });

  it('closed → open after N consecutive retriable failures; a success resets the count', async () => {
    const { b, moves, transitions } = breaker({ failureThreshold: 3 });
    await settle(b.call(down));
    await settle(b.call(down));
    await b.call(ok);
    await settle(b.call(down));
    await settle(b.call(down));
    expect(b.state).toBe('closed');
    await settle(b.call(down));
    expect(b.state).toBe('open');
    expect(moves()).toEqual(['closed→open (tripped)']);
    expect(transitions[0]).toMatchObject({ target: TARGET, at: 1_000_000, reason: '3 consecutive failures' });
  });

  it('closed → open when the failure ratio in the window reaches the threshold', async () => {
    const { b, clock, transitions } = breaker({
      failureThreshold: 100,
      failureRatio: 0.5,
      minimumCalls: 4,
      windowMs: 1000,
    });
    await settle(b.call(down));
    await b.call(ok);
    await settle(b.call(down));
    expect(b.state).toBe('closed'); // 3 calls: fewer than minimumCalls
    await clock.advance(1001); // the first three leave the window
    await b.call(ok);
    await b.call(ok);
    await settle(b.call(down));
    expect(b.state).toBe('closed'); // 1 of 3
    await settle(b.call(down));
    expect(b.state).toBe('open'); // 2 of 4
    expect(transitions[0]?.reason).toBe('2 of 4 calls failed in 1000 ms');
  });

  it('keeps exact counts over a window of thousands of calls, as old calls leave it', async () => {
    const { b, clock, transitions } = breaker({
      failureThreshold: 100_000,
      failureRatio: 0.5,
      minimumCalls: 10,
      windowMs: 1000,
    });
    for (let i = 0; i < 3000; i++) {
      await b.call(ok);
      if (i % 2 === 0) await settle(b.call(down));
      if (i % 1000 === 999) await clock.advance(100);
    }
    expect(b.state).toBe('closed'); // 1,500 of 4,500
    await clock.advance(1000); // every call so far leaves the window
    for (let i = 0; i < 5; i++) await b.call(ok);
    for (let i = 0; i < 4; i++) await settle(b.call(down));
    expect(b.state).toBe('closed'); // 4 of 9: fewer than minimumCalls
    await settle(b.call(down));
    expect(b.state).toBe('open');
    expect(transitions[0]?.reason).toBe('5 of 10 calls failed in 1000 ms');
  });

  it('does not count a data error: the target answered, the payload was at fault', async () => {
    const { b } = breaker({ failureThreshold: 2 });
    for (let i = 0; i < 10; i++) expect(await settle(b.call(refused))).toBe('rejected');
    await settle(b.call(down));
    await settle(b.call(refused)); // resets the consecutive count like a success
    await settle(b.call(down));
    expect(b.state).toBe('closed');
  });

  it('open: fails fast with a retriable circuit-open error carrying the rest of the cool-down', async () => {
    const { b, clock } = breaker({ failureThreshold: 1 });
    await settle(b.call(down));
    await clock.advance(4000);
    let called = false;
    const err = await b
      .call(() => {
        called = true;
        return ok();
      })
      .catch((e: unknown) => e);
    expect(called).toBe(false);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({
      kind: 'retriable',
      code: 'circuit-open',
      target: TARGET,
      retryAfterMs: 6000,
    });
  });

  it('open → half-open after the cool-down; half-open → closed when the trial succeeds', async () => {
    const { b, clock, moves } = breaker({ failureThreshold: 1 });
    await settle(b.call(down));
    await clock.advance(9999);
    expect(b.state).toBe('open');
    await clock.advance(1);
    expect(b.state).toBe('half-open');
    expect(await b.call(ok)).toBe('ok');
    expect(b.state).toBe('closed');
    expect(moves()).toEqual([
      'closed→open (tripped)',
      'open→half-open (cool-down-elapsed)',
      'half-open→closed (trial-succeeded)',
    ]);
  });

  it('half-open → open when a trial fails, for a whole new cool-down', async () => {
    const { b, clock, moves } = breaker({ failureThreshold: 1 });
    await settle(b.call(down));
    await clock.advance(10_000);
    expect(await settle(b.call(down))).toBe('unavailable');
    expect(b.state).toBe('open');
    await clock.advance(9999);
    expect(await settle(b.call(ok))).toBe('circuit-open');
    await clock.advance(1);
    expect(await b.call(ok)).toBe('ok');
    expect(moves()).toEqual([
      'closed→open (tripped)',
      'open→half-open (cool-down-elapsed)',
      'half-open→open (trial-failed)',
      'open→half-open (cool-down-elapsed)',
      'half-open→closed (trial-succeeded)',
    ]);
  });

  it('half-open lets K trial calls through at once, refuses the rest, and closes when all K succeed', async () => {
    const { b, clock } = breaker({ failureThreshold: 1, halfOpenTrials: 2 });
    await settle(b.call(down));
    await clock.advance(10_000);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = () => gate.then(() => 'ok');
    const first = b.call(slow);
    const second = b.call(slow);
    expect(await settle(b.call(ok))).toBe('circuit-open');
    expect(b.state).toBe('half-open');
    release();
    await Promise.all([first, second]);
    expect(b.state).toBe('closed');
  });

  it('half-open: a data error is a successful trial; an error that is not a ConnectorError frees the slot', async () => {
    const { b, clock } = breaker({ failureThreshold: 1 });
    await settle(b.call(down));
    await clock.advance(10_000);
    expect(await settle(b.call(() => Promise.reject(new TypeError('bug'))))).toBe('other');
    expect(b.state).toBe('half-open');
    expect(await settle(b.call(refused))).toBe('rejected');
    expect(b.state).toBe('closed');
  });

  it('ignores the outcome of a call admitted before the circuit changed state', async () => {
    const { b, moves } = breaker({ failureThreshold: 1 });
    let fail!: () => void;
    const late = b.call(
      () => new Promise<never>((_, reject) => (fail = () => reject(classifyHttpStatus(TARGET, 503)))),
    );
    await settle(b.call(down)); // trips
    fail();
    await settle(late);
    expect(moves()).toEqual(['closed→open (tripped)']);
  });

  it('stops telling a listener that unsubscribed, and refuses nonsensical options', async () => {
    const clock = new ManualClock();
    const b = new CircuitBreaker(TARGET, { failureThreshold: 1 }, clock);
    const seen: string[] = [];
    const stop = b.onTransition((t) => seen.push(t.to));
    stop();
    await settle(b.call(down));
    expect(seen).toEqual([]);
    expect(() => new CircuitBreaker(TARGET, { failureThreshold: 0 })).toThrow(RangeError);
    expect(() => new CircuitBreaker(TARGET, { failureRatio: 1.5 })).toThrow(RangeError);
  });
});
