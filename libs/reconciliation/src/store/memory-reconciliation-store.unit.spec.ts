import { describeReconciliationStoreContract } from '../contract/reconciliation-store-contract.js';
import { InMemoryReconciliationStore } from './memory-reconciliation-store.js';

describeReconciliationStoreContract('in memory', async () => {
  const store = new InMemoryReconciliationStore();
  return { store, another: async () => store, close: async () => undefined };
});
