import pg from 'pg';
import { DomainError } from '#lgsp/contracts';
import {
  SCHEMA_VERSION_TABLE,
  StoreUnavailableError,
  UPSERT_SCHEMA_VERSION,
  pendingMigrations,
  type ComponentVersion,
  type DialectMigration,
  type SqlDatabase,
  type SqlExecutor,
  type SqlMigration,
} from '#lgsp/storage';

/**
 * SQLSTATEs that mean "try again later": the connection or the server going away (class 08, admin
 * shutdown, crash, cannot connect now), overload, and a lost serialisation or deadlock.
 */
const RETRIABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '53000', '40001', '40P01']);

/**
 * What a failed PostgreSQL call means to the hub. Connection loss, shutdown and overload become
 * StoreUnavailableError (a 503, retriable), and so does every error that is not the server's answer to
 * the statement (a refused or cut connection, a timeout, an ended pool). A DomainError and any other
 * SQL error pass through unchanged: retrying cannot help them. Shared by every PostgreSQL table the
 * hub keeps (events, checkpoints, leases, clients, dossier views).
 */
export function postgresUnavailable(err: unknown, message: string): unknown {
  if (err instanceof DomainError || err instanceof StoreUnavailableError) return err;
  if (err instanceof pg.DatabaseError) {
    const code = err.code ?? '';
    if (!code.startsWith('08') && !RETRIABLE_SQLSTATES.has(code)) return err;
  }
  return new StoreUnavailableError(`${message}: ${err instanceof Error ? err.message : String(err)}`, err);
}

/**
 * Runs `fn` in one transaction on a client of `pool`: BEGIN, `fn`, COMMIT; ROLLBACK on any failure,
 * and a client whose rollback failed is discarded rather than returned to the pool. Failures are
 * classified by {@link postgresUnavailable} with `message` (e.g. "the replay store cannot advance").
 * pg emits 'error' on a checked-out client whose server went away; the running statement reports it,
 * so the event is ignored while the client is held.
 */
export function inPostgresTransaction<T>(
  pool: pg.Pool,
  message: string,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  return transactionOn(pool, message, fn, false);
}

/** {@link inPostgresTransaction}; with `passOn`, what `fn` throws passes unchanged (only the rest is classified). */
async function transactionOn<T>(
  pool: pg.Pool,
  message: string,
  fn: (client: pg.PoolClient) => Promise<T>,
  passOn: boolean,
): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw postgresUnavailable(err, message);
  }
  const ignore = () => undefined;
  client.on('error', ignore);
  let broken = false;
  let inFn = false;
  try {
    await client.query('BEGIN');
    inFn = true;
    const result = await fn(client);
    inFn = false;
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw passOn && inFn ? err : postgresUnavailable(err, message);
  } finally {
    client.off('error', ignore);
    client.release(broken);
  }
}

/** Options of {@link PostgresDatabase.open}. */
export interface PostgresOpenOptions {
  connectionString: string;
  /** The schema every table lives in (created when missing); it is the pool's `search_path`. */
  schema: string;
  /** @defaultValue 10 */
  poolSize?: number;
  /** Shown in `pg_stat_activity`. */
  applicationName?: string;
}

const FAILED = 'PostgreSQL cannot answer';

/** Statements on a pool or on the client of one transaction. */
class PostgresExecutor implements SqlExecutor {
  readonly dialect = 'postgres';

  constructor(private readonly on: pg.Pool | pg.PoolClient) {}

  async query<T extends object>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    try {
      return (await this.on.query(sql, params as unknown[])).rows as T[];
    } catch (err) {
      throw postgresUnavailable(err, FAILED);
    }
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    try {
      return (await this.on.query(sql, params as unknown[])).rowCount ?? 0;
    } catch (err) {
      throw postgresUnavailable(err, FAILED);
    }
  }
}

/**
 * One PostgreSQL schema as a {@link SqlDatabase}, on a pool whose `search_path` is that schema (so
 * statements name tables unqualified). Driver failures that a retry may cure are StoreUnavailableError.
 */
export class PostgresDatabase extends PostgresExecutor implements SqlDatabase {
  private closed = false;

