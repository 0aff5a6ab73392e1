import type { WrongExpectedVersionError } from '../errors.js';
import type { EventStore, EventToAppend, StoredEvent } from '../port.js';

/** One empty store for one test, and how to dispose of it (close it and delete its data). */
export interface EventStoreContractHarness {
  store: EventStore;
  /** Closes every store the harness opened and deletes their data. */
  close(): Promise<void>;
  /**
   * Closes `store` and opens the same data again (a restart). Tests of durability across re-opening
   * run only when the adapter provides it.
   */
  reopen?(): Promise<EventStore>;
}

export const SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';
export const STATUS_CHANGED = 'vn.gov.lgsp.dossier.status-changed.v1';
export const PAYMENT_COMPLETED = 'vn.gov.lgsp.payment.completed.v1';

/** What every part of the contract suite shares: the current test's store and the helpers to write it. */
export interface ContractContext {
  /** The adapter's name, for messages. */
  readonly name: string;
  /** The current test's harness (set before each test). */
  readonly harness: EventStoreContractHarness | undefined;
  /** The current test's store (set before each test; a test that re-opens it sets the new one). */
  store: EventStore;
  /** A valid event on one stream, with a fresh id; `overrides` replace its attributes. */
  event(overrides?: Partial<EventToAppend>): EventToAppend;
  /** The whole log, read in pages. */
  everything(): Promise<StoredEvent[]>;
  /** The WrongExpectedVersionError `promise` rejects with (the test fails otherwise). */
  conflictOf(promise: Promise<unknown>): Promise<WrongExpectedVersionError>;
}

export async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
