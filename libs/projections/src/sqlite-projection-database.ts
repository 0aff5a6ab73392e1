import { DatabaseSync } from 'node:sqlite';
import { StoreUnavailableError } from '#lgsp/event-store';

/** Options of {@link openProjectionDatabase}. */
export interface ProjectionDatabaseOptions {
  /** How long a statement waits for another connection's lock before failing. @defaultValue 5000 */
  busyTimeoutMs?: number;
  /** SQLite page cache of the connection, in KiB. @defaultValue 16384 (16 MiB) */
  cacheSizeKiB?: number;
}

/**
 * Opens (creating when missing) a SQLite file for read models, apart from the event store's file:
 * WAL, so that readers on other connections never block its writer nor wait for it, and
 * `synchronous=FULL`, so that a committed batch and its checkpoint survive a power loss together.
 * @throws StoreUnavailableError when the file cannot be opened or is not usable in WAL mode.
 */
export function openProjectionDatabase(file: string, options: ProjectionDatabaseOptions = {}): DatabaseSync {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(file, { timeout: options.busyTimeoutMs ?? 5000 });
    const mode = db.prepare('PRAGMA journal_mode = WAL').get();
    if (mode?.journal_mode !== 'wal')
      throw new Error(`journal_mode is ${String(mode?.journal_mode)}, not wal`);
    db.exec('PRAGMA synchronous = FULL');
    db.exec(`PRAGMA cache_size = -${options.cacheSizeKiB ?? 16_384}`);
    return db;
  } catch (err) {
    if (db?.isOpen) db.close();
    throw new StoreUnavailableError(`cannot open the projection database at ${file}`, err);
  }
}
