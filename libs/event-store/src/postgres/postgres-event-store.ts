import { hashPending, prepareEvents, toStoredEvent, type EventRow, type PendingEvent } from '../records.js';
import pg from 'pg';
import type { Notification, Pool, PoolClient } from 'pg';
import { DomainError } from '#lgsp/contracts';
import { StoreUnavailableError, WrongExpectedVersionError, type VersionConflict } from '../errors.js';
import { GENESIS_HASH } from '../hash.js';
import {
  ANY_VERSION,
  type AppendResult,
  type CheckpointStore,
  type EventStore,
  type EventToAppend,
  type Head,
  type ReadAllOptions,
  type ReadStreamOptions,
  type StoredEvent,
  type Unsubscribe,
} from '../port.js';
import { applyPostgresMigrations } from './migrations.js';

/** Options of {@link PostgresEventStore.open}. */
export interface PostgresEventStoreOptions {
  /** `postgres://user@host:port/database`. */
  connectionString: string;
  /** Schema holding the store's tables; created when missing. @defaultValue 'public' */
  schema?: string;
  /** Connections of the pool used for reads, checkpoints and append transactions. @defaultValue 10 */
  poolSize?: number;
  /** Most append calls committed together in one transaction. @defaultValue 512 */
  maxGroupSize?: number;
  /** `application_name` of the store's connections, as seen in `pg_stat_activity`. @defaultValue 'lgsp-event-store' */
  applicationName?: string;
  /** Delay before the LISTEN connection is re-established after it failed. @defaultValue 1000 */
  listenReconnectMs?: number;
}

/** Counters since the store was opened; `commits` < `appendCalls` shows group commit at work. */
export interface PostgresEventStoreStats {
  commits: number;
  appendCalls: number;
  eventsAppended: number;
  duplicates: number;
  conflicts: number;
  failedGroups: number;
  largestGroup: number;
}

interface PendingCall {
  events: PendingEvent[];
  resolve(results: AppendResult[]): void;
  reject(error: unknown): void;
}

interface Row {
  position: number;
  stream: string;
  streamVersion: number;
  e: PendingEvent;
  recordedAt: string;
  hash: string;
  prevHash: string;
}

const EVENT_COLUMNS =
  'position, stream, stream_version, id, source, type, time, subject, datacontenttype, dataschema, data, ' +
  'extensions, province_code, commune_code, recorded_at, hash, prev_hash';

const DEFAULT_READ_LIMIT = 1000;

/** SQLSTATE classes and codes that mean "the server or the connection is gone; try again later". */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '53000', '40001', '40P01']);
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);

/**
 * The production event store on PostgreSQL (`pg`).
 *
 * **Global order.** Every append transaction first takes a transaction-level advisory lock keyed on
 * the schema (`pg_advisory_xact_lock`), then reads the head (position, hash) and writes head + 1…
 * The lock is held until COMMIT, so appends from every process are serialised: positions are
 * gap-free, the hash chain is linear, and a transaction holding position n+1 cannot start before the
 * one holding n has committed, so a reader never sees n+1 without n. The alternative, sequence
 * positions with readers gated on `pg_snapshot_xmin`, lets writers run in parallel but leaves gaps
 * (rolled-back sequence values), cannot build a linear hash chain at insert time, and makes every
 * reader reason about in-flight transactions. The cost of serialising is one commit at a time per
 * database, which group commit below pays back.
 *
 * **Group commit.** `append` calls queued while a transaction runs are committed together in the
 * next one (up to `maxGroupSize`). Under the lock, the adapter reads the stored (source, id) pairs
 * and stream versions the group touches in two queries, decides duplicates and expected-version
 * conflicts in memory (a conflicting call is dropped alone, as a savepoint rollback would), and
 * writes every accepted event with one multi-row INSERT. Nobody else can write while the lock is
 * held, so the decisions stay true until COMMIT.
 *
 * **Notifications.** After each commit the in-process `onAppended` listeners are called; the
 * transaction also sends `NOTIFY` on a channel per schema with the new head, which a dedicated
 * LISTEN connection in every other store instance (other processes) turns into `onAppended` calls.
 */
export class PostgresEventStore implements EventStore {
  readonly checkpoints: CheckpointStore;

  private readonly queue: PendingCall[] = [];
  private flushing = false;
  private flushScheduled = false;
  private closed = false;
  private readonly listeners = new Set<(head: number) => void>();
  private notifiedHead = 0;
  private listenClient: pg.Client | undefined;
  private listenTimer: NodeJS.Timeout | undefined;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => undefined;
  private readonly maxGroupSize: number;
  private readonly lockKey: string;
  private readonly channel: string;
  private readonly counters: PostgresEventStoreStats = {
    commits: 0,
    appendCalls: 0,
    eventsAppended: 0,
    duplicates: 0,
    conflicts: 0,
    failedGroups: 0,
    largestGroup: 0,
  };

