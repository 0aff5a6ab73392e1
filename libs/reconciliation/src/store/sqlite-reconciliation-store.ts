import type { DatabaseSync } from 'node:sqlite';
import { applyMigrations, runInTransaction, type Migration } from '#lgsp/event-store/sqlite';
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

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'reconciliation runs and their mismatches',
    // `seq` orders the runs (newest first) and pages the mismatches; scope, progress and the
    // mismatch counts are JSON, read and written whole.
    sql: `
      CREATE TABLE reconciliation_runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        target TEXT NOT NULL,
        scope TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('running', 'completed', 'failed')),
        by TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        log_position INTEGER,
        progress TEXT NOT NULL,
        mismatches TEXT NOT NULL,
        error TEXT
      ) STRICT;
      CREATE TABLE reconciliation_mismatches (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES reconciliation_runs (id),
        dossier TEXT NOT NULL,
        system TEXT NOT NULL,
        field TEXT NOT NULL,
        expected TEXT NOT NULL,
        actual TEXT NOT NULL,
        category TEXT NOT NULL,
        detected_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX reconciliation_mismatches_run ON reconciliation_mismatches (run_id, seq);
      CREATE INDEX reconciliation_mismatches_category ON reconciliation_mismatches (run_id, category, seq);
    `,
  },
];

/** Reconciliation runs and their mismatches in the embedded events database. */
export class SqliteReconciliationStore implements ReconciliationStore {
  constructor(private readonly db: DatabaseSync) {
    applyMigrations(db, RECONCILIATION_COMPONENT, MIGRATIONS);
  }

  async create(run: ReconciliationRun): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO reconciliation_runs
           (id, target, scope, state, by, started_at, finished_at, log_position, progress, mismatches, error)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
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
      );
  }

  async update(run: ReconciliationRun): Promise<void> {
    this.db
      .prepare(
        `UPDATE reconciliation_runs
         SET state = ?, finished_at = ?, log_position = ?, progress = ?, mismatches = ?, error = ?
         WHERE id = ?`,
      )
      .run(
        run.state,
        run.finishedAt ?? null,
        run.logPosition ?? null,
        JSON.stringify(run.progress),
        JSON.stringify(run.mismatches),
        run.error ?? null,
        run.id,
      );
  }

  async addMismatches(runId: string, mismatches: readonly Mismatch[]): Promise<void> {
    if (mismatches.length === 0) return;
    const insert = this.db.prepare(
      `INSERT INTO reconciliation_mismatches
         (run_id, dossier, system, field, expected, actual, category, detected_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    runInTransaction(this.db, () => {
      for (const m of mismatches) {
        insert.run(
          runId,
          m.dossier,
          m.system,
          m.field,
          jsonValue(m.expected),
          jsonValue(m.actual),
          m.category,
          m.detectedAt,
        );
      }
    });
  }

  async get(id: string): Promise<ReconciliationRun | undefined> {
    const row = this.db.prepare('SELECT * FROM reconciliation_runs WHERE id = ?').get(id) as
      RunRow | undefined;
    return row && toRun(row);
  }

  async list(query: ListQuery): Promise<ReconciliationRun[]> {
    const rows =
      query.after === undefined
        ? this.db.prepare('SELECT * FROM reconciliation_runs ORDER BY seq DESC LIMIT ?').all(query.limit)
        : this.db
            .prepare(
              `SELECT * FROM reconciliation_runs
               WHERE seq < (SELECT seq FROM reconciliation_runs WHERE id = ?)
               ORDER BY seq DESC LIMIT ?`,
            )
            .all(query.after, query.limit);
    return (rows as unknown as RunRow[]).map(toRun);
  }

  async mismatches(
    runId: string,
    query: { limit: number; after?: number; category?: MismatchCategory },
  ): Promise<(Mismatch & { seq: number })[]> {
    const rows =
      query.category === undefined
        ? this.db
            .prepare(
              'SELECT * FROM reconciliation_mismatches WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?',
            )
            .all(runId, query.after ?? 0, query.limit)
        : this.db
            .prepare(
              `SELECT * FROM reconciliation_mismatches
               WHERE run_id = ? AND category = ? AND seq > ? ORDER BY seq LIMIT ?`,
            )
            .all(runId, query.category, query.after ?? 0, query.limit);
    return (rows as unknown as MismatchRow[]).map((r) => toMismatch(r, false));
  }
}
