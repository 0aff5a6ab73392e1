import { EVENT_COLUMNS } from '../records.js';
import type { ReadAllOptions } from '../port.js';
import type { NewRow } from './group-decision.js';
import { readAllSql } from './read-all-sql.js';

export const DEFAULT_READ_LIMIT = 1000;

export interface InsertColumn {
  type: 'bigint' | 'text';
  shared?: true;
  value(r: NewRow): string | number | undefined;
}

/**
 * The INSERT's columns, in EVENT_COLUMNS order, each sent as an array ($1, $2…). A `shared` column
 * also has a scalar parameter after the arrays: when every row of the INSERT has the same value (the
 * source, type, codes or recordedAt of a batch, most often), the array is sent empty, unnest pads it
 * with NULLs, and the scalar fills them in.
 */
export const INSERT_COLUMNS: readonly InsertColumn[] = [
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
export function readAllQuery(options: ReadAllOptions): { sql: string; params: unknown[] } | undefined {
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

/** The append lock: one writer at a time per schema (see group-commit.ts). */
export const LOCK_SQL = 'SELECT pg_advisory_xact_lock(hashtext($1))';
export const HEAD_SQL = 'SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1';
export const VERSIONS_SQL =
  'SELECT stream, max(stream_version) AS v FROM events WHERE stream = ANY($1::text[]) GROUP BY stream';
export const STORED_SQL = `SELECT e.source, e.id, e.position, e.stream, e.stream_version
  FROM events e JOIN unnest($1::text[], $2::text[]) AS k(source, id) ON e.source = k.source AND e.id = k.id`;
/**
 * The INSERT of a group's rows (see INSERT_COLUMNS), with its NOTIFY. It inserts nothing, and
 * notifies nothing, unless the record the rows follow (the guard parameters: its position and hash,
 * or 0 and NULL for the first record) is stored; an optimistic group sent behind one that failed thus
 * writes nothing.
 */
const GUARDED_INSERT = `WITH inserted AS (
    INSERT INTO events (${EVENT_COLUMNS})
    SELECT ${insertSelectList()}
    FROM unnest(${insertArrayList()}) AS u(${EVENT_COLUMNS})
    WHERE (SELECT hash FROM events WHERE position = $${GUARD_PARAM}::bigint) IS NOT DISTINCT FROM $${GUARD_PARAM + 1}::text
    RETURNING 1
  )`;
export const INSERT_SQL = `${GUARDED_INSERT}
  SELECT pg_notify($${GUARD_PARAM + 2}, $${GUARD_PARAM + 3}) FROM (SELECT count(*) AS n FROM inserted) AS c
  WHERE c.n > 0`;
/** The same, for the first rows of a group sent in chunks: no NOTIFY. */
export const INSERT_PART_SQL = `${GUARDED_INSERT}
  SELECT 1 FROM (SELECT count(*) AS n FROM inserted) AS c WHERE c.n > 0`;
/** The unique index on (source, id): an INSERT that meets it met a stored duplicate. */
export const SOURCE_ID_CONSTRAINT = 'events_source_id_key';

export interface HeadRow {
  position: string;
  hash: string;
  recorded_at: string;
}

export interface VersionRow {
  stream: string;
  v: string;
}

export interface StoredRow {
  source: string;
  id: string;
  position: string;
  stream: string;
  stream_version: string;
}
