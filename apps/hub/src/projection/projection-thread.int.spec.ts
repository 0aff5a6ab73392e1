import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { threadId } from 'node:worker_threads';
import { ANY_VERSION, type EventToAppend } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { SqlDossierViewRepository } from '#lgsp/projections';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { type Logger } from '#lgsp/observability';
import { ProjectionThread, type ProjectionThreadOptions } from './projection-thread.js';
import type { ProjectionWorkerData } from './protocol.js';

const REAL_WORKER = new URL('./test-fixtures/projection-worker.mjs', import.meta.url);
const MISBEHAVING_WORKER = new URL('./test-fixtures/misbehaving-worker.mjs', import.meta.url);

let dir: string;
let store: SqliteEventStore;
let projectionDb: SqliteDatabase;
let views: SqlDossierViewRepository;
const threads: ProjectionThread[] = [];
let logs: { level: string; obj: object; msg: string }[];

const logger: Logger = {
  debug: () => undefined,
  info: (obj, msg) => logs.push({ level: 'info', obj, msg }),
  warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }),
  error: (obj, msg) => logs.push({ level: 'error', obj, msg }),
};

/** workerData.test tells the misbehaving worker how to fail. */
type TestWorkerData = Partial<ProjectionWorkerData> & { test?: { behaviour: string; marker?: string } };

function projectionThread(
  options: Omit<Partial<ProjectionThreadOptions>, 'data'> & { data?: TestWorkerData } = {},
): ProjectionThread {
  const thread = new ProjectionThread({
    store,
    views,
    logger,
    workerUrl: REAL_WORKER,
    restart: { initialDelayMs: 20, maxDelayMs: 100 },
    ...options,
    data: {
      eventsFile: join(dir, 'events.db'),
      projectionsFile: join(dir, 'projections.db'),
      batchSize: 100,
      logLevel: 'silent',
      pollIntervalMs: 100,
      ...options.data,
    },
  });
  threads.push(thread);
  return thread;
}

let seq = 0;
function dossierEvent(code: string, type: string, data: object): EventToAppend {
  seq += 1;
  return {
    stream: `dossier-${code}`,
    expectedVersion: ANY_VERSION,
    id: `evt-${seq}`,
    source: '/communes/21040',
    type,
    data: { dossierCode: code, provinceCode: '51', communeCode: '21040', ...data },
    extensions: {},
    provinceCode: '51',
    communeCode: '21040',
  };
}
const statusChanged = (code: string, status: number) =>
  dossierEvent(code, 'vn.gov.lgsp.dossier.status-changed.v1', {
    status,
    changedAt: '2025-07-02T08:00:00+07:00',
  });

/** The checkpoint the worker committed, read synchronously on a connection of its own. */
function committedCheckpoint(): number {
  const db = new DatabaseSync(join(dir, 'projections.db'), { readOnly: true });
  try {
    const row = db.prepare('SELECT position FROM dossier_views_checkpoint').get();
    return row === undefined ? 0 : (row.position as number);
  } finally {
    db.close();
  }
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lgsp-projection-thread-'));
  store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  projectionDb = SqliteDatabase.open(join(dir, 'projections.db'));
  views = new SqlDossierViewRepository(projectionDb);
  logs = [];
});

