import { randomBytes } from 'node:crypto';
import { describeEventStoreContract } from '../contract/event-store-contract.js';
import { KurrentDbEventStore } from './kurrentdb-event-store.js';

const url = process.env.KURRENTDB_URL;

/**
 * The contract suite against a real KurrentDB (25.1 or later) when KURRENTDB_URL names one. Each test
 * gets its own namespace, so its streams (sequence, index, checkpoints, dossiers) are new and empty;
 * they are left in the database, which a throwaway test server does not mind.
 */
function describeWithServer(connectionString: string): void {
  describeEventStoreContract('kurrentdb', async () => {
    const namespace = `lgsp-test-${randomBytes(6).toString('hex')}-`;
    const stores: KurrentDbEventStore[] = [];
    const open = async () => {
      const store = await KurrentDbEventStore.open({ connectionString, namespace });
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
      },
    };
  });
}

/** No server here: one test that says so in the run's output, instead of a silent skip. */
function describeWithoutServer(): void {
  describe('EventStore contract: kurrentdb', () => {
    it('is not run: KURRENTDB_URL is not set', () => {
      console.warn(
        'KurrentDB contract suite SKIPPED: set KURRENTDB_URL=kurrentdb://… to run it (no KurrentDB server on this machine)',
      );
    });
  });
}

if (url) describeWithServer(url);
else describeWithoutServer();
