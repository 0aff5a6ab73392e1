import { DatabaseSync } from 'node:sqlite';
import { NO_STREAM, WrongExpectedVersionError, verifyChain } from '#lgsp/event-store';
import { useSqliteStoreFixture } from './test-fixtures/store-fixture.js';
import {
  expectAbsentOptionals,
  expectDuplicateAnswer,
  expectNumbering,
  expectOneEventPerKey,
  expectRoundTrip,
} from '../contract/appends.js';

const fixture = useSqliteStoreFixture();
const { openStore, event, everything } = fixture;

describe('SqliteEventStore', () => {
  it('round-trips every attribute of an event', async () => {
    await expectRoundTrip(openStore(), event);
  });

  it('leaves absent optional attributes absent', async () => {
    await expectAbsentOptionals(openStore());
  });

  it('numbers each stream from 1 and the global log 1, 2, 3… without gaps', async () => {
    await expectNumbering(openStore(), event);
  });

  describe('deduplication on (source, id)', () => {
    it('returns the stored result for an event appended by an earlier call, without checking its expected version', async () => {
      await expectDuplicateAnswer(openStore(), event);
    });

    it('treats the same (source, id) twice in one call as one event', async () => {
      await expectOneEventPerKey(openStore(), event);
    });

    it('treats the same (source, id) in concurrent calls of one group as one event', async () => {
      const store = openStore();
      const e = event({ stream: 'A' });
      const commitsBefore = store.stats().commits;
      const [a, b, c] = await Promise.all([store.append([e]), store.append([e]), store.append([{ ...e }])]);
      expect(store.stats().commits - commitsBefore).toBe(1);
      expect(a?.[0]).toMatchObject({ position: 1, duplicate: false });
      expect(b?.[0]).toEqual({ ...a?.[0], duplicate: true });
      expect(c?.[0]).toEqual({ ...a?.[0], duplicate: true });
      expect(await everything(store)).toHaveLength(1);
    });

    it('keys on the pair: the same id from another source is a different event', async () => {
      const store = openStore();
      const results = await store.append([
        event({ id: 'same' }),
        event({ id: 'same', source: '/communes/21041' }),
      ]);
      expect(results.map((r) => r.duplicate)).toEqual([false, false]);
    });

    it('does not notify listeners for a call that was only duplicates', async () => {
      const store = openStore();
      const e = event();
      await store.append([e]);
      const heads: number[] = [];
      store.onAppended((h) => heads.push(h));
      const [dup] = await store.append([e]);
      expect(dup?.duplicate).toBe(true);
      expect(heads).toEqual([]);
    });
  });

  describe('expected version', () => {
    it('accepts the exact current version, NO_STREAM for a new stream, and successive versions within a call', async () => {
      const store = openStore();
      await store.append([
        event({ stream: 'A', expectedVersion: NO_STREAM }),
        event({ stream: 'A', expectedVersion: 1 }),
      ]);
      const [r] = await store.append([event({ stream: 'A', expectedVersion: 2 })]);
      expect(r).toMatchObject({ streamVersion: 3, position: 3 });
    });

    it('rejects a call with a stale version, appends none of its events and reports every conflict', async () => {
      const store = openStore();
      await store.append([event({ stream: 'A' }), event({ stream: 'B' })]);
      const attempt = store.append([
        event({ stream: 'C', expectedVersion: NO_STREAM }),
        event({ stream: 'A', expectedVersion: 0 }),
        event({ stream: 'B', expectedVersion: 1 }),
        event({ stream: 'B', expectedVersion: 5 }),
      ]);
      await expect(attempt).rejects.toBeInstanceOf(WrongExpectedVersionError);
      const error = (await attempt.catch((e: unknown) => e)) as WrongExpectedVersionError;
      expect(error.conflicts).toEqual([
        { index: 1, stream: 'A', expected: 0, actual: 1 },
        { index: 3, stream: 'B', expected: 5, actual: 2 },
      ]);
      expect(error.code).toBe('conflict');
      expect(error.retriable).toBe(false);
      expect(await store.streamVersion('C')).toBe(0);
      expect(await store.streamVersion('B')).toBe(1);
      expect((await everything(store)).map((e) => e.position)).toEqual([1, 2]);
      expect(store.stats().conflicts).toBe(1);
    });

    it('rolls back only the conflicting call of a group; the others commit with contiguous positions', async () => {
      const store = openStore();
      await store.append([event({ stream: 'A' })]);
      const commitsBefore = store.stats().commits;
      const outcomes = await Promise.allSettled([
        store.append([event({ stream: 'B', expectedVersion: NO_STREAM })]),
        store.append([event({ stream: 'C' }), event({ stream: 'A', expectedVersion: NO_STREAM })]),
        store.append([
          event({ stream: 'A', expectedVersion: 1 }),
          event({ stream: 'A', expectedVersion: 2 }),
        ]),
      ]);
      expect(store.stats().commits - commitsBefore).toBe(1);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      const rejected = outcomes[1] as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(WrongExpectedVersionError);

      const all = await everything(store);
      expect(all.map((e) => `${e.position}:${e.stream}@${e.streamVersion}`)).toEqual([
        '1:A@1',
        '2:B@1',
        '3:A@2',
        '4:A@3',
      ]);
      expect(await store.streamVersion('C')).toBe(0);
      expect(verifyChain(all)).toEqual({ ok: true });
    });

    it('lets a later call in the same group see the versions an earlier call produced', async () => {
      const store = openStore();
      const [first, second] = await Promise.all([
        store.append([event({ stream: 'A', expectedVersion: NO_STREAM })]),
        store.append([event({ stream: 'A', expectedVersion: 1 })]),
      ]);
      expect(first?.[0]?.streamVersion).toBe(1);
      expect(second?.[0]?.streamVersion).toBe(2);
    });
  });

  it('commits 200 concurrent single-event appends in a few transactions with positions 1..200', async () => {
    const store = openStore({ maxGroupSize: 64 });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => store.append([event({ stream: `dossier-${i % 7}` })])),
    );
    const positions = results.map((r) => r[0]?.position).sort((a, b) => (a ?? 0) - (b ?? 0));
    expect(positions).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const stats = store.stats();
    expect(stats.appendCalls).toBe(200);
    expect(stats.commits).toBe(4);
    expect(stats.largestGroup).toBe(64);
    expect(stats.eventsAppended).toBe(200);
    const all = await everything(store);
    expect(all.map((e) => e.position)).toEqual(positions);
    for (let s = 0; s < 7; s++) {
      const versions = (await store.readStream(`dossier-${s}`)).map((e) => e.streamVersion);
      expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
    }
  });

  it('resolves appends only after their commit and then tells listeners the new head', async () => {
    const store = openStore();
    const heads: number[] = [];
    const unsubscribe = store.onAppended((head) => heads.push(head));
    await Promise.all([store.append([event()]), store.append([event(), event()])]);
    expect(heads).toEqual([3]);
    const reader = new DatabaseSync(fixture.file, { readOnly: true });
    try {
      expect(reader.prepare('SELECT count(*) AS n FROM events').get()?.n).toBe(3);
    } finally {
      reader.close();
    }
    unsubscribe();
    await store.append([event()]);
    expect(heads).toEqual([3]);
  });

  it('chains every record to the previous one, across re-opening the file', async () => {
    let store = openStore();
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.append([event({ stream: `s-${i % 3}` })])));
    await store.append([event(), event()]);
    const before = await everything(store);
    expect(verifyChain(before)).toEqual({ ok: true });
    await store.close();

    store = openStore();
    await store.append([event()]);
    await Promise.all([
      store.append([event()]),
      store.append([event({ stream: 's-1', expectedVersion: 7 })]),
    ]);
    const after = await everything(store);
    expect(after).toHaveLength(25);
    expect(after.slice(0, 22)).toEqual(before);
    expect(after[22]?.prevHash).toBe(before[21]?.hash);
    expect(verifyChain(after)).toEqual({ ok: true });
    expect(verifyChain(after.slice(22), before[21]?.hash)).toEqual({ ok: true });
  });

  it('detects a tampered record with verifyChain', async () => {
    const store = openStore();
    await store.append([event(), event(), event()]);
    store.database.prepare(`UPDATE events SET data = '{"status":9}' WHERE position = 2`).run();
    expect(verifyChain(await everything(store))).toMatchObject({ ok: false, position: 2, kind: 'modified' });
  });
});
