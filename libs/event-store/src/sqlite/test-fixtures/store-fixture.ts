import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventToAppend, StoredEvent } from '#lgsp/event-store';
import { statusChange } from '../../contract/context.js';
import { SqliteEventStore } from '../sqlite-event-store.js';

export { PAYMENT_COMPLETED, STATUS_CHANGED, SUBMITTED } from '../../contract/context.js';

/** A fresh directory and events.db path per test; the stores opened in it are closed after the test. */
export interface SqliteStoreFixture {
  readonly dir: string;
  readonly file: string;
  openStore(options?: { maxGroupSize?: number; readOnly?: boolean }): SqliteEventStore;
  event(overrides?: Partial<EventToAppend>): EventToAppend;
  everything(store: SqliteEventStore): Promise<StoredEvent[]>;
}

/** Registers the fixture's beforeEach and afterEach; call it at the top of a spec file. */
export function useSqliteStoreFixture(): SqliteStoreFixture {
  let dir: string;
  let file: string;
  const open: SqliteEventStore[] = [];

  function openStore(options: { maxGroupSize?: number; readOnly?: boolean } = {}): SqliteEventStore {
    const store = SqliteEventStore.open({ file, ...options });
    open.push(store);
    return store;
  }

  let seq = 0;
  function event(overrides: Partial<EventToAppend> = {}): EventToAppend {
    seq += 1;
    return statusChange(seq, overrides);
  }

  async function everything(store: SqliteEventStore): Promise<StoredEvent[]> {
    return store.readAll({ limit: 1_000_000 });
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lgsp-event-store-'));
    file = join(dir, 'events.db');
  });

  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  return {
    get dir() {
      return dir;
    },
    get file() {
      return file;
    },
    openStore,
    event,
    everything,
  };
}
