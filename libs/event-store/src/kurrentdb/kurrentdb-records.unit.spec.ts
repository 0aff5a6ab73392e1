import { DomainError } from '#lgsp/contracts';
import {
  ANY,
  ErrorType,
  NO_STREAM as KURRENT_NO_STREAM,
  StreamNotFoundError,
  UnavailableError,
  type AppendStreamRequest,
} from '@kurrent/kurrentdb-client';
import { StoreUnavailableError } from '../errors.js';
import { verifyChain } from '../chain.js';
import { GENESIS_HASH } from '../hash.js';
import { NO_STREAM, type EventToAppend, type StoredEvent } from '../port.js';
import {
  EMPTY_LOG,
  INDEX_EVENT_TYPE,
  KurrentStreamNames,
  appendRequests,
  commandErrorType,
  eventUuid,
  headOf,
  matchesFilters,
  planAppend,
  prepareEvents,
  revisionToVersion,
  streamStateAt,
  toIndexEntry,
  toStoreError,
  toStoredEvent,
  uuidV5,
  versionOfState,
  versionToRevision,
  type AppendPlan,
  type IndexEntry,
  type LogHead,
  type PlanContext,
  type RecordedLike,
} from './kurrentdb-records.js';
import { statusChange } from '../contract/context.js';

const NOW = '2026-01-01T00:00:00.000Z';
const names = new KurrentStreamNames('ns-');

let seq = 0;
function event(overrides: Partial<EventToAppend> = {}): EventToAppend {
  seq += 1;
  return statusChange(seq, { stream: 'dossier-A', data: { status: 2, dossierCode: 'A' }, ...overrides });
}

function context(overrides: Partial<PlanContext> & { versions?: Record<string, number> } = {}): PlanContext {
  const versions = overrides.versions ?? {};
  return {
    head: EMPTY_LOG,
    versionOf: (s) => versions[s] ?? 0,
    storedOf: () => undefined,
    now: NOW,
    ...overrides,
  };
}

function planned(events: EventToAppend[], ctx = context()): Extract<AppendPlan, { ok: true }> {
  const plan = planAppend(prepareEvents(events), ctx);
  if (!plan.ok) throw new Error(`unexpected conflicts ${JSON.stringify(plan.conflicts)}`);
  return plan;
}

/** What a reader gets back for a request's events: the client sends JSON and parses it on read. */
function readBack(request: AppendStreamRequest, firstRevision: bigint): RecordedLike[] {
  return request.events.map((e, i) => ({
    revision: firstRevision + BigInt(i),
    type: e.type,
    data: JSON.parse(JSON.stringify(e.data)),
    metadata: JSON.parse(JSON.stringify(e.metadata)),
  }));
}

function request(requests: AppendStreamRequest[], streamName: string): AppendStreamRequest {
  const found = requests.find((r) => r.streamName === streamName);
  if (!found) throw new Error(`no request for ${streamName}`);
  return found;
}

