import { randomBytes } from 'node:crypto';
import {
  ANY_VERSION,
  type EventToAppend,
  type Lease,
  type LeaseStore,
  type StoredEvent,
} from '#lgsp/event-store';
import { PostgresEventStore, PostgresLeaseStore } from '#lgsp/event-store/postgres';
import { Subscriptions, type Subscriber } from '#lgsp/subscriptions';
import { POSTGRES_URL as url, pgClient as admin } from '../../../test/support/postgres.js';

// Subscriber leases on the real PostgreSQL: two "processes" (two stores, two Subscriptions managers,
// two holders) on one schema, as hub replicas run them.

let schema: string;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  schema = `lease_test_${randomBytes(6).toString('hex')}`;
  (await admin()).end().catch(() => undefined);
});

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => undefined);
  const client = await admin();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${client.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
});

async function openStore(): Promise<PostgresEventStore> {
  const store = await PostgresEventStore.open({ connectionString: url, schema, poolSize: 4 });
  cleanups.push(() => store.close());
  return store;
}

let counter = 0;
function event(stream: string): EventToAppend {
  counter += 1;
  return {
    stream,
    expectedVersion: ANY_VERSION,
    id: `e-${counter}-${randomBytes(4).toString('hex')}`,
    source: '/test',
    type: 'vn.gov.lgsp.dossier.status-changed.v1',
    data: { n: counter },
    extensions: {},
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** Records which process handled which positions. */
function recorder(seen: { holder: string; position: number }[], holder: string): Subscriber {
  return {
    name: 'relay.test',
    batchSize: 7,
    async handle(events: readonly StoredEvent[]) {
      for (const e of events) seen.push({ holder, position: e.position });
    },
  };
}

/** A lease store whose holder can be cut off from the database, as a frozen or partitioned process is. */
class Severable implements LeaseStore {
  severed = false;
  constructor(private readonly inner: LeaseStore) {}
  private check(): void {
    if (this.severed) throw new Error('connection lost (test)');
  }
  async acquire(subscriber: string, holder: string, ttlMs: number) {
    this.check();
    return this.inner.acquire(subscriber, holder, ttlMs);
  }
  async renew(lease: Lease, ttlMs: number) {
    this.check();
    return this.inner.renew(lease, ttlMs);
  }
  async release(lease: Lease) {
    this.check();
    return this.inner.release(lease);
  }
  async saveCheckpoint(lease: Lease, position: number) {
    this.check();
    return this.inner.saveCheckpoint(lease, position);
  }
  list() {
    return this.inner.list();
  }
}

describe('PostgresLeaseStore', () => {
  it('gives a lease to one holder at a time, and to another only once it lapsed, with a higher epoch', async () => {
    const store = await openStore();
    const leases = new PostgresLeaseStore(store.database);
    const a = await leases.acquire('s', 'A', 600);
    expect(a).toEqual({ subscriber: 's', holder: 'A', epoch: 1 });
    expect(await leases.acquire('s', 'B', 600)).toBeUndefined();
    expect(await leases.acquire('other', 'B', 600)).toEqual({ subscriber: 'other', holder: 'B', epoch: 1 });
    await sleep(700);
    const b = await leases.acquire('s', 'B', 600);
    expect(b).toEqual({ subscriber: 's', holder: 'B', epoch: 2 });
    // The old holder can neither renew nor write the checkpoint any more.
    expect(await leases.renew(a!, 600)).toBe(false);
    expect(await leases.saveCheckpoint(a!, 10)).toBe(false);
    expect(await store.checkpoints.load('s')).toBe(0);
    expect(await leases.saveCheckpoint(b!, 5)).toBe(true);
    expect(await store.checkpoints.load('s')).toBe(5);
    expect((await leases.list()).map((l) => [l.subscriber, l.holder, l.epoch])).toEqual([
      ['other', 'B', 1],
      ['s', 'B', 2],
    ]);
  });

  it('keeps a renewed lease past its first TTL, and frees a released one at once', async () => {
    const store = await openStore();
    const leases = new PostgresLeaseStore(store.database);
    const a = (await leases.acquire('s', 'A', 500))!;
    for (let i = 0; i < 4; i++) {
      await sleep(200);
      expect(await leases.renew(a, 500)).toBe(true);
    }
    expect(await leases.acquire('s', 'B', 500)).toBeUndefined();
    await leases.release(a);
    expect(await leases.acquire('s', 'B', 500)).toMatchObject({ holder: 'B', epoch: 2 });
  });

  it('refuses a bad TTL and a bad checkpoint', async () => {
    const leases = new PostgresLeaseStore((await openStore()).database);
    await expect(leases.acquire('s', 'A', 0)).rejects.toThrow(/TTL/);
    const a = (await leases.acquire('s', 'A', 1000))!;
    await expect(leases.saveCheckpoint(a, -1)).rejects.toThrow(/non-negative/);
  });
});

describe('subscribers with leases across processes', () => {
  it('one of two processes runs a subscriber: every event is handled once, in order', async () => {
    const [s1, s2] = [await openStore(), await openStore()];
    const seen: { holder: string; position: number }[] = [];
    // Not about takeovers (the next test is): a TTL no slow renewal on a loaded machine can outlast, so
    // that the lease never lapses to the other process half-way.
    const ttlMs = 15_000;
    const managers = [
      new Subscriptions({
        store: s1,
        pollIntervalMs: 50,
        lease: { store: new PostgresLeaseStore(s1.database), holder: 'A', ttlMs },
      }),
      new Subscriptions({
        store: s2,
        pollIntervalMs: 50,
        lease: { store: new PostgresLeaseStore(s2.database), holder: 'B', ttlMs },
      }),
    ];
    managers[0]!.register(recorder(seen, 'A'));
    managers[1]!.register(recorder(seen, 'B'));
    cleanups.unshift(async () => {
      for (const m of managers) await m.stop();
    });
    for (const m of managers) await m.start();

    // Appends from both processes, concurrently.
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? s1 : s2).append([event(`dossier-${i % 3}`)])),
    );
    const head = (await s1.head()).position;
    await eventually(() => seen.length >= head);
    await sleep(300);
    expect(seen.map((s) => s.position)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expect(new Set(seen.map((s) => s.holder)).size).toBe(1);
    const lags = [...(await managers[0]!.lag()), ...(await managers[1]!.lag())];
    expect(lags.map((l) => l.state).sort()).toEqual(['running', 'standby']);
    expect(new Set(lags.map((l) => l.leaseHolder))).toEqual(new Set([seen[0]!.holder]));
  });

  it('a stopped holder hands over at once; a cut-off holder is replaced after its TTL; nothing is missed', async () => {
    const [s1, s2] = [await openStore(), await openStore()];
    const seen: { holder: string; position: number }[] = [];
    const severable = new Severable(new PostgresLeaseStore(s1.database));
    const a = new Subscriptions({
      store: s1,
      pollIntervalMs: 50,
      retry: { initialDelayMs: 50, maxDelayMs: 200 },
      lease: { store: severable, holder: 'A', ttlMs: 1200 },
    });
    a.register(recorder(seen, 'A'));
    await a.start();
    await s1.append([event('dossier-x'), event('dossier-y')]);
    await eventually(() => seen.length === 2);

    const b = new Subscriptions({
      store: s2,
      pollIntervalMs: 50,
      lease: { store: new PostgresLeaseStore(s2.database), holder: 'B', ttlMs: 1200 },
    });
    b.register(recorder(seen, 'B'));
    cleanups.unshift(async () => {
      await a.stop();
      await b.stop();
    });
    await b.start();
    await s2.append([event('dossier-x')]);
    await eventually(() => seen.length === 3);
    expect(seen.map((s) => s.holder)).toEqual(['A', 'A', 'A']);

    // A loses the database (frozen, partitioned): it stops acting within 80% of the TTL, B takes over.
    severable.severed = true;
    const cutAt = Date.now();
    await s2.append([event('dossier-z')]);
    await eventually(() => seen.some((s) => s.holder === 'B'), 10_000);
    const takeoverMs = Date.now() - cutAt;
    expect(takeoverMs).toBeLessThan(1200 + 1200 / 3 + 1000);
    for (let i = 0; i < 5; i++) await s1.append([event(`dossier-${i}`)]);
    const head = (await s2.head()).position;
    await eventually(() => seen.length >= head + 1);
    await sleep(200);
    // B started from A's last checkpoint. A handled position 4 while its lease was still valid on its
    // side but could not save the checkpoint: that one batch is redone by B (at least once), and a
    // failed checkpoint write was retried alone, without handling the batch again.
    const byA = seen.filter((s) => s.holder === 'A').map((s) => s.position);
    const byB = seen.filter((s) => s.holder === 'B').map((s) => s.position);
    expect(byA).toEqual([1, 2, 3, 4]);
    expect(byB).toEqual(Array.from({ length: head - 3 }, (_, i) => i + 4));

    // B stops gracefully: it releases the lease, and A (reconnected) takes over without waiting a TTL.
    severable.severed = false;
    await b.stop();
    const releasedAt = Date.now();
    await s1.append([event('dossier-after')]);
    await eventually(() => seen.length === head + 2, 10_000);
    expect(seen[seen.length - 1]).toEqual({ holder: 'A', position: head + 1 });
    expect(Date.now() - releasedAt).toBeLessThan(1200);
  });
});
