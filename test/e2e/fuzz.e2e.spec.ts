import fc from 'fast-check';
import { startHubProcess, type HubProcess } from '../support/hub-process.js';
import { rawRequest, type RawRequest, type RawResponse } from '../support/raw-http.js';

/**
 * Property-based fuzzing of a hub started as a process (`node dist/apps/hub/src/main.js`), over real
 * sockets: ingest in the three CloudEvents modes, reads, operator bodies, query strings and headers, with
 * hostile JSON (deep nesting, huge strings, lone surrogates, odd numbers, `__proto__`, repeated members),
 * repeated and raw-byte headers, and transport faults (a body shorter than its Content-Length, broken
 * chunking, a NUL in a header, an aborted request, bytes after a `Connection: close` request). Every case
 * asserts: no 5xx; every error is an RFC 9457 problem; a refused write leaves the head of the log where
 * it was. At the end the whole log after the run's start is read back: it holds exactly the acknowledged
 * events, each equal to what was sent (NFC). Cases name credentials, so a counterexample shows no token.
 *
 * `LGSP_FUZZ_SEED` replays a run, `LGSP_FUZZ_RUNS` changes its length (at least 3,000 in CI).
 */
const RUNS = Number(process.env['LGSP_FUZZ_RUNS'] ?? 3000);
const SEED = Number(process.env['LGSP_FUZZ_SEED'] ?? Date.now() % 2 ** 31);

const SOURCE = '/communes/21040/one-stop-shop';
const SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';
const STATUS_CHANGED = 'vn.gov.lgsp.dossier.status-changed.v1';

// ---------------------------------------------------------------------------------------------------
// Hostile JSON, built as text so that it can hold what JSON.stringify never writes.

const nested = (depth: number, open: string, close: string, inner = '0'): string =>
  open.repeat(depth) + inner + close.repeat(depth);

const hostileValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '1e400',
    '-1e400',
    '9007199254740993',
    '-9007199254740993',
    '123456789012345678901234567890',
    '1.5e300',
    '-0',
    '1e-400',
    '0.1',
    'true',
    'null',
    '""',
    '"\\ud800"',
    '"a\\udfff"',
    '"\\udbff\\u0041"',
    '"\\ud83d\\ude00 ok"',
    '{"__proto__":{"polluted":1}}',
    '{"\\u005f_proto__":1}',
    '{"constructor":{"prototype":{"polluted":1}}}',
    '{"a":1,"a":2}',
    '{"a":{"b":[{"c":1,"c":1}]}}',
    '{"\\ud800":1}',
  ),
  fc.constantFrom(10, 63, 64, 65, 300, 5000).map((d) => nested(d, '[', ']')),
  fc.constantFrom(10, 64, 65, 5000).map((d) => nested(d, '{"a":', '}')),
  fc.constantFrom(1024, 1025, 65_536, 65_537, 300_000).map((n) => JSON.stringify('x'.repeat(n))),
  fc
    .constantFrom(1000, 1001)
    .map((n) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`),
  fc.constantFrom(10_000, 10_001).map((n) => `[${new Array<string>(n).fill('0').join(',')}]`),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => JSON.stringify(s)),
);

/** Text a citizen might type: any Unicode, NFD included, but well-formed. */
const freeText = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 120 });
const hostileKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('"__proto__"', '"\\ud800"', '"constructor"', `"${'k'.repeat(70_000)}"`, '""'),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => JSON.stringify(s)),
);

type Member = readonly [string, string];
const objectText = (members: readonly Member[]): string =>
  `{${members.map(([k, v]) => `${k}:${v}`).join(',')}}`;
const q = (value: unknown): string => JSON.stringify(value);

/** One edit of a list of members: change a value, add a member, drop one, repeat one. */
const memberEdit = (known: readonly string[]): fc.Arbitrary<(members: Member[]) => Member[]> =>
  fc.oneof(
    fc.tuple(fc.constantFrom(...known), hostileValue).map(
      ([name, value]) =>
        (members: Member[]) =>
          members.map(([k, v]): Member => (k === q(name) ? [k, value] : [k, v])),
    ),
    fc
      .tuple(hostileKey, hostileValue)
      .map(([key, value]) => (members: Member[]): Member[] => [...members, [key, value]]),
    fc.constantFrom(...known).map((name) => (members: Member[]) => members.filter(([k]) => k !== q(name))),
    fc.constantFrom(...known).map((name) => (members: Member[]) => {
      const found = members.find(([k]) => k === q(name));
      return found ? [...members, found] : members;
    }),
  );

const dossierCodeArb = fc.uuid().map((u) => `000.00.51.H56-251123-${u.slice(0, 8).toUpperCase()}`);

interface EventParts {
  attributes: Record<string, string | number | boolean>;
  data: Member[];
}

const DATA_NAMES = [
  'dossierCode',
  'procedureCode',
  'agencyCode',
  'provinceCode',
  'communeCode',
  'channel',
  'applicant',
  'receivedAt',
  'summary',
  'procedureName',
  'fees',
  'status',
  'changedAt',
];

/** A catalogue event, valid unless edited: free text and extensions chosen at random. */
const eventParts: fc.Arbitrary<EventParts> = fc
  .record({
    id: fc.uuid(),
    code: dossierCodeArb,
    submitted: fc.boolean(),
    name: freeText,
    summary: fc.option(fc.string({ unit: 'grapheme-composite', maxLength: 300 }), { nil: undefined }),
    subject: fc.option(freeText, { nil: undefined }),
    extensions: fc.dictionary(
      fc
        .stringMatching(/^[a-z][a-z0-9]{0,9}$/)
        .filter(
          (n) =>
            ![
              'id',
              'source',
              'type',
              'time',
              'subject',
              'data',
              'specversion',
              'dataschema',
              'expectedversion',
            ].includes(n),
        ),
      fc.oneof(freeText, fc.integer({ min: -2147483648, max: 2147483647 }), fc.boolean()),
      { maxKeys: 3 },
    ),
  })
  .map(({ id, code, submitted, name, summary, subject, extensions }) => {
    const attributes: EventParts['attributes'] = {
      specversion: '1.0',
      id,
      source: SOURCE,
      type: submitted ? SUBMITTED : STATUS_CHANGED,
      time: '2025-11-23T09:15:00+07:00',
      ...(subject === undefined ? {} : { subject }),
      ...extensions,
    };
    const place: Member[] = [
      [q('dossierCode'), q(code)],
      [q('provinceCode'), q('51')],
      [q('communeCode'), q('21040')],
    ];
    const data: Member[] = submitted
      ? [
          ...place,
          [q('procedureCode'), q('1.001193')],
          [q('agencyCode'), q('000.00.51.H56')],
          [q('channel'), q('online')],
          [
            q('applicant'),
            objectText([
              [q('fullName'), q(name)],
              [q('idNumber'), q('051190001234')],
            ]),
          ],
          [q('receivedAt'), q('2025-11-23T09:15:00+07:00')],
          [
            q('fees'),
            `[${objectText([
              [q('name'), q('Lệ phí')],
              [q('amount'), '50000'],
            ])}]`,
          ],
          ...(summary === undefined ? [] : [[q('summary'), q(summary)] as Member]),
        ]
      : [...place, [q('status'), '2'], [q('changedAt'), q('2025-11-23T10:00:00+07:00')]];
    return { attributes, data };
  });

/** An event as structured-mode JSON text, edited (or not) in its attributes and its data. */
const structuredEvent: fc.Arbitrary<string> = fc
  .tuple(
    eventParts,
    fc.array(memberEdit(['id', 'source', 'type', 'time', 'specversion', 'subject', 'expectedversion']), {
      maxLength: 2,
    }),
    fc.array(memberEdit(DATA_NAMES), { maxLength: 2 }),
    fc.nat(9),
  )
  .map(([parts, attributeEdits, dataEdits, dice]) => {
    // Most events stay valid, so that the read-back check has plenty to compare.
    const edit = dice >= 5;
    let attributes: Member[] = Object.entries(parts.attributes).map(([k, v]) => [q(k), q(v)]);
    let data = parts.data;
    if (edit) for (const e of attributeEdits) attributes = e(attributes);
    if (edit) for (const e of dataEdits) data = e(data);
    return objectText([...attributes, [q('data'), objectText(data)]]);
  });

// ---------------------------------------------------------------------------------------------------
// Requests

/** What a case sends, and what the checks need to know about it. */
interface Case {
  kind: 'structured' | 'batch' | 'binary' | 'read' | 'admin' | 'transport';
  request: RawRequest;
  /** It could append to the log or change the hub's state. */
  write: boolean;
  /** No answer is expected (the request was aborted). */
  noAnswer?: boolean;
}

type Headers = [string, string | Buffer][];
/** Cases name the credential they send; the property puts the real token in (see `withTokens`). */
const CREDENTIAL = { commune: '<commune token>', admin: '<admin token>' } as const;

const authorization = fc.oneof(
  { weight: 14, arbitrary: fc.constant<'commune'>('commune') },
  { weight: 1, arbitrary: fc.constantFrom<'none' | 'bad'>('none', 'bad') },
);
const authHeader = (who: 'commune' | 'admin' | 'none' | 'bad'): Headers =>
  who === 'none'
    ? []
    : [['authorization', who === 'bad' ? 'Bearer lgsp_0912345678' : `Bearer ${CREDENTIAL[who]}`]];

/** Occasionally repeats one of the request's headers, or adds an odd one. */
const headerEdit: fc.Arbitrary<(headers: Headers) => Headers> = fc.oneof(
  { weight: 6, arbitrary: fc.constant((h: Headers) => h) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('content-type', 'authorization', 'ce-id', 'ce-source', 'last-event-id')
      .map((name) => (h: Headers): Headers => {
        const found = h.find(([n]) => n === name);
        return found ? [...h, [name.toUpperCase(), found[1]]] : [...h, [name, 'x'], [name, 'y']];
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('ce-subject', 'x-trace', 'accept', 'ce-myext'),
        fc.string({ unit: 'binary', maxLength: 12 }),
      )
      .map(([name, value]) => (h: Headers): Headers => [...h, [name, Buffer.from(value, 'utf8')]]),
  },
);

// Printable ASCII but for the double quote and the percent sign (CloudEvents HTTP binding 3.1.3.2).
const PRINTABLE = /[^\x21\x23\x24\x26-\x7e]/gu;
/** A binary-mode header value per the CloudEvents HTTP binding: UTF-8, percent-encoded outside printable ASCII. */
const percentEncode = (value: string): string =>
  value.replace(PRINTABLE, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );

const structuredCase: fc.Arbitrary<Case> = fc
  .tuple(
    structuredEvent,
    authorization,
    fc.oneof(
      {
        weight: 14,
        arbitrary: fc.constantFrom(
          'application/cloudevents+json',
          'application/cloudevents+json; charset=utf-8',
        ),
      },
      { weight: 1, arbitrary: fc.constantFrom('application/cloudevents+json; charset=latin1', 'text/plain') },
    ),
    headerEdit,
  )
  .map(([body, who, contentType, edit]) => ({
    kind: 'structured',
    write: true,
    request: {
      method: 'POST',
      target: '/v1/events',
      headers: edit([['content-type', contentType], ...authHeader(who)]),
      body,
    },
  }));

const batchCase: fc.Arbitrary<Case> = fc
  .tuple(fc.array(structuredEvent, { minLength: 0, maxLength: 4 }), authorization, headerEdit)
  .map(([events, who, edit]) => ({
    kind: 'batch',
    write: true,
    request: {
      method: 'POST',
      target: '/v1/events',
      headers: edit([['content-type', 'application/cloudevents-batch+json'], ...authHeader(who)]),
      body: `[${events.join(',')}]`,
    },
  }));

const binaryCase: fc.Arbitrary<Case> = fc
  .tuple(
    eventParts,
    fc.array(memberEdit(DATA_NAMES), { maxLength: 2 }),
    fc.nat(9),
    authorization,
    headerEdit,
    fc.option(hostileValue, { nil: undefined }),
  )
  .map(([parts, dataEdits, dice, who, edit, replacement]) => {
    let data = parts.data;
    if (dice >= 6) for (const e of dataEdits) data = e(data);
    const headers: Headers = Object.entries(parts.attributes).map(([name, value]) => [
      `ce-${name}`,
      percentEncode(String(value)),
    ]);
    const body = dice === 9 && replacement !== undefined ? replacement : objectText(data);
    return {
      kind: 'binary',
      write: true,
      request: {
        method: 'POST',
        target: '/v1/events',
        headers: edit([['content-type', 'application/json'], ...headers, ...authHeader(who)]),
        body,
      },
    } satisfies Case;
  });

const segment = fc.oneof(
  dossierCodeArb.map((c) => `dossier-${c}`),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map(encodeURIComponent),
  fc.constantFrom('%ED%A0%80', '%zz', '..', 'x'.repeat(600), '%00', 'Nguy%E1%BB%85n'),
);
const queryValue = fc.oneof(
  fc.nat().map(String),
  fc.constantFrom('-1', '1e400', '9007199254740993', '', '%zz', SUBMITTED, '51,79', '0912345678'),
  fc.string({ unit: 'grapheme', maxLength: 20 }).map(encodeURIComponent),
);
const query = fc
  .array(
    fc.tuple(
      fc.constantFrom('after', 'limit', 'from', 'type', 'province', 'target', 'token', 'access_token', 'x'),
      queryValue,
    ),
    { maxLength: 4 },
  )
  .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`));

