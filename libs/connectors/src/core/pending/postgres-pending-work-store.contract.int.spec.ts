import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { StoreUnavailableError } from '#lgsp/event-store';
import { describePendingWorkStoreContract } from '../../contract/pending-work-store-contract.js';
import { PostgresPendingWorkStore } from './postgres-pending-work-store.js';
import { POSTGRES_URL as url, dropSchema, pgClient as admin } from '../../../../../test/support/postgres.js';

describePendingWorkStoreContract('postgres', async () => {
  const schema = `pending_test_${randomBytes(6).toString('hex')}`;
  await (await admin()).end();
  const pools: pg.Pool[] = [];
  const open = async () => {
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    pools.push(pool);
    return PostgresPendingWorkStore.open(pool, schema);
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

describe('PostgresPendingWorkStore', () => {
  it('answers StoreUnavailableError, naming the store, when the server cannot be reached', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://lgsp@127.0.0.1:1/none', max: 1 });
    try {
      await expect(PostgresPendingWorkStore.open(pool, 'pending_unreachable')).rejects.toThrow(
        StoreUnavailableError,
      );
      await expect(PostgresPendingWorkStore.open(pool, 'pending_unreachable')).rejects.toThrow(
        /pending-work store/,
      );
    } finally {
      await pool.end();
    }
  });
});
