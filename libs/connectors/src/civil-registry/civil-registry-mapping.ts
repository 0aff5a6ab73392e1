import { createHash } from 'node:crypto';
import type {
  CivilRegistrationRequest,
  CivilStatusRegistered,
  CloudEvent,
  DossierStatusChanged,
  DossierSubmitted,
  RegisteredPerson,
  RegistrationSubject,
} from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import type { DossierView } from '#lgsp/projections';
import { mappingError } from '../core/errors.js';
import { formatVn, rfc3339Instant, vnTextToRfc3339 } from '../core/vn-time.js';
import {
  CIVIL_REGISTRY_STATUS,
  type CivilRegistryBirthInfo,
  type CivilRegistryRequest,
  type CivilRegistryResult,
} from './external/civil-registry-wire.js';

/** The target name of the civil registry in parking, breaker, pending work, logs and errors. */
export const CIVIL_REGISTRY_TARGET = 'civil-registry';

/** The `source` of the events captured from the civil registry (the demo's producer uses the same). */
export const CIVIL_REGISTRY_SOURCE = '/national/civil-registry';

/** National dossier statuses the registry's results move a dossier to. */
export const CIVIL_REGISTRY_DOSSIER_STATUS = {
  /** Registry status 6: rejected. */
  rejected: 3,
  /** Registry status 3 after a 2: processing resumed. */
  processing: 4,
  /** Registry status 2: documents requested. */
  documentsRequested: 5,
  /** Registry status 4: certificate issued. */
  finished: 9,
} as const;

const SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';
const STATUS_CHANGED = 'vn.gov.lgsp.dossier.status-changed.v1';
const REGISTERED = 'vn.gov.lgsp.civil-status.registered.v1';

/** `maLienThong` holds at most 50 of these characters. */
const LINK_CODE_MAX = 50;
const LINK_CODE_CHARS = /^[0-9A-Za-z.\-_]+$/;
const LINK_CODE_PREFIX = 'LT-';

/**
 * The interlinked code (`maLienThong`) of a dossier's registration: `LT-` and the dossier code when
 * that fits the registry's 50 characters, else `LT-` and 40 hex digits of its SHA-256. It depends on
 * the dossier code alone, so a retried or replayed registration is the same one to the registry
 * ("đã tồn tại"), never a second. Pure.
 */
export function civilRegistryLinkCode(dossierCode: string): string {
  const plain = `${LINK_CODE_PREFIX}${dossierCode}`;
  if (plain.length <= LINK_CODE_MAX && LINK_CODE_CHARS.test(plain)) return plain;
  return `${LINK_CODE_PREFIX}${createHash('sha256').update(dossierCode, 'utf8').digest('hex').slice(0, 40)}`;
}

/** The dossier's submission, when its events hold one. Pure. */
export function submissionOf(
  events: readonly Pick<StoredEvent, 'type' | 'data'>[],
): DossierSubmitted | undefined {
  let submitted: DossierSubmitted | undefined;
  for (const e of events) if (e.type === SUBMITTED) submitted = e.data as DossierSubmitted;
  return submitted;
}

/** True when one of the events was captured from the civil registry, i.e. it has the registration. */
export function hasCivilRegistryResult(events: readonly Pick<StoredEvent, 'source'>[]): boolean {
  return events.some((e) => e.source === CIVIL_REGISTRY_SOURCE);
}

/**
 * The `DangKyHoTich` request of a dossier whose submission carries a `civilRegistration`, or
 * `undefined` when it carries none. `ngayDangKy` is the day processing started (the last status
 * change to 4 not captured from the registry), else the day of receipt, in Vietnam local time. Texts
 * are NFC; a parent's legacy 9-digit ID is left out (the registry takes 12-digit IDs only). Pure.
 * @throws ConnectorError (`data`, `mapping`) for a date that is not a real date, or a commune code the
 *   registry cannot take.
 */
