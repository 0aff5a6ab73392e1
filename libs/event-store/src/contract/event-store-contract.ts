import { DomainError } from '#lgsp/contracts';
import { WrongExpectedVersionError } from '../errors.js';
import { verifyChain } from '../chain.js';
import { canonicalJson } from '../hash.js';
import {
  ANY_VERSION,
  NO_STREAM,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ReadAllOptions,
  type StoredEvent,
} from '../port.js';
import { ODD_TEXT, fuzzSeed, oddEvents } from '../../../../test/support/odd-events.js';

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

const SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';
const STATUS_CHANGED = 'vn.gov.lgsp.dossier.status-changed.v1';
const PAYMENT_COMPLETED = 'vn.gov.lgsp.payment.completed.v1';

/**
 * The behaviours every `EventStore` adapter must have, written against the port only. Call it from
 * an adapter's spec file; `factory` gives each test a fresh, empty store.
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

    async function everything(): Promise<StoredEvent[]> {
      const all: StoredEvent[] = [];
      for (;;) {
        const page = await store.readAll({ after: all.at(-1)?.position ?? 0, limit: 1000 });
        all.push(...page);
        if (page.length < 1000) return all;
      }
    }

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

    it('round-trips every attribute of an event', async () => {
      const input = event({
        stream: 'dossier-A',
        expectedVersion: NO_STREAM,
        id: 'a-1',
        type: SUBMITTED,
        time: '2025-07-01T08:00:00+07:00',
        subject: '000.00.15.H51-250701-0001',
        datacontenttype: 'application/json',
        dataschema: 'https://lgsp.example/schemas/events/dossier.submitted/v1.json',
        data: {
          dossierCode: 'A',
          fees: [{ name: 'Lệ phí', amount: 8000 }],
          nested: { z: 1, a: [true, null, 1.5, -0.25] },
          nfd: 'Nguye\u0302\u0303n',
        },
        extensions: {
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
          priority: 3,
          urgent: true,
        },
      });
      const [result] = await store.append([input]);
      expect(result).toEqual({
        id: 'a-1',
        source: '/communes/21040',
        stream: 'dossier-A',
        streamVersion: 1,
        position: 1,
        duplicate: false,
      });
      const [stored] = await store.readStream('dossier-A');
      expect(stored).toMatchObject({
        position: 1,
        stream: 'dossier-A',
        streamVersion: 1,
        id: 'a-1',
        source: '/communes/21040',
        type: SUBMITTED,
        time: input.time,
        subject: input.subject,
        datacontenttype: 'application/json',
        dataschema: input.dataschema,
        data: input.data,
        extensions: input.extensions,
        provinceCode: '51',
        communeCode: '21040',
      });
      expect(Date.parse(stored?.recordedAt ?? '')).not.toBeNaN();
      expect(stored?.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(await store.readAll()).toEqual([stored]);
      expect(await store.head()).toEqual({ position: 1, recordedAt: stored?.recordedAt });
      expect(await store.streamVersion('dossier-A')).toBe(1);
      expect(await store.streamVersion('dossier-missing')).toBe(0);
    });

    describe('exact text', () => {
      function odd(i: number, overrides: Partial<EventToAppend> = {}): EventToAppend {
        const text = ODD_TEXT[i % ODD_TEXT.length]!;
        return event({
          stream: `dossier-${text}-${i % 7}`,
          id: `${text}-${i}`,
          source: `/communes/${text}`,
          type: `vn.gov.lgsp.${text}`,
          time: `2025-07-01T08:00:00+07:00 ${text}`,
          subject: text,
          datacontenttype: `application/json; x=${text}`,
          dataschema: `https://lgsp.example/${text}`,
          provinceCode: text,
          communeCode: `${text}${i}`,
          data: {
            [text]: text,
            list: ODD_TEXT,
            long: text.repeat(20_000),
            nul: `\u0000${text}\u0000`,
            numbers: [1e21, 1.5e300, 0.1, 5e-324, 9007199254740991, -1.25, 0],
            nested: { [`${text} key`]: { deeper: [text, { [text]: null }] } },
          },
          extensions: { [`x${i}`]: text, n: 1e21, flag: false },
          ...overrides,
        });
      }

      /**
       * What a reader must get back: every attribute as appended, and data and extensions with the
       * same canonical JSON (the stored and hashed text), so deep equal to the appended values as
       * JSON holds them (-0 is 0 there).
       */
      function asAppended(e: EventToAppend, stored: StoredEvent | undefined): void {
        expect(stored).toBeDefined();
        const { expectedVersion: _v, data, extensions, ...attributes } = e;
        expect(stored).toMatchObject(attributes);
        expect(canonicalJson(stored?.data)).toBe(canonicalJson(data));
        expect(canonicalJson(stored?.extensions)).toBe(canonicalJson(extensions));
        expect(stored?.data).toEqual(JSON.parse(canonicalJson(data)));
        expect(stored?.extensions).toEqual(JSON.parse(canonicalJson(extensions)));
      }

      it('reads back odd but valid Unicode, long text and edge numbers exactly as appended, and the chain holds', async () => {
        const events = Array.from({ length: 36 }, (_, i) => odd(i));
        await store.append(events.slice(0, 20));
        for (const e of events.slice(20)) await store.append([e]);
        const all = await everything();
        expect(all).toHaveLength(events.length);
        events.forEach((e, i) => asAppended(e, all[i]));
        for (const e of events.slice(0, 9)) {
          const [first] = await store.readStream(e.stream, { limit: 1 });
          expect(first?.stream).toBe(e.stream);
          expect(first?.data).toEqual(e.data);
        }
        expect(verifyChain(all)).toEqual({ ok: true });
      });

      const seed = fuzzSeed();
      it(`reads back 400 fuzzed events exactly as appended, over 40 streams (fast-check seed ${seed})`, async () => {
        const events = oddEvents(400, { seed, streams: 40 });
        for (let i = 0; i < events.length; i += 50) await store.append(events.slice(i, i + 50));
        const all = await everything();
        expect(all).toHaveLength(events.length);
        events.forEach((e, i) => asAppended(e, all[i]));
        expect(verifyChain(all)).toEqual({ ok: true });
      });

      it('keeps strings that differ only by normalisation or by an invisible mark distinct', async () => {
        const ids = ['Hoà', 'Hoa\u0300', 'Hoà\u200d', 'Hoà\u200f'];
        const results = await store.append(ids.map((id) => event({ id, stream: `dossier-${id}` })));
        expect(results.map((r) => [r.id, r.stream, r.duplicate])).toEqual(
          ids.map((id) => [id, `dossier-${id}`, false]),
        );
        expect((await everything()).map((e) => e.id)).toEqual(ids);
      });

      it('writes -0 as 0, the one zero of JSON (as RFC 8785 canonical JSON does)', async () => {
        await store.append([event({ data: { zero: -0, list: [-0] } })]);
        const [stored] = await everything();
        expect(Object.is((stored?.data as { zero: number }).zero, 0)).toBe(true);
        expect(canonicalJson(stored?.data)).toBe('{"list":[0],"zero":0}');
        expect(verifyChain([stored!])).toEqual({ ok: true });
      });

      it('refuses a lone surrogate anywhere in an event, or a NUL in an attribute, pointing at it, and appends nothing', async () => {
        const bad: [Partial<EventToAppend>, string][] = [
          [{ id: 'a\ud800' }, '/1/id'],
          [{ id: 'a\u0000' }, '/1/id'],
          [{ source: '/communes/\udfff' }, '/1/source'],
          [{ stream: 'dossier-\ud83d' }, '/1/stream'],
          [{ subject: '\udc00' }, '/1/subject'],
          [{ communeCode: '2104\ud800' }, '/1/communeCode'],
          [{ data: { applicant: { fullName: 'Nguyễn\ud800' } } }, '/1/data/applicant/fullName'],
          [{ data: { ['k\ud800']: 1 } }, '/1/data/k\ud800'],
          [{ data: ['ok', ['\udbff']] }, '/1/data/1/0'],
          [{ extensions: { note: '\ud800' } }, '/1/extensions/note'],
        ];
        for (const [overrides, pointer] of bad) {
          const error = await store.append([event(), event(overrides)]).then(
            () => undefined,
            (err: unknown) => err,
          );
          expect(error).toBeInstanceOf(DomainError);
          expect((error as DomainError).code).toBe('invalid');
          expect((error as DomainError).issues.map((i) => i.pointer)).toEqual([pointer]);
        }
        expect(await store.head()).toEqual({ position: 0 });
        expect(await everything()).toEqual([]);
        await store.append([odd(0)]);
        expect(verifyChain(await everything())).toEqual({ ok: true });
      });
    });

    it('leaves absent optional attributes absent and stores null data', async () => {
      await store.append([
        {
          stream: 's',
          expectedVersion: ANY_VERSION,
          id: 'x',
          source: '/s',
          type: 't',
          data: null,
          extensions: {},
        },
      ]);
      const [stored] = await store.readAll();
      expect(stored).toBeDefined();
      for (const key of ['time', 'subject', 'datacontenttype', 'dataschema', 'provinceCode', 'communeCode']) {
        expect(stored).not.toHaveProperty(key);
      }
      expect(stored?.data).toBeNull();
      expect(stored?.extensions).toEqual({});
    });

    it('starts empty', async () => {
      expect(await store.head()).toEqual({ position: 0 });
      expect(await store.readAll()).toEqual([]);
      expect(await store.readStream('dossier-A')).toEqual([]);
    });

    it('numbers each stream from 1 and the global log 1, 2, 3… without gaps', async () => {
      await store.append([event({ stream: 'A' }), event({ stream: 'B' }), event({ stream: 'A' })]);
      await store.append([event({ stream: 'B' })]);
      await store.append([event({ stream: 'C' }), event({ stream: 'A' })]);

      const all = await everything();
      expect(all.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(all.map((e) => `${e.stream}@${e.streamVersion}`)).toEqual([
        'A@1',
        'B@1',
        'A@2',
        'B@2',
        'C@1',
        'A@3',
      ]);
      expect((await store.readStream('A')).map((e) => e.position)).toEqual([1, 3, 6]);
      expect((await store.readStream('A', { fromVersion: 2, limit: 1 })).map((e) => e.streamVersion)).toEqual(
        [2],
      );
      expect(await store.readStream('A', { limit: 0 })).toEqual([]);
      expect(await store.streamVersion('B')).toBe(2);
      expect(await store.head()).toMatchObject({ position: 6 });
    });

    it('rejects malformed events and appends nothing', async () => {
      const bad = { ...event(), stream: '' };
      await expect(store.append([event(), bad])).rejects.toBeInstanceOf(DomainError);
      await expect(store.append([event({ expectedVersion: -1 })])).rejects.toBeInstanceOf(DomainError);
      expect(await store.head()).toEqual({ position: 0 });
      expect(await store.append([])).toEqual([]);
    });

    describe('idempotency on (source, id)', () => {
      it('returns the stored result for an event of an earlier call, without checking its expected version', async () => {
        const first = event({ stream: 'A', expectedVersion: NO_STREAM });
        const [original] = await store.append([first]);
        await store.append([event({ stream: 'A' })]);
        const [again] = await store.append([{ ...first, expectedVersion: NO_STREAM, data: { other: 1 } }]);
        expect(again).toEqual({ ...original, duplicate: true });
        expect(await store.head()).toMatchObject({ position: 2 });
        expect((await store.readStream('A'))[0]?.data).toEqual(first.data);
      });

      it('treats the same (source, id) twice in one call as one event', async () => {
        const e = event({ stream: 'A' });
        const results = await store.append([e, event({ stream: 'A' }), { ...e, data: { changed: true } }]);
        expect(results.map((r) => [r.position, r.streamVersion, r.duplicate])).toEqual([
          [1, 1, false],
          [2, 2, false],
          [1, 1, true],
        ]);
        expect((await everything()).map((s) => s.data)).not.toContainEqual({ changed: true });
      });

      it('stores an event once when concurrent calls carry it', async () => {
        const e = event({ stream: 'A' });
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.append([i % 2 === 0 ? e : { ...e }])),
        );
        const flat = results.map((r) => r[0] as AppendResult);
        expect(flat.filter((r) => !r.duplicate)).toHaveLength(1);
        for (const r of flat) expect({ ...r, duplicate: false }).toEqual({ ...flat[0], duplicate: false });
        expect(await everything()).toHaveLength(1);
      });

      it('finds where stored (source, id) pairs are, as append would answer their duplicates', async () => {
        const [a, b] = await store.append([
          event({ stream: 'A' }),
          event({ stream: 'B', id: 'x', source: '/s' }),
        ]);
        const found = await store.findStored([
          { source: '/s', id: 'x' },
          { source: '/s', id: 'missing' },
          { source: a!.source, id: a!.id },
          { source: '/other', id: 'x' },
        ]);
        expect(found).toEqual([{ ...b, duplicate: true }, undefined, { ...a, duplicate: true }, undefined]);
        expect(await store.findStored([])).toEqual([]);
      });

      it('keys on the pair: the same id from another source is a different event', async () => {
        const results = await store.append([
          event({ id: 'same', source: '/communes/1' }),
          event({ id: 'same', source: '/communes/2' }),
        ]);
        expect(results.map((r) => r.duplicate)).toEqual([false, false]);
        expect(await everything()).toHaveLength(2);
      });
    });

    describe('expected version', () => {
      it('accepts the current version, NO_STREAM for a new stream, ANY, and successive versions within a call', async () => {
        await store.append([event({ stream: 'A', expectedVersion: NO_STREAM })]);
        await store.append([
          event({ stream: 'A', expectedVersion: 1 }),
          event({ stream: 'A', expectedVersion: 2 }),
        ]);
        await store.append([event({ stream: 'A', expectedVersion: ANY_VERSION })]);
        const [r] = await store.append([event({ stream: 'A', expectedVersion: 4 })]);
        expect(r).toMatchObject({ streamVersion: 5, position: 5 });
      });

      it('rejects a stale call with the details of every conflict and appends none of its events', async () => {
        await store.append([event({ stream: 'A' }), event({ stream: 'A' }), event({ stream: 'B' })]);
        const error = await conflictOf(
          store.append([
            event({ stream: 'C', expectedVersion: NO_STREAM }),
            event({ stream: 'A', expectedVersion: 1 }),
            event({ stream: 'B', expectedVersion: NO_STREAM }),
          ]),
        );
        expect(error.conflicts).toEqual([
          { index: 1, stream: 'A', expected: 1, actual: 2 },
          { index: 2, stream: 'B', expected: 0, actual: 1 },
        ]);
        expect(error.retriable).toBe(false);
        expect(await store.head()).toMatchObject({ position: 3 });
        expect(await store.streamVersion('C')).toBe(0);
        const [next] = await store.append([event({ stream: 'C', expectedVersion: NO_STREAM })]);
        expect(next).toMatchObject({ position: 4, streamVersion: 1 });
      });

      it('rejects an expected version ahead of the stream', async () => {
        const error = await conflictOf(store.append([event({ stream: 'A', expectedVersion: 3 })]));
        expect(error.conflicts).toEqual([{ index: 0, stream: 'A', expected: 3, actual: 0 }]);
      });

      it('lets exactly one of two concurrent appends with the same expected version win', async () => {
        await store.append([event({ stream: 'A' })]);
        const outcomes = await Promise.allSettled([
          store.append([event({ stream: 'A', expectedVersion: 1 })]),
          store.append([event({ stream: 'A', expectedVersion: 1 })]),
        ]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const rejected = outcomes.filter((o) => o.status === 'rejected');
        expect(rejected).toHaveLength(1);
        const reason = (rejected[0] as PromiseRejectedResult).reason as WrongExpectedVersionError;
        expect(reason).toBeInstanceOf(WrongExpectedVersionError);
        expect(reason.conflicts).toEqual([{ index: 0, stream: 'A', expected: 1, actual: 2 }]);
        expect((await store.readStream('A')).map((e) => e.streamVersion)).toEqual([1, 2]);
      });

      it('lets one of many concurrent writers per stream win, and the losers append nothing', async () => {
        const outcomes = await Promise.allSettled(
          Array.from({ length: 40 }, (_, i) =>
            store.append([
              event({ stream: `S${i % 4}`, expectedVersion: NO_STREAM }),
              event({ stream: `S${i % 4}`, expectedVersion: 1 }),
            ]),
          ),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(4);
        for (const o of outcomes) {
          if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(WrongExpectedVersionError);
        }
        const all = await everything();
        expect(all.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
        for (let s = 0; s < 4; s++) expect(await store.streamVersion(`S${s}`)).toBe(2);
      });
    });

    it('gives 200 concurrent single-event appends positions 1..200 and reads them back in that order', async () => {
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => store.append([event({ stream: `dossier-${i % 7}` })])),
      );
      const positions = results.map((r) => r[0]?.position ?? 0).sort((a, b) => a - b);
      expect(positions).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      const all = await everything();
      expect(all.map((e) => e.position)).toEqual(positions);
      const byId = new Map(results.map((r) => [r[0]?.id, r[0]]));
      for (const e of all)
        expect(byId.get(e.id)).toMatchObject({ position: e.position, streamVersion: e.streamVersion });
      for (let s = 0; s < 7; s++) {
        const versions = (await store.readStream(`dossier-${s}`)).map((e) => e.streamVersion);
        expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
      }
      expect(verifyChain(all)).toEqual({ ok: true });
    });

    it('filters readAll by position, limit, types, provinces and communes; an empty list matches nothing', async () => {
      await store.append([
        event({ type: SUBMITTED, provinceCode: '51', communeCode: '21040' }),
        event({ type: STATUS_CHANGED, provinceCode: '51', communeCode: '21043' }),
        event({ type: PAYMENT_COMPLETED, provinceCode: '08', communeCode: '02230' }),
        event({ type: STATUS_CHANGED, provinceCode: '08', communeCode: '02230' }),
        event({ type: SUBMITTED, provinceCode: undefined, communeCode: undefined }),
      ]);
      const positions = async (o: ReadAllOptions) => (await store.readAll(o)).map((e) => e.position);
      expect(await positions({})).toEqual([1, 2, 3, 4, 5]);
      expect(await positions({ after: 2 })).toEqual([3, 4, 5]);
      expect(await positions({ after: 1, limit: 2 })).toEqual([2, 3]);
      expect(await positions({ types: [STATUS_CHANGED] })).toEqual([2, 4]);
      expect(await positions({ types: [SUBMITTED, PAYMENT_COMPLETED] })).toEqual([1, 3, 5]);
      expect(await positions({ provinceCodes: ['08'] })).toEqual([3, 4]);
      expect(await positions({ provinceCodes: ['51', '08'], after: 1 })).toEqual([2, 3, 4]);
      expect(await positions({ communeCodes: ['21043', '02230'] })).toEqual([2, 3, 4]);
      expect(await positions({ types: [STATUS_CHANGED], provinceCodes: ['51'] })).toEqual([2]);
      expect(
        await positions({ types: [STATUS_CHANGED], provinceCodes: ['08'], communeCodes: ['02230'] }),
      ).toEqual([4]);
      expect(await positions({ types: [] })).toEqual([]);
      expect(await positions({ provinceCodes: [] })).toEqual([]);
      expect(await positions({ communeCodes: [] })).toEqual([]);
      expect(await positions({ limit: 0 })).toEqual([]);
    });

    it('pages through every filter shape exactly as a plain filter over the whole log would, with no gap or repeat', async () => {
      // 3 provinces of 3 communes each, a commune with 3 events in the whole log, events without codes.
      const communes = [
        '51:21040',
        '51:21043',
        '51:21046',
        '08:02230',
        '08:02233',
        '08:02236',
        '01:00004',
        '01:00008',
        '01:00011',
      ];
      const types = [SUBMITTED, STATUS_CHANGED, STATUS_CHANGED, PAYMENT_COMPLETED];
      let random = 7;
      const next = (n: number) => (random = (random * 48_271) % 2_147_483_647) % n;
      const sparseAt = new Set([5, 333, 598]);
      for (let batch = 0; batch < 6; batch++) {
        await store.append(
          Array.from({ length: 100 }, (_, i) => {
            const n = batch * 100 + i;
            const [provinceCode, communeCode] = sparseAt.has(n)
              ? ['31', '11311']
              : n % 50 === 17
                ? [undefined, undefined]
                : (communes[next(communes.length)] ?? '').split(':');
            return event({
              stream: `dossier-${n % 40}`,
              type: types[next(types.length)],
              provinceCode,
              communeCode,
            });
          }),
        );
      }
      const all = await everything();
      expect(all).toHaveLength(600);
      const matches = (o: ReadAllOptions) => (e: StoredEvent) =>
        (!o.types || o.types.includes(e.type)) &&
        (!o.provinceCodes || o.provinceCodes.includes(e.provinceCode ?? '')) &&
        (!o.communeCodes || o.communeCodes.includes(e.communeCode ?? ''));
      const shapes: ReadAllOptions[] = [
        { communeCodes: ['21043'] },
        { communeCodes: ['21043', '02233', '00011'] },
        { communeCodes: ['00004', '00004'] },
        { communeCodes: ['11311'] },
        { communeCodes: ['11311', '99999'] },
        { provinceCodes: ['08'] },
        { provinceCodes: ['51', '01'] },
        { provinceCodes: ['31'] },
        { types: [PAYMENT_COMPLETED] },
        { types: [SUBMITTED, PAYMENT_COMPLETED] },
        { types: [STATUS_CHANGED], communeCodes: ['21040', '02236'] },
        { types: [SUBMITTED, PAYMENT_COMPLETED], provinceCodes: ['51', '08'] },
        { types: [PAYMENT_COMPLETED], provinceCodes: ['01'], communeCodes: ['00004', '21040'] },
      ];
      for (const shape of shapes) {
        const expected = all.filter(matches(shape)).map((e) => e.position);
        for (const limit of [1, 7, 100]) {
          const paged: number[] = [];
          for (;;) {
            const after = paged.at(-1) ?? 0;
            const page = await store.readAll({ ...shape, after, limit });
            expect(page.length).toBeLessThanOrEqual(limit);
            expect(page.every(matches(shape))).toBe(true);
            expect(page[0]?.position ?? Infinity).toBeGreaterThan(after);
            paged.push(...page.map((e) => e.position));
            if (page.length < limit) break;
          }
          expect({ shape, limit, positions: paged }).toEqual({ shape, limit, positions: expected });
        }
        const middle = expected[Math.floor(expected.length / 2)] ?? 0;
        expect((await store.readAll({ ...shape, after: middle })).map((e) => e.position)).toEqual(
          expected.filter((p) => p > middle),
        );
      }
      expect((await store.readAll({ communeCodes: ['11311'] })).map((e) => e.position)).toEqual([
        6, 334, 599,
      ]);
      expect(await store.readAll({ communeCodes: ['11311'], after: 599 })).toEqual([]);
      expect(await store.readAll({ provinceCodes: ['08'], after: 10_000 })).toEqual([]);
      expect(await store.readAll({ communeCodes: ['21043'] })).toEqual(
        all.filter((e) => e.communeCode === '21043'),
      );
    });

    it('chains every record to the previous one so verifyChain accepts the whole log and spots tampering', async () => {
      await store.append([
        event({ stream: 'A' }),
        event({ stream: 'B', data: { text: 'Thủ tục hành chính' } }),
      ]);
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.append([event({ stream: `C${i % 3}` })])));
      await store.append([event({ stream: 'A', data: { amount: 8000, list: [3, 1, 2], flag: false } })]);
      const all = await everything();
      expect(all).toHaveLength(23);
      expect(verifyChain(all)).toEqual({ ok: true });
      expect(verifyChain(all.slice(10), all[9]?.hash)).toEqual({ ok: true });
      const tampered = all.map((e) => (e.position === 5 ? { ...e, data: { status: 9 } } : e));
      expect(verifyChain(tampered)).toEqual({
        ok: false,
        position: 5,
        kind: 'modified',
        reason: 'stored hash does not match the record',
      });
    });

    it('saves, loads and lists checkpoints', async () => {
      expect(await store.checkpoints.load('projection.dossiers')).toBe(0);
      await store.checkpoints.save('projection.dossiers', 41);
      await store.checkpoints.save('projection.dossiers', 42);
      await store.checkpoints.save('relay.kafka', 7);
      await expect(store.checkpoints.save('relay.kafka', -1)).rejects.toBeInstanceOf(DomainError);
      expect(await store.checkpoints.load('projection.dossiers')).toBe(42);
      const list = await store.checkpoints.list();
      expect(list.map(({ subscriber, position }) => ({ subscriber, position }))).toEqual([
        { subscriber: 'projection.dossiers', position: 42 },
        { subscriber: 'relay.kafka', position: 7 },
      ]);
      expect(Date.parse(list[0]?.updatedAt ?? '')).not.toBeNaN();
    });

    it('keeps events, the chain and checkpoints across re-opening', async () => {
      if (!harness?.reopen) throw new Error(`the ${name} harness must provide reopen()`);
      await store.append([event({ stream: 'A' }), event({ stream: 'B' })]);
      await store.checkpoints.save('relay.kafka', 2);
      store = await harness.reopen();
      expect(await store.checkpoints.load('relay.kafka')).toBe(2);
      const [r] = await store.append([event({ stream: 'A', expectedVersion: 1 })]);
      expect(r).toMatchObject({ position: 3, streamVersion: 2 });
      expect(verifyChain(await everything())).toEqual({ ok: true });
    });

    it('tells onAppended listeners the new head after the commit, once the events are readable', async () => {
      const heads: number[] = [];
      const seen: Promise<number>[] = [];
      const unsubscribe = store.onAppended((head) => {
        heads.push(head);
        seen.push(store.readAll({ limit: 1_000_000 }).then((all) => all.length));
      });
      await Promise.all([store.append([event()]), store.append([event(), event()])]);
      await store.append([event({ id: 'dup', source: '/d' })]);
      await waitFor(() => heads.at(-1) === 4);
      expect([...heads].sort((a, b) => a - b)).toEqual(heads);
      const counts = await Promise.all(seen);
      heads.forEach((head, i) => expect(counts[i]).toBeGreaterThanOrEqual(head));
      const before = heads.length;
      await store.append([event({ id: 'dup', source: '/d' })]);
      unsubscribe();
      await store.append([event()]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(heads).toHaveLength(before);
    });

    it('keeps a 5,000-event stream in order and reads it back in pages', async () => {
      const stream = 'dossier-large';
      for (let batch = 0; batch < 10; batch++) {
        await store.append(
          Array.from({ length: 500 }, (_, i) =>
            event({
              stream,
              expectedVersion: i === 0 ? batch * 500 : ANY_VERSION,
              data: { n: batch * 500 + i },
            }),
          ),
        );
      }
      expect(await store.streamVersion(stream)).toBe(5000);
      const read: StoredEvent[] = [];
      for (;;) {
        const page = await store.readStream(stream, { fromVersion: read.length + 1, limit: 700 });
        read.push(...page);
        if (page.length < 700) break;
      }
      expect(read.map((e) => e.streamVersion)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
      expect(read.map((e) => (e.data as { n: number }).n)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
      expect(read.map((e) => e.position)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
      expect(verifyChain(read)).toEqual({ ok: true });
    });
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