afterEach(async () => {
  for (const thread of threads.splice(0)) await thread.stop();
  await projectionDb.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ProjectionThread', () => {
  it('projects in a worker thread, which makes progress while the main thread is blocked', async () => {
    const thread = projectionThread();
    await thread.start();
    expect(thread.state).toBe('running');
    expect(thread.threadId).toBeGreaterThan(0);
    expect(thread.threadId).not.toBe(threadId);

    await store.append([statusChanged('D-1', 2), statusChanged('D-2', 4)]);
    await store.append([statusChanged('D-1', 6)]);
    // No await from here on: the main thread's event loop does not turn, so whatever is projected
    // meanwhile was projected by another thread (woken by its own poll).
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const deadline = Date.now() + 10_000;
    while (committedCheckpoint() < 3 && Date.now() < deadline) Atomics.wait(pause, 0, 0, 20);
    expect(committedCheckpoint()).toBe(3);

    expect(await views.get('D-1')).toMatchObject({ status: 6, eventCount: 2 });
    expect(await thread.lag()).toEqual([
      {
        name: 'projection.dossiers',
        checkpoint: 3,
        head: 3,
        lagEvents: 0,
        lagSeconds: 0,
        state: 'running',
        attempts: 0,
      },
    ]);
  });

  it('wakes the worker on append, without waiting for its poll', async () => {
    const thread = projectionThread({ data: { pollIntervalMs: 60_000 } });
    await thread.start();

    for (let i = 1; i <= 3; i++) {
      await store.append([statusChanged(`D-${i}`, 2)]);
      const started = Date.now();
      await eventually(() => committedCheckpoint() === i, 2000);
      expect(Date.now() - started).toBeLessThan(2000);
    }
  });

  it('reports the lag of events the worker has not processed, and stopped once stopped', async () => {
    const thread = projectionThread();
    await thread.start();
    await store.append([statusChanged('D-1', 2)]);
    await eventually(() => committedCheckpoint() === 1);
    await thread.stop();
    expect(thread.state).toBe('stopped');
    expect(thread.threadId).toBeUndefined();

    await store.append([statusChanged('D-1', 4), statusChanged('D-1', 6)]);
    const [lag] = await thread.lag();
    expect(lag).toMatchObject({ checkpoint: 1, head: 3, lagEvents: 2, state: 'stopped', attempts: 0 });
    expect(lag?.lagSeconds).toBeGreaterThanOrEqual(0);
    expect(committedCheckpoint()).toBe(1);

    const next = projectionThread();
    await next.start();
    await eventually(() => committedCheckpoint() === 3);
    expect(await views.get('D-1')).toMatchObject({ status: 6, eventCount: 3 });
  });

  it('restarts a worker that died, reporting retrying until the new one is ready', async () => {
    const marker = join(dir, 'crashed-once');
    const thread = projectionThread({
      workerUrl: MISBEHAVING_WORKER,
      restart: { initialDelayMs: 600, maxDelayMs: 600 },
      data: { test: { behaviour: 'crash-once', marker } },
    });
    await thread.start();
    await store.append([statusChanged('D-1', 2)]);

    await eventually(() => thread.state === 'restarting');
    expect(existsSync(marker)).toBe(true);
    const [lag] = await thread.lag();
    expect(lag).toMatchObject({ state: 'retrying', attempts: 1, checkpoint: 0, lagEvents: 1 });
    expect(lag?.lastError).toMatch(/exited with code 1: boom/);
    expect(logs.find((l) => l.level === 'error')).toMatchObject({
      msg: 'projection worker died; restarting it',
      obj: { exitCode: 1, restarts: 1 },
    });

    await eventually(() => thread.state === 'running' && committedCheckpoint() === 1);
    expect(logs.some((l) => l.msg === 'projection worker restarted')).toBe(true);
    expect((await thread.lag())[0]).toMatchObject({ state: 'running', attempts: 0, lagEvents: 0 });
  });

  it('fails to start when the first worker dies before it is ready, leaving nothing running', async () => {
    const thread = projectionThread({
      workerUrl: MISBEHAVING_WORKER,
      data: { test: { behaviour: 'fail-at-start' } },
    });
    await expect(thread.start()).rejects.toThrow(/exited with code 1: cannot open the projection database/);
    expect(thread.state).toBe('stopped');
    expect(thread.threadId).toBeUndefined();
  });

  it('terminates a worker that does not stop in time', async () => {
    const thread = projectionThread({
      workerUrl: MISBEHAVING_WORKER,
      stopTimeoutMs: 200,
      data: { test: { behaviour: 'ignore-stop' } },
    });
    await thread.start();
    const started = Date.now();
    await thread.stop();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(thread.state).toBe('stopped');
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'projection worker did not stop in time; terminating it',
      }),
    );
  });
});
