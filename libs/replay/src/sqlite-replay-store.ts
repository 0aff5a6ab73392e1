import type { DatabaseSync } from 'node:sqlite';
import { applyMigrations, runInTransaction, type Migration } from '#lgsp/event-store/sqlite';
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

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'replay runs and their items',
    sql: `
      CREATE TABLE replay_runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        target TEXT NOT NULL,
        scope TEXT NOT NULL,
        unit TEXT NOT NULL CHECK (unit IN ('dossier', 'event')),
        state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'completed', 'cancelled', 'failed')),
        by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT,
        total INTEGER NOT NULL,
        done INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        chunk_size INTEGER NOT NULL,
        rate_per_second REAL NOT NULL,
        error TEXT
      ) STRICT;
      CREATE INDEX replay_runs_state ON replay_runs (state, seq);
      CREATE TABLE replay_items (
        run_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        item TEXT NOT NULL,
        PRIMARY KEY (run_id, idx)
      ) STRICT, WITHOUT ROWID;
    `,
  },
];

/** Replay runs in the embedded events database; each write is one `BEGIN IMMEDIATE` transaction. */
export class SqliteReplayStore implements ReplayStore {
  constructor(private readonly db: DatabaseSync) {
    applyMigrations(db, REPLAY_COMPONENT, MIGRATIONS);
  }

  async create(run: ReplayRun, items: readonly string[]): Promise<void> {
    runInTransaction(this.db, () => {
      this.db
        .prepare(
          `INSERT INTO replay_runs (${RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(...runValues(run));
      const insert = this.db.prepare('INSERT INTO replay_items (run_id, idx, item) VALUES (?, ?, ?)');
      items.forEach((item, i) => insert.run(run.id, i, item));
    });
  }

  async get(id: string): Promise<ReplayRun | undefined> {
    return this.find(id);
  }

  async list(query: { limit: number; after?: string }): Promise<ReplayRun[]> {
    const rows =
      query.after === undefined
        ? this.db.prepare('SELECT * FROM replay_runs ORDER BY seq DESC LIMIT ?').all(query.limit)
        : this.db
            .prepare(
              `SELECT * FROM replay_runs
               WHERE seq < COALESCE((SELECT seq FROM replay_runs WHERE id = ?), 0)
               ORDER BY seq DESC LIMIT ?`,
            )
            .all(query.after, query.limit);
    return (rows as unknown as ReplayRunRow[]).map(toReplayRun);
  }

  async items(id: string, from: number, limit: number): Promise<string[]> {
    const rows = this.db
      .prepare('SELECT item FROM replay_items WHERE run_id = ? AND idx >= ? ORDER BY idx LIMIT ?')
      .all(id, from, limit) as { item: string }[];
    return rows.map((r) => r.item);
  }

  async advance(id: string, done: number, failed: number, at: string): Promise<ReplayRun> {
    this.db
      .prepare(
        `UPDATE replay_runs SET done = ?, failed = ?, updated_at = ? WHERE id = ? AND state = 'running'`,
      )
      .run(done, failed, at, id);
    const run = this.find(id);
    if (!run) throw unknownRun(id);
    return run;
  }

  async transition(id: string, command: ReplayCommand, at: string, error?: string): Promise<ReplayRun> {
    return runInTransaction(this.db, () => {
      const run = this.find(id);
      if (!run) throw unknownRun(id);
      const next = applyCommand(run, command, at, error);
      this.db
        .prepare('UPDATE replay_runs SET state = ?, updated_at = ?, finished_at = ?, error = ? WHERE id = ?')
        .run(next.state, next.updatedAt, next.finishedAt ?? null, next.error ?? null, id);
      return next;
    });
  }

  async running(): Promise<ReplayRun[]> {
    const rows = this.db.prepare(`SELECT * FROM replay_runs WHERE state = 'running' ORDER BY seq`).all();
    return (rows as unknown as ReplayRunRow[]).map(toReplayRun);
  }

  private find(id: string): ReplayRun | undefined {
    const row = this.db.prepare('SELECT * FROM replay_runs WHERE id = ?').get(id) as ReplayRunRow | undefined;
    return row ? toReplayRun(row) : undefined;
  }
}
