import { describePendingWorkStoreContract } from '../../contract/pending-work-store-contract.js';
import { InMemoryPendingWorkStore } from './memory-pending-work-store.js';

describePendingWorkStoreContract('memory', async () => {
  const store = new InMemoryPendingWorkStore();
  return { store, another: async () => store, close: async () => undefined };
});
