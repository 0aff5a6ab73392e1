import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { schemaVersion } from '#lgsp/event-store/sqlite';
import { describePendingWorkStoreContract } from '../../contract/pending-work-store-contract.js';
import { PENDING_WORK_COMPONENT } from './pending-work-store.js';
import { SqlitePendingWorkStore } from './sqlite-pending-work-store.js';

describePendingWorkStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-pending-contract-'));
  const file = join(dir, 'events.db');
  const databases: DatabaseSync[] = [];
  const open = () => {
    const db = new DatabaseSync(file, { timeout: 5000 });
    databases.push(db);
    return new SqlitePendingWorkStore(db);
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

describe('SqlitePendingWorkStore', () => {
  it('versions its table as connectors.pending, and opening again keeps the items', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgsp-pending-'));
    try {
      const file = join(dir, 'events.db');
      let db = new DatabaseSync(file);
      await new SqlitePendingWorkStore(db).schedule({
        target: 'payments',
        key: 'REF-1',
        dossier: 'D-1',
        payload: null,
        dueAt: 1,
        createdAt: '2026-11-23T08:00:00.000Z',
      });
      expect(schemaVersion(db, PENDING_WORK_COMPONENT)).toBe(1);
      db.close();
      db = new DatabaseSync(file);
      expect(await new SqlitePendingWorkStore(db).count('payments')).toBe(1);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
