import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { ChainRecord, ChainSource } from '../chain.js';
import { StoreUnavailableError } from '../errors.js';
import { EVENT_COLUMNS, toChainRecord, type EventRow } from '../records.js';
import { sqliteSchemaVersion } from '#lgsp/storage/sqlite';
import { EVENT_STORE_COMPONENT, EVENT_STORE_MIGRATIONS } from './schema.js';

/** Rows read per query. */
const PAGE_ROWS = 2000;

/**
 * The records of an SQLite event store file, for `lgsp verify`: the hub's own file (running or
 * stopped) or a copy of it anywhere. The file is opened read-only and nothing runs that could write
 * it (no migration, no checkpoint). Without a `-wal` file beside it, it is opened immutable, so that
 * SQLite does not even create its `-wal` and `-shm` files next to a copy. All records are read in one
 * read transaction: a snapshot, even while the hub appends.
 * @throws StoreUnavailableError when the file is missing, is not an SQLite database, or holds no
 * event store this build reads.
 */
export function openSqliteChainSource(file: string): ChainSource {
  if (!existsSync(file))
    throw new StoreUnavailableError(`no event store at ${file}: the file does not exist`);
  const url = pathToFileURL(file);
  if (!existsSync(`${file}-wal`)) url.searchParams.set('immutable', '1');
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(url, { readOnly: true });
    const version = sqliteSchemaVersion(db, EVENT_STORE_COMPONENT);
    if (version === 0) throw new StoreUnavailableError(`${file} holds no event store (no events table)`);
    if (version > EVENT_STORE_MIGRATIONS.length) {
      throw new StoreUnavailableError(
        `the event store at ${file} has schema version ${version}; this build reads up to ${EVENT_STORE_MIGRATIONS.length}`,
      );
    }
    db.exec('BEGIN');
    return new SqliteChainSource(db, file);
  } catch (err) {
    if (db?.isOpen) db.close();
    if (err instanceof StoreUnavailableError) throw err;
    throw new StoreUnavailableError(`cannot read the event store at ${file}: ${(err as Error).message}`, err);
  }
}

class SqliteChainSource implements ChainSource {
  private readonly page: StatementSync;

  constructor(
    private readonly db: DatabaseSync,
    readonly name: string,
  ) {
    this.page = db.prepare(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`,
    );
  }

  async head(): Promise<number> {
    const row = this.read(() => this.db.prepare('SELECT max(position) AS head FROM events').get());
    return Number(row?.head ?? 0);
  }

  async *records(): AsyncIterable<ChainRecord> {
    let after = 0;
    for (;;) {
      const rows = this.read(() => this.page.all(after, PAGE_ROWS)) as unknown as EventRow[];
      for (const row of rows) yield toChainRecord(row);
      const last = rows.at(-1);
      if (last === undefined || rows.length < PAGE_ROWS) return;
      after = Number(last.position);
    }
  }

  async close(): Promise<void> {
    if (!this.db.isOpen) return;
    if (this.db.isTransaction) this.db.exec('ROLLBACK');
    this.db.close();
  }

  private read<T>(query: () => T): T {
    try {
      return query();
    } catch (err) {
      throw new StoreUnavailableError(
        `cannot read the event store at ${this.name}: ${(err as Error).message}`,
        err,
      );
    }
  }
}
