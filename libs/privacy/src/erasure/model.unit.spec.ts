import { isDomainError } from '#lgsp/contracts';
import {
  checkBasis,
  checkSubjectId,
  erasureDeadlines,
  erasureView,
  workingDaysAfter,
  type ErasureRecord,
} from './model.js';

const SETTINGS = {
  acknowledgeWorkingDays: 2,
  completeDays: 20,
  completeDaysWithThirdParties: 30,
  holidays: [],
};
/** Friday 4 December 2026, 10:00 in Hanoi. */
const FRIDAY_10 = Date.parse('2026-12-04T10:00:00+07:00');

describe('erasure deadlines (Vietnam time, working days)', () => {
  it('acknowledges by the end of the second working day, the weekend skipped', () => {
    expect(new Date(workingDaysAfter(FRIDAY_10, 2, [])).toISOString()).toBe('2026-12-08T16:59:59.999Z');
    // Monday 10:00: Tuesday and Wednesday.
    const monday = Date.parse('2026-12-07T10:00:00+07:00');
    expect(new Date(workingDaysAfter(monday, 2, [])).toISOString()).toBe('2026-12-09T16:59:59.999Z');
  });

  it('counts from the day in Hanoi, not in UTC', () => {
    // Friday 20:30 UTC is already Saturday 03:30 in Hanoi: Monday and Tuesday.
    const late = Date.parse('2026-12-04T20:30:00Z');
    expect(new Date(workingDaysAfter(late, 2, [])).toISOString()).toBe('2026-12-08T16:59:59.999Z');
    // Friday 16:59 UTC is Friday 23:59 in Hanoi: the same Monday and Tuesday.
    const friday = Date.parse('2026-12-04T16:59:00Z');
    expect(new Date(workingDaysAfter(friday, 2, [])).toISOString()).toBe('2026-12-08T16:59:59.999Z');
  });

  it('skips the configured holidays, also across a weekend', () => {
    expect(new Date(workingDaysAfter(FRIDAY_10, 2, ['2026-12-07'])).toISOString()).toBe(
      '2026-12-09T16:59:59.999Z',
    );
    // Tết 2027: Friday 5 to Tuesday 9 February off; asked on Thursday 4 February.
    const tet = ['2027-02-05', '2027-02-08', '2027-02-09'];
    const thursday = Date.parse('2027-02-04T09:00:00+07:00');
    expect(new Date(workingDaysAfter(thursday, 2, tet)).toISOString()).toBe('2027-02-11T16:59:59.999Z');
  });

  it('completes within 20 days, or 30 when third parties hold copies', () => {
    expect(erasureDeadlines(FRIDAY_10, false, SETTINGS)).toEqual({
      acknowledgeBy: '2026-12-08T16:59:59.999Z',
      completeBy: '2026-12-24T03:00:00.000Z',
      thirdParties: false,
    });
    expect(erasureDeadlines(FRIDAY_10, true, SETTINGS)).toEqual({
      acknowledgeBy: '2026-12-08T16:59:59.999Z',
      completeBy: '2027-01-03T03:00:00.000Z',
      thirdParties: true,
    });
    expect(
      erasureDeadlines(FRIDAY_10, false, { ...SETTINGS, acknowledgeWorkingDays: 5, completeDays: 7 }),
    ).toEqual({
      acknowledgeBy: '2026-12-11T16:59:59.999Z',
      completeBy: '2026-12-11T03:00:00.000Z',
      thirdParties: false,
    });
  });

  it('flags a deadline overdue only while the request is undecided', () => {
    const record: ErasureRecord = {
      id: 'er_1',
      state: 'requested',
      subjectRef: 'r'.repeat(43),
      subject: '*********234',
      requestedBy: 'ops',
      requestedAt: new Date(FRIDAY_10).toISOString(),
      deadlines: erasureDeadlines(FRIDAY_10, false, SETTINGS),
      exemptions: [],
    };
    const ackBy = Date.parse(record.deadlines.acknowledgeBy);
    const completeBy = Date.parse(record.deadlines.completeBy);
    expect(erasureView(record, ackBy).overdue).toEqual({ acknowledge: false, complete: false });
    expect(erasureView(record, ackBy + 1).overdue).toEqual({ acknowledge: true, complete: false });
    expect(erasureView(record, completeBy + 1).overdue).toEqual({ acknowledge: true, complete: true });
    expect(erasureView({ ...record, state: 'erased' }, completeBy + 1).overdue).toEqual({
      acknowledge: false,
      complete: false,
    });
    expect(erasureView({ ...record, state: 'refused' }, completeBy + 1).overdue.complete).toBe(false);
  });
});

describe('erasure input', () => {
  it('masks a citizen ID and keeps a surrogate', () => {
    expect(checkSubjectId('001099012234')).toBe('*********234');
    expect(checkSubjectId('123456234')).toBe('******234');
    expect(checkSubjectId('dossier:000.00.15.H51-250701-0001:applicant')).toBe(
      'dossier:000.00.15.H51-250701-0001:applicant',
    );
  });

  it.each([
    '00109901223',
    '0010990122345',
    'Nguyễn Văn A',
    'dossier:X:cousin',
    'dossier::applicant',
    '',
    12345678901,
    undefined,
  ])('refuses %p without repeating it', (given) => {
    let caught: unknown;
    try {
      checkSubjectId(given);
    } catch (err) {
      caught = err;
    }
    expect(isDomainError(caught) && caught.code).toBe('invalid');
    const text = JSON.stringify(isDomainError(caught) ? [caught.message, caught.issues] : []);
    expect(text).toContain('/subjectId');
    if (typeof given === 'string' && given !== '') expect(text).not.toContain(given);
  });

  it('needs a basis of 1 to 1000 characters', () => {
    expect(checkBasis('Luật 91/2025 Điều 14 khoản 2')).toBe('Luật 91/2025 Điều 14 khoản 2');
    for (const bad of ['', '   ', 'x'.repeat(1001), undefined, 3])
      expect(() => checkBasis(bad)).toThrow('the request body is not valid');
  });
});
