import pg from 'pg';
import type { ChainRecord, ChainSource } from '../chain.js';
import { StoreUnavailableError } from '../errors.js';
import { EVENT_COLUMNS, toChainRecord, type EventRow } from '../records.js';
import { POSTGRES_EVENT_STORE_COMPONENT, POSTGRES_EVENT_STORE_MIGRATIONS } from './migrations.js';
import { postgresUnavailable } from './unavailable.js';

/** Rows read per query. */
const PAGE_ROWS = 2000;

/** Options of {@link openPostgresChainSource}. */
export interface PostgresChainSourceOptions {
  /** `postgres://user@host:port/database`. */
  connectionString: string;
  /** The schema holding the store's tables: a live store, or a backup restored into a schema. */
  schema: string;
  /** @defaultValue 'lgsp-verify' */
  applicationName?: string;
}

/**
 * The records of a PostgreSQL event store, for `lgsp verify`. One connection whose transactions are
 * read-only (the server refuses any write), and one REPEATABLE READ transaction for the whole walk:
 * a snapshot, even while hubs append. Runs no migration.
 * @throws StoreUnavailableError when PostgreSQL cannot be reached or the schema holds no event store
 * this build reads.
 */
export async function openPostgresChainSource(options: PostgresChainSourceOptions): Promise<ChainSource> {
  const { schema } = options;
  const name = `PostgreSQL ${serverOf(options.connectionString)}, schema ${schema}`;
  const client = new pg.Client({
    connectionString: options.connectionString,
    application_name: options.applicationName ?? 'lgsp-verify',
    options: '-c default_transaction_read_only=on',
  });
  // A connection that fails while idle must not crash the process; the next query reports it.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    throw postgresUnavailable(err, 'cannot connect to PostgreSQL');
  }
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client
      .query<{ version: number | null; events: string | null }>(
        `SELECT to_regclass(format('%I.events', $1::text))::text AS events,
              (SELECT version FROM ${pg.escapeIdentifier(schema)}.schema_version WHERE component = $2) AS version`,
        [schema, POSTGRES_EVENT_STORE_COMPONENT],
      )
      .catch((err: unknown) => {
        // 42P01: no schema_version table, so no store in this schema (or no such schema).
        if (err instanceof pg.DatabaseError && err.code === '42P01') return { rows: [] };
        throw err;
      });
    const found = rows[0];
    if (found === undefined || found.events === null || found.version === null)
      throw new StoreUnavailableError(`${name} holds no event store`);
    if (found.version > POSTGRES_EVENT_STORE_MIGRATIONS.length) {
      throw new StoreUnavailableError(
        `${name} has event-store schema version ${found.version}; this build reads up to ${POSTGRES_EVENT_STORE_MIGRATIONS.length}`,
      );
    }
    return new PostgresChainSource(client, schema, name);
  } catch (err) {
    await client.end().catch(() => undefined);
    throw postgresUnavailable(err, `cannot read ${name}`);
  }
}

class PostgresChainSource implements ChainSource {
  private readonly table: string;

  constructor(
    private readonly client: pg.Client,
    schema: string,
    readonly name: string,
  ) {
    this.table = `${pg.escapeIdentifier(schema)}.events`;
  }

  async head(): Promise<number> {
    const { rows } = await this.query<{ head: string | null }>(
      `SELECT max(position) AS head FROM ${this.table}`,
    );
    return Number(rows[0]?.head ?? 0);
  }

  async *records(): AsyncIterable<ChainRecord> {
    let after = '0';
    for (;;) {
      const { rows } = await this.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM ${this.table} WHERE position > $1 ORDER BY position LIMIT $2`,
        [after, PAGE_ROWS],
      );
      for (const row of rows) yield toChainRecord(row);
      const last = rows.at(-1);
      if (last === undefined || rows.length < PAGE_ROWS) return;
      after = String(last.position);
    }
  }

  async close(): Promise<void> {
    await this.client.query('ROLLBACK').catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }

  private async query<R extends pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.client.query<R>(sql, params);
    } catch (err) {
      throw postgresUnavailable(err, `cannot read ${this.name}`);
    }
  }
}

/** `host:port/database` of a connection string: what to name in messages, never its user or password. */
function serverOf(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `${url.host}${url.pathname}`;
  } catch {
    return 'server';
  }
}
