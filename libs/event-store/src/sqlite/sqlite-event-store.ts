import {
  appendPrepared,
  noGroupCommits,
  settleCalls,
  type CallOutcome,
  type PendingCall as GroupCall,
} from '../group-calls.js';
import {
  EVENT_COLUMNS,
  hashPending,
  prepareEvents,
  toStoredEvent,
  type EventRow,
  type PendingEvent,
  tellListeners,
  appendedAt,
} from '../records.js';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { DomainError } from '#lgsp/contracts';
import {
  ReadOnlyStoreError,
  StoreUnavailableError,
  WrongExpectedVersionError,
  type VersionConflict,
} from '../errors.js';
import { GENESIS_HASH } from '../hash.js';
import {
  ANY_VERSION,
  type AppendOptions,
  type AppendResult,
  type CheckpointStore,
  type EventStore,
  type EventToAppend,
  type Head,
  type ReadAllOptions,
  type ReadStreamOptions,
  type SourceId,
  type StoredEvent,
  type Unsubscribe,
} from '../port.js';
import { GenerationCache } from '../generation-cache.js';
import { migrateSqliteFile, sqliteSchemaVersion } from '#lgsp/storage/sqlite';
import { SqliteCheckpointStore } from './checkpoint-store.js';
import type { SqliteEventStoreOptions, SqliteEventStoreStats } from './options.js';
import { DEFAULT_READ_LIMIT, ReadAllStatements } from './read-all-statements.js';
import { EVENT_STORE_COMPONENT, EVENT_STORE_MIGRATIONS } from './schema.js';

export type { SqliteEventStoreOptions, SqliteEventStoreStats } from './options.js';

type PendingCall = GroupCall<PendingEvent>;

/**
 * The embedded event store: one SQLite file (WAL, `synchronous=FULL`), written by one connection.
 *
 * `append` calls made while a commit is running are queued and committed together in the next
 * transaction (group commit): each call keeps its own savepoint, so a call that fails its
 * expected-version check is rolled back alone, while the group shares one fsync. A promise resolves
 * only after COMMIT has returned.
 *
 * One instance per file writes; other threads and processes may read the file, e.g. through a
 * `readOnly` instance. If another writer appends anyway, the store notices at its next group and
 * reloads its head before assigning positions.
 */
/** Writes a group commit carries (see {@link SqliteEventStore.addCommitCompanion}). */
export interface CommitCompanion {
  /** Inside the group's transaction, on the store's connection, synchronously; throwing fails the group. */
  write(): void;
  /** After the group: committed, or rolled back (what `write` wrote is gone). Must not throw. */
  settled(committed: boolean): void;
}

export class SqliteEventStore implements EventStore {
  /** Durable per-subscriber positions in the same file. */
  readonly checkpoints: CheckpointStore;

