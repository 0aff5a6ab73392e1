import { DomainError } from '#lgsp/contracts';

/**
 * The hub's SQL-database port: what a store needs of SQLite or PostgreSQL, and nothing of either
 * driver (the drivers are `#lgsp/storage/sqlite` and `#lgsp/storage/postgres`). A store is written
 * once against it, with a dialect branch only where the SQL really differs (upserts of arrays,
 * column types in migrations).
 *
 * Placeholders are PostgreSQL's: `$1`, `$2`… numbered from 1, a number may repeat. The SQLite driver
 * reads them as `?1`, `?2`…, so one statement text serves both; do not write `$` followed by a digit
 * inside a string literal.
 */
export type SqlDialect = 'sqlite' | 'postgres';

/** Runs statements: the database itself, or one transaction on it. */
export interface SqlExecutor {
  readonly dialect: SqlDialect;
  /** The rows the statement returns (SELECT, or a write with RETURNING). */
  query<T extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a write and returns how many rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

/** Options of {@link SqlDatabase.transaction}. */
export interface TransactionOptions {
  /**
   * SQLite: commit without an fsync of its own (`synchronous = NORMAL` for that commit, the connection's
   * level restored after). The transaction is durable with the next commit on the file that syncs the
   * write-ahead log, and a crash of the process loses nothing. PostgreSQL: an ordinary transaction.
   * See `durableWithNextCommit`.
   */
  withNextCommit?: boolean;
}

/** One database: a SQLite file (or memory) or one PostgreSQL schema. */
export interface SqlDatabase extends SqlExecutor {
  /**
   * Runs `fn` in one transaction (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a pooled client), committed
   * when it resolves, rolled back when it throws. Use `tx`, never the database, inside `fn`. On SQLite
   * the connection is the caller's thread: `fn` must await nothing but `tx`, so the transaction ends
   * before any other callback (the event store's group commit) runs on the connection.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Brings `component`'s tables up to the last of `migrations` under a lock (SQLite's write lock, a
   * PostgreSQL advisory lock), recording the version in `schema_version`. Returns the version in place.
   * @throws StoreUnavailableError when the database holds a newer version than `migrations` know, or
   * cannot be reached.
   */
  migrate(component: string, migrations: readonly SqlMigration[]): Promise<number>;
  /** Every component's version, as recorded in `schema_version`. */
  versions(): Promise<ComponentVersion[]>;
  /** Ends what this object opened (a database it was handed stays its owner's to close). */
  close(): Promise<void>;
}

/** One forward step of a component's schema, in both dialects. Versions start at 1 and increase by 1. */
export interface SqlMigration {
  version: number;
  description: string;
  sqlite: string;
  postgres: string;
}

/**
 * One forward step of a component that lives in one dialect only (the event store's tables differ
 * per database): the driver's `migrateSteps` runs it under the same lock and `schema_version` row.
 */
export interface DialectMigration {
  version: number;
  description: string;
  /** SQL run inside the migration's transaction (PostgreSQL: with `search_path` set to the schema). */
  sql: string;
}

/** One row of `schema_version`. */
export interface ComponentVersion {
  component: string;
  version: number;
}

/** The store cannot be reached or is shutting down; the caller may retry. */
export class StoreUnavailableError extends DomainError {
  constructor(message: string, cause?: unknown) {
    super('unavailable', message, [], { cause, retriable: true });
    this.name = 'StoreUnavailableError';
  }
}

/** `schema_version`: one row per component, so that tables sharing a database migrate independently. */
export const SCHEMA_VERSION_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_version (
    component TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL
  )`;

/** Records `version` for `component` in `schema_version` (both dialects). */
export const UPSERT_SCHEMA_VERSION = `
  INSERT INTO schema_version (component, version, updated_at) VALUES ($1, $2, $3)
  ON CONFLICT (component) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`;

/**
 * The migrations still to run for a database at `current`, checked: numbered 1, 2, 3… and not
 * behind the database. Shared by both drivers.
 */
export function pendingMigrations<M extends { version: number }>(
  component: string,
  migrations: readonly M[],
  current: number,
  where: string,
): { latest: number; pending: M[] } {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  ordered.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`${component}: migrations must be numbered 1, 2, 3…`);
  });
  const latest = ordered.length;
  if (current > latest) {
    throw new StoreUnavailableError(
      `the database schema${where} of ${component} is at version ${current}; this build knows up to ${latest}`,
    );
  }
  return { latest, pending: ordered.slice(current) };
}

/**
 * A JSON column as read: PostgreSQL's driver parses JSONB itself, SQLite keeps the TEXT written.
 * Write JSON as `JSON.stringify(value)` in both.
 */
export function readJson<T = unknown>(dialect: SqlDialect, value: unknown): T {
  return (dialect === 'sqlite' ? JSON.parse(value as string) : value) as T;
}

export * from './sql-store.js';
export * from './turn-batch.js';
