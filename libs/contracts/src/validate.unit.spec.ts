import { AdminUnits } from './admin-units.js';
import type { CloudEvent } from './cloudevent.js';
import { DomainError } from './errors.js';
import { exampleEvent } from './examples.js';
import type { EventType } from './generated/events.js';
import { EVENT_TYPES } from './schemas.js';
import { EventValidator, MAX_ATTRIBUTE_LENGTH, expectedVersionOf, streamOf } from './validate.js';

const validator = new EventValidator();

/** A valid dossier.submitted event whose data a test may change freely. */
const submitted = (): CloudEvent & { data: Record<string, unknown> } => {
  const event = exampleEvent('vn.gov.lgsp.dossier.submitted.v1');
  return { ...event, data: { ...event.data } };
};

/** Issues of one event validated as the first element of a batch. */
const issuesOf = (event: CloudEvent) => validator.validate([event]);

/** The example event of `type` with `data[key]` set to `value`. */
function exampleWith(type: Parameters<typeof exampleEvent>[0], key: string, value: unknown): CloudEvent {
  const event = exampleEvent(type);
  Object.assign(event.data, { [key]: value });
  return event;
}

describe('EventValidator: catalogue', () => {
  it.each(EVENT_TYPES)('accepts a valid %s', (type: EventType) => {
    expect(validator.validate([exampleEvent(type)])).toEqual([]);
  });

  it('accepts a batch of every type at once', () => {
    expect(validator.validate(EVENT_TYPES.map((t) => exampleEvent(t)))).toEqual([]);
  });

  it('rejects an unknown type at /i/type, naming the known types', () => {
    const event = {
      ...exampleEvent('vn.gov.lgsp.payment.failed.v1'),
      type: 'vn.gov.lgsp.payment.refunded.v1',
    };
    const issues = validator.validate([exampleEvent('vn.gov.lgsp.payment.failed.v1'), event]);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.pointer).toBe('/1/type');
    expect(issues[0]?.message).toContain('"vn.gov.lgsp.payment.refunded.v1"');
    for (const type of EVENT_TYPES) expect(issues[0]?.message).toContain(type);
  });

  it('requires data for a catalogue type', () => {
    const { data: _data, ...event } = submitted();
    expect(issuesOf(event as CloudEvent)).toEqual([
      { pointer: '/0/data', message: 'is required for vn.gov.lgsp.dossier.submitted.v1' },
    ]);
  });
});

