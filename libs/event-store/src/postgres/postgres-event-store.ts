import { appendPrepared } from '../group-calls.js';
import { EVENT_COLUMNS, prepareEvents, storedDuplicate, toStoredEvent, type EventRow } from '../records.js';
import pg from 'pg';
import type { Pool, PoolClient } from 'pg';
import { DomainError } from '#lgsp/contracts';
import { StoreUnavailableError } from '../errors.js';
import type {
  AppendOptions,
  AppendResult,
  CheckpointStore,
  EventStore,
  EventToAppend,
  Head,
  ReadAllOptions,
  ReadStreamOptions,
  SourceId,
  StoredEvent,
  Unsubscribe,
} from '../port.js';
import { PostgresCheckpointStore, queryPool } from './checkpoint-store.js';
import { GroupCommit, type PostgresEventStoreStats } from './group-commit.js';
import { POSTGRES_EVENT_STORE_COMPONENT, POSTGRES_EVENT_STORE_MIGRATIONS } from './migrations.js';
import { AppendNotifier } from './notifications.js';
import { DEFAULT_READ_LIMIT, readAllQuery, STORED_SQL, type StoredRow } from './sql.js';
import { migratePostgresSchema, postgresUnavailable } from './unavailable.js';

export type { PostgresEventStoreStats } from './group-commit.js';

/** Options of {@link PostgresEventStore.open}. */
export interface PostgresEventStoreOptions {
  /** `postgres://user@host:port/database`. */
  connectionString: string;
  /** Schema holding the store's tables; created when missing. @defaultValue 'public' */
  schema?: string;
  /** Connections of the pool used for reads and checkpoints; appends have a connection of their own. @defaultValue 10 */
  poolSize?: number;
  /** Most append calls committed together in one transaction. @defaultValue 512 */
  maxGroupSize?: number;
  /** `application_name` of the store's connections, as seen in `pg_stat_activity`. @defaultValue 'lgsp-event-store' */
  applicationName?: string;
  /** Delay before the LISTEN connection is re-established after it failed. @defaultValue 1000 */
  listenReconnectMs?: number;
}

/**
 * The production event store on PostgreSQL (`pg`).
 *
 * **Global order.** Every append transaction takes a transaction-level advisory lock keyed on the
 * schema (`pg_advisory_xact_lock`) before it writes head + 1…, and holds it until COMMIT, so appends
 * from every process are serialised: positions are gap-free, the hash chain is linear, and a reader
 * never sees n+1 without n. (Sequence positions with readers gated on `pg_snapshot_xmin` would let
 * writers run in parallel, but leave gaps, cannot build a linear hash chain at insert time, and make
 * every reader reason about in-flight transactions.) The cost, one commit at a time per database, is
 * paid back by the group commit (group-commit.ts).
 *
 * **Notifications.** After each commit the in-process `onAppended` listeners are called; the INSERT
 * also NOTIFYs the new head on a channel per schema, which the LISTEN connection of every other store
 * instance turns into `onAppended` calls (notifications.ts).
 */
export class PostgresEventStore implements EventStore {
  readonly checkpoints: CheckpointStore;

  private closed = false;
  private readonly commits: GroupCommit;
  private readonly notifier: AppendNotifier;

  private constructor(
    private readonly pool: Pool,
    options: PostgresEventStoreOptions,
    readonly schema: string,
  ) {
    const maxGroupSize = options.maxGroupSize ?? 512;
    if (!Number.isSafeInteger(maxGroupSize) || maxGroupSize < 1)
      throw new RangeError('maxGroupSize must be a positive integer');
    const applicationName = options.applicationName ?? 'lgsp-event-store';
    const isClosed = () => this.closed;
    this.notifier = new AppendNotifier({
      connectionString: options.connectionString,
      applicationName,
      channel: `lgsp_appended:${schema}`,
      reconnectMs: options.listenReconnectMs ?? 1000,
      head: async () => (await this.head()).position,
      isClosed,
    });
    this.commits = new GroupCommit({
      connectionString: options.connectionString,
      applicationName,
      schema,
      maxGroupSize,
      onCommitted: (head) => this.notifier.notify(head),
      isClosed,
    });
    this.checkpoints = new PostgresCheckpointStore(pool, () => this.assertOpen());
    // A failed idle connection must not crash the process; the next query reports the failure.
    pool.on('error', () => undefined);
  }

