import { existsSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { DomainError } from '#lgsp/contracts';
import { ReadOnlyStoreError, StoreUnavailableError, verifyChain } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import {
  PAYMENT_COMPLETED,
  STATUS_CHANGED,
  SUBMITTED,
  useSqliteStoreFixture,
} from './test-fixtures/store-fixture.js';
import { expectSavedCheckpoints, saveCheckpoints } from '../contract/durability.js';
import { expectReadAllFilters } from '../contract/reads.js';

const fixture = useSqliteStoreFixture();
const { openStore, event, everything } = fixture;
let file: string;
beforeEach(() => {
  file = fixture.file;
});

describe('SqliteEventStore', () => {
  it('filters readAll by position, limit, types, provinces and communes', async () => {
    await expectReadAllFilters(openStore(), event);
  });

  it('seeks a filtered read of the global log through an index range per code, never scanning the log', async () => {
    const store = openStore();
    await store.append(
      Array.from({ length: 300 }, (_, i) =>
        event({
          type: [SUBMITTED, STATUS_CHANGED, PAYMENT_COMPLETED][i % 3],
          provinceCode: ['51', '08', '01'][i % 3],
          communeCode: ['21040', '21043', '02230', '00004'][i % 4],
        }),
      ),
    );
    const seek = (index: string, column: string) =>
      `SEARCH events USING INDEX ${index} (${column}=? AND position>?)`;
    const commune = seek('events_by_commune', 'commune_code');
    const province = seek('events_by_province', 'province_code');
    const type = seek('events_by_type', 'type');
    // The index ranges of a read, without the MERGE steps that join several of them in position order.
    const steps = (o: Parameters<SqliteEventStore['explainReadAll']>[0]) =>
      store.explainReadAll({ after: 150, limit: 100, ...o }).filter((d) => !/^(LEFT|RIGHT|MERGE)/.test(d));

    expect(store.explainReadAll({ after: 150 })).toEqual([
      'SEARCH events USING INTEGER PRIMARY KEY (rowid>?)',
    ]);
    expect(steps({ communeCodes: ['21043'] })).toEqual([commune]);
    expect(steps({ communeCodes: ['21043', '02230', '00004'] })).toEqual([commune, commune, commune]);
    expect(steps({ communeCodes: ['21043', '21043'] })).toEqual([commune]);
    expect(steps({ provinceCodes: ['08'] })).toEqual([province]);
    expect(steps({ provinceCodes: ['08', '01'] })).toEqual([province, province]);
    expect(steps({ types: [SUBMITTED, PAYMENT_COMPLETED] })).toEqual([type, type]);
    expect(steps({ types: [SUBMITTED], communeCodes: ['21040', '00004'] })).toEqual([commune, commune]);
    expect(steps({ types: [SUBMITTED], provinceCodes: ['51'] })).toEqual([province]);
    expect(steps({ types: [SUBMITTED], provinceCodes: ['51'], communeCodes: ['21040'] })).toEqual([commune]);
    // Several ranges are merged lazily and stop at the limit: no sort, no scan.
    expect(store.explainReadAll({ provinceCodes: ['08', '01'] })).toContain('MERGE (UNION ALL)');
    for (const o of [
      { communeCodes: ['21043', '02230'] },
      { provinceCodes: ['08', '01'] },
      { types: [SUBMITTED] },
    ]) {
      expect(store.explainReadAll(o).join('\n')).not.toMatch(/SCAN|TEMP B-TREE/);
    }
    // Past 64 codes: one query over the commune index, sorted.
    const many = Array.from({ length: 65 }, (_, i) => String(21_000 + i));
    expect(store.explainReadAll({ communeCodes: many })).toEqual([commune, 'USE TEMP B-TREE FOR ORDER BY']);
    expect(store.explainReadAll({ types: [] })).toEqual([]);
  });

  it('upgrades a version 1 file in place: the commune index is added and reads return what they did', async () => {
    let store = openStore();
    await store.append(
      Array.from({ length: 50 }, (_, i) =>
        event({
          communeCode: ['21040', '21043'][i % 2],
          type: [SUBMITTED, STATUS_CHANGED][i % 3 === 0 ? 0 : 1],
        }),
      ),
    );
    const before = await store.readAll({ communeCodes: ['21043'], types: [STATUS_CHANGED] });
    // What version 1 left: the same tables without events_by_commune.
    store.database.exec(
      `DROP INDEX events_by_commune; UPDATE schema_version SET version = 1 WHERE component = 'event-store'`,
    );
    await store.close();
    expect(() => SqliteEventStore.open({ file, readOnly: true })).toThrow(
      /has schema version 1, this build reads version 2/,
    );

    store = openStore();
    const version = store.database
      .prepare(`SELECT version FROM schema_version WHERE component = 'event-store'`)
      .get();
    expect(version?.version).toBe(2);
    const index = store.database
      .prepare(`SELECT sql FROM sqlite_master WHERE name = 'events_by_commune'`)
      .get();
    expect(index?.sql).toBe('CREATE INDEX events_by_commune ON events (commune_code, position)');
    expect(await store.readAll({ communeCodes: ['21043'], types: [STATUS_CHANGED] })).toEqual(before);
    const all = await everything(store);
    expect(before).toEqual(all.filter((e) => e.communeCode === '21043' && e.type === STATUS_CHANGED));
    expect(before).toHaveLength(17);
    expect(verifyChain(all)).toEqual({ ok: true });
  });

  it('keeps checkpoints across re-opening', async () => {
    const store = openStore();
    await saveCheckpoints(store);
    await store.close();
    await expectSavedCheckpoints(openStore());
  });

  it('commits queued appends on close and refuses work afterwards', async () => {
    let store = openStore();
    const pending = [
      store.append([event({ id: 'before-close-1' })]),
      store.append([event({ id: 'before-close-2' })]),
    ];
    await store.close();
    const results = await Promise.all(pending);
    expect(results.map((r) => r[0]?.position)).toEqual([1, 2]);
    await expect(store.append([event()])).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.readAll()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.checkpoints.load('x')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(() => store.database).toThrow(StoreUnavailableError);
    await store.close();

    store = openStore();
    expect((await everything(store)).map((e) => e.id)).toEqual(['before-close-1', 'before-close-2']);
  });

  it('stores Vietnamese text byte for byte, NFC and NFD alike, with keys in canonical order', async () => {
    const store = openStore();
    const nfc = 'Nguyễn Thị Hoà, Xã Bình Sơn, Quảng Ngãi — Đăng ký khai sinh';
    const nfd = nfc.normalize('NFD');
    expect(nfd).not.toBe(nfc);
    const data = { zTên: nfc, aTên: nfd, 'đ/Đ': 'Hoá ≠ Hóa', emoji: '🇻🇳' };
    await store.append([event({ id: 'vi', data, subject: nfd })]);
    await store.close();

    const reopened = openStore();
    const [stored] = await reopened.readAll();
    // Data is stored as canonical JSON (keys sorted by UTF-16 code unit), the form the hash covers.
    const sorted = Object.fromEntries(Object.entries(data).sort(([a], [b]) => (a < b ? -1 : 1)));
    expect(Object.keys(stored?.data as object)).toEqual(['aTên', 'emoji', 'zTên', 'đ/Đ']);
    expect(Buffer.from(JSON.stringify(stored?.data))).toEqual(Buffer.from(JSON.stringify(sorted)));
    expect(Buffer.from(stored?.subject ?? '')).toEqual(Buffer.from(nfd));
    expect(verifyChain(stored ? [stored] : [])).toEqual({ ok: true });
  });

  it('snapshots the data when append is called, so later mutation by the caller changes nothing', async () => {
    const store = openStore();
    const data = { status: 2 };
    const appended = store.append([event({ data })]);
    data.status = 9;
    await appended;
    const all = await everything(store);
    expect(all[0]?.data).toEqual({ status: 2 });
    expect(verifyChain(all)).toEqual({ ok: true });
  });

  it('rejects malformed events before queuing them', async () => {
    const store = openStore();
    const bad = [
      event({ stream: '' }),
      event({ expectedVersion: -1 }),
      event({ expectedVersion: 1.5 }),
      event({ data: { n: 10n } }),
      event({ data: () => 1 }),
    ];
    for (const e of bad) {
      const error = (await store.append([event(), e]).catch((err: unknown) => err)) as DomainError;
      expect(error).toBeInstanceOf(DomainError);
      expect(error.code).toBe('invalid');
      expect(error.issues[0]?.pointer).toMatch(/^\/1\//);
    }
    expect(await store.append([])).toEqual([]);
    expect(await everything(store)).toEqual([]);
  });

  it('rejects every call of a group whose COMMIT fails and resumes from what is on disk', async () => {
    const store = openStore();
    await store.append([event({ stream: 'A' }), event({ stream: 'B' })]);
    // A deferred foreign-key violation makes COMMIT itself fail (the statements all succeeded).
    store.database.exec(`
      CREATE TABLE poison_parent (id INTEGER PRIMARY KEY);
      CREATE TABLE poison_child (parent INTEGER REFERENCES poison_parent (id) DEFERRABLE INITIALLY DEFERRED);
      CREATE TRIGGER poison AFTER INSERT ON events WHEN NEW.type = 'test.poison'
      BEGIN INSERT INTO poison_child VALUES (1); END;
    `);
    const heads: number[] = [];
    store.onAppended((h) => heads.push(h));

    const outcomes = await Promise.allSettled([
      store.append([event({ stream: 'A', expectedVersion: 1 })]),
      store.append([event({ stream: 'C', type: 'test.poison' })]),
      store.append([event({ stream: 'B', expectedVersion: 1 })]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const o of outcomes) {
      const reason = (o as PromiseRejectedResult).reason as StoreUnavailableError;
      expect(reason).toBeInstanceOf(StoreUnavailableError);
      expect(reason.retriable).toBe(true);
    }
    expect(store.stats()).toMatchObject({ failedGroups: 1, eventsAppended: 2, conflicts: 0 });
    expect(heads).toEqual([]);
    expect(store.database.isTransaction).toBe(false);
    expect(await store.head()).toMatchObject({ position: 2 });

    const [a, b] = await Promise.all([
      store.append([event({ stream: 'A', expectedVersion: 1 })]),
      store.append([event({ stream: 'B', expectedVersion: 1 })]),
    ]);
    expect(a?.[0]).toMatchObject({ position: 3, streamVersion: 2 });
    expect(b?.[0]).toMatchObject({ position: 4, streamVersion: 2 });
    expect(heads).toEqual([4]);
    const all = await everything(store);
    expect(all.map((e) => e.position)).toEqual([1, 2, 3, 4]);
    expect(verifyChain(all)).toEqual({ ok: true });
  });

  it('continues the log and the chain after another connection appended to the same file', async () => {
    const first = openStore();
    await first.append([event({ stream: 'A' })]);
    const second = openStore();
    await second.append([event({ stream: 'A', expectedVersion: 1 }), event({ stream: 'B' })]);

    const [r] = await first.append([event({ stream: 'A', expectedVersion: 2 })]);
    expect(r).toMatchObject({ position: 4, streamVersion: 3 });
    const all = await everything(first);
    expect(all.map((e) => e.position)).toEqual([1, 2, 3, 4]);
    expect(verifyChain(all)).toEqual({ ok: true });
  });

  it('records its schema version and refuses a file migrated by a newer build', async () => {
    const store = openStore();
    expect(
      store.database.prepare(`SELECT version FROM schema_version WHERE component = 'event-store'`).get()
        ?.version,
    ).toBe(2);
    store.database.prepare(`UPDATE schema_version SET version = 99 WHERE component = 'event-store'`).run();
    await store.close();
    expect(() => SqliteEventStore.open({ file })).toThrow(StoreUnavailableError);
  });
});

describe('SqliteEventStore opened read-only', () => {
  it('reads what the writer appended, before and after it was opened', async () => {
    const writer = openStore();
    await writer.append([event({ stream: 'A', type: SUBMITTED }), event({ stream: 'B' })]);
    await writer.checkpoints.save('test.sub', 1);
    const reader = openStore({ readOnly: true });

    expect(await reader.head()).toEqual(await writer.head());
    expect(await everything(reader)).toEqual(await everything(writer));
    expect((await reader.readAll({ types: [SUBMITTED] })).map((e) => e.stream)).toEqual(['A']);
    expect(await reader.streamVersion('A')).toBe(1);
    expect(await reader.checkpoints.load('test.sub')).toBe(1);

    await writer.append([event({ stream: 'A', expectedVersion: 1 })]);
    expect((await reader.readStream('A')).map((e) => e.position)).toEqual([1, 3]);
    expect((await reader.head()).position).toBe(3);
  });

  it('turns appends by the writer into onAppended notifications when asked to look', async () => {
    const writer = openStore();
    await writer.append([event()]);
    const reader = openStore({ readOnly: true });
    const heads: number[] = [];
    reader.onAppended((head) => heads.push(head));

    expect(await reader.checkForAppends()).toBe(1);
    expect(heads).toEqual([]);
    await writer.append([event(), event()]);
    await writer.append([event()]);
    expect(await reader.checkForAppends()).toBe(4);
    expect(await reader.checkForAppends()).toBe(4);
    expect(heads).toEqual([4]);
  });

  it('rejects append and checkpoint saves with ReadOnlyStoreError and writes nothing', async () => {
    const writer = openStore();
    await writer.append([event()]);
    const reader = openStore({ readOnly: true });

    const appending = reader.append([event()]);
    await expect(appending).rejects.toThrow(ReadOnlyStoreError);
    await expect(appending).rejects.toThrow(/open read-only: it cannot append/);
    await expect(reader.append([event()])).rejects.toMatchObject({ retriable: false });
    await expect(reader.checkpoints.save('test.sub', 1)).rejects.toThrow(ReadOnlyStoreError);
    // The connection itself refuses writes too.
    expect(() => reader.database.exec(`DELETE FROM events`)).toThrow(/readonly/i);
    expect((await writer.head()).position).toBe(1);
    expect(await writer.checkpoints.load('test.sub')).toBe(0);
  });

  it('neither creates nor migrates a file', async () => {
    expect(() => SqliteEventStore.open({ file, readOnly: true })).toThrow(StoreUnavailableError);
    expect(existsSync(file)).toBe(false);

    const empty = new DatabaseSync(file);
    empty.exec('PRAGMA journal_mode = WAL');
    expect(() => SqliteEventStore.open({ file, readOnly: true })).toThrow(
      /has schema version 0, this build reads version 2/,
    );
    expect(empty.prepare(`SELECT count(*) AS n FROM sqlite_master`).get()?.n).toBe(0);
    empty.close();

    const older = openStore();
    older.database.prepare(`UPDATE schema_version SET version = 99 WHERE component = 'event-store'`).run();
    expect(() => SqliteEventStore.open({ file, readOnly: true })).toThrow(/has schema version 99/);
  });

  it('refuses a file not in WAL mode, whose readers would block the writer', async () => {
    const rollback = new DatabaseSync(file);
    rollback.exec('CREATE TABLE t (x)');
    rollback.close();
    expect(() => SqliteEventStore.open({ file, readOnly: true })).toThrow(StoreUnavailableError);
  });
});
