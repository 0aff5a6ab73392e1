import type { ReadAllOptions, StoredEvent } from '#lgsp/event-store';
import type { AuditEntry, AuditLog, NewAuditEntry } from '#lgsp/security';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { SqlReplayStore } from './sql-replay-store.js';
import type { ReplayRun, ReplaySendResult, ReplayStore, ReplayTarget } from './model.js';
import { ReplayService, type ReplayServiceOptions } from './replay-service.js';
import { waitUntil } from './replay.testing.js';

/** A log of `n` dossiers, one event each: D001 … Dn, in that order. */
function logOf(n: number) {
  const events: StoredEvent[] = Array.from({ length: n }, (_, i) => ({
    position: i + 1,
    stream: `dossier-D${String(i + 1).padStart(3, '0')}`,
    streamVersion: 1,
    recordedAt: new Date(Date.UTC(2026, 10, 23, 8, 0, i)).toISOString(),
    hash: '',
    prevHash: '',
    id: `e${i + 1}`,
    source: '/test',
    type: 'vn.gov.lgsp.dossier.submitted.v1',
    data: {},
    extensions: {},
  }));
  return {
    head: async () => ({ position: events.length }),
    readAll: async (o: ReadAllOptions = {}) =>
      events.filter((e) => e.position > (o.after ?? 0)).slice(0, o.limit ?? 1000),
  };
}
const codes = (n: number) => Array.from({ length: n }, (_, i) => `D${String(i + 1).padStart(3, '0')}`);

class FakeAudit implements AuditLog {
  entries: AuditEntry[] = [];
  async record(entry: NewAuditEntry): Promise<AuditEntry> {
    const stored = { id: this.entries.length + 1, ...entry };
    this.entries.push(stored);
    return stored;
  }
  async list(): Promise<AuditEntry[]> {
    return this.entries;
  }
}

/**
 * A target that records every item sent, answers through `answer` (default `sent`), and can be made
 * to hold an item until released (or until the signal aborts it).
 */
class FakeTarget implements ReplayTarget {
  readonly unit: 'dossier' | 'event' = 'dossier';
  accepts?: (event: StoredEvent) => boolean;
  sent: string[] = [];
  aborted: string[] = [];
  replayIds = new Set<string>();
  blockOn: string | undefined;
  release: (() => void) | undefined;
  answer: (item: string) => ReplaySendResult | Promise<ReplaySendResult> = () => 'sent';

  constructor(
    readonly name = 'portal',
    readonly ratePerSecond = 10_000,
    readonly callsPerItem = 1,
  ) {}

  async send(item: string, replayId: string, signal?: AbortSignal): Promise<ReplaySendResult> {
    this.replayIds.add(replayId);
    if (item === this.blockOn) {
      this.blockOn = undefined;
      await new Promise<void>((resolve, reject) => {
        this.release = resolve;
        signal?.addEventListener('abort', () => {
          this.aborted.push(item);
          reject(signal.reason);
        });
      });
    }
    const result = await this.answer(item);
    this.sent.push(item);
    return result;
  }
}

/** A FakeTarget that takes batches of `batchSize` items and records each batch. */
class BatchTarget extends FakeTarget {
  batches: string[][] = [];
  constructor(readonly batchSize: number) {
    super('portal');
  }
  async sendBatch(
    items: readonly string[],
    replayId: string,
    signal?: AbortSignal,
  ): Promise<ReplaySendResult[]> {
    this.batches.push([...items]);
    const results: ReplaySendResult[] = [];
    for (const item of items) results.push(await this.send(item, replayId, signal));
    return results;
  }
}

/** Polls every 2 ms, for 5 s at most. */
const waitFor = (what: string, check: () => boolean | Promise<boolean>) =>
  waitUntil(what, check, { timeoutMs: 5000, pollMs: 2 });