describe('EventValidator: data formats', () => {
  const withData = (patch: (data: Record<string, unknown>) => void): CloudEvent => {
    const event = submitted();
    patch(event.data);
    return event;
  };
  const pointersOf = (event: CloudEvent) => issuesOf(event).map((i) => i.pointer);

  it('rejects a time without an offset, once per field', () => {
    const issues = issuesOf(withData((d) => (d['receivedAt'] = '2025-07-01T08:30:00')));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.pointer).toBe('/0/data/receivedAt');
    expect(issues[0]?.message).toContain('RFC 3339 date-time with an explicit offset');
  });

  it('rejects an impossible date-time that matches the pattern', () => {
    expect(pointersOf(withData((d) => (d['receivedAt'] = '2025-02-30T08:30:00+07:00')))).toEqual([
      '/0/data/receivedAt',
    ]);
  });

  it('accepts Z and fractional seconds', () => {
    expect(issuesOf(withData((d) => (d['receivedAt'] = '2025-07-01T01:30:00.123456789Z')))).toEqual([]);
  });

  it('checks the citizen ID: 12 digits, or 9 legacy digits', () => {
    const withId = (idNumber: string) =>
      withData((d) => (d['applicant'] = { fullName: 'Nguyễn Văn An', idNumber }));
    expect(issuesOf(withId('123456789'))).toEqual([]);
    expect(issuesOf(withId('012345678901'))).toEqual([]);
    for (const bad of ['01234567890', '0123456789012', '12345678a']) {
      const issues = issuesOf(withId(bad));
      expect(issues).toHaveLength(1);
      expect(issues[0]?.pointer).toBe('/0/data/applicant/idNumber');
      expect(issues[0]?.message).toMatch(/^must match pattern "\^\(\[0-9\]\{12\}\|\[0-9\]\{9\}\)\$"/);
    }
  });

  it('rejects a 3-digit province and a 4-digit commune', () => {
    expect(
      pointersOf(
        withData((d) => {
          d['provinceCode'] = '051';
          d['communeCode'] = '2104';
        }),
      ),
    ).toEqual(['/0/data/provinceCode', '/0/data/communeCode']);
  });

  it('accepts status 1-10 and rejects 0, 11 and 4.5', () => {
    const withStatus = (status: number) =>
      exampleWith('vn.gov.lgsp.dossier.status-changed.v1', 'status', status);
    expect(issuesOf(withStatus(1))).toEqual([]);
    expect(issuesOf(withStatus(10))).toEqual([]);
    expect(issuesOf(withStatus(0))).toEqual([{ pointer: '/0/data/status', message: 'must be >= 1' }]);
    expect(issuesOf(withStatus(11))).toEqual([{ pointer: '/0/data/status', message: 'must be <= 10' }]);
    expect(issuesOf(withStatus(4.5))).toEqual([{ pointer: '/0/data/status', message: 'must be integer' }]);
  });

  it('rejects a negative or fractional amount, in payments and in fees', () => {
    const payment = (amount: number) => exampleWith('vn.gov.lgsp.payment.completed.v1', 'amount', amount);
    expect(issuesOf(payment(0))).toEqual([]);
    expect(issuesOf(payment(-1))).toEqual([{ pointer: '/0/data/amount', message: 'must be >= 0' }]);
    expect(issuesOf(payment(1000.5))).toEqual([{ pointer: '/0/data/amount', message: 'must be integer' }]);
    const fee = withData(
      (d) =>
        (d['fees'] = [
          { name: 'Lệ phí', amount: 10000 },
          { name: 'Phí', amount: -5 },
        ]),
    );
    expect(issuesOf(fee)).toEqual([{ pointer: '/0/data/fees/1/amount', message: 'must be >= 0' }]);
  });

  it('points at an unknown property, also nested', () => {
    const event = withData((d) => {
      d['extra'] = 1;
      d['applicant'] = { fullName: 'Lê Thị Hoa', idNumber: '012345678901', nickname: 'Hoa' };
    });
    expect(issuesOf(event)).toEqual([
      { pointer: '/0/data/extra', message: 'is not a known property' },
      { pointer: '/0/data/applicant/nickname', message: 'is not a known property' },
    ]);
  });

  it('points at a missing property, and escapes pointer tokens', () => {
    const event = withData((d) => {
      delete d['channel'];
      d['applicant'] = { fullName: 'Lê Thị Hoa' };
      d['a/b~c'] = true;
    });
    expect(issuesOf(event)).toEqual([
      { pointer: '/0/data/channel', message: 'is required' },
      { pointer: '/0/data/a~1b~0c', message: 'is not a known property' },
      { pointer: '/0/data/applicant/idNumber', message: 'is required' },
    ]);
  });

  it('lists the allowed values of an enum', () => {
    expect(issuesOf(withData((d) => (d['channel'] = 'fax')))).toEqual([
      { pointer: '/0/data/channel', message: 'must be one of "in-person", "online", "postal"' },
    ]);
  });

  it('rejects data that is not an object', () => {
    const event = { ...submitted(), data: '{"dossierCode":"x"}' };
    expect(issuesOf(event)).toEqual([{ pointer: '/0/data', message: 'must be object' }]);
  });

  it('checks a calendar date', () => {
    const event = exampleEvent('vn.gov.lgsp.civil-status.registered.v1');
    event.data.person.dateOfBirth = '2025-13-01';
    expect(issuesOf(event).map((i) => i.pointer)).toEqual(['/0/data/person/dateOfBirth']);
  });
});

