import type { DossierSubmitted } from '#lgsp/contracts';
import { GENESIS_HASH, type StoredEvent } from '#lgsp/event-store';

/** Where the specs' dossiers are: Bình Sơn, province 51. */
const UNIT = { provinceCode: '51', communeCode: '21040' };

/**
 * A stored event of dossier `code`'s stream, recorded from the commune's source; `data` beside the
 * dossier's codes. Position, version and times are the spec's.
 */
export function storedDossierEvent(
  code: string,
  event: { position: number; version: number; type: string; data: object; time: string; recordedAt: string },
): StoredEvent {
  return {
    position: event.position,
    stream: `dossier-${code}`,
    streamVersion: event.version,
    id: `e-${event.position}`,
    source: '/communes/21040',
    type: event.type,
    time: event.time,
    data: { dossierCode: code, ...UNIT, ...event.data },
    extensions: {},
    ...UNIT,
    recordedAt: event.recordedAt,
    hash: 'h',
    prevHash: GENESIS_HASH,
  };
}

/** A birth registration submitted online in Bình Sơn, but for its codes and fees. */
export const SUBMITTED_DATA: Omit<DossierSubmitted, 'dossierCode' | 'provinceCode' | 'communeCode' | 'fees'> =
  {
    procedureCode: '1.001193',
    procedureName: 'Đăng ký khai sinh',
    agencyCode: '000.00.15.H51',
    channel: 'online',
    applicant: { fullName: 'Nguyễn Thị Hoà', idNumber: '051190001234' },
    receivedAt: '2025-07-01T08:00:00+07:00',
    dueAt: '2025-07-04T17:00:00+07:00',
  };
