import { CloudEvent as SdkCloudEvent, Kafka, type CloudEventV1, type KafkaMessage } from 'cloudevents';
import { exampleEvent } from '#lgsp/contracts';
import { domainError } from '#lgsp/contracts/testing';
import type { StoredEvent } from '#lgsp/event-store';
import {
  UnroutableEventError,
  dossierCodeOf,
  fromKafkaMessage,
  provinceCodeOf,
  toKafkaMessage,
  type KafkaHeaders,
} from '#lgsp/kafka';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const DOSSIER = '000.00.15.H55-250701-0001';

function stored(overrides: Partial<StoredEvent> = {}): StoredEvent {
  const event = exampleEvent('vn.gov.lgsp.dossier.status-changed.v1', 'evt-1');
  return {
    position: 42,
    stream: `dossier-${DOSSIER}`,
    streamVersion: 3,
    id: event.id,
    source: event.source,
    type: event.type,
    time: '2025-07-01T09:15:00+07:00',
    datacontenttype: 'application/json',
    data: event.data,
    extensions: { traceparent: TRACEPARENT, tracestate: 'vn=1', priority: 3, urgent: true },
    provinceCode: '51',
    communeCode: '21040',
    recordedAt: '2025-07-01T02:15:00.123Z',
    hash: 'a'.repeat(64),
    prevHash: 'b'.repeat(64),
    ...overrides,
  };
}

/** Headers as a Kafka consumer hands them over: bytes. */
const asBytes = (headers: Record<string, string>): KafkaHeaders =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v, 'utf8')]));

describe('toKafkaMessage', () => {
  it('writes binary mode: ce_ headers, content-type, traceparent, the log coordinates, data as the value', () => {
    const event = stored();
    const message = toKafkaMessage(event);
    expect(message.key).toBe(DOSSIER);
    expect(message.headers).toEqual({
      ce_specversion: '1.0',
      ce_id: 'evt-1',
      ce_source: '/communes/21040',
      ce_type: 'vn.gov.lgsp.dossier.status-changed.v1',
      ce_time: '2025-07-01T09:15:00+07:00',
      ce_traceparent: TRACEPARENT,
      ce_tracestate: 'vn=1',
      ce_priority: '3',
      ce_urgent: 'true',
      'content-type': 'application/json',
      traceparent: TRACEPARENT,
      tracestate: 'vn=1',
      lgsp_position: '42',
      lgsp_stream: `dossier-${DOSSIER}`,
      lgsp_stream_version: '3',
    });
    expect(JSON.parse(message.value ?? '')).toEqual(event.data);
  });

  it('adds subject and dataschema when the event has them, and nothing for absent attributes', () => {
    const withThem = toKafkaMessage(
      stored({ subject: 'hồ sơ 1', dataschema: 'https://schemas.lgsp-hub.vn/x', extensions: {} }),
    );
    expect(withThem.headers).toMatchObject({
      ce_subject: 'hồ sơ 1',
      ce_dataschema: 'https://schemas.lgsp-hub.vn/x',
    });
    const { time: _time, ...withoutTime } = stored({ extensions: {} });
    const bare = toKafkaMessage(withoutTime);
    expect(Object.keys(bare.headers).sort()).toEqual(
      [
        'ce_specversion',
        'ce_id',
        'ce_source',
        'ce_type',
        'content-type',
        'lgsp_position',
        'lgsp_stream',
        'lgsp_stream_version',
      ].sort(),
    );
  });

  it('never lets an extension shadow a core attribute', () => {
    const message = toKafkaMessage(stored({ extensions: { id: 'forged', source: '/elsewhere' } }));
    expect(message.headers['ce_id']).toBe('evt-1');
    expect(message.headers['ce_source']).toBe('/communes/21040');
  });

  it('sends an event without data as a null value without content-type', () => {
    const message = toKafkaMessage(stored({ data: undefined }));
    expect(message.value).toBeNull();
    expect(message.headers).not.toHaveProperty('content-type');
  });

  it('takes the key from data.dossierCode, else from the dossier stream, else refuses', () => {
    expect(dossierCodeOf(stored({ stream: 'dossier-other' }))).toBe(DOSSIER);
    expect(dossierCodeOf(stored({ data: { provinceCode: '51' } }))).toBe(DOSSIER);
    const error = domainError(() => toKafkaMessage(stored({ data: {}, stream: 'payments' })));
    expect(error).toBeInstanceOf(UnroutableEventError);
    expect(error).toMatchObject({ code: 'invalid', retriable: false, position: 42, stream: 'payments' });
    expect(error.message).toContain('position 42');
  });

  it('routes by the indexed province code, else data.provinceCode, else refuses', () => {
    expect(provinceCodeOf(stored())).toBe('51');
    expect(provinceCodeOf(stored({ provinceCode: undefined, data: { provinceCode: '08' } }))).toBe('08');
    const error = domainError(() =>
      provinceCodeOf(stored({ provinceCode: undefined, data: { dossierCode: 'x' } })),
    );
    expect(error).toBeInstanceOf(UnroutableEventError);
    expect(error.issues).toEqual([{ pointer: '/data/provinceCode', message: expect.any(String) }]);
  });
});

