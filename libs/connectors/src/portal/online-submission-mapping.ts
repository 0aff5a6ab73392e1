import type { AdminUnits, CloudEvent, DossierSubmitted } from '#lgsp/contracts';
import { vnTextToRfc3339 } from '../core/vn-time.js';
import type { PortalOnlineSubmission } from './external/portal-online-wire.js';

/** The `source` of the events captured from the national portal. */
export const PORTAL_SOURCE = '/national/portal';
export const DOSSIER_SUBMITTED_TYPE = 'vn.gov.lgsp.dossier.submitted.v1';

/** Why a submission could not become an event; stable, for logs and metrics. */
export type RefusalReason =
  | 'dossier-code' // no MaHoSo, or not `{agency ID}-{yyMMdd}-{counter}`
  | 'no-unit' // no MaDonVi
  | 'province-only' // a 2-digit MaDonVi: no commune to route the dossier to
  | 'unknown-unit' // MaDonVi is not a commune of the administrative-unit list
  | 'id-number' // no usable citizen ID, or one of the wrong length for its kind
  | 'received-at' // NgayTiepNhan missing or not a real yyyyMMddHHmmss time
  | 'missing-field' // MaTTHC or ChuHoSo missing
  | 'invalid'; // the hub's ingest refused the event (schema), see the detail

/**
 * Why one submission was refused. Holds no personal data (no name, no ID number): it is logged and
 * shown to operators.
 */
export interface SubmissionRefusal {
  reason: RefusalReason;
  /** What is wrong, naming the field and never a citizen's data. */
  detail: string;
}

/** A dossier code: `{agency ID}-{yyMMdd}-{counter}`; the agency ID is the part before the date. */
const DOSSIER_CODE = /^((?=[0-9A-Z.]{1,35}-)[0-9A-Z]+(?:\.[0-9A-Z]+)*)-\d{6}-\d{1,10}$/;
const COMMUNE = /^\d{5}$/;
const PROVINCE = /^\d{2}$/;
const ID_DIGITS: Readonly<Record<number, number>> = { 1: 12, 2: 9 };

/** The event id of a submission: derived from its dossier code, so a submission read twice is stored once. */
export const submittedEventId = (dossierCode: string): string => `portal-online:${dossierCode}`;

/**
 * An online submission of the portal as a `vn.gov.lgsp.dossier.submitted.v1` event with source
 * {@link PORTAL_SOURCE}, or why it cannot be one. Texts come out NFC, `NgayTiepNhan` as RFC 3339
 * with `+07:00`. The commune is `MaDonVi` and the province that of the commune in `units`; a 2-digit
 * `MaDonVi` names a province only and is refused, since the event (and every one-stop-shop
 * delivery after it) needs a commune, and guessing one would send the dossier to the wrong office.
 * The applicant's ID is the first `DinhDanhCHS` entry (LoaiDinhDanh 1: 12 digits, 2: 9 digits),
 * else `SoGiayToChuHoSo` when it is 12 or 9 digits. Pure.
 */
export function toSubmittedEvent(
  submission: PortalOnlineSubmission,
  units: Pick<AdminUnits, 'provinceOfCommune'>,
): { event: CloudEvent & { data: DossierSubmitted } } | { refusal: SubmissionRefusal } {
  const refuse = (reason: RefusalReason, detail: string) => ({ refusal: { reason, detail } });

  const dossierCode = code(submission.MaHoSo);
  const agency = dossierCode === undefined ? undefined : DOSSIER_CODE.exec(dossierCode)?.[1];
  if (dossierCode === undefined || agency === undefined) {
    return refuse('dossier-code', 'MaHoSo is missing or not {agency ID}-{yyMMdd}-{counter}');
  }

  const unit = code(submission.MaDonVi);
  if (unit === undefined) return refuse('no-unit', 'MaDonVi is missing');
  if (PROVINCE.test(unit)) {
    return refuse('province-only', `MaDonVi ${unit} is a province: the dossier has no commune`);
  }
  const provinceCode = COMMUNE.test(unit) ? units.provinceOfCommune(unit) : undefined;
  if (provinceCode === undefined) {
    return refuse(
      'unknown-unit',
      COMMUNE.test(unit)
        ? `MaDonVi ${unit} is not a commune of the list`
        : 'MaDonVi is not a 5-digit commune code',
    );
  }

  const procedureCode = code(submission.MaTTHC);
  if (procedureCode === undefined) return refuse('missing-field', 'MaTTHC is missing');
  const fullName = text(submission.ChuHoSo);
  if (fullName === undefined) return refuse('missing-field', 'ChuHoSo is missing');

  const id = idNumber(submission);
  if ('refusal' in id) return id;

  const receivedText = code(submission.NgayTiepNhan);
  const receivedAt = receivedText === undefined ? undefined : vnTextToRfc3339(receivedText, 'portal');
  if (receivedAt === undefined) {
    return refuse(
      'received-at',
      receivedText === undefined
        ? 'NgayTiepNhan is missing'
        : /^\d{1,20}$/.test(receivedText)
          ? `NgayTiepNhan ${receivedText} is not a real yyyyMMddHHmmss time`
          : 'NgayTiepNhan is not a yyyyMMddHHmmss time',
    );
  }

  const data: DossierSubmitted = {
    dossierCode,
    procedureCode,
    agencyCode: agency,
    provinceCode,
    communeCode: unit,
    channel: 'online',
    applicant: { fullName, idNumber: id.idNumber },
    receivedAt,
  };
  const procedureName = text(submission.TenTTHC);
  if (procedureName !== undefined) data.procedureName = procedureName;
  const summary = text(submission.TrichYeuHoSo);
  if (summary !== undefined) data.summary = summary;
  portalOwnFacts(submission, data);

  return {
    event: {
      specversion: '1.0',
      id: submittedEventId(dossierCode),
      source: PORTAL_SOURCE,
      type: DOSSIER_SUBMITTED_TYPE,
      time: receivedAt,
      subject: dossierCode,
      datacontenttype: 'application/json',
      data,
    },
  };
}

