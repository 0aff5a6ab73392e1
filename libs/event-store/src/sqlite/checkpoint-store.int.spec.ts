import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lgsp-sqlite-checkpoints-'));
});

afterEach(() => {
  jest.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

const synchronous = (store: SqliteEventStore): unknown =>
  store.database.prepare('PRAGMA synchronous').get()?.synchronous;

describe('SqliteCheckpointStore', () => {
  it('saves withNextCommit without a sync of its own, restores the level, and the file holds it', async () => {
    const file = join(dir, 'events.db');
    const store = SqliteEventStore.open({ file });
    const exec = jest.spyOn(store.database, 'exec');
    await store.checkpoints.save('relay.kafka', 5);
    expect(exec).not.toHaveBeenCalled();
    await store.checkpoints.save('checkpoints', 7, { withNextCommit: true });
    expect(exec.mock.calls.map(([sql]) => sql)).toEqual([
      'PRAGMA synchronous = NORMAL',
      'PRAGMA synchronous = 2',
    ]);
    expect(synchronous(store)).toBe(2);
    expect(store.database.isTransaction).toBe(false);
    await store.close();

    const again = SqliteEventStore.open({ file });
    expect(await again.checkpoints.load('checkpoints')).toBe(7);
    expect(await again.checkpoints.load('relay.kafka')).toBe(5);
    await again.close();
  });

  it('within a transaction on its connection, saves in it, at that transaction’s level', async () => {
    const store = SqliteEventStore.open({ file: join(dir, 'events.db') });
    store.database.exec('BEGIN IMMEDIATE');
    const exec = jest.spyOn(store.database, 'exec');
    await store.checkpoints.save('checkpoints', 9, { withNextCommit: true });
    expect(exec).not.toHaveBeenCalled();
    store.database.exec('ROLLBACK');
    expect(await store.checkpoints.load('checkpoints')).toBe(0);
    expect(synchronous(store)).toBe(2);
    await store.close();
  });
});