/** The official SDK's Kafka binding reading one record; `toEvent` is typed for the generic `Message`. */
function sdkRead(record: { headers: Record<string, string>; key: string; value: Buffer | string }) {
  const message: KafkaMessage<Buffer | string> = { ...record, body: record.value };
  const received = Kafka.toEvent<unknown>(message);
  if (Array.isArray(received)) throw new Error('expected one event');
  return received as SdkCloudEvent<unknown> & CloudEventV1<unknown>;
}

describe('the official CloudEvents SDK reads what the relay writes', () => {
  it('as a valid CloudEvent with the same attributes, extensions and data', () => {
    const event = stored();
    const message = toKafkaMessage(event);
    // A Kafka consumer hands over bytes; the SDK wants text headers and accepts a Buffer value.
    const received = sdkRead({
      headers: message.headers,
      key: message.key,
      value: Buffer.from(message.value ?? '', 'utf8'),
    });
    expect(received.validate()).toBe(true);
    expect(received.specversion).toBe('1.0');
    expect(received.id).toBe(event.id);
    expect(received.source).toBe(event.source);
    expect(received.type).toBe(event.type);
    expect(Date.parse(received.time ?? '')).toBe(Date.parse(event.time ?? ''));
    expect(received.datacontenttype).toBe('application/json');
    expect(received.data).toEqual(event.data);
    expect(received['traceparent']).toBe(TRACEPARENT);
    expect(received['priority']).toBe('3');
    expect(received['partitionkey']).toBe(DOSSIER);
  });

  it('for every event type of the catalogue', () => {
    const types = [
      'vn.gov.lgsp.dossier.submitted.v1',
      'vn.gov.lgsp.dossier.transferred.v1',
      'vn.gov.lgsp.payment.completed.v1',
      'vn.gov.lgsp.payment.failed.v1',
      'vn.gov.lgsp.civil-status.registered.v1',
    ] as const;
    for (const type of types) {
      const example = exampleEvent(type);
      const message = toKafkaMessage(stored({ type, data: example.data, extensions: {} }));
      const received = sdkRead({ headers: message.headers, key: message.key, value: message.value ?? '' });
      expect(received.validate()).toBe(true);
      expect(received.type).toBe(type);
      expect(received.data).toEqual(example.data);
    }
  });
});