const readCase: fc.Arbitrary<Case> = fc
  .tuple(
    fc.constantFrom(
      '/v1/streams/',
      '/v1/dossiers/',
      '/v1/events',
      '/v1/admin/parked',
      '/v1/admin/replays/',
      '/v1/admin/reconciliations/',
      '/v1/admin/audit',
      '/v1/nope/',
      '/health/ready',
    ),
    segment,
    query,
    fc.constantFrom<'GET' | 'DELETE' | 'PUT' | 'HEAD'>('GET', 'GET', 'GET', 'DELETE', 'PUT', 'HEAD'),
    fc.constantFrom<'commune' | 'admin' | 'none' | 'bad'>('commune', 'admin', 'none', 'bad'),
    headerEdit,
  )
  .map(([path, seg, qs, method, who, edit]) => ({
    kind: 'read',
    write: method !== 'GET' && method !== 'HEAD',
    request: {
      method,
      target: `${path}${path.endsWith('/') ? seg : ''}${qs}`,
      headers: edit(authHeader(who)),
    },
  }));

const adminCase: fc.Arbitrary<Case> = fc
  .tuple(
    fc.constantFrom(
      '/v1/admin/clients',
      '/v1/admin/replays/plan',
      '/v1/admin/replays',
      '/v1/admin/reconciliations',
      '/v1/admin/parked/portal/x/retry',
      '/v1/admin/replays/1/pause',
      '/v1/callbacks/payments',
    ),
    fc.oneof(
      hostileValue,
      fc
        .tuple(
          fc.array(
            memberEdit(['name', 'communes', 'province', 'role', 'sources', 'target', 'scope', 'note']),
            { maxLength: 3 },
          ),
          freeText,
        )
        .map(([edits, name]) => {
          let members: Member[] = [
            [q('name'), q(name)],
            [q('communes'), q(['21040'])],
            [q('target'), q('portal')],
            [q('scope'), q({ dossiers: ['A-1'] })],
          ];
          for (const e of edits) members = e(members);
          return objectText(members);
        }),
    ),
    fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/merge-patch+json',
      'text/plain',
    ),
    fc.constantFrom<'commune' | 'admin' | 'none' | 'bad'>('admin', 'admin', 'admin', 'commune', 'none'),
    headerEdit,
  )
  .map(([target, body, contentType, who, edit]) => ({
    kind: 'admin',
    write: true,
    request: {
      method: 'POST',
      target,
      headers: edit([['content-type', contentType], ...authHeader(who)]),
      body,
    },
  }));

