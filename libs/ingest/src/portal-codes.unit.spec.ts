import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { exampleEvent, type CloudEvent } from '#lgsp/contracts';
import { BINH_SON, eventOf } from './ingest.testing.js';
import { PORTAL_CODE_RULES, PortalCodeCheck } from './portal-codes.js';

const submitted = (dossierCode: string, agencyCode = '000.00.15.H51'): CloudEvent =>
  eventOf('vn.gov.lgsp.dossier.submitted.v1', BINH_SON, dossierCode, { agencyCode });

describe('PortalCodeCheck', () => {
  const check = new PortalCodeCheck('warn');

  it.each([
    ['000.00.15.H12-250701-0001', 'a daily counter of 4 digits'],
    ['000.00.15.H12-250701-48213', 'the random 5-digit suffix of out-of-province agencies'],
    ['000.00.00.G22-241231-9999', "a ministry's agency ID"],
    ['000.00.15.H12-240229-0001', 'a leap day'],
  ])('accepts %s (%s)', (code) => {
    expect(check.issues([submitted(code)], true)).toEqual([]);
  });

  it.each([
    ['H12-250701-0001', 'an agency ID of one level'],
    ['000.00.15.H12-250701-001', 'a counter of 3 digits'],
    ['000.00.15.H12-250701-000001', 'a counter of 6 digits'],
    ['000.00.15.H12-251301-0001', 'month 13'],
    ['000.00.15.H12-250230-0001', '30 February'],
    ['000.00.15.H12-250229-0001', '29 February of a common year'],
    ['000.00.15.H12_250701_0001', 'underscores'],
    ['HS-2025-0001', 'a local numbering'],
  ])('points at %s (%s)', (code) => {
    expect(check.issues([submitted(code)], true)).toEqual([
      { pointer: '/data/dossierCode', message: expect.stringContaining(JSON.stringify(code)) },
    ]);
  });

  it('points at an agency code of another form, and at the event of a batch it is in', () => {
    const events = [
      submitted('000.00.15.H12-250701-0001'),
      submitted('000.00.15.H12-250701-0002', 'UBND.BS'),
    ];
    expect(check.issues(events, false)).toEqual([
      { pointer: '/1/data/agencyCode', message: expect.stringContaining('"UBND.BS"') },
    ]);
  });

  it('reads the dossier code of every event type that carries one', () => {
    const changed = eventOf('vn.gov.lgsp.dossier.status-changed.v1', BINH_SON, 'BS-1');
    expect(check.issues([changed], true).map((i) => i.pointer)).toEqual(['/data/dossierCode']);
  });

  it('says nothing when off, and follows configured patterns', () => {
    expect(new PortalCodeCheck('off').issues([submitted('HS-1')], true)).toEqual([]);
    const local = new PortalCodeCheck('warn', {
      ...PORTAL_CODE_RULES,
      dossierCodePattern: '^HS-(?<date>[0-9]{6})-[0-9]+$',
    });
    expect(local.issues([submitted('HS-250701-7')], true)).toEqual([]);
    expect(local.issues([submitted('HS-250732-7')], true)).toHaveLength(1);
  });

  it('leaves events without codes alone', () => {
    const event = exampleEvent('vn.gov.lgsp.payment.completed.v1', randomUUID());
    expect(new PortalCodeCheck('refuse').issues([{ ...event, data: { amount: 1 } }], true)).toEqual([]);
  });

  it('refuses a pattern that is not a regular expression', () => {
    expect(() => new PortalCodeCheck('warn', { ...PORTAL_CODE_RULES, agencyPattern: '(' })).toThrow(
      SyntaxError,
    );
  });
});

describe('PortalCodeCheck on generated codes (fast-check)', () => {
  const check = new PortalCodeCheck('refuse');
  const digits = (n: number) => fc.stringMatching(new RegExp(`^[0-9]{${n}}$`));
  const agency = fc
    .tuple(digits(3), digits(2), digits(2), fc.constantFrom('H', 'G'), digits(2))
    .map(([a, b, c, l, d]) => `${a}.${b}.${c}.${l}${d}`);
  const day = fc
    .date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date('2099-12-31T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString().slice(2, 10).replaceAll('-', ''));

  it('accepts every code of the portal form, 4- or 5-digit counter, any real day', () => {
    fc.assert(
      fc.property(agency, day, fc.oneof(digits(4), digits(5)), (a, d, n) => {
        expect(check.issues([submitted(`${a}-${d}-${n}`, a)], true)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on any text, and reports at most one issue per field, quoting it', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.string({ maxLength: 40 }), (code, agencyCode) => {
        const issues = check.issues([submitted(code, agencyCode)], true);
        expect(issues.length).toBeLessThanOrEqual(2);
        for (const issue of issues)
          expect(['/data/dossierCode', '/data/agencyCode']).toContain(issue.pointer);
      }),
      { numRuns: 1000 },
    );
  });
});
