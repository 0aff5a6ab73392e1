import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEventStoreContract } from '../contract/event-store-contract.js';
import { SqliteEventStore } from './sqlite-event-store.js';

describeEventStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-event-store-contract-'));
  const file = join(dir, 'events.db');
  let store = SqliteEventStore.open({ file });
  return {
    store,
    async reopen() {
      await store.close();
      store = SqliteEventStore.open({ file });
      return store;
    },
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
