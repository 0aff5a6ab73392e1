import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { DossierProjection, SqlDossierViewRepository } from '#lgsp/projections';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { silentLogger } from '#lgsp/observability';
import { Subscriptions } from '#lgsp/subscriptions';
import { ANY_VERSION } from '#lgsp/event-store';
import {
  caughtUp,
  describeDossierViewRepositoryContract,
  status,
  submitted,
} from './contract/dossier-view-repository-contract.js';

describeDossierViewRepositoryContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-views-contract-'));
  const file = join(dir, 'projections.db');
  const db = SqliteDatabase.open(file);
  const others: SqliteDatabase[] = [];
  return {
    repository: await SqlDossierViewRepository.open(db),
    async another() {
      const other = SqliteDatabase.open(file);
      others.push(other);
      return SqlDossierViewRepository.open(other);
    },
    async schemaVersion() {
      return (await db.versions()).find((v) => v.component === 'projection.dossiers')?.version ?? 0;
    },
    inTransaction: () => db.connection.isTransaction,
    async close() {
      for (const d of [db, ...others]) await d.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqlDossierViewRepository on SQLite', () => {
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

  it('keeps its views and schema version in the store file across re-opening', async () => {
    let repository = await SqlDossierViewRepository.open(SqliteDatabase.over(store.database));
    await store.append([submitted('D-1', [1000])]);
    await repository.applyBatch(await store.readAll());
    const file = join(dir, 'events.db');
    await store.close();
    store = SqliteEventStore.open({ file });
    repository = await SqlDossierViewRepository.open(SqliteDatabase.over(store.database));
    expect(await repository.get('D-1')).toMatchObject({ eventCount: 1, payment: { amountDue: 1000 } });
    const version = store.database
      .prepare(`SELECT version FROM schema_version WHERE component = 'projection.dossiers'`)
      .get()?.version;
    expect(version).toBe(2);
  });

  it('folds v1 and v2 submissions alike, and leaves out, counts and logs one it cannot read', async () => {
    const repository = await SqlDossierViewRepository.open(SqliteDatabase.over(store.database));
    const v1 = submitted('D-1', [1000]);
    const { applicant: _applicant, ...common } = v1.data as Record<string, unknown>;
    const v2 = {
      ...v1,
      id: 'v2-1',
      stream: 'dossier-D-2',
      type: 'vn.gov.lgsp.dossier.submitted.v2',
      data: {
        ...common,
        dossierCode: 'D-2',
        persons: [
          {
            role: 'applicant',
            fullName: 'Trần Thị Ba',
            documents: [{ kind: 'passport', number: 'C1234567' }],
          },
          {
            role: 'co-applicant',
            fullName: 'Lê Văn Tư',
            documents: [{ kind: 'citizen-id', number: '051090001235' }],
          },
        ],
      },
    };
    const broken = {
      ...v1,
      id: 'broken-1',
      stream: 'dossier-D-3',
      expectedVersion: ANY_VERSION,
      data: { ...common, dossierCode: 'D-3' },
    };
    await store.append([v1]);
    await store.append([v2]);
    await store.append([broken, status('D-3', 2)]);
    const unreadable: number[] = [];
    const errors: string[] = [];
    subscriptions = new Subscriptions({ store });
    subscriptions.register(
      new DossierProjection(repository, {
        onUnreadable: (e) => unreadable.push(e.position),
        logger: { ...silentLogger, error: (_fields, msg) => errors.push(msg) },
      }),
    );
    await subscriptions.start();
    await caughtUp(subscriptions);
    expect(await repository.get('D-1')).toMatchObject({
      applicant: { fullName: 'Lê Văn Tám' },
      payment: { amountDue: 1000 },
    });
    expect(await repository.get('D-2')).toMatchObject({
      applicant: { fullName: 'Trần Thị Ba' },
      coApplicants: 1,
      lastEventType: 'vn.gov.lgsp.dossier.submitted.v2',
    });
    // The broken submission is left out; the dossier's next event still makes its view.
    expect(await repository.get('D-3')).toMatchObject({ status: 2, eventCount: 1 });
    expect(unreadable).toEqual([3]);
    expect(errors).toEqual(['event left out of the dossier view: it cannot be read at the newest version']);
    expect(await repository.checkpoint()).toBe(4);
  });

  it('keeps views and checkpoint in a projection database of their own, nothing in the store', async () => {
    const projectionsFile = join(dir, 'projections.db');
    const projections = SqliteDatabase.open(projectionsFile);
    const db = projections.connection;
    try {
      const repository = await SqlDossierViewRepository.open(projections);
      await store.append([submitted('D-1', [1000]), status('D-1', 2)]);
      subscriptions = new Subscriptions({ store });
      subscriptions.register(new DossierProjection(repository, { batchSize: 2 }));
      await subscriptions.start();
      await caughtUp(subscriptions);

      expect(await repository.checkpoint()).toBe(2);
      expect(db.prepare('PRAGMA journal_mode').get()?.journal_mode).toBe('wal');
      expect(db.prepare('PRAGMA synchronous').get()?.synchronous).toBe(2);
      const tables = (d: DatabaseSync) =>
        d
          .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
          .all()
          .map((r) => r.name);
      expect(tables(store.database)).not.toContain('dossier_views');
      expect(tables(db)).toContain('dossier_views');
      expect(await store.checkpoints.load('projection.dossiers')).toBe(0);

      // Another connection (the hub's reader) sees the committed views.
      const readerDb = new DatabaseSync(projectionsFile);
      const reader = await SqlDossierViewRepository.open(SqliteDatabase.over(readerDb));
      expect(await reader.get('D-1')).toMatchObject({ status: 2, eventCount: 2 });
      expect(await reader.checkpoint()).toBe(2);
      readerDb.close();
    } finally {
      await subscriptions?.stop();
      subscriptions = undefined;
      db.close();
    }
  });
});
