import { randomBytes } from 'node:crypto';
import { ANY_VERSION, type Lease, type LeaseStore } from '#lgsp/event-store';
import { PostgresEventStore, PostgresLeaseStore } from '#lgsp/event-store/postgres';
import { POSTGRES_URL as url, dropSchema, pgClient as admin } from '../../../test/support/postgres.js';
import type { ReplaySendResult, ReplayStore, ReplayTarget } from './model.js';
import { PostgresDatabase } from '#lgsp/storage/postgres';
import { SqlReplayStore } from './sql-replay-store.js';
import { ReplayService } from './replay-service.js';
import { waitUntil } from './replay.testing.js';

// Replay runs on the real PostgreSQL with two "hub processes" (two event stores, two replay stores,
// two services, two holders) on one schema, as hub replicas run them: a run executes in one of them.

const TTL_MS = 1500;
/**
 * For the test that is not about takeovers: long enough that a renewal slowed by a loaded machine (CI
 * runs the integration suites side by side) never lets the lease lapse and hand the run over mid-way,
 * which the short TTL above allows by design (the second test relies on it).
 */
const STEADY_TTL_MS = 15_000;
const DOSSIERS = 60;
let schema: string;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  schema = `replay_lease_${randomBytes(6).toString('hex')}`;
  await (await admin()).end();
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await dropSchema(schema);
});

/** A target that records who sent which item, each send taking `delayMs`. */
class Recorder implements ReplayTarget {
  readonly name = 'portal';
  readonly unit = 'dossier' as const;
  readonly ratePerSecond = 10_000;
  readonly callsPerItem = 1;
  constructor(
    private readonly holder: string,
    private readonly seen: { holder: string; item: string }[],
    private readonly delayMs = 5,
  ) {}
  async send(item: string, _replayId: string, signal?: AbortSignal): Promise<ReplaySendResult> {
    await new Promise((r) => setTimeout(r, this.delayMs));
    signal?.throwIfAborted();
    this.seen.push({ holder: this.holder, item });
    return 'sent';
  }
}

/** A lease store that can be cut off from the database, as a frozen or partitioned process is. */
class Severable implements Pick<LeaseStore, 'acquire' | 'renew' | 'release'> {
  cut = false;
  constructor(private readonly inner: LeaseStore) {}
  acquire(subscriber: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    return this.cut ? Promise.reject(new Error('cut off')) : this.inner.acquire(subscriber, holder, ttlMs);
  }
  renew(lease: Lease, ttlMs: number): Promise<boolean> {
    return this.cut ? Promise.reject(new Error('cut off')) : this.inner.renew(lease, ttlMs);
  }
  release(lease: Lease): Promise<void> {
    return this.cut ? Promise.reject(new Error('cut off')) : this.inner.release(lease);
  }
}

/**
 * Holds one process's replay store at chosen points, so a test can stop it exactly where a race lies:
 * `transition` waits before the command is written; `running` waits after the list was read (the
 * process then acts on what it read earlier).
 */
class Gates {
  transition: Promise<void> | undefined;
  running: Promise<void> | undefined;
  /** Called once a held `running` list has been read. */
  onRunningHeld: (() => void) | undefined;
}

/** Runs `command` with the process's store transitions held for 400 ms (8 polls of the other process). */
async function withTransitionHeld(gates: Gates, command: () => Promise<unknown>): Promise<void> {
  let write!: () => void;
  gates.transition = new Promise((r) => (write = r));
  const commanding = command();
  await new Promise((r) => setTimeout(r, 400));
  write();
  gates.transition = undefined;
  await commanding;
}

function gated(store: ReplayStore, gates: Gates): ReplayStore {
  return {
    create: (run, items) => store.create(run, items),
    get: (id) => store.get(id),
    list: (query) => store.list(query),
    items: (id, from, limit) => store.items(id, from, limit),
    advance: (id, done, failed, at) => store.advance(id, done, failed, at),
    transition: async (id, command, at, error) => {
      await gates.transition;
      return store.transition(id, command, at, error);
    },
    running: async () => {
      const runs = await store.running();
      const held = gates.running;
      if (held !== undefined) {
        gates.onRunningHeld?.();
        await held;
      }
      return runs;
    },
  };
}

