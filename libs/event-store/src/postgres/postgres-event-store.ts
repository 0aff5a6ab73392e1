import {
  EVENT_COLUMNS,
  hashPending,
  prepareEvents,
  toStoredEvent,
  type EventRow,
  type PendingEvent,
} from '../records.js';
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
  type SourceId,
  type StoredEvent,
  type Unsubscribe,
} from '../port.js';
import { applyPostgresMigrations } from './migrations.js';
import { readAllSql } from './read-all-sql.js';
import { postgresUnavailable } from './unavailable.js';

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

/** Counters since the store was opened; `commits` < `appendCalls` shows group commit at work. */
export interface PostgresEventStoreStats {
  commits: number;
  appendCalls: number;
  eventsAppended: number;
  duplicates: number;
  conflicts: number;
  failedGroups: number;
  largestGroup: number;
  /** Commits of groups sent speculatively (the rest took the locked path). */
  speculativeCommits: number;
  /** Speculative groups that did not commit and ran again on the locked path. */
  redoneGroups: number;
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

const DEFAULT_READ_LIMIT = 1000;

/**
 * The INSERT's columns, in EVENT_COLUMNS order, each sent as an array ($1, $2…). A `shared` column
 * also has a scalar parameter after the arrays: when every row of the INSERT has the same value (the
 * source, type, codes or recordedAt of a batch, most often), the array is sent empty, unnest pads it
 * with NULLs, and the scalar fills them in.
 */
const INSERT_COLUMNS: readonly InsertColumn[] = [
  { type: 'bigint', value: (r) => r.position },
  { type: 'text', shared: true, value: (r) => r.stream },
  { type: 'bigint', value: (r) => r.streamVersion },
  { type: 'text', value: (r) => r.e.id },
  { type: 'text', shared: true, value: (r) => r.e.source },
  { type: 'text', shared: true, value: (r) => r.e.type },
  { type: 'text', shared: true, value: (r) => r.e.time },
  { type: 'text', shared: true, value: (r) => r.e.subject },
  { type: 'text', shared: true, value: (r) => r.e.datacontenttype },
  { type: 'text', shared: true, value: (r) => r.e.dataschema },
  { type: 'text', value: (r) => r.e.dataJson },
  { type: 'text', shared: true, value: (r) => r.e.extensionsJson },
  { type: 'text', shared: true, value: (r) => r.e.provinceCode },
  { type: 'text', shared: true, value: (r) => r.e.communeCode },
  { type: 'text', shared: true, value: (r) => r.recordedAt },
  { type: 'text', value: (r) => r.hash },
  { type: 'text', value: (r) => r.prevHash },
];
const SHARED_COLUMNS = INSERT_COLUMNS.filter((c) => c.shared).length;
/** The parameters after the arrays and the shared scalars: the guard's position and hash, then the NOTIFY's. */
const GUARD_PARAM = INSERT_COLUMNS.length + SHARED_COLUMNS + 1;

/** The query and parameters of `readAll(options)`, undefined when it matches nothing. */
function readAllQuery(options: ReadAllOptions): { sql: string; params: unknown[] } | undefined {
  const limit = options.limit ?? DEFAULT_READ_LIMIT;
  const filters = [options.types, options.provinceCodes, options.communeCodes];
  if (limit <= 0 || filters.some((list) => list?.length === 0)) return undefined;
  const types = [...new Set(options.types)];
  const provinces = [...new Set(options.provinceCodes)];
  const communes = [...new Set(options.communeCodes)];
  const sql = readAllSql(EVENT_COLUMNS, {
    types: types.length,
    provinces: provinces.length,
    communes: communes.length,
  });
  const arrays = [types, provinces, communes].filter((list) => list.length > 0);
  return { sql, params: [options.after ?? 0, limit, ...arrays] };
}

function insertArrayList(): string {
  return INSERT_COLUMNS.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
}

function insertSelectList(): string {
  let scalar = INSERT_COLUMNS.length;
  const names = EVENT_COLUMNS.split(', ');
  return INSERT_COLUMNS.map((c, i) =>
    c.shared ? `COALESCE(u.${names[i]}, $${++scalar}::text)` : `u.${names[i]}`,
  ).join(', ');
}

const LOCK_SQL = 'SELECT pg_advisory_xact_lock(hashtext($1))';
const HEAD_SQL = 'SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1';
const VERSIONS_SQL =
  'SELECT stream, max(stream_version) AS v FROM events WHERE stream = ANY($1::text[]) GROUP BY stream';
const STORED_SQL = `SELECT e.source, e.id, e.position, e.stream, e.stream_version
  FROM events e JOIN unnest($1::text[], $2::text[]) AS k(source, id) ON e.source = k.source AND e.id = k.id`;
/**
 * The INSERT of a group's rows (see INSERT_COLUMNS), with its NOTIFY. It inserts nothing, and
 * notifies nothing, unless the record the rows follow (the guard parameters: its position and hash,
 * or 0 and NULL for the first record) is stored; a speculative group sent behind one that failed thus
 * writes nothing.
 */
const GUARDED_INSERT = `WITH inserted AS (
    INSERT INTO events (${EVENT_COLUMNS})
    SELECT ${insertSelectList()}
    FROM unnest(${insertArrayList()}) AS u(${EVENT_COLUMNS})
    WHERE (SELECT hash FROM events WHERE position = $${GUARD_PARAM}::bigint) IS NOT DISTINCT FROM $${GUARD_PARAM + 1}::text
    RETURNING 1
  )`;
const INSERT_SQL = `${GUARDED_INSERT}
  SELECT pg_notify($${GUARD_PARAM + 2}, $${GUARD_PARAM + 3}) FROM (SELECT count(*) AS n FROM inserted) AS c
  WHERE c.n > 0`;
/** The same, for the first rows of a group sent in chunks: no NOTIFY. */
const INSERT_PART_SQL = `${GUARDED_INSERT}
  SELECT 1 FROM (SELECT count(*) AS n FROM inserted) AS c WHERE c.n > 0`;
/** Commits that look up the group's (source, id) pairs before inserting, after one met a duplicate. */
const LOOKUP_COMMITS_AFTER_DUPLICATE = 64;
/** Commits on the locked path after a speculation guessed wrong (another process appended, most likely). */
const LOCKED_COMMITS_AFTER_STALE_GUESS = 64;
/** Groups sent and not yet answered. */
const MAX_FLIGHTS = 2;
/** A group stops taking calls at this many events, so that large appends overlap with one another. */
const MAX_GROUP_EVENTS = 256;
/** Streams whose version the store remembers for speculation. */
const KNOWN_STREAMS = 10_000;
const SOURCE_ID_CONSTRAINT = 'events_source_id_key';
/** Rows of a large speculative group sent in a first INSERT of their own, to be written while the rest are hashed. */
const FIRST_CHUNK_ROWS = 32;

/**
 * The production event store on PostgreSQL (`pg`).
 *
 * **Global order.** Every append transaction takes a transaction-level advisory lock keyed on the
 * schema (`pg_advisory_xact_lock`) before it writes head + 1…, and holds it until COMMIT, so appends
 * from every process are serialised: positions are gap-free, the hash chain is linear, and a
 * transaction holding position n+1 cannot write before the one holding n has committed, so a reader
 * never sees n+1 without n. The alternative, sequence positions with readers gated on
 * `pg_snapshot_xmin`, lets writers run in parallel but leaves gaps (rolled-back sequence values),
 * cannot build a linear hash chain at insert time, and makes every reader reason about in-flight
 * transactions. The cost of serialising is one commit at a time per database, which group commit,
 * pipelining and speculation below pay back.
 *
 * **Group commit.** `append` calls queued while a transaction runs are committed together in the
 * next one (up to `maxGroupSize` calls, and no more than 256 events unless one call has more, so that
 * large appends overlap). Transactions run on a writer connection of their own in pipeline mode, and
 * each writes every accepted event of its group with one INSERT (two for a large speculative group,
 * whose first rows go ahead) whose columns go as binary arrays, or as one value when all rows share it.
 *
 * **The locked path.** BEGIN, the lock and the reads of the head and of the versions of the group's
 * streams go out together; the adapter decides duplicates and expected-version conflicts in memory (a
 * conflicting call is dropped alone, as a savepoint rollback would), chains the hashes, then sends the
 * INSERT (with its NOTIFY) and COMMIT together: two round trips. Nobody else can write while the lock
 * is held, so the decisions stay true until COMMIT. The stored (source, id) pairs are not read first:
 * their unique index fails an INSERT that meets one, and the group then runs again with that lookup,
 * as it does before reporting a conflict (a stored duplicate is no conflict, whatever its expected
 * version).
 *
 * **Speculation.** Once it knows the head, the store decides and hashes a group against the head
 * and stream versions it expects (those its own commits left; 0 for a stream it does not know) and
 * sends BEGIN, the lock, the INSERT and COMMIT at once, without waiting: one round trip, and while
 * one group is in flight the next is hashed and sent behind it. Under the lock the database checks
 * every guess: the INSERT writes nothing unless the record it follows is stored with the hash it
 * chained to, and the unique indexes on position, (stream, stream_version) and (source, id) refuse
 * a position or a version that another process took, or a stored duplicate (an expected version is
 * never ahead of the stored one: it comes from the store's own groups, and is forgotten when one
 * fails). A group whose guess failed, and every group sent behind it (whose INSERTs then find no
 * record to follow), runs again in order on the locked path. So does a group in which a call would
 * fail (conflicts are only ever reported from locked reads), and every group for a while after a
 * wrong guess (another process appending) or a duplicate (a redelivery, likely to bring more, which
 * the locked path then looks up at once).
 *
 * **Notifications.** After each commit the in-process `onAppended` listeners are called; the INSERT
 * also sends `NOTIFY` on a channel per schema with the new head (when it wrote), which a dedicated
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
  /** The pipelined connection append transactions run on; opened on first use, dropped on failure. */
  private writer: pg.Client | undefined;
  /** Commits left that look up the group's (source, id) pairs before the INSERT. */
  private lookupCommits = 0;
  /** Commits left on the locked path before speculating again, after a speculation met a stale guess. */
  private lockedCommits = 0;
  /** The head once every group sent has committed; undefined until a locked read and after a failure. */
  private tip: Tip | undefined;
  /** Stream versions as of `tip`, for the streams appended to lately (at most KNOWN_STREAMS). */
  private readonly knownVersions = new Map<string, number>();
  /** Resumes a flush waiting for its oldest flight, to send the calls queued meanwhile. */
  private wake: () => void = () => undefined;
  private readonly channel: string;
  private readonly counters: PostgresEventStoreStats = {
    commits: 0,
    appendCalls: 0,
    eventsAppended: 0,
    duplicates: 0,
    conflicts: 0,
    failedGroups: 0,
    largestGroup: 0,
    speculativeCommits: 0,
    redoneGroups: 0,
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

  async findStored(keys: readonly SourceId[]): Promise<(AppendResult | undefined)[]> {
    if (keys.length === 0) return [];
    const { rows } = await this.query<StoredRow>(STORED_SQL, [
      keys.map((k) => k.source),
      keys.map((k) => k.id),
    ]);
    const stored = new Map(rows.map((r) => [`${r.source}\n${r.id}`, r]));
    return keys.map((k) => {
      const r = stored.get(`${k.source}\n${k.id}`);
      return r === undefined
        ? undefined
        : {
            id: r.id,
            source: r.source,
            stream: r.stream,
            streamVersion: Number(r.stream_version),
            position: Number(r.position),
            duplicate: true,
          };
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
    const query = readAllQuery(options);
    if (query === undefined) {
      this.assertOpen();
      return [];
    }
    const { rows } = await this.query<EventRow>(query.sql, query.params);
    return rows.map(toStoredEvent);
  }

  /**
   * How PostgreSQL runs `readAll(options)` now: the lines of EXPLAIN for the very query and parameters
   * readAll sends, empty when the read needs no query. For diagnosing slow reads.
   */
  async explainReadAll(options: ReadAllOptions = {}): Promise<string[]> {
    const query = readAllQuery(options);
    if (query === undefined) {
      this.assertOpen();
      return [];
    }
    const { rows } = await this.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${query.sql}`, query.params);
    return rows.map((r) => r['QUERY PLAN']);
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
    const writer = this.writer;
    this.writer = undefined;
    await writer?.end().catch(() => undefined);
    await this.pool.end();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate lets every append() of the current tick join the group.
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.flushing) this.wake();
      else void this.flush();
    });
  }

  /**
   * Commits the queue group by group until it is empty. A group is sent speculatively (see the class
   * comment) when the head is known, possibly while earlier groups are still in flight; otherwise it
   * runs the locked path, after every flight has landed.
   */
  private async flush(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    this.idle = new Promise((resolve) => (this.markIdle = resolve));
    const flights: Flight[] = [];
    try {
      for (;;) {
        while (this.queue.length > 0 && flights.length < MAX_FLIGHTS) {
          const group = this.takeGroup();
          let flight: Flight | undefined;
          try {
            flight = this.speculate(group);
          } catch (err) {
            // Not expected; whatever went out on the connection is abandoned with it.
            if (this.writer) this.dropWriter(this.writer);
            this.forget([]);
            this.reject(group, err);
            continue;
          }
          if (flight) {
            flights.push(flight);
            continue;
          }
          await this.land(flights, false);
          await this.commitLocked(group);
        }
        const first = flights[0];
        if (first === undefined) break;
        // Land the oldest flight, or take the calls queued meanwhile into a new one.
        const woken = new Promise<void>((resolve) => (this.wake = resolve));
        await Promise.race([first.outcome, woken]);
        this.wake = () => undefined;
        await this.land(flights, true);
      }
    } catch (err) {
      // Not expected either: no call may be left waiting.
      this.forget(flights.map((f) => f.decided));
      for (const flight of flights) this.reject(flight.group, err);
    } finally {
      this.flushing = false;
      this.markIdle();
      if (this.queue.length > 0 && !this.closed) void this.flush();
    }
  }

  /** Up to maxGroupSize calls, and no more than MAX_GROUP_EVENTS events unless one call alone has more. */
  private takeGroup(): PendingCall[] {
    let calls = 0;
    let events = 0;
    for (const call of this.queue) {
      if (calls === this.maxGroupSize || (calls > 0 && events + call.events.length > MAX_GROUP_EVENTS)) break;
      calls += 1;
      events += call.events.length;
    }
    const group = this.queue.splice(0, calls);
    this.counters.appendCalls += group.length;
    this.counters.largestGroup = Math.max(this.counters.largestGroup, group.length);
    return group;
  }

  /**
   * Decides the group against the expected head and stream versions and sends its transaction
   * (BEGIN, lock, guarded INSERT with NOTIFY, COMMIT) in one go, without waiting for the answer.
   * Returns undefined when the group must take the locked path: no writer connection or expected
   * head yet, speculation paused (after a wrong guess or a duplicate), or a call that would fail (a
   * conflict is only ever reported from the locked reads).
   */
  private speculate(group: PendingCall[]): Flight | undefined {
    const client = this.writer;
    const tip = this.tip;
    // After a duplicate (a redelivery, most likely more to come) the locked path looks them up at once.
    if (client === undefined || tip === undefined || this.lockedCommits > 0 || this.lookupCommits > 0)
      return undefined;
    const decided = decide(group, tip, (stream) => this.knownVersions.get(stream) ?? 0, []);
    const { rows } = decided;
    if (rows.length === 0 || decided.outcomes.some((o) => !o.ok)) return undefined;
    const queries = [
      client.query('BEGIN'),
      client.query({ name: 'lgsp_es_lock', text: LOCK_SQL, values: [this.lockKey] }),
    ];
    // The first rows go alone, so that PostgreSQL inserts them while the rest are hashed.
    const split = rows.length > 2 * FIRST_CHUNK_ROWS ? FIRST_CHUNK_ROWS : rows.length;
    for (const [from, to] of [
      [0, split],
      [split, rows.length],
    ] as const) {
      if (from === to) continue;
      chain(decided, from, to);
      queries.push(this.insert(client, decided, from, to));
    }
    queries.push(client.query('COMMIT'));
    this.expect(decided);
    const flight: Flight = {
      client,
      group,
      decided,
      answer: undefined,
      outcome: Promise.allSettled(queries).then((settled) => (flight.answer = flightOutcome(settled))),
    };
    return flight;
  }

  /**
   * Lands the flights in order (only those already answered when `answeredOnly`): settles the
   * calls of a committed one; after a failed one, whose failure also fails every later flight
   * (their INSERTs are guarded on its rows), runs each group again on the locked path, or rejects
   * it when its outcome is unknown.
   */
  private async land(flights: Flight[], answeredOnly: boolean): Promise<void> {
    while (flights.length > 0) {
      const flight = flights[0]!;
      if (answeredOnly && flight.answer === undefined) return;
      const outcome = await flight.outcome;
      flights.shift();
      if (outcome.kind === 'committed') {
        this.counters.speculativeCommits += 1;
        this.settle(flight.group, flight.decided);
        continue;
      }
      this.forget(flights.concat(flight).map((f) => f.decided));
      if (outcome.kind === 'unknown') {
        this.dropWriter(flight.client);
        this.reject(flight.group, outcome.error);
        continue;
      }
      if (outcome.duplicate) this.lookupCommits = LOOKUP_COMMITS_AFTER_DUPLICATE;
      if (outcome.stale) this.lockedCommits = LOCKED_COMMITS_AFTER_STALE_GUESS;
      this.counters.redoneGroups += 1;
      await this.commitLocked(flight.group);
    }
  }

  /** The locked path: BEGIN, lock and reads, then the decided INSERT and COMMIT (see `transact`). */
  private async commitLocked(group: PendingCall[]): Promise<void> {
    let decided: Decided;
    try {
      decided = await this.transact(group);
    } catch (err) {
      this.tip = undefined;
      for (const call of group) for (const e of call.events) this.knownVersions.delete(e.stream);
      this.reject(group, err);
      return;
    }
    if (this.lockedCommits > 0) this.lockedCommits -= 1;
    if (this.lookupCommits > 0) this.lookupCommits -= 1;
    this.expect(decided);
    this.settle(group, decided);
  }

  private settle(group: readonly PendingCall[], decided: Decided): void {
    this.counters.commits += 1;
    group.forEach((call, i) => {
      const outcome = decided.outcomes[i];
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
    if (decided.rows.length > 0) this.notify(decided.tip.position);
  }

  private reject(group: readonly PendingCall[], cause: unknown): void {
    this.counters.failedGroups += 1;
    const error = new StoreUnavailableError('the event store could not commit; retry the append', cause);
    for (const call of group) call.reject(error);
  }

  /** What the store expects once `decided` commits: the next group is decided against it. */
  private expect(decided: Decided): void {
    this.tip = decided.tip;
    for (const [stream, version] of decided.versions) {
      this.knownVersions.delete(stream);
      this.knownVersions.set(stream, version);
    }
    for (const stream of this.knownVersions.keys()) {
      if (this.knownVersions.size <= KNOWN_STREAMS) break;
      this.knownVersions.delete(stream);
    }
  }

  /** After a failure: the head and the versions of the failed groups' streams are no longer known. */
  private forget(decided: readonly Decided[]): void {
    this.tip = undefined;
    for (const d of decided) for (const stream of d.versions.keys()) this.knownVersions.delete(stream);
  }

  /**
   * Sends the guarded INSERT of the chained rows [from, to) of a group; the one of its last rows also
   * sends the NOTIFY. Answers one row when it wrote.
   */
  private insert(client: pg.Client, decided: Decided, from: number, to: number): Promise<pg.QueryResult> {
    const rows = decided.rows.slice(from, to);
    const after = rows[0]!.position - 1;
    const values: unknown[] = [...insertParams(rows), after, after === 0 ? null : rows[0]!.prevHash];
    if (to < decided.rows.length)
      return client.query({ name: 'lgsp_es_insert_part', text: INSERT_PART_SQL, values });
    values.push(this.channel, String(decided.tip.position));
    return client.query({ name: 'lgsp_es_insert', text: INSERT_SQL, values });
  }

  /**
   * The locked path for one group, trying again where that cannot commit anything twice: once on a
   * fresh connection when the old one failed before COMMIT was sent, and once with the (source, id)
   * lookup when the INSERT met a stored (source, id).
   */
  private async transact(group: readonly PendingCall[]): Promise<Decided> {
    const keys = groupKeys(group);
    let lookup = this.lookupCommits > 0;
    let reconnected = false;
    for (;;) {
      const client = await this.writerConnection();
      try {
        return await this.attempt(client, group, keys, lookup);
      } catch (err) {
        if (!(err instanceof AttemptFailed)) throw err;
        if (err.duplicate && !lookup) {
          lookup = true;
          this.lookupCommits = LOOKUP_COMMITS_AFTER_DUPLICATE;
          continue;
        }
        if (!err.committing && !reconnected && !isDatabaseError(err.cause)) {
          reconnected = true;
          continue;
        }
        throw err.cause;
      }
    }
  }

  /**
   * One locked transaction in two round trips: BEGIN, the lock and the reads the decisions need are
   * sent together; then the INSERT (with its NOTIFY) and COMMIT.
   * @throws AttemptFailed after rolling back (or dropping the connection).
   */
  private async attempt(
    client: pg.Client,
    group: readonly PendingCall[],
    keys: GroupKeys,
    lookup: boolean,
  ): Promise<Decided> {
    let committing = false;
    try {
      const [, , head, versions, stored] = await Promise.all([
        client.query('BEGIN'),
        client.query({ name: 'lgsp_es_lock', text: LOCK_SQL, values: [this.lockKey] }),
        client.query<HeadRow>({ name: 'lgsp_es_head', text: HEAD_SQL }),
        // Unnamed: a plan cached while the table was small would keep scanning it whole.
        client.query<VersionRow>(VERSIONS_SQL, [keys.streams]),
        lookup ? this.storedKeys(client, keys) : undefined,
      ]);
      const tip = headTip(head.rows[0]);
      const read = new Map(versions.rows.map((r) => [r.stream, Number(r.v)]));
      const versionOf = (stream: string) => read.get(stream) ?? 0;
      let decided = decide(group, tip, versionOf, stored ?? []);
      // Without the lookup a stored (source, id) could be taken for a conflict: look before failing a call.
      if (stored === undefined && decided.outcomes.some((o) => !o.ok)) {
        decided = decide(group, tip, versionOf, await this.storedKeys(client, keys));
      }
      const writes: Promise<pg.QueryResult>[] = [];
      if (decided.rows.length > 0) {
        chain(decided, 0, decided.rows.length);
        writes.push(this.insert(client, decided, 0, decided.rows.length));
      }
      committing = true;
      const [commit, insert] = await Promise.all([client.query('COMMIT'), ...writes]);
      // COMMIT of a transaction that failed answers ROLLBACK; the failed statement has thrown already.
      if (commit.command !== 'COMMIT' || (insert !== undefined && insert.rowCount !== 1)) {
        throw new Error(`the append transaction did not commit (${commit.command})`);
      }
      return decided;
    } catch (err) {
      const duplicate = isDatabaseError(err) && err.code === '23505';
      // Pipelined behind whatever is still in flight; a connection that cannot roll back is dropped.
      if (!isDatabaseError(err)) this.dropWriter(client);
      else await client.query('ROLLBACK').catch(() => this.dropWriter(client));
      throw new AttemptFailed(err, committing && !duplicate, duplicate);
    }
  }

  private async storedKeys(client: pg.Client, keys: GroupKeys): Promise<StoredRow[]> {
    return (await client.query<StoredRow>(STORED_SQL, [keys.sources, keys.ids])).rows;
  }

  /** The connection append transactions run on, opened on first use and after a failure. */
  private async writerConnection(): Promise<pg.Client> {
    if (this.writer) return this.writer;
    const client = new pg.Client({
      connectionString: this.options.connectionString,
      application_name: this.options.applicationName ?? 'lgsp-event-store',
      options: `-c search_path=${pg.escapeIdentifier(this.schema)}`,
      pipeline: true,
    });
    client.on('error', () => this.dropWriter(client));
    client.on('end', () => {
      if (this.writer === client) this.writer = undefined;
    });
    await client.connect();
    this.writer = client;
    return client;
  }

  private dropWriter(client: pg.Client): void {
    if (this.writer === client) this.writer = undefined;
    void client.end().catch(() => undefined);
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
      throw postgresUnavailable(err, 'cannot connect to PostgreSQL');
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
      throw postgresUnavailable(err, 'the event store cannot read');
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
      throw postgresUnavailable(err, 'the checkpoint store is unavailable');
    }
  }
}

interface HeadRow {
  position: string;
  hash: string;
  recorded_at: string;
}

interface VersionRow {
  stream: string;
  v: string;
}

interface StoredRow {
  source: string;
  id: string;
  position: string;
  stream: string;
  stream_version: string;
}

type Outcome = { ok: true; results: AppendResult[] } | { ok: false; error: unknown };

/** What a group's transaction decided: one outcome per call, the rows to insert, the head after them. */
interface Decided {
  outcomes: Outcome[];
  rows: Row[];
  /** The head the rows follow. */
  before: Tip;
  /** The head once the rows are stored; `before` until they are chained. */
  tip: Tip;
  /** The version of every stream the group touches once the rows are stored. */
  versions: Map<string, number>;
}

/** The last stored record, as the next one is chained to it; position 0 and the genesis hash when empty. */
interface Tip {
  position: number;
  hash: string;
  recordedAt: string;
}

function headTip(row: HeadRow | undefined): Tip {
  return row === undefined
    ? { position: 0, hash: GENESIS_HASH, recordedAt: '' }
    : { position: Number(row.position), hash: row.hash, recordedAt: row.recorded_at };
}

/** A speculative group sent on the writer connection; `answer` is set once `outcome` is known. */
interface Flight {
  client: pg.Client;
  group: PendingCall[];
  decided: Decided;
  outcome: Promise<FlightOutcome>;
  answer: FlightOutcome | undefined;
}

/**
 * committed; redo: certainly not committed (the server answered), run the group on the locked path,
 * `duplicate` when a stored (source, id) was met, `stale` when a stored position or stream version
 * was (the guess was wrong); unknown: the connection failed, the transaction may have committed.
 */
type FlightOutcome =
  | { kind: 'committed' }
  | { kind: 'redo'; duplicate: boolean; stale: boolean }
  | { kind: 'unknown'; error: unknown };

/** Reads the answers to a flight's BEGIN, lock, INSERTs and COMMIT. */
function flightOutcome(settled: readonly PromiseSettledResult<pg.QueryResult>[]): FlightOutcome {
  const inserts = settled.slice(2, -1);
  const commit = settled.at(-1)!;
  if (commit.status === 'fulfilled' && inserts.every((r) => r.status === 'fulfilled')) {
    if (
      commit.value.command === 'COMMIT' &&
      inserts.every((r) => r.status === 'fulfilled' && r.value.rowCount === 1)
    )
      return { kind: 'committed' };
    // The record to follow is not stored (an earlier flight failed), or the transaction rolled back.
    return { kind: 'redo', duplicate: false, stale: false };
  }
  const refused = (r: PromiseSettledResult<pg.QueryResult>): r is PromiseRejectedResult =>
    r.status === 'rejected' && isDatabaseError(r.reason);
  if (!refused(commit) && !inserts.some(refused)) {
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    return { kind: 'unknown', error: failed?.reason };
  }
  const error = inserts.find(refused)?.reason as pg.DatabaseError | undefined;
  const collision = error?.code === '23505';
  return {
    kind: 'redo',
    duplicate: collision && error.constraint === SOURCE_ID_CONSTRAINT,
    stale: collision && error.constraint !== SOURCE_ID_CONSTRAINT,
  };
}

interface GroupKeys {
  sources: string[];
  ids: string[];
  streams: string[];
}

/** A failed append transaction, rolled back; `committing` when COMMIT had been sent (outcome unknown). */
class AttemptFailed extends Error {
  constructor(
    override readonly cause: unknown,
    readonly committing: boolean,
    readonly duplicate: boolean,
  ) {
    super('append transaction failed', { cause });
  }
}

function isDatabaseError(err: unknown): err is pg.DatabaseError {
  return err instanceof pg.DatabaseError;
}

function groupKeys(group: readonly PendingCall[]): GroupKeys {
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
  return { sources, ids, streams: [...streams] };
}

/**
 * Decides every call of the group against the head, the stream versions and the stored (source, id)
 * pairs the group touches: as read under the lock, or as expected by a speculation. The stored pairs
 * are the ones found; none when they were not looked up, and the INSERT's unique index then stands
 * guard.
 */
function decide(
  group: readonly PendingCall[],
  tip: Tip,
  versionOf: (stream: string) => number,
  storedRows: readonly StoredRow[],
): Decided {
  let position = tip.position;
  const now = new Date().toISOString();
  // Never earlier than the head, so recordedAt is monotonic along positions even if the clock steps back.
  const recordedAt = tip.recordedAt > now ? tip.recordedAt : now;
  const stored = new Map<string, AppendResult>();
  for (const r of storedRows) {
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
  for (const call of group) {
    for (const e of call.events) if (!versions.has(e.stream)) versions.set(e.stream, versionOf(e.stream));
  }

  const rows: Row[] = [];
  const outcomes = group.map((call): Outcome => {
    const callVersions = new Map<string, number>();
    const callStored = new Map<string, AppendResult>();
    const callRows: Row[] = [];
    const results: AppendResult[] = [];
    const conflicts: VersionConflict[] = [];
    let callPosition = position;
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
      // Chained later (see chain), once the group's rows are final.
      callRows.push({
        position: callPosition,
        stream: e.stream,
        streamVersion,
        e,
        recordedAt,
        hash: '',
        prevHash: '',
      });
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
    if (conflicts.length > 0) return { ok: false, error: new WrongExpectedVersionError(conflicts) };
    position = callPosition;
    for (const [s, v] of callVersions) versions.set(s, v);
    for (const [k, r] of callStored) stored.set(k, r);
    rows.push(...callRows);
    return { ok: true, results };
  });
  return { outcomes, rows, before: tip, tip, versions };
}

/**
 * Chains the rows [from, to) of a decided group, in order (rows before `from` are chained already),
 * and once the last row is chained makes it the group's tip.
 */
function chain(decided: Decided, from: number, to: number): void {
  const { rows } = decided;
  let hash = from === 0 ? decided.before.hash : rows[from - 1]!.hash;
  for (let i = from; i < to; i++) {
    const r = rows[i]!;
    r.prevHash = hash;
    hash = r.hash = hashPending(hash, r.e, r.position, r.streamVersion, r.recordedAt);
  }
  const last = rows[to - 1];
  if (to === rows.length && last)
    decided.tip = { position: last.position, hash, recordedAt: last.recordedAt };
}

interface InsertColumn {
  type: 'bigint' | 'text';
  shared?: true;
  value(r: Row): string | number | undefined;
}

/**
 * The INSERT's parameters (see INSERT_COLUMNS): the arrays in PostgreSQL's binary array format (a
 * Buffer parameter is sent as binary, so the server copies each element instead of parsing a quoted
 * literal, and nothing is escaped here), then the shared columns' scalars.
 */
function insertParams(rows: readonly Row[]): unknown[] {
  const arrays: Buffer[] = [];
  const scalars: (string | null)[] = [];
  for (const column of INSERT_COLUMNS) {
    const value = column.value as (r: Row) => string | undefined;
    if (column.type === 'bigint') {
      arrays.push(int8Array(rows, column.value as (r: Row) => number));
    } else if (column.shared && rows.every((r) => value(r) === value(rows[0]!))) {
      arrays.push(EMPTY_TEXT_ARRAY);
      scalars.push(value(rows[0]!) ?? null);
    } else {
      arrays.push(textArray(rows, value));
      if (column.shared) scalars.push(null);
    }
  }
  return [...arrays, ...scalars];
}

const TEXT_OID = 25;
const INT8_OID = 20;
/** ndim, has-nulls flag, element type, then length and lower bound of the one dimension. */
const ARRAY_HEADER_BYTES = 20;
/** ndim 0, no nulls, text. */
const EMPTY_TEXT_ARRAY = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, TEXT_OID]);

function arrayHeader(buffer: Buffer, hasNulls: boolean, elementType: number, length: number): void {
  buffer.writeInt32BE(1, 0);
  buffer.writeInt32BE(hasNulls ? 1 : 0, 4);
  buffer.writeInt32BE(elementType, 8);
  buffer.writeInt32BE(length, 12);
  buffer.writeInt32BE(1, 16);
}

/** A one-dimensional text[] in binary format: each element is its byte length (-1 for NULL) and its UTF-8 bytes. */
function textArray(rows: readonly Row[], value: (r: Row) => string | undefined): Buffer {
  // The exact size: over-allocating costs more (in garbage collection) than measuring each string.
  let size = ARRAY_HEADER_BYTES;
  for (const r of rows) {
    const v = value(r);
    size += 4 + (v === undefined ? 0 : Buffer.byteLength(v));
  }
  const buffer = Buffer.allocUnsafe(size);
  let offset = ARRAY_HEADER_BYTES;
  let hasNulls = false;
  for (const r of rows) {
    const v = value(r);
    if (v === undefined) {
      hasNulls = true;
      offset = buffer.writeInt32BE(-1, offset);
    } else {
      const length = buffer.write(v, offset + 4);
      buffer.writeInt32BE(length, offset);
      offset += 4 + length;
    }
  }
  arrayHeader(buffer, hasNulls, TEXT_OID, rows.length);
  return buffer;
}

/** A one-dimensional bigint[] in binary format (values are safe integers). */
function int8Array(rows: readonly Row[], value: (r: Row) => number): Buffer {
  const buffer = Buffer.allocUnsafe(ARRAY_HEADER_BYTES + rows.length * 12);
  let offset = ARRAY_HEADER_BYTES;
  for (const r of rows) {
    const v = value(r);
    offset = buffer.writeInt32BE(8, offset);
    offset = buffer.writeUInt32BE(Math.floor(v / 2 ** 32), offset);
    offset = buffer.writeUInt32BE(v >>> 0, offset);
  }
  arrayHeader(buffer, false, INT8_OID, rows.length);
  return buffer;
}

function key(source: string, id: string): string {
  return `${source.length}:${source}${id}`;
}