describe('EventValidator: envelope', () => {
  it('requires specversion 1.0, id, source and type', () => {
    const event = { data: submitted().data } as unknown as CloudEvent;
    expect(issuesOf(event).map((i) => i.pointer)).toEqual([
      '/0/specversion',
      '/0/id',
      '/0/source',
      '/0/type',
    ]);
    expect(issuesOf({ ...submitted(), specversion: '0.3' } as unknown as CloudEvent)).toEqual([
      { pointer: '/0/specversion', message: 'must be "1.0"' },
    ]);
    expect(issuesOf({ ...submitted(), id: '' }).map((i) => i.pointer)).toEqual(['/0/id']);
    expect(issuesOf({ ...submitted(), id: 7 } as unknown as CloudEvent).map((i) => i.pointer)).toEqual([
      '/0/id',
    ]);
  });

  it('requires source to be a URI-reference', () => {
    expect(issuesOf({ ...submitted(), source: 'urn:lgsp:commune:21040' })).toEqual([]);
    expect(issuesOf({ ...submitted(), source: '/communes/Bình Sơn' }).map((i) => i.pointer)).toEqual([
      '/0/source',
    ]);
  });

  it('requires time to be RFC 3339 with an offset', () => {
    expect(issuesOf({ ...submitted(), time: '2025-07-01T08:30:00Z' })).toEqual([]);
    for (const time of ['2025-07-01T08:30:00', '2025-07-01 08:30:00+07:00', '20250701083000', 1751333400]) {
      expect(issuesOf({ ...submitted(), time } as unknown as CloudEvent).map((i) => i.pointer)).toEqual([
        '/0/time',
      ]);
    }
  });

  it('requires subject and dataschema to be non-empty strings', () => {
    const ok = {
      ...submitted(),
      subject: '000.00.15.H55-250701-0001',
      dataschema: 'https://schemas.lgsp-hub.vn/x',
    };
    expect(issuesOf(ok)).toEqual([]);
    const bad = { ...submitted(), subject: '', dataschema: 42 } as unknown as CloudEvent;
    expect(issuesOf(bad).map((i) => i.pointer)).toEqual(['/0/subject', '/0/dataschema']);
  });

  it('accepts JSON data content types only', () => {
    for (const ok of [
      'application/json',
      'application/json; charset=utf-8',
      'application/vnd.lgsp+json',
      'Application/JSON',
    ]) {
      expect(issuesOf({ ...submitted(), datacontenttype: ok })).toEqual([]);
    }
    for (const bad of ['text/plain', 'application/xml', 'application/json; charset=iso-8859-1', 'json']) {
      expect(issuesOf({ ...submitted(), datacontenttype: bad }).map((i) => i.pointer)).toEqual([
        '/0/datacontenttype',
      ]);
    }
  });

  it('refuses data_base64', () => {
    const issues = issuesOf({ ...submitted(), data_base64: 'e30=' });
    expect(issues).toEqual([
      { pointer: '/0/data_base64', message: expect.stringContaining('data must be JSON') },
    ]);
  });

  it(`refuses attribute text longer than ${MAX_ATTRIBUTE_LENGTH} characters, whatever the attribute`, () => {
    const long = 'a'.repeat(MAX_ATTRIBUTE_LENGTH + 1);
    const event = { ...submitted(), id: long, source: `/${long}`, subject: long, type: long, myext: long };
    expect(issuesOf(event)).toEqual(
      ['/0/id', '/0/source', '/0/type', '/0/subject', '/0/myext'].map((pointer) => ({
        pointer,
        message: `must be at most ${MAX_ATTRIBUTE_LENGTH} characters`,
      })),
    );
    expect(issuesOf({ ...submitted(), id: 'a'.repeat(MAX_ATTRIBUTE_LENGTH) })).toEqual([]);
  });

  it('refuses a traceparent extension that is not a W3C traceparent, with its pointer', () => {
    for (const bad of ['00-abc-def-01', '', 'x'.repeat(55), 42, true]) {
      const issues = issuesOf({ ...submitted(), traceparent: bad } as unknown as CloudEvent);
      expect(issues).toEqual([
        { pointer: '/0/traceparent', message: expect.stringContaining('W3C traceparent') },
      ]);
    }
    expect(
      issuesOf({ ...submitted(), traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' }),
    ).toEqual([]);
  });

  it('checks extension names and values', () => {
    const event = {
      ...submitted(),
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      partition: 3,
      replayed: false,
      TraceParent: 'x',
      'trace-id': 'x',
      averyveryverylongname1: 'x',
      nested: { a: 1 },
      ratio: 0.5,
      big: 2 ** 31,
      nothing: null,
    } as unknown as CloudEvent;
    expect(issuesOf(event).map((i) => i.pointer)).toEqual([
      '/0/TraceParent',
      '/0/trace-id',
      '/0/averyveryverylongname1',
      '/0/nested',
      '/0/ratio',
      '/0/big',
      '/0/nothing',
    ]);
  });

  it('accepts expectedversion as an integer >= 0 or its decimal text', () => {
    for (const ok of [0, 5, '0', '12']) expect(issuesOf({ ...submitted(), expectedversion: ok })).toEqual([]);
    for (const bad of [-1, 1.5, '-1', '01', '1e3', '', true]) {
      expect(issuesOf({ ...submitted(), expectedversion: bad }).map((i) => i.pointer)).toEqual([
        '/0/expectedversion',
      ]);
    }
  });

  it('rejects an event that is not an object', () => {
    expect(validator.validate([submitted(), null as unknown as CloudEvent])).toEqual([
      { pointer: '/1', message: 'an event must be a JSON object' },
    ]);
  });
});

describe('EventValidator: pointers', () => {
  it('prefixes each issue with the index of its event in the batch', () => {
    const good = submitted();
    const bad = submitted();
    bad.data['communeCode'] = '1';
    const issues = validator.validate([good, good, bad]);
    expect(issues.map((i) => i.pointer)).toEqual(['/2/data/communeCode']);
  });

  it('starts pointers at the event in single mode', () => {
    const bad = { ...submitted(), time: 'yesterday' };
    bad.data['applicant'] = { fullName: 'Phạm Minh' };
    expect(validator.validate([bad], { single: true }).map((i) => i.pointer)).toEqual([
      '/time',
      '/data/applicant/idNumber',
    ]);
    expect(() => validator.validate([bad, bad], { single: true })).toThrow(RangeError);
  });
});

describe('EventValidator: administrative units', () => {
  const units = AdminUnits.fromJson({
    source: 'test',
    provinces: [
      { code: '01', name: 'Thành phố Hà Nội', type: 'thành phố trung ương', communes: [] },
      {
        code: '51',
        name: 'Tỉnh Quảng Ngãi',
        type: 'tỉnh',
        communes: [{ code: '21040', name: 'Xã Bình Sơn', type: 'xã' }],
      },
    ],
  });
  const checked = new EventValidator({ adminUnits: units });
  const at = (provinceCode: string, communeCode: string) => {
    const event = submitted();
    event.data['provinceCode'] = provinceCode;
    event.data['communeCode'] = communeCode;
    return checked.validate([event]);
  };

  it('accepts a commune of its province', () => {
    expect(at('51', '21040')).toEqual([]);
  });

  it('rejects a commune of another province', () => {
    expect(at('01', '21040')).toEqual([
      { pointer: '/0/data/communeCode', message: 'commune 21040 belongs to province 51, not 01' },
    ]);
  });

  it('rejects unknown codes', () => {
    expect(at('51', '99999')).toEqual([
      { pointer: '/0/data/communeCode', message: 'unknown commune code 99999' },
    ]);
    expect(at('99', '21040')).toEqual([
      { pointer: '/0/data/provinceCode', message: 'unknown province code 99' },
      { pointer: '/0/data/communeCode', message: 'commune 21040 belongs to province 51, not 99' },
    ]);
  });

  it('does not check units without a list', () => {
    const event = submitted();
    event.data['communeCode'] = '99999';
    expect(validator.validate([event])).toEqual([]);
  });

  it('checks the commune a transfer hands the dossier to, and wants its province and commune together', () => {
    const transfer = (to: Record<string, string>) => {
      const event = exampleEvent('vn.gov.lgsp.dossier.transferred.v1');
      Object.assign(event.data, to);
      return event;
    };
    expect(checked.validate([transfer({ toProvinceCode: '51', toCommuneCode: '21040' })])).toEqual([]);
    expect(checked.validate([transfer({ toProvinceCode: '01', toCommuneCode: '21040' })])).toEqual([
      { pointer: '/0/data/toCommuneCode', message: 'commune 21040 belongs to province 51, not 01' },
    ]);
    expect(validator.validate([transfer({ toCommuneCode: '21040' })])).toEqual([
      {
        pointer: '/0/data/toProvinceCode',
        message: 'is required with the other: a transfer to another commune names its province and commune',
      },
    ]);
  });
});

describe('expectedVersionOf and streamOf', () => {
  it('reads expectedversion from a number or text', () => {
    expect(expectedVersionOf(submitted())).toBeUndefined();
    expect(expectedVersionOf({ ...submitted(), expectedversion: 0 })).toBe(0);
    expect(expectedVersionOf({ ...submitted(), expectedversion: '42' })).toBe(42);
    expect(() => expectedVersionOf({ ...submitted(), expectedversion: 'soon' })).toThrow(DomainError);
  });

  it('names the dossier stream', () => {
    expect(streamOf(submitted())).toBe('dossier-000.00.15.H55-250701-0001');
    expect(() => streamOf({ ...submitted(), data: {} })).toThrow(
      expect.objectContaining({
        code: 'invalid',
        issues: [{ pointer: '/data/dossierCode', message: expect.any(String) }],
      }),
    );
  });
});
