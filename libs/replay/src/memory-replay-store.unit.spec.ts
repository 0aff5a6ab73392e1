import { describeReplayStoreContract } from './contract/replay-store-contract.js';
import { InMemoryReplayStore } from './memory-replay-store.js';

describeReplayStoreContract('in memory', async () => {
  const store = new InMemoryReplayStore();
  return { store, another: async () => store, close: async () => undefined };
});
