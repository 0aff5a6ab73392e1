import { randomBytes } from 'node:crypto';
import { describeEventStoreContract } from '../contract/event-store-contract.js';
import { reopeningHarness } from '../contract/context.js';

const url = process.env.KURRENTDB_URL;

/**
 * The contract suite against a real KurrentDB (25.1 or later) when KURRENTDB_URL names one. Each test
 * gets its own namespace, so its streams (sequence, index, checkpoints, dossiers) are new and empty;
 * they are left in the database, which a throwaway test server does not mind.
 *
 * Without KURRENTDB_URL every case is registered as skipped, under a name that says why, so the run's
 * counts show them as skipped rather than as a test that passes without testing anything. The adapter
 * (and `@kurrent/kurrentdb-client`, an optional dependency) is loaded only when a case runs.
 */
function describeKurrentDbContract(connectionString: string): void {
  describeEventStoreContract('kurrentdb', async () => {
    const { KurrentDbEventStore } = await import('./kurrentdb-event-store.js');
    const namespace = `lgsp-test-${randomBytes(6).toString('hex')}-`;
    return reopeningHarness(() => KurrentDbEventStore.open({ connectionString, namespace }));
  });
}

const SKIPPED = 'KurrentDB contract suite skipped: set KURRENTDB_URL=kurrentdb://… to run it';

if (url) describeKurrentDbContract(url);
else {
  // Jest lists no names for a file whose every test is skipped: the reason goes to the run's output.
  console.warn(SKIPPED);
  describe.skip(SKIPPED, () => {
    describeKurrentDbContract('kurrentdb://unset');
  });
}
