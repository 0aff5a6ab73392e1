import {
  CircuitBreaker,
  ConnectorError,
  SqlParkingStore,
  ManualClock,
  TargetGate,
  TokenBucket,
  classifyHttpStatus,
  classifyNetworkError,
  flush,
  mappingError,
  type GateResult,
  type TargetGateOptions,
} from '#lgsp/connectors';
import { SqliteDatabase } from '#lgsp/storage/sqlite';

const PORTAL = 'national-portal';
const RETRY = { initialDelayMs: 100, factor: 2, maxDelayMs: 1000, maxAttempts: 4 };

const START = Date.parse('2026-11-23T08:00:00.000Z');

function setup(options: Partial<TargetGateOptions> = {}, clock = new ManualClock(START)) {
  const parking = new SqlParkingStore(SqliteDatabase.open(':memory:'));
  const breaker = new CircuitBreaker(PORTAL, { failureThreshold: 3, coolDownMs: 10_000 }, clock);
  const log: string[] = [];
  const gate = new TargetGate({
    target: PORTAL,
    breaker,
    parking,
    clock,
    random: () => 0, // equal jitter at its floor: half the nominal delay
    retry: RETRY,
    listener: {
      attempt: (e) => log.push(`attempt ${e.dossier}#${e.attempt}`),
      retryScheduled: (e) => log.push(`retry ${e.dossier} after ${e.delayMs} (${e.error.code})`),
      parked: (e) => log.push(`parked ${e.dossier} (${e.parking.kind})`),
      held: (e) => log.push(`held ${e.dossier}@${e.position}`),
      delivered: (e) => log.push(`delivered ${e.dossier} in ${e.attempts}`),
      circuit: (t) => log.push(`circuit ${t.from}→${t.to}`),
    },
    ...options,
  });
  return { clock, parking, breaker, gate, log };
}

/** A call that answers each attempt from the script in turn: an error to throw, or a value. */
const scripted = (...answers: (ConnectorError | string)[]) => {
  let i = 0;
  return async () => {
    const answer = answers[Math.min(i++, answers.length - 1)]!;
    if (answer instanceof ConnectorError) throw answer;
    return answer;
  };
};

/** Runs the gate to its end while time passes, returning the result and the time it took. */
async function runFor<T>(clock: ManualClock, run: Promise<GateResult<T>>, ms = 120_000) {
  const start = clock.now();
  let done: GateResult<T> | undefined;
  let ended = 0;
  void run.then((r) => {
    done = r;
    ended = clock.now();
  });
  for (let t = 0; t < ms && done === undefined; t += 50) await clock.advance(50);
  if (done === undefined) throw new Error('the gate did not finish');
  return { result: done, tookMs: ended - start };
}

const down = () => classifyHttpStatus(PORTAL, 503);

