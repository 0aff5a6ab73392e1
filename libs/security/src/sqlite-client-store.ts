import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ClientNameTakenError, type Client, type ClientChanges, type ClientStore } from './client.js';

const SQLITE_CONSTRAINT_UNIQUE = 2067;

interface Row {
  id: string;
  name: string;
  role: Client['role'];
  province_code: string | null;
  commune_codes: string;
  sources: string;
  rate_per_second: number | null;
  rate_burst: number | null;
  created_at: string;
}

const toClient = (r: Row): Client => ({
  id: r.id,
  name: r.name,
  role: r.role,
  ...(r.province_code ? { provinceCode: r.province_code } : {}),
  communeCodes: JSON.parse(r.commune_codes) as string[],
  sources: JSON.parse(r.sources) as string[],
  ...(r.rate_per_second !== null && r.rate_burst !== null
    ? { rateLimit: { ratePerSecond: r.rate_per_second, burst: r.rate_burst } }
    : {}),
  createdAt: r.created_at,
});

/** Clients in the embedded SQLite file. Only token hashes are stored. */
export class SqliteClientStore implements ClientStore {
  private readonly byHash: StatementSync;
  private readonly byName: StatementSync;
  private readonly all: StatementSync;
  private readonly ins: StatementSync;
  private readonly byId: StatementSync;
  private readonly setRateLimit: StatementSync;

  constructor(db: DatabaseSync) {
    db.exec(`CREATE TABLE IF NOT EXISTS clients (
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
    )`);
    // Tables of earlier versions lack the later columns.
    const columns = (db.prepare('PRAGMA table_info(clients)').all() as { name: string }[]).map((c) => c.name);
    if (!columns.includes('sources'))
      db.exec(`ALTER TABLE clients ADD COLUMN sources TEXT NOT NULL DEFAULT '[]'`);
    if (!columns.includes('rate_per_second')) db.exec('ALTER TABLE clients ADD COLUMN rate_per_second REAL');
    if (!columns.includes('rate_burst')) db.exec('ALTER TABLE clients ADD COLUMN rate_burst INTEGER');
    this.byHash = db.prepare('SELECT * FROM clients WHERE token_hash = ?');
    this.byName = db.prepare('SELECT * FROM clients WHERE name = ?');
    this.all = db.prepare('SELECT * FROM clients ORDER BY created_at, id');
    this.ins = db.prepare(
      `INSERT INTO clients (id, name, role, province_code, commune_codes, sources, rate_per_second, rate_burst,
                            token_hash, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.byId = db.prepare('SELECT * FROM clients WHERE id = ?');
    this.setRateLimit = db.prepare('UPDATE clients SET rate_per_second = ?, rate_burst = ? WHERE id = ?');
  }

  async insert(c: Client, tokenHash: string): Promise<void> {
    try {
      this.ins.run(
        c.id,
        c.name,
        c.role,
        c.provinceCode ?? null,
        JSON.stringify(c.communeCodes),
        JSON.stringify(c.sources),
        c.rateLimit?.ratePerSecond ?? null,
        c.rateLimit?.burst ?? null,
        tokenHash,
        c.createdAt,
      );
    } catch (err) {
      // Not `instanceof Error`: node:sqlite's errors may come from another realm (jest's VM contexts).
      const { errcode, message } = err as { errcode?: unknown; message?: unknown };
      if (errcode === SQLITE_CONSTRAINT_UNIQUE && String(message).endsWith('clients.name'))
        throw new ClientNameTakenError(c.name, err);
      throw err;
    }
  }
  async findByTokenHash(tokenHash: string): Promise<Client | undefined> {
    const row = this.byHash.get(tokenHash) as Row | undefined;
    return row ? toClient(row) : undefined;
  }
  async findByName(name: string): Promise<Client | undefined> {
    const row = this.byName.get(name) as Row | undefined;
    return row ? toClient(row) : undefined;
  }
  async list(): Promise<Client[]> {
    return (this.all.all() as unknown as Row[]).map(toClient);
  }
  async update(id: string, changes: ClientChanges): Promise<Client | undefined> {
    if (changes.rateLimit !== undefined) {
      this.setRateLimit.run(changes.rateLimit?.ratePerSecond ?? null, changes.rateLimit?.burst ?? null, id);
    }
    const row = this.byId.get(id) as Row | undefined;
    return row ? toClient(row) : undefined;
  }
}
