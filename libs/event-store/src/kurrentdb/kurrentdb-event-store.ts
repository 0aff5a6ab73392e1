import { appendPrepared } from '../group-calls.js';
import { DomainError } from '#lgsp/contracts';
import {
  BACKWARDS,
  END,
  ErrorType,
  FORWARDS,
  KurrentDBClient,
  jsonEvent,
  type ResolvedEvent,
  type StreamSubscription,
} from '@kurrent/kurrentdb-client';
import { StoreUnavailableError, WrongExpectedVersionError } from '../errors.js';
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
import {
  EMPTY_LOG,
  KurrentStreamNames,
  appendRequests,
  commandErrorType,
  eventUuid,
  headOf,
  matchesFilters,
  planAppend,
  prepareEvents,
  revisionToVersion,
  toIndexEntry,
  toStoreError,
  toStoredEvent,
  versionToRevision,
  type IndexEntry,
  type LogHead,
  type PreparedEvent,
  type RecordedLike,
} from './kurrentdb-records.js';
import { tellListeners } from '../records.js';

/** Options of {@link KurrentDbEventStore.open}. */
export interface KurrentDbEventStoreOptions {
  /**
   * A KurrentDB connection string, e.g. `kurrentdb://admin:changeit@localhost:2113?tls=false`; its
   * options (TLS, node preference, `defaultDeadline`, keep-alive) are the client's.
   */
  connectionString: string;
  /**
   * Prefix of every KurrentDB stream the store reads and writes, so that several hubs, or tests, share
   * one database without seeing each other. @defaultValue '' (port streams keep their own names)
   */
  namespace?: string;
  /**
   * Attempts of one append call that keeps losing the sequence stream to other writers before it
   * fails with StoreUnavailableError (retriable). @defaultValue 50
   */
  maxAppendAttempts?: number;
  /** Streams whose version is kept in memory between appends. @defaultValue 100000 */
  streamCacheSize?: number;
}

const DEFAULT_READ_LIMIT = 1000;
/** Events read from the sequence stream per round trip when readAll filters in memory. */
const FILTERED_PAGE = 512;
const CHECKPOINT_EVENT_TYPE = 'lgsp.checkpoint-saved';
const SUBSCRIBER_EVENT_TYPE = 'lgsp.subscriber-registered';
/** Checkpoint events kept per subscriber; older ones are removed by KurrentDB's scavenge. */
const CHECKPOINTS_KEPT = 16;
const RESUBSCRIBE_DELAY_MS = 1000;

/**
 * The event store on KurrentDB (25.1 or later), for sites that already run KurrentDB/EventStoreDB.
 *
 * KurrentDB's own global order, `$all`, is addressed by commit/prepare positions of its transaction
 * file: they have gaps, and they also hold other applications' and system events. The port needs
 * positions 1, 2, 3… and one hash chain, so the hub keeps its own order:
 *
 * - **Sequence stream** `lgsp-$log`: a full copy of every hub event, in global order. Position =
 *   its revision + 1. Every append asserts the sequence stream's current revision, so appends from
 *   every process are serialised by KurrentDB's optimistic concurrency: the loser re-reads the tail
 *   and retries. The hash chain (same material as SQLite, `recordHashOfJson` over canonical JSON) is
 *   computed by the writer from the tail it asserted, and stored in the metadata of both copies.
 * - **Event streams**: each port stream is the KurrentDB stream of the same name (under an optional
 *   namespace), holding its own copy; version = revision + 1. Every append asserts each touched
 *   stream's exact revision (also for `any`), so versions never fork. Copies rather than `$>` links,
 *   because a link cannot be resolved inside the atomic append that creates its target, and because
 *   copies keep `readStream` and `readAll` one read each, with no link resolution.
 * - **Index streams** `lgsp-$id-<uuid>`: the event's KurrentDB id is a UUID v5 of (source, id); the
 *   index stream of that UUID is created with expected state NO_STREAM in the same append, so a
 *   (source, id) is stored once even when two processes race. (KurrentDB's own idempotent append only
 *   recognises a resend at the same expected revision and within its cache, which is not enough.)
 *
 * The three go in one `multiStreamAppend`, which KurrentDB commits atomically: all streams of a batch
 * or none. One process sends one append at a time; a conflict on the sequence stream (another process
 * appended) or on an index stream (a resend) refreshes what the plan was built from and tries again.
 * An expected-version conflict is reported only after the stream's version and the index were read
 * afresh from the server, so a stale cache never causes a false 409.
 *
 * Checkpoints live in a stream per subscriber (`lgsp-$checkpoint-<name>`, last event = position,
 * capped with `$maxCount`), listed through a registry stream. `onAppended` fires after this process's
 * appends and, through a catch-up subscription on the sequence stream, after other processes' appends.
 */
