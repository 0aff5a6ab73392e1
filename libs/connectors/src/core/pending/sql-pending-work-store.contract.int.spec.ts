import { StoreUnavailableError } from '#lgsp/storage';
import { PostgresDatabase } from '#lgsp/storage/postgres';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { describeOnEveryBackend } from '#lgsp/storage/testing';
import { describePendingWorkStoreContract } from '../../contract/pending-work-store-contract.js';
import { PENDING_WORK_COMPONENT } from './pending-work-store.js';
import { SqlPendingWorkStore } from './sql-pending-work-store.js';

describeOnEveryBackend(describePendingWorkStoreContract, (db) => SqlPendingWorkStore.open(db));

describe('SqlPendingWorkStore', () => {
  it('versions its table as connectors.pending', async () => {
    const db = SqliteDatabase.open(':memory:');
    await SqlPendingWorkStore.open(db);
    await SqlPendingWorkStore.open(db);
    expect(await db.versions()).toEqual([{ component: PENDING_WORK_COMPONENT, version: 1 }]);
    await db.close();
  });

  it('answers StoreUnavailableError, naming the store, when the server cannot be reached', async () => {
    const db = PostgresDatabase.open({
      connectionString: 'postgres://lgsp@127.0.0.1:1/none',
      schema: 'pending',
    });
    try {
      await expect(SqlPendingWorkStore.open(db)).rejects.toThrow(StoreUnavailableError);
      await expect(SqlPendingWorkStore.open(db)).rejects.toThrow(/connectors\.pending/);
    } finally {
      await db.close();
    }
  });
});