  /**
   * Connects, creates or migrates the schema, and starts listening for appends by other processes.
   * @throws StoreUnavailableError when PostgreSQL cannot be reached or holds a newer schema.
   */
  static async open(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
    const schema = options.schema ?? 'public';
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      application_name: options.applicationName ?? 'lgsp-event-store',
      options: `-c search_path=${pg.escapeIdentifier(schema)}`,
    });
    const store = new PostgresEventStore(pool, options, schema);
    try {
      await store.migrate();
      await store.notifier.start((await store.head()).position);
      return store;
    } catch (err) {
      await store.close().catch(() => undefined);
      if (err instanceof DomainError) throw err;
      throw new StoreUnavailableError(`cannot open the event store on PostgreSQL (schema ${schema})`, err);
    }
  }

  /** Applies the pending migrations (also run by `open`); returns the schema version in place. */
  async migrate(): Promise<number> {
    const client = await this.connect();
    try {
      return await migratePostgresSchema(
        client,
        this.schema,
        POSTGRES_EVENT_STORE_COMPONENT,
        POSTGRES_EVENT_STORE_MIGRATIONS,
      );
    } finally {
      client.release();
    }
  }

  /**
   * The store's connection pool (its `search_path` is the store's schema), for the hub's other tables
   * in the same database: clients, dossier views and subscriber leases. Do not end it; `close` does.
   */
  get database(): Pool {
    return this.pool;
  }

  stats(): PostgresEventStoreStats {
    return { ...this.commits.counters };
  }

  append(events: readonly EventToAppend[], options?: AppendOptions): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the event store is closed'));
    return appendPrepared(events, prepareEvents, (pending) => this.commits.append(pending, options));
  }

  async streamVersion(stream: string): Promise<number> {
    const { rows } = await this.query<{ v: string | null }>(
      'SELECT max(stream_version) AS v FROM events WHERE stream = $1',
      [stream],
    );
    return Number(rows[0]?.v ?? 0);
  }

  async findStored(keys: readonly SourceId[]): Promise<(AppendResult | undefined)[]> {
    if (keys.length === 0) return [];
    const { rows } = await this.query<StoredRow>(STORED_SQL, [
      keys.map((k) => k.source),
      keys.map((k) => k.id),
    ]);
    const stored = new Map(rows.map((r) => [`${r.source}\n${r.id}`, r]));
    return keys.map((k) => {
      const r = stored.get(`${k.source}\n${k.id}`);
      return r === undefined ? undefined : storedDuplicate(r);
    });
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    const limit = options.limit ?? DEFAULT_READ_LIMIT;
    if (limit <= 0) return [];
    const { rows } = await this.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream = $1 AND stream_version >= $2 ORDER BY stream_version LIMIT $3`,
      [stream, options.fromVersion ?? 1, limit],
    );
    return rows.map(toStoredEvent);
  }

  /**
   * Events after `options.after` in position order. An absent filter matches everything; an empty list
   * nothing. A read scoped to communes or provinces seeks through their index (see `readAllSql`).
   */
  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    const query = this.readAllPlan(options);
    if (query === undefined) return [];
    const { rows } = await this.query<EventRow>(query.sql, query.params);
    return rows.map(toStoredEvent);
  }

  /**
   * How PostgreSQL runs `readAll(options)` now: the lines of EXPLAIN for the very query and parameters
   * readAll sends, empty when the read needs no query. For diagnosing slow reads.
   */
  async explainReadAll(options: ReadAllOptions = {}): Promise<string[]> {
    const query = this.readAllPlan(options);
    if (query === undefined) return [];
    const { rows } = await this.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${query.sql}`, query.params);
    return rows.map((r) => r['QUERY PLAN']);
  }

  /** The query of `readAll(options)`; none when the read needs no query (the store must still be open). */
  private readAllPlan(options: ReadAllOptions): ReturnType<typeof readAllQuery> {
    const query = readAllQuery(options);
    if (query === undefined) this.assertOpen();
    return query;
  }

  async head(): Promise<Head> {
    const { rows } = await this.query<{ position: string; recorded_at: string }>(
      'SELECT position, recorded_at FROM events ORDER BY position DESC LIMIT 1',
    );
    const row = rows[0];
    return row === undefined
      ? { position: 0 }
      : { position: Number(row.position), recordedAt: row.recorded_at };
  }

  onAppended(listener: (head: number) => void): Unsubscribe {
    return this.notifier.onAppended(listener);
  }

  /** Commits the appends already queued, then closes the connections. Later calls reject with StoreUnavailableError. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.commits.drain();
    this.closed = true;
    await this.notifier.close();
    await this.commits.close();
    await this.pool.end();
  }

  private async connect(): Promise<PoolClient> {
    this.assertOpen();
    try {
      return await this.pool.connect();
    } catch (err) {
      throw postgresUnavailable(err, 'cannot connect to PostgreSQL');
    }
  }

  private async query<R extends pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    this.assertOpen();
    return queryPool<R>(this.pool, sql, params, 'the event store cannot read');
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('the event store is closed');
  }
}
