import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { schemaVersion } from '#lgsp/event-store/sqlite';
import { describeParkingStoreContract } from '../../contract/parking-store-contract.js';
import { PARKING_COMPONENT } from './parking-store.js';
import { SqliteParkingStore } from './sqlite-parking-store.js';

describeParkingStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-parking-contract-'));
  const file = join(dir, 'events.db');
  const databases: DatabaseSync[] = [];
  const open = () => {
    const db = new DatabaseSync(file, { timeout: 5000 });
    databases.push(db);
    return new SqliteParkingStore(db);
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

describe('SqliteParkingStore', () => {
  it('versions its tables as connectors.parking, and opening again keeps the parkings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgsp-parking-'));
    const db = new DatabaseSync(join(dir, 'events.db'));
    try {
      await new SqliteParkingStore(db).park('payments', 'D1', {
        reason: 'r',
        kind: 'retriable',
        attempts: 6,
        firstPosition: 7,
        lastError: 'e',
        parkedAt: '2026-11-23T08:00:00.000Z',
      });
      expect(schemaVersion(db, PARKING_COMPONENT)).toBe(1);
      expect(await new SqliteParkingStore(db).isParked('payments', 'D1')).toBe(true);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