export function toCivilRegistryRequest(state: {
  view: DossierView;
  events: readonly Pick<StoredEvent, 'type' | 'data' | 'source'>[];
}): CivilRegistryRequest | undefined {
  const { view, events } = state;
  const registration = submissionOf(events)?.civilRegistration;
  if (registration === undefined) return undefined;
  const fail = (message: string) =>
    mappingError(CIVIL_REGISTRY_TARGET, `dossier ${view.dossierCode}: ${message}`);
  if (!/^\d{5}$/.test(view.communeCode)) throw fail('maDonViDangKy needs a 5-digit commune code');
  let startedAt = view.receivedAt;
  for (const e of events) {
    if (e.type !== STATUS_CHANGED || e.source === CIVIL_REGISTRY_SOURCE) continue;
    const d = e.data as DossierStatusChanged;
    if (d.status === CIVIL_REGISTRY_DOSSIER_STATUS.processing) startedAt = d.changedAt;
  }
  if (startedAt === undefined) throw fail('ngayDangKy needs a processing or receipt time');
  const startedMs = rfc3339Instant(startedAt);
  if (Number.isNaN(startedMs)) throw fail(`ngayDangKy ${JSON.stringify(startedAt)} is not an RFC 3339 time`);
  const birthDate = toRegistryDate(registration.person.dateOfBirth);
  if (birthDate === undefined) throw fail('ngaySinh is not a yyyy-MM-dd date');
  const thongTin: CivilRegistryBirthInfo = {
    hoTen: nfc(registration.person.fullName),
    ngaySinh: birthDate,
    gioiTinh: registration.person.sex === 'female' ? 2 : 1,
  };
  if (registration.placeOfBirth !== undefined) thongTin.noiSinh = nfc(registration.placeOfBirth);
  if (registration.mother !== undefined) {
    thongTin.hoTenMe = nfc(registration.mother.fullName);
    const id = personalId(registration.mother.idNumber);
    if (id !== undefined) thongTin.soDinhDanhMe = id;
  }
  if (registration.father !== undefined) {
    thongTin.hoTenCha = nfc(registration.father.fullName);
    const id = personalId(registration.father.idNumber);
    if (id !== undefined) thongTin.soDinhDanhCha = id;
  }
  return {
    maLienThong: civilRegistryLinkCode(view.dossierCode),
    maHoSoMotCua: view.dossierCode,
    loaiDangKy: 'KHAI_SINH',
    maDonViDangKy: view.communeCode,
    ngayDangKy: formatVn(startedMs, 'dateOnly'),
    thongTin,
  };
}

/** The registered person's subject as the contract holds it, NFC. Pure. */
export function registrationSubject(registration: CivilRegistrationRequest): RegistrationSubject {
  const { fullName, dateOfBirth, sex } = registration.person;
  return { fullName: nfc(fullName), dateOfBirth, sex };
}

/** What the capture of a result needs to know besides the result itself. */
export interface CivilRegistryCaptureContext {
  dossierCode: string;
  provinceCode: string;
  communeCode: string;
  registrationType: CivilRegistrationRequest['registrationType'];
  /** The person as requested; the registry returns only their new ID number. */
  person: RegistrationSubject;
  /** True once the registry has asked for documents (status 2 seen before this result). */
  supplementRequested: boolean;
  /** The dossier's national status before these events (their first `previousStatus`). */
  dossierStatus?: number;
}

/** The events of one polled result. */
export interface CivilRegistryCapture {
  /** In the order they happened; empty when the result changes nothing for the dossier. */
  events: CloudEvent[];
  /** The registry's status (`trangThai`). */
  status: number;
  /** True for 4 (done) and 6 (rejected): the registration will not change again. */
  final: boolean;
}

/** The kinds of captured event, part of each event's id. */
export type CivilRegistryEventKind = 'status-changed' | 'registered';

/**
 * The id of the event captured for registry status `trangThai` of a registration. Capturing the same
 * result again gives the same (source, id), which the hub's ingest appends once. A registration's
 * `registered` event also names its certificate: when the registry lost a registration and issued it
 * again (after an operator's replay) under a new certificate number, that is a new fact, captured as
 * a new event, so the log follows the registry.
 */
export function civilRegistryEventId(
  maLienThong: string,
  trangThai: number,
  kind: CivilRegistryEventKind,
  certificate?: string,
): string {
  return `${maLienThong}/${trangThai}/${kind}${certificate === undefined ? '' : `/${certificate}`}`;
}

/**
 * The events of a polled result:
 *
 * | registry status        | events                                                                |
 * |------------------------|-----------------------------------------------------------------------|
 * | 1 received             | none                                                                  |
 * | 2 supplement needed    | status-changed 5, note = `lyDo`                                       |
 * | 3 processing           | status-changed 4 when a supplement was requested before, else none    |
 * | 4 done                 | (status-changed 4 as for 3), civil-status.registered, status-changed 9 |
 * | 6 rejected             | status-changed 3, note = `lyDo`                                       |
 *
 * Times are the registry's: `thoiGianCapNhat` (ISO, `+07:00`) for status changes, the 12-hour
 * `ngayCapGiayChungNhan` for the registration and the 9 that follows it. Texts are NFC. The
 * certificate file is not copied. Pure.
 * @throws ConnectorError (`data`, `mapping`) for an unknown status or a malformed date, number or ID
 *   in the result: the registry's data, which the hub will not guess at.
 */
