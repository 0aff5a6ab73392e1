/**
 * The pure half of the KurrentDB adapter: how the port's records become KurrentDB events and back,
 * how an append call is planned against the sequence stream, and how client errors map to the
 * port's errors. No I/O here, so every rule is unit-tested without a server.
 */
import { createHash } from 'node:crypto';
import { DomainError, type Issue } from '#lgsp/contracts';
import {
  ErrorType,
  NO_STREAM as KURRENT_NO_STREAM,
  jsonEvent,
  type AppendStreamRequest,
  type AppendStreamState,
  type CurrentStreamState,
  type EventData,
  type JSONType,
} from '@kurrent/kurrentdb-client';
import { StoreUnavailableError, type VersionConflict } from '../errors.js';
import { GENESIS_HASH } from '../hash.js';
import {
  ANY_VERSION,
  type AppendResult,
  type EventToAppend,
  type Extensions,
  type ReadAllOptions,
  type StoredEvent,
} from '../port.js';
import { appendedAt, hashPending, prepareEvents as preparePending, type PendingEvent } from '../records.js';

/** Streams whose names start with this belong to the adapter; callers cannot append to them. */
export const RESERVED_STREAM_PREFIX = 'lgsp-$';

/** Names of the KurrentDB streams one store uses, all under its namespace. */
export class KurrentStreamNames {
  /** The sequence stream: one copy of every event, in global order; revision + 1 = position. */
  readonly log: string;
  /** Names of every subscriber that ever saved a checkpoint. */
  readonly checkpointRegistry: string;

  constructor(readonly namespace: string) {
    this.log = `${namespace}${RESERVED_STREAM_PREFIX}log`;
    this.checkpointRegistry = `${namespace}${RESERVED_STREAM_PREFIX}checkpoints`;
  }

  /** The KurrentDB stream holding the port's stream `stream` (the same name under the namespace). */
  stream(stream: string): string {
    return `${this.namespace}${stream}`;
  }

  /** The index stream of one (source, id): it exists iff that event is stored. */
  index(eventUuid: string): string {
    return `${this.namespace}${RESERVED_STREAM_PREFIX}id-${eventUuid}`;
  }

  /** One subscriber's checkpoints; the last event is the current position. */
  checkpoint(subscriber: string): string {
    return `${this.namespace}${RESERVED_STREAM_PREFIX}checkpoint-${subscriber}`;
  }
}

/** RFC 9562 name-based UUID, version 5 (SHA-1). */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16 || !/^[0-9a-f-]{36}$/i.test(namespace))
    throw new RangeError(`not a UUID: ${namespace}`);
  const bytes = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Namespace of the hub's event UUIDs. Changing it would break deduplication of events already stored. */
export const LGSP_EVENT_UUID_NAMESPACE = '4d13842a-40ad-4e80-9dcc-f1e3e13f3c6b';

/**
 * The KurrentDB event id of the CloudEvent (source, id): the same pair always gives the same UUID, so
 * a resend is recognised. The name is a JSON array, so ('a/b', 'c') and ('a', 'b/c') differ.
 */
export function eventUuid(source: string, id: string): string {
  return uuidV5(LGSP_EVENT_UUID_NAMESPACE, JSON.stringify([source, id]));
}

/** KurrentDB revision of the event at `version`: versions start at 1, revisions at 0. */
export function versionToRevision(version: number): bigint {
  if (!Number.isSafeInteger(version) || version < 1)
    throw new RangeError(`no revision for version ${version}`);
  return BigInt(version - 1);
}

/** Port version (and, on the sequence stream, position) of the event at KurrentDB `revision`. */
export function revisionToVersion(revision: bigint): number {
  return Number(revision) + 1;
}

/** The expected state that asserts a stream is at `version`: NO_STREAM at 0, else its last revision. */
export function streamStateAt(version: number): AppendStreamState {
  return version === 0 ? KURRENT_NO_STREAM : versionToRevision(version);
}

/** The port version of a stream KurrentDB reports at `state`; undefined for a deleted or tombstoned stream. */
export function versionOfState(state: CurrentStreamState): number | undefined {
  if (state === KURRENT_NO_STREAM) return 0;
  return state >= 0n ? revisionToVersion(state) : undefined;
}

/** An event validated and snapshotted for appending (canonical JSON, what is stored and hashed), with its UUID. */
export interface PreparedEvent extends PendingEvent {
  uuid: string;
}

/**
 * Validates and snapshots the caller's events with the rules every adapter shares, after KurrentDB's
 * own: a stream name must not start with `$` (system streams) nor with {@link RESERVED_STREAM_PREFIX}.
 * @throws DomainError `invalid` listing the bad fields.
 */