  private constructor(
    readonly pool: pg.Pool,
    readonly schema: string,
    private readonly owned: boolean,
  ) {
    super(pool);
  }

  /**
   * A pool of its own on `schema`. An idle client whose server goes away makes the pool emit 'error':
   * it is dropped from the pool and the next statement reports the failure, so the event is ignored.
   */
  static open(options: PostgresOpenOptions): PostgresDatabase {
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      options: `-c search_path=${pg.escapeIdentifier(options.schema)}`,
      ...(options.applicationName ? { application_name: options.applicationName } : {}),
    });
    pool.on('error', () => undefined);
    return new PostgresDatabase(pool, options.schema, true);
  }

  /** A pool opened elsewhere (the event store's), whose `search_path` is `schema`; it stays open at close. */
  static over(pool: pg.Pool, schema: string): PostgresDatabase {
    return new PostgresDatabase(pool, schema, false);
  }

  /**
   * Like {@link inPostgresTransaction}, except that what `fn` throws passes unchanged: its statements
   * classify their own failures, and an error of the caller's code (a fold that throws) is not the
   * store being unavailable.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return transactionOn(this.pool, FAILED, (client) => fn(new PostgresExecutor(client)), true);
  }

  /**
   * The one open sequence: a client, its 'error' ignored while held (the statement reports it), the
   * migrations in one transaction under an advisory lock per schema (shared with the event store's,
   * so replicas starting together migrate one after the other), the client released.
   */
  async migrate(component: string, migrations: readonly SqlMigration[]): Promise<number> {
    const { schema } = this;
    let client: pg.PoolClient | undefined;
    const ignore = () => undefined;
    let latest: number;
    try {
      client = await this.pool.connect();
      client.on('error', ignore);
      latest = await migratePostgresSchema(client, schema, component, postgresSteps(migrations));
    } catch (err) {
      client?.release(true);
      throw new StoreUnavailableError(
        `cannot open ${component} on PostgreSQL (schema ${schema}): ${err instanceof Error ? err.message : String(err)}`,
        err,
      );
    }
    client.off('error', ignore);
    client.release();
    const [where] = await this.query<{ current: string | null }>('SELECT current_schema() AS current');
    if (where?.current !== schema)
      throw new Error(`the pool's search_path is ${String(where?.current)}, not the schema ${schema}`);
    return latest;
  }

  async versions(): Promise<ComponentVersion[]> {
    const rows = await this.query<ComponentVersion>(
      `SELECT component, version FROM schema_version ORDER BY component`,
    );
    return rows.map((r) => ({ component: r.component, version: Number(r.version) }));
  }

  async close(): Promise<void> {
    if (this.owned && !this.closed) {
      this.closed = true;
      await this.pool.end();
    }
  }
}

/** The PostgreSQL side of each step. */
const postgresSteps = (migrations: readonly SqlMigration[]): DialectMigration[] =>
  migrations.map(({ version, description, postgres }) => ({ version, description, sql: postgres }));

/**
 * Brings `component`'s tables in `schema` up to the last of `steps` on `client`, in one transaction
 * serialised by an advisory lock per schema (replicas starting together migrate one after the other),
 * recording the version in `schema_version`. Returns the version in place. Used by
 * {@link PostgresDatabase.migrate} and by the event store, whose tables exist in PostgreSQL only.
 * @throws StoreUnavailableError when the schema holds a newer version than `steps` know.
 */
export async function migratePostgresSchema(
  client: pg.PoolClient,
  schema: string,
  component: string,
  steps: readonly DialectMigration[],
): Promise<number> {
  const quoted = client.escapeIdentifier(schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`lgsp-migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await client.query(`SET LOCAL search_path TO ${quoted}`);
    await client.query(SCHEMA_VERSION_TABLE);
    const { rows } = await client.query<{ version: number }>(
      'SELECT version FROM schema_version WHERE component = $1',
      [component],
    );
    const current = rows[0]?.version ?? 0;
    const { latest, pending } = pendingMigrations(component, steps, current, ` ${schema}`);
    for (const m of pending) await client.query(m.sql);
    if (current !== latest)
      await client.query(UPSERT_SCHEMA_VERSION, [component, latest, new Date().toISOString()]);
    await client.query('COMMIT');
    return latest;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