const EVENT = JSON.stringify({ specversion: '1.0', id: 'x', source: SOURCE, type: SUBMITTED, data: {} });
const transportCase: fc.Arbitrary<Case> = fc
  .tuple(
    fc.constantFrom(
      'truncated',
      'chunked',
      'nul',
      'version',
      'header-bytes',
      'header-size',
      'aborted',
      'no-length',
      'trailing',
      'expect',
      'no-host',
    ),
    fc.integer({ min: 1, max: 5000 }),
    fc.constantFrom('/v1/events', '/v1/admin/clients'),
    structuredEvent,
  )
  .map(([fault, n, target, event]): Case => {
    const headers: Headers = [
      ['content-type', target === '/v1/events' ? 'application/cloudevents+json' : 'application/json'],
      ...authHeader(target === '/v1/events' ? 'commune' : 'admin'),
    ];
    const base = { method: 'POST', target, headers };
    switch (fault) {
      case 'truncated':
        return {
          kind: 'transport',
          write: true,
          request: {
            ...base,
            body: EVENT.slice(0, EVENT.length - 1 - (n % 20)),
            contentLength: EVENT.length + n,
          },
        };
      case 'chunked':
        return {
          kind: 'transport',
          write: true,
          request: {
            ...base,
            headers: [...headers, ['transfer-encoding', 'chunked']],
            contentLength: null,
            body: `${n % 2 === 0 ? 'zz' : '5'}\r\n${EVENT}\r\n0\r\n\r\n`,
          },
        };
      case 'nul':
        return {
          kind: 'transport',
          write: true,
          request: { ...base, headers: [...headers, ['x-a', `a\u0000b`]], body: EVENT },
        };
      case 'version':
        return {
          kind: 'transport',
          write: false,
          request: { ...base, head: `GET /v1/events HTTP/${n % 10}.${n % 7}\r\nhost: hub\r\n\r\n` },
        };
      case 'header-bytes':
        return {
          kind: 'transport',
          write: true,
          request: { ...base, headers: [...headers, [`x-\u00e9\u0000${n}`, 'v']], body: EVENT },
        };
      case 'header-size':
        return {
          kind: 'transport',
          write: false,
          request: {
            method: 'GET',
            target: '/v1/events',
            headers: [...authHeader('admin'), ['x-big', 'b'.repeat(16_000 + n)]],
          },
        };
      case 'aborted':
        return {
          kind: 'transport',
          write: true,
          noAnswer: true,
          request: {
            ...base,
            body: EVENT.slice(0, n % EVENT.length),
            contentLength: EVENT.length,
            abort: true,
          },
        };
      case 'trailing':
        // A complete request that says Connection: close, then more bytes: the request is answered.
        return {
          kind: 'structured',
          write: true,
          request: {
            method: 'POST',
            target: '/v1/events',
            headers: [['content-type', 'application/cloudevents+json'], ...authHeader('commune')],
            body: event,
            trailing: `GET / HTTP/1.1\r\n${n}\r\n\r\n`,
          },
        };
      case 'expect':
        return {
          kind: 'transport',
          write: true,
          request: { ...base, headers: [...headers, ['expect', `${n}-continue`]], body: EVENT },
        };
      case 'no-host':
        return {
          kind: 'transport',
          write: false,
          request: { ...base, head: `GET /v1/events HTTP/1.1\r\nconnection: close\r\n\r\n` },
        };
      case 'no-length':
        return { kind: 'transport', write: true, request: { ...base, contentLength: null, body: EVENT } };
    }
  });

