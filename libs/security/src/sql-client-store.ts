import type { SqlDatabase, SqlDialect, SqlMigration } from '#lgsp/storage';
import {
  ClientNameTakenError,
  type Client,
  type ClientChanges,
  type ClientStore,
  type TokenHolder,
} from './client.js';

/** The component name the clients table is versioned under in `schema_version`. */
export const CLIENTS_COMPONENT = 'security.clients';

const NAME_CONSTRAINT = 'clients_name_unique';
const SQLITE_CONSTRAINT_UNIQUE = 2067;

const MIGRATIONS: readonly SqlMigration[] = [
  {
    version: 1,
    description: 'clients',
    // On SQLite the table predates versioning: a file of an earlier build may hold it already (and
    // gets its later columns from `addLaterColumns`), and it has had the rate-limit columns since.
    // On PostgreSQL the code lists are text[] rather than JSON text.
    sqlite: `
      CREATE TABLE IF NOT EXISTS clients (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        province_code TEXT,
        commune_codes TEXT NOT NULL,
        sources TEXT NOT NULL DEFAULT '[]',
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        rate_per_second REAL,
        rate_burst INTEGER
      )`,
    postgres: `
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
      );`,
  },
  {
    version: 2,
    description: 'clients: a rate limit of their own',
    sqlite: '-- version 1 has the columns on SQLite',
    postgres:
      'ALTER TABLE clients ADD COLUMN rate_per_second DOUBLE PRECISION, ADD COLUMN rate_burst INTEGER;',
  },
  {
    version: 3,
    description:
      'clients: a creation sequence, so that clients created in the same millisecond list in order',
    // Existing clients are numbered in the order they were inserted where the database knows it
    // (SQLite's rowid), else in the order they listed until now (created_at, id). On SQLite a new
    // client takes the next number inside its INSERT (`NEXT_SEQ`), writes being serialised there;
    // on PostgreSQL a sequence numbers it.
    sqlite: `
      ALTER TABLE clients ADD COLUMN seq INTEGER;
      UPDATE clients SET seq = rowid;
      CREATE UNIQUE INDEX clients_seq_unique ON clients (seq);`,
    postgres: `
      ALTER TABLE clients ADD COLUMN seq BIGINT;
      UPDATE clients SET seq = numbered.n
        FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM clients) numbered
        WHERE clients.id = numbered.id;
      CREATE SEQUENCE clients_seq OWNED BY clients.seq;
      SELECT setval('clients_seq', (SELECT COALESCE(MAX(seq), 0) + 1 FROM clients), false);
      ALTER TABLE clients ALTER COLUMN seq SET DEFAULT nextval('clients_seq'),
        ALTER COLUMN seq SET NOT NULL, ADD CONSTRAINT clients_seq_unique UNIQUE (seq);`,
  },
  {
    version: 4,
    description: 'clients: token rotation with an overlap, token issue times, revocation',
    // token_issued_at stays null until the first rotation (the token was issued at created_at). The
    // rotated-out token's hash is unique like the current one's; both take many nulls.
    sqlite: `
      ALTER TABLE clients ADD COLUMN token_issued_at TEXT;
      ALTER TABLE clients ADD COLUMN previous_token_hash TEXT;
      ALTER TABLE clients ADD COLUMN previous_token_issued_at TEXT;
      ALTER TABLE clients ADD COLUMN previous_token_expires_at TEXT;
      ALTER TABLE clients ADD COLUMN revoked_at TEXT;
      CREATE UNIQUE INDEX clients_previous_token_hash_unique ON clients (previous_token_hash);`,
    postgres: `
      ALTER TABLE clients ADD COLUMN token_issued_at TEXT, ADD COLUMN previous_token_hash TEXT,
        ADD COLUMN previous_token_issued_at TEXT, ADD COLUMN previous_token_expires_at TEXT,
        ADD COLUMN revoked_at TEXT,
        ADD CONSTRAINT clients_previous_token_hash_unique UNIQUE (previous_token_hash);`,
  },
];

/** The creation sequence number of a client being inserted (migration 3). */
const NEXT_SEQ: Record<SqlDialect, string> = {
  sqlite: '(SELECT COALESCE(MAX(seq), 0) + 1 FROM clients)',
  postgres: 'DEFAULT',
};

interface Row {
  id: string;
  name: string;
  role: Client['role'];
  province_code: string | null;
  commune_codes: string | string[];
  sources: string | string[];
  rate_per_second: number | null;
  rate_burst: number | null;
  created_at: string;
  token_issued_at: string | null;
  revoked_at: string | null;
}

interface TokenRow extends Row {
  token_hash: string;
  previous_token_issued_at: string | null;
  previous_token_expires_at: string | null;
}

const COLUMNS =
  'id, name, role, province_code, commune_codes, sources, rate_per_second, rate_burst, created_at, ' +
  'token_issued_at, revoked_at';

/** A code list: a text[] on PostgreSQL, JSON text on SQLite. */
const writeList = (dialect: SqlDialect, list: readonly string[]) =>
  dialect === 'postgres' ? list : JSON.stringify(list);
const readList = (value: string | string[]) =>
  typeof value === 'string' ? (JSON.parse(value) as string[]) : value;

const toClient = (r: Row): Client => ({
  id: r.id,
  name: r.name,
  role: r.role,
  ...(r.province_code ? { provinceCode: r.province_code } : {}),
  communeCodes: readList(r.commune_codes),
  sources: readList(r.sources),
  ...(r.rate_per_second !== null && r.rate_burst !== null
    ? { rateLimit: { ratePerSecond: r.rate_per_second, burst: r.rate_burst } }
    : {}),
  createdAt: r.created_at,
  ...(r.token_issued_at !== null ? { tokenIssuedAt: r.token_issued_at } : {}),
  ...(r.revoked_at !== null ? { revokedAt: r.revoked_at } : {}),
});

