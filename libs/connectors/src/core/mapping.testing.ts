import type { DossierView } from '#lgsp/projections';
import { mappingFailure } from './errors.testing.js';

export { mappingFailure };

/** Test support shared by the mapping specs of the sync connectors. */

export const DOSSIER_CODE = '000.00.51.H56-251123-0001';

/** The projected view of a freshly submitted birth-registration dossier. */
export const submittedView = (overrides: Partial<DossierView> = {}): DossierView => ({
  dossierCode: DOSSIER_CODE,
  provinceCode: '51',
  communeCode: '21040',
  procedureCode: '1.001193',
  procedureName: 'Đăng ký khai sinh',
  agencyCode: '000.00.51.H56',
  channel: 'online',
  applicant: { fullName: 'Nguyễn Thị Hoà' },
  receivedAt: '2025-11-23T02:15:00Z',
  dueAt: '2025-11-26T10:00:00Z',
  payment: { state: 'none', amountDue: 50000, amountPaid: 0, transactionIds: [] },
  transfers: 0,
  streamVersion: 1,
  eventCount: 1,
  firstPosition: 1,
  lastPosition: 1,
  lastEventType: 'vn.gov.lgsp.dossier.submitted.v1',
  lastChangedAt: '2025-11-23T02:15:01Z',
  ...overrides,
});

/**
 * The data of a birth registration's `dossier.submitted` event, submitted online to agency
 * 000.00.51.H56 by Nguyễn Thị Hoà, with `overrides`.
 */
export const birthSubmission = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  procedureCode: '1.001193',
  procedureName: 'Đăng ký khai sinh',
  agencyCode: '000.00.51.H56',
  channel: 'online',
  applicant: { fullName: 'Nguyễn Thị Hoà', idNumber: '051190001234' },
  ...overrides,
});

/** RFC 3339 inputs and the Vietnam local time (yyyy-MM-dd HH:mm:ss) each must be written as. */
const VN_TIME_CASES: ReadonlyArray<readonly [string, string]> = [
  ['2025-07-01T01:30:00Z', '2025-07-01 08:30:00'],
  // UTC+7 crosses midnight: next day, month and year, and a leap day.
  ['2025-06-30T17:00:00Z', '2025-07-01 00:00:00'],
  ['2025-12-31T16:59:59Z', '2025-12-31 23:59:59'],
  ['2025-12-31T17:00:00Z', '2026-01-01 00:00:00'],
  ['2024-02-28T18:00:00Z', '2024-02-29 01:00:00'],
  // A +07:00 time is kept as written, other offsets are honoured, fractions dropped.
  ['2025-11-23T09:15:00+07:00', '2025-11-23 09:15:00'],
  ['2025-11-23T00:15:00+07:00', '2025-11-23 00:15:00'],
  ['2025-11-23T00:15:00-05:00', '2025-11-23 12:15:00'],
  ['2025-11-23T09:15:07.999+07:00', '2025-11-23 09:15:07'],
  ['2025-11-23T02:15:07.999Z', '2025-11-23 09:15:07'],
];

const NOT_RFC3339 = ['2025-11-23', '23/11/2025 09:15:00', '2025-11-23T09:15:00', 'soon'];

export interface VnTimeMapping {
  /** Writes an RFC 3339 time in the target's format. */
  map: (time: string) => string;
  /** The target's format of a Vietnam local time given as yyyy-MM-dd HH:mm:ss. */
  format: (local: string) => string;
  /** Maps a bad time; must throw the mapping error. */
  refuse: (bad: string) => unknown;
  target: string;
  /** What the error message must name (the field, and the dossier where given). */
  mentions: readonly string[];
}

/** The cases every connector's time mapping must pass. */
export const describeVnTimeMapping = (name: string, m: VnTimeMapping): void => {
  describe(name, () => {
    it.each(VN_TIME_CASES)('writes %s in Vietnam local time (%s)', (input, local) => {
      expect(m.map(input)).toBe(m.format(local));
    });

    it.each(NOT_RFC3339)('refuses %p (not RFC 3339) as a mapping error naming the field', (bad) => {
      const err = mappingFailure(() => m.refuse(bad));
      expect(err).toMatchObject({ kind: 'data', code: 'mapping', target: m.target });
      for (const mention of m.mentions) expect(err.message).toContain(mention);
    });
  });
};