const APPLICANT_TYPES = { '1': 'citizen', '2': 'business', '3': 'agency', '4': 'other' } as const;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const PHONE = /^\+?[0-9]{8,15}$/;

/**
 * The portal's own facts of the submission, kept on the event so that the dossier goes back to the
 * portal as it came: the field (`MaLinhVuc`, `TenLinhVuc`), the applicant's type and contact, when
 * it was submitted and whether the account was verified with VNeID. A value the event could not
 * hold is left out, never a reason to refuse the submission.
 */
function portalOwnFacts(s: PortalOnlineSubmission, data: DossierSubmitted): void {
  const sectorCode = code(s.MaLinhVuc);
  const sectorName = text(s.TenLinhVuc);
  if (
    sectorCode !== undefined &&
    sectorName !== undefined &&
    sectorCode.length <= 50 &&
    sectorName.length <= 500
  ) {
    data.sector = { code: sectorCode, name: sectorName };
  }
  const type = code(s.LoaiDoiTuong);
  if (type !== undefined && type in APPLICANT_TYPES) {
    data.applicantType = APPLICANT_TYPES[type as keyof typeof APPLICANT_TYPES];
  }
  const email = code(s.Email);
  if (email !== undefined && email.length <= 254 && EMAIL.test(email)) data.applicant.email = email;
  const phone = code(s.SoDienThoai);
  if (phone !== undefined && PHONE.test(phone)) data.applicant.phone = phone;
  const submitted = code(s.NgayNopHoSo);
  const submittedAt = submitted === undefined ? undefined : vnTextToRfc3339(submitted, 'portal');
  if (submittedAt !== undefined) data.submittedAt = submittedAt;
  const verified = code(s.TaiKhoanDuocXacThucVoiVNeID);
  if (verified === '1' || verified === '0') data.identityVerified = verified === '1';
}

function idNumber(s: PortalOnlineSubmission): { idNumber: string } | { refusal: SubmissionRefusal } {
  const identities = Array.isArray(s.DinhDanhCHS) ? (s.DinhDanhCHS as unknown[]) : [];
  const first = identities[0];
  if (first !== undefined) {
    const entry = (typeof first === 'object' && first !== null ? first : {}) as Record<string, unknown>;
    const kind = Number(code(entry.LoaiDinhDanh));
    const digits = ID_DIGITS[kind];
    const number = code(entry.SoDinhDanh);
    if (digits === undefined) {
      return { refusal: { reason: 'id-number', detail: 'DinhDanhCHS[0].LoaiDinhDanh is not 1 or 2' } };
    }
    if (number === undefined || !new RegExp(`^\\d{${digits}}$`).test(number)) {
      return {
        refusal: {
          reason: 'id-number',
          detail: `DinhDanhCHS[0].SoDinhDanh is not ${digits} digits (LoaiDinhDanh ${kind})`,
        },
      };
    }
    return { idNumber: number };
  }
  const paper = code(s.SoGiayToChuHoSo);
  if (paper === undefined) {
    return { refusal: { reason: 'id-number', detail: 'neither DinhDanhCHS nor SoGiayToChuHoSo is given' } };
  }
  if (!/^(\d{12}|\d{9})$/.test(paper)) {
    return { refusal: { reason: 'id-number', detail: 'SoGiayToChuHoSo is not a 12- or 9-digit ID' } };
  }
  return { idNumber: paper };
}

/** A code the portal writes as a string or a number, trimmed; undefined when absent or empty. */
function code(v: unknown): string | undefined {
  const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'string' ? v.trim() : '';
  return s === '' ? undefined : s.normalize('NFC');
}

/** A text in NFC (the portal may send NFD), trimmed; undefined when absent or blank. */
function text(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.normalize('NFC').trim();
  return s === '' ? undefined : s;
}