export class KurrentDbEventStore implements EventStore {
  readonly checkpoints: CheckpointStore;

  private readonly names: KurrentStreamNames;
  private readonly maxAppendAttempts: number;
  private readonly streamCacheSize: number;
  private readonly listeners = new Set<(head: number) => void>();
  private notifiedHead = 0;
  /** The sequence stream's tail as of this process's last append or read of it; undefined = re-read. */
  private tail: LogHead | undefined;
  /** Committed stream versions known from this process's appends and reads (may be stale). */
  private readonly versions = new Map<string, number>();
  /** Appends run one at a time: each asserts the tail the previous one produced. */
  private appendQueue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private subscription: StreamSubscription | undefined;
  private lastSeenRevision: bigint | undefined;
  private resubscribeTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(
    private readonly client: KurrentDBClient,
    options: KurrentDbEventStoreOptions,
  ) {
    this.names = new KurrentStreamNames(options.namespace ?? '');
    this.maxAppendAttempts = positiveInteger(options.maxAppendAttempts ?? 50, 'maxAppendAttempts');
    this.streamCacheSize = positiveInteger(options.streamCacheSize ?? 100_000, 'streamCacheSize');
    this.checkpoints = new KurrentCheckpointStore(client, this.names, () => this.assertOpen());
  }

  /**
   * Connects and reads the sequence stream's tail.
   * @throws StoreUnavailableError when KurrentDB cannot be reached or the connection string is wrong.
   */
  static async open(options: KurrentDbEventStoreOptions): Promise<KurrentDbEventStore> {
    let client: KurrentDBClient;
    try {
      client = KurrentDBClient.connectionString(options.connectionString);
    } catch (err) {
      throw new StoreUnavailableError(`invalid KurrentDB connection string: ${(err as Error).message}`, err);
    }
    const store = new KurrentDbEventStore(client, options);
    try {
      store.tail = await store.readTail();
      store.notifiedHead = store.tail.position;
    } catch (err) {
      await client.dispose().catch(() => undefined);
      throw toStoreError(err, 'cannot open the KurrentDB event store');
    }
    return store;
  }

