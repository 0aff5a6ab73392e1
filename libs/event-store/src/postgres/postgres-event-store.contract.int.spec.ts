import { randomBytes } from 'node:crypto';
import { reopeningHarness } from '../contract/context.js';
import { describeEventStoreContract } from '../contract/event-store-contract.js';
import { PostgresEventStore } from './postgres-event-store.js';
import { POSTGRES_URL as url, pgClient as admin } from '../../../../test/support/postgres.js';

describeEventStoreContract('postgres', async () => {
  const schema = `es_test_${randomBytes(6).toString('hex')}`;
  const check = await admin();
  await check.end();
  return reopeningHarness(
    () => PostgresEventStore.open({ connectionString: url, schema, poolSize: 4 }),
    async () => {
      const client = await admin();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${client.escapeIdentifier(schema)} CASCADE`);
      } finally {
        await client.end();
      }
    },
  );
});