/** The store's methods, `advance` replaced. */
function withAdvance(store: ReplayStore, advance: ReplayStore['advance']): ReplayStore {
  return {
    create: (run, items) => store.create(run, items),
    get: (id) => store.get(id),
    list: (q) => store.list(q),
    items: (id, from, limit) => store.items(id, from, limit),
    advance,
    transition: (id, command, at, error) => store.transition(id, command, at, error),
    running: () => store.running(),
  };
}

/** Records each `advance` (the saved cursors). */
function spied(store: ReplayStore): ReplayStore & { cursors: number[] } {
  const cursors: number[] = [];
  const advance: ReplayStore['advance'] = (id, done, failed, at) => {
    cursors.push(done);
    return store.advance(id, done, failed, at);
  };
  return { ...withAdvance(store, advance), cursors };
}

/** SQLite in memory: the SQL store itself, as fast as a map. */
const memoryStore = () => SqlReplayStore.open(SqliteDatabase.open(':memory:'));

const services: ReplayService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
});

async function service(overrides: Partial<ReplayServiceOptions> & { n?: number } = {}) {
  const { n = 10, ...rest } = overrides;
  const portal = new FakeTarget('portal');
  const shop = new FakeTarget('one-stop-shop');
  const audit = new FakeAudit();
  const store = spied(await memoryStore());
  const options: ReplayServiceOptions = {
    store,
    targets: new Map<string, ReplayTarget>([
      ['portal', portal],
      ['one-stop-shop', shop],
    ]),
    events: logOf(n),
    audit,
    confirmAbove: 1000,
    chunkSize: 3,
    pollMs: 10,
    ...rest,
  };
  const svc = new ReplayService(options);
  services.push(svc);
  return { svc, portal, shop, audit, store, options };
}

const finished = (svc: ReplayService, id: string) => async () =>
  ['completed', 'failed', 'cancelled'].includes((await svc.get(id)).state);

