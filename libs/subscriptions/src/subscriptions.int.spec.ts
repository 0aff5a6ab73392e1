import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EventToAppend, type StoredEvent } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { PAYMENT_COMPLETED, STATUS_CHANGED, statusChange } from '#lgsp/event-store/testing';
import { Subscriptions, type Subscriber, type SubscriptionStatus } from '#lgsp/subscriptions';
import { type Logger } from '#lgsp/observability';

let dir: string;
let file: string;
const cleanups: (() => Promise<void>)[] = [];

function openStore(): SqliteEventStore {
  const store = SqliteEventStore.open({ file });
  cleanups.push(() => store.close());
  return store;
}

function manager(
  store: SqliteEventStore,
  options: {
    pollIntervalMs?: number;
    logger?: Logger;
    onStatus?: (name: string, status: SubscriptionStatus) => void;
  } = {},
) {
  const subscriptions = new Subscriptions({
    store,
    retry: { initialDelayMs: 5, maxDelayMs: 20 },
    ...options,
  });
  cleanups.unshift(() => subscriptions.stop());
  return subscriptions;
}

/** A started manager of `store` running `subscribers`. */
async function running(
  store: SqliteEventStore,
  subscribers: Subscriber[],
  options: Parameters<typeof manager>[1] = {},
): Promise<Subscriptions> {
  const subscriptions = manager(store, options);
  for (const subscriber of subscribers) subscriptions.register(subscriber);
  await subscriptions.start();
  return subscriptions;
}

let seq = 0;
function event(overrides: Partial<EventToAppend> = {}): EventToAppend {
  seq += 1;
  return statusChange(seq, { stream: `dossier-${seq % 5}`, data: { n: seq }, ...overrides });
}

async function appendMany(store: SqliteEventStore, n: number, overrides: Partial<EventToAppend> = {}) {
  await Promise.all(Array.from({ length: n }, () => store.append([event(overrides)])));
}

