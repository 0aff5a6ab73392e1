import { domainError } from './testing/index.js';
import { parseHttpEvents, type HttpEventsInput } from './http-binding.js';

const event = {
  specversion: '1.0',
  id: 'e-1',
  source: '/communes/21040',
  type: 'vn.gov.lgsp.payment.failed.v1',
  data: { dossierCode: 'X-1', reason: 'Giao dịch bị từ chối' },
};

const input = (overrides: Partial<HttpEventsInput>): HttpEventsInput => ({
  contentType: undefined,
  headers: {},
  body: undefined,
  maxEvents: 3,
  ...overrides,
});

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');

describe('parseHttpEvents: structured mode', () => {
  it('reads one event', () => {
    const parsed = parseHttpEvents(input({ contentType: 'application/cloudevents+json', body: json(event) }));
    expect(parsed).toEqual({ mode: 'structured', events: [event] });
  });

  it('ignores case, parameters, and a UTF-8 BOM', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(event)]);
    const parsed = parseHttpEvents(
      input({ contentType: 'Application/CloudEvents+JSON; charset=UTF-8', body }),
    );
    expect(parsed.events).toEqual([event]);
  });

  it('rejects a body that is not one object', () => {
    for (const body of [json([event]), json('event'), json(null)]) {
      const error = domainError(() =>
        parseHttpEvents(input({ contentType: 'application/cloudevents+json', body })),
      );
      expect(error.code).toBe('malformed');
      expect(error.message).toContain('one JSON object');
    }
  });

  it('rejects bad JSON with the parser message at the root', () => {
    const error = domainError(() =>
      parseHttpEvents(input({ contentType: 'application/cloudevents+json', body: Buffer.from('{"id": ') })),
    );
    expect(error.code).toBe('malformed');
    expect(error.message).toMatch(/^body is not valid JSON: ./);
    expect(error.issues).toEqual([
      { pointer: '', message: error.message.slice('body is not valid JSON: '.length) },
    ]);
  });

  it('rejects invalid UTF-8 and an empty body', () => {
    const bad = Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]);
    expect(
      domainError(() => parseHttpEvents(input({ contentType: 'application/cloudevents+json', body: bad }))),
    ).toMatchObject({ code: 'malformed', message: 'body is not valid UTF-8' });
    for (const body of [undefined, Buffer.alloc(0)]) {
      expect(
        domainError(() => parseHttpEvents(input({ contentType: 'application/cloudevents+json', body }))).code,
      ).toBe('malformed');
    }
  });

  it('refuses a charset other than UTF-8', () => {
    const error = domainError(() =>
      parseHttpEvents(
        input({ contentType: 'application/cloudevents+json; charset=iso-8859-1', body: json(event) }),
      ),
    );
    expect(error.code).toBe('unsupported-media-type');
    expect(error.message).toContain('iso-8859-1');
  });

  it('refuses __proto__ members, also when escaped, without touching prototypes', () => {
    const bodies = [
      '{"specversion":"1.0","data":{"a":[{"__proto__":{"polluted":true}}]}}',
      '{"specversion":"1.0","data":{"a":[{"\\u005f_proto__":{"polluted":true}}]}}',
    ];
    for (const body of bodies) {
      const error = domainError(() =>
        parseHttpEvents(input({ contentType: 'application/cloudevents+json', body: Buffer.from(body) })),
      );
      expect(error.code).toBe('malformed');
      expect(error.issues).toEqual([{ pointer: '/data/a/0/__proto__', message: 'is not accepted' }]);
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('accepts other \\u escapes', () => {
    const body = Buffer.from('{"id":"Nguy\\u1ec5n"}');
    expect(parseHttpEvents(input({ contentType: 'application/cloudevents+json', body })).events).toEqual([
      { id: 'Nguyễn' },
    ]);
  });
});

describe('parseHttpEvents: batch mode', () => {
  const batch = (body: Buffer, maxEvents = 3) =>
    parseHttpEvents(input({ contentType: 'application/cloudevents-batch+json', body, maxEvents }));

  it('reads an array of events', () => {
    const second = { ...event, id: 'e-2' };
    expect(batch(json([event, second]))).toEqual({ mode: 'batch', events: [event, second] });
  });

  it('rejects an empty batch', () => {
    expect(domainError(() => batch(json([])))).toMatchObject({
      code: 'malformed',
      message: 'batch is empty',
    });
  });

  it('rejects more events than the limit, naming it', () => {
    const error = domainError(() => batch(json([event, event, event, event])));
    expect(error.code).toBe('too-large');
    expect(error.message).toContain('4 events');
    expect(error.message).toContain('at most 3');
    expect(batch(json([event, event, event])).events).toHaveLength(3);
  });

  it('points at each element that is not an object', () => {
    const error = domainError(() => batch(json([event, 'x', event, [event]]), 10));
    expect(error.code).toBe('malformed');
    expect(error.issues.map((i) => i.pointer)).toEqual(['/1', '/3']);
  });

  it('rejects a body that is not an array', () => {
    expect(domainError(() => batch(json(event))).code).toBe('malformed');
  });
});

describe('parseHttpEvents: binary mode', () => {
  const headers = {
    'ce-specversion': '1.0',
    'ce-id': 'e-1',
    'ce-source': '%2Fcommunes%2F21040',
    'ce-type': 'vn.gov.lgsp.payment.failed.v1',
    'ce-subject': 'H%E1%BB%93 s%C6%A1 %C4%91%C3%A3 n%E1%BB%99p %25',
    'ce-expectedversion': '3',
    'content-type': 'application/json; charset=utf-8',
    authorization: 'Bearer t',
  };

  it('maps ce-* headers to percent-decoded attributes and the body to data', () => {
    const parsed = parseHttpEvents(
      input({ contentType: headers['content-type'], headers, body: json(event.data) }),
    );
    expect(parsed).toEqual({
      mode: 'binary',
      events: [
        {
          specversion: '1.0',
          id: 'e-1',
          source: '/communes/21040',
          type: 'vn.gov.lgsp.payment.failed.v1',
          subject: 'Hồ sơ đã nộp %',
          expectedversion: '3',
          datacontenttype: 'application/json; charset=utf-8',
          data: event.data,
        },
      ],
    });
  });

  it('accepts a +json data type', () => {
    const parsed = parseHttpEvents(
      input({ contentType: 'application/vnd.lgsp+json', headers, body: json({}) }),
    );
    expect(parsed.events[0]?.datacontenttype).toBe('application/vnd.lgsp+json');
  });

  it('rejects an invalid percent-encoding', () => {
    const error = domainError(() =>
      parseHttpEvents(
        input({
          contentType: 'application/json',
          headers: { ...headers, 'ce-subject': '%E1%BB' },
          body: json({}),
        }),
      ),
    );
    expect(error.code).toBe('malformed');
    expect(error.issues[0]?.pointer).toBe('/subject');
  });

  it('refuses raw bytes outside printable ASCII in a header value, which the binding requires percent-encoded', () => {
    // Node reads header bytes as Latin-1: the UTF-8 of "ồ" arrives as "á»\x93".
    for (const raw of [Buffer.from('Hồ sơ', 'utf8').toString('latin1'), 'a\tb', 'x\u007f']) {
      const error = domainError(() =>
        parseHttpEvents(
          input({
            contentType: 'application/json',
            headers: { ...headers, 'ce-subject': raw },
            body: json({}),
          }),
        ),
      );
      expect(error.code).toBe('malformed');
      expect(error.issues).toEqual([{ pointer: '/subject', message: 'is not percent-encoded' }]);
    }
  });

  it('holds the data to the JSON limits, with pointers under /data', () => {
    const deep = Buffer.from(`{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`);
    const tooDeep = domainError(() =>
      parseHttpEvents(input({ contentType: 'application/json', headers, body: deep })),
    );
    expect(tooDeep.code).toBe('too-large');
    expect(tooDeep.issues[0]?.pointer.startsWith('/data/a/0/0')).toBe(true);
    const surrogate = domainError(() =>
      parseHttpEvents(
        input({ contentType: 'application/json', headers, body: Buffer.from('{"n":"\\udfff"}') }),
      ),
    );
    expect(surrogate.issues[0]?.pointer).toBe('/data/n');
  });

  it('requires JSON data', () => {
    for (const contentType of ['text/plain', 'application/xml', undefined]) {
      const error = domainError(() => parseHttpEvents(input({ contentType, headers, body: json({}) })));
      expect(error.code).toBe('unsupported-media-type');
    }
  });

  it('requires a body', () => {
    const error = domainError(() => parseHttpEvents(input({ contentType: 'application/json', headers })));
    expect(error.code).toBe('malformed');
  });

  it('refuses headers that would replace the data or a prototype', () => {
    for (const name of ['ce-data', 'ce-data_base64', 'ce-__proto__']) {
      const error = domainError(() =>
        parseHttpEvents(
          input({ contentType: 'application/json', headers: { ...headers, [name]: 'x' }, body: json({}) }),
        ),
      );
      expect(error.code).toBe('malformed');
    }
  });

  it('refuses a repeated ce- header', () => {
    const error = domainError(() =>
      parseHttpEvents(
        input({
          contentType: 'application/json',
          headers: { ...headers, 'ce-id': ['a', 'b'] },
          body: json({}),
        }),
      ),
    );
    expect(error.code).toBe('malformed');
  });
});

describe('parseHttpEvents: JSON limits', () => {
  it('points into the batch at a lone surrogate or an oversized value of one event', () => {
    const batch = Buffer.from(`[${JSON.stringify(event)},{"id":"a\\ud800","data":{}}]`);
    const error = domainError(() =>
      parseHttpEvents(input({ contentType: 'application/cloudevents-batch+json', body: batch })),
    );
    expect(error.code).toBe('malformed');
    expect(error.issues).toEqual([{ pointer: '/1/id', message: 'holds a lone UTF-16 surrogate' }]);
    const huge = Buffer.from(JSON.stringify({ ...event, data: { reason: 'x'.repeat(70_000) } }));
    const tooLarge = domainError(() =>
      parseHttpEvents(input({ contentType: 'application/cloudevents+json', body: huge })),
    );
    expect(tooLarge.code).toBe('too-large');
    expect(tooLarge.issues[0]?.pointer).toBe('/data/reason');
  });
});

describe('parseHttpEvents: media types', () => {
  it('refuses a request with no content type and no ce- headers, saying what is accepted', () => {
    for (const contentType of [undefined, 'application/json', 'text/plain', 'not a media type']) {
      const error = domainError(() => parseHttpEvents(input({ contentType, body: json(event) })));
      expect(error.code).toBe('unsupported-media-type');
      expect(error.message).toContain('application/cloudevents+json');
      expect(error.message).toContain('application/cloudevents-batch+json');
      expect(error.message).toContain('ce-*');
    }
  });

  it('prefers structured mode when the content type says so, even with ce- headers', () => {
    const parsed = parseHttpEvents(
      input({
        contentType: 'application/cloudevents+json',
        headers: { 'ce-specversion': '1.0' },
        body: json(event),
      }),
    );
    expect(parsed.mode).toBe('structured');
  });
});
