import fc from 'fast-check';
import type { RawRequest } from '../../support/raw-http.js';
import {
  DATA_NAMES,
  dossierCodeArb,
  eventParts,
  freeText,
  hostileValue,
  memberEdit,
  objectText,
  q,
  SOURCE,
  structuredEvent,
  SUBMITTED,
  type Member,
} from './values.js';

/*
 * The fuzzing's hostile requests (fuzz.e2e.spec.ts): ingest in the three CloudEvents modes, reads,
 * operator bodies, query strings and headers, and transport faults, each a Case.
 */

/** What a case sends, and what the checks need to know about it. */
export interface Case {
  kind: 'structured' | 'batch' | 'binary' | 'read' | 'admin' | 'transport';
  request: RawRequest;
  /** It could append to the log or change the hub's state. */
  write: boolean;
  /** No answer is expected (the request was aborted). */
  noAnswer?: boolean;
}

type Headers = [string, string | Buffer][];
/** Cases name the credential they send; the property puts the real token in (see `withTokens`). */
export const CREDENTIAL = { commune: '<commune token>', admin: '<admin token>' } as const;

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

export const hostileRequest: fc.Arbitrary<Case> = fc.oneof(
  { weight: 30, arbitrary: structuredCase },
  { weight: 10, arbitrary: batchCase },
  { weight: 15, arbitrary: binaryCase },
  { weight: 15, arbitrary: readCase },
  { weight: 15, arbitrary: adminCase },
  { weight: 8, arbitrary: transportCase },
);
