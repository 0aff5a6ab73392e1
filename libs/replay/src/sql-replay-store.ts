import {
  SqlSchema,
  sqlMigration,
  type SqlColumnTypes,
  type SqlDatabase,
  type SqlExecutor,
} from '#lgsp/storage';
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

const runsTable = (types: SqlColumnTypes) => `
  CREATE TABLE replay_runs (
    seq ${types.serial},
    id TEXT NOT NULL UNIQUE,
    target TEXT NOT NULL,
    scope TEXT NOT NULL,
    unit TEXT NOT NULL CHECK (unit IN ('dossier', 'event')),
    state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'completed', 'cancelled', 'failed')),
    by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT,
    total ${types.big} NOT NULL,
    done ${types.big} NOT NULL,
    failed ${types.big} NOT NULL,
    chunk_size INTEGER NOT NULL,
    rate_per_second ${types.real} NOT NULL,
    error TEXT
  )${types.strict};
  CREATE INDEX replay_runs_state ON replay_runs (state, seq);
  CREATE TABLE replay_items (
    run_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (run_id, idx)
  )${types.strict}${types.strict && ', WITHOUT ROWID'};
`;

const SCHEMA = new SqlSchema(REPLAY_COMPONENT, [sqlMigration(1, 'replay runs and their items', runsTable)]);

/** Items inserted per statement when a run is created on PostgreSQL. */
const INSERT_BATCH = 5000;

const RUN_PLACEHOLDERS = Array.from({ length: 15 }, (_, i) => `$${i + 1}`).join(', ');

/**
 * Replay runs beside the events (the SQLite file or the PostgreSQL schema). Each write is one
 * transaction; a transition reads the run under a row lock on PostgreSQL (SQLite's `BEGIN IMMEDIATE`
 * already holds the file's).
 */
export class SqlReplayStore implements ReplayStore {
  /** Creates or migrates the replay tables (see {@link SqlSchema.opener}). */
  static readonly open = SCHEMA.opener((db) => new SqlReplayStore(db));

  private constructor(private readonly db: SqlDatabase) {}

  async create(run: ReplayRun, items: readonly string[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(`INSERT INTO replay_runs (${RUN_COLUMNS}) VALUES (${RUN_PLACEHOLDERS})`, runValues(run));
      if (tx.dialect === 'postgres') {
        for (let from = 0; from < items.length; from += INSERT_BATCH) {
          await tx.run(
            `INSERT INTO replay_items (run_id, idx, item)
             SELECT $1, $2::integer + ord - 1, item FROM unnest($3::text[]) WITH ORDINALITY AS t(item, ord)`,
            [run.id, from, items.slice(from, from + INSERT_BATCH)],
          );
        }
      } else {
        for (const [i, item] of items.entries())
          await tx.run('INSERT INTO replay_items (run_id, idx, item) VALUES ($1, $2, $3)', [run.id, i, item]);
      }
    });
  }

  async get(id: string): Promise<ReplayRun | undefined> {
    return find(this.db, id);
  }

  async list(query: { limit: number; after?: string }): Promise<ReplayRun[]> {
    const rows =
      query.after === undefined
        ? await this.db.query<ReplayRunRow>('SELECT * FROM replay_runs ORDER BY seq DESC LIMIT $1', [
            query.limit,
          ])
        : await this.db.query<ReplayRunRow>(
            `SELECT * FROM replay_runs
             WHERE seq < COALESCE((SELECT seq FROM replay_runs WHERE id = $1), 0)
             ORDER BY seq DESC LIMIT $2`,
            [query.after, query.limit],
          );
    return rows.map(toReplayRun);
  }

  async items(id: string, from: number, limit: number): Promise<string[]> {
    const rows = await this.db.query<{ item: string }>(
      'SELECT item FROM replay_items WHERE run_id = $1 AND idx >= $2 ORDER BY idx LIMIT $3',
      [id, from, limit],
    );
    return rows.map((r) => r.item);
  }

  async advance(id: string, done: number, failed: number, at: string): Promise<ReplayRun> {
    await this.db.run(
      `UPDATE replay_runs SET done = $2, failed = $3, updated_at = $4 WHERE id = $1 AND state = 'running'`,
      [id, done, failed, at],
    );
    const run = await this.get(id);
    if (!run) throw unknownRun(id);
    return run;
  }

  async transition(id: string, command: ReplayCommand, at: string, error?: string): Promise<ReplayRun> {
    return this.db.transaction(async (tx) => {
      const run = await find(tx, id, tx.dialect === 'postgres' ? ' FOR UPDATE' : '');
      if (!run) throw unknownRun(id);
      const next = applyCommand(run, command, at, error);
      await tx.run(
        'UPDATE replay_runs SET state = $2, updated_at = $3, finished_at = $4, error = $5 WHERE id = $1',
        [id, next.state, next.updatedAt, next.finishedAt ?? null, next.error ?? null],
      );
      return next;
    });
  }

  async running(): Promise<ReplayRun[]> {
    const rows = await this.db.query<ReplayRunRow>(
      `SELECT * FROM replay_runs WHERE state = 'running' ORDER BY seq`,
    );
    return rows.map(toReplayRun);
  }
}

async function find(on: SqlExecutor, id: string, lock = ''): Promise<ReplayRun | undefined> {
  const [row] = await on.query<ReplayRunRow>(`SELECT * FROM replay_runs WHERE id = $1${lock}`, [id]);
  return row && toReplayRun(row);
}
