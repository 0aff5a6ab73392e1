import type { GroupCommitStats } from '../group-calls.js';
/** Options of {@link SqliteEventStore.open}. */
export interface SqliteEventStoreOptions {
  /** SQLite page cache of the connection, in KiB. @defaultValue 65536 (64 MiB) */
  cacheSizeKiB?: number;
  /** How much of the file SQLite may memory-map for reads. @defaultValue 268435456 (256 MiB) */
  mmapSizeBytes?: number;
  /** WAL size, in 4 KiB pages, that triggers a checkpoint. @defaultValue 16384 (64 MiB) */
  walAutocheckpointPages?: number;
  /** Path of the database file; created with its schema when missing (unless `readOnly`). */
  file: string;
  /**
   * Opens an existing store for reading only, e.g. from another thread or process than its writer:
   * no migration runs and nothing is written; `append` and `checkpoints.save` reject with
   * ReadOnlyStoreError. The file must exist, be in WAL mode and hold the schema this build knows.
   * Appends by the writer are seen by reads at once; {@link SqliteEventStore.checkForAppends}
   * turns them into `onAppended` notifications. @defaultValue false
   */
  readOnly?: boolean;
  /**
   * Most append calls committed together in one transaction (one fsync).
   * @defaultValue 512
   */
  maxGroupSize?: number;
  /**
   * How long a write waits for another connection's lock before failing.
   * @defaultValue 5000
   */
  busyTimeoutMs?: number;
  /**
   * Streams whose current version is kept in memory (least recently appended evicted first).
   * @defaultValue 100000
   */
  streamCacheSize?: number;
}

/** Counters since the store was opened; `commits` < `appendCalls` shows group commit at work. */
export type SqliteEventStoreStats = GroupCommitStats;
