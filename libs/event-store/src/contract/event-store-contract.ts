import { WrongExpectedVersionError } from '../errors.js';
import { type EventStore, type EventToAppend, type StoredEvent } from '../port.js';
import { describeAppendContract } from './appends.js';
import {
  readWholeLog,
  statusChange,
  type ContractContext,
  type EventStoreContractHarness,
} from './context.js';
import { describeDurabilityContract } from './durability.js';
import { describeReadContract } from './reads.js';

export type { EventStoreContractHarness } from './context.js';

/**
 * The behaviours every `EventStore` adapter must have, written against the port only. Call it from
 * an adapter's spec file; `factory` gives each test a fresh, empty store. The cases are in appends.ts,
 * reads.ts and durability.ts.
 */
export function describeEventStoreContract(
  name: string,
  factory: () => Promise<EventStoreContractHarness>,
): void {
  describe(`EventStore contract: ${name}`, () => {
    let harness: EventStoreContractHarness | undefined;
    let store: EventStore;
    let seq = 0;

    function event(overrides: Partial<EventToAppend> = {}): EventToAppend {
      seq += 1;
      return statusChange(seq, overrides);
    }

    const everything = (): Promise<StoredEvent[]> => readWholeLog(store);

    async function conflictOf(promise: Promise<unknown>): Promise<WrongExpectedVersionError> {
      const error = await promise.then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(WrongExpectedVersionError);
      return error as WrongExpectedVersionError;
    }

    beforeEach(async () => {
      seq = 0;
      harness = await factory();
      store = harness.store;
    });

    afterEach(async () => {
      await harness?.close();
      harness = undefined;
    });

    const ctx: ContractContext = {
      name,
      get harness() {
        return harness;
      },
      get store() {
        return store;
      },
      set store(reopened) {
        store = reopened;
      },
      event,
      everything,
      conflictOf,
    };
    describeAppendContract(ctx);
    describeReadContract(ctx);
    describeDurabilityContract(ctx);
  });
}
