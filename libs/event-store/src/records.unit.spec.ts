import { DomainError, type Issue } from '#lgsp/contracts';
import { ANY_VERSION, type EventToAppend } from './port.js';
import { prepareEvents } from './records.js';

const LONE = 'must be well-formed Unicode: it holds a lone UTF-16 surrogate';

function event(overrides: Partial<EventToAppend> = {}): EventToAppend {
  return {
    stream: 'dossier-000.00.15.H51-250701-0001',
    expectedVersion: ANY_VERSION,
    id: 'evt-1',
    source: '/communes/21040',
    type: 'vn.gov.lgsp.dossier.status-changed.v1',
    data: { dossierCode: '000.00.15.H51-250701-0001', status: 2 },
    extensions: {},
    provinceCode: '51',
    communeCode: '21040',
    ...overrides,
  };
}

function issuesOf(events: EventToAppend[]): readonly Issue[] {
  try {
    prepareEvents(events);
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('invalid');
    return (err as DomainError).issues;
  }
  throw new Error('prepareEvents accepted the events');
}

describe('prepareEvents: exact text', () => {
  it('refuses a lone surrogate in every string attribute, with a pointer to each', () => {
    const attributes = [
      'stream',
      'id',
      'source',
      'type',
      'time',
      'subject',
      'datacontenttype',
      'dataschema',
      'provinceCode',
      'communeCode',
    ] as const;
    for (const lone of ['\ud800', '\udfff', 'a\udc00b', '\ud83d', '\ude00\ud83d']) {
      for (const field of attributes) {
        expect(issuesOf([event(), event({ [field]: `x${lone}` })])).toEqual([
          { pointer: `/1/${field}`, message: `${field} ${LONE}` },
        ]);
      }
    }
    expect(issuesOf([event({ id: '\ud800', source: '\udbff/x' })]).map((i) => i.pointer)).toEqual([
      '/0/id',
      '/0/source',
    ]);
  });

  it('refuses a lone surrogate in a string or a property name of data or extensions, pointing at it', () => {
    const data = {
      applicant: { fullName: 'Nguyễn\ud800', ['nick\udfff/~name']: 'x' },
      fees: [{ name: 'ok' }, { name: '\udc00' }],
      fine: 'Đắk Lắk 👩‍👩‍👧',
    };
    expect(issuesOf([event({ data, extensions: { note: 'x\ud83d' } })])).toEqual([
      { pointer: '/0/data/applicant/nick\udfff~1~0name', message: `the property name ${LONE}` },
      { pointer: '/0/data/applicant/fullName', message: `the string ${LONE}` },
      { pointer: '/0/data/fees/1/name', message: `the string ${LONE}` },
      { pointer: '/0/extensions/note', message: `the string ${LONE}` },
    ]);
    expect(issuesOf([event({ data: '\ud800' })])).toEqual([
      { pointer: '/0/data', message: `the string ${LONE}` },
    ]);
  });

  it('refuses U+0000 in an attribute (PostgreSQL text cannot hold it), and stores it in data as an escape', () => {
    expect(issuesOf([event({ subject: 'a\u0000b' })])).toEqual([
      { pointer: '/0/subject', message: 'subject must not contain U+0000 (NUL)' },
    ]);
    const [pending] = prepareEvents([event({ data: { text: 'a\u0000b' }, extensions: { e: '\u0000' } })]);
    expect(pending?.dataJson).toBe('{"text":"a\\u0000b"}');
    expect(pending?.extensionsJson).toBe('{"e":"\\u0000"}');
  });

  it('reports the first ten bad strings of a value', () => {
    const data = Array.from({ length: 50 }, () => '\ud800');
    const issues = issuesOf([event({ data })]);
    expect(issues).toHaveLength(10);
    expect(issues[9]?.pointer).toBe('/0/data/9');
  });

  it('accepts well-formed text that merely looks like a surrogate, and odd but valid Unicode', () => {
    const text = {
      escapedBackslash: '\\ud800 and \\\\udfff',
      pair: '😀 𝕏 👩‍👩‍👧 \ud83d\ude00',
      replacement: '\ufffd',
      nfd: 'Nguye\u0302\u0303n',
      marks: '\u200f\u202e\u2028\u2029\u200d\ufeff',
      ['key \ud83d\ude00 \\ud800']: 1,
    };
    const [pending] = prepareEvents([event({ id: '😀\\ud800', data: text, extensions: { e: '\\udc00' } })]);
    expect(JSON.parse(pending!.dataJson)).toEqual(text);
    expect(pending!.dataJson).toContain('\\\\ud800');
    expect(pending!.id).toBe('😀\\ud800');
  });
});
