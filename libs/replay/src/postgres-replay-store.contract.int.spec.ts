import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { StoreUnavailableError } from '#lgsp/event-store';
import { describeReplayStoreContract } from './contract/replay-store-contract.js';
import { PostgresReplayStore } from './postgres-replay-store.js';
import { POSTGRES_URL as url, dropSchema, pgClient as admin } from '../../../test/support/postgres.js';

const poolOn = (connectionString = url) => new pg.Pool({ connectionString, max: 4 });

describeReplayStoreContract('postgres', async () => {
  const schema = `replay_test_${randomBytes(6).toString('hex')}`;
  await (await admin()).end();
  const pools: pg.Pool[] = [];
  const open = async () => {
    const pool = poolOn();
    pools.push(pool);
    return PostgresReplayStore.open(pool, schema);
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

describe('PostgresReplayStore', () => {
  it('reports an unreachable server or an ended pool as StoreUnavailableError', async () => {
    const schema = `replay_test_${randomBytes(6).toString('hex')}`;
    const unreachable = poolOn('postgres://postgres@127.0.0.1:1/test');
    await expect(PostgresReplayStore.open(unreachable, schema)).rejects.toThrow(StoreUnavailableError);
    await unreachable.end();
    const ending = poolOn();
    const store = await PostgresReplayStore.open(ending, schema);
    await ending.end();
    try {
      await expect(store.running()).rejects.toMatchObject({ code: 'unavailable', retriable: true });
      await expect(store.transition('r1', 'pause', 'now')).rejects.toThrow(StoreUnavailableError);
    } finally {
      await dropSchema(schema);
    }
  });
});
