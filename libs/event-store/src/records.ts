/**
 * What every adapter does the same way with an event record: validate and snapshot the caller's
 * events (canonical JSON, the stored and hashed form), and turn a stored row back into a StoredEvent.
 */
import { DomainError, pointerToken, type Issue } from '#lgsp/contracts';
import type { ChainRecord } from './chain.js';
import { canonicalJson, recordHashOfJson } from './hash.js';
import {
  ANY_VERSION,
  type AppendResult,
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

/** The columns of a stored row, in the order the SQL adapters select and insert them. */
/**
 * The `events` table and its indexes by type and by province, in one dialect: `integer` is the type
 * of position and stream_version, `strict` ends each table (SQLite's STRICT). Both adapters' first
 * migration create them.
 */
export function eventsTableSql(integer: 'BIGINT' | 'INTEGER', strict: '' | ' STRICT'): string {
  return `
      CREATE TABLE events (
        position ${integer} PRIMARY KEY,
        stream TEXT NOT NULL,
        stream_version ${integer} NOT NULL,
        id TEXT NOT NULL,
        source TEXT NOT NULL,
        type TEXT NOT NULL,
        time TEXT,
        subject TEXT,
        datacontenttype TEXT,
        dataschema TEXT,
        data TEXT NOT NULL,
        extensions TEXT NOT NULL,
        province_code TEXT,
        commune_code TEXT,
        recorded_at TEXT NOT NULL,
        hash TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        UNIQUE (source, id),
        UNIQUE (stream, stream_version)
      )${strict};
      CREATE INDEX events_by_type ON events (type, position);
      CREATE INDEX events_by_province ON events (province_code, position);`;
}

/** The `checkpoints` table (see {@link eventsTableSql} for the arguments). */
export function checkpointsTableSql(integer: 'BIGINT' | 'INTEGER', strict: '' | ' STRICT'): string {
  return `
      CREATE TABLE checkpoints (
        subscriber TEXT PRIMARY KEY,
        position ${integer} NOT NULL,
        updated_at TEXT NOT NULL
      )${strict};`;
}

export const EVENT_COLUMNS =
  'position, stream, stream_version, id, source, type, time, subject, datacontenttype, dataschema, data, ' +
  'extensions, province_code, commune_code, recorded_at, hash, prev_hash';

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
    ...placeOf(row),
    data: JSON.parse(row.data),
    extensions: row.extensions === '{}' ? {} : (JSON.parse(row.extensions) as Extensions),
    recordedAt: row.recorded_at,
    hash: row.hash,
    prevHash: row.prev_hash,
  };
  return withOptionals(row, e);
}

/** Where a stored row stands, and what it is: the attributes every stored event has before its data. */
function placeOf(
  row: EventRow,
): Pick<StoredEvent, 'position' | 'stream' | 'streamVersion' | 'id' | 'source' | 'type'> {
  return {
    position: Number(row.position),
    stream: row.stream,
    streamVersion: Number(row.stream_version),
    id: row.id,
    source: row.source,
    type: row.type,
  };
}

/** The optional attributes of a stored event or chain record. */
type Optionals = Pick<
  StoredEvent,
  'time' | 'subject' | 'datacontenttype' | 'dataschema' | 'provinceCode' | 'communeCode'
>;

/** Sets on `target` the optional attributes `row` holds; a NULL column stays absent. */
function withOptionals<T extends Optionals>(row: EventRow, target: T): T {
  if (row.time !== null) target.time = row.time;
  if (row.subject !== null) target.subject = row.subject;
  if (row.datacontenttype !== null) target.datacontenttype = row.datacontenttype;
  if (row.dataschema !== null) target.dataschema = row.dataschema;
  if (row.province_code !== null) target.provinceCode = row.province_code;
  if (row.commune_code !== null) target.communeCode = row.commune_code;
  return target;
}

/** A stored row as the hash chain covers it: data and extensions stay the stored text (see ChainRecord). */
export function toChainRecord(row: EventRow): ChainRecord {
  const r: ChainRecord = {
    ...placeOf(row),
    dataJson: row.data,
    extensionsJson: row.extensions,
    recordedAt: row.recorded_at,
    hash: row.hash,
    prevHash: row.prev_hash,
  };
  return withOptionals(row, r);
}