  private constructor(
    private readonly pool: Pool,
    private readonly options: PostgresEventStoreOptions,
    readonly schema: string,
  ) {
    this.maxGroupSize = options.maxGroupSize ?? 512;
    if (!Number.isSafeInteger(this.maxGroupSize) || this.maxGroupSize < 1)
      throw new RangeError('maxGroupSize must be a positive integer');
    this.lockKey = `lgsp-event-store:${schema}`;
    this.channel = `lgsp_appended:${schema}`;
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
      store.notifiedHead = (await store.head()).position;
      await store.listen();
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
      return await applyPostgresMigrations(client, this.schema);
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
    return { ...this.counters };
  }

  append(events: readonly EventToAppend[]): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the event store is closed'));
    let pending: PendingEvent[];
    try {
      pending = prepareEvents(events);
    } catch (err) {
      return Promise.reject(err);
    }
    if (pending.length === 0) return Promise.resolve([]);
    return new Promise<AppendResult[]>((resolve, reject) => {
      this.queue.push({ events: pending, resolve, reject });
      this.scheduleFlush();
    });
  }

  async streamVersion(stream: string): Promise<number> {
    const { rows } = await this.query<{ v: string | null }>(
      'SELECT max(stream_version) AS v FROM events WHERE stream = $1',
      [stream],
    );
    return Number(rows[0]?.v ?? 0);
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

  /** Events after `options.after` in position order. An absent filter matches everything; an empty list nothing. */
  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    const limit = options.limit ?? DEFAULT_READ_LIMIT;
    const { types, provinceCodes, communeCodes } = options;
    if (limit <= 0 || [types, provinceCodes, communeCodes].some((list) => list?.length === 0)) {
      this.assertOpen();
      return [];
    }
    const params: unknown[] = [options.after ?? 0];
    let sql = `SELECT ${EVENT_COLUMNS} FROM events WHERE position > $1`;
    const filter = (column: string, list: readonly string[] | undefined) => {
      if (!list) return;
      params.push(list);
      sql += ` AND ${column} = ANY($${params.length}::text[])`;
    };
    filter('type', types);
    filter('province_code', provinceCodes);
    filter('commune_code', communeCodes);
    params.push(limit);
    sql += ` ORDER BY position LIMIT $${params.length}`;
    const { rows } = await this.query<EventRow>(sql, params);
    return rows.map(toStoredEvent);
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
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Commits the appends already queued, then closes the connections. Later calls reject with StoreUnavailableError. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.flushing || this.queue.length > 0) {
      if (!this.flushing) void this.flush();
      await this.idle;
    }
    this.closed = true;
    this.listeners.clear();
    if (this.listenTimer) clearTimeout(this.listenTimer);
    const client = this.listenClient;
    this.listenClient = undefined;
    await client?.end().catch(() => undefined);
    await this.pool.end();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing) return;
    this.flushScheduled = true;
    // setImmediate lets every append() of the current tick join the group.
    setImmediate(() => {
      this.flushScheduled = false;
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const group = this.queue.splice(0, this.maxGroupSize);
    if (group.length === 0) return;
    this.flushing = true;
    this.idle = new Promise((resolve) => (this.markIdle = resolve));
    try {
      await this.commitGroup(group);
    } finally {
      this.flushing = false;
      this.markIdle();
      if (this.queue.length > 0 && !this.closed) void this.flush();
    }
  }

  private async commitGroup(group: PendingCall[]): Promise<void> {
    this.counters.appendCalls += group.length;
    this.counters.largestGroup = Math.max(this.counters.largestGroup, group.length);
    let client: PoolClient | undefined;
    let outcomes: ({ ok: true; results: AppendResult[] } | { ok: false; error: unknown })[];
    let head: number;
    let appended: number;
    try {
      client = await this.pool.connect();
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.lockKey]);
      const decided = await this.decide(client, group);
      outcomes = decided.outcomes;
      head = decided.head;
      appended = decided.rows.length;
      if (appended > 0) {
        await insertRows(client, decided.rows);
        await client.query('SELECT pg_notify($1, $2)', [this.channel, String(head)]);
      }
      await client.query('COMMIT');
    } catch (err) {
      // If COMMIT itself failed, its outcome is unknown to us; a retry is safe because (source, id)
      // deduplicates, which is why the error is retriable.
      await client?.query('ROLLBACK').catch(() => undefined);
      client?.release(err instanceof Error ? err : true);
      client = undefined;
      this.counters.failedGroups += 1;
      const error = new StoreUnavailableError('the event store could not commit; retry the append', err);
      for (const call of group) call.reject(error);
      return;
    } finally {
      client?.release();
    }
    this.counters.commits += 1;
    group.forEach((call, i) => {
      const outcome = outcomes[i];
      if (outcome === undefined) return;
      if (outcome.ok) {
        for (const r of outcome.results) {
          if (r.duplicate) this.counters.duplicates += 1;
          else this.counters.eventsAppended += 1;
        }
        call.resolve(outcome.results);
      } else {
        if (outcome.error instanceof WrongExpectedVersionError) this.counters.conflicts += 1;
        call.reject(outcome.error);
      }
    });
    if (appended > 0) this.notify(head);
  }

  /** Inside the locked transaction: decides every call of the group against the stored state. */
  private async decide(client: PoolClient, group: readonly PendingCall[]) {
    const sources: string[] = [];
    const ids: string[] = [];
    const streams = new Set<string>();
    for (const call of group) {
      for (const e of call.events) {
        sources.push(e.source);
        ids.push(e.id);
        streams.add(e.stream);
      }
    }
    const [headResult, storedResult, versionResult] = [
      await client.query<{ position: string; hash: string; recorded_at: string }>(
        'SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1',
      ),
      await client.query<{
        source: string;
        id: string;
        position: string;
        stream: string;
        stream_version: string;
      }>(
        `SELECT e.source, e.id, e.position, e.stream, e.stream_version
           FROM events e JOIN unnest($1::text[], $2::text[]) AS k(source, id) ON e.source = k.source AND e.id = k.id`,
        [sources, ids],
      ),
      await client.query<{ stream: string; v: string }>(
        'SELECT stream, max(stream_version) AS v FROM events WHERE stream = ANY($1::text[]) GROUP BY stream',
        [[...streams]],
      ),
    ];
    const headRow = headResult.rows[0];
    let position = headRow ? Number(headRow.position) : 0;
    let hash = headRow ? headRow.hash : GENESIS_HASH;
    const now = new Date().toISOString();
    // Never earlier than the head, so recordedAt is monotonic along positions even if the clock steps back.
    const recordedAt = headRow && headRow.recorded_at > now ? headRow.recorded_at : now;
    const stored = new Map<string, AppendResult>();
    for (const r of storedResult.rows) {
      stored.set(key(r.source, r.id), {
        id: r.id,
        source: r.source,
        stream: r.stream,
        streamVersion: Number(r.stream_version),
        position: Number(r.position),
        duplicate: true,
      });
    }
    const versions = new Map<string, number>();
    for (const r of versionResult.rows) versions.set(r.stream, Number(r.v));

    const rows: Row[] = [];
    const outcomes = group.map((call) => {
      const callVersions = new Map<string, number>();
      const callStored = new Map<string, AppendResult>();
      const callRows: Row[] = [];
      const results: AppendResult[] = [];
      const conflicts: VersionConflict[] = [];
      let callPosition = position;
      let callHash = hash;
      call.events.forEach((e, index) => {
        const current = callVersions.get(e.stream) ?? versions.get(e.stream) ?? 0;
        // A stored (source, id) is a duplicate whatever its expected version.
        const k = key(e.source, e.id);
        const existing = callStored.get(k) ?? stored.get(k);
        if (existing) {
          results.push({ ...existing, duplicate: true });
          return;
        }
        if (e.expectedVersion !== ANY_VERSION && e.expectedVersion !== current) {
          conflicts.push({ index, stream: e.stream, expected: e.expectedVersion, actual: current });
          return;
        }
        const streamVersion = current + 1;
        callVersions.set(e.stream, streamVersion);
        // The call is already lost: keep counting versions so later conflicts report what it would have made.
        if (conflicts.length > 0) return;
        callPosition += 1;
        const recordHashValue = hashPending(callHash, e, callPosition, streamVersion, recordedAt);
        callRows.push({
          position: callPosition,
          stream: e.stream,
          streamVersion,
          e,
          recordedAt,
          hash: recordHashValue,
          prevHash: callHash,
        });
        callHash = recordHashValue;
        const result: AppendResult = {
          id: e.id,
          source: e.source,
          stream: e.stream,
          streamVersion,
          position: callPosition,
          duplicate: false,
        };
        callStored.set(k, result);
        results.push(result);
      });
      if (conflicts.length > 0)
        return { ok: false as const, error: new WrongExpectedVersionError(conflicts) };
      position = callPosition;
      hash = callHash;
      for (const [s, v] of callVersions) versions.set(s, v);
      for (const [k, r] of callStored) stored.set(k, r);
      rows.push(...callRows);
      return { ok: true as const, results };
    });
    return { outcomes, rows, head: position };
  }

  private notify(head: number): void {
    if (head <= this.notifiedHead) return;
    this.notifiedHead = head;
    for (const listener of this.listeners) {
      try {
        listener(head);
      } catch {
        // A listener's failure must not affect the writer or the other listeners.
      }
    }
  }

  /** Opens the LISTEN connection; on failure it retries, and after reconnecting catches up from the head. */
  private async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.options.connectionString,
      application_name: `${this.options.applicationName ?? 'lgsp-event-store'} listen`,
    });
    const retry = () => {
      if (this.listenClient === client) this.listenClient = undefined;
      void client.end().catch(() => undefined);
      if (this.closed || this.listenTimer) return;
      this.listenTimer = setTimeout(() => {
        this.listenTimer = undefined;
        if (this.closed) return;
        this.listen()
          .then(() => this.head())
          .then((h) => this.notify(h.position))
          .catch(() => retry());
      }, this.options.listenReconnectMs ?? 1000);
      this.listenTimer.unref();
    };
    client.on('error', retry);
    client.on('end', () => {
      if (!this.closed && this.listenClient === client) retry();
    });
    client.on('notification', (message: Notification) => {
      if (message.channel !== this.channel) return;
      const head = Number(message.payload);
      if (Number.isSafeInteger(head)) this.notify(head);
    });
    await client.connect();
    await client.query(`LISTEN ${client.escapeIdentifier(this.channel)}`);
    if (this.closed) {
      await client.end();
      return;
    }
    this.listenClient = client;
  }

  private async connect(): Promise<PoolClient> {
    this.assertOpen();
    try {
      return await this.pool.connect();
    } catch (err) {
      throw unavailable(err, 'cannot connect to PostgreSQL');
    }
  }

  private async query<R extends pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    this.assertOpen();
    try {
      return await this.pool.query<R>(sql, params);
    } catch (err) {
      throw unavailable(err, 'the event store cannot read');
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('the event store is closed');
  }
}

