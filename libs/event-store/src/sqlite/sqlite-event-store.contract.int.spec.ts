import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reopeningHarness } from '../contract/context.js';
import { describeEventStoreContract } from '../contract/event-store-contract.js';
import { SqliteEventStore } from './sqlite-event-store.js';

describeEventStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-event-store-contract-'));
  const file = join(dir, 'events.db');
  return reopeningHarness(
    () => SqliteEventStore.open({ file }),
    () => rmSync(dir, { recursive: true, force: true }),
  );
});