  private readonly maxGroupSize: number;
  private readonly queue: PendingCall[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly listeners = new Set<(head: number) => void>();
  /** The last head the listeners were told about. */
  private notifiedHead = 0;
  /** Committed stream versions, in least-recently-appended order. */
  private readonly streamVersions: GenerationCache<number>;
  private headPosition = 0;
  private headHash = GENESIS_HASH;
  private headRecordedAt = '';
  private readonly counters: SqliteEventStoreStats = noGroupCommits();
  private readonly companions = new Set<CommitCompanion>();

  private readonly begin: StatementSync;
  private readonly commit: StatementSync;
  private readonly rollback: StatementSync;
  private readonly savepoint: StatementSync;
  private readonly rollbackToSavepoint: StatementSync;
  private readonly releaseSavepoint: StatementSync;
  private readonly insertEvent: StatementSync;
  private readonly selectBySourceId: StatementSync;
  private readonly selectStreamVersion: StatementSync;
  private readonly selectHead: StatementSync;
  private readonly selectStream: StatementSync;
  private readonly readAllStatements: ReadAllStatements;

  private readonly file: string;
  private readonly readOnly: boolean;

  private constructor(
    private readonly db: DatabaseSync,
    options: SqliteEventStoreOptions,
  ) {
    this.file = options.file;
    this.readOnly = options.readOnly ?? false;
    this.maxGroupSize = positiveInteger(options.maxGroupSize ?? 512, 'maxGroupSize');
    this.streamVersions = new GenerationCache<number>(
      positiveInteger(options.streamCacheSize ?? 100_000, 'streamCacheSize'),
    );
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.prepare('SAVEPOINT append_call');
    this.rollbackToSavepoint = db.prepare('ROLLBACK TO append_call');
    this.releaseSavepoint = db.prepare('RELEASE append_call');
    this.insertEvent = db.prepare(
      // A duplicate (source, id) inserts nothing; the writer then reads the stored event back.
      `INSERT INTO events (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (source, id) DO NOTHING`,
    );
    this.selectBySourceId = db.prepare(
      'SELECT position, stream, stream_version FROM events WHERE source = ? AND id = ?',
    );
    this.selectStreamVersion = db.prepare(
      'SELECT stream_version FROM events WHERE stream = ? ORDER BY stream_version DESC LIMIT 1',
    );
    this.selectHead = db.prepare(
      'SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1',
    );
    this.selectStream = db.prepare(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream = ? AND stream_version >= ? ORDER BY stream_version LIMIT ?`,
    );
    this.readAllStatements = new ReadAllStatements(db);
    this.checkpoints = new SqliteCheckpointStore(
      db,
      () => this.assertOpen(),
      this.readOnly ? this.file : null,
    );
    this.loadHead();
    this.notifiedHead = this.headPosition;
  }

  /**
   * Opens (creating or migrating when needed) the store in `options.file`; with `readOnly`, opens an
   * existing store without writing to it.
   * @throws StoreUnavailableError when the file cannot be opened or is not usable in WAL mode, and,
   * read-only, when it does not hold the schema version this build knows.
   */
  static open(options: SqliteEventStoreOptions): SqliteEventStore {
    if (options.readOnly) return SqliteEventStore.openReadOnly(options);
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(options.file, { timeout: options.busyTimeoutMs ?? 5000 });
      const mode = db.prepare('PRAGMA journal_mode = WAL').get();
      if (mode?.journal_mode !== 'wal')
        throw new Error(`journal_mode is ${String(mode?.journal_mode)}, not wal`);
      // FULL syncs the WAL on every commit: an acknowledged append survives a power loss.
      db.exec('PRAGMA synchronous = FULL');
      // The indexes of a growing log outgrow SQLite's 2 MB default page cache within ~100k events;
      // a larger cache and memory-mapped reads keep appends and reads off the read() syscall path.
      db.exec(`PRAGMA cache_size = -${options.cacheSizeKiB ?? 65_536}`);
      db.exec(`PRAGMA mmap_size = ${options.mmapSizeBytes ?? 268_435_456}`);
      // Each append call runs in a savepoint; SQLite keeps the savepoint's undo pages in a
      // sub-journal, which should be memory, not a temporary file written for every page.
      db.exec('PRAGMA temp_store = MEMORY');
      // Checkpoint the WAL every 64 MiB instead of every 4 MiB: a page rewritten by many commits is
      // copied back to the database (and fsynced) once per checkpoint rather than once per commit.
      db.exec(`PRAGMA wal_autocheckpoint = ${options.walAutocheckpointPages ?? 16_384}`);
      migrateSqliteFile(db, EVENT_STORE_COMPONENT, EVENT_STORE_MIGRATIONS);
      return new SqliteEventStore(db, options);
    } catch (err) {
      if (db?.isOpen) db.close();
      if (err instanceof DomainError) throw err;
      throw new StoreUnavailableError(`cannot open the event store at ${options.file}`, err);
    }
  }

  private static openReadOnly(options: SqliteEventStoreOptions): SqliteEventStore {
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(options.file, { readOnly: true, timeout: options.busyTimeoutMs ?? 5000 });
      // A reader of a rollback-journal file would block its writer; the writer sets WAL when it creates it.
      const mode = db.prepare('PRAGMA journal_mode').get();
      if (mode?.journal_mode !== 'wal')
        throw new Error(`journal_mode is ${String(mode?.journal_mode)}, not wal`);
      db.exec(`PRAGMA cache_size = -${options.cacheSizeKiB ?? 65_536}`);
      db.exec(`PRAGMA mmap_size = ${options.mmapSizeBytes ?? 268_435_456}`);
      const version = sqliteSchemaVersion(db, EVENT_STORE_COMPONENT);
      const expected = EVENT_STORE_MIGRATIONS.length;
      if (version !== expected) {
        throw new StoreUnavailableError(
          `the event store at ${options.file} has schema version ${version}, this build reads version ${expected}; ` +
            'open it writable once (start the hub) to create or migrate it',
        );
      }
      return new SqliteEventStore(db, options);
    } catch (err) {
      if (db?.isOpen) db.close();
      if (err instanceof DomainError) throw err;
      throw new StoreUnavailableError(`cannot open the event store at ${options.file} read-only`, err);
    }
  }

  /** The store's connection, for read models kept in the same file. Use it synchronously only. */
  /**
   * Writes that ride in every group commit's transaction, before its COMMIT (e.g. the keys the group's
   * events are sealed with): durable exactly when the events are. Returns how to remove it.
   */
  addCommitCompanion(companion: CommitCompanion): () => void {
    this.companions.add(companion);
    return () => this.companions.delete(companion);
  }

  get database(): DatabaseSync {
    this.assertOpen();
    return this.db;
  }

  /** A copy of the counters. */
  stats(): SqliteEventStoreStats {
    return { ...this.counters };
  }

  append(events: readonly EventToAppend[], options?: AppendOptions): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the event store is closed'));
    if (this.readOnly) return Promise.reject(new ReadOnlyStoreError(this.file));
    return appendPrepared(
      events,
      prepareEvents,
      (pending) =>
        new Promise<AppendResult[]>((resolve, reject) => {
          this.queue.push({ events: pending, resolve, reject, onCommitted: options?.onCommitted });
          this.scheduleFlush();
        }),
    );
  }

  async streamVersion(stream: string): Promise<number> {
    this.assertOpen();
    const row = this.selectStreamVersion.get(stream);
    return row === undefined ? 0 : (row.stream_version as number);
  }

  async findStored(keys: readonly SourceId[]): Promise<(AppendResult | undefined)[]> {
    this.assertOpen();
    return keys.map((k) => this.storedAt(k));
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const limit = options.limit ?? DEFAULT_READ_LIMIT;
    if (limit <= 0) return [];
    const rows = this.selectStream.all(stream, options.fromVersion ?? 1, limit);
    return rows.map((r) => toStoredEvent(r as unknown as EventRow));
  }

  /**
   * Events after `options.after` in position order. A filter that is absent matches everything; an
   * empty list matches nothing. A filtered read seeks through an index (see `readAllSql`).
   */
  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const query = this.readAllStatements.query(options);
    if (query === undefined) return [];
    return query.stmt.all(...query.params).map((r) => toStoredEvent(r as unknown as EventRow));
  }

  /**
   * How SQLite runs `readAll(options)`: the `detail` lines of EXPLAIN QUERY PLAN for the very statement
   * readAll uses, empty when the read needs no query. For diagnosing slow reads.
   */
  explainReadAll(options: ReadAllOptions = {}): string[] {
    this.assertOpen();
    const query = this.readAllStatements.query(options);
    if (query === undefined) return [];
    return this.db
      .prepare(`EXPLAIN QUERY PLAN ${query.stmt.sourceSQL}`)
      .all(...query.params)
      .map((r) => String(r.detail));
  }

  async head(): Promise<Head> {
    this.assertOpen();
    const row = this.selectHead.get();
    if (row === undefined) return { position: 0 };
    return { position: row.position as number, recordedAt: row.recorded_at as string };
  }

  onAppended(listener: (head: number) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Reads the head on disk and, when it is past the last head the `onAppended` listeners were given,
   * calls them with it. For a reader of a file another connection appends to (a read-only store),
   * whose own appends never notify; returns the head position.
   */
  async checkForAppends(): Promise<number> {
    this.assertOpen();
    const row = this.selectHead.get();
    const head = row === undefined ? 0 : (row.position as number);
    if (head > this.notifiedHead) this.notify(head);
    return head;
  }

  /** Commits the appends already queued, then closes the file. Later calls reject with StoreUnavailableError. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.queue.length > 0) this.flush();
    this.closed = true;
    this.listeners.clear();
    this.db.close();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.closed) return;
      this.flush();
      if (this.queue.length > 0) this.scheduleFlush();
    });
  }

  /** Commits up to maxGroupSize queued calls in one transaction, then settles their promises. */
  private flush(): void {
    const group = this.queue.splice(0, this.maxGroupSize);
    if (group.length === 0) return;
    this.counters.appendCalls += group.length;
    this.counters.largestGroup = Math.max(this.counters.largestGroup, group.length);

    let outcomes: CallOutcome[];
    try {
      this.begin.run();
    } catch (err) {
      this.failGroup(
        group,
        new StoreUnavailableError('the event store cannot start a write transaction', err),
      );
      return;
    }
    let position: number;
    let hash: string;
    let recordedAt: string;
    let committedVersions: Map<string, number>;
    try {
      this.syncHeadWithDisk();
      position = this.headPosition;
      hash = this.headHash;
      const now = new Date().toISOString();
      // Never earlier than the head, so recordedAt is monotonic along positions even if the clock steps back.
      recordedAt = now > this.headRecordedAt ? now : this.headRecordedAt;
      committedVersions = new Map();
      outcomes = [];
      for (const call of group) {
        const outcome = this.appendCall(call.events, position, hash, recordedAt, committedVersions);
        outcomes.push(outcome.outcome);
        position = outcome.position;
        hash = outcome.hash;
      }
      for (const companion of this.companions) companion.write();
      this.commit.run();
    } catch (err) {
      for (const companion of this.companions) companion.settled(false);
      if (this.db.isTransaction) {
        try {
          this.rollback.run();
        } catch {
          // The connection rolls back by itself when it cannot; the head is reloaded below either way.
        }
      }
      this.failGroup(
        group,
        new StoreUnavailableError('the event store could not commit; nothing was appended', err),
      );
      return;
    }

    this.counters.commits += 1;
    for (const companion of this.companions) companion.settled(true);
    const advanced = position !== this.headPosition;
    this.headPosition = position;
    this.headHash = hash;
    if (advanced) this.headRecordedAt = recordedAt;
    for (const [stream, version] of committedVersions) this.rememberVersion(stream, version);
    settleCalls(group, outcomes, this.counters);
    if (advanced) this.notify(position);
  }

  /**
   * Appends one call's events inside its own savepoint. Conflicts and per-call failures roll back
   * this call only; an error that ended the whole transaction propagates.
   */
  private appendCall(
    events: readonly PendingEvent[],
    startPosition: number,
    startHash: string,
    recordedAt: string,
    groupVersions: Map<string, number>,
  ): { outcome: CallOutcome; position: number; hash: string } {
    // Only a conditional call can fail on its own (an expected-version conflict), so only it pays for
    // a savepoint (SQLite copies every page it then touches into a sub-journal); and a call of one
    // event is checked before its insert, so its conflict leaves nothing to undo. Any other failure is
    // the storage's, and that rolls back and fails the whole group.
    const savepoint = events.length > 1 && events.some((e) => e.expectedVersion !== ANY_VERSION);
    if (savepoint) this.savepoint.run();
    let position = startPosition;
    let hash = startHash;
    const callVersions = new Map<string, number>();
    const results: AppendResult[] = [];
    const conflicts: VersionConflict[] = [];
    try {
      for (let index = 0; index < events.length; index++) {
        const e = events[index] as PendingEvent;
        const current =
          callVersions.get(e.stream) ?? groupVersions.get(e.stream) ?? this.committedVersion(e.stream);
        const versionMismatch = e.expectedVersion !== ANY_VERSION && e.expectedVersion !== current;
        // A stored (source, id) is a duplicate whatever its expected version. The common path learns
        // that from the insert itself; a mismatch or an already lost call asks before deciding.
        if (versionMismatch || conflicts.length > 0) {
          const stored = this.duplicateOf(e);
          if (stored) {
            results.push(stored);
            continue;
          }
        }
        if (versionMismatch) {
          conflicts.push({ index, stream: e.stream, expected: e.expectedVersion as number, actual: current });
          continue;
        }
        const streamVersion = current + 1;
        // The call is already lost: keep counting versions so later conflicts report what this call would have made.
        if (conflicts.length > 0) {
          callVersions.set(e.stream, streamVersion);
          continue;
        }
        const recordHashValue = hashPending(hash, e, position + 1, streamVersion, recordedAt);
        const inserted = this.insertEvent.run(
          position + 1,
          e.stream,
          streamVersion,
          e.id,
          e.source,
          e.type,
          e.time ?? null,
          e.subject ?? null,
          e.datacontenttype ?? null,
          e.dataschema ?? null,
          e.dataJson,
          e.extensionsJson,
          e.provinceCode ?? null,
          e.communeCode ?? null,
          recordedAt,
          recordHashValue,
          hash,
        );
        if (inserted.changes === 0) {
          const stored = this.duplicateOf(e);
          if (!stored)
            throw new Error(`insert of ${e.source} ${e.id} was ignored but no such event is stored`);
          results.push(stored);
          continue;
        }
        position += 1;
        callVersions.set(e.stream, streamVersion);
        hash = recordHashValue;
        results.push(appendedAt(e, streamVersion, position));
      }
    } catch (err) {
      if (!savepoint || !this.db.isTransaction) throw err;
      this.rollbackToSavepoint.run();
      this.releaseSavepoint.run();
      for (const e of events) this.streamVersions.delete(e.stream);
      return {
        outcome: { ok: false, error: new StoreUnavailableError('the event store could not append', err) },
        position: startPosition,
        hash: startHash,
      };
    }
    if (conflicts.length > 0) {
      if (savepoint) {
        this.rollbackToSavepoint.run();
        this.releaseSavepoint.run();
      }
      return {
        outcome: { ok: false, error: new WrongExpectedVersionError(conflicts) },
        position: startPosition,
        hash: startHash,
      };
    }
    if (savepoint) this.releaseSavepoint.run();
    for (const [stream, version] of callVersions) groupVersions.set(stream, version);
    return { outcome: { ok: true, results }, position, hash };
  }

  private duplicateOf(e: PendingEvent): AppendResult | undefined {
    return this.storedAt(e);
  }

  private storedAt(e: SourceId): AppendResult | undefined {
    const stored = this.selectBySourceId.get(e.source, e.id);
    if (stored === undefined) return undefined;
    return {
      id: e.id,
      source: e.source,
      stream: stored.stream as string,
      streamVersion: stored.stream_version as number,
      position: stored.position as number,
      duplicate: true,
    };
  }

  private failGroup(group: readonly PendingCall[], error: StoreUnavailableError): void {
    this.counters.failedGroups += 1;
    this.reloadFromDisk();
    for (const call of group) call.reject(error);
  }

  private committedVersion(stream: string): number {
    const cached = this.streamVersions.get(stream);
    if (cached !== undefined) return cached;
    const row = this.selectStreamVersion.get(stream);
    return row === undefined ? 0 : (row.stream_version as number);
  }

  private rememberVersion(stream: string, version: number): void {
    this.streamVersions.set(stream, version);
  }

  private loadHead(): void {
    const row = this.selectHead.get();
    this.headPosition = row === undefined ? 0 : (row.position as number);
    this.headHash = row === undefined ? GENESIS_HASH : (row.hash as string);
    this.headRecordedAt = row === undefined ? '' : (row.recorded_at as string);
  }

  /** After a failed group: the disk is the truth for head and stream versions. */
  private reloadFromDisk(): void {
    this.streamVersions.clear();
    try {
      this.loadHead();
    } catch {
      // The next group re-reads the head inside its transaction (syncHeadWithDisk).
    }
  }

  /** Inside the write transaction: picks up appends made by another connection since our last commit. */
  private syncHeadWithDisk(): void {
    const row = this.selectHead.get();
    const position = row === undefined ? 0 : (row.position as number);
    const hash = row === undefined ? GENESIS_HASH : (row.hash as string);
    if (position !== this.headPosition || hash !== this.headHash) {
      this.streamVersions.clear();
      this.headPosition = position;
      this.headHash = hash;
      this.headRecordedAt = row === undefined ? '' : (row.recorded_at as string);
    }
  }

  private notify(head: number): void {
    this.notifiedHead = Math.max(this.notifiedHead, head);
    tellListeners(this.listeners, head);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('the event store is closed');
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}
