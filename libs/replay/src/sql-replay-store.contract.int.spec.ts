import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { describeOnEveryBackend } from '#lgsp/storage/testing';
import { describeReplayStoreContract } from './contract/replay-store-contract.js';
import { SqlReplayStore } from './sql-replay-store.js';
import { REPLAY_COMPONENT } from './store-rules.js';

describeOnEveryBackend(describeReplayStoreContract, (db) => SqlReplayStore.open(db));

describe('SqlReplayStore', () => {
  it('versions its tables as replay.runs', async () => {
    const db = SqliteDatabase.open(':memory:');
    await SqlReplayStore.open(db);
    await SqlReplayStore.open(db);
    expect(await db.versions()).toEqual([{ component: REPLAY_COMPONENT, version: 1 }]);
    await db.close();
  });
});