async function hubProcess(
  holder: string,
  seen: { holder: string; item: string }[],
  {
    delayMs = 5,
    ttlMs = TTL_MS,
    gates = new Gates(),
  }: { delayMs?: number; ttlMs?: number; gates?: Gates } = {},
) {
  const events = await PostgresEventStore.open({ connectionString: url, schema, poolSize: 4 });
  cleanups.push(() => events.close());
  const leases = new Severable(new PostgresLeaseStore(events.database));
  const service = new ReplayService({
    store: gated(await SqlReplayStore.open(PostgresDatabase.over(events.database, schema)), gates),
    targets: new Map([['portal', new Recorder(holder, seen, delayMs)]]),
    events,
    confirmAbove: 1000,
    chunkSize: 5,
    pollMs: 50,
    lease: { store: leases, holder, ttlMs },
  });
  cleanups.push(() => service.stop());
  return { events, leases, service, gates };
}

async function fill(events: PostgresEventStore): Promise<string[]> {
  const codes = Array.from({ length: DOSSIERS }, (_, i) => `D${String(i + 1).padStart(3, '0')}`);
  await events.append(
    codes.map((code, i) => ({
      stream: `dossier-${code}`,
      expectedVersion: ANY_VERSION,
      id: `e-${i}`,
      source: '/test',
      type: 'vn.gov.lgsp.dossier.submitted.v1',
      data: { dossierCode: code },
      extensions: {},
    })),
  );
  return codes;
}

/** Polls every 20 ms, for 20 s at most. */
const until = (what: string, check: () => boolean | Promise<boolean>) =>
  waitUntil(what, check, { timeoutMs: 20_000, pollMs: 20 });

