import pg from 'pg';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { StoreUnavailableError } from '#lgsp/event-store';
import {
  applyPostgresMigrations,
  inPostgresTransaction,
  postgresUnavailable,
  type PostgresMigration,
} from '#lgsp/event-store/postgres';
import type { ReplayCommand, ReplayRun, ReplayStore } from './model.js';
import {
  REPLAY_COMPONENT,
  RUN_COLUMNS,
  applyCommand,
  runValues,
  toReplayRun,
  unknownRun,
  type ReplayRunRow,
} from './store-rules.js';

const MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    description: 'replay runs and their items',
    sql: `
      CREATE TABLE replay_runs (
        seq BIGSERIAL PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        target TEXT NOT NULL,
        scope TEXT NOT NULL,
        unit TEXT NOT NULL CHECK (unit IN ('dossier', 'event')),
        state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'completed', 'cancelled', 'failed')),
        by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT,
        total BIGINT NOT NULL,
        done BIGINT NOT NULL,
        failed BIGINT NOT NULL,
        chunk_size INTEGER NOT NULL,
        rate_per_second DOUBLE PRECISION NOT NULL,
        error TEXT
      );
      CREATE INDEX replay_runs_state ON replay_runs (state, seq);
      CREATE TABLE replay_items (
        run_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        item TEXT NOT NULL,
        PRIMARY KEY (run_id, idx)
      );
    `,
  },
];

/** Items inserted per statement when a run is created. */
const INSERT_BATCH = 5000;

/** Replay runs in the hub's PostgreSQL schema; a transition locks the run's row. */
export class PostgresReplayStore implements ReplayStore {
  private readonly runs: string;
  private readonly itemsTable: string;

  private constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.runs = `${pg.escapeIdentifier(schema)}.replay_runs`;
    this.itemsTable = `${pg.escapeIdentifier(schema)}.replay_items`;
  }

  /**
   * Creates or migrates the replay tables in `schema`. The pool stays the caller's to end.
   * @throws StoreUnavailableError when PostgreSQL cannot be reached or holds a newer schema.
   */
  static async open(pool: Pool, schema: string): Promise<PostgresReplayStore> {
    let client: PoolClient | undefined;
    const ignore = () => undefined;
    try {
      client = await pool.connect();
      client.on('error', ignore);
      await applyPostgresMigrations(client, schema, MIGRATIONS, REPLAY_COMPONENT);
    } catch (err) {
      client?.release(true);
      throw new StoreUnavailableError(
        `cannot open the replay store on PostgreSQL (schema ${schema}): ${err instanceof Error ? err.message : String(err)}`,
        err,
      );
    }
    client.off('error', ignore);
    client.release();
    return new PostgresReplayStore(pool, schema);
  }

  async create(run: ReplayRun, items: readonly string[]): Promise<void> {
    await this.transaction('create a run', async (client) => {
      await client.query(
        `INSERT INTO ${this.runs} (${RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
        runValues(run),
      );
      for (let from = 0; from < items.length; from += INSERT_BATCH) {
        const batch = items.slice(from, from + INSERT_BATCH);
        await client.query(
          `INSERT INTO ${this.itemsTable} (run_id, idx, item)
           SELECT $1, $2::integer + ord - 1, item FROM unnest($3::text[]) WITH ORDINALITY AS t(item, ord)`,
          [run.id, from, batch],
        );
      }
    });
  }

  async get(id: string): Promise<ReplayRun | undefined> {
    const rows = await this.query<ReplayRunRow>(`SELECT * FROM ${this.runs} WHERE id = $1`, [id]);
    return rows[0] && toReplayRun(rows[0]);
  }

  async list(query: { limit: number; after?: string }): Promise<ReplayRun[]> {
    const rows = await this.query<ReplayRunRow>(
      `SELECT * FROM ${this.runs}
       WHERE $1::text IS NULL OR seq < COALESCE((SELECT seq FROM ${this.runs} WHERE id = $1), 0)
       ORDER BY seq DESC LIMIT $2`,
      [query.after ?? null, query.limit],
    );
    return rows.map(toReplayRun);
  }

  async items(id: string, from: number, limit: number): Promise<string[]> {
    const rows = await this.query<{ item: string }>(
      `SELECT item FROM ${this.itemsTable} WHERE run_id = $1 AND idx >= $2 ORDER BY idx LIMIT $3`,
      [id, from, limit],
    );
    return rows.map((r) => r.item);
  }

  async advance(id: string, done: number, failed: number, at: string): Promise<ReplayRun> {
    await this.query(
      `UPDATE ${this.runs} SET done = $2, failed = $3, updated_at = $4 WHERE id = $1 AND state = 'running'`,
      [id, done, failed, at],
    );
    const run = await this.get(id);
    if (!run) throw unknownRun(id);
    return run;
  }

  async transition(id: string, command: ReplayCommand, at: string, error?: string): Promise<ReplayRun> {
    return this.transaction(command, async (client) => {
      const locked = await client.query<ReplayRunRow>(`SELECT * FROM ${this.runs} WHERE id = $1 FOR UPDATE`, [
        id,
      ]);
      const row = locked.rows[0];
      if (!row) throw unknownRun(id);
      const next = applyCommand(toReplayRun(row), command, at, error);
      await client.query(
        `UPDATE ${this.runs} SET state = $2, updated_at = $3, finished_at = $4, error = $5 WHERE id = $1`,
        [id, next.state, next.updatedAt, next.finishedAt ?? null, next.error ?? null],
      );
      return next;
    });
  }

  async running(): Promise<ReplayRun[]> {
    const rows = await this.query<ReplayRunRow>(
      `SELECT * FROM ${this.runs} WHERE state = 'running' ORDER BY seq`,
    );
    return rows.map(toReplayRun);
  }

  private transaction<T>(what: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return inPostgresTransaction(this.pool, `the replay store cannot ${what}`, fn);
  }

  private async query<R extends QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]> {
    try {
      return (await this.pool.query<R>(sql, params)).rows;
    } catch (err) {
      throw postgresUnavailable(err, 'the replay store cannot read or write');
    }
  }
}
