import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describeClientStoreContract } from './contract/client-store-contract.js';
import { SqliteClientStore } from './sqlite-client-store.js';

describeClientStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-client-store-contract-'));
  const file = join(dir, 'events.db');
  const databases: DatabaseSync[] = [];
  const open = () => {
    const db = new DatabaseSync(file, { timeout: 5000 });
    databases.push(db);
    return new SqliteClientStore(db);
  };
  return {
    store: open(),
    another: async () => open(),
    async close() {
      for (const db of databases) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteClientStore', () => {
  it('adds the later columns to a table of an earlier version, keeping its clients', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgsp-client-store-upgrade-'));
    const db = new DatabaseSync(join(dir, 'events.db'));
    try {
      db.exec(`CREATE TABLE clients (
        id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL, province_code TEXT,
        commune_codes TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL)`);
      db.prepare('INSERT INTO clients VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        'c-1',
        'old',
        'commune',
        '51',
        '["21040"]',
        'hash-old',
        '2025-07-01T00:00:00.000Z',
      );
      const old = {
        id: 'c-1',
        name: 'old',
        role: 'commune',
        provinceCode: '51',
        communeCodes: ['21040'],
        sources: [],
        createdAt: '2025-07-01T00:00:00.000Z',
      };
      const store = new SqliteClientStore(db);
      expect(await store.findByTokenHash('hash-old')).toStrictEqual(old);
      expect(await store.update('c-1', { rateLimit: { ratePerSecond: 5, burst: 5 } })).toStrictEqual({
        ...old,
        rateLimit: { ratePerSecond: 5, burst: 5 },
      });
      expect(await new SqliteClientStore(db).findByName('old')).toMatchObject({ rateLimit: { burst: 5 } });
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