describe('fromKafkaMessage: binary mode', () => {
  it('reads back what toKafkaMessage wrote, from bytes', () => {
    const event = stored();
    const message = toKafkaMessage(event);
    const read = fromKafkaMessage({
      headers: asBytes(message.headers),
      value: Buffer.from(message.value ?? ''),
    });
    expect(read).toEqual({
      specversion: '1.0',
      id: 'evt-1',
      source: '/communes/21040',
      type: 'vn.gov.lgsp.dossier.status-changed.v1',
      time: '2025-07-01T09:15:00+07:00',
      datacontenttype: 'application/json',
      data: event.data,
      traceparent: TRACEPARENT,
      tracestate: 'vn=1',
      priority: '3',
      urgent: 'true',
    });
  });

  it('reads what the official SDK writes in binary mode', () => {
    const example = exampleEvent('vn.gov.lgsp.payment.completed.v1', 'sdk-1');
    const sdkEvent = new SdkCloudEvent({
      ...example,
      partitionkey: example.data.dossierCode,
      expectedversion: '3',
    });
    const produced = Kafka.binary(sdkEvent);
    const headers = Object.fromEntries(
      Object.entries(produced.headers)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    );
    const read = fromKafkaMessage({ headers, value: JSON.stringify(produced.value) });
    expect(read).toMatchObject({
      specversion: '1.0',
      id: 'sdk-1',
      source: example.source,
      type: example.type,
      datacontenttype: 'application/json',
      expectedversion: '3',
      data: example.data,
    });
    expect(Date.parse(String(read.time))).toBe(Date.parse(example.time ?? ''));
  });

  it('matches header names case-insensitively', () => {
    const read = fromKafkaMessage({
      headers: {
        CE_SPECVERSION: '1.0',
        Ce_Id: 'x',
        ce_source: '/s',
        ce_type: 't',
        'Content-Type': 'application/json',
      },
      value: '{"a":1}',
    });
    expect(read).toEqual({
      specversion: '1.0',
      id: 'x',
      source: '/s',
      type: 't',
      datacontenttype: 'application/json',
      data: { a: 1 },
    });
  });

  it('reads a record without a value as an event without data (the schema decides whether it needs data)', () => {
    const headers = { ce_specversion: '1.0', ce_id: 'x', ce_source: '/s', ce_type: 't' };
    expect(fromKafkaMessage({ headers, value: null })).toEqual({
      specversion: '1.0',
      id: 'x',
      source: '/s',
      type: 't',
    });
    expect(fromKafkaMessage({ headers, value: Buffer.alloc(0) })).not.toHaveProperty('data');
  });

  it('strips a UTF-8 BOM and accepts a +json media type', () => {
    const headers = {
      ce_specversion: '1.0',
      ce_id: 'x',
      ce_source: '/s',
      ce_type: 't',
      'content-type': 'application/vnd.lgsp+json; charset=utf-8',
    };
    const value = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":"Nguyễn"}')]);
    expect(fromKafkaMessage({ headers, value })).toMatchObject({
      datacontenttype: 'application/vnd.lgsp+json; charset=utf-8',
      data: { a: 'Nguyễn' },
    });
  });

  const base = {
    ce_specversion: '1.0',
    ce_id: 'x',
    ce_source: '/s',
    ce_type: 't',
    'content-type': 'application/json',
  };

  it.each([
    ['no CloudEvents headers', { 'content-type': 'application/json' }, '{}', /not a CloudEvent/, ''],
    [
      'a media type other than JSON',
      { ...base, 'content-type': 'text/plain' },
      '{}',
      /must be JSON/,
      '/datacontenttype',
    ],
    [
      'a charset other than UTF-8',
      { ...base, 'content-type': 'application/json; charset=latin1' },
      '{}',
      /UTF-8/,
      '/datacontenttype',
    ],
    ['bad JSON data', base, '{"a":', /not valid JSON/, '/data'],
    ['a ce_data header', { ...base, ce_data: '{}' }, '{}', /ce_data is not accepted/, '/data'],
    ['a missing ce_source', { ...base, ce_source: undefined }, '{}', /lacks source/, '/source'],
    ['an empty ce_id', { ...base, ce_id: '' }, '{}', /lacks id/, '/id'],
    ['a "__proto__" member', base, '{"a":{"__proto__":{"x":1}}}', /__proto__/, '/data/a/__proto__'],
    [
      'ce_datacontenttype contradicting content-type',
      { ...base, ce_datacontenttype: 'application/xml' },
      '{}',
      /contradicts/,
      '/datacontenttype',
    ],
  ])('refuses %s as malformed', (_what, headers, value, message, pointer) => {
    const error = domainError(() => fromKafkaMessage({ headers: headers as KafkaHeaders, value }));
    expect(error.code).toBe('malformed');
    expect(error.retriable).toBe(false);
    expect(error.message).toMatch(message);
    expect(error.issues[0]?.pointer).toBe(pointer);
  });

  it('refuses a header that is not UTF-8 and a header that is repeated', () => {
    const badUtf8 = domainError(() =>
      fromKafkaMessage({ headers: { ...base, ce_subject: Buffer.from([0xc3, 0x28]) }, value: '{}' }),
    );
    expect(badUtf8).toMatchObject({
      code: 'malformed',
      issues: [{ pointer: '/subject', message: 'is not valid UTF-8' }],
    });
    const repeated = domainError(() =>
      fromKafkaMessage({ headers: { ...base, ce_id: ['a', 'b'] }, value: '{}' }),
    );
    expect(repeated.message).toBe('header ce_id appears more than once');
    const differentCase = domainError(() =>
      fromKafkaMessage({ headers: { ...base, CE_ID: 'y' }, value: '{}' }),
    );
    expect(differentCase.code).toBe('malformed');
  });
});

