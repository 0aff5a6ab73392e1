import type { StoredEvent } from '#lgsp/event-store';
import {
  MigratingSqlStore,
  SqlSchema,
  whenMigrated,
  type SqlDatabase,
  type SqlExecutor,
  type SqlMigration,
} from '#lgsp/storage';
import { assertCheckpoint, foldBatch, type StoredDossierView } from './dossier-batch.js';
import { dossierCodeOf, type DossierView } from './dossier-view.js';
import {
  DOSSIER_VIEWS_COMPONENT,
  type ApplyBatchOptions,
  type ApplyBatchResult,
  type DossierViewRepository,
} from './dossier-view-repository.js';

// One version number means one shape in both dialects.
const MIGRATIONS: readonly SqlMigration[] = [
  {
    version: 1,
    description: 'dossier_views',
    sqlite: `
      CREATE TABLE dossier_views (
        dossier_code TEXT PRIMARY KEY,
        province_code TEXT NOT NULL,
        commune_code TEXT NOT NULL,
        last_position INTEGER NOT NULL,
        view TEXT NOT NULL
      ) STRICT;
      CREATE INDEX dossier_views_by_province ON dossier_views (province_code, commune_code);`,
    postgres: `
      CREATE TABLE dossier_views (
        dossier_code TEXT PRIMARY KEY,
        province_code TEXT NOT NULL,
        commune_code TEXT NOT NULL,
        last_position BIGINT NOT NULL,
        view TEXT NOT NULL
      );
      CREATE INDEX dossier_views_by_province ON dossier_views (province_code, commune_code);`,
  },
  {
    version: 2,
    description: 'dossier_views_checkpoint',
    sqlite: `
      CREATE TABLE dossier_views_checkpoint (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        position INTEGER NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;`,
    postgres: `
      CREATE TABLE dossier_views_checkpoint (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        position BIGINT NOT NULL,
        updated_at TEXT NOT NULL
      );`,
  },
];

/** The `view` of a row a batch inserted to lock a dossier that had none; replaced before its commit. */
const PLACEHOLDER = '';

const UPSERT_VIEW = `
  INSERT INTO dossier_views (dossier_code, province_code, commune_code, last_position, view)
  VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (dossier_code) DO UPDATE SET
    province_code = excluded.province_code,
    commune_code = excluded.commune_code,
    last_position = excluded.last_position,
    view = excluded.view`;

interface ViewRow {
  dossier_code: string;
  last_position: number | string;
  view: string;
}

/**
 * Dossier views in a SQLite file (normally a projection database of their own, so that the
 * projection's commits never wait for the event store's write lock) or in the PostgreSQL schema the
 * hub's replicas share. Each batch is one transaction with the checkpoint it is given.
 *
 * **PostgreSQL: a fixed number of statements whatever the batch's size**: placeholders for the dossiers
 * without a view, one SELECT … FOR UPDATE of every dossier the batch names, one upsert of the changed
 * views (unnest), one checkpoint upsert.
 *
 * **Concurrent batches.** Two processes may apply overlapping batches at once (a subscriber lease
 * handed over while the old holder still runs). On PostgreSQL each batch locks its dossiers' rows
 * before reading them, in dossier-code order, so the second waits for the first to commit, then reads
 * and folds on its views, skipping the events they already reflect. A row lock cannot cover a dossier
 * without a row, so the batch first inserts a placeholder row for those (`ON CONFLICT DO NOTHING`,
 * also in code order): a second batch inserting the same code waits on it as on a lock. Placeholders
 * are replaced by the batch's views before it commits, so readers never see one. On SQLite the batch's
 * `BEGIN IMMEDIATE` holds the file's write lock for the same purpose.
 */
export class SqlDossierViewRepository extends MigratingSqlStore implements DossierViewRepository {
  /** Usable at once (see {@link MigratingSqlStore}): the projection worker builds one at its start. */
  constructor(db: SqlDatabase) {
    super(db, new SqlSchema(DOSSIER_VIEWS_COMPONENT, MIGRATIONS));
  }

  /**
   * Creates or migrates the views' tables; other connections to the database may then read them.
   * The database stays the caller's to close.
   * @throws StoreUnavailableError when the database cannot be reached or holds a newer schema.
   */
  static async open(db: SqlDatabase): Promise<SqlDossierViewRepository> {
    return whenMigrated(new SqlDossierViewRepository(db));
  }