const hostileRequest: fc.Arbitrary<Case> = fc.oneof(
  { weight: 30, arbitrary: structuredCase },
  { weight: 10, arbitrary: batchCase },
  { weight: 15, arbitrary: binaryCase },
  { weight: 15, arbitrary: readCase },
  { weight: 15, arbitrary: adminCase },
  { weight: 8, arbitrary: transportCase },
);

// ---------------------------------------------------------------------------------------------------
// Checks

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** NFC of every string and member name, as the hub normalises what it accepts. */
function nfc(value: Json): Json {
  if (typeof value === 'string') return value.normalize('NFC');
  if (Array.isArray(value)) return value.map(nfc);
  if (value === null || typeof value !== 'object') return value;
  const out: { [key: string]: Json } = {};
  for (const [k, v] of Object.entries(value)) out[k.normalize('NFC')] = nfc(v);
  return out;
}

/** JSON with sorted member names: equal texts mean equal JSON values. */
function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k] as Json)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The events a 2xx ingest acknowledged, as the hub must give them back. */
function sentEvents(c: Case): Json[] {
  const { request } = c;
  const body = String(request.body);
  let events: { [key: string]: Json }[];
  if (c.kind === 'binary') {
    const event: { [key: string]: Json } = {};
    for (const [name, value] of request.headers ?? []) {
      if (name.startsWith('ce-')) event[name.slice(3)] = decodeURIComponent(String(value));
      if (name === 'content-type') event['datacontenttype'] = String(value);
    }
    event['data'] = JSON.parse(body) as Json;
    events = [event];
  } else {
    const parsed = JSON.parse(body) as Json;
    events = (Array.isArray(parsed) ? parsed : [parsed]) as { [key: string]: Json }[];
  }
  return events.map((e) => {
    const { expectedversion: _, ...stored } = e;
    return nfc(stored);
  });
}

function expectProblem(res: RawResponse, c: Case): void {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  if (c.request.method === 'HEAD') return;
  const problem = JSON.parse(res.body) as Record<string, unknown>;
  expect(problem).toEqual(
    expect.objectContaining({
      type: expect.any(String),
      title: expect.any(String),
      status: res.status,
      detail: expect.any(String),
      errors: expect.any(Array),
    }),
  );
  for (const issue of problem['errors'] as unknown[]) {
    expect(issue).toEqual({ pointer: expect.any(String), message: expect.any(String) });
  }
}