describe('ReplayService', () => {
  it('plans without calling any target, and audits the plan', async () => {
    const { svc, portal, shop, audit, store } = await service();
    const plan = await svc.plan('portal', { dossiers: ['D002', 'D001'] }, 'ops');
    expect(plan).toMatchObject({ target: 'portal', dossiers: ['D001', 'D002'], calls: 2 });
    expect(portal.sent).toEqual([]);
    expect(shop.sent).toEqual([]);
    expect(await store.list({ limit: 10 })).toEqual([]);
    expect(audit.entries).toEqual([
      expect.objectContaining({
        actor: 'ops',
        action: 'replay.plan',
        subject: 'portal',
        scope: { target: 'portal', dossiers: ['D002', 'D001'] },
        outcome: expect.objectContaining({ items: 2, calls: 2 }),
      }),
    ]);
    await expect(svc.plan('kafka:erp', {}, 'ops')).rejects.toMatchObject({ code: 'not-found' });
  });

  it("plans and runs from a reconciliation run without a target (the run's), and says what it cannot fix", async () => {
    const { svc, portal, audit } = await service({
      n: 10,
      reconciliation: async (id) =>
        id === 'rc-1'
          ? { target: 'portal', dossiers: ['D002', 'X001', 'X002'], extras: ['X001', 'X002'] }
          : id === 'rc-shop'
            ? { target: 'one-stop-shop', dossiers: ['D003'] }
            : undefined,
    });
    const plan = await svc.plan(undefined, { reconciliationRun: 'rc-1' }, 'ops');
    expect(plan).toMatchObject({
      target: 'portal',
      dossiers: ['D002'],
      cannotFix: {
        category: 'unexpected-extra',
        dossiers: ['X001', 'X002'],
        advice: expect.stringMatching(/2 records are in portal and never in the log.*Capture.*acknowledge/),
      },
    });
    expect(plan.effects).toBeUndefined();
    svc.start();
    const { replay } = await svc.run(undefined, { reconciliationRun: 'rc-1' }, { by: 'ops' });
    expect(replay.target).toBe('portal');
    await waitFor('completion', finished(svc, replay.id));
    expect(portal.sent).toEqual(['D002']);
    // A run of another target's reconciliation, a missing target and an unknown run are refused, audited.
    await expect(svc.plan('portal', { reconciliationRun: 'rc-shop' }, 'ops')).rejects.toMatchObject({
      code: 'invalid',
    });
    await expect(svc.plan(undefined, {}, 'ops')).rejects.toMatchObject({ code: 'invalid' });
    await expect(svc.run(undefined, { reconciliationRun: 'rc-9' }, { by: 'ops' })).rejects.toMatchObject({
      code: 'not-found',
    });
    expect(audit.entries.filter((e) => e.outcome.refused === true)).toEqual([
      expect.objectContaining({
        actor: 'ops',
        action: 'replay.plan',
        subject: 'portal',
        scope: { target: 'portal', reconciliationRun: 'rc-shop' },
        outcome: { refused: true, code: 'invalid', reason: expect.stringContaining('covers one-stop-shop') },
      }),
      expect.objectContaining({
        action: 'replay.plan',
        subject: 'replay',
        outcome: expect.objectContaining({
          code: 'invalid',
          reason: expect.stringContaining('target is required'),
        }),
      }),
      expect.objectContaining({
        action: 'replay.run',
        subject: 'reconciliation:rc-9',
        outcome: expect.objectContaining({ code: 'not-found' }),
      }),
    ]);
  });

  it('says in the plan what a replay causes beyond its target', async () => {
    const effects = 'the civil registry may re-issue certificates';
    const civil = Object.assign(new FakeTarget('civil-registry'), { effects });
    const { svc } = await service({ targets: new Map<string, ReplayTarget>([['civil-registry', civil]]) });
    expect((await svc.plan('civil-registry', {}, 'ops')).effects).toBe(effects);
  });

  it('completes a run of nothing at once: its answer is final, no poll needed', async () => {
    const { svc, audit } = await service({ n: 10 });
    const { replay } = await svc.run('portal', { dossiers: ['NONE'] }, { by: 'ops' });
    expect(replay).toMatchObject({ state: 'completed', total: 0, done: 0 });
    expect(audit.entries.map((e) => e.action)).toEqual(['replay.run', 'replay.complete']);
  });

  it('sends every item in order, chunk by chunk, to its own target only, and completes', async () => {
    const { svc, portal, shop, audit, store } = await service({ n: 10 });
    svc.start();
    const { replay, plan } = await svc.run('portal', {}, { by: 'ops' });
    expect(replay).toMatchObject({ state: 'running', total: 10, done: 0, chunkSize: 3, by: 'ops' });
    expect(plan.dossiers).toEqual(codes(10));
    await waitFor('completion', finished(svc, replay.id));

    expect(portal.sent).toEqual(codes(10));
    expect([...portal.replayIds]).toEqual([replay.id]);
    expect(shop.sent).toEqual([]);
    expect(store.cursors).toEqual([3, 6, 9, 10]);
    const done = await svc.get(replay.id);
    expect(done).toMatchObject({ state: 'completed', done: 10, failed: 0, etaSeconds: null });
    expect(done.finishedAt).toBeDefined();
    expect(audit.entries.map((e) => [e.action, e.actor, e.subject])).toEqual([
      ['replay.run', 'ops', `replay:${replay.id}`],
      ['replay.complete', 'system', `replay:${replay.id}`],
    ]);
    expect(audit.entries[1]?.outcome).toEqual({ state: 'completed', total: 10, done: 10, failed: 0 });
  });

  it('refuses a run above the confirmation threshold unless confirmed, and starts nothing', async () => {
    const { svc, portal, store } = await service({ n: 5, confirmAbove: 4 });
    svc.start();
    await expect(svc.run('portal', {}, { by: 'ops' })).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/5 dossiers .* more than 4: send confirm: true/),
    });
    await expect(svc.run('portal', {}, { by: 'ops', confirm: false })).rejects.toMatchObject({
      code: 'conflict',
    });
    expect(await store.list({ limit: 10 })).toEqual([]);
    const { replay } = await svc.run('portal', {}, { by: 'ops', confirm: true });
    await waitFor('completion', finished(svc, replay.id));
    expect(portal.sent).toEqual(codes(5));
  });

  it('checks the chunk size and rate it is given', async () => {
    const { svc } = await service();
    await expect(svc.run('portal', {}, { by: 'ops', chunkSize: 0 })).rejects.toMatchObject({
      code: 'invalid',
      issues: [{ pointer: '/chunkSize' }],
    });
    await expect(svc.run('portal', {}, { by: 'ops', chunkSize: 1001 })).rejects.toMatchObject({
      code: 'invalid',
    });
    await expect(svc.run('portal', {}, { by: 'ops', ratePerSecond: 0 })).rejects.toMatchObject({
      code: 'invalid',
      issues: [{ pointer: '/ratePerSecond' }],
    });
    await expect(svc.run('portal', { provinceCode: 'x' }, { by: 'ops' })).rejects.toMatchObject({
      code: 'invalid',
      issues: [{ pointer: '/scope/provinceCode' }],
    });
  });

  it('keeps to the run’s rate, by default the target’s call rate over its calls per item', async () => {
    const slow = new FakeTarget('portal', 100, 2);
    const { svc } = await service({ n: 20, targets: new Map([['portal', slow]]) });
    svc.start();
    const started = Date.now();
    const { replay } = await svc.run('portal', {}, { by: 'ops', chunkSize: 100 });
    expect(replay.ratePerSecond).toBe(50);
    expect(replay.etaSeconds).toBe(1);
    await waitFor('completion', finished(svc, replay.id));
    // 50 items/s with a burst of 5: the last of 20 items goes no sooner than 300 ms after the first.
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(slow.sent).toEqual(codes(20));

    const fast = new FakeTarget('portal', 100, 2);
    const other = await service({ n: 20, targets: new Map([['portal', fast]]) });
    other.svc.start();
    const t0 = Date.now();
    const run = await other.svc.run('portal', {}, { by: 'ops', ratePerSecond: 1000 });
    await waitFor('completion', finished(other.svc, run.replay.id));
    expect(Date.now() - t0).toBeLessThan(290);
  });

  it('stops within one item on pause, then resumes from there without skipping', async () => {
    const { svc, portal, audit, store } = await service({ n: 10 });
    portal.blockOn = 'D005';
    svc.start();
    const { replay } = await svc.run('portal', {}, { by: 'ops' });
    await waitFor('D005 in flight', () => portal.release !== undefined);

    const paused = await svc.pause(replay.id, 'ops', 'target maintenance');
    expect(paused).toMatchObject({ state: 'paused', done: 4, etaSeconds: null });
    expect(portal.aborted).toEqual(['D005']);
    expect(portal.sent).toEqual(codes(4));
    expect(store.cursors).toEqual([3, 4]);
    await new Promise((r) => setTimeout(r, 50));
    expect(portal.sent).toEqual(codes(4));

    await expect(svc.pause(replay.id, 'ops')).rejects.toMatchObject({ code: 'conflict' });
    expect(await svc.resume(replay.id, 'ops')).toMatchObject({ state: 'running', done: 4 });
    await waitFor('completion', finished(svc, replay.id));
    expect(portal.sent).toEqual(codes(10));
    expect(await svc.get(replay.id)).toMatchObject({ state: 'completed', done: 10 });
    expect(audit.entries.map((e) => e.action)).toEqual([
      'replay.run',
      'replay.pause',
      'replay.resume',
      'replay.complete',
    ]);
    expect(audit.entries[1]).toMatchObject({
      actor: 'ops',
      outcome: { state: 'paused', done: 4, note: 'target maintenance' },
    });
  });

  it('stops for good on cancel; a cancelled run cannot resume', async () => {
    const { svc, portal, audit } = await service({ n: 10 });
    portal.blockOn = 'D002';
    svc.start();
    const { replay } = await svc.run('portal', {}, { by: 'ops' });
    await waitFor('D002 in flight', () => portal.release !== undefined);
    expect(await svc.cancel(replay.id, 'lead')).toMatchObject({ state: 'cancelled', done: 1 });
    await new Promise((r) => setTimeout(r, 50));
    expect(portal.sent).toEqual(['D001']);
    await expect(svc.resume(replay.id, 'ops')).rejects.toMatchObject({ code: 'conflict' });
    await expect(svc.cancel('nope', 'ops')).rejects.toMatchObject({ code: 'not-found' });
    expect(audit.entries.map((e) => [e.action, e.actor])).toEqual([
      ['replay.run', 'ops'],
      ['replay.cancel', 'lead'],
    ]);
  });

  it('counts the target’s refusals as failed items and completes; a hub failure fails the run', async () => {
    const { svc, portal, audit } = await service({ n: 6 });
    portal.answer = (item) => (item === 'D002' ? 'failed' : item === 'D003' ? 'held' : 'sent');
    svc.start();
    const first = await svc.run('portal', {}, { by: 'ops' });
    await waitFor('completion', finished(svc, first.replay.id));
    expect(await svc.get(first.replay.id)).toMatchObject({ state: 'completed', done: 6, failed: 1 });

    portal.sent = [];
    portal.answer = (item) => {
      if (item === 'D005') throw new Error('the event store is unreadable');
      return 'sent';
    };
    const second = await svc.run('portal', {}, { by: 'ops' });
    await waitFor('failure', finished(svc, second.replay.id));
    const failed = await svc.get(second.replay.id);
    expect(failed).toMatchObject({ state: 'failed', done: 4, error: 'the event store is unreadable' });
    expect(audit.entries.at(-1)).toMatchObject({
      action: 'replay.fail',
      actor: 'system',
      outcome: { state: 'failed', done: 4, error: 'the event store is unreadable' },
    });

    portal.answer = () => 'sent';
    await svc.resume(second.replay.id, 'ops');
    await waitFor('completion', finished(svc, second.replay.id));
    expect(await svc.get(second.replay.id)).toMatchObject({ state: 'completed', done: 6 });
    expect(portal.sent).toEqual(codes(6));
  });

  it('fails a run whose target does not run in this hub (after a restart without it)', async () => {
    const { svc, store, options } = await service({ n: 3 });
    const { replay } = await svc.run('one-stop-shop', {}, { by: 'ops' });
    const without = new ReplayService({ ...options, targets: new Map([['portal', new FakeTarget()]]) });
    services.push(without);
    without.start();
    await waitFor('failure', async () => (await store.get(replay.id))?.state === 'failed');
    expect(await store.get(replay.id)).toMatchObject({
      error: 'target one-stop-shop is not running in this hub',
    });
  });

  it('resumes after a restart: a new service on the store completes every item once, in order, but the chunk in flight', async () => {
    const base = await memoryStore();
    let killed = false;
    // The killed process persists nothing more.
    const dying = withAdvance(base, async (id, done, failed, at): Promise<ReplayRun> => {
      if (killed) throw new Error('process killed');
      return base.advance(id, done, failed, at);
    });
    const first = await service({ n: 20, store: dying, chunkSize: 4 });
    first.portal.blockOn = 'D011';
    first.svc.start();
    const { replay } = await first.svc.run('portal', {}, { by: 'ops' });
    await waitFor('D011 in flight', () => first.portal.release !== undefined);
    killed = true;
    expect((await base.get(replay.id))?.done).toBe(8);

    const second = await service({ n: 20, store: base, chunkSize: 4 });
    second.svc.start();
    await waitFor('completion', finished(second.svc, replay.id));

    expect(first.portal.sent).toEqual(codes(10));
    // The chunk in flight (D009–D012) is sent again; nothing is skipped.
    expect(second.portal.sent).toEqual(codes(20).slice(8));
    expect(await base.get(replay.id)).toMatchObject({ state: 'completed', done: 20, failed: 0 });
  });

  it('sends in the target’s batches, never across a chunk, counting each item’s result', async () => {
    const batching = new BatchTarget(4);
    batching.answer = (item) => (item === 'D006' ? 'failed' : 'sent');
    const { svc, store } = await service({ n: 11, chunkSize: 5, targets: new Map([['portal', batching]]) });
    svc.start();
    const { replay } = await svc.run('portal', {}, { by: 'ops' });
    await waitFor('completion', finished(svc, replay.id));
    // Chunks of 5 → batches of 4 + 1 (a batch of one goes through send), twice, then 1.
    expect(batching.batches).toEqual([codes(4), codes(9).slice(5)]);
    expect(batching.sent).toEqual(codes(11));
    expect(store.cursors).toEqual([5, 10, 11]);
    expect(await svc.get(replay.id)).toMatchObject({ state: 'completed', done: 11, failed: 1 });
  });

  it('fails the run when a batch rejects or answers the wrong number of results, counting none of that batch', async () => {
    const batching = new BatchTarget(3);
    const { svc } = await service({ n: 9, chunkSize: 9, targets: new Map([['portal', batching]]) });
    batching.sendBatch = async (items) => {
      batching.batches.push([...items]);
      if (items.includes('D005')) throw new Error('the event store is unreadable');
      return items.map(() => 'sent' as const);
    };
    svc.start();
    const runToTheEnd = async () => {
      const { replay } = await svc.run('portal', {}, { by: 'ops' });
      await waitFor('failure', finished(svc, replay.id));
      return svc.get(replay.id);
    };
    expect(await runToTheEnd()).toMatchObject({
      state: 'failed',
      done: 3,
      error: 'the event store is unreadable',
    });

    batching.sendBatch = async () => ['sent'];
    expect(await runToTheEnd()).toMatchObject({
      state: 'failed',
      done: 0,
      error: 'target portal answered 1 results for a batch of 3 items',
    });
  });

  it('finds targets by name through resolveTarget, and plans only the events a target accepts', async () => {
    const consumer = new FakeTarget('kafka:erp');
    Object.assign(consumer, { unit: 'event' });
    consumer.accepts = (e: StoredEvent) => e.position % 2 === 0;
    const asked: string[] = [];
    const { svc } = await service({
      n: 6,
      resolveTarget: async (name) => {
        asked.push(name);
        return name === 'kafka:erp' ? consumer : undefined;
      },
    });
    const plan = await svc.plan('kafka:erp', {}, 'ops');
    expect(plan).toMatchObject({ unit: 'event', events: 3, dossiers: ['D002', 'D004', 'D006'] });
    await expect(svc.plan('kafka:other', {}, 'ops')).rejects.toMatchObject({ code: 'not-found' });
    svc.start();
    const { replay } = await svc.run('kafka:erp', {}, { by: 'ops' });
    await waitFor('completion', finished(svc, replay.id));
    expect(consumer.sent).toEqual(['2', '4', '6']);
    expect(asked).toEqual(['kafka:erp', 'kafka:other', 'kafka:erp', 'kafka:erp']);
  });

  it('shows the rate over the last minute and the ETA at it', async () => {
    const slow = new FakeTarget('portal', 1000, 1);
    const { svc } = await service({ n: 400, targets: new Map([['portal', slow]]), confirmAbove: 1000 });
    slow.answer = async (): Promise<ReplaySendResult> => {
      await new Promise((r) => setTimeout(r, 1));
      return 'sent';
    };
    svc.start();
    const { replay } = await svc.run('portal', {}, { by: 'ops', chunkSize: 20, ratePerSecond: 200 });
    await waitFor('progress', async () => (await svc.get(replay.id)).done >= 100);
    const progress = await svc.get(replay.id);
    expect(progress.rate).toBeGreaterThan(100);
    expect(progress.rate).toBeLessThanOrEqual(260);
    expect(progress.etaSeconds).toBe(Math.ceil((400 - progress.done) / progress.rate));
    expect((await svc.list({ limit: 5 }))[0]).toMatchObject({ id: replay.id, state: 'running' });
    await svc.cancel(replay.id, 'ops');
  });
});
