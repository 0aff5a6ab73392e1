import type {
  CivilRegistrationRequest,
  CivilStatusRegistered,
  CloudEvent,
  DossierStatusChanged,
  DossierSubmittedV2,
  RegisteredPerson,
  RegistrationSubject,
} from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import type { DossierView } from '#lgsp/projections';
import { submissionData } from '../core/dossier-facts.js';
import { ERASED, isErased } from '../core/erasure.js';
import { mappingError } from '../core/errors.js';
import { formatVn, rfc3339Instant, vnTextToRfc3339 } from '../core/vn-time.js';
import {
  CIVIL_REGISTRY_STATUS,
  type CivilRegistryBirthData,
  type CivilRegistryModule,
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

const STATUS_CHANGED = 'vn.gov.lgsp.dossier.status-changed.v1';
const REGISTERED = 'vn.gov.lgsp.civil-status.registered.v1';

/** The registry's module of a birth registration. */
export const BIRTH_MODULE: CivilRegistryModule = 'LTKS';

/** The national procedure code of birth registration, sent to DVCLT when the dossier names none. */
export const BIRTH_PROCEDURE_CODE = '1.001193';

/** The dossier's submission (its last, of any version, read at the newest), when its events hold one. Pure. */
export function submissionOf(
  events: readonly Pick<StoredEvent, 'type' | 'data'>[],
): DossierSubmittedV2 | undefined {
  let submitted: DossierSubmittedV2 | undefined;
  for (const e of events) submitted = submissionData(e) ?? submitted;
  return submitted;
}

/** True when one of the events was captured from the civil registry, i.e. it has the registration. */
export function hasCivilRegistryResult(events: readonly Pick<StoredEvent, 'source'>[]): boolean {
  return events.some((e) => e.source === CIVIL_REGISTRY_SOURCE);
}

/** A `NhanDKHT` request but for `maHoSoLT`, which DVCLT issues. */
export type CivilRegistryDraft = Omit<CivilRegistryRequest, 'maHoSoLT'>;

/**
 * The `NhanDKHT` request (but for `maHoSoLT`) of a dossier whose submission carries a
 * `civilRegistration`, or `undefined` when it carries none. `ngayTiepNhan` is the dossier's receipt
 * (else the day processing started: the last status change to 4 not captured from the registry) as
 * `dd/MM/yyyy HH:mm:ss`, Vietnam local time; `data` is the JSON string of the `nks*`/`me*`/`cha*`
 * person fields with the birth date as `dd.MM.yyyy`. Texts are NFC; a parent's legacy 9-digit ID is
 * left out (the registry takes 12-digit IDs only). No attachments: the hub holds none. Pure.
 *
 * After an erasure the registration's personal values read `[erased]`: they are written as `[erased]`
 * (the birth date too), which the registry cannot register; the connector never sends such a request
 * (see {@link registrationErased}), reconciliation does not compare those fields.
 * @throws ConnectorError (`data`, `mapping`) for a date that is not a real date, or a commune code the
 *   registry cannot take.
 */
export function toCivilRegistryRequest(state: {
  view: DossierView;
  events: readonly Pick<StoredEvent, 'type' | 'data' | 'source'>[];
}): CivilRegistryDraft | undefined {
  const { view, events } = state;
  const registration = submissionOf(events)?.civilRegistration;
  if (registration === undefined) return undefined;
  const fail = (message: string) =>
    mappingError(CIVIL_REGISTRY_TARGET, `dossier ${view.dossierCode}: ${message}`);
  if (!/^\d{5}$/.test(view.communeCode)) throw fail('maDonVi needs a 5-digit commune code');
  let receivedAt = view.receivedAt;
  if (receivedAt === undefined) {
    for (const e of events) {
      if (e.type !== STATUS_CHANGED || e.source === CIVIL_REGISTRY_SOURCE) continue;
      const d = e.data as DossierStatusChanged;
      if (d.status === CIVIL_REGISTRY_DOSSIER_STATUS.processing) receivedAt = d.changedAt;
    }
  }
  if (receivedAt === undefined) throw fail('ngayTiepNhan needs a receipt or processing time');
  const receivedMs = rfc3339Instant(receivedAt);
  if (Number.isNaN(receivedMs))
    throw fail(`ngayTiepNhan ${JSON.stringify(receivedAt)} is not an RFC 3339 time`);
  const birthDate = isErased(registration.person.dateOfBirth)
    ? ERASED
    : toRegistryDate(registration.person.dateOfBirth);
  if (birthDate === undefined) throw fail('nksNgaySinh is not a yyyy-MM-dd date');
  const data: CivilRegistryBirthData = {
    nksHoTen: nfc(registration.person.fullName),
    nksNgaySinh: birthDate,
    nksGioiTinh: registration.person.sex === 'female' ? 2 : 1,
  };
  if (registration.placeOfBirth !== undefined) data.nksNoiSinh = nfc(registration.placeOfBirth);
  if (registration.mother !== undefined) {
    data.meHoTen = nfc(registration.mother.fullName);
    const id = personalId(registration.mother.idNumber);
    if (id !== undefined) data.meSoDDCN = id;
  }
  if (registration.father !== undefined) {
    data.chaHoTen = nfc(registration.father.fullName);
    const id = personalId(registration.father.idNumber);
    if (id !== undefined) data.chaSoDDCN = id;
  }
  return {
    maDonVi: view.communeCode,
    module: BIRTH_MODULE,
    maHoSoMCDT: view.dossierCode,
    ngayTiepNhan: formatVn(Math.floor(receivedMs / 1000) * 1000, 'legacy'),
    data: JSON.stringify(data),
    fileDinhKem: [],
  };
}

/**
 * True when a personal value of the dossier's `civilRegistration` (the child's name, birth date or
 * place of birth, a parent's name or ID) reads `[erased]`: its subject's key was destroyed. Pure.
 */
export function registrationErased(events: readonly Pick<StoredEvent, 'type' | 'data'>[]): boolean {
  const registration = submissionOf(events)?.civilRegistration;
  if (registration === undefined) return false;
  const { person, mother, father, placeOfBirth } = registration;
  return [
    person.fullName,
    person.dateOfBirth,
    placeOfBirth,
    mother?.fullName,
    mother?.idNumber,
    father?.fullName,
    father?.idNumber,
  ].some(isErased);
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
 * The id of the event captured for registry status `trangThai` of a dossier (`maHoSoMCDT`). Capturing the same
 * result again gives the same (source, id), which the hub's ingest appends once. A registration's
 * `registered` event also names its certificate: when the registry lost a registration and issued it
 * again (after an operator's replay) under a new certificate number, that is a new fact, captured as
 * a new event, so the log follows the registry.
 */
export function civilRegistryEventId(
  maHoSoMCDT: string,
  trangThai: number,
  kind: CivilRegistryEventKind,
  certificate?: string,
): string {
  return `${maHoSoMCDT}/${trangThai}/${kind}${certificate === undefined ? '' : `/${certificate}`}`;
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
 * Times are the registry's: `ngayCapNhat` (ISO, `+07:00`) for status changes, the day `ngayDangKy`
 * (`dd/MM/yyyy`, taken as its first instant) for the registration. The registration number is
 * `soDangKy`; the child's ID `soDinhDanh`. Texts are NFC. The certificate file (`ketQuaXuLy`) is not
 * copied. Pure.
 * @throws ConnectorError (`data`, `mapping`) for an unknown status or a malformed date, number or ID
 *   in the result: the registry's data, which the hub will not guess at.
 */
export function civilRegistryResultEvents(
  result: CivilRegistryResult,
  context: CivilRegistryCaptureContext,
): CivilRegistryCapture {
  const code = nfc(String(result.maHoSoMCDT));
  const status = result.trangThai;
  const fail = (message: string) =>
    mappingError(CIVIL_REGISTRY_TARGET, `dossier ${context.dossierCode}: ${message}`);
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
    const text = result.ngayCapNhat;
    const at = typeof text === 'string' ? vnTextToRfc3339(text, 'iso') : undefined;
    if (at === undefined)
      throw fail(`ngayCapNhat ${JSON.stringify(text)} is not a yyyy-MM-ddTHH:mm:ss+07:00 time`);
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
      const day = result.ngayDangKy;
      const registeredAt = typeof day === 'string' ? vnTextToRfc3339(day, 'dateOnly') : undefined;
      if (registeredAt === undefined)
        throw fail(`ngayDangKy ${JSON.stringify(day)} is not a dd/MM/yyyy date`);
      const finishedAt = updatedAt();
      const soDangKy: unknown = result.soDangKy;
      const number =
        typeof soDangKy === 'string' || typeof soDangKy === 'number' ? nfc(String(soDangKy)).trim() : '';
      if (number === '' || number.length > 100) throw fail('soDangKy is missing or longer than 100');
      const person: RegisteredPerson = { ...context.person, fullName: nfc(context.person.fullName) };
      const id = result.soDinhDanh;
      if (id !== undefined && id !== null && id !== '') {
        if (typeof id !== 'string' || !/^(\d{12}|\d{9})$/.test(id))
          throw fail('soDinhDanh is not a citizen ID');
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
      statusEvent(status, CIVIL_REGISTRY_DOSSIER_STATUS.finished, finishedAt);
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
 * The registry's `*SoDDCN` fields take the 12-digit personal ID only; a legacy 9-digit number is
 * not one, so it is left out (the parent's name still goes) rather than have the registry refuse the
 * whole registration.
 */
function personalId(idNumber: string | undefined): string | undefined {
  return idNumber !== undefined && /^\d{12}$/.test(idNumber) ? idNumber : undefined;
}

/** `yyyy-MM-dd` as `dd.MM.yyyy`, or undefined when it is not a real calendar date. */
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
  return `${d}.${mo}.${y}`;
}

const nfc = (s: string): string => s.normalize('NFC');

/** At most `max` code points, so a surrogate pair is never split. */
function truncate(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max).join('');
}