describe('event UUIDs', () => {
  it('implement UUID v5 (RFC 9562 test vector)', () => {
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('derive one stable version-5 UUID per (source, id)', () => {
    const a = eventUuid('/communes/21040', 'evt-1');
    expect(a).toBe(eventUuid('/communes/21040', 'evt-1'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(eventUuid('/communes/21041', 'evt-1')).not.toBe(a);
    expect(eventUuid('/communes/21040', 'evt-2')).not.toBe(a);
  });

  it('keep the pair unambiguous where a separator would not', () => {
    expect(eventUuid('a/b', 'c')).not.toBe(eventUuid('a', 'b/c'));
    expect(eventUuid('a,"b"', 'c')).not.toBe(eventUuid('a', 'b","c'));
  });

  it('reject a namespace that is not a UUID', () => {
    expect(() => uuidV5('not-a-uuid', 'x')).toThrow(RangeError);
  });
});

describe('versions and revisions', () => {
  it('maps version n to revision n - 1 and back', () => {
    expect(versionToRevision(1)).toBe(0n);
    expect(versionToRevision(42)).toBe(41n);
    expect(revisionToVersion(0n)).toBe(1);
    expect(revisionToVersion(versionToRevision(9_007_199_254_740_991))).toBe(9_007_199_254_740_991);
    expect(() => versionToRevision(0)).toThrow(RangeError);
  });

  it('asserts NO_STREAM for version 0 and the last revision otherwise', () => {
    expect(streamStateAt(0)).toBe(KURRENT_NO_STREAM);
    expect(streamStateAt(1)).toBe(0n);
    expect(streamStateAt(7)).toBe(6n);
  });

  it('reads a current stream state as a version; a deleted stream has none', () => {
    expect(versionOfState(KURRENT_NO_STREAM)).toBe(0);
    expect(versionOfState(4n)).toBe(5);
    expect(versionOfState(-5n)).toBeUndefined();
  });
});

describe('stream names', () => {
  it('keeps port streams under their own name in the namespace and reserves the hub streams', () => {
    expect(new KurrentStreamNames('').stream('dossier-X')).toBe('dossier-X');
    expect(names.stream('dossier-X')).toBe('ns-dossier-X');
    expect(names.log).toBe('ns-lgsp-$log');
    expect(names.index('u')).toBe('ns-lgsp-$id-u');
    expect(names.checkpoint('relay')).toBe('ns-lgsp-$checkpoint-relay');
  });

  it('refuses system and reserved stream names', () => {
    for (const stream of ['$all', 'lgsp-$log']) {
      expect(() => prepareEvents([event({ stream })])).toThrow(DomainError);
    }
  });
});

describe('prepareEvents', () => {
  it('lists every bad field as SQLite does', () => {
    let error: unknown;
    try {
      prepareEvents([event({ stream: '' }), event({ expectedVersion: -1, subject: 3 as unknown as string })]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).issues.map((i) => i.pointer)).toEqual([
      '/0/stream',
      '/1/expectedversion',
      '/1/subject',
    ]);
  });
});

describe('planAppend', () => {
  it('gives a first call positions and versions from 1, chained from the genesis hash', () => {
    const plan = planned([event({ stream: 'A' }), event({ stream: 'B' }), event({ stream: 'A' })]);
    expect(plan.results.map((r) => [r.stream, r.streamVersion, r.position, r.duplicate])).toEqual([
      ['A', 1, 1, false],
      ['B', 1, 2, false],
      ['A', 2, 3, false],
    ]);
    expect(plan.records[0]?.prevHash).toBe(GENESIS_HASH);
    expect(plan.records[1]?.prevHash).toBe(plan.records[0]?.hash);
    expect(plan.head).toEqual({ position: 3, hash: plan.records[2]?.hash, recordedAt: NOW });
    expect([...plan.versionsBefore]).toEqual([
      ['A', 0],
      ['B', 0],
    ]);
    expect([...plan.versionsAfter]).toEqual([
      ['A', 2],
      ['B', 1],
    ]);
  });

  it('continues from the tail and never records a time before it', () => {
    const head: LogHead = { position: 10, hash: 'f'.repeat(64), recordedAt: '2026-06-01T00:00:00.000Z' };
    const plan = planned([event({ stream: 'A', expectedVersion: 4 })], context({ head, versions: { A: 4 } }));
    expect(plan.results[0]).toMatchObject({ streamVersion: 5, position: 11 });
    expect(plan.records[0]).toMatchObject({ prevHash: head.hash, recordedAt: head.recordedAt });
  });

  it('reports every conflict with the versions the call would have made, and plans nothing', () => {
    const plan = planAppend(
      prepareEvents([
        event({ stream: 'C', expectedVersion: NO_STREAM }),
        event({ stream: 'A', expectedVersion: 1 }),
        event({ stream: 'B', expectedVersion: NO_STREAM }),
        event({ stream: 'C', expectedVersion: 2 }),
      ]),
      context({ versions: { A: 2, B: 1 } }),
    );
    expect(plan).toEqual({
      ok: false,
      conflicts: [
        { index: 1, stream: 'A', expected: 1, actual: 2 },
        { index: 2, stream: 'B', expected: 0, actual: 1 },
        { index: 3, stream: 'C', expected: 2, actual: 1 },
      ],
    });
  });

  it('returns a stored (source, id) as a duplicate without checking its expected version', () => {
    const stale = event({ stream: 'A', expectedVersion: NO_STREAM });
    const entry: IndexEntry = { stream: 'A', streamVersion: 1, position: 1 };
    const plan = planned(
      [stale, event({ stream: 'A', expectedVersion: 3 })],
      context({
        head: { position: 3, hash: 'a'.repeat(64), recordedAt: NOW },
        versions: { A: 3 },
        storedOf: (uuid) => (uuid === eventUuid(stale.source, stale.id) ? entry : undefined),
      }),
    );
    expect(plan.results).toEqual([
      { id: stale.id, source: stale.source, stream: 'A', streamVersion: 1, position: 1, duplicate: true },
      expect.objectContaining({ stream: 'A', streamVersion: 4, position: 4, duplicate: false }),
    ]);
    expect(plan.records).toHaveLength(1);
  });

  it('treats the same (source, id) twice in one call as one event', () => {
    const e = event();
    const plan = planned([e, event(), { ...e, data: { changed: true } }]);
    expect(plan.results.map((r) => [r.position, r.duplicate])).toEqual([
      [1, false],
      [2, false],
      [1, true],
    ]);
    expect(plan.records).toHaveLength(2);
  });

  it('plans no write when every event is stored already', () => {
    const e = event();
    const entry: IndexEntry = { stream: 'dossier-A', streamVersion: 1, position: 1 };
    const head: LogHead = { position: 1, hash: 'b'.repeat(64), recordedAt: NOW };
    const plan = planned([e], context({ head, storedOf: () => entry }));
    expect(plan.records).toEqual([]);
    expect(plan.head).toBe(head);
  });
});

describe('appendRequests', () => {
  it('asserts each stream, the sequence stream and a new index stream per event, in one request', () => {
    const head: LogHead = { position: 5, hash: 'c'.repeat(64), recordedAt: NOW };
    const events = [event({ stream: 'A' }), event({ stream: 'B' }), event({ stream: 'A' })];
    const plan = planned(events, context({ head, versions: { A: 3, B: 0 } }));
    const requests = appendRequests(plan, head, names);
    expect(requests.map((r) => [r.streamName, r.expectedState, r.events.length])).toEqual([
      ['ns-A', 2n, 2],
      ['ns-B', KURRENT_NO_STREAM, 1],
      ['ns-lgsp-$log', 4n, 3],
      ...events.map((e) => [names.index(eventUuid(e.source, e.id)), KURRENT_NO_STREAM, 1]),
    ]);
    expect(requests.every((r) => r.expectedState !== ANY)).toBe(true);
    const [index] = request(requests, names.index(eventUuid(events[1]!.source, events[1]!.id))).events;
    expect(index?.type).toBe(INDEX_EVENT_TYPE);
    expect(toIndexEntry(index?.data)).toEqual({ stream: 'B', streamVersion: 1, position: 7 });
  });

  it('writes the first event of an empty store against NO_STREAM on the sequence stream', () => {
    const requests = appendRequests(planned([event()]), EMPTY_LOG, names);
    expect(request(requests, names.log).expectedState).toBe(KURRENT_NO_STREAM);
  });

  it('uses the (source, id) UUID as the KurrentDB event id and flat string metadata', () => {
    const e = event();
    const requests = appendRequests(planned([e]), EMPTY_LOG, names);
    const [copy] = request(requests, names.log).events;
    expect(copy?.id).toBe(eventUuid(e.source, e.id));
    expect(copy?.contentType).toBe('application/json');
    expect(Object.values(copy?.metadata as object).every((v) => typeof v === 'string')).toBe(true);
  });
});

describe('reading records back', () => {
  const input = (): EventToAppend[] => [
    event({
      stream: 'A',
      time: '2025-07-01T08:00:00+07:00',
      subject: 'dossier/A',
      datacontenttype: 'application/json',
      dataschema: 'https://lgsp.example/schemas/v1.json',
      data: { b: [1, { d: 'Thủ tục', c: null }], a: 'Nguyễn' },
      extensions: { traceparent: '00-abc-def-01', priority: 3, urgent: true },
    }),
    event({ stream: 'B', data: null, provinceCode: undefined, communeCode: undefined }),
    event({ stream: 'A', data: 'plain text', extensions: {} }),
  ];

  function readLog(events = input()): StoredEvent[] {
    const requests = appendRequests(planned(events), EMPTY_LOG, names);
    return readBack(request(requests, names.log), 0n).map((r) => toStoredEvent(r, 'log'));
  }

  it('round-trips every attribute, leaves absent ones absent, and keeps null data', () => {
    const events = input();
    const [first, second, third] = readLog(events);
    const { expectedVersion: _v, ...a } = events[0] as EventToAppend;
    expect(first).toEqual({
      ...a,
      position: 1,
      streamVersion: 1,
      recordedAt: NOW,
      hash: expect.any(String),
      prevHash: GENESIS_HASH,
    });
    expect(second?.data).toBeNull();
    expect(second?.id).toBe(events[1]?.id);
    expect(second).not.toHaveProperty('provinceCode');
    expect(second).not.toHaveProperty('time');
    expect(third).toMatchObject({ data: 'plain text', stream: 'A', streamVersion: 2, position: 3 });
  });

  it('gives records that verifyChain accepts, and the tail to chain the next append to', () => {
    const log = readLog();
    expect(verifyChain(log)).toEqual({ ok: true });
    const last = log[2] as StoredEvent;
    const next = planned([event({ stream: 'C' })], context({ head: headOf(last) }));
    const requests = appendRequests(next, headOf(last), names);
    const more = readBack(request(requests, names.log), 3n).map((r) => toStoredEvent(r, 'log'));
    expect(verifyChain([...log, ...more])).toEqual({ ok: true });
  });

  it('reads the stream copy with the version from its revision', () => {
    const requests = appendRequests(planned(input()), EMPTY_LOG, names);
    const stream = readBack(request(requests, 'ns-A'), 0n).map((r) => toStoredEvent(r, 'stream'));
    expect(stream.map((e) => [e.streamVersion, e.position])).toEqual([
      [1, 1],
      [2, 3],
    ]);
  });

  it('refuses a copy whose revision disagrees with its metadata', () => {
    const requests = appendRequests(planned(input()), EMPTY_LOG, names);
    const [first] = readBack(request(requests, names.log), 0n);
    expect(() => toStoredEvent({ ...(first as RecordedLike), revision: 7n }, 'log')).toThrow(
      StoreUnavailableError,
    );
    expect(() => toStoredEvent({ ...(first as RecordedLike), metadata: undefined }, 'log')).toThrow(
      StoreUnavailableError,
    );
  });

  it('accepts data and metadata the client returned as bytes', () => {
    const requests = appendRequests(planned(input()), EMPTY_LOG, names);
    const [first] = readBack(request(requests, names.log), 0n);
    const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    const asBytes = {
      ...(first as RecordedLike),
      data: bytes(first?.data),
      metadata: bytes(first?.metadata),
    };
    expect(toStoredEvent(asBytes, 'log')).toEqual(toStoredEvent(first as RecordedLike, 'log'));
  });
});

describe('matchesFilters', () => {
  const stored = { type: 't1', provinceCode: '51', communeCode: '21040' } as StoredEvent;

  it('matches everything without filters and nothing for an empty list', () => {
    expect(matchesFilters(stored, {})).toBe(true);
    expect(matchesFilters(stored, { types: [] })).toBe(false);
  });

  it('requires every given filter', () => {
    expect(matchesFilters(stored, { types: ['t1'], provinceCodes: ['51'], communeCodes: ['21040'] })).toBe(
      true,
    );
    expect(matchesFilters(stored, { types: ['t1'], provinceCodes: ['01'] })).toBe(false);
    expect(matchesFilters({ type: 't1' } as StoredEvent, { communeCodes: ['21040'] })).toBe(false);
  });
});

describe('toStoreError', () => {
  it('maps an unreachable server to StoreUnavailableError, keeping the cause', () => {
    const cause = new UnavailableError();
    const error = toStoreError(cause, 'cannot read');
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error.retriable).toBe(true);
    expect(error.cause).toBe(cause);
  });

  it('names size limits and servers without multi-stream append, which retrying cannot fix', () => {
    const tooLarge = toStoreError({ type: ErrorType.TRANSACTION_MAX_SIZE_EXCEEDED, message: 'x' }, 'append');
    expect([tooLarge.code, tooLarge.retriable]).toEqual(['too-large', false]);
    const old = toStoreError({ type: ErrorType.UNSUPPORTED, message: 'x' }, 'append');
    expect([old.code, old.retriable, old.message]).toEqual([
      'unavailable',
      false,
      expect.stringMatching(/25\.1/),
    ]);
  });

  it('passes domain errors through and recognises client error types', () => {
    const domain = new DomainError('invalid', 'bad');
    expect(toStoreError(domain, 'x')).toBe(domain);
    expect(commandErrorType(new StreamNotFoundError())).toBe(ErrorType.STREAM_NOT_FOUND);
    expect(commandErrorType(new Error('plain'))).toBeUndefined();
  });
});
