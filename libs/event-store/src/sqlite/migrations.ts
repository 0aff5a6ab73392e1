import type { DatabaseSync } from 'node:sqlite';
import { StoreUnavailableError } from '../errors.js';

/** One forward step of a component's schema. Versions start at 1 and increase by 1. */
export interface Migration {
  version: number;
  description: string;
  /** SQL run inside the migration's transaction. */
  sql: string;
}

/**
 * Runs `fn` inside `BEGIN IMMEDIATE … COMMIT` on `db`, rolling back when it throws. `fn` must be
 * synchronous: `node:sqlite` runs on the caller's thread, so nothing else can use the connection
 * until it returns.
 */
export function runInTransaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

/** The schema version of `component` recorded in `db`, 0 when none is (without writing anything). */
export function schemaVersion(db: DatabaseSync, component: string): number {
  const table = db
    .prepare(`SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`)
    .get();
  if (table === undefined) return 0;
  const row = db.prepare('SELECT version FROM schema_version WHERE component = ?').get(component);
  return row === undefined ? 0 : Number(row.version);
}

/**
 * Brings `component`'s tables up to the last of `migrations`, recording the version in the
 * `schema_version` table (one row per component, so the store and co-located read models migrate
 * independently). Returns the version now in place.
 * @throws StoreUnavailableError when the file holds a newer schema than this build knows.
 */
export function applyMigrations(
  db: DatabaseSync,
  component: string,
  migrations: readonly Migration[],
): number {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  ordered.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`${component}: migrations must be numbered 1, 2, 3…`);
  });
  const latest = ordered.length;
  return runInTransaction(db, () => {
    db.exec(
      `CREATE TABLE IF NOT EXISTS schema_version (
         component TEXT PRIMARY KEY,
         version INTEGER NOT NULL,
         updated_at TEXT NOT NULL
       ) STRICT`,
    );
    const row = db.prepare('SELECT version FROM schema_version WHERE component = ?').get(component);
    const current = row === undefined ? 0 : Number(row.version);
    if (current > latest) {
      throw new StoreUnavailableError(
        `the database schema of ${component} is at version ${current}; this build knows up to ${latest}`,
      );
    }
    for (const m of ordered.slice(current)) db.exec(m.sql);
    if (current !== latest) {
      db.prepare(
        `INSERT INTO schema_version (component, version, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (component) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
      ).run(component, latest, new Date().toISOString());
    }
    return latest;
  });
}
