import type { AdminUnits, CloudEvent, DossierStatusChanged, DossierSubmitted } from '#lgsp/contracts';
import { vnTextToRfc3339 } from '../core/vn-time.js';
import { OSS_STATUS, type OneStopShopStoredDossier } from './external/one-stop-shop-wire.js';
import { OSS_CHANNEL } from './one-stop-shop-mapping.js';

const SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';
const STATUS_CHANGED = 'vn.gov.lgsp.dossier.status-changed.v1';

/**
 * The `source` of the events a commune's one-stop-shop produces (the one its clients post under):
 * a dossier captured from the shop is the shop's, as if it had pushed it.
 */
export const oneStopShopSource = (communeCode: string): string => `/communes/${communeCode}/one-stop-shop`;

/**
 * The id of an event captured from the shop's record of a dossier: `one-stop-shop:<ma_ho_so>/<fact>`,
 * with `submitted`, `progress/<n>` (the n-th `tien_do` entry, from 0) or `status/<code>` as the fact,
 * so a second capture of the same record stores nothing twice.
 */
export const oneStopShopCapturedId = (dossierCode: string, fact: string): string =>
  `one-stop-shop:${dossierCode}/${fact}`;

/** A dossier code: `{agency ID}-{yyMMdd}-{counter}`; the agency ID is the part before the date. */
const DOSSIER_CODE = /^((?=[0-9A-Z.]{1,35}-)[0-9A-Z]+(?:\.[0-9A-Z]+)*)-\d{6}-\d{1,10}$/;
const COMMUNE = /^\d{5}$/;
const ID_NUMBER = /^(\d{12}|\d{9})$/;
const STATUS_CODE: ReadonlyMap<string, number> = new Map(
  Object.entries(OSS_STATUS).map(([code, name]) => [name, Number(code)]),
);
const CHANNEL = new Map<string, DossierSubmitted['channel']>(
  Object.entries(OSS_CHANNEL).map(([channel, kenh]) => [kenh, channel as DossierSubmitted['channel']]),
);

/**
 * The shop's record of a dossier the log never had, as the events it tells, in order: the
 * `dossier.submitted` (`ma_thu_tuc`, `ten_thu_tuc`, `kenh_nop`, the applicant `ho_ten_nguoi_nop` and
 * `so_giay_to`, `trich_yeu`, `ngay_nhan`, `ngay_hen_tra`, `le_phi`; the agency from the dossier code,
 * like the portal's online capture), a `dossier.status-changed` per `tien_do` entry (its handler,
 * note and time), and one more to the record's `trang_thai` (at `ngay_cap_nhat`, no handler) when
 * the progress does not end there. Source {@link oneStopShopSource} of `ma_don_vi`, ids
 * {@link oneStopShopCapturedId}; texts NFC, times `+07:00`. Or, when the record lacks what the
 * events require, why (naming the field, never its value). Pure.
 */
