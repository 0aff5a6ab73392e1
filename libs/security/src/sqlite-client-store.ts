import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ClientNameTakenError, type Client, type ClientStore } from './client.js';

const SQLITE_CONSTRAINT_UNIQUE = 2067;

interface Row {
  id: string;
  name: string;
  role: Client['role'];
  province_code: string | null;
  commune_codes: string;
  sources: string;
  created_at: string;
}

const toClient = (r: Row): Client => ({
  id: r.id,
  name: r.name,
  role: r.role,
  ...(r.province_code ? { provinceCode: r.province_code } : {}),
  communeCodes: JSON.parse(r.commune_codes) as string[],
  sources: JSON.parse(r.sources) as string[],
  createdAt: r.created_at,
});

/** Clients in the embedded SQLite file. Only token hashes are stored. */
export class SqliteClientStore implements ClientStore {
  private readonly byHash: StatementSync;
  private readonly byName: StatementSync;
  private readonly all: StatementSync;
  private readonly ins: StatementSync;

  constructor(db: DatabaseSync) {
    db.exec(`CREATE TABLE IF NOT EXISTS clients (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      role TEXT NOT NULL,
      province_code TEXT,
      commune_codes TEXT NOT NULL,
      sources TEXT NOT NULL DEFAULT '[]',
      token_hash TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL
    )`);
    const columns = (db.prepare('PRAGMA table_info(clients)').all() as { name: string }[]).map((c) => c.name);
    if (!columns.includes('sources'))
      db.exec(`ALTER TABLE clients ADD COLUMN sources TEXT NOT NULL DEFAULT '[]'`);
    this.byHash = db.prepare('SELECT * FROM clients WHERE token_hash = ?');
    this.byName = db.prepare('SELECT * FROM clients WHERE name = ?');
    this.all = db.prepare('SELECT * FROM clients ORDER BY created_at, id');
    this.ins = db.prepare(
      `INSERT INTO clients (id, name, role, province_code, commune_codes, sources, token_hash, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
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
}
