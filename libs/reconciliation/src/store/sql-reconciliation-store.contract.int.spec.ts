import { BACKENDS, describeOnEveryBackend } from '#lgsp/storage/testing';
import { describeReconciliationStoreContract, run } from '../contract/reconciliation-store-contract.js';
import { RECONCILIATION_COMPONENT } from './rows.js';
import { SqlReconciliationStore } from './sql-reconciliation-store.js';

describeOnEveryBackend(describeReconciliationStoreContract, (db) => SqlReconciliationStore.open(db));

describe.each(BACKENDS)('SqlReconciliationStore on $name', (backend) => {
  it('versions its tables as reconciliation, and opening again keeps the runs', async () => {
    const data = await backend.create();
    try {
      await (await SqlReconciliationStore.open(await data.connect())).create(run('r1', { by: 'ops' }));
      const again = await data.connect();
      expect((await (await SqlReconciliationStore.open(again)).get('r1'))?.by).toBe('ops');
      expect(await again.versions()).toEqual([{ component: RECONCILIATION_COMPONENT, version: 2 }]);
    } finally {
      await data.close();
    }
  });
});
