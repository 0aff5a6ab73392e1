import { randomBytes } from 'node:crypto';
import { describeEventStoreContract } from '../contract/event-store-contract.js';
import { PostgresEventStore } from './postgres-event-store.js';
import { POSTGRES_URL as url, pgClient as admin } from '../../../../test/support/postgres.js';

describeEventStoreContract('postgres', async () => {
  const schema = `es_test_${randomBytes(6).toString('hex')}`;
  const check = await admin();
  await check.end();
  const stores: PostgresEventStore[] = [];
  const open = async () => {
    const store = await PostgresEventStore.open({ connectionString: url, schema, poolSize: 4 });
    stores.push(store);
    return store;
  };
  let store = await open();
  return {
    store,
    async reopen() {
      await store.close();
      store = await open();
      return store;
    },
    async close() {
      for (const s of stores) await s.close();
      const client = await admin();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${client.escapeIdentifier(schema)} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
});
