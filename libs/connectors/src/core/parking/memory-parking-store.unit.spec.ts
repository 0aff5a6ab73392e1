import { describeParkingStoreContract } from '../../contract/parking-store-contract.js';
import { InMemoryParkingStore } from './memory-parking-store.js';

describeParkingStoreContract('in memory', async () => {
  const store = new InMemoryParkingStore();
  return { store, another: async () => store, close: async () => undefined };
});
