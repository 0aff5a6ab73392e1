/** How many distinct values each filter of a `readAll` call has (0: no such filter). */
export interface ReadAllShape {
  types: number;
  provinces: number;
  communes: number;
}

/** Above this many codes in the scope, a read is one filtered query instead of one index range per code. */
export const MAX_SEEK_RANGES = 64;

/**
 * The SELECT of a `readAll` call of `shape`, returning `columns`. Parameters: $1 after, $2 limit, then
 * one text array per filter present, in the order types, provinces, communes.
 *
 * A scoped read (communes, else provinces) seeks: for each code, the first `limit` positions after
 * `after` in that code's range of its index (events_by_commune or events_by_province), the other
 * filters checked on those rows; then the smallest `limit` of them; then their rows, by primary key.
 * A page thus reads at most `limit` index entries per code, however rare the scope is in the log.
 *
 * Written so that the planner has no cheaper-looking alternative, whatever its statistics say: the
 * range is a row comparison ordered by (code, position), which only the scope's index can serve (with
 * `code = $` PostgreSQL often prefers to walk the primary key and filter, which reads the whole log
 * past `after` when the scope has few events there), and the rows are fetched by
 * `position = ANY(ARRAY(…))` rather than a join, which it may plan as a hash of the whole table.
 * Reads without a scope are left to the planner.
 */
export function readAllSql(columns: string, shape: ReadAllShape): string {
  const filters: { column: string; count: number; param: string }[] = [];
  for (const [column, count] of [
    ['type', shape.types],
    ['province_code', shape.provinces],
    ['commune_code', shape.communes],
  ] as const) {
    if (count > 0) filters.push({ column, count, param: `$${filters.length + 3}::text[]` });
  }
  const seek =
    filters.find((f) => f.column === 'commune_code') ?? filters.find((f) => f.column === 'province_code');
  if (seek === undefined || seek.count > MAX_SEEK_RANGES) {
    const where = filters.map((f) => ` AND ${f.column} = ANY(${f.param})`).join('');
    return `SELECT ${columns} FROM events WHERE position > $1${where} ORDER BY position LIMIT $2`;
  }
  const others = filters
    .filter((f) => f !== seek)
    .map((f) => ` AND ${f.column} = ANY(${f.param})`)
    .join('');
  return `SELECT ${columns} FROM events WHERE position = ANY(ARRAY(
      SELECT r.position FROM unnest(${seek.param}) AS s(code)
      CROSS JOIN LATERAL (
        SELECT position FROM events
        WHERE (${seek.column}, position) > (s.code, $1::bigint) AND ${seek.column} <= s.code${others}
        ORDER BY ${seek.column}, position LIMIT $2
      ) r
      ORDER BY r.position LIMIT $2
    )) ORDER BY position`;
}