/** What an append answers for `e`, stored as version `streamVersion` of its stream at `position`. */
export function appendedAt(
  e: { id: string; source: string; stream: string },
  streamVersion: number,
  position: number,
): AppendResult {
  return { id: e.id, source: e.source, stream: e.stream, streamVersion, position, duplicate: false };
}

/** What an append answers for an event found already stored: the row of its first append. */
export function storedDuplicate(r: {
  id: string;
  source: string;
  stream: string;
  stream_version: number | string;
  position: number | string;
}): AppendResult {
  return {
    id: r.id,
    source: r.source,
    stream: r.stream,
    streamVersion: Number(r.stream_version),
    position: Number(r.position),
    duplicate: true,
  };
}

/** Tells each `onAppended` listener the new head. */
export function tellListeners(listeners: Iterable<(head: number) => void>, head: number): void {
  for (const listener of listeners) {
    try {
      listener(head);
    } catch {
      // A listener's failure must not affect the writer or the other listeners.
    }
  }
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
      else checkText(e[field], field, bad);
    }
    const optional = (field: keyof EventToAppend): string | undefined => {
      const value = e[field];
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'string') bad(field, `${field} must be a string`);
      else checkText(value, field, bad);
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
      if (escapesLoneSurrogate(dataJson)) badStrings(e.data, `/${i}/data`, issues);
    } catch (err) {
      bad('data', `data must be serialisable as JSON: ${(err as Error).message}`);
    }
    try {
      extensionsJson = serialise(e.extensions ?? {});
      if (escapesLoneSurrogate(extensionsJson)) badStrings(e.extensions, `/${i}/extensions`, issues);
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

const NOT_WELL_FORMED = 'must be well-formed Unicode: it holds a lone UTF-16 surrogate';

/**
 * An attribute is stored as text as it is, so it must be text every adapter stores exactly: well-formed
 * (SQLite and PostgreSQL would store U+FFFD for a lone surrogate, and the hash would not cover what
 * is stored) and without U+0000 (PostgreSQL text cannot hold it). Data and extensions are stored as
 * JSON, where both are escapes: a NUL is stored there, a lone surrogate is refused as text that is not
 * Unicode (see escapesLoneSurrogate).
 */
function checkText(value: string, field: string, bad: (field: string, message: string) => void): void {
  if (!value.isWellFormed()) bad(field, `${field} ${NOT_WELL_FORMED}`);
  else if (value.includes('\0')) bad(field, `${field} must not contain U+0000 (NUL)`);
}
/** Most issues reported for the strings of one event's data or extensions. */
const MAX_STRING_ISSUES = 10;

/**
 * Whether canonical JSON holds a lone surrogate. JSON.stringify writes a lone surrogate as a
 * `\udXXX` escape (a well-formed pair stays raw), so the text itself is ASCII there and
 * `isWellFormed` cannot see it; an escape counts only after an even run of backslashes (`\\ud800`
 * is a backslash and the letters "ud800"). The first test is one scan that Vietnamese text
 * practically never passes.
 */
function escapesLoneSurrogate(json: string): boolean {
  return json.includes('\\ud') && /(?<!\\)(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/.test(json);
}

/**
 * Adds an issue for each string or property name in `value` that is not well-formed (the first few),
 * or one for the whole value when none is found (a getter that answered differently the second time).
 */
function badStrings(value: unknown, pointer: string, issues: Issue[]): void {
  const before = issues.length;
  const stack: [unknown, string][] = [[value, pointer]];
  let left = MAX_STRING_ISSUES;
  const report = (at: string, what: string) => {
    if (left-- > 0) issues.push({ pointer: at, message: `the ${what} ${NOT_WELL_FORMED}` });
  };
  while (stack.length > 0 && left > 0) {
    const [v, at] = stack.pop()!;
    if (typeof v === 'string') {
      if (!v.isWellFormed()) report(at, 'string');
    } else if (Array.isArray(v)) {
      for (let k = v.length - 1; k >= 0; k--) stack.push([v[k], `${at}/${k}`]);
    } else if (v !== null && typeof v === 'object') {
      const members = Object.entries(v).filter(([, m]) => m !== undefined);
      for (const [k] of members) if (!k.isWellFormed()) report(`${at}/${pointerToken(k)}`, 'property name');
      for (const [k, m] of members.reverse()) stack.push([m, `${at}/${pointerToken(k)}`]);
    }
  }
  if (issues.length === before) issues.push({ pointer, message: `a string ${NOT_WELL_FORMED}` });
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
