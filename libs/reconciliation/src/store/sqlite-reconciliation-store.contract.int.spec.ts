import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { schemaVersion } from '#lgsp/event-store/sqlite';
import { describeReconciliationStoreContract } from '../contract/reconciliation-store-contract.js';
import { RECONCILIATION_COMPONENT } from './rows.js';
import { SqliteReconciliationStore } from './sqlite-reconciliation-store.js';

describeReconciliationStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-reconciliation-contract-'));
  const file = join(dir, 'events.db');
  const databases: DatabaseSync[] = [];
  const open = () => {
    const db = new DatabaseSync(file, { timeout: 5000 });
    databases.push(db);
    return new SqliteReconciliationStore(db);
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

describe('SqliteReconciliationStore', () => {
  it('versions its tables as reconciliation, and opening again keeps the runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgsp-reconciliation-'));
    const db = new DatabaseSync(join(dir, 'events.db'));
    try {
      await new SqliteReconciliationStore(db).create({
        id: 'r1',
        target: 'portal',
        scope: {},
        state: 'running',
        by: 'ops',
        startedAt: '2026-11-23T08:00:00.000Z',
        progress: { expected: 0, scanned: 0, compared: 0 },
        mismatches: { total: 0, dossiers: 0, byCategory: {} },
      });
      expect(schemaVersion(db, RECONCILIATION_COMPONENT)).toBe(1);
      expect((await new SqliteReconciliationStore(db).get('r1'))?.by).toBe('ops');
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
