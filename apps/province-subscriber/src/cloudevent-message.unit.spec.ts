import { headerText, readHeaders, readProvinceEvent, UnreadableMessageError } from './cloudevent-message.js';

/** Headers as the hub's relay writes them, as Buffers (what kafkajs hands over). */
function relayed(overrides: Record<string, string | undefined> = {}): Record<string, Buffer> {
  const headers: Record<string, string | undefined> = {
    ce_specversion: '1.0',
    ce_id: '8f1c2a5e-6b1d-4f0a-9a43-5d2f0c7e1b02',
    ce_source: '/communes/21040/one-stop-shop',
    ce_type: 'vn.gov.lgsp.dossier.status-changed.v1',
    ce_time: '2025-07-01T09:15:00+07:00',
    ce_traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    'content-type': 'application/json',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    lgsp_position: '1043',
    lgsp_stream: 'dossier-000.00.15.H55-250701-0001',
    lgsp_stream_version: '2',
    ...overrides,
  };
  return Object.fromEntries(
    Object.entries(headers)
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([name, value]) => [name, Buffer.from(value)]),
  );
}

const DATA = {
  dossierCode: '000.00.15.H55-250701-0001',
  provinceCode: '51',
  communeCode: '21040',
  status: 4,
};
const value = Buffer.from(JSON.stringify(DATA));

describe('headerText', () => {
  it('reads what kafkajs hands over and what the NestJS transport makes of it', () => {
    expect(headerText(Buffer.from('Hoà Bình'))).toBe('Hoà Bình');
    expect(headerText([Buffer.from('1043')])).toBe('1043');
    expect(headerText('1043')).toBe('1043');
    // The NestJS transport parses a header that starts with { or [ as JSON.
    expect(headerText({ a: 1 })).toBe('{"a":1}');
    expect(headerText([1, 2])).toBe('[1,2]');
    expect(headerText(undefined)).toBeUndefined();
    expect(headerText(null)).toBeUndefined();
  });

  it('refuses a repeated header', () => {
    expect(() => headerText([Buffer.from('a'), Buffer.from('b')], 'ce_id')).toThrow(
      new UnreadableMessageError('ce_id appears 2 times'),
    );
  });

  it('lower-cases the names', () => {
    expect(readHeaders({ CE_ID: Buffer.from('x'), 'Content-Type': 'application/json' })).toEqual(
      new Map([
        ['ce_id', 'x'],
        ['content-type', 'application/json'],
      ]),
    );
  });
});

describe('readProvinceEvent', () => {
  it('reads a binary-mode CloudEvent of a province topic', () => {
    expect(readProvinceEvent({ headers: relayed(), value })).toEqual({
      source: '/communes/21040/one-stop-shop',
      id: '8f1c2a5e-6b1d-4f0a-9a43-5d2f0c7e1b02',
      type: 'vn.gov.lgsp.dossier.status-changed.v1',
      time: '2025-07-01T09:15:00+07:00',
      dossierCode: '000.00.15.H55-250701-0001',
      position: 1043,
      streamVersion: 2,
      data: DATA,
    });
  });

  it('reads headers and a value the NestJS transport already decoded', () => {
    const headers = Object.fromEntries(Object.entries(relayed()).map(([name, v]) => [name, v.toString()]));
    const event = readProvinceEvent({ headers: { ...headers, ce_id: { n: 1 } }, value: DATA });
    expect(event).toMatchObject({ id: '{"n":1}', position: 1043, data: DATA });
  });

  it('leaves out the time of an event without one, and accepts a null value', () => {
    const event = readProvinceEvent({ headers: relayed({ ce_time: undefined }), value: null });
    expect(event).not.toHaveProperty('time');
    expect(event.data).toBeNull();
  });

  it.each([
    [{ ce_id: undefined }, 'header ce_id is missing'],
    [{ ce_source: '' }, 'header ce_source is missing'],
    [{ ce_type: undefined }, 'header ce_type is missing'],
    [{ ce_specversion: '0.3' }, 'ce_specversion "0.3" is not 1.0'],
    [{ lgsp_position: undefined }, 'header lgsp_position is missing'],
    [{ lgsp_position: '-1' }, 'header lgsp_position must be a positive decimal, got "-1"'],
    [{ lgsp_stream_version: '1.5' }, 'header lgsp_stream_version must be a positive decimal, got "1.5"'],
    [{ lgsp_stream: 'payments-1' }, 'header lgsp_stream must be dossier-<dossierCode>, got "payments-1"'],
    [
      { lgsp_stream: 'dossier-__proto__' },
      'header lgsp_stream must be dossier-<dossierCode>, got "dossier-__proto__"',
    ],
    [{ 'content-type': 'application/xml' }, 'content-type "application/xml" is not application/json'],
  ])('refuses headers %j', (overrides, message) => {
    expect(() => readProvinceEvent({ headers: relayed(overrides), value })).toThrow(
      new UnreadableMessageError(message),
    );
  });

  it('refuses a value that is not JSON', () => {
    expect(() => readProvinceEvent({ headers: relayed(), value: Buffer.from('{"status":') })).toThrow(
      UnreadableMessageError,
    );
  });
});
