import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { schemaVersion } from '#lgsp/event-store/sqlite';
import { describeReplayStoreContract } from './contract/replay-store-contract.js';
import { SqliteReplayStore } from './sqlite-replay-store.js';
import { REPLAY_COMPONENT } from './store-rules.js';

describeReplayStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-replay-contract-'));
  const file = join(dir, 'events.db');
  const databases: DatabaseSync[] = [];
  const open = () => {
    const db = new DatabaseSync(file, { timeout: 5000 });
    databases.push(db);
    return new SqliteReplayStore(db);
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

describe('SqliteReplayStore', () => {
  it('versions its tables as replay.runs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgsp-replay-'));
    const db = new DatabaseSync(join(dir, 'events.db'));
    try {
      new SqliteReplayStore(db);
      new SqliteReplayStore(db);
      expect(schemaVersion(db, REPLAY_COMPONENT)).toBe(1);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