export function prepareEvents(events: readonly EventToAppend[]): PreparedEvent[] {
  const reserved: Issue[] = [];
  events.forEach((e, i) => {
    if (
      typeof e.stream === 'string' &&
      (e.stream.startsWith('$') || e.stream.startsWith(RESERVED_STREAM_PREFIX))
    )
      reserved.push({
        pointer: `/${i}/stream`,
        message: `stream names starting with "$" or "${RESERVED_STREAM_PREFIX}" are reserved`,
      });
  });
  if (reserved.length > 0) throw new DomainError('invalid', 'events to append are invalid', reserved);
  return preparePending(events).map((e) => ({ ...e, uuid: eventUuid(e.source, e.id) }));
}

/**
 * Event metadata keys. `multiStreamAppend` takes metadata as a flat object of strings only, so numbers
 * and the extensions object are written as text. CloudEvents attributes keep their CloudEvents names.
 */
export const META = {
  source: 'ce.source',
  id: 'ce.id',
  time: 'ce.time',
  subject: 'ce.subject',
  datacontenttype: 'ce.datacontenttype',
  dataschema: 'ce.dataschema',
  extensions: 'ce.extensions',
  provinceCode: 'lgsp.provinceCode',
  communeCode: 'lgsp.communeCode',
  stream: 'lgsp.stream',
  streamVersion: 'lgsp.streamVersion',
  position: 'lgsp.position',
  recordedAt: 'lgsp.recordedAt',
  hash: 'lgsp.hash',
  prevHash: 'lgsp.prevHash',
} as const;

/** The tail of the sequence stream that the next append chains to. */
export interface LogHead {
  position: number;
  hash: string;
  recordedAt: string;
}

export const EMPTY_LOG: LogHead = { position: 0, hash: GENESIS_HASH, recordedAt: '' };

/** What the index stream of a stored (source, id) says about it. */
export interface IndexEntry {
  stream: string;
  streamVersion: number;
  position: number;
}

/** One event of a planned append with everything the store assigns to it. */
export interface PlannedRecord {
  event: PreparedEvent;
  streamVersion: number;
  position: number;
  recordedAt: string;
  hash: string;
  prevHash: string;
}

/** What the planner knows: the sequence stream's tail and, possibly stale, the versions and the index. */
export interface PlanContext {
  head: LogHead;
  /** Committed version of a stream named in the call (0 when it does not exist). */
  versionOf(stream: string): number;
  /** The stored result of an event UUID, when known to be stored. */
  storedOf(uuid: string): IndexEntry | undefined;
  /** The clock; recordedAt never goes below the head's, so it is monotonic along positions. */
  now: string;
}

export type AppendPlan =
  | { ok: false; conflicts: VersionConflict[] }
  | {
      ok: true;
      results: AppendResult[];
      /** New events, in position order; empty when every event was a duplicate. */
      records: PlannedRecord[];
      /** The sequence stream's tail after the append. */
      head: LogHead;
      /** Every stream's version before the append, for the expected revisions. */
      versionsBefore: Map<string, number>;
      /** Every stream's version after the append. */
      versionsAfter: Map<string, number>;
    };

/**
 * Plans one append call as the SQLite adapter runs it: a stored (source, id) is a duplicate whatever
 * its expected version (also a repeat within the call); an expected version is checked against the
 * stream's version including the call's earlier events; the call's new events take the next positions
 * and extend the hash chain. Any conflict fails the whole call.
 */
export function planAppend(events: readonly PreparedEvent[], ctx: PlanContext): AppendPlan {
  const recordedAt = ctx.now > ctx.head.recordedAt ? ctx.now : ctx.head.recordedAt;
  const versionsBefore = new Map<string, number>();
  const versionsAfter = new Map<string, number>();
  const inCall = new Map<string, AppendResult>();
  const results: AppendResult[] = [];
  const records: PlannedRecord[] = [];
  const conflicts: VersionConflict[] = [];
  let position = ctx.head.position;
  let hash = ctx.head.hash;
  events.forEach((e, index) => {
    const earlier = inCall.get(e.uuid);
    if (earlier) {
      results.push({ ...earlier, duplicate: true });
      return;
    }
    const stored = ctx.storedOf(e.uuid);
    if (stored) {
      results.push({ id: e.id, source: e.source, ...stored, duplicate: true });
      return;
    }
    if (!versionsBefore.has(e.stream)) versionsBefore.set(e.stream, ctx.versionOf(e.stream));
    const current = versionsAfter.get(e.stream) ?? (versionsBefore.get(e.stream) as number);
    if (e.expectedVersion !== ANY_VERSION && e.expectedVersion !== current) {
      conflicts.push({ index, stream: e.stream, expected: e.expectedVersion, actual: current });
      return;
    }
    const streamVersion = current + 1;
    versionsAfter.set(e.stream, streamVersion);
    if (conflicts.length > 0) return;
    position += 1;
    const recordHash = hashPending(hash, e, position, streamVersion, recordedAt);
    records.push({ event: e, streamVersion, position, recordedAt, hash: recordHash, prevHash: hash });
    hash = recordHash;
    const result = appendedAt(e, streamVersion, position);
    inCall.set(e.uuid, result);
    results.push(result);
  });
  if (conflicts.length > 0) return { ok: false, conflicts };
  const head = records.length === 0 ? ctx.head : { position, hash, recordedAt };
  return { ok: true, results, records, head, versionsBefore, versionsAfter };
}