export function oneStopShopRecordEvents(
  record: OneStopShopStoredDossier,
  units: Pick<AdminUnits, 'provinceOfCommune'>,
): { events: CloudEvent[] } | { refusal: string } {
  const refuse = (refusal: string) => ({ refusal });
  const dossierCode = text(record.ma_ho_so);
  const agencyCode = dossierCode === undefined ? undefined : DOSSIER_CODE.exec(dossierCode)?.[1];
  if (dossierCode === undefined || agencyCode === undefined)
    return refuse('ma_ho_so is not {agency ID}-{yyMMdd}-{counter}: no agency for the submission');
  const communeCode = text(record.ma_don_vi);
  const provinceCode =
    communeCode !== undefined && COMMUNE.test(communeCode) ? units.provinceOfCommune(communeCode) : undefined;
  if (communeCode === undefined || provinceCode === undefined)
    return refuse('ma_don_vi is not a commune of the administrative-unit list');
  const procedureCode = text(record.ma_thu_tuc);
  if (procedureCode === undefined) return refuse('ma_thu_tuc is missing');
  const channel = CHANNEL.get(String(record.kenh_nop));
  if (channel === undefined) return refuse('kenh_nop is not TRUC_TIEP, TRUC_TUYEN or BUU_CHINH');
  const fullName = text(record.ho_ten_nguoi_nop);
  if (fullName === undefined) return refuse('ho_ten_nguoi_nop is missing');
  const idNumber = text(record.so_giay_to);
  if (idNumber === undefined || !ID_NUMBER.test(idNumber))
    return refuse('so_giay_to is missing or not a 12- or 9-digit citizen ID (the submission requires one)');
  const receivedAt = time(record.ngay_nhan);
  if (receivedAt === undefined) return refuse('ngay_nhan is missing or not a dd/MM/yyyy HH:mm:ss time');
  const status = STATUS_CODE.get(String(record.trang_thai));
  if (status === undefined) return refuse('trang_thai is not one of the shop status names');

  const where = { dossierCode, provinceCode, communeCode };
  const source = oneStopShopSource(communeCode);
  const envelope = (fact: string, type: string, at: string, data: unknown): CloudEvent => ({
    specversion: '1.0',
    id: oneStopShopCapturedId(dossierCode, fact),
    source,
    type,
    time: at,
    subject: dossierCode,
    datacontenttype: 'application/json',
    data,
  });

  const submitted: DossierSubmitted = {
    ...where,
    procedureCode,
    agencyCode,
    channel,
    applicant: { fullName, idNumber },
    receivedAt,
  };
  const procedureName = text(record.ten_thu_tuc);
  if (procedureName !== undefined) submitted.procedureName = procedureName;
  const summary = text(record.trich_yeu);
  if (summary !== undefined) submitted.summary = summary;
  if (record.ngay_hen_tra !== undefined) {
    const dueAt = time(record.ngay_hen_tra);
    if (dueAt === undefined) return refuse('ngay_hen_tra is not a dd/MM/yyyy HH:mm:ss time');
    submitted.dueAt = dueAt;
  }
  const fees = Array.isArray(record.le_phi) ? record.le_phi : [];
  for (const [i, fee] of fees.entries()) {
    const name = text(fee.ten);
    if (name === undefined || !Number.isSafeInteger(fee.so_tien) || fee.so_tien < 0)
      return refuse(`le_phi[${i}] has no ten or no whole so_tien`);
  }
  if (fees.length > 0) submitted.fees = fees.map((f) => ({ name: text(f.ten)!, amount: f.so_tien }));
  const events = [envelope('submitted', SUBMITTED, receivedAt, submitted)];

  let previous: number | undefined;
  const progress = Array.isArray(record.tien_do) ? record.tien_do : [];
  for (const [i, entry] of progress.entries()) {
    const at = time(entry.thoi_gian);
    const step = STATUS_CODE.get(String(entry.trang_thai));
    const handler = text(entry.can_bo);
    if (at === undefined || step === undefined || handler === undefined)
      return refuse(`tien_do[${i}] lacks a thoi_gian, a trang_thai or a can_bo`);
    const changed: DossierStatusChanged = {
      ...where,
      status: step,
      changedAt: at,
      ...(previous === undefined ? {} : { previousStatus: previous }),
      handler: {
        name: handler,
        ...(text(entry.chuc_vu) === undefined ? {} : { title: text(entry.chuc_vu)! }),
        ...(text(entry.phong_ban) === undefined ? {} : { department: text(entry.phong_ban)! }),
      },
      ...(text(entry.noi_dung) === undefined ? {} : { note: text(entry.noi_dung)! }),
    };
    events.push(envelope(`progress/${i}`, STATUS_CHANGED, at, changed));
    previous = step;
  }
  if ((previous ?? 1) !== status) {
    const at = time(record.ngay_cap_nhat);
    if (at === undefined)
      return refuse('ngay_cap_nhat is not a dd/MM/yyyy HH:mm:ss time: no time for the status trang_thai');
    const changed: DossierStatusChanged = {
      ...where,
      status,
      changedAt: at,
      ...(previous === undefined ? {} : { previousStatus: previous }),
    };
    events.push(envelope(`status/${status}`, STATUS_CHANGED, at, changed));
  }
  return { events };
}

function text(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.normalize('NFC').trim();
  return t === '' ? undefined : t;
}

function time(v: unknown): string | undefined {
  return typeof v === 'string' ? vnTextToRfc3339(v.trim(), 'legacy') : undefined;
}