class PostgresCheckpointStore implements CheckpointStore {
  constructor(
    private readonly pool: Pool,
    private readonly assertOpen: () => void,
  ) {}

  async load(subscriber: string): Promise<number> {
    const { rows } = await this.query<{ position: string }>(
      'SELECT position FROM checkpoints WHERE subscriber = $1',
      [subscriber],
    );
    return Number(rows[0]?.position ?? 0);
  }

  async save(subscriber: string, position: number): Promise<void> {
    if (!Number.isSafeInteger(position) || position < 0) {
      throw new DomainError('invalid', `checkpoint position must be a non-negative integer, got ${position}`);
    }
    await this.query(
      `INSERT INTO checkpoints (subscriber, position, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (subscriber) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
      [subscriber, position, new Date().toISOString()],
    );
  }

  async list(): Promise<{ subscriber: string; position: number; updatedAt: string }[]> {
    const { rows } = await this.query<{ subscriber: string; position: string; updated_at: string }>(
      'SELECT subscriber, position, updated_at FROM checkpoints ORDER BY subscriber',
    );
    return rows.map((r) => ({
      subscriber: r.subscriber,
      position: Number(r.position),
      updatedAt: r.updated_at,
    }));
  }

  private async query<R extends pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    this.assertOpen();
    try {
      return await this.pool.query<R>(sql, params);
    } catch (err) {
      throw unavailable(err, 'the checkpoint store is unavailable');
    }
  }
}

/** One INSERT for the whole group: one array parameter per column, expanded by unnest. */
async function insertRows(client: PoolClient, rows: readonly Row[]): Promise<void> {
  const col = <T>(f: (r: Row) => T) => rows.map(f);
  await client.query(
    `INSERT INTO events (${EVENT_COLUMNS})
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
       $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
       $16::text[], $17::text[])`,
    [
      col((r) => r.position),
      col((r) => r.stream),
      col((r) => r.streamVersion),
      col((r) => r.e.id),
      col((r) => r.e.source),
      col((r) => r.e.type),
      col((r) => r.e.time ?? null),
      col((r) => r.e.subject ?? null),
      col((r) => r.e.datacontenttype ?? null),
      col((r) => r.e.dataschema ?? null),
      col((r) => r.e.dataJson),
      col((r) => r.e.extensionsJson),
      col((r) => r.e.provinceCode ?? null),
      col((r) => r.e.communeCode ?? null),
      col((r) => r.recordedAt),
      col((r) => r.hash),
      col((r) => r.prevHash),
    ],
  );
}

function key(source: string, id: string): string {
  return `${source.length}:${source}${id}`;
}

/** Connection loss, shutdown and overload become StoreUnavailableError (retriable); other errors pass through. */
export function unavailable(err: unknown, message: string): unknown {
  if (err instanceof DomainError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const text = err instanceof Error ? err.message : '';
  if (
    typeof code !== 'string' ||
    code.startsWith('08') ||
    UNAVAILABLE_SQLSTATES.has(code) ||
    UNAVAILABLE_NODE_CODES.has(code) ||
    /Connection terminated|timeout exceeded/i.test(text)
  ) {
    return new StoreUnavailableError(`${message}: ${text}`, err);
  }
  return err;
}
