import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import {
  SCHEMA_VERSION_TABLE,
  StoreUnavailableError,
  UPSERT_SCHEMA_VERSION,
  pendingMigrations,
  type ComponentVersion,
  type DialectMigration,
  type SqlDatabase,
  type SqlExecutor,
  type SqlMigration,
  type TransactionOptions,
} from '#lgsp/storage';

const readLevel = new WeakMap<DatabaseSync, StatementSync>();

/** Sets `synchronous = NORMAL` on `db` (outside a transaction) and returns the level it had. */
function unsync(db: DatabaseSync): number {
  let statement = readLevel.get(db);
  if (statement === undefined) readLevel.set(db, (statement = db.prepare('PRAGMA synchronous')));
  const was = Number(statement.get()?.synchronous ?? 2);
  db.exec('PRAGMA synchronous = NORMAL');
  return was;
}

/**
 * Runs `fn` with the commits it makes on `db` (an autocommit statement, or a transaction it begins and
 * ends) made without an fsync: `synchronous = NORMAL`, the connection's level restored after, also
 * when `fn` throws. Such a commit is durable with the next commit on the file that syncs the
 * write-ahead log (an fsync of the log covers every frame before it); a crash of the process loses
 * nothing. The level cannot change inside a transaction: call it outside one. (The asynchronous form
 * is `SqliteDatabase.transaction` with `withNextCommit`.)
 */
export function withUnsyncedCommits<T>(db: DatabaseSync, fn: () => T): T {
  const was = unsync(db);
  try {
    return fn();
  } finally {
    db.exec(`PRAGMA synchronous = ${was}`);
  }
}

/** Options of {@link SqliteDatabase.open}. */
export interface SqliteOpenOptions {
  /** How long a statement waits for another connection's lock before failing. @defaultValue 5000 */
  busyTimeoutMs?: number;
  /** SQLite page cache of the connection, in KiB. @defaultValue 16384 (16 MiB) */
  cacheSizeKiB?: number;
}

/**
 * Transactions queued in this thread. node:sqlite runs on the caller's thread, so transactions of one
 * thread never ran side by side anyway; taking turns keeps two stores on one connection out of each
 * other's transaction, and keeps a second connection to the same file from waiting, thread blocked, for
 * the write lock of a transaction that cannot finish until it gives up (busy timeout). Each worker
 * thread has its own turns.
 */
class Turns {
  private tail: Promise<unknown> = Promise.resolve();
  /** Transactions running or waiting; a statement outside them runs at once only when there are none. */
  waiting = 0;

  take<T>(fn: () => Promise<T>): Promise<T> {
    this.waiting++;
    const turn = this.tail.then(fn).finally(() => {
      this.waiting--;
    });
    this.tail = turn.catch(() => undefined);
    return turn;
  }
}

const turns = new Turns();

/**
 * The port's placeholders as SQLite's: `$1`, `$2`… each once and in order become plain `?` (binding
 * a statement's numbered `?NNN` parameters costs node:sqlite about six times as much: 27 µs against
 * 4 µs per row of an 11-column multi-row INSERT); any other use (a parameter repeated or out of
 * order) becomes `?1`, `?2`…, as SQLite numbers them.
 */