  append(events: readonly EventToAppend[], options?: AppendOptions): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the event store is closed'));
    return appendPrepared(events, prepareEvents, async (prepared) => {
      const results = await this.queueAppend(prepared);
      // One call per commit: KurrentDB has no group commit.
      options?.onCommitted?.({ calls: 1, events: prepared.length });
      return results;
    });
  }

  /** Appends run one after the other: each plans against the head the previous one left. */
  private queueAppend(prepared: PreparedEvent[]): Promise<AppendResult[]> {
    const run = this.appendQueue.then(() => this.appendCall(prepared));
    this.appendQueue = run.catch(() => undefined);
    return run;
  }

  async streamVersion(stream: string): Promise<number> {
    this.assertOpen();
    try {
      return await this.readVersion(stream);
    } catch (err) {
      throw toStoreError(err, `cannot read the version of ${stream}`);
    }
  }

  async findStored(keys: readonly SourceId[]): Promise<(AppendResult | undefined)[]> {
    this.assertOpen();
    try {
      return await Promise.all(
        keys.map(async (k) => {
          const [record] = await this.readForwards(this.names.index(eventUuid(k.source, k.id)), 0n, 1);
          if (record === undefined) return undefined;
          const entry = toIndexEntry(record.data);
          return { id: k.id, source: k.source, ...entry, duplicate: true };
        }),
      );
    } catch (err) {
      throw toStoreError(err, 'cannot look up stored events');
    }
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const limit = options.limit ?? DEFAULT_READ_LIMIT;
    if (limit <= 0) return [];
    const from = Math.max(options.fromVersion ?? 1, 1);
    try {
      const page = await this.readForwards(this.names.stream(stream), versionToRevision(from), limit);
      return page.map((r) => toStoredEvent(r, 'stream'));
    } catch (err) {
      throw toStoreError(err, `cannot read ${stream}`);
    }
  }

  /**
   * Events after `options.after` in position order, read from the sequence stream; the filters are
   * applied here (KurrentDB's server-side filters select on stream name and event type over `$all`,
   * not on provinces, and `$all` has no gap-free positions).
   */
  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const limit = options.limit ?? DEFAULT_READ_LIMIT;
    const { types, provinceCodes, communeCodes } = options;
    if (limit <= 0 || [types, provinceCodes, communeCodes].some((list) => list?.length === 0)) return [];
    const filtered = types !== undefined || provinceCodes !== undefined || communeCodes !== undefined;
    const out: StoredEvent[] = [];
    // Position p is at revision p - 1, so the first event after `after` is at revision `after`.
    let next = BigInt(Math.max(options.after ?? 0, 0));
    try {
      while (out.length < limit) {
        const want = filtered ? FILTERED_PAGE : limit - out.length;
        const page = await this.readForwards(this.names.log, next, want);
        for (const r of page) {
          const e = toStoredEvent(r, 'log');
          if (!filtered || matchesFilters(e, options)) out.push(e);
          if (out.length >= limit) break;
        }
        if (page.length < want) break;
        next += BigInt(page.length);
      }
    } catch (err) {
      throw toStoreError(err, 'cannot read the global log');
    }
    return out;
  }

  async head(): Promise<Head> {
    this.assertOpen();
    try {
      const tail = await this.readTail();
      return tail.position === 0 ? { position: 0 } : { position: tail.position, recordedAt: tail.recordedAt };
    } catch (err) {
      throw toStoreError(err, 'cannot read the head of the global log');
    }
  }

  onAppended(listener: (head: number) => void): Unsubscribe {
    this.listeners.add(listener);
    if (!this.closed && this.subscription === undefined && this.resubscribeTimer === undefined)
      this.followLog(END);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Lets the appends already queued finish, then disconnects. Later calls reject with StoreUnavailableError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.appendQueue;
    this.listeners.clear();
    if (this.resubscribeTimer !== undefined) clearTimeout(this.resubscribeTimer);
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.unsubscribe().catch(() => undefined);
    await this.client.dispose();
  }

  private async appendCall(events: readonly PreparedEvent[]): Promise<AppendResult[]> {
    // `fresh`: versions and index entries are read from the server for this attempt, not the cache.
    let fresh = false;
    let stored = new Map<string, IndexEntry>();
    for (let attempt = 1; ; attempt++) {
      const streams = [...new Set(events.map((e) => e.stream))];
      let head: LogHead;
      try {
        head = this.tail ?? (await this.readTail());
        this.tail = head;
        await Promise.all(
          streams
            .filter((s) => fresh || !this.versions.has(s))
            .map(async (s) => this.rememberVersion(s, await this.readVersion(s))),
        );
        if (fresh) stored = await this.lookUpStored(events);
      } catch (err) {
        throw toStoreError(err, 'the event store could not prepare the append');
      }
      const plan = planAppend(events, {
        head,
        versionOf: (s) => this.versions.get(s) ?? 0,
        storedOf: (uuid) => stored.get(uuid),
        now: new Date().toISOString(),
      });
      if (!plan.ok) {
        if (fresh) throw new WrongExpectedVersionError(plan.conflicts);
        fresh = true;
        continue;
      }
      if (plan.records.length === 0) return plan.results;
      try {
        await this.client.multiStreamAppend(appendRequests(plan, head, this.names));
      } catch (err) {
        if (commandErrorType(err) === ErrorType.WRONG_EXPECTED_VERSION) {
          // Another process appended (sequence or event stream) or stored one of these (source, id).
          this.tail = undefined;
          fresh = true;
          if (attempt >= this.maxAppendAttempts)
            throw new StoreUnavailableError(
              `the append lost the KurrentDB sequence stream to other writers ${attempt} times; retry later`,
              err,
            );
          await delay(Math.min(2 ** attempt, 100) * Math.random());
          continue;
        }
        // The outcome is unknown (e.g. the connection dropped after the commit): forget what may be
        // stale; a retry by the caller is recognised through the index streams.
        this.tail = undefined;
        this.versions.clear();
        throw toStoreError(
          err,
          'the event store could not append; nothing or everything of the batch was stored',
        );
      }
      this.tail = plan.head;
      for (const [stream, version] of plan.versionsAfter) this.rememberVersion(stream, version);
      this.notify(plan.head.position);
      return plan.results;
    }
  }

  private async lookUpStored(events: readonly PreparedEvent[]): Promise<Map<string, IndexEntry>> {
    const uuids = [...new Set(events.map((e) => e.uuid))];
    const entries = await Promise.all(
      uuids.map(async (uuid) => {
        const [record] = await this.readForwards(this.names.index(uuid), 0n, 1);
        return [uuid, record === undefined ? undefined : toIndexEntry(record.data)] as const;
      }),
    );
    const stored = new Map<string, IndexEntry>();
    for (const [uuid, entry] of entries) if (entry) stored.set(uuid, entry);
    return stored;
  }

  private rememberVersion(stream: string, version: number): void {
    if (this.versions.size >= this.streamCacheSize && !this.versions.has(stream)) this.versions.clear();
    this.versions.set(stream, version);
  }

  private async readTail(): Promise<LogHead> {
    const last = await this.readLast(this.names.log);
    return last === undefined ? EMPTY_LOG : headOf(toStoredEvent(last, 'log'));
  }

  private async readVersion(stream: string): Promise<number> {
    const last = await this.readLast(this.names.stream(stream));
    return last === undefined ? 0 : revisionToVersion(last.revision);
  }

  private async readLast(streamName: string): Promise<RecordedLike | undefined> {
    const read = this.client.readStream(streamName, { direction: BACKWARDS, fromRevision: END, maxCount: 1 });
    return (await collect(read))[0];
  }

  private readForwards(streamName: string, fromRevision: bigint, maxCount: number): Promise<RecordedLike[]> {
    return collect(this.client.readStream(streamName, { direction: FORWARDS, fromRevision, maxCount }));
  }

  /** Wakes the listeners for appends by any process; resubscribes after a drop, from the last event seen. */
  private followLog(from: bigint | typeof END): void {
    this.resubscribeTimer = undefined;
    if (this.closed) return;
    const subscription = this.client.subscribeToStream(this.names.log, { fromRevision: from });
    this.subscription = subscription;
    subscription.on('data', (resolved: ResolvedEvent) => {
      const revision = resolved.event?.revision;
      if (revision === undefined) return;
      this.lastSeenRevision = revision;
      this.notify(revisionToVersion(revision));
    });
    subscription.on('error', () => {
      if (this.closed || this.subscription !== subscription) return;
      this.subscription = undefined;
      this.resubscribeTimer = setTimeout(
        () => this.followLog(this.lastSeenRevision ?? END),
        RESUBSCRIBE_DELAY_MS,
      );
      this.resubscribeTimer.unref();
    });
  }

  private notify(head: number): void {
    if (head <= this.notifiedHead) return;
    this.notifiedHead = head;
    tellListeners(this.listeners, head);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('the event store is closed');
  }
}