describe('fromKafkaMessage: text the hub cannot store exactly', () => {
  const base = {
    ce_specversion: '1.0',
    ce_id: 'e-1',
    ce_source: '/communes/21040',
    ce_type: 'vn.gov.lgsp.payment.failed.v1',
    'content-type': 'application/json',
  };

  it('refuses a header handed over as a string with a lone surrogate', () => {
    const error = domainError(() =>
      fromKafkaMessage({ headers: { ...base, ce_subject: 'a\ud800' }, value: '{}' }),
    );
    expect(error).toMatchObject({
      code: 'malformed',
      issues: [{ pointer: '/subject', message: 'holds a lone UTF-16 surrogate' }],
    });
  });

  it('holds the value to the JSON limits and I-JSON, pointing into the event', () => {
    const deep = domainError(() =>
      fromKafkaMessage({ headers: base, value: Buffer.from(`{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`) }),
    );
    expect(deep.code).toBe('too-large');
    expect(deep.issues[0]?.pointer.startsWith('/data/a/0')).toBe(true);
    const surrogate = domainError(() => fromKafkaMessage({ headers: base, value: '{"reason":"\\udc00"}' }));
    expect(surrogate.issues).toEqual([{ pointer: '/data/reason', message: 'holds a lone UTF-16 surrogate' }]);
    const structured = domainError(() =>
      fromKafkaMessage({
        headers: { 'content-type': 'application/cloudevents+json' },
        value: '{"specversion":"1.0","id":"x","amount":1e400}',
      }),
    );
    expect(structured.issues[0]?.pointer).toBe('/amount');
  });
});

describe('fromKafkaMessage: structured mode', () => {
  const event = exampleEvent('vn.gov.lgsp.payment.failed.v1', 'e-9');

  it('reads the event from the value and ignores ce_ headers', () => {
    const read = fromKafkaMessage({
      headers: { 'content-type': 'application/cloudevents+json; charset=UTF-8', ce_id: 'ignored' },
      value: Buffer.from(JSON.stringify(event)),
    });
    expect(read).toEqual(event);
  });

  it('reads what the official SDK writes in structured mode', () => {
    const produced = Kafka.structured(new SdkCloudEvent({ ...event }));
    const headers = { 'content-type': String(produced.headers['content-type']) };
    const read = fromKafkaMessage({ headers, value: String(produced.value) });
    expect(read).toMatchObject({ id: 'e-9', source: event.source, type: event.type, data: event.data });
  });

  it.each([
    ['an empty value', null, /needs a value/],
    ['an array', JSON.stringify([event]), /one JSON object/],
    ['bad JSON', '{"id":', /not valid JSON/],
    ['no source', JSON.stringify({ ...event, source: undefined }), /lacks source/],
  ])('refuses %s as malformed', (_what, value, message) => {
    const error = domainError(() =>
      fromKafkaMessage({ headers: { 'content-type': 'application/cloudevents+json' }, value }),
    );
    expect(error.code).toBe('malformed');
    expect(error.message).toMatch(message);
  });

  it('refuses batch mode: one event per record', () => {
    const error = domainError(() =>
      fromKafkaMessage({ headers: { 'content-type': 'application/cloudevents-batch+json' }, value: '[]' }),
    );
    expect(error.message).toMatch(/one event per message/);
  });
});