/** The metadata of a planned record, identical on its stream copy and its sequence-stream copy. */
export function recordMetadata(r: PlannedRecord): Record<string, string> {
  const e = r.event;
  const m: Record<string, string> = {
    [META.source]: e.source,
    [META.id]: e.id,
    [META.extensions]: e.extensionsJson,
    [META.stream]: e.stream,
    [META.streamVersion]: String(r.streamVersion),
    [META.position]: String(r.position),
    [META.recordedAt]: r.recordedAt,
    [META.hash]: r.hash,
    [META.prevHash]: r.prevHash,
  };
  if (e.time !== undefined) m[META.time] = e.time;
  if (e.subject !== undefined) m[META.subject] = e.subject;
  if (e.datacontenttype !== undefined) m[META.datacontenttype] = e.datacontenttype;
  if (e.dataschema !== undefined) m[META.dataschema] = e.dataschema;
  if (e.provinceCode !== undefined) m[META.provinceCode] = e.provinceCode;
  if (e.communeCode !== undefined) m[META.communeCode] = e.communeCode;
  return m;
}

/** Event type of the index records. */
export const INDEX_EVENT_TYPE = 'lgsp.event-indexed';

/**
 * One atomic multi-stream append for a plan: each touched stream at its exact expected revision (so
 * KurrentDB itself enforces stream versions, also for `any`), the sequence stream at the head's
 * revision (so writers of every process are serialised and positions stay gap-free), and one new
 * index stream per event, expected not to exist (so a (source, id) can be stored only once).
 * Event data is the CloudEvent `data`, parsed back from its canonical JSON, so what is stored is what
 * was hashed.
 */
export function appendRequests(
  plan: Extract<AppendPlan, { ok: true }>,
  headBefore: LogHead,
  names: KurrentStreamNames,
): AppendStreamRequest[] {
  const byStream = new Map<string, EventData[]>();
  const log: EventData[] = [];
  const index: AppendStreamRequest[] = [];
  for (const r of plan.records) {
    const metadata = recordMetadata(r);
    const data = JSON.parse(r.event.dataJson) as JSONType;
    const copy = () => jsonEvent({ id: r.event.uuid, type: r.event.type, data, metadata });
    let streamEvents = byStream.get(r.event.stream);
    if (!streamEvents) byStream.set(r.event.stream, (streamEvents = []));
    streamEvents.push(copy());
    log.push(copy());
    const entry: IndexEntry = {
      stream: r.event.stream,
      streamVersion: r.streamVersion,
      position: r.position,
    };
    index.push({
      streamName: names.index(r.event.uuid),
      expectedState: KURRENT_NO_STREAM,
      events: [
        jsonEvent({
          id: r.event.uuid,
          type: INDEX_EVENT_TYPE,
          data: { ...entry, source: r.event.source, id: r.event.id },
        }),
      ],
    });
  }
  const requests: AppendStreamRequest[] = [];
  for (const [stream, events] of byStream) {
    requests.push({
      streamName: names.stream(stream),
      expectedState: streamStateAt(plan.versionsBefore.get(stream) ?? 0),
      events,
    });
  }
  requests.push({ streamName: names.log, expectedState: streamStateAt(headBefore.position), events: log });
  requests.push(...index);
  return requests;
}

/** The parts of a KurrentDB recorded event the adapter reads. */
export interface RecordedLike {
  revision: bigint;
  type: string;
  data: unknown;
  metadata: unknown;
}

/**
 * A stored event from its KurrentDB copy. `on` says which copy it is: on the sequence stream the
 * revision is the position, on the event's own stream it is the version; the other number comes from
 * the metadata, and both must agree with it.
 */