export function toSqlite(sql: string): string {
  const numbers = [...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
  if (numbers.every((n, i) => n === i + 1)) return sql.replace(/\$\d+/g, '?');
  return sql.replace(/\$(\d+)/g, '?$1');
}

/** node:sqlite binds no booleans nor undefined: 1/0 and NULL, as the tables store them. */
function bind(params: readonly unknown[]): SQLInputValue[] {
  return params.map((p) => {
    if (p === undefined) return null;
    if (typeof p === 'boolean') return p ? 1 : 0;
    return p as SQLInputValue;
  });
}

/** Statements on one connection, prepared once per text. */
class SqliteExecutor implements SqlExecutor {
  readonly dialect = 'sqlite';
  private readonly statements = new Map<string, StatementSync>();

  constructor(readonly db: DatabaseSync) {}

  query<T extends object>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return Promise.resolve(this.rows<T>(sql, params));
  }

  run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return Promise.resolve(this.changes(sql, params));
  }

  rows<T>(sql: string, params: readonly unknown[]): T[] {
    return this.prepare(sql).all(...bind(params)) as T[];
  }

  changes(sql: string, params: readonly unknown[]): number {
    return Number(this.prepare(sql).run(...bind(params)).changes);
  }

  private prepare(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(toSqlite(sql));
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/**
 * A SQLite connection as a {@link SqlDatabase}. Statements run synchronously on the caller's thread;
 * a transaction is `BEGIN IMMEDIATE` (it waits up to the busy timeout for another process's write
 * lock) and the transactions of one thread take turns.
 */
export class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite';
  private readonly executor: SqliteExecutor;
  private readonly turns = turns;

  private constructor(
    readonly connection: DatabaseSync,
    private readonly owned: boolean,
  ) {
    this.executor = new SqliteExecutor(connection);
  }

  /**
   * Opens (creating when missing) a SQLite file, or `':memory:'`: WAL, so that readers on other
   * connections never block its writer nor wait for it, and `synchronous=FULL`, so that a commit
   * survives a power loss. Closing the database closes the connection.
   * @throws StoreUnavailableError when the file cannot be opened or is not usable in WAL mode.
   */
  static open(file: string, options: SqliteOpenOptions = {}): SqliteDatabase {
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(file, { timeout: options.busyTimeoutMs ?? 5000 });
      if (file !== ':memory:') {
        const mode = db.prepare('PRAGMA journal_mode = WAL').get();
        if (mode?.journal_mode !== 'wal')
          throw new Error(`journal_mode is ${String(mode?.journal_mode)}, not wal`);
      }
      db.exec('PRAGMA synchronous = FULL');
      db.exec(`PRAGMA cache_size = -${options.cacheSizeKiB ?? 16_384}`);
      return new SqliteDatabase(db, true);
    } catch (err) {
      if (db?.isOpen) db.close();
      throw new StoreUnavailableError(`cannot open the SQLite database at ${file}`, err);
    }
  }

  /** A connection opened elsewhere (the event store's): its settings are kept and it stays open at close. */
  static over(connection: DatabaseSync): SqliteDatabase {
    return new SqliteDatabase(connection, false);
  }

  query<T extends object>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    if (this.turns.waiting === 0) return this.executor.query<T>(sql, params);
    return this.turns.take(() => this.executor.query<T>(sql, params));
  }

  run(sql: string, params: readonly unknown[] = []): Promise<number> {
    if (this.turns.waiting === 0) return this.executor.run(sql, params);
    return this.turns.take(() => this.executor.run(sql, params));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return this.turns.take(async () => {
      const db = this.connection;
      // See withUnsyncedCommits; the level is restored once the transaction has ended (`fn` awaits
      // nothing but this connection, so nothing else commits on it meanwhile).
      const was = options?.withNextCommit === true ? unsync(db) : undefined;
      try {
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(this.executor);
          db.exec('COMMIT');
          return result;
        } catch (err) {
          if (db.isTransaction) db.exec('ROLLBACK');
          throw err;
        }
      } finally {
        if (was !== undefined) db.exec(`PRAGMA synchronous = ${was}`);
      }
    });
  }

  async migrate(component: string, migrations: readonly SqlMigration[]): Promise<number> {
    const steps = migrations.map(({ version, description, sqlite }) => ({
      version,
      description,
      sql: sqlite,
    }));
    return this.turns.take(async () => migrateSqliteFile(this.connection, component, steps));
  }

  async versions(): Promise<ComponentVersion[]> {
    if (!hasSchemaVersion(this.connection)) return [];
    const rows = await this.query<ComponentVersion>(
      'SELECT component, version FROM schema_version ORDER BY component',
    );
    return rows.map((r) => ({ component: r.component, version: Number(r.version) }));
  }

  async close(): Promise<void> {
    if (this.owned && this.connection.isOpen) this.connection.close();
  }
}

/** Whether `db` has a `schema_version` table (read without writing anything). */
function hasSchemaVersion(db: DatabaseSync): boolean {
  const table = db
    .prepare(`SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`)
    .get();
  return table !== undefined;
}

/** The schema version of `component` recorded in `db`, 0 when none is (without writing anything). */
export function sqliteSchemaVersion(db: DatabaseSync, component: string): number {
  if (!hasSchemaVersion(db)) return 0;
  const row = db.prepare('SELECT version FROM schema_version WHERE component = ?').get(component);
  return row === undefined ? 0 : Number(row.version);
}

/**
 * Brings `component`'s tables up to the last of `steps` inside one `BEGIN IMMEDIATE` transaction on
 * `db` (SQLite's write lock serialises processes migrating the same file), recording the version in
 * `schema_version`. Synchronous: the event store migrates in its synchronous `open`, and
 * {@link SqliteDatabase.migrate} runs it in its turn. Returns the version in place.
 * @throws StoreUnavailableError when the file holds a newer version than `steps` know.
 */
export function migrateSqliteFile(
  db: DatabaseSync,
  component: string,
  steps: readonly DialectMigration[],
): number {
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(`${SCHEMA_VERSION_TABLE} STRICT`);
    const current = sqliteSchemaVersion(db, component);
    const { latest, pending } = pendingMigrations(component, steps, current, '');
    for (const m of pending) db.exec(m.sql);
    if (current !== latest)
      db.prepare(toSqlite(UPSERT_SCHEMA_VERSION)).run(component, latest, new Date().toISOString());
    db.exec('COMMIT');
    return latest;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
