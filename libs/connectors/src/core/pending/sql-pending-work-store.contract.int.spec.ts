import { StoreUnavailableError, type SqlDatabase } from '#lgsp/storage';
import { describeOnEveryBackend, itVersionsItsTables, withUnreachablePostgres } from '#lgsp/storage/testing';
import { describePendingWorkStoreContract } from '../../contract/pending-work-store-contract.js';
import { PENDING_WORK_COMPONENT } from './pending-work-store.js';
import { SqlPendingWorkStore } from './sql-pending-work-store.js';

describeOnEveryBackend(describePendingWorkStoreContract, (db) => SqlPendingWorkStore.open(db));

describe('SqlPendingWorkStore', () => {
  const open = (db: SqlDatabase) => SqlPendingWorkStore.open(db);

  itVersionsItsTables('versions its table as connectors.pending', open, PENDING_WORK_COMPONENT, 2);

  it('answers StoreUnavailableError, naming the store, when the server cannot be reached', async () => {
    await withUnreachablePostgres(async (db) => {
      await expect(open(db)).rejects.toThrow(StoreUnavailableError);
      await expect(open(db)).rejects.toThrow(/connectors\.pending/);
    });
  });
});