/** Checkpoints in a stream per subscriber; the registry stream lists the subscribers. */
class KurrentCheckpointStore implements CheckpointStore {
  /** Subscribers this process has registered (and capped) already. */
  private readonly registered = new Set<string>();

  constructor(
    private readonly client: KurrentDBClient,
    private readonly names: KurrentStreamNames,
    private readonly assertOpen: () => void,
  ) {}

  async load(subscriber: string): Promise<number> {
    this.assertOpen();
    try {
      return (await this.last(subscriber))?.position ?? 0;
    } catch (err) {
      throw toStoreError(err, `cannot load the checkpoint of ${subscriber}`);
    }
  }

  async save(subscriber: string, position: number): Promise<void> {
    this.assertOpen();
    if (!Number.isSafeInteger(position) || position < 0)
      throw new DomainError('invalid', `checkpoint position must be a non-negative integer, got ${position}`);
    const stream = this.names.checkpoint(subscriber);
    try {
      if (!this.registered.has(subscriber)) {
        // Registered before the first checkpoint, so `list` never misses a saved one.
        await this.client.appendToStream(
          this.names.checkpointRegistry,
          jsonEvent({
            id: eventUuid('lgsp:subscriber', subscriber),
            type: SUBSCRIBER_EVENT_TYPE,
            data: { subscriber },
          }),
        );
        await this.client.setStreamMetadata(stream, { maxCount: CHECKPOINTS_KEPT });
        this.registered.add(subscriber);
      }
      await this.client.appendToStream(
        stream,
        jsonEvent({
          type: CHECKPOINT_EVENT_TYPE,
          data: { subscriber, position, updatedAt: new Date().toISOString() },
        }),
      );
    } catch (err) {
      throw toStoreError(err, `cannot save the checkpoint of ${subscriber}`);
    }
  }

