import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { StoreUnavailableError } from '#lgsp/event-store';
import { applyPostgresMigrations } from '#lgsp/event-store/postgres';
import { describeClientStoreContract } from './contract/client-store-contract.js';
import { POSTGRES_CLIENTS_COMPONENT, PostgresClientStore } from './postgres-client-store.js';
import { POSTGRES_URL as url, pgClient as admin } from '../../../test/support/postgres.js';

async function dropSchema(schema: string): Promise<void> {
  const client = await admin();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${client.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}

/** A pool as the event store makes it: its search_path is the schema. */
const poolOn = (schema: string, connectionString = url) =>
  new pg.Pool({ connectionString, max: 4, options: `-c search_path=${pg.escapeIdentifier(schema)}` });

describeClientStoreContract('postgres', async () => {
  const schema = `clients_test_${randomBytes(6).toString('hex')}`;
  await (await admin()).end();
  const pools: pg.Pool[] = [];
  // Each store on a pool of its own, as each hub process has.
  const open = async () => {
    const pool = poolOn(schema);
    pools.push(pool);
    return PostgresClientStore.open(pool, schema);
  };
  return {
    store: await open(),
    another: open,
    async close() {
      for (const pool of pools) await pool.end();
      await dropSchema(schema);
    },
  };
});

describe('PostgresClientStore', () => {
  const schema = `clients_test_${randomBytes(6).toString('hex')}`;
  const pools: pg.Pool[] = [];
  const pool = (connectionString = url) => {
    const p = poolOn(schema, connectionString);
    pools.push(p);
    return p;
  };

  afterAll(async () => {
    for (const p of pools) await p.end().catch(() => undefined);
    await dropSchema(schema);
  });

  it('versions its table as security.clients, and opening again leaves it as it is', async () => {
    const store = await PostgresClientStore.open(pool(), schema);
    await store.insert(
      { id: 'c-1', name: 'ops', role: 'operator', communeCodes: [], sources: [], createdAt: '2025-07-01' },
      'hash-1',
    );
    const again = await PostgresClientStore.open(pool(), schema);
    expect(await again.findByName('ops')).toMatchObject({ id: 'c-1' });
    const client = await admin();
    try {
      const { rows } = await client.query(
        `SELECT version FROM ${client.escapeIdentifier(schema)}.schema_version WHERE component = $1`,
        [POSTGRES_CLIENTS_COMPONENT],
      );
      expect(rows).toEqual([{ version: 2 }]);
    } finally {
      await client.end();
    }
  });

  it('upgrades a version 1 table, keeping its clients, so that they can get a rate limit', async () => {
    const old = `clients_test_${randomBytes(6).toString('hex')}`;
    const p = poolOn(old);
    pools.push(p);
    // The table as version 1 of this store created it.
    const v1 = await p.connect();
    try {
      await applyPostgresMigrations(
        v1,
        old,
        [
          {
            version: 1,
            description: 'clients',
            sql: `CREATE TABLE clients (
              id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, province_code TEXT,
              commune_codes TEXT[] NOT NULL, sources TEXT[] NOT NULL DEFAULT '{}', token_hash TEXT NOT NULL,
              created_at TEXT NOT NULL, CONSTRAINT clients_name_unique UNIQUE (name),
              CONSTRAINT clients_token_hash_unique UNIQUE (token_hash))`,
          },
        ],
        POSTGRES_CLIENTS_COMPONENT,
      );
      await v1.query(
        `INSERT INTO ${v1.escapeIdentifier(old)}.clients (id, name, role, commune_codes, token_hash, created_at)
         VALUES ('c-1', 'ops', 'operator', '{}', 'hash-ops', '2025-07-01')`,
      );
    } finally {
      v1.release();
    }
    try {
      const store = await PostgresClientStore.open(p, old);
      expect(await store.findByTokenHash('hash-ops')).toStrictEqual({
        id: 'c-1',
        name: 'ops',
        role: 'operator',
        communeCodes: [],
        sources: [],
        createdAt: '2025-07-01',
      });
      expect(await store.update('c-1', { rateLimit: { ratePerSecond: 0.5, burst: 3 } })).toMatchObject({
        rateLimit: { ratePerSecond: 0.5, burst: 3 },
      });
      const client = await admin();
      try {
        const { rows } = await client.query(
          `SELECT version FROM ${client.escapeIdentifier(old)}.schema_version WHERE component = $1`,
          [POSTGRES_CLIENTS_COMPONENT],
        );
        expect(rows).toEqual([{ version: 2 }]);
      } finally {
        await client.end();
      }
    } finally {
      await dropSchema(old);
    }
  });

  it('reports an unreachable server or an ended pool as StoreUnavailableError', async () => {
    const nowhere = pool('postgres://postgres@127.0.0.1:1/test');
    await expect(PostgresClientStore.open(nowhere, schema)).rejects.toThrow(StoreUnavailableError);
    const ending = pool();
    const store = await PostgresClientStore.open(ending, schema);
    await ending.end();
    await expect(store.list()).rejects.toThrow(StoreUnavailableError);
    await expect(store.findByTokenHash('x')).rejects.toMatchObject({ code: 'unavailable', retriable: true });
    await expect(
      store.insert(
        { id: 'c-2', name: 'x', role: 'operator', communeCodes: [], sources: [], createdAt: '' },
        'hash-2',
      ),
    ).rejects.toThrow(StoreUnavailableError);
  });
});