/** A subscriber that records what it was given. */
function recorder(name: string, options: Partial<Subscriber> = {}) {
  const batches: number[][] = [];
  const subscriber: Subscriber = {
    name,
    async handle(events: readonly StoredEvent[]) {
      batches.push(events.map((e) => e.position));
    },
    ...options,
  };
  return { subscriber, batches, positions: () => batches.flat() };
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lgsp-subscriptions-'));
  file = join(dir, 'events.db');
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('Subscriptions', () => {
  it('delivers the whole log in position order, in batches, and saves the checkpoint', async () => {
    const store = openStore();
    await appendMany(store, 250);
    const r = recorder('test.in-order', { batchSize: 40 });
    const subscriptions = await running(store, [r.subscriber]);

    await eventually(() => r.positions().length === 250);
    expect(r.positions()).toEqual(range(1, 250));
    expect(Math.max(...r.batches.map((b) => b.length))).toBe(40);
    await eventually(async () => (await store.checkpoints.load('test.in-order')) === 250);
    const [lag] = await subscriptions.lag();
    expect(lag).toMatchObject({
      name: 'test.in-order',
      checkpoint: 250,
      head: 250,
      lagEvents: 0,
      lagSeconds: 0,
    });
    expect(lag?.state).toBe('running');
  });

  it('wakes on append when caught up, without waiting for the poll interval', async () => {
    const store = openStore();
    const r = recorder('test.live');
    const subscriptions = await running(store, [r.subscriber], { pollIntervalMs: 60_000 });
    await eventually(() => subscriptions.runner('test.live')?.checkpoint === 0);

    await appendMany(store, 3);
    await eventually(() => r.positions().length === 3, 1000);
    await store.append([event()]);
    await eventually(() => r.positions().length === 4, 1000);
    expect(r.positions()).toEqual([1, 2, 3, 4]);
  });

  it('resumes after the checkpoint with a new runner on the re-opened store', async () => {
    let store = openStore();
    await appendMany(store, 30);
    const first = recorder('test.resume', { batchSize: 10 });
    const subscriptions = await running(store, [first.subscriber]);
    await eventually(() => first.positions().length === 30);
    await subscriptions.stop();
    expect(subscriptions.runner('test.resume')?.state).toBe('stopped');
    await appendMany(store, 5);
    await store.close();

    store = openStore();
    await appendMany(store, 5);
    const second = recorder('test.resume', { batchSize: 10 });
    await running(store, [second.subscriber]);
    await eventually(() => second.positions().length === 10);
    expect(second.positions()).toEqual(range(31, 40));
    expect(first.positions()).toEqual(range(1, 30));
  });

  it('stops only after the batch in flight was handled and checkpointed', async () => {
    const store = openStore();
    await appendMany(store, 5);
    let release: () => void = () => undefined;
    let entered = false;
    const subscriptions = manager(store);
    subscriptions.register({
      name: 'test.graceful',
      async handle() {
        entered = true;
        await new Promise<void>((r) => (release = r));
      },
    });
    await subscriptions.start();
    await eventually(() => entered);

    let stopped = false;
    const stopping = subscriptions.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(await store.checkpoints.load('test.graceful')).toBe(5);
  });

  it('retries a failing batch with backoff and does not advance the checkpoint until it succeeds', async () => {
    const store = openStore();
    await appendMany(store, 3);
    const deliveries: number[][] = [];
    let failuresLeft = 4;
    const warnings: object[] = [];
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (obj) => warnings.push(obj),
      error: (obj) => warnings.push(obj),
    };
    const subscriptions = manager(store, { logger });
    const runner = subscriptions.register({
      name: 'test.retry',
      async handle(events) {
        deliveries.push(events.map((e) => e.position));
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          throw new Error('national portal answered 503');
        }
      },
    });
    await subscriptions.start();

    await eventually(() => deliveries.length >= 2);
    const failing = await runner.lag();
    expect(failing).toMatchObject({
      checkpoint: 0,
      head: 3,
      lagEvents: 3,
      lastError: 'national portal answered 503',
    });
    expect(failing.attempts).toBeGreaterThanOrEqual(1);
    expect(['retrying', 'running']).toContain(failing.state);
    expect(await store.checkpoints.load('test.retry')).toBe(0);

    await eventually(async () => (await store.checkpoints.load('test.retry')) === 3);
    expect(deliveries).toEqual([
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 3],
    ]);
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toMatchObject({
      subscriber: 'test.retry',
      attempts: 1,
      fromPosition: 1,
      toPosition: 3,
    });
    const recovered = await runner.lag();
    expect(recovered).toMatchObject({ state: 'running', attempts: 0, lagEvents: 0 });
    expect(recovered).not.toHaveProperty('lastError');
  });

  it('reports retrying while it waits for the next attempt', async () => {
    const store = openStore();
    await appendMany(store, 1);
    const subscriptions = new Subscriptions({ store, retry: { initialDelayMs: 60_000 } });
    cleanups.unshift(() => subscriptions.stop());
    const runner = subscriptions.register({
      name: 'test.retrying',
      async handle() {
        throw new Error('boom');
      },
    });
    await subscriptions.start();
    await eventually(() => runner.state === 'retrying');
    expect(await runner.lag()).toMatchObject({
      state: 'retrying',
      attempts: 1,
      lastError: 'boom',
      checkpoint: 0,
    });
    const stopStarted = Date.now();
    await subscriptions.stop();
    expect(Date.now() - stopStarted).toBeLessThan(1000);
    expect(runner.state).toBe('stopped');
  });

  it('hands over only the events the filter matches, and still moves the checkpoint past the others', async () => {
    const store = openStore();
    await store.append([
      event({ type: STATUS_CHANGED, provinceCode: '51' }),
      event({ type: PAYMENT_COMPLETED, provinceCode: '51' }),
      event({ type: PAYMENT_COMPLETED, provinceCode: '08' }),
      event({ type: STATUS_CHANGED, provinceCode: '08' }),
      event({ type: PAYMENT_COMPLETED, provinceCode: '51' }),
    ]);
    await appendMany(store, 10, { type: STATUS_CHANGED, provinceCode: '08' });
    const byType = recorder('test.payments', { filter: { types: [PAYMENT_COMPLETED] }, batchSize: 5 });
    const byProvince = recorder('test.province-08', { filter: { provinceCodes: ['08'] } });
    const both = recorder('test.payments-51', {
      filter: { types: [PAYMENT_COMPLETED], provinceCodes: ['51'] },
      batchSize: 5,
    });
    const subscriptions = await running(
      store,
      [byType, byProvince, both].map((r) => r.subscriber),
    );

    await eventually(async () => (await subscriptions.lag()).every((l) => l.checkpoint === 15));
    expect(byType.positions()).toEqual([2, 3, 5]);
    expect(byProvince.positions()).toEqual([3, 4, ...range(6, 15)]);
    expect(both.batches).toEqual([[2, 5]]);
  });

  it('measures lag in events and in seconds since the first unprocessed event', async () => {
    const store = openStore();
    await appendMany(store, 3);
    await store.checkpoints.save('test.lag', 1);
    const [second] = await store.readAll({ after: 1, limit: 1 });
    const now = Date.parse(second?.recordedAt ?? '') + 42_000;
    const subscriptions = new Subscriptions({ store, clock: { now: () => now } });
    subscriptions.register(recorder('test.lag').subscriber);

    expect(await subscriptions.lag()).toEqual([
      {
        name: 'test.lag',
        checkpoint: 1,
        head: 3,
        lagEvents: 2,
        lagSeconds: 42,
        state: 'stopped',
        attempts: 0,
      },
    ]);
    await store.checkpoints.save('test.lag', 3);
    expect(await subscriptions.lag()).toEqual([
      {
        name: 'test.lag',
        checkpoint: 3,
        head: 3,
        lagEvents: 0,
        lagSeconds: 0,
        state: 'stopped',
        attempts: 0,
      },
    ]);
  });

  it('lets a subscriber with its own checkpoint save it with every page, and resumes from it', async () => {
    const store = openStore();
    await appendMany(store, 6, { type: STATUS_CHANGED });
    await appendMany(store, 4, { type: PAYMENT_COMPLETED });
    let saved = 2;
    const pages: { positions: number[]; checkpoint: number }[] = [];
    const subscriptions = manager(store);
    subscriptions.register({
      name: 'test.own',
      filter: { types: [PAYMENT_COMPLETED] },
      batchSize: 4,
      ownCheckpoint: { load: async () => saved },
      async handle(events, page) {
        pages.push({ positions: events.map((e) => e.position), checkpoint: page.checkpoint });
        saved = page.checkpoint;
      },
    });
    await subscriptions.start();

    await eventually(() => saved === 10);
    expect(pages).toEqual([
      { positions: [], checkpoint: 6 },
      { positions: [7, 8, 9, 10], checkpoint: 10 },
    ]);
    expect(await store.checkpoints.load('test.own')).toBe(0);
    expect(await subscriptions.lag()).toMatchObject([{ checkpoint: 10, head: 10, lagEvents: 0 }]);
  });

  it('saves the checkpoint of a subscriber that asks for it without a sync of its own, the others synced', async () => {
    const store = openStore();
    await appendMany(store, 30);
    const saves: [string, number, unknown][] = [];
    const save = store.checkpoints.save.bind(store.checkpoints);
    store.checkpoints.save = async (name, position, options) => {
      saves.push([name, position, options]);
      return save(name, position, options);
    };
    const light = recorder('test.light', { batchSize: 10, checkpointWithNextCommit: true });
    const plain = recorder('test.plain', { batchSize: 10 });
    await running(store, [light.subscriber, plain.subscriber]);
    await eventually(async () => (await store.checkpoints.load('test.light')) === 30);
    await eventually(async () => (await store.checkpoints.load('test.plain')) === 30);
    expect(saves.filter(([name]) => name === 'test.light').map(([, p, o]) => [p, o])).toEqual([
      [10, { withNextCommit: true }],
      [20, { withNextCommit: true }],
      [30, { withNextCommit: true }],
    ]);
    expect(saves.filter(([name]) => name === 'test.plain').map(([, p, o]) => [p, o])).toEqual([
      [10, undefined],
      [20, undefined],
      [30, undefined],
    ]);
  });

  it('reports every change of state, attempts and last error', async () => {
    const store = openStore();
    await appendMany(store, 1);
    const statuses: [string, SubscriptionStatus][] = [];
    let failuresLeft = 2;
    const subscriptions = manager(store, {
      onStatus: (name, status) => statuses.push([name, status]),
    });
    subscriptions.register({
      name: 'test.status',
      async handle() {
        if (failuresLeft-- > 0) throw new Error('down');
      },
    });
    await subscriptions.start();
    await eventually(async () => (await store.checkpoints.load('test.status')) === 1);
    await subscriptions.stop();
    expect(statuses).toEqual([
      ['test.status', { state: 'running', attempts: 0 }],
      ['test.status', { state: 'retrying', attempts: 1, lastError: 'down' }],
      ['test.status', { state: 'retrying', attempts: 2, lastError: 'down' }],
      ['test.status', { state: 'running', attempts: 0 }],
      ['test.status', { state: 'stopped', attempts: 0 }],
    ]);
  });

  it("lets a subscriber read another layer of the same log (its own store), the others the manager's", async () => {
    const store = openStore();
    await appendMany(store, 30);
    // A layer over the log that changes what it reads (as the store opening personal data does).
    const opened: SqliteEventStore = Object.assign(Object.create(store) as SqliteEventStore, {
      readAll: async (options?: Parameters<SqliteEventStore['readAll']>[0]) =>
        (await store.readAll(options)).map((e) => ({ ...e, data: { opened: true } })),
    });
    const seen = new Map<string, unknown[]>();
    const reader = (name: string): Subscriber => ({
      name,
      async handle(events) {
        seen.set(name, [...(seen.get(name) ?? []), ...events.map((e) => e.data)]);
      },
    });
    const subscriptions = manager(opened);
    subscriptions.register(reader('test.layered'));
    subscriptions.register(reader('test.as-stored'), { store });
    await subscriptions.start();
    await eventually(
      () => seen.get('test.layered')?.length === 30 && seen.get('test.as-stored')?.length === 30,
    );
    expect(seen.get('test.layered')).toEqual(Array.from({ length: 30 }, () => ({ opened: true })));
    expect(seen.get('test.as-stored')).toEqual(range(1, 30).map((_, i) => ({ n: seq - 29 + i })));
    // Both keep their checkpoints in the one log's store, and report lag from it.
    await eventually(async () => (await subscriptions.lag()).every((l) => l.checkpoint === 30));
    expect(await store.checkpoints.load('test.as-stored')).toBe(30);
    expect((await subscriptions.lag()).map((l) => [l.name, l.checkpoint])).toEqual([
      ['test.layered', 30],
      ['test.as-stored', 30],
    ]);
  });

  it('refuses two subscribers with one name', () => {
    const store = openStore();
    const subscriptions = manager(store);
    subscriptions.register(recorder('test.same').subscriber);
    expect(() => subscriptions.register(recorder('test.same').subscriber)).toThrow(TypeError);
  });
});