export function toStoredEvent(recorded: RecordedLike, on: 'log' | 'stream'): StoredEvent {
  const m = metadataObject(recorded.metadata);
  const text = (key: string): string => {
    const value = m[key];
    if (typeof value !== 'string')
      throw new StoreUnavailableError(
        `KurrentDB event at revision ${recorded.revision} has no ${key} metadata`,
      );
    return value;
  };
  const optional = (key: string): string | undefined => {
    const value = m[key];
    return typeof value === 'string' ? value : undefined;
  };
  const position = Number(text(META.position));
  const streamVersion = Number(text(META.streamVersion));
  const native = revisionToVersion(recorded.revision);
  if ((on === 'log' ? position : streamVersion) !== native)
    throw new StoreUnavailableError(
      `KurrentDB event at revision ${recorded.revision} claims ${on === 'log' ? 'position' : 'version'} ` +
        `${on === 'log' ? position : streamVersion}`,
    );
  const extensionsJson = text(META.extensions);
  const e: StoredEvent = {
    position,
    stream: text(META.stream),
    streamVersion,
    id: text(META.id),
    source: text(META.source),
    type: recorded.type,
    data: dataValue(recorded.data),
    extensions: extensionsJson === '{}' ? {} : (JSON.parse(extensionsJson) as Extensions),
    recordedAt: text(META.recordedAt),
    hash: text(META.hash),
    prevHash: text(META.prevHash),
  };
  const time = optional(META.time);
  if (time !== undefined) e.time = time;
  const subject = optional(META.subject);
  if (subject !== undefined) e.subject = subject;
  const datacontenttype = optional(META.datacontenttype);
  if (datacontenttype !== undefined) e.datacontenttype = datacontenttype;
  const dataschema = optional(META.dataschema);
  if (dataschema !== undefined) e.dataschema = dataschema;
  const provinceCode = optional(META.provinceCode);
  if (provinceCode !== undefined) e.provinceCode = provinceCode;
  const communeCode = optional(META.communeCode);
  if (communeCode !== undefined) e.communeCode = communeCode;
  return e;
}

/** The log head a stored sequence-stream copy stands for. */
export function headOf(e: StoredEvent): LogHead {
  return { position: e.position, hash: e.hash, recordedAt: e.recordedAt };
}

/** The index entry of a read index record. */
export function toIndexEntry(data: unknown): IndexEntry {
  const d = dataValue(data) as Partial<IndexEntry> | null;
  if (
    d === null ||
    typeof d !== 'object' ||
    typeof d.stream !== 'string' ||
    !Number.isSafeInteger(d.streamVersion) ||
    !Number.isSafeInteger(d.position)
  )
    throw new StoreUnavailableError('a KurrentDB index record is malformed');
  return { stream: d.stream, streamVersion: d.streamVersion as number, position: d.position as number };
}

/** readAll's filters: an absent list matches everything, an empty one nothing. */
export function matchesFilters(e: StoredEvent, options: ReadAllOptions): boolean {
  const { types, provinceCodes, communeCodes } = options;
  if (types && !types.includes(e.type)) return false;
  if (provinceCodes && (e.provinceCode === undefined || !provinceCodes.includes(e.provinceCode)))
    return false;
  if (communeCodes && (e.communeCode === undefined || !communeCodes.includes(e.communeCode))) return false;
  return true;
}

/** The client returns JSON data parsed, or bytes when it could not tell it was JSON. */
function dataValue(data: unknown): unknown {
  if (data instanceof Uint8Array) return JSON.parse(Buffer.from(data).toString('utf8'));
  return data;
}

function metadataObject(metadata: unknown): Record<string, unknown> {
  const value =
    metadata instanceof Uint8Array ? JSON.parse(Buffer.from(metadata).toString('utf8')) : metadata;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new StoreUnavailableError('a KurrentDB event has no hub metadata');
  return value as Record<string, unknown>;
}

/** The `type` of a client CommandError, if `err` is one. */
export function commandErrorType(err: unknown): ErrorType | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const type = (err as { type?: unknown }).type;
  return Object.values(ErrorType).includes(type as ErrorType) ? (type as ErrorType) : undefined;
}

/**
 * The port's error for a client failure: size limits are `too-large` (retrying cannot help), a server
 * without multi-stream append is named, everything else (unreachable, deadline, not leader, access
 * denied, unknown) is StoreUnavailableError. Domain errors pass through.
 */
export function toStoreError(err: unknown, what: string): DomainError {
  if (err instanceof DomainError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  switch (commandErrorType(err)) {
    case ErrorType.MAXIMUM_APPEND_SIZE_EXCEEDED:
    case ErrorType.TRANSACTION_MAX_SIZE_EXCEEDED:
    case ErrorType.APPEND_RECORD_SIZE_EXCEEDED:
      return new DomainError(
        'too-large',
        `${what}: KurrentDB refused the size of the append (${detail})`,
        [],
        {
          cause: err,
          retriable: false,
        },
      );
    case ErrorType.UNSUPPORTED:
      return new DomainError(
        'unavailable',
        `${what}: the KurrentDB server does not support multi-stream append; KurrentDB 25.1 or later is required`,
        [],
        { cause: err, retriable: false },
      );
    default:
      return new StoreUnavailableError(`${what}: ${detail}`, err);
  }
}
