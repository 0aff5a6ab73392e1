import pg from 'pg';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { StoreUnavailableError } from '#lgsp/event-store';
import {
  applyPostgresMigrations,
  postgresUnavailable,
  type PostgresMigration,
} from '#lgsp/event-store/postgres';
import type {
  ListQuery,
  Mismatch,
  MismatchCategory,
  ReconciliationRun,
  ReconciliationStore,
} from '../model.js';
import {
  RECONCILIATION_COMPONENT,
  jsonValue,
  toMismatch,
  toRun,
  type MismatchRow,
  type RunRow,
} from './rows.js';

const MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    description: 'reconciliation runs and their mismatches',
    // The columns of the SQLite tables, with JSONB for the JSON ones and BIGINT positions.
    sql: `
      CREATE TABLE reconciliation_runs (
        seq BIGSERIAL PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        target TEXT NOT NULL,
        scope JSONB NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('running', 'completed', 'failed')),
        by TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        log_position BIGINT,
        progress JSONB NOT NULL,
        mismatches JSONB NOT NULL,
        error TEXT
      );
      CREATE TABLE reconciliation_mismatches (
        seq BIGSERIAL PRIMARY KEY,
        run_id TEXT NOT NULL,
        dossier TEXT NOT NULL,
        system TEXT NOT NULL,
        field TEXT NOT NULL,
        expected JSONB NOT NULL,
        actual JSONB NOT NULL,
        category TEXT NOT NULL,
        detected_at TEXT NOT NULL
      );
      CREATE INDEX reconciliation_mismatches_run ON reconciliation_mismatches (run_id, seq);
      CREATE INDEX reconciliation_mismatches_category ON reconciliation_mismatches (run_id, category, seq);
    `,
  },
];

/** Reconciliation runs and their mismatches in the hub's PostgreSQL schema, shared by its replicas. */
export class PostgresReconciliationStore implements ReconciliationStore {
  private readonly runs: string;
  private readonly found: string;

  private constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.runs = `${pg.escapeIdentifier(schema)}.reconciliation_runs`;
    this.found = `${pg.escapeIdentifier(schema)}.reconciliation_mismatches`;
  }

  /**
   * Creates or migrates the reconciliation tables in `schema`. The pool stays the caller's to end.
   * @throws StoreUnavailableError when PostgreSQL cannot be reached or holds a newer schema.
   */
  static async open(pool: Pool, schema: string): Promise<PostgresReconciliationStore> {
    let client: PoolClient | undefined;
    // pg emits 'error' on a checked-out client whose server went away; the running statement reports it.
    const ignore = () => undefined;
    try {
      client = await pool.connect();
      client.on('error', ignore);
      await applyPostgresMigrations(client, schema, MIGRATIONS, RECONCILIATION_COMPONENT);
    } catch (err) {
      client?.release(true);
      throw new StoreUnavailableError(
        `cannot open the reconciliation store on PostgreSQL (schema ${schema}): ${errorMessage(err)}`,
        err,
      );
    }
    client.off('error', ignore);
    client.release();
    return new PostgresReconciliationStore(pool, schema);
  }

  async create(run: ReconciliationRun): Promise<void> {
    await this.query(
      'create a run',
      `INSERT INTO ${this.runs}
         (id, target, scope, state, by, started_at, finished_at, log_position, progress, mismatches, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        run.id,
        run.target,
        JSON.stringify(run.scope),
        run.state,
        run.by,
        run.startedAt,
        run.finishedAt ?? null,
        run.logPosition ?? null,
        JSON.stringify(run.progress),
        JSON.stringify(run.mismatches),
        run.error ?? null,
      ],
    );
  }

  async update(run: ReconciliationRun): Promise<void> {
    await this.query(
      'update a run',
      `UPDATE ${this.runs}
       SET state = $2, finished_at = $3, log_position = $4, progress = $5, mismatches = $6, error = $7
       WHERE id = $1`,
      [
        run.id,
        run.state,
        run.finishedAt ?? null,
        run.logPosition ?? null,
        JSON.stringify(run.progress),
        JSON.stringify(run.mismatches),
        run.error ?? null,
      ],
    );
  }

  /** One statement per batch: the columns go as arrays and come back as rows in their order. */
  async addMismatches(runId: string, mismatches: readonly Mismatch[]): Promise<void> {
    if (mismatches.length === 0) return;
    const column = <T>(f: (m: Mismatch) => T) => mismatches.map(f);
    await this.query(
      'add mismatches',
      `INSERT INTO ${this.found} (run_id, dossier, system, field, expected, actual, category, detected_at)
       SELECT $1, dossier, system, field, expected, actual, category, detected_at
       FROM unnest($2::text[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[], $7::text[], $8::text[])
         WITH ORDINALITY AS m (dossier, system, field, expected, actual, category, detected_at, n)
       ORDER BY n`,
      [
        runId,
        column((m) => m.dossier),
        column((m) => m.system),
        column((m) => m.field),
        column((m) => jsonValue(m.expected)),
        column((m) => jsonValue(m.actual)),
        column((m) => m.category),
        column((m) => m.detectedAt),
      ],
    );
  }

  async get(id: string): Promise<ReconciliationRun | undefined> {
    const rows = await this.query<RunRow>('read a run', `SELECT * FROM ${this.runs} WHERE id = $1`, [id]);
    return rows[0] && toRun(rows[0]);
  }

  async list(query: ListQuery): Promise<ReconciliationRun[]> {
    const rows =
      query.after === undefined
        ? await this.query<RunRow>('list runs', `SELECT * FROM ${this.runs} ORDER BY seq DESC LIMIT $1`, [
            query.limit,
          ])
        : await this.query<RunRow>(
            'list runs',
            `SELECT * FROM ${this.runs} WHERE seq < (SELECT seq FROM ${this.runs} WHERE id = $1)
             ORDER BY seq DESC LIMIT $2`,
            [query.after, query.limit],
          );
    return rows.map(toRun);
  }

  async mismatches(
    runId: string,
    query: { limit: number; after?: number; category?: MismatchCategory },
  ): Promise<(Mismatch & { seq: number })[]> {
    const rows = await this.query<MismatchRow>(
      'read mismatches',
      `SELECT * FROM ${this.found}
       WHERE run_id = $1 AND ($2::text IS NULL OR category = $2) AND seq > $3
       ORDER BY seq LIMIT $4`,
      [runId, query.category ?? null, query.after ?? 0, query.limit],
    );
    return rows.map((r) => toMismatch(r, true));
  }

  private async query<R extends QueryResultRow>(what: string, sql: string, params: unknown[]): Promise<R[]> {
    try {
      return (await this.pool.query<R>(sql, params)).rows;
    } catch (err) {
      throw postgresUnavailable(err, `the reconciliation store cannot ${what}`);
    }
  }
}

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));
