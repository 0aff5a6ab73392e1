/** How many distinct values each filter of a `readAll` call has (0: no such filter). */
export interface ReadAllShape {
  types: number;
  provinces: number;
  communes: number;
}

/** Above this many codes in the seek column, a read is one filtered query instead of one index range per code. */
export const MAX_SEEK_RANGES = 64;

interface SeekColumn {
  column: 'commune_code' | 'province_code' | 'type';
  index: 'events_by_commune' | 'events_by_province' | 'events_by_type';
  codes: string[];
}

/**
 * The SELECT of a `readAll` call of `shape`, returning `columns`. Parameters: ?1 after, ?2 limit,
 * then the types, the provinces and the communes.
 *
 * A filtered read seeks: it reads one range of an index per code of its narrowest filter (communes,
 * else provinces, else types), each range in position order, merged by SQLite (`MERGE (UNION ALL)`)
 * and stopped at the limit. A page thus reads about its own rows however rare the scope is in the
 * log; the other filters are checked on those rows only. `INDEXED BY` pins each range to its index:
 * the store keeps no statistics, so the plan rests on SQLite's guesses, and a guess that changed would
 * turn pages back into scans. It also fails loudly if an index is missing.
 */
export function readAllSql(columns: string, shape: ReadAllShape): string {
  let next = 3;
  const placeholders = (n: number) => Array.from({ length: n }, () => `?${next++}`);
  const types = placeholders(shape.types);
  const provinces = placeholders(shape.provinces);
  const communes = placeholders(shape.communes);
  const seek: SeekColumn | undefined =
    communes.length > 0
      ? { column: 'commune_code', index: 'events_by_commune', codes: communes }
      : provinces.length > 0
        ? { column: 'province_code', index: 'events_by_province', codes: provinces }
        : types.length > 0
          ? { column: 'type', index: 'events_by_type', codes: types }
          : undefined;
  const filters: [string, string[]][] = [
    ['type', types],
    ['province_code', provinces],
    ['commune_code', communes],
  ];
  const inList = ([column, codes]: [string, string[]]) => ` AND ${column} IN (${codes.join(', ')})`;
  if (seek === undefined || seek.codes.length > MAX_SEEK_RANGES) {
    const where = filters
      .filter(([, codes]) => codes.length > 0)
      .map(inList)
      .join('');
    return `SELECT ${columns} FROM events WHERE position > ?1${where} ORDER BY position LIMIT ?2`;
  }
  const others = filters
    .filter(([column, codes]) => column !== seek.column && codes.length > 0)
    .map(inList)
    .join('');
  const ranges = seek.codes.map(
    (code) =>
      `SELECT ${columns} FROM events INDEXED BY ${seek.index} WHERE ${seek.column} = ${code} AND position > ?1${others}`,
  );
  return `${ranges.join(' UNION ALL ')} ORDER BY position LIMIT ?2`;
}
