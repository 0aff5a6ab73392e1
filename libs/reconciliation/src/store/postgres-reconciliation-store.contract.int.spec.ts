import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { StoreUnavailableError } from '#lgsp/event-store';
import { describeReconciliationStoreContract } from '../contract/reconciliation-store-contract.js';
import { RECONCILIATION_COMPONENT } from './rows.js';
import { PostgresReconciliationStore } from './postgres-reconciliation-store.js';
import { POSTGRES_URL as url, dropSchema, pgClient as admin } from '../../../../test/support/postgres.js';

const poolOn = (connectionString = url) => new pg.Pool({ connectionString, max: 4 });

describeReconciliationStoreContract('postgres', async () => {
  const schema = `reconciliation_test_${randomBytes(6).toString('hex')}`;
  await (await admin()).end();
  const pools: pg.Pool[] = [];
  // Each store on a pool of its own, as each hub replica has.
  const open = async () => {
    const pool = poolOn();
    pools.push(pool);
    return PostgresReconciliationStore.open(pool, schema);
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

describe('PostgresReconciliationStore', () => {
  const schema = `reconciliation_test_${randomBytes(6).toString('hex')}`;
  const pools: pg.Pool[] = [];
  const pool = (connectionString = url) => {
    const p = poolOn(connectionString);
    pools.push(p);
    return p;
  };

  afterAll(async () => {
    for (const p of pools) await p.end().catch(() => undefined);
    await dropSchema(schema);
  });

  it('versions its tables as reconciliation', async () => {
    await PostgresReconciliationStore.open(pool(), schema);
    await PostgresReconciliationStore.open(pool(), schema);
    const client = await admin();
    try {
      const { rows } = await client.query(
        `SELECT version FROM ${client.escapeIdentifier(schema)}.schema_version WHERE component = $1`,
        [RECONCILIATION_COMPONENT],
      );
      expect(rows).toEqual([{ version: 1 }]);
    } finally {
      await client.end();
    }
  });

  it('reports an unreachable server or an ended pool as StoreUnavailableError', async () => {
    await expect(
      PostgresReconciliationStore.open(pool('postgres://postgres@127.0.0.1:1/test'), schema),
    ).rejects.toThrow(StoreUnavailableError);
    const ending = pool();
    const store = await PostgresReconciliationStore.open(ending, schema);
    await ending.end();
    await expect(store.get('r1')).rejects.toMatchObject({ code: 'unavailable', retriable: true });
  });
});
