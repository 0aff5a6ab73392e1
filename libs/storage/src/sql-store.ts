import type { SqlDatabase, SqlDialect, SqlMigration } from './index.js';

/** The column types a store's tables differ in between the dialects. */
export interface SqlColumnTypes {
  /** A 64-bit key that grows with each insert and is never reused. */
  serial: string;
  /** A JSON document (write it with `JSON.stringify`, read it with `readJson`). */
  json: string;
  /** A 64-bit integer (positions, times in milliseconds). */
  big: string;
  /** A double-precision floating-point number. */
  real: string;
  /** What ends a `CREATE TABLE`: SQLite's ` STRICT`, nothing on PostgreSQL. */
  strict: string;
}

export const SQL_COLUMN_TYPES: Readonly<Record<SqlDialect, SqlColumnTypes>> = {
  sqlite: {
    serial: 'INTEGER PRIMARY KEY AUTOINCREMENT',
    json: 'TEXT',
    big: 'INTEGER',
    real: 'REAL',
    strict: ' STRICT',
  },
  postgres: {
    serial: 'BIGSERIAL PRIMARY KEY',
    json: 'JSONB',
    big: 'BIGINT',
    real: 'DOUBLE PRECISION',
    strict: '',
  },
};

/** A migration whose SQL is one text in both dialects but for the column types (and what `ddl` adds per dialect). */
export function sqlMigration(
  version: number,
  description: string,
  ddl: (types: SqlColumnTypes, dialect: SqlDialect) => string,
): SqlMigration {
  return {
    version,
    description,
    sqlite: ddl(SQL_COLUMN_TYPES.sqlite, 'sqlite'),
    postgres: ddl(SQL_COLUMN_TYPES.postgres, 'postgres'),
  };
}

/** The tables of one component of the database (a store's), and the migrations that make them. */
export class SqlSchema {
  constructor(
    readonly component: string,
    readonly migrations: readonly SqlMigration[],
  ) {}

  /** Creates or migrates the tables on `db` (see {@link SqlDatabase.migrate}). */
  migrate(db: SqlDatabase): Promise<number> {
    return db.migrate(this.component, this.migrations);
  }

  /**
   * A store's `open`: creates or migrates the tables on the database, then builds the store on it.
   * The database stays the caller's to close. The `open` it returns throws StoreUnavailableError when
   * the database cannot be reached or holds a newer schema.
   */
  opener<S>(build: (db: SqlDatabase) => S): (db: SqlDatabase) => Promise<S> {
    return async (db) => {
      await this.migrate(db);
      return build(db);
    };
  }
}

/**
 * A store usable as soon as it is constructed (where nothing can be awaited, often on SQLite in
 * memory): its tables are created or migrated before the first call runs (every call awaits
 * `ready`), and a failure to migrate is that call's failure. {@link whenMigrated} reports it at once.
 */
export abstract class MigratingSqlStore {
  /** The migration, begun at construction. */
  readonly ready: Promise<unknown>;

  protected constructor(
    protected readonly db: SqlDatabase,
    schema: SqlSchema,
  ) {
    this.ready = schema.migrate(db);
    // Reported by the first call (or by `whenMigrated`), not as an unhandled rejection.
    this.ready.catch(() => undefined);
  }
}

/**
 * `store` once its tables are created or migrated.
 * @throws StoreUnavailableError when the database cannot be reached or holds a newer schema.
 */
export async function whenMigrated<S extends MigratingSqlStore>(store: S): Promise<S> {
  await store.ready;
  return store;
}
