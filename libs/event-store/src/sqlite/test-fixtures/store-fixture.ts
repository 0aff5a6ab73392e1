import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANY_VERSION, type EventToAppend, type StoredEvent } from '#lgsp/event-store';
import { SqliteEventStore } from '../sqlite-event-store.js';

export const SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';
export const STATUS_CHANGED = 'vn.gov.lgsp.dossier.status-changed.v1';
export const PAYMENT_COMPLETED = 'vn.gov.lgsp.payment.completed.v1';

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
    return {
      stream: 'dossier-000.00.15.H51-250701-0001',
      expectedVersion: ANY_VERSION,
      id: `evt-${seq}`,
      source: '/communes/21040',
      type: STATUS_CHANGED,
      data: { dossierCode: '000.00.15.H51-250701-0001', status: 2 },
      extensions: {},
      provinceCode: '51',
      communeCode: '21040',
      ...overrides,
    };
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
