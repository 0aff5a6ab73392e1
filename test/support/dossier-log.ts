import { randomUUID } from 'node:crypto';
import type { EventToAppend, StoredEvent } from '#lgsp/event-store';
import { evolveDossier, type DossierView } from '#lgsp/projections';
import type { ExpectedDossier } from '#lgsp/reconciliation';

/** Test builders of dossier logs for the reconciliation specs (not part of the library's API). */

export const PROVINCE = '51';
export const COMMUNE = '21040';
export const AGENCY = '000.00.51.H56';
export const HANDLER = { name: 'Trần Văn Bình', title: 'Công chức tư pháp', department: 'Bộ phận một cửa' };
export const APPLICANT = 'Nguyễn Thị Hoà';

let counter = 0;
/** A fresh dossier code, `{agency}-251123-{counter}{random}`. */
export function newCode(): string {
  counter++;
  const tail = randomUUID().replace(/\D/g, '').slice(0, 2).padEnd(2, '0');
  return `${AGENCY}-251123-${String(counter).padStart(4, '0')}${tail}`;
}

const where = (code: string, commune = COMMUNE) => ({
  dossierCode: code,
  provinceCode: PROVINCE,
  communeCode: commune,
});

export interface LogEvent {
  type: string;
  source?: string;
  id?: string;
  data: Record<string, unknown>;
}

export function submittedEvent(code: string, overrides: Record<string, unknown> = {}): LogEvent {
  return {
    type: 'vn.gov.lgsp.dossier.submitted.v1',
    data: {
      ...where(code),
      procedureCode: '1.001193',
      procedureName: 'Đăng ký khai sinh',
      agencyCode: AGENCY,
      channel: 'online',
      applicant: { fullName: APPLICANT, idNumber: '051190001234' },
      receivedAt: '2025-11-23T09:15:00+07:00',
      dueAt: '2025-11-26T17:00:00+07:00',
      summary: 'Đăng ký khai sinh cho con',
      fees: [{ code: 'LP01', name: 'Lệ phí hộ tịch', amount: 50000 }],
      ...overrides,
    },
  };
}

export function statusEvent(
  code: string,
  status: number,
  minute: number,
  overrides: Record<string, unknown> = {},
): LogEvent {
  return {
    type: 'vn.gov.lgsp.dossier.status-changed.v1',
    data: {
      ...where(code),
      status,
      changedAt: `2025-11-23T10:${String(minute).padStart(2, '0')}:00+07:00`,
      handler: HANDLER,
      ...overrides,
    },
  };
}

/** As the store would append it: stream `dossier-<code>`, the event's own place. */
export function toAppend(code: string, event: LogEvent): EventToAppend {
  return {
    stream: `dossier-${code}`,
    expectedVersion: 'any',
    id: event.id ?? randomUUID(),
    source: event.source ?? `/communes/${COMMUNE}/one-stop-shop`,
    type: event.type,
    time: new Date().toISOString(),
    data: event.data,
    extensions: {},
    provinceCode: PROVINCE,
    communeCode: (event.data.communeCode as string | undefined) ?? COMMUNE,
  };
}

let position = 0;
/** A dossier folded from `events` as if stored now, for unit specs without a store. */
export function expectedOf(
  code: string,
  events: readonly LogEvent[],
  recordedAt = '2025-11-23T03:00:00.000Z',
): ExpectedDossier {
  const stored: StoredEvent[] = events.map((e, i) => {
    position++;
    return {
      ...toAppend(code, e),
      position,
      streamVersion: i + 1,
      recordedAt,
      hash: '',
      prevHash: '',
    };
  });
  let view: DossierView | undefined;
  for (const e of stored) view = evolveDossier(view, e);
  return { dossier: code, view: view!, events: stored };
}