describe('hostile input, property-based (fast-check) against a hub process', () => {
  let hub: HubProcess;
  const token = { commune: '', admin: '' };
  let startHead = 0;
  let expectedHead = 0;
  /** Acknowledged events by position, as they must read back. */
  const acknowledged = new Map<number, string>();
  const statuses = new Map<string, number>();

  /** The case's request with the credentials it names replaced by the tokens of this run. */
  const withTokens = (request: RawRequest): RawRequest => ({
    ...request,
    headers: request.headers?.map(([name, value]) => [
      name,
      typeof value === 'string'
        ? value.replace(CREDENTIAL.commune, token.commune).replace(CREDENTIAL.admin, token.admin)
        : value,
    ]),
  });

  const head = async (): Promise<number> => {
    const res = await fetch(`${hub.url}/v1/events?limit=1`, {
      headers: { authorization: `Bearer ${token.admin}` },
    });
    return ((await res.json()) as { head: number }).head;
  };

  beforeAll(async () => {
    hub = await startHubProcess();
    token.admin = hub.adminToken;
    const created = await fetch(`${hub.url}/v1/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'fuzz', communes: ['21040'] }),
    });
    expect(created.status).toBe(201);
    token.commune = ((await created.json()) as { token: string }).token;
    startHead = await head();
    expectedHead = startHead;
  });

  afterAll(async () => {
    await hub.stop();
  });

  it(`answers ${RUNS} hostile requests without a 5xx, with a problem for every error, appending only what it acknowledged`, async () => {
    process.stderr.write(`[fuzz] seed ${SEED}, ${RUNS} cases (replay: LGSP_FUZZ_SEED=${SEED})\n`);
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(hostileRequest, async (c) => {
        const res = await rawRequest(hub.url, withTokens(c.request));
        const key = `${c.kind} ${res?.status ?? 'closed'}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        if (c.noAnswer) expect(res).toBeUndefined();
        else {
          expect(res).toBeDefined();
          if (res === undefined) return;
          expect(res.status).toBeLessThan(500);
          if (res.status >= 400) expectProblem(res, c);
          const ingest = c.request.target === '/v1/events' && c.request.method === 'POST';
          if (ingest && res.status < 300) {
            const { results } = JSON.parse(res.body) as {
              results: { position: number; duplicate: boolean }[];
            };
            const sent = sentEvents(c);
            expect(results).toHaveLength(sent.length);
            results.forEach((r, i) => {
              if (r.duplicate) expect(acknowledged.has(r.position) || r.position <= startHead).toBe(true);
              else acknowledged.set(r.position, canonical(sent[i] as Json));
              expectedHead = Math.max(expectedHead, r.position);
            });
          }
        }
        if (c.write && (res === undefined || res.status >= 300 || c.request.target !== '/v1/events')) {
          expect(await head()).toBe(expectedHead);
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );

    // The log after the run's start holds exactly the acknowledged events, each as it was sent.
    const stored = new Map<number, string>();
    for (let after = startHead; ;) {
      const res = await fetch(`${hub.url}/v1/events?after=${after}&limit=1000`, {
        headers: { authorization: `Bearer ${token.admin}` },
      });
      const page = (await res.json()) as { events: { position: number; event: Json }[]; next: number };
      for (const e of page.events) stored.set(e.position, canonical(e.event));
      if (page.events.length < 1000) break;
      after = page.next;
    }
    expect([...stored.keys()].sort((a, b) => a - b)).toEqual([...acknowledged.keys()].sort((a, b) => a - b));
    for (const [position, event] of acknowledged) expect(stored.get(position)).toBe(event);

    const summary = [...statuses.entries()]
      .sort()
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ');
    process.stderr.write(
      `[fuzz] seed ${SEED}: ${RUNS} cases in ${((Date.now() - started) / 1000).toFixed(1)} s, ` +
        `${acknowledged.size} events appended and read back equal; ${summary}\n`,
    );
    // A run that accepted nothing, or refused nothing, would not have tested what it claims.
    expect(acknowledged.size).toBeGreaterThan(RUNS / 20);
    expect([...statuses.keys()].some((k) => / 4\d\d$/.test(k))).toBe(true);
  });
});