describe('replay runs on PostgreSQL replicas', () => {
  it('executes a run in one process only, which the other can still pause and resume', async () => {
    const seen: { holder: string; item: string }[] = [];
    const a = await hubProcess('hub-a', seen, { ttlMs: STEADY_TTL_MS });
    const b = await hubProcess('hub-b', seen, { ttlMs: STEADY_TTL_MS });
    const codes = await fill(a.events);
    a.service.start();
    b.service.start();
    const { replay } = await b.service.run('portal', {}, { by: 'ops' });
    await until('20 items', () => seen.length >= 20);
    // Commands work from either process, whichever executes the run.
    await b.service.pause(replay.id, 'ops');
    await a.service.pause(replay.id, 'ops').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const pausedAt = seen.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.length).toBe(pausedAt);
    await a.service.resume(replay.id, 'ops');
    await until('completion', async () => (await a.service.get(replay.id)).state === 'completed');

    const executors = new Set(seen.map((s) => s.holder));
    // Before the pause one process sent everything; after the resume one process again (maybe the other).
    const before = new Set(seen.slice(0, pausedAt).map((s) => s.holder));
    const after = new Set(seen.slice(pausedAt).map((s) => s.holder));
    expect(before.size).toBe(1);
    expect(after.size).toBe(1);
    expect(executors.size).toBeLessThanOrEqual(2);
    // Every dossier sent, in order; the pause re-sends at most the item it stopped (none here: it is aborted).
    const items = seen.map((s) => s.item);
    expect([...new Set(items)]).toEqual(codes);
    expect(items.length).toBe(codes.length);
    expect(await b.service.get(replay.id)).toMatchObject({ state: 'completed', done: DOSSIERS, failed: 0 });
  });

  it('moves a run to another process when its holder is cut off, without skipping an item', async () => {
    const seen: { holder: string; item: string }[] = [];
    // 40 ms an item: the 60 items take 2.4 s, longer than the takeover.
    const a = await hubProcess('hub-a', seen, { delayMs: 40 });
    const codes = await fill(a.events);
    a.service.start();
    const { replay } = await a.service.run('portal', {}, { by: 'ops' });
    await until('5 items', () => seen.length >= 5);
    const b = await hubProcess('hub-b', seen, { delayMs: 40 });
    b.service.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.every((s) => s.holder === 'hub-a')).toBe(true);

    // hub-a can no longer renew: it stops within 80% of the TTL; hub-b takes over once the TTL has passed.
    const cutAt = Date.now();
    a.leases.cut = true;
    await until('hub-b sending', () => seen.some((s) => s.holder === 'hub-b'));
    const takeover = Date.now() - cutAt;
    expect(takeover).toBeGreaterThanOrEqual(TTL_MS * 0.5);
    await until('completion', async () => (await b.service.get(replay.id)).state === 'completed');

    const firstB = seen.findIndex((s) => s.holder === 'hub-b');
    // hub-a sent nothing once hub-b had started: never two processes at once.
    expect(seen.slice(firstB).every((s) => s.holder === 'hub-b')).toBe(true);
    // Nothing skipped: every dossier was sent, in order, by one or the other (the chunk hub-a had in
    // flight may be sent twice).
    const items = seen.map((s) => s.item);
    expect([...new Set(items)].sort()).toEqual(codes);
    expect(items.length - codes.length).toBeLessThanOrEqual(5);
    expect(await b.service.get(replay.id)).toMatchObject({ state: 'completed', done: DOSSIERS });
  });
  it('hands a run paused or cancelled by its executor to no other process before the new state is stored', async () => {
    const seen: { holder: string; item: string }[] = [];
    const a = await hubProcess('hub-a', seen, { ttlMs: STEADY_TTL_MS });
    const codes = await fill(a.events);
    a.service.start();
    const { replay } = await a.service.run('portal', {}, { by: 'ops' });
    await until('10 items', () => seen.length >= 10);
    const b = await hubProcess('hub-b', seen, { ttlMs: STEADY_TTL_MS });
    b.service.start();

    // hub-a, the executor, pauses: its run stops, then the pause is written, slowly. hub-b polls
    // every 50 ms meanwhile; it must not find the run free to take.
    await withTransitionHeld(a.gates, () => a.service.pause(replay.id, 'ops'));
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.map((s) => s.holder).filter((h) => h !== 'hub-a')).toEqual([]);
    const paused = await b.service.get(replay.id);
    expect(paused).toMatchObject({ state: 'paused', done: seen.length });

    // The same for a cancel by whichever process executes the resumed run.
    const pausedAt = seen.length;
    await b.service.resume(replay.id, 'ops');
    await until('5 more items', () => seen.length >= pausedAt + 5);
    const executor = seen.at(-1)?.holder === 'hub-a' ? a : b;
    await withTransitionHeld(executor.gates, () => executor.service.cancel(replay.id, 'ops'));
    const cancelledAt = seen.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.length).toBe(cancelledAt);
    expect(new Set(seen.slice(pausedAt).map((s) => s.holder)).size).toBe(1);
    expect(await a.service.get(replay.id)).toMatchObject({ state: 'cancelled', done: cancelledAt });
    // Nothing sent twice, nothing skipped up to the cancel.
    expect(seen.map((s) => s.item)).toEqual(codes.slice(0, cancelledAt));
  });

  it('re-reads a run after taking its lease: a listing read before a pause starts nothing', async () => {
    const seen: { holder: string; item: string }[] = [];
    const a = await hubProcess('hub-a', seen, { ttlMs: STEADY_TTL_MS });
    await fill(a.events);
    a.service.start();
    const { replay } = await a.service.run('portal', {}, { by: 'ops' });
    await until('10 items', () => seen.length >= 10);

    // hub-b reads the running runs (the run among them) while hub-a executes it, and acts on that
    // list only after hub-a has paused the run and given its lease up.
    const b = await hubProcess('hub-b', seen, { ttlMs: STEADY_TTL_MS });
    let deliver!: () => void;
    b.gates.running = new Promise((r) => (deliver = r));
    const read = new Promise<void>((r) => (b.gates.onRunningHeld = r));
    b.service.start();
    await read;
    b.gates.running = undefined;
    await a.service.pause(replay.id, 'ops');
    const pausedAt = seen.length;
    deliver();
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.length).toBe(pausedAt);
    expect(seen.every((s) => s.holder === 'hub-a')).toBe(true);
    expect(await b.service.get(replay.id)).toMatchObject({ state: 'paused', done: pausedAt });
  });
});
