/**
 * The event-store port. Pure TypeScript: no database, broker or framework imports. Adapters
 * (sqlite, postgres, kurrentdb) implement `EventStore`; one contract suite proves them.
 */
import type { CloudEventAttributes } from '#lgsp/contracts';

/** Attribute values of a stored CloudEvent other than the core ones and `data`. */
export type Extensions = Record<string, string | number | boolean>;

/** Expected stream version for a conditional append. Versions start at 1; `NO_STREAM` (0) means the stream must not exist. */
export const NO_STREAM = 0;
/** Named expected-version constants. A number asserts the stream's current version before this event. */
export type ExpectedVersion = number | typeof ANY_VERSION;
export const ANY_VERSION = 'any' as const;

/** What an event carries, as appended and as stored: its CloudEvent attributes, data and indexing metadata. */
export interface EventRecord extends CloudEventAttributes {
  data: unknown;
  extensions: Extensions;
  /** Indexing metadata used by filtered reads and scoping; not part of the CloudEvent. */
  provinceCode?: string;
  communeCode?: string;
}

/** One event to append. `stream` is `dossier-<dossierCode>` for dossier events. */
export interface EventToAppend extends EventRecord {
  stream: string;
  expectedVersion: ExpectedVersion;
}

/** The deduplication key of an event: its CloudEvents `source` and `id`. */
export interface SourceId {
  source: string;
  id: string;
}

export interface AppendResult {
  id: string;
  source: string;
  stream: string;
  streamVersion: number;
  position: number;
  /** True when (source, id) was already stored: nothing was appended for this event. */
  duplicate: boolean;
}

export interface StoredEvent extends EventRecord {
  /** Global position: 1, 2, 3… with no gap as seen by readers. */
  position: number;
  stream: string;
  streamVersion: number;
  /** When the store committed it, RFC 3339 UTC. */
  recordedAt: string;
  /** SHA-256 (hex) of this record chained to `prevHash`; see `recordHash`. */
  hash: string;
  prevHash: string;
}

export interface ReadStreamOptions {
  /** First stream version to return (default 1). */
  fromVersion?: number;
  /** At most this many events (default 1000). */
  limit?: number;
}

export interface ReadAllOptions {
  /** Return events with position > after (default 0). */
  after?: number;
  /** At most this many events (default 1000). */
  limit?: number;
  types?: readonly string[];
  provinceCodes?: readonly string[];
  communeCodes?: readonly string[];
}

export interface Head {
  /** Position of the last committed event, 0 when the store is empty. */
  position: number;
  recordedAt?: string;
}

/** Durable per-subscriber positions, kept in the same store as the events. */
/** How a checkpoint is saved. */
export interface CheckpointSaveOptions {
  /**
   * Durable with the store's next synced commit rather than by a sync of its own (SQLite: no fsync for
   * this write; a killed process loses nothing, a power loss before the next synced commit on the file
   * can take it back to an earlier save). For a subscriber whose batches, handled again, change nothing.
   * A store without the distinction saves as usual.
   */
  withNextCommit?: boolean;
}

export interface CheckpointStore {
  /** The last position the subscriber finished, 0 when it has none. */
  load(subscriber: string): Promise<number>;
  save(subscriber: string, position: number, options?: CheckpointSaveOptions): Promise<void>;
  list(): Promise<{ subscriber: string; position: number; updatedAt: string }[]>;
}

export type Unsubscribe = () => void;

/** The write transaction an append call was committed in (group commit: several calls share one). */
export interface CommitGroup {
  /** Append calls committed together, this one included. */
  calls: number;
  /** Events those calls carried (duplicates included). */
  events: number;
}

/** Options of {@link EventStore.append}. */
export interface AppendOptions {
  /** Told, once the call is committed, which group it joined (tracing); must not throw. */
  onCommitted?(group: CommitGroup): void;
}

export interface EventStore {
  /**
   * Appends all events or none (a batch is atomic). Resolves only once the commit is durable.
   * An event whose (source, id) is already stored is not appended again: its stored result comes
   * back with `duplicate: true` and its expected version is not checked.
   * @throws WrongExpectedVersionError when an expected version does not match.
   */
  append(events: readonly EventToAppend[], options?: AppendOptions): Promise<AppendResult[]>;
  /** Current version of a stream, 0 when it does not exist. */
  streamVersion(stream: string): Promise<number>;
  /**
   * Where each (source, id) is stored, as `append` would answer it as a duplicate (`duplicate: true`);
   * undefined for a pair not stored. One answer per key, in order.
   */
  findStored(keys: readonly SourceId[]): Promise<(AppendResult | undefined)[]>;
  readStream(stream: string, options?: ReadStreamOptions): Promise<StoredEvent[]>;
  readAll(options?: ReadAllOptions): Promise<StoredEvent[]>;
  head(): Promise<Head>;
  /** Called after every durable commit with the new head position. */
  onAppended(listener: (head: number) => void): Unsubscribe;
  readonly checkpoints: CheckpointStore;
  close(): Promise<void>;
}

/** The right of one process to run a named subscriber; see {@link LeaseStore}. */
export interface Lease {
  subscriber: string;
  /** Who holds it: one id per hub process. */
  holder: string;
  /** Grows at every change of holder; a write fenced with an older epoch is refused. */
  epoch: number;
}

/** A lease as an operator sees it. */
export interface LeaseInfo extends Lease {
  /** When it lapses unless renewed (the database's clock), RFC 3339. */
  expiresAt: string;
  acquiredAt: string;
  renewedAt: string;
}

/**
 * Leases per subscriber name, for hub processes that share one store: only the holder of a
 * subscriber's lease runs it. A lease lapses `ttlMs` after its last renewal, measured on the store's
 * clock, so a holder that died is replaced within one TTL.
 */
export interface LeaseStore {
  /** Takes the lease when it is free or has lapsed (or is already `holder`'s); undefined when another holds it. */
  acquire(subscriber: string, holder: string, ttlMs: number): Promise<Lease | undefined>;
  /** Extends a lease still held; false when it lapsed or changed hands (the holder must stop at once). */
  renew(lease: Lease, ttlMs: number): Promise<boolean>;
  /** Gives the lease up so that another process can take it without waiting for the TTL. */
  release(lease: Lease): Promise<void>;
  /**
   * Saves the subscriber's checkpoint only while `lease` is still held and unexpired, in one statement.
   * False when it is not: the write is fenced off, and the caller has lost the lease.
   */
  saveCheckpoint(lease: Lease, position: number): Promise<boolean>;
  list(): Promise<LeaseInfo[]>;
}
