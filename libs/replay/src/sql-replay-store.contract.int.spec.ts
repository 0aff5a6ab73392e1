import { describeOnEveryBackend, itVersionsItsTables } from '#lgsp/storage/testing';
import { describeReplayStoreContract } from './contract/replay-store-contract.js';
import { SqlReplayStore } from './sql-replay-store.js';
import { REPLAY_COMPONENT } from './store-rules.js';

describeOnEveryBackend(describeReplayStoreContract, (db) => SqlReplayStore.open(db));

describe('SqlReplayStore', () => {
  itVersionsItsTables(
    'versions its tables as replay.runs',
    (db) => SqlReplayStore.open(db),
    REPLAY_COMPONENT,
  );
});
