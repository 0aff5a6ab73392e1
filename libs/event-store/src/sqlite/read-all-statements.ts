import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { ReadAllOptions } from '../port.js';
import { EVENT_COLUMNS } from '../records.js';
import { readAllSql, type ReadAllShape } from './read-all-sql.js';

export const DEFAULT_READ_LIMIT = 1000;
const MAX_CACHED_READ_SHAPES = 256;

/** The prepared statements of `readAll`, one per shape of filter (how many types, provinces, communes). */
export class ReadAllStatements {
  private readonly statements = new Map<string, StatementSync>();

  constructor(private readonly db: DatabaseSync) {}

  /** The statement and parameters of `readAll(options)`, undefined when it matches nothing. */
  query(options: ReadAllOptions): { stmt: StatementSync; params: SQLInputValue[] } | undefined {
    const limit = options.limit ?? DEFAULT_READ_LIMIT;
    const filters = [options.types, options.provinceCodes, options.communeCodes];
    if (limit <= 0 || filters.some((list) => list?.length === 0)) return undefined;
    const types = distinct(options.types);
    const provinces = distinct(options.provinceCodes);
    const communes = distinct(options.communeCodes);
    const stmt = this.statement({
      types: types.length,
      provinces: provinces.length,
      communes: communes.length,
    });
    return { stmt, params: [options.after ?? 0, limit, ...types, ...provinces, ...communes] };
  }

  private statement(shape: ReadAllShape): StatementSync {
    const key = `${shape.types}:${shape.provinces}:${shape.communes}`;
    let stmt = this.statements.get(key);
    if (stmt === undefined) {
      if (this.statements.size >= MAX_CACHED_READ_SHAPES) this.statements.clear();
      stmt = this.db.prepare(readAllSql(EVENT_COLUMNS, shape));
      this.statements.set(key, stmt);
    }
    return stmt;
  }
}

function distinct(list: readonly string[] | undefined): string[] {
  return [...new Set(list)];
}
