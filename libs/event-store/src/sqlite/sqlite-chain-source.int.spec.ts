import { createHash } from 'node:crypto';
import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { StoreUnavailableError, verifyRecords, type ChainSource } from '#lgsp/event-store';
import { SqliteEventStore, openSqliteChainSource } from '#lgsp/event-store/sqlite';
import { appendChainEvents, chainEvent as event } from '../contract/context.js';

let dir: string;
const sources: ChainSource[] = [];

/** A closed store of `count` events in `dir`/events.db; returns the hash of its last record. */
async function storeOf(count: number, file = join(dir, 'events.db')): Promise<string> {
  const store = SqliteEventStore.open({ file });
  await appendChainEvents(store, count);
  const [last] = await store.readAll({ after: count - 1 });
  await store.close();
  return last!.hash;
}

function open(file: string): ChainSource {
  const source = openSqliteChainSource(file);
  sources.push(source);
  return source;
}

const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lgsp-chain-source-'));
});

afterEach(async () => {
  for (const s of sources.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('openSqliteChainSource', () => {
  it('reads every record in position order, page after page, and the chain holds to the store’s head', async () => {
    const head = await storeOf(4_500);
    const source = open(join(dir, 'events.db'));
    expect(await source.head()).toBe(4_500);
    expect(await verifyRecords(source.records())).toEqual({
      ok: true,
      events: 4_500,
      head: { position: 4_500, hash: head },
    });
  });

  it('reads a copy without writing it: the same bytes and times, and no -wal or -shm beside it', async () => {
    await storeOf(50);
    const folder = mkdtempSync(join(dir, 'copy-'));
    const file = join(folder, 'events.db');
    copyFileSync(join(dir, 'events.db'), file);
    const before = { digest: digest(file), mtime: statSync(file).mtimeMs };
    const source = open(file);
    expect(await verifyRecords(source.records())).toMatchObject({ ok: true, events: 50 });
    await source.close();
    expect({ digest: digest(file), mtime: statSync(file).mtimeMs }).toEqual(before);
    expect(readdirSync(folder)).toEqual(['events.db']);
  });

  it('reads a snapshot of a store its writer keeps appending to, without holding the writer up', async () => {
    const file = join(dir, 'events.db');
    const writer = SqliteEventStore.open({ file });
    try {
      await writer.append(Array.from({ length: 3_000 }, (_, i) => event(i)));
      const source = open(file);
      expect(await source.head()).toBe(3_000);
      const records = source.records()[Symbol.asyncIterator]();
      const first = await records.next();
      // Committed while the walk is on its first page: the second page must not see it.
      await writer.append(Array.from({ length: 100 }, (_, i) => event(3_000 + i)));
      async function* walk() {
        for (let r = first; !r.done; r = await records.next()) yield r.value;
      }
      expect(await verifyRecords(walk())).toMatchObject({ ok: true, events: 3_000 });
      expect((await writer.head()).position).toBe(3_100);
    } finally {
      await writer.close();
    }
  });

  it('names the first break of a store changed behind the hub’s back', async () => {
    await storeOf(300);
    const tamper = (sql: string): string => {
      const folder = mkdtempSync(join(dir, 'tampered-'));
      const file = join(folder, 'events.db');
      copyFileSync(join(dir, 'events.db'), file);
      const db = new DatabaseSync(file);
      db.exec(sql);
      db.close();
      return file;
    };
    const verdict = async (file: string) => verifyRecords(open(file).records());
    expect(
      await verdict(
        tamper(`UPDATE events SET data = replace(data, '"n":120', '"n":121') WHERE position = 121`),
      ),
    ).toMatchObject({
      ok: false,
      events: 120,
      break: { position: 121, kind: 'modified' },
    });
    expect(await verdict(tamper('DELETE FROM events WHERE position = 77'))).toMatchObject({
      ok: false,
      break: { position: 77, kind: 'missing' },
    });
    const swap = `UPDATE events SET position = -1 WHERE position = 30;
      UPDATE events SET position = 30 WHERE position = 200;
      UPDATE events SET position = 200 WHERE position = -1;`;
    expect(await verdict(tamper(swap))).toMatchObject({
      ok: false,
      events: 29,
      break: { position: 30, kind: 'out-of-order', foundAt: 200 },
    });
  });

  it('refuses, as unavailable, a missing file, a file that is not SQLite, and a database without an event store', async () => {
    expect(() => openSqliteChainSource(join(dir, 'none.db'))).toThrow(
      new StoreUnavailableError(`no event store at ${join(dir, 'none.db')}: the file does not exist`),
    );
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'not a database, just some text that is long enough to have a header'.repeat(20));
    expect(() => openSqliteChainSource(text)).toThrow(StoreUnavailableError);
    const other = join(dir, 'other.db');
    const db = new DatabaseSync(other);
    db.exec('CREATE TABLE t (x INTEGER)');
    db.close();
    expect(() => openSqliteChainSource(other)).toThrow(`${other} holds no event store (no events table)`);
  });
});
