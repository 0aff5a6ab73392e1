import {
  SqlSchema,
  sqlMigration,
  type SqlColumnTypes,
  type SqlDatabase,
  type SqlDialect,
} from '#lgsp/storage';
import type {
  ExtraResolution,
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

const tables = (t: SqlColumnTypes, dialect: SqlDialect) => `
  CREATE TABLE reconciliation_runs (
    seq ${t.serial},
    id TEXT NOT NULL UNIQUE,
    target TEXT NOT NULL,
    scope ${t.json} NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'completed', 'failed')),
    by TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    log_position ${t.big},
    progress ${t.json} NOT NULL,
    mismatches ${t.json} NOT NULL,
    error TEXT
  )${t.strict};
  CREATE TABLE reconciliation_mismatches (
    seq ${t.serial},
    run_id TEXT NOT NULL${dialect === 'sqlite' ? ' REFERENCES reconciliation_runs (id)' : ''},
    dossier TEXT NOT NULL,
    system TEXT NOT NULL,
    field TEXT NOT NULL,
    expected ${t.json} NOT NULL,
    actual ${t.json} NOT NULL,
    category TEXT NOT NULL,
    detected_at TEXT NOT NULL
  )${t.strict};
  CREATE INDEX reconciliation_mismatches_run ON reconciliation_mismatches (run_id, seq);
  CREATE INDEX reconciliation_mismatches_category ON reconciliation_mismatches (run_id, category, seq);
`;

// `seq` orders the runs (newest first) and pages the mismatches; scope, progress and the mismatch
// counts are JSON, read and written whole.
const SCHEMA = new SqlSchema(RECONCILIATION_COMPONENT, [
  sqlMigration(1, 'reconciliation runs and their mismatches', tables),
  sqlMigration(
    2,
    'operators capture or acknowledge unexpected extras; acknowledgements are remembered',
    (t) => `
  ALTER TABLE reconciliation_mismatches ADD COLUMN resolution ${t.json};
  CREATE TABLE reconciliation_acknowledged (
    system TEXT NOT NULL,
    dossier TEXT NOT NULL,
    run_id TEXT NOT NULL,
    resolution ${t.json} NOT NULL,
    PRIMARY KEY (system, dossier)
  )${t.strict};
`,
  ),
]);

const MISMATCH_COLUMNS =
  'run_id, dossier, system, field, expected, actual, category, detected_at, resolution';

/** A run's columns that change while it runs: state, finished_at, log_position, progress, mismatches, error. */
const changingValues = (run: ReconciliationRun): unknown[] => [
  run.state,
  run.finishedAt ?? null,
  run.logPosition ?? null,
  JSON.stringify(run.progress),
  JSON.stringify(run.mismatches),
  run.error ?? null,
];

/** Reconciliation runs and their mismatches beside the events (SQLite file, or the PostgreSQL schema). */
export class SqlReconciliationStore implements ReconciliationStore {
  /** Creates or migrates the reconciliation tables (see {@link SqlSchema.opener}). */
  static readonly open = SCHEMA.opener((db) => new SqlReconciliationStore(db));

  private constructor(private readonly db: SqlDatabase) {}

  async create(run: ReconciliationRun): Promise<void> {
    await this.db.run(
      `INSERT INTO reconciliation_runs
         (id, target, scope, by, started_at, state, finished_at, log_position, progress, mismatches, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [run.id, run.target, JSON.stringify(run.scope), run.by, run.startedAt, ...changingValues(run)],
    );
  }

  async update(run: ReconciliationRun): Promise<void> {
    await this.db.run(
      `UPDATE reconciliation_runs
       SET state = $2, finished_at = $3, log_position = $4, progress = $5, mismatches = $6, error = $7
       WHERE id = $1`,
      [run.id, ...changingValues(run)],
    );
  }

  /**
   * All or none. On PostgreSQL one statement per batch: the columns go as arrays and come back as
   * rows in their order; on SQLite one prepared insert per mismatch, in one transaction.
   */
  async addMismatches(runId: string, mismatches: readonly Mismatch[]): Promise<void> {
    if (mismatches.length === 0) return;
    if (this.db.dialect === 'postgres') {
      const column = <T>(f: (m: Mismatch) => T) => mismatches.map(f);
      await this.db.run(
        `INSERT INTO reconciliation_mismatches (${MISMATCH_COLUMNS})
         SELECT $1, dossier, system, field, expected, actual, category, detected_at, resolution
         FROM unnest($2::text[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[], $7::text[], $8::text[],
                     $9::jsonb[])
           WITH ORDINALITY AS m (dossier, system, field, expected, actual, category, detected_at, resolution, n)
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
          column((m) => (m.resolution === undefined ? null : JSON.stringify(m.resolution))),
        ],
      );
      return;
    }
    await this.db.transaction(async (tx) => {
      for (const m of mismatches) {
        await tx.run(
          `INSERT INTO reconciliation_mismatches (${MISMATCH_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [
            runId,
            m.dossier,
            m.system,
            m.field,
            jsonValue(m.expected),
            jsonValue(m.actual),
            m.category,
            m.detectedAt,
            m.resolution === undefined ? null : JSON.stringify(m.resolution),
          ],
        );
      }
    });
  }

  async get(id: string): Promise<ReconciliationRun | undefined> {
    const [row] = await this.db.query<RunRow>('SELECT * FROM reconciliation_runs WHERE id = $1', [id]);
    return row && toRun(row);
  }

  async list(query: ListQuery): Promise<ReconciliationRun[]> {
    const rows =
      query.after === undefined
        ? await this.db.query<RunRow>('SELECT * FROM reconciliation_runs ORDER BY seq DESC LIMIT $1', [
            query.limit,
          ])
        : await this.db.query<RunRow>(
            `SELECT * FROM reconciliation_runs WHERE seq < (SELECT seq FROM reconciliation_runs WHERE id = $1)
             ORDER BY seq DESC LIMIT $2`,
            [query.after, query.limit],
          );
    return rows.map(toRun);
  }

  async mismatches(
    runId: string,
    query: { limit: number; after?: number; category?: MismatchCategory },
  ): Promise<(Mismatch & { seq: number })[]> {
    const rows = await this.db.query<MismatchRow>(
      `SELECT * FROM reconciliation_mismatches
       WHERE run_id = $1 AND (CAST($2 AS TEXT) IS NULL OR category = $2) AND seq > $3
       ORDER BY seq LIMIT $4`,
      [runId, query.category ?? null, query.after ?? 0, query.limit],
    );
    return rows.map((r) => toMismatch(r, this.db.dialect === 'postgres'));
  }

  async mismatch(runId: string, seq: number): Promise<(Mismatch & { seq: number }) | undefined> {
    const [row] = await this.db.query<MismatchRow>(
      'SELECT * FROM reconciliation_mismatches WHERE run_id = $1 AND seq = $2',
      [runId, seq],
    );
    return row && toMismatch(row, this.db.dialect === 'postgres');
  }

  async resolve(runId: string, seq: number, resolution: ExtraResolution): Promise<boolean> {
    const json = JSON.stringify(resolution);
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<{ system: string; dossier: string }>(
        `UPDATE reconciliation_mismatches SET resolution = $3
         WHERE run_id = $1 AND seq = $2 AND resolution IS NULL RETURNING system, dossier`,
        [runId, seq, json],
      );
      if (row === undefined) return false;
      if (resolution.action === 'acknowledged')
        await tx.run(
          `INSERT INTO reconciliation_acknowledged (system, dossier, run_id, resolution) VALUES ($1, $2, $3, $4)
           ON CONFLICT (system, dossier) DO UPDATE SET run_id = excluded.run_id, resolution = excluded.resolution`,
          [row.system, row.dossier, runId, json],
        );
      return true;
    });
  }

  async acknowledged(
    system: string,
    dossiers: readonly string[],
  ): Promise<Map<string, ExtraResolution & { fromRun: string }>> {
    const out = new Map<string, ExtraResolution & { fromRun: string }>();
    for (let i = 0; i < dossiers.length; i += 500) {
      const chunk = dossiers.slice(i, i + 500);
      const rows = await this.db.query<{ dossier: string; run_id: string; resolution: unknown }>(
        `SELECT dossier, run_id, resolution FROM reconciliation_acknowledged
         WHERE system = $1 AND dossier IN (${chunk.map((_, j) => `$${j + 2}`).join(', ')})`,
        [system, ...chunk],
      );
      for (const r of rows) {
        const resolution = (
          typeof r.resolution === 'string' ? JSON.parse(r.resolution) : r.resolution
        ) as ExtraResolution;
        out.set(r.dossier, { ...resolution, fromRun: r.run_id });
      }
    }
    return out;
  }
}
