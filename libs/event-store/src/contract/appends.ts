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
  type StoredEvent,
} from '../port.js';
import { ODD_TEXT, fuzzSeed, oddEvents } from '../../../../test/support/odd-events.js';
import { SUBMITTED, readWholeLog, type ContractContext } from './context.js';

/** Appending: attributes round-trip, numbering, validation, idempotency, expected versions, concurrency. */
export function describeAppendContract(ctx: ContractContext): void {
  const { event, everything, conflictOf } = ctx;
  let store: EventStore;
  // Registered after the suite's own beforeEach, so it sees this test's fresh store.
  beforeEach(() => {
    store = ctx.store;
  });

  it('round-trips every attribute of an event', async () => {
    await expectRoundTrip(store, event);
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
    await expectAbsentOptionals(store);
  });

  it('starts empty', async () => {
    expect(await store.head()).toEqual({ position: 0 });
    expect(await store.readAll()).toEqual([]);
    expect(await store.readStream('dossier-A')).toEqual([]);
  });

  it('numbers each stream from 1 and the global log 1, 2, 3… without gaps', async () => {
    await expectNumbering(store, event);
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
      await expectDuplicateAnswer(store, event);
    });

    it('treats the same (source, id) twice in one call as one event', async () => {
      await expectOneEventPerKey(store, event);
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
}

/** Appends an event with every attribute to an empty `store` and checks that every read gives it back. */
export async function expectRoundTrip(
  store: EventStore,
  event: (overrides?: Partial<EventToAppend>) => EventToAppend,
): Promise<void> {
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
}

/** Appends an event without optional attributes and null data; checks they stay absent and null. */
export async function expectAbsentOptionals(store: EventStore): Promise<void> {
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
}

/** Appends to three streams of an empty `store`; checks stream versions and gap-free positions. */
export async function expectNumbering(
  store: EventStore,
  event: (overrides?: Partial<EventToAppend>) => EventToAppend,
): Promise<void> {
  await store.append([event({ stream: 'A' }), event({ stream: 'B' }), event({ stream: 'A' })]);
  await store.append([event({ stream: 'B' })]);
  await store.append([event({ stream: 'C' }), event({ stream: 'A' })]);

  const all = await readWholeLog(store);
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
  expect((await store.readStream('A', { fromVersion: 2, limit: 1 })).map((e) => e.streamVersion)).toEqual([
    2,
  ]);
  expect(await store.readStream('A', { limit: 0 })).toEqual([]);
  expect(await store.streamVersion('B')).toBe(2);
  expect(await store.head()).toMatchObject({ position: 6 });
}

/** Appends an event again in a later call; checks the stored result comes back, marked duplicate. */
export async function expectDuplicateAnswer(
  store: EventStore,
  event: (overrides?: Partial<EventToAppend>) => EventToAppend,
): Promise<void> {
  const first = event({ stream: 'A', expectedVersion: NO_STREAM });
  const [original] = await store.append([first]);
  await store.append([event({ stream: 'A' })]);
  const [again] = await store.append([{ ...first, expectedVersion: NO_STREAM, data: { other: 1 } }]);
  expect(again).toEqual({ ...original, duplicate: true });
  expect(await store.head()).toMatchObject({ position: 2 });
  expect((await store.readStream('A'))[0]?.data).toEqual(first.data);
}

/** Appends one (source, id) twice in one call; checks it is stored once. */
export async function expectOneEventPerKey(
  store: EventStore,
  event: (overrides?: Partial<EventToAppend>) => EventToAppend,
): Promise<void> {
  const e = event({ stream: 'A' });
  const results = await store.append([e, event({ stream: 'A' }), { ...e, data: { changed: true } }]);
  expect(results.map((r) => [r.position, r.streamVersion, r.duplicate])).toEqual([
    [1, 1, false],
    [2, 2, false],
    [1, 1, true],
  ]);
  expect((await readWholeLog(store)).map((s) => s.data)).not.toContainEqual({ changed: true });
}
