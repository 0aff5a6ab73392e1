import { StoreUnavailableError } from '#lgsp/storage';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { BACKENDS, describeOnEveryBackend, itReportsUnavailable } from '#lgsp/storage/testing';
import { describeParkingStoreContract } from '../../contract/parking-store-contract.js';
import { PARKING_COMPONENT } from './parking-store.js';
import { SqlParkingStore } from './sql-parking-store.js';

describeOnEveryBackend(describeParkingStoreContract, (db) => SqlParkingStore.open(db));

const request = {
  reason: 'r',
  kind: 'retriable' as const,
  attempts: 6,
  firstPosition: 7,
  lastError: 'e',
  parkedAt: '2026-11-23T08:00:00.000Z',
};

describe.each(BACKENDS)('SqlParkingStore on $name', (backend) => {
  it('versions its tables as connectors.parking, and opening again keeps the parkings', async () => {
    const data = await backend.create();
    try {
      await (await SqlParkingStore.open(await data.connect())).park('payments', 'D1', request);
      const again = await data.connect();
      expect(await (await SqlParkingStore.open(again)).isParked('payments', 'D1')).toBe(true);
      expect(await again.versions()).toEqual([{ component: PARKING_COMPONENT, version: 2 }]);
    } finally {
      await data.close();
    }
  });
});

describe('SqlParkingStore', () => {
  it('is usable as soon as it is constructed: the first call waits for the tables', async () => {
    const store = new SqlParkingStore(SqliteDatabase.open(':memory:'));
    expect(await store.park('payments', 'D1', request)).toMatchObject({ dossier: 'D1', lastPosition: 7 });
  });

  itReportsUnavailable(
    (db) => SqlParkingStore.open(db),
    async (store) => {
      await expect(store.isParked('payments', 'D1')).rejects.toMatchObject({
        code: 'unavailable',
        retriable: true,
      });
      await expect(store.park('payments', 'D2', request)).rejects.toThrow(StoreUnavailableError);
      await expect(store.retry('payments', 'D1', { by: 'ops', at: 'now' })).rejects.toThrow(
        StoreUnavailableError,
      );
    },
    async (nowhere) => {
      await expect(new SqlParkingStore(nowhere).isParked('payments', 'D1')).rejects.toThrow(
        StoreUnavailableError,
      );
    },
  );
});
