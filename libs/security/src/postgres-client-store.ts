import pg from 'pg';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { StoreUnavailableError } from '#lgsp/event-store';
import {
  applyPostgresMigrations,
  postgresUnavailable,
  type PostgresMigration,
} from '#lgsp/event-store/postgres';
import { ClientNameTakenError, type Client, type ClientChanges, type ClientStore } from './client.js';

/** The component name the clients table is versioned under in `schema_version`. */
export const POSTGRES_CLIENTS_COMPONENT = 'security.clients';

const NAME_CONSTRAINT = 'clients_name_unique';

const MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    description: 'clients',
    // The columns of the SQLite table; the code lists are text[] rather than JSON text.
    sql: `
      CREATE TABLE clients (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        province_code TEXT,
        commune_codes TEXT[] NOT NULL,
        sources TEXT[] NOT NULL DEFAULT '{}',
        token_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        CONSTRAINT ${NAME_CONSTRAINT} UNIQUE (name),
        CONSTRAINT clients_token_hash_unique UNIQUE (token_hash)
      );
    `,
  },
  {
    version: 2,
    description: 'clients: a rate limit of their own',
    sql: `ALTER TABLE clients ADD COLUMN rate_per_second DOUBLE PRECISION, ADD COLUMN rate_burst INTEGER;`,
  },
];

interface Row {
  id: string;
  name: string;
  role: Client['role'];
  province_code: string | null;
  commune_codes: string[];
  sources: string[];
  rate_per_second: number | null;
  rate_burst: number | null;
  created_at: string;
}

const COLUMNS =
  'id, name, role, province_code, commune_codes, sources, rate_per_second, rate_burst, created_at';

const toClient = (r: Row): Client => ({
  id: r.id,
  name: r.name,
  role: r.role,
  ...(r.province_code ? { provinceCode: r.province_code } : {}),
  communeCodes: r.commune_codes,
  sources: r.sources,
  ...(r.rate_per_second !== null && r.rate_burst !== null
    ? { rateLimit: { ratePerSecond: r.rate_per_second, burst: r.rate_burst } }
    : {}),
  createdAt: r.created_at,
});

/**
 * Clients in PostgreSQL, shared by every hub process on the database. Only token hashes are stored.
 * The table's unique name is what decides between two processes creating the same name at once.
 */
export class PostgresClientStore implements ClientStore {
  private readonly table: string;

  private constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.table = `${pg.escapeIdentifier(schema)}.clients`;
  }

  /**
   * Creates or migrates the clients table in `schema`. The pool stays the caller's to end.
   * @throws StoreUnavailableError when PostgreSQL cannot be reached or holds a newer schema.
   */
  static async open(pool: Pool, schema: string): Promise<PostgresClientStore> {
    let client: PoolClient | undefined;
    // pg emits 'error' on a checked-out client whose server went away; the running statement reports it.
    const ignore = () => undefined;
    try {
      client = await pool.connect();
      client.on('error', ignore);
      await applyPostgresMigrations(client, schema, MIGRATIONS, POSTGRES_CLIENTS_COMPONENT);
    } catch (err) {
      client?.release(true);
      throw new StoreUnavailableError(
        `cannot open the clients store on PostgreSQL (schema ${schema}): ${errorMessage(err)}`,
        err,
      );
    }
    client.off('error', ignore);
    client.release();
    return new PostgresClientStore(pool, schema);
  }

  async insert(c: Client, tokenHash: string): Promise<void> {
    try {
      await this.pool.query(
        `INSERT INTO ${this.table} (id, name, role, province_code, commune_codes, sources, rate_per_second,
                                    rate_burst, token_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          c.id,
          c.name,
          c.role,
          c.provinceCode ?? null,
          c.communeCodes,
          c.sources,
          c.rateLimit?.ratePerSecond ?? null,
          c.rateLimit?.burst ?? null,
          tokenHash,
          c.createdAt,
        ],
      );
    } catch (err) {
      const { code, constraint } = (err ?? {}) as { code?: unknown; constraint?: unknown };
      if (code === '23505' && constraint === NAME_CONSTRAINT) throw new ClientNameTakenError(c.name, err);
      throw postgresUnavailable(err, 'the clients store cannot write');
    }
  }

  async findByTokenHash(tokenHash: string): Promise<Client | undefined> {
    const rows = await this.query<Row>(`SELECT ${COLUMNS} FROM ${this.table} WHERE token_hash = $1`, [
      tokenHash,
    ]);
    return rows[0] && toClient(rows[0]);
  }

  async findByName(name: string): Promise<Client | undefined> {
    const rows = await this.query<Row>(`SELECT ${COLUMNS} FROM ${this.table} WHERE name = $1`, [name]);
    return rows[0] && toClient(rows[0]);
  }

  async list(): Promise<Client[]> {
    const rows = await this.query<Row>(`SELECT ${COLUMNS} FROM ${this.table} ORDER BY created_at, id`);
    return rows.map(toClient);
  }

  async update(id: string, changes: ClientChanges): Promise<Client | undefined> {
    if (changes.rateLimit === undefined) {
      const rows = await this.query<Row>(`SELECT ${COLUMNS} FROM ${this.table} WHERE id = $1`, [id]);
      return rows[0] && toClient(rows[0]);
    }
    const rows = await this.query<Row>(
      `UPDATE ${this.table} SET rate_per_second = $2, rate_burst = $3 WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, changes.rateLimit?.ratePerSecond ?? null, changes.rateLimit?.burst ?? null],
    );
    return rows[0] && toClient(rows[0]);
  }

  private async query<R extends QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]> {
    try {
      return (await this.pool.query<R>(sql, params)).rows;
    } catch (err) {
      throw postgresUnavailable(err, 'the clients store cannot read');
    }
  }
}

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));
