/**
 * What every adapter does the same way with an event record: validate and snapshot the caller's
 * events (canonical JSON, the stored and hashed form), and turn a stored row back into a StoredEvent.
 */
import { DomainError, type Issue } from '#lgsp/contracts';
import { canonicalJson, recordHashOfJson } from './hash.js';
import {
  ANY_VERSION,
  type EventToAppend,
  type ExpectedVersion,
  type Extensions,
  type StoredEvent,
} from './port.js';

export interface PendingEvent {
  stream: string;
  expectedVersion: ExpectedVersion;
  id: string;
  source: string;
  type: string;
  time: string | undefined;
  subject: string | undefined;
  datacontenttype: string | undefined;
  dataschema: string | undefined;
  provinceCode: string | undefined;
  communeCode: string | undefined;
  /** Canonical JSON (sorted keys): stored as is and hashed as is, so the hash covers what readers get. */
  dataJson: string;
  extensionsJson: string;
}

/** A stored row, as the SQL adapters read it (PostgreSQL returns BIGINT as a string). */
export interface EventRow {
  position: number | string;
  stream: string;
  stream_version: number | string;
  id: string;
  source: string;
  type: string;
  time: string | null;
  subject: string | null;
  datacontenttype: string | null;
  dataschema: string | null;
  data: string;
  extensions: string;
  province_code: string | null;
  commune_code: string | null;
  recorded_at: string;
  hash: string;
  prev_hash: string;
}

export function toStoredEvent(row: EventRow): StoredEvent {
  const e: StoredEvent = {
    position: Number(row.position),
    stream: row.stream,
    streamVersion: Number(row.stream_version),
    id: row.id,
    source: row.source,
    type: row.type,
    data: JSON.parse(row.data),
    extensions: row.extensions === '{}' ? {} : (JSON.parse(row.extensions) as Extensions),
    recordedAt: row.recorded_at,
    hash: row.hash,
    prevHash: row.prev_hash,
  };
  if (row.time !== null) e.time = row.time;
  if (row.subject !== null) e.subject = row.subject;
  if (row.datacontenttype !== null) e.datacontenttype = row.datacontenttype;
  if (row.dataschema !== null) e.dataschema = row.dataschema;
  if (row.province_code !== null) e.provinceCode = row.province_code;
  if (row.commune_code !== null) e.communeCode = row.commune_code;
  return e;
}

/**
 * Validates and snapshots the caller's events before they are queued: the commit happens on a later
 * tick, and what is hashed must be what is stored even if the caller mutates its objects meanwhile.
 */
export function prepareEvents(events: readonly EventToAppend[]): PendingEvent[] {
  const issues: Issue[] = [];
  const pending: PendingEvent[] = [];
  events.forEach((e, i) => {
    const bad = (field: string, message: string) => issues.push({ pointer: `/${i}/${field}`, message });
    for (const field of ['stream', 'id', 'source', 'type'] as const) {
      if (typeof e[field] !== 'string' || e[field].length === 0)
        bad(field, `${field} must be a non-empty string`);
    }
    const optional = (field: keyof EventToAppend): string | undefined => {
      const value = e[field];
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'string') bad(field, `${field} must be a string`);
      return value as string;
    };
    const v = e.expectedVersion;
    if (v !== ANY_VERSION && !(Number.isSafeInteger(v) && v >= 0)) {
      bad('expectedversion', `expected version must be "${ANY_VERSION}" or a non-negative integer`);
    }
    let dataJson = 'null';
    let extensionsJson = '{}';
    try {
      dataJson = serialise(e.data ?? null);
    } catch (err) {
      bad('data', `data must be serialisable as JSON: ${(err as Error).message}`);
    }
    try {
      extensionsJson = serialise(e.extensions ?? {});
    } catch (err) {
      bad('extensions', `extensions must be serialisable as JSON: ${(err as Error).message}`);
    }
    pending.push({
      stream: e.stream,
      expectedVersion: v,
      id: e.id,
      source: e.source,
      type: e.type,
      time: optional('time'),
      subject: optional('subject'),
      datacontenttype: optional('datacontenttype'),
      dataschema: optional('dataschema'),
      provinceCode: optional('provinceCode'),
      communeCode: optional('communeCode'),
      dataJson,
      extensionsJson,
    });
  });
  if (issues.length > 0) throw new DomainError('invalid', 'events to append are invalid', issues);
  return pending;
}

/** Canonical JSON, the stored and hashed form; throws on values JSON cannot hold. */
function serialise(value: unknown): string {
  if (typeof value === 'function' || typeof value === 'symbol' || value === undefined) {
    throw new TypeError(`${typeof value} has no JSON form`);
  }
  // canonicalJson throws on BigInt (TypeError) and on cycles (RangeError), like JSON.stringify.
  return canonicalJson(value);
}

/** The chained hash of a pending event once placed at `position` and `streamVersion` (see `recordHash`). */
export function hashPending(
  prevHash: string,
  e: PendingEvent,
  position: number,
  streamVersion: number,
  recordedAt: string,
): string {
  return recordHashOfJson(
    prevHash,
    {
      position,
      stream: e.stream,
      streamVersion,
      id: e.id,
      source: e.source,
      type: e.type,
      time: e.time,
      subject: e.subject,
      datacontenttype: e.datacontenttype,
      dataschema: e.dataschema,
      provinceCode: e.provinceCode,
      communeCode: e.communeCode,
      recordedAt,
    },
    e.dataJson,
    e.extensionsJson,
  );
}
