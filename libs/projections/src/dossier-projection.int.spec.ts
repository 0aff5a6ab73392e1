import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANY_VERSION, SqliteEventStore, type EventToAppend } from '#lgsp/event-store';
import { DatabaseSync } from 'node:sqlite';
import { DossierProjection, SqliteDossierViewRepository, openProjectionDatabase } from '#lgsp/projections';
import { Subscriptions } from '#lgsp/subscriptions';

let dir: string;
let store: SqliteEventStore;
let subscriptions: Subscriptions | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lgsp-projections-'));
  store = SqliteEventStore.open({ file: join(dir, 'events.db') });
});

afterEach(async () => {
  await subscriptions?.stop();
  subscriptions = undefined;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
function dossierEvent(
  code: string,
  type: string,
  data: object,
  provinceCode = '51',
  communeCode = '21040',
): EventToAppend {
  seq += 1;
  return {
    stream: `dossier-${code}`,
    expectedVersion: ANY_VERSION,
    id: `evt-${seq}`,
    source: `/communes/${communeCode}`,
    type,
    data: { dossierCode: code, provinceCode, communeCode, ...data },
    extensions: {},
    provinceCode,
    communeCode,
  };
}

const submitted = (code: string, fees: number[], provinceCode = '51', communeCode = '21040') =>
  dossierEvent(
    code,
    'vn.gov.lgsp.dossier.submitted.v1',
    {
      procedureCode: '1.001193',
      agencyCode: '000.00.15.H51',
      channel: 'online',
      applicant: { fullName: 'Lê Văn Tám', idNumber: '051090001234' },
      receivedAt: '2025-07-01T08:00:00+07:00',
      fees: fees.map((amount, i) => ({ name: `Lệ phí ${i}`, amount })),
    },
    provinceCode,
    communeCode,
  );
const status = (code: string, value: number) =>
  dossierEvent(code, 'vn.gov.lgsp.dossier.status-changed.v1', {
    status: value,
    changedAt: '2025-07-02T08:00:00+07:00',
  });
const paid = (code: string, transactionId: string, amount: number) =>
  dossierEvent(code, 'vn.gov.lgsp.payment.completed.v1', {
    paymentRef: `PR-${code}`,
    transactionId,
    amount,
    paidAt: '2025-07-02T09:00:00+07:00',
  });
const failed = (code: string) =>
  dossierEvent(code, 'vn.gov.lgsp.payment.failed.v1', {
    paymentRef: `PR-${code}`,
    failedAt: '2025-07-02T09:00:00+07:00',
    reason: 'bank timeout',
  });

async function caughtUp(): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const lag = await subscriptions?.lag();
    if (lag?.every((l) => l.lagEvents === 0)) return;
    if (Date.now() > deadline) throw new Error(`projection did not catch up: ${JSON.stringify(lag)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('DossierProjection', () => {
  it('projects the dossiers once the subscriber has caught up', async () => {
    const repository = new SqliteDossierViewRepository(store.database);
    await store.append([submitted('D-1', [8000, 3000]), submitted('D-2', [50000], '08', '02230')]);
    await store.append([status('D-1', 2), status('D-1', 6), failed('D-1')]);
    await Promise.all([
      store.append([paid('D-1', 'TX-1', 11000)]),
      store.append([status('D-2', 4)]),
      store.append([
        dossierEvent('D-3', 'vn.gov.lgsp.dossier.transferred.v1', {
          fromAgencyCode: '000.00.15.H51',
          toAgencyCode: '000.00.16.H51',
          transferredAt: '2025-07-02T10:00:00+07:00',
        }),
      ]),
      store.append([{ ...dossierEvent('D-1', 'vn.gov.lgsp.other.v1', {}), stream: 'other' }]),
    ]);
    // A repeated bank callback: a new event id, the same transaction.
    await store.append([paid('D-1', 'TX-1', 11000), status('D-1', 9)]);

    subscriptions = new Subscriptions({ store });
    subscriptions.register(new DossierProjection(repository, { batchSize: 3 }));
    await subscriptions.start();
    await caughtUp();

    const d1 = await repository.get('D-1');
    expect(d1).toMatchObject({
      dossierCode: 'D-1',
      provinceCode: '51',
      communeCode: '21040',
      status: 9,
      statusName: 'processing finished',
      applicant: { fullName: 'Lê Văn Tám' },
      payment: { state: 'paid', amountDue: 11000, amountPaid: 11000, transactionId: 'TX-1' },
      eventCount: 7,
      streamVersion: 7,
      firstPosition: 1,
      lastEventType: 'vn.gov.lgsp.dossier.status-changed.v1',
    });
    expect(JSON.stringify(d1)).not.toContain('051090001234');
    expect(await repository.get('D-2')).toMatchObject({
      provinceCode: '08',
      communeCode: '02230',
      status: 4,
      payment: { state: 'none', amountDue: 50000, amountPaid: 0 },
      eventCount: 2,
    });
    expect(await repository.get('D-3')).toMatchObject({
      transfers: 1,
      currentAgencyCode: '000.00.16.H51',
      eventCount: 1,
    });
    expect(await repository.get('D-404')).toBeUndefined();
  });

  it('does not count a batch twice when it is redelivered after a crash before the checkpoint was saved', async () => {
    const repository = new SqliteDossierViewRepository(store.database);
    await store.append([submitted('D-1', [11000]), status('D-1', 6)]);
    await store.append([paid('D-1', 'TX-1', 5000)]);
    await store.append([paid('D-1', 'TX-2', 6000)]);

    // The "crashed" run: the views were committed, the checkpoint was not.
    const firstRun = await store.readAll({ limit: 3 });
    expect(await repository.applyBatch(firstRun)).toEqual({ applied: 3, skipped: 0, dossiers: 1 });
    expect(await store.checkpoints.load('projection.dossiers')).toBe(0);
    expect(await repository.get('D-1')).toMatchObject({ eventCount: 3, payment: { amountPaid: 5000 } });

    expect(await repository.applyBatch(firstRun)).toEqual({ applied: 0, skipped: 3, dossiers: 0 });

    subscriptions = new Subscriptions({ store });
    subscriptions.register(new DossierProjection(repository));
    await subscriptions.start();
    await caughtUp();
    expect(await repository.get('D-1')).toMatchObject({
      eventCount: 4,
      lastPosition: 4,
      payment: { state: 'paid', amountDue: 11000, amountPaid: 11000, transactionIds: ['TX-1', 'TX-2'] },
    });
    expect(await repository.checkpoint()).toBe(4);
    expect(await store.checkpoints.load('projection.dossiers')).toBe(0);
  });

  it('applies a batch all or nothing', async () => {
    const repository = new SqliteDossierViewRepository(store.database);
    await store.append([submitted('D-1', [1000]), status('D-1', 2), submitted('D-2', [1000])]);
    const events = await store.readAll();
    const third = events[2];
    if (!third) throw new Error('three events were appended');
    const malformed = { ...third, data: { dossierCode: 'D-2', provinceCode: '51', communeCode: '21040' } };

    await expect(
      repository.applyBatch([events[0]!, events[1]!, malformed], { checkpoint: 3 }),
    ).rejects.toThrow(TypeError);
    expect(store.database.isTransaction).toBe(false);
    expect(await repository.get('D-1')).toBeUndefined();
    expect(await repository.checkpoint()).toBe(0);

    expect(await repository.applyBatch(events, { checkpoint: 3 })).toEqual({
      applied: 3,
      skipped: 0,
      dossiers: 2,
    });
    expect(await repository.get('D-1')).toMatchObject({ status: 2, eventCount: 2 });
    expect(await repository.checkpoint()).toBe(3);
  });

  it('keeps its views and schema version in the store file across re-opening', async () => {
    let repository = new SqliteDossierViewRepository(store.database);
    await store.append([submitted('D-1', [1000])]);
    await repository.applyBatch(await store.readAll());
    const file = join(dir, 'events.db');
    await store.close();
    store = SqliteEventStore.open({ file });
    repository = new SqliteDossierViewRepository(store.database);
    expect(await repository.get('D-1')).toMatchObject({ eventCount: 1, payment: { amountDue: 1000 } });
    const version = store.database
      .prepare(`SELECT version FROM schema_version WHERE component = 'projection.dossiers'`)
      .get()?.version;
    expect(version).toBe(2);
  });

  it('keeps views and checkpoint in a projection database of their own, nothing in the store', async () => {
    const projectionsFile = join(dir, 'projections.db');
    const db = openProjectionDatabase(projectionsFile);
    try {
      const repository = new SqliteDossierViewRepository(db);
      await store.append([submitted('D-1', [1000]), status('D-1', 2)]);
      // Pages with no dossier event still move the checkpoint.
      await store.append(
        Array.from({ length: 5 }, (_, i) => ({
          ...dossierEvent('X', 'vn.gov.lgsp.other.v1', {}),
          stream: `other-${i}`,
        })),
      );
      subscriptions = new Subscriptions({ store });
      subscriptions.register(new DossierProjection(repository, { batchSize: 2 }));
      await subscriptions.start();
      await caughtUp();

      expect(await repository.checkpoint()).toBe(7);
      expect(await subscriptions.lag()).toMatchObject([{ checkpoint: 7, head: 7, lagEvents: 0 }]);
      expect(db.prepare('PRAGMA journal_mode').get()?.journal_mode).toBe('wal');
      expect(db.prepare('PRAGMA synchronous').get()?.synchronous).toBe(2);
      const tables = (d: DatabaseSync) =>
        d
          .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
          .all()
          .map((r) => r.name);
      expect(tables(store.database)).not.toContain('dossier_views');
      expect(await store.checkpoints.load('projection.dossiers')).toBe(0);

      // Another connection (the hub's reader) sees the committed views.
      const readerDb = new DatabaseSync(projectionsFile);
      const reader = new SqliteDossierViewRepository(readerDb);
      expect(await reader.get('D-1')).toMatchObject({ status: 2, eventCount: 2 });
      expect(await reader.checkpoint()).toBe(7);
      readerDb.close();
    } finally {
      await subscriptions?.stop();
      db.close();
    }
  });
});
