import pg from 'pg';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { StoreUnavailableError, type StoredEvent } from '#lgsp/event-store';
import {
  applyPostgresMigrations,
  postgresUnavailable,
  type PostgresMigration,
} from '#lgsp/event-store/postgres';
import { assertCheckpoint, foldBatch, type StoredDossierView } from './dossier-batch.js';
import { dossierCodeOf, type DossierView } from './dossier-view.js';
import {
  DOSSIER_VIEWS_COMPONENT,
  type ApplyBatchOptions,
  type ApplyBatchResult,
  type DossierViewRepository,
} from './dossier-view-repository.js';

// The versions of the SQLite tables, so that one number means one shape in both adapters.
const MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    description: 'dossier_views',
    sql: `
      CREATE TABLE dossier_views (
        dossier_code TEXT PRIMARY KEY,
        province_code TEXT NOT NULL,
        commune_code TEXT NOT NULL,
        last_position BIGINT NOT NULL,
        view TEXT NOT NULL
      );
      CREATE INDEX dossier_views_by_province ON dossier_views (province_code, commune_code);
    `,
  },
  {
    version: 2,
    description: 'dossier_views_checkpoint',
    sql: `
      CREATE TABLE dossier_views_checkpoint (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        position BIGINT NOT NULL,
        updated_at TEXT NOT NULL
      );
    `,
  },
];

/** The `view` of a row a batch inserted to lock a dossier that had none; replaced before its commit. */
const PLACEHOLDER = '';

/**
 * Dossier views in PostgreSQL, shared by the hub's replicas. Each batch is one transaction with the
 * checkpoint it is given, in a fixed number of statements whatever its size: placeholders for the
 * dossiers without a view, one SELECT … FOR UPDATE of every dossier the batch names, one upsert of
 * the changed views (unnest), one checkpoint upsert.
 *
 * **Concurrent batches.** Two processes may apply overlapping batches at once (a subscriber lease
 * handed over while the old holder still runs). Each batch locks its dossiers' rows before reading
 * them, in dossier-code order, so the second waits for the first to commit, then reads and folds on
 * its views, skipping the events they already reflect. A row lock cannot cover a dossier without a
 * row, so the batch first inserts a placeholder row for those (`ON CONFLICT DO NOTHING`, also in
 * code order): a second batch inserting the same code waits on it as on a lock. Placeholders are
 * replaced by the batch's views before it commits, so readers never see one. Row locks live in the
 * rows, not in the server's shared lock table, so a batch of any size takes them.
 */
export class PostgresDossierViewRepository implements DossierViewRepository {
  private readonly views: string;
  private readonly checkpoints: string;

  private constructor(
    private readonly pool: Pool,
    readonly schema: string,
  ) {
    const quoted = pg.escapeIdentifier(schema);
    this.views = `${quoted}.dossier_views`;
    this.checkpoints = `${quoted}.dossier_views_checkpoint`;
  }

  /**
   * Creates or migrates the views' tables in `schema`. The pool stays the caller's to end.
   * @throws StoreUnavailableError when PostgreSQL cannot be reached or holds a newer schema.
   */
  static async open(pool: Pool, schema: string): Promise<PostgresDossierViewRepository> {
    try {
      await withConnection(pool, (client) =>
        applyPostgresMigrations(client, schema, MIGRATIONS, DOSSIER_VIEWS_COMPONENT),
      );
    } catch (err) {
      throw new StoreUnavailableError(
        `cannot open the dossier views on PostgreSQL (schema ${schema}): ${errorMessage(err)}`,
        err,
      );
    }
    return new PostgresDossierViewRepository(pool, schema);
  }

  async get(dossierCode: string): Promise<DossierView | undefined> {
    const rows = await run<{ view: string }>(
      this.pool,
      `SELECT view FROM ${this.views} WHERE dossier_code = $1`,
      [dossierCode],
    );
    const view = rows[0]?.view;
    return view === undefined ? undefined : (JSON.parse(view) as DossierView);
  }

  async checkpoint(): Promise<number> {
    const rows = await run<{ position: string }>(
      this.pool,
      `SELECT position FROM ${this.checkpoints} WHERE id = 1`,
    );
    return Number(rows[0]?.position ?? 0);
  }

  async applyBatch(
    events: readonly StoredEvent[],
    options: ApplyBatchOptions = {},
  ): Promise<ApplyBatchResult> {
    const { checkpoint } = options;
    assertCheckpoint(checkpoint);
    const codes = [...new Set(events.map(dossierCodeOf).filter((c) => c !== undefined))];
    const apply = async (client: PoolClient): Promise<ApplyBatchResult> => {
      await run(client, 'BEGIN');
      const stored = codes.length > 0 ? await this.lockAndRead(client, codes) : new Map();
      const { changed, applied, skipped } = foldBatch(events, (code) => stored.get(code));
      if (changed.size > 0) await this.write(client, changed);
      if (checkpoint !== undefined) {
        await run(
          client,
          `INSERT INTO ${this.checkpoints} (id, position, updated_at) VALUES (1, $1, $2)
           ON CONFLICT (id) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
          [checkpoint, new Date().toISOString()],
        );
      }
      await run(client, 'COMMIT');
      return { applied, skipped, dossiers: changed.size };
    };
    return withConnection(this.pool, apply);
  }

  /** Locks the batch's dossiers in code order and reads their views, placeholders as absent. */
  private async lockAndRead(client: PoolClient, codes: string[]): Promise<Map<string, StoredDossierView>> {
    await run(
      client,
      `INSERT INTO ${this.views} (dossier_code, province_code, commune_code, last_position, view)
       SELECT code, '', '', 0, $2 FROM unnest($1::text[]) AS code ORDER BY code
       ON CONFLICT (dossier_code) DO NOTHING`,
      [codes, PLACEHOLDER],
    );
    const rows = await run<{ dossier_code: string; last_position: string; view: string }>(
      client,
      `SELECT dossier_code, last_position, view FROM ${this.views}
        WHERE dossier_code = ANY($1::text[]) ORDER BY dossier_code FOR UPDATE`,
      [codes],
    );
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
   * One upsert of every changed view. Every placeholder is among them: its dossier had no view, so
   * each of its events was applied (or the fold threw, and the batch rolls back).
   */
  private async write(client: PoolClient, changed: Map<string, StoredDossierView>): Promise<void> {
    const entries = [...changed];
    await run(
      client,
      `INSERT INTO ${this.views} (dossier_code, province_code, commune_code, last_position, view)
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
}

/**
 * Runs `work` on a connection of the pool; on failure rolls back what `work` left open. A connection
 * that broke meanwhile is destroyed, not reused. pg emits an 'error' event on a checked-out client
 * when the server goes away; it is listened to here, so that it cannot crash the process (the running
 * statement reports the failure).
 * @throws StoreUnavailableError when no connection could be had.
 */
async function withConnection<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw postgresUnavailable(err, 'the dossier views are unavailable');
  }
  let broken = false;
  const onError = () => {
    broken = true;
  };
  client.on('error', onError);
  try {
    return await work(client);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    if (!broken) client.off('error', onError);
    client.release(broken);
  }
}

/** Runs one statement; a failure of the server or the connection becomes StoreUnavailableError. */
async function run<R extends QueryResultRow>(
  db: Pool | PoolClient,
  sql: string,
  params?: unknown[],
): Promise<R[]> {
  try {
    return (await db.query<R>(sql, params)).rows;
  } catch (err) {
    throw postgresUnavailable(err, 'the dossier views are unavailable');
  }
}

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));