export function civilRegistryResultEvents(
  result: CivilRegistryResult,
  context: CivilRegistryCaptureContext,
): CivilRegistryCapture {
  const code = nfc(String(result.maLienThong));
  const status = result.trangThai;
  const fail = (message: string) =>
    mappingError(CIVIL_REGISTRY_TARGET, `dossier ${context.dossierCode}, registration ${code}: ${message}`);
  const where = {
    dossierCode: context.dossierCode,
    provinceCode: context.provinceCode,
    communeCode: context.communeCode,
  };
  const events: CloudEvent[] = [];
  let previous = context.dossierStatus;
  const statusEvent = (trangThai: number, dossierStatus: number, changedAt: string, note?: string) => {
    const data: DossierStatusChanged = {
      ...where,
      status: dossierStatus,
      changedAt,
      ...(previous === undefined ? {} : { previousStatus: previous }),
      ...(note === undefined || note === '' ? {} : { note: truncate(nfc(note), MAX_NOTE_CHARS) }),
    };
    previous = dossierStatus;
    events.push(
      envelope(civilRegistryEventId(code, trangThai, 'status-changed'), STATUS_CHANGED, changedAt, data),
    );
  };
  const updatedAt = () => {
    const text = result.thoiGianCapNhat;
    const at = typeof text === 'string' ? vnTextToRfc3339(text, 'iso') : undefined;
    if (at === undefined)
      throw fail(`thoiGianCapNhat ${JSON.stringify(text)} is not a yyyy-MM-ddTHH:mm:ss+07:00 time`);
    return at;
  };
  const resumed = () => {
    if (context.supplementRequested) {
      statusEvent(CIVIL_REGISTRY_STATUS.processing, CIVIL_REGISTRY_DOSSIER_STATUS.processing, updatedAt());
    }
  };

  switch (status) {
    case CIVIL_REGISTRY_STATUS.received:
      break;
    case CIVIL_REGISTRY_STATUS.supplementNeeded:
      statusEvent(status, CIVIL_REGISTRY_DOSSIER_STATUS.documentsRequested, updatedAt(), result.lyDo);
      break;
    case CIVIL_REGISTRY_STATUS.processing:
      resumed();
      break;
    case CIVIL_REGISTRY_STATUS.done: {
      const issued = result.ngayCapGiayChungNhan;
      const registeredAt = typeof issued === 'string' ? vnTextToRfc3339(issued, 'twelveHour') : undefined;
      if (registeredAt === undefined) {
        throw fail(`ngayCapGiayChungNhan ${JSON.stringify(issued)} is not a dd/MM/yyyy hh:mm:ss AM/PM time`);
      }
      const number = typeof result.soGiayChungNhan === 'string' ? nfc(result.soGiayChungNhan).trim() : '';
      if (number === '' || number.length > 100) throw fail('soGiayChungNhan is missing or longer than 100');
      const person: RegisteredPerson = { ...context.person, fullName: nfc(context.person.fullName) };
      const id = result.soDinhDanhCaNhan;
      if (id !== undefined && id !== null && id !== '') {
        if (typeof id !== 'string' || !/^(\d{12}|\d{9})$/.test(id))
          throw fail('soDinhDanhCaNhan is not a citizen ID');
        person.idNumber = id;
      }
      resumed();
      const registered: CivilStatusRegistered = {
        ...where,
        registrationType: context.registrationType,
        registrationNumber: number,
        registeredAt,
        person,
      };
      events.push(
        envelope(
          civilRegistryEventId(code, status, 'registered', number),
          REGISTERED,
          registeredAt,
          registered,
        ),
      );
      statusEvent(status, CIVIL_REGISTRY_DOSSIER_STATUS.finished, registeredAt);
      break;
    }
    case CIVIL_REGISTRY_STATUS.rejected:
      statusEvent(status, CIVIL_REGISTRY_DOSSIER_STATUS.rejected, updatedAt(), result.lyDo);
      break;
    default:
      throw fail(`trangThai ${JSON.stringify(status)} is not one of 1, 2, 3, 4, 6`);
  }
  return {
    events,
    status,
    final: status === CIVIL_REGISTRY_STATUS.done || status === CIVIL_REGISTRY_STATUS.rejected,
  };
}

/** A status-changed note holds at most 2,000 characters. */
const MAX_NOTE_CHARS = 2000;

function envelope(id: string, type: string, time: string, data: unknown): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: CIVIL_REGISTRY_SOURCE,
    type,
    time,
    datacontenttype: 'application/json',
    data,
  };
}

/**
 * The registry's `soDinhDanh*` fields take the 12-digit personal ID only; a legacy 9-digit number is
 * not one, so it is left out (the parent's name still goes) rather than have the registry refuse the
 * whole registration.
 */
function personalId(idNumber: string | undefined): string | undefined {
  return idNumber !== undefined && /^\d{12}$/.test(idNumber) ? idNumber : undefined;
}

/** `yyyy-MM-dd` as `dd/MM/yyyy`, or undefined when it is not a real calendar date. */
function toRegistryDate(date: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return undefined;
  const [, y, mo, d] = m;
  const t = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (
    t.getUTCFullYear() !== Number(y) ||
    t.getUTCMonth() + 1 !== Number(mo) ||
    t.getUTCDate() !== Number(d)
  ) {
    return undefined;
  }
  return `${d}/${mo}/${y}`;
}

const nfc = (s: string): string => s.normalize('NFC');

/** At most `max` code points, so a surrogate pair is never split. */
function truncate(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max).join('');
}
