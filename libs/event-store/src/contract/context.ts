import type { WrongExpectedVersionError } from '../errors.js';
import { ANY_VERSION, type EventStore, type EventToAppend, type StoredEvent } from '../port.js';

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

/**
 * A harness over `open` (a fresh store on the test's own data each call): `reopen` closes the current
 * store and opens the data again; `close` closes every store opened, then runs `dispose` (delete the
 * data). The adapters' contract specs build theirs with it.
 */
export async function reopeningHarness(
  open: () => EventStore | Promise<EventStore>,
  dispose: () => void | Promise<void> = () => undefined,
): Promise<EventStoreContractHarness> {
  const stores: EventStore[] = [];
  const next = async () => {
    const opened = await open();
    stores.push(opened);
    return opened;
  };
  let store = await next();
  return {
    store,
    async reopen() {
      await store.close();
      store = await next();
      return store;
    },
    async close() {
      for (const s of stores) await s.close();
      await dispose();
    },
  };
}

export const SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';
export const STATUS_CHANGED = 'vn.gov.lgsp.dossier.status-changed.v1';
export const PAYMENT_COMPLETED = 'vn.gov.lgsp.payment.completed.v1';

/**
 * A valid event numbered `n` (id `evt-n`): a status change of one dossier, in commune 21040 of
 * province 51; `overrides` replace its attributes. The contract suite and the adapters' specs share it.
 */
export function statusChange(n: number, overrides: Partial<EventToAppend> = {}): EventToAppend {
  return {
    stream: 'dossier-000.00.15.H51-250701-0001',
    expectedVersion: ANY_VERSION,
    id: `evt-${n}`,
    source: '/communes/21040',
    type: STATUS_CHANGED,
    data: { dossierCode: '000.00.15.H51-250701-0001', status: 2 },
    extensions: {},
    provinceCode: '51',
    communeCode: '21040',
    ...overrides,
  };
}

/**
 * Event `n` of the chain-source specs' logs: 13 streams, a payload with non-ASCII text, no commune.
 */
export function chainEvent(n: number): EventToAppend {
  return {
    stream: `dossier-${n % 13}`,
    expectedVersion: ANY_VERSION,
    id: `evt-${n}`,
    source: '/communes/21040',
    type: STATUS_CHANGED,
    data: { n, note: 'Nguyễn 👩‍👩‍👧' },
    extensions: {},
    provinceCode: '51',
  };
}

/** Appends {@link chainEvent} 0 … `count` - 1 to `store`, 500 per call. */
export async function appendChainEvents(store: EventStore, count: number): Promise<void> {
  for (let n = 0; n < count; n += 500)
    await store.append(Array.from({ length: Math.min(500, count - n) }, (_, i) => chainEvent(n + i)));
}

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

/** The whole log of `store`, read in pages. */
export async function readWholeLog(store: EventStore): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  for (;;) {
    const page = await store.readAll({ after: all.at(-1)?.position ?? 0, limit: 1000 });
    all.push(...page);
    if (page.length < 1000) return all;
  }
}

export async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