/**
 * Clients beside the events (the SQLite file, or the PostgreSQL schema shared by every hub process).
 * Only token hashes are stored. The table's unique name is what decides between two processes
 * creating the same name at once.
 */
export class SqlClientStore implements ClientStore {
  private constructor(private readonly db: SqlDatabase) {}

  /**
   * Creates or migrates the clients table. The database stays the caller's to close.
   * @throws StoreUnavailableError when the database cannot be reached or holds a newer schema.
   */
  static async open(db: SqlDatabase): Promise<SqlClientStore> {
    if (db.dialect === 'sqlite') await addLaterColumns(db);
    await db.migrate(CLIENTS_COMPONENT, MIGRATIONS);
    return new SqlClientStore(db);
  }

  async insert(c: Client, tokenHash: string): Promise<void> {
    const { dialect } = this.db;
    try {
      await this.db.run(
        `INSERT INTO clients (id, name, role, province_code, commune_codes, sources, rate_per_second,
                              rate_burst, token_hash, created_at, seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, ${NEXT_SEQ[dialect]})`,
        [
          c.id,
          c.name,
          c.role,
          c.provinceCode ?? null,
          writeList(dialect, c.communeCodes),
          writeList(dialect, c.sources),
          c.rateLimit?.ratePerSecond ?? null,
          c.rateLimit?.burst ?? null,
          tokenHash,
          c.createdAt,
        ],
      );
    } catch (err) {
      // Not `instanceof Error`: node:sqlite's errors may come from another realm (jest's VM contexts).
      const { code, constraint, errcode, message } = (err ?? {}) as Record<string, unknown>;
      const nameTaken =
        dialect === 'postgres'
          ? code === '23505' && constraint === NAME_CONSTRAINT
          : errcode === SQLITE_CONSTRAINT_UNIQUE && String(message).endsWith('clients.name');
      if (nameTaken) throw new ClientNameTakenError(c.name, err);
      throw err;
    }
  }

  async findByTokenHash(tokenHash: string): Promise<TokenHolder | undefined> {
    const [row] = await this.db.query<TokenRow>(
      `SELECT ${COLUMNS}, token_hash, previous_token_issued_at, previous_token_expires_at FROM clients
       WHERE token_hash = $1 OR previous_token_hash = $1`,
      [tokenHash],
    );
    if (!row) return undefined;
    const client = toClient(row);
    if (row.token_hash === tokenHash) return { client, issuedAt: row.token_issued_at ?? row.created_at };
    return {
      client,
      issuedAt: row.previous_token_issued_at ?? row.created_at,
      ...(row.previous_token_expires_at !== null ? { expiresAt: row.previous_token_expires_at } : {}),
    };
  }

  async findByName(name: string): Promise<Client | undefined> {
    return this.one(`SELECT ${COLUMNS} FROM clients WHERE name = $1`, [name]);
  }

  /** Oldest first; clients created in the same millisecond in the order they were inserted. */
  async list(): Promise<Client[]> {
    return (await this.db.query<Row>(`SELECT ${COLUMNS} FROM clients ORDER BY created_at, seq`)).map(
      toClient,
    );
  }

  async update(id: string, changes: ClientChanges): Promise<Client | undefined> {
    if (changes.rateLimit === undefined)
      return this.one(`SELECT ${COLUMNS} FROM clients WHERE id = $1`, [id]);
    return this.one(
      `UPDATE clients SET rate_per_second = $2, rate_burst = $3 WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, changes.rateLimit?.ratePerSecond ?? null, changes.rateLimit?.burst ?? null],
    );
  }

  async rotateToken(
    id: string,
    tokenHash: string,
    issuedAt: string,
    previousExpiresAt: string,
  ): Promise<Client | undefined> {
    // The right-hand sides read the row as it was: the current token becomes the previous one.
    return this.one(
      `UPDATE clients SET previous_token_hash = token_hash,
              previous_token_issued_at = COALESCE(token_issued_at, created_at),
              previous_token_expires_at = $4, token_hash = $2, token_issued_at = $3
       WHERE id = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`,
      [id, tokenHash, issuedAt, previousExpiresAt],
    );
  }

  async revoke(id: string, at: string): Promise<Client | undefined> {
    return this.one(
      `UPDATE clients SET revoked_at = COALESCE(revoked_at, $2), previous_token_hash = NULL,
              previous_token_issued_at = NULL, previous_token_expires_at = NULL
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, at],
    );
  }

  private async one(sql: string, params: unknown[]): Promise<Client | undefined> {
    const [row] = await this.db.query<Row>(sql, params);
    return row && toClient(row);
  }
}

/** A SQLite table of a build before versions lacks the later columns; they are added, its clients kept. */
async function addLaterColumns(db: SqlDatabase): Promise<void> {
  const columns = (await db.query<{ name: string }>('PRAGMA table_info(clients)')).map((c) => c.name);
  if (columns.length === 0) return;
  if (!columns.includes('sources'))
    await db.run(`ALTER TABLE clients ADD COLUMN sources TEXT NOT NULL DEFAULT '[]'`);
  if (!columns.includes('rate_per_second'))
    await db.run('ALTER TABLE clients ADD COLUMN rate_per_second REAL');
  if (!columns.includes('rate_burst')) await db.run('ALTER TABLE clients ADD COLUMN rate_burst INTEGER');
}
