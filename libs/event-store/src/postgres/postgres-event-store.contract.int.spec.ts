import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describeEventStoreContract } from '../contract/event-store-contract.js';
import { PostgresEventStore } from './postgres-event-store.js';

const url = process.env.LGSP_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Fails the run, naming the server, when PostgreSQL cannot be reached: this tier never skips it. */
async function admin(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${url} (set LGSP_TEST_POSTGRES_URL): ${(err as Error).message}`,
      { cause: err },
    );
  }
  return client;
}

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
