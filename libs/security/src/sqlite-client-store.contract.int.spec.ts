import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describeClientStoreContract } from './contract/client-store-contract.js';
import { SqliteClientStore } from './sqlite-client-store.js';

describeClientStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-client-store-contract-'));
  const file = join(dir, 'events.db');
  const databases: DatabaseSync[] = [];
  const open = () => {
    const db = new DatabaseSync(file, { timeout: 5000 });
    databases.push(db);
    return new SqliteClientStore(db);
  };
  return {
    store: open(),
    another: async () => open(),
    async close() {
      for (const db of databases) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