describe('TargetGate', () => {
  it('delivers at the first attempt', async () => {
    const { gate, log } = setup();
    const result = await gate.run({ dossier: 'D1', position: 1 }, scripted('ok'));
    expect(result).toEqual({ status: 'delivered', value: 'ok', attempts: 1 });
    expect(log).toEqual(['attempt D1#1', 'delivered D1 in 1']);
  });

  it('retries a retriable failure after the backoff delay, then delivers', async () => {
    const { gate, clock, log } = setup();
    const { result, tookMs } = await runFor(
      clock,
      gate.run({ dossier: 'D1', position: 1 }, scripted(down(), classifyNetworkError(PORTAL, 'reset'), 'ok')),
    );
    expect(result).toEqual({ status: 'delivered', value: 'ok', attempts: 3 });
    expect(log).toEqual([
      'attempt D1#1',
      'retry D1 after 50 (unavailable)',
      'attempt D1#2',
      'retry D1 after 100 (network)',
      'attempt D1#3',
      'delivered D1 in 3',
    ]);
    expect(tookMs).toBe(150);
  });

  it('parks the pair with its reason after maxAttempts retriable failures', async () => {
    const { gate, clock, parking, log } = setup({
      breaker: new CircuitBreaker(PORTAL, { failureThreshold: 100 }),
    });
    const { result } = await runFor(clock, gate.run({ dossier: 'D1', position: 42 }, scripted(down())));
    expect(result).toMatchObject({
      status: 'parked',
      attempts: 4,
      error: { code: 'unavailable', status: 503 },
    });
    expect(log.filter((l) => l.startsWith('retry'))).toEqual([
      'retry D1 after 50 (unavailable)',
      'retry D1 after 100 (unavailable)',
      'retry D1 after 200 (unavailable)',
    ]);
    expect(log.at(-1)).toBe('parked D1 (retriable)');
    expect(await parking.get(PORTAL, 'D1')).toMatchObject({
      kind: 'retriable',
      attempts: 4,
      firstPosition: 42,
      lastPosition: 42,
      reason: 'national-portal still failing after 4 attempts: national-portal answered 503',
      lastError: 'unavailable 503: national-portal answered 503',
      parkedAt: '2026-11-23T08:00:00.350Z',
    });
  });

  it('parks at once on a data error, without retrying and without counting it against the target', async () => {
    const { gate, parking, breaker, log } = setup();
    const refused = classifyHttpStatus(PORTAL, 422, { message: 'NgayTiepNhan malformed' });
    for (const [i, dossier] of ['D1', 'D2', 'D3', 'D4'].entries()) {
      const result = await gate.run({ dossier, position: i + 1 }, scripted(refused));
      expect(result).toEqual({ status: 'parked', attempts: 1, error: refused, parking: expect.any(Object) });
    }
    expect(
      await gate.run({ dossier: 'D5', position: 5 }, scripted(mappingError(PORTAL, 'status 11'))),
    ).toMatchObject({
      status: 'parked',
      attempts: 1,
      parking: {
        kind: 'data',
        reason:
          'national-portal cannot take the dossier: cannot map the dossier for national-portal: status 11',
      },
    });
    expect(breaker.state).toBe('closed');
    expect(log.filter((l) => l.startsWith('retry'))).toEqual([]);
    expect((await parking.list({ limit: 10 })).map((p) => p.dossier)).toEqual(['D1', 'D2', 'D3', 'D4', 'D5']);
  });

  it('holds later events of a parked dossier for this target only; other dossiers and targets flow', async () => {
    const { gate, parking, clock, log } = setup();
    await gate.run({ dossier: 'D1', position: 10 }, scripted(classifyHttpStatus(PORTAL, 400)));
    let called = false;
    const held = await gate.run({ dossier: 'D1', position: 12 }, async () => {
      called = true;
      return 'ok';
    });
    expect(held).toEqual({ status: 'parked', attempts: 0 });
    expect(called).toBe(false);
    expect(await parking.get(PORTAL, 'D1')).toMatchObject({ firstPosition: 10, lastPosition: 12 });
    expect(await gate.run({ dossier: 'D2', position: 13 }, scripted('ok'))).toMatchObject({
      status: 'delivered',
    });

    const registry = new TargetGate({
      target: 'civil-registry',
      breaker: new CircuitBreaker('civil-registry', {}, clock),
      parking,
      clock,
    });
    expect(await registry.run({ dossier: 'D1', position: 12 }, scripted('ok'))).toMatchObject({
      status: 'delivered',
    });
    expect(log).toContain('held D1@12');

    await parking.retry(PORTAL, 'D1', { by: 'ops', at: '2026-11-23T09:00:00Z' });
    expect(await gate.run({ dossier: 'D1', position: 14 }, scripted('ok'))).toMatchObject({
      status: 'delivered',
    });
  });

  it('waits at least the Retry-After of a 429, and slows the rate limiter down', async () => {
    const clock = new ManualClock(START);
    const limiter = new TokenBucket(PORTAL, { ratePerSecond: 20, burst: 5 }, clock);
    const { gate, log } = setup({ limiter }, clock);
    const tooMany = classifyHttpStatus(PORTAL, 429, { retryAfter: '3' });
    const { result, tookMs } = await runFor(
      clock,
      gate.run({ dossier: 'D1', position: 1 }, scripted(tooMany, 'ok')),
    );
    expect(result).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(log.filter((l) => l.startsWith('retry'))).toEqual([
      expect.stringMatching(/^retry D1 after 3000 /),
    ]);
    expect(tookMs).toBe(3100); // Retry-After, then the first token at the halved rate (10/s)
    expect(limiter.currentRate).toBeGreaterThan(10); // halved to 10, then one success step back
    expect(limiter.currentRate).toBeLessThan(20);
  });

  it('waits out an open circuit without spending attempts, then delivers through the trial call', async () => {
    const { gate, clock, breaker, log } = setup();
    for (let i = 0; i < 3; i++)
      await breaker.call(scripted(classifyHttpStatus(PORTAL, 502))).catch(() => undefined);
    expect(log).toEqual(['circuit closed→open']);
    await clock.advance(1000);
    log.length = 0;
    let calls = 0;
    const { result, tookMs } = await runFor(
      clock,
      gate.run({ dossier: 'D1', position: 5 }, async () => {
        calls++;
        return 'ok';
      }),
    );
    expect(result).toEqual({ status: 'delivered', value: 'ok', attempts: 1 });
    expect(calls).toBe(1);
    expect(log.filter((l) => l.startsWith('circuit'))).toEqual([
      'circuit open→half-open',
      'circuit half-open→closed',
    ]);
    // The remaining 9 s of cool-down is the Retry-After of the circuit-open refusal.
    expect(log.filter((l) => l.startsWith('retry'))).toEqual(['retry D1 after 9000 (circuit-open)']);
    expect(tookMs).toBe(9000);
  });

  it('holds a dossier through an outage longer than its attempts: a failed trial call of the half-open circuit is not one', async () => {
    // maxAttempts 4, failureThreshold 3, cool-down 10 s: down for 100 s, ten trial calls fail; a backoff
    // that may grow to a minute.
    const { gate, clock, log } = setup({ retry: { ...RETRY, maxDelayMs: 60_000 } });
    const upAt = clock.now() + 100_000;
    let calls = 0;
    const { result, tookMs } = await runFor(
      clock,
      gate.run({ dossier: 'D1', position: 1 }, async () => {
        calls++;
        if (clock.now() < upAt) throw down();
        return 'ok';
      }),
      200_000,
    );
    expect(result).toMatchObject({ status: 'delivered', value: 'ok' });
    // Back with the target: within one cool-down of its return, not after a backoff grown by the trials
    // (the ten trials would have grown it to maxDelayMs).
    expect(tookMs).toBeLessThanOrEqual(100_000 + 10_000 + 50);
    // …because no wait is longer than the cool-down: the trials do not grow the dossier's backoff.
    const waits = log.flatMap((l) => /^retry D1 after (\d+)/.exec(l)?.[1] ?? []).map(Number);
    expect(waits.length).toBeGreaterThan(10);
    expect(Math.max(...waits)).toBeLessThanOrEqual(10_000);
    expect(log.filter((l) => l.startsWith('parked'))).toEqual([]);
    expect(log.filter((l) => l === 'circuit half-open→open').length).toBeGreaterThanOrEqual(5);
    expect(calls).toBeGreaterThan(RETRY.maxAttempts);
  });

  it('tells each call’s outcome and duration, and a refusal by the open circuit as a call of no time', async () => {
    const calls: string[] = [];
    const { gate, clock, breaker } = setup({
      listener: { called: (e) => calls.push(`${e.target} ${e.outcome} ${e.seconds}`) },
    });
    let attempt = 0;
    const { result } = await runFor(
      clock,
      gate.run({ dossier: 'D1', position: 1 }, async () => {
        await clock.sleep(++attempt === 1 ? 200 : 300);
        if (attempt === 1) throw down();
        return 'ok';
      }),
    );
    expect(result).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(calls).toEqual([`${PORTAL} unavailable 0.2`, `${PORTAL} ok 0.3`]);
    calls.length = 0;
    for (let i = 0; i < 3; i++)
      await breaker.call(scripted(classifyHttpStatus(PORTAL, 502))).catch(() => undefined);
    await runFor(clock, gate.run({ dossier: 'D2', position: 2 }, scripted('ok')));
    expect(calls).toEqual([`${PORTAL} circuit-open 0`, `${PORTAL} ok 0`]);
  });

  it('stops waiting when the signal aborts, and throws an error that is not a ConnectorError unchanged', async () => {
    const { gate, clock } = setup();
    const abort = new AbortController();
    const running = gate.run({ dossier: 'D1', position: 1 }, scripted(down()), abort.signal);
    const settled = running.catch((e: unknown) => e);
    await flush();
    abort.abort(new Error('shutting down'));
    await clock.advance(1);
    expect(await settled).toMatchObject({ message: 'shutting down' });

    const bug = new TypeError('x is undefined');
    await expect(
      gate.run({ dossier: 'D2', position: 2 }, async () => {
        throw bug;
      }),
    ).rejects.toBe(bug);
  });
});