  async list(): Promise<{ subscriber: string; position: number; updatedAt: string }[]> {
    this.assertOpen();
    try {
      const registry = await collect(
        this.client.readStream(this.names.checkpointRegistry, { direction: FORWARDS }),
      );
      const subscribers = [
        ...new Set(registry.map((r) => (r.data as { subscriber?: unknown } | null)?.subscriber)),
      ].filter((s): s is string => typeof s === 'string');
      subscribers.sort();
      const rows = await Promise.all(
        subscribers.map(async (subscriber) => {
          const last = await this.last(subscriber);
          return last && { subscriber, position: last.position, updatedAt: last.updatedAt };
        }),
      );
      return rows.filter((row) => row !== undefined);
    } catch (err) {
      throw toStoreError(err, 'cannot list the checkpoints');
    }
  }

  private async last(subscriber: string): Promise<{ position: number; updatedAt: string } | undefined> {
    const [record] = await collect(
      this.client.readStream(this.names.checkpoint(subscriber), {
        direction: BACKWARDS,
        fromRevision: END,
        maxCount: 1,
      }),
    );
    if (record === undefined) return undefined;
    const data = record.data as { position?: unknown; updatedAt?: unknown } | null;
    if (!Number.isSafeInteger(data?.position) || typeof data?.updatedAt !== 'string')
      throw new StoreUnavailableError(`the checkpoint stream of ${subscriber} holds a malformed event`);
    return { position: data.position as number, updatedAt: data.updatedAt };
  }
}

/** The recorded events of a read; a stream that does not exist reads as empty. */
async function collect(read: AsyncIterable<ResolvedEvent>): Promise<RecordedLike[]> {
  const out: RecordedLike[] = [];
  try {
    for await (const resolved of read) if (resolved.event) out.push(resolved.event);
  } catch (err) {
    if (commandErrorType(err) === ErrorType.STREAM_NOT_FOUND) return out;
    throw err;
  }
  return out;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}
