import { StoreUnavailableError } from '#lgsp/storage';
import {
  BACKENDS,
  describeOnEveryBackend,
  itReportsUnavailable,
  postgresSchema,
  sqliteFile,
} from '#lgsp/storage/testing';
import { describeClientStoreContract } from './contract/client-store-contract.js';
import { CLIENTS_COMPONENT, SqlClientStore } from './sql-client-store.js';

describeOnEveryBackend(describeClientStoreContract, (db) => SqlClientStore.open(db));

const ops = {
  id: 'c-1',
  name: 'ops',
  role: 'operator' as const,
  communeCodes: [],
  sources: [],
  createdAt: '2025-07-01',
};

describe.each(BACKENDS)('SqlClientStore on $name', (backend) => {
  it('versions its table as security.clients, and opening again leaves it as it is', async () => {
    const data = await backend.create();
    try {
      await (await SqlClientStore.open(await data.connect())).insert(ops, 'hash-1');
      const again = await data.connect();
      expect(await (await SqlClientStore.open(again)).findByName('ops')).toMatchObject({ id: 'c-1' });
      expect(await again.versions()).toEqual([{ component: CLIENTS_COMPONENT, version: 4 }]);
    } finally {
      await data.close();
    }
  });
});

describe('SqlClientStore', () => {
  it('adds the later columns to a SQLite table of an earlier version, keeping its clients', async () => {
    const data = await sqliteFile.create();
    try {
      const db = await data.connect();
      await db.run(`CREATE TABLE clients (
        id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL, province_code TEXT,
        commune_codes TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL)`);
      await db.run('INSERT INTO clients VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        'c-1',
        'old',
        'commune',
        '51',
        '["21040"]',
        'hash-old',
        '2025-07-01T00:00:00.000Z',
      ]);
      const old = {
        id: 'c-1',
        name: 'old',
        role: 'commune',
        provinceCode: '51',
        communeCodes: ['21040'],
        sources: [],
        createdAt: '2025-07-01T00:00:00.000Z',
      };
      const store = await SqlClientStore.open(db);
      expect(await store.findByTokenHash('hash-old')).toStrictEqual({ client: old, issuedAt: old.createdAt });
      expect(await store.update('c-1', { rateLimit: { ratePerSecond: 5, burst: 5 } })).toStrictEqual({
        ...old,
        rateLimit: { ratePerSecond: 5, burst: 5 },
      });
      expect(await (await SqlClientStore.open(db)).findByName('old')).toMatchObject({
        rateLimit: { burst: 5 },
      });
      await store.insert({ ...ops, id: 'c-0', createdAt: old.createdAt }, 'hash-ops');
      expect((await store.list()).map((c) => c.id)).toEqual(['c-1', 'c-0']);
      await store.rotateToken('c-1', 'hash-new', '2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z');
      expect(await store.findByTokenHash('hash-old')).toMatchObject({
        issuedAt: old.createdAt,
        expiresAt: '2026-12-02T00:00:00.000Z',
      });
    } finally {
      await data.close();
    }
  });

  it('upgrades a version 1 PostgreSQL table, keeping its clients, so that they can get a rate limit and a new token', async () => {
    const data = await postgresSchema.create();
    try {
      const db = await data.connect();
      // The table as version 1 of this store created it.
      await db.migrate(CLIENTS_COMPONENT, [
        {
          version: 1,
          description: 'clients',
          sqlite: '',
          postgres: `CREATE TABLE clients (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, province_code TEXT,
            commune_codes TEXT[] NOT NULL, sources TEXT[] NOT NULL DEFAULT '{}', token_hash TEXT NOT NULL,
            created_at TEXT NOT NULL, CONSTRAINT clients_name_unique UNIQUE (name),
            CONSTRAINT clients_token_hash_unique UNIQUE (token_hash))`,
        },
      ]);
      await db.run(
        `INSERT INTO clients (id, name, role, commune_codes, token_hash, created_at)
         VALUES ('c-1', 'ops', 'operator', '{}', 'hash-ops', '2025-07-01')`,
      );
      const store = await SqlClientStore.open(db);
      expect(await store.findByTokenHash('hash-ops')).toStrictEqual({ client: ops, issuedAt: ops.createdAt });
      expect(await store.update('c-1', { rateLimit: { ratePerSecond: 0.5, burst: 3 } })).toMatchObject({
        rateLimit: { ratePerSecond: 0.5, burst: 3 },
      });
      await store.insert({ ...ops, id: 'c-0', name: 'new' }, 'hash-new');
      expect((await store.list()).map((c) => c.id)).toEqual(['c-1', 'c-0']);
      await store.rotateToken('c-1', 'hash-ops-2', '2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z');
      expect(await store.findByTokenHash('hash-ops')).toMatchObject({
        issuedAt: '2025-07-01',
        expiresAt: '2026-12-02T00:00:00.000Z',
      });
      expect(await store.revoke('c-1', '2026-12-01T01:00:00.000Z')).toMatchObject({
        revokedAt: '2026-12-01T01:00:00.000Z',
      });
      expect(await db.versions()).toEqual([{ component: CLIENTS_COMPONENT, version: 4 }]);
    } finally {
      await data.close();
    }
  });

  itReportsUnavailable(
    (db) => SqlClientStore.open(db),
    async (store) => {
      await expect(store.list()).rejects.toThrow(StoreUnavailableError);
      await expect(store.findByTokenHash('x')).rejects.toMatchObject({
        code: 'unavailable',
        retriable: true,
      });
      await expect(store.insert({ ...ops, id: 'c-2', name: 'x' }, 'hash-2')).rejects.toThrow(
        StoreUnavailableError,
      );
    },
  );
});
