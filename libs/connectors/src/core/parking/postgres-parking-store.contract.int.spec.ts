import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { StoreUnavailableError } from '#lgsp/event-store';
import { describeParkingStoreContract } from '../../contract/parking-store-contract.js';
import { PARKING_COMPONENT } from './parking-store.js';
import { PostgresParkingStore } from './postgres-parking-store.js';
import { POSTGRES_URL as url, dropSchema, pgClient as admin } from '../../../../../test/support/postgres.js';

const poolOn = (connectionString = url) => new pg.Pool({ connectionString, max: 4 });

describeParkingStoreContract('postgres', async () => {
  const schema = `parking_test_${randomBytes(6).toString('hex')}`;
  await (await admin()).end();
  const pools: pg.Pool[] = [];
  // Each store on a pool of its own, as each connector worker has.
  const open = async () => {
    const pool = poolOn();
    pools.push(pool);
    return PostgresParkingStore.open(pool, schema);
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

describe('PostgresParkingStore', () => {
  const schema = `parking_test_${randomBytes(6).toString('hex')}`;
  const pools: pg.Pool[] = [];
  const pool = (connectionString = url) => {
    const p = poolOn(connectionString);
    pools.push(p);
    return p;
  };
  const request = {
    reason: 'r',
    kind: 'retriable' as const,
    attempts: 6,
    firstPosition: 7,
    lastError: 'e',
    parkedAt: '2026-11-23T08:00:00.000Z',
  };

  afterAll(async () => {
    for (const p of pools) await p.end().catch(() => undefined);
    await dropSchema(schema);
  });

  it('versions its tables as connectors.parking, and opening again keeps the parkings', async () => {
    await (await PostgresParkingStore.open(pool(), schema)).park('payments', 'D1', request);
    const again = await PostgresParkingStore.open(pool(), schema);
    expect(await again.isParked('payments', 'D1')).toBe(true);
    const client = await admin();
    try {
      const { rows } = await client.query(
        `SELECT version FROM ${client.escapeIdentifier(schema)}.schema_version WHERE component = $1`,
        [PARKING_COMPONENT],
      );
      expect(rows).toEqual([{ version: 1 }]);
    } finally {
      await client.end();
    }
  });

  it('reports an unreachable server or an ended pool as StoreUnavailableError', async () => {
    await expect(
      PostgresParkingStore.open(pool('postgres://postgres@127.0.0.1:1/test'), schema),
    ).rejects.toThrow(StoreUnavailableError);
    const ending = pool();
    const store = await PostgresParkingStore.open(ending, schema);
    await ending.end();
    await expect(store.isParked('payments', 'D1')).rejects.toMatchObject({
      code: 'unavailable',
      retriable: true,
    });
    await expect(store.park('payments', 'D2', request)).rejects.toThrow(StoreUnavailableError);
    await expect(store.retry('payments', 'D1', { by: 'ops', at: 'now' })).rejects.toThrow(
      StoreUnavailableError,
    );
  });
});