  async get(dossierCode: string): Promise<DossierView | undefined> {
    await this.ready;
    const [row] = await this.db.query<{ view: string }>(
      'SELECT view FROM dossier_views WHERE dossier_code = $1',
      [dossierCode],
    );
    return row === undefined ? undefined : (JSON.parse(row.view) as DossierView);
  }

  async checkpoint(): Promise<number> {
    await this.ready;
    const [row] = await this.db.query<{ position: number | string }>(
      'SELECT position FROM dossier_views_checkpoint WHERE id = 1',
    );
    return Number(row?.position ?? 0);
  }

  async applyBatch(
    events: readonly StoredEvent[],
    options: ApplyBatchOptions = {},
  ): Promise<ApplyBatchResult> {
    const { checkpoint } = options;
    assertCheckpoint(checkpoint);
    await this.ready;
    const codes = [...new Set(events.map(dossierCodeOf).filter((c) => c !== undefined))];
    return this.db.transaction(async (tx) => {
      const stored = codes.length === 0 ? new Map<string, StoredDossierView>() : await lockAndRead(tx, codes);
      const { changed, applied, skipped } = foldBatch(events, (code) => stored.get(code));
      if (changed.size > 0) await write(tx, changed);
      if (checkpoint !== undefined) {
        await tx.run(
          `INSERT INTO dossier_views_checkpoint (id, position, updated_at) VALUES (1, $1, $2)
           ON CONFLICT (id) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
          [checkpoint, new Date().toISOString()],
        );
      }
      return { applied, skipped, dossiers: changed.size };
    });
  }
}

/** Locks the batch's dossiers in code order (PostgreSQL) and reads their views, placeholders as absent. */
async function lockAndRead(tx: SqlExecutor, codes: string[]): Promise<Map<string, StoredDossierView>> {
  let rows: ViewRow[] = [];
  if (tx.dialect === 'postgres') {
    await tx.run(
      `INSERT INTO dossier_views (dossier_code, province_code, commune_code, last_position, view)
       SELECT code, '', '', 0, $2 FROM unnest($1::text[]) AS code ORDER BY code
       ON CONFLICT (dossier_code) DO NOTHING`,
      [codes, PLACEHOLDER],
    );
    rows = await tx.query<ViewRow>(
      `SELECT dossier_code, last_position, view FROM dossier_views
        WHERE dossier_code = ANY($1::text[]) ORDER BY dossier_code FOR UPDATE`,
      [codes],
    );
  } else {
    for (const code of codes)
      rows.push(
        ...(await tx.query<ViewRow>(
          'SELECT dossier_code, last_position, view FROM dossier_views WHERE dossier_code = $1',
          [code],
        )),
      );
  }
  const stored = new Map<string, StoredDossierView>();
  for (const r of rows) {
    if (r.view === PLACEHOLDER) continue;
    stored.set(r.dossier_code, {
      view: JSON.parse(r.view) as DossierView,
      lastPosition: Number(r.last_position),
    });
  }
  return stored;
}

/**
 * Writes every changed view: one upsert (unnest) on PostgreSQL, one prepared upsert per view on SQLite.
 * Every placeholder is among them: its dossier had no view, so each of its events was applied (or the
 * fold threw, and the batch rolls back).
 */
async function write(tx: SqlExecutor, changed: Map<string, StoredDossierView>): Promise<void> {
  const entries = [...changed];
  if (tx.dialect === 'sqlite') {
    for (const [code, { view, lastPosition }] of entries)
      await tx.run(UPSERT_VIEW, [
        code,
        view.provinceCode,
        view.communeCode,
        lastPosition,
        JSON.stringify(view),
      ]);
    return;
  }
  await tx.run(
    `INSERT INTO dossier_views (dossier_code, province_code, commune_code, last_position, view)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[])
     ON CONFLICT (dossier_code) DO UPDATE SET
       province_code = excluded.province_code,
       commune_code = excluded.commune_code,
       last_position = excluded.last_position,
       view = excluded.view`,
    [
      entries.map(([code]) => code),
      entries.map(([, s]) => s.view.provinceCode),
      entries.map(([, s]) => s.view.communeCode),
      entries.map(([, s]) => s.lastPosition),
      entries.map(([, s]) => JSON.stringify(s.view)),
    ],
  );
}
