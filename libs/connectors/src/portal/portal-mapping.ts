import type { StoredEvent } from '#lgsp/event-store';
import type { DossierView } from '#lgsp/projections';
import { dossierFacts, type DossierFacts } from '../core/dossier-facts.js';
import { mappingError } from '../core/errors.js';
import { toTargetTime } from '../core/vn-time.js';
import type { PortalDossierRecord, PortalFee, PortalProgressRecord } from './external/portal-wire.js';

/** The target name of the national portal in parking, breaker, logs and errors. */
export const PORTAL_TARGET = 'portal';

/** The portal's summary field holds about 1,000 characters. */
export const MAX_SUMMARY_CHARS = 1000;
/** `NguoiXuLy` holds at most 50 characters. */
export const MAX_HANDLER_CHARS = 50;

/**
 * What the portal needs beyond the {@link DossierView}: the {@link DossierFacts} (its `returnedAt` is
 * the portal's `NgayTra`), taken from the dossier's own events by {@link portalFacts}.
 */
export type PortalFacts = DossierFacts;

/** Folds a dossier's events (in stream order) into the {@link PortalFacts}. Pure. */
export const portalFacts: (events: readonly Pick<StoredEvent, 'type' | 'data'>[]) => PortalFacts =
  dossierFacts;

const CHANNELS = { 'in-person': 1, online: 2, postal: 3 } as const;

/**
 * The `DongBoHoSoMC` record of a dossier: its projected state in the portal's fields. Texts are
 * NFC; times are `yyyyMMddHHmmss` in Vietnam local time; a dossier without a status change yet is
 * 1 (new submission). Pure.
 * @throws ConnectorError (`data`, `mapping`) when a field the portal requires is missing or a time
 *   is not RFC 3339.
 */
export function toPortalDossier(view: DossierView, facts: PortalFacts): PortalDossierRecord {
  const missing = (field: string, from: string) =>
    mappingError(PORTAL_TARGET, `dossier ${view.dossierCode}: ${field} is required (${from} is missing)`);
  if (view.procedureCode === undefined) throw missing('MaTTHC', 'procedureCode');
  if (view.procedureName === undefined) throw missing('TenTTHC', 'procedureName');
  if (view.channel === undefined) throw missing('KenhThucHien', 'channel');
  if (view.applicant === undefined) throw missing('ChuHoSo', 'applicant');
  if (view.receivedAt === undefined) throw missing('NgayTiepNhan', 'receivedAt');
  const status = view.status ?? 1;
  if (!Number.isInteger(status) || status < 1 || status > 10) {
    throw mappingError(PORTAL_TARGET, `dossier ${view.dossierCode}: status ${status} is not 1–10`);
  }
  const record: PortalDossierRecord = {
    MaHoSo: view.dossierCode,
    MaTTHC: view.procedureCode,
    TenTTHC: nfc(view.procedureName),
    KenhThucHien: CHANNELS[view.channel],
    ChuHoSo: nfc(view.applicant.fullName),
    DinhDanhCHS: [],
    NgayTiepNhan: toPortalTime(view.receivedAt, 'NgayTiepNhan', view.dossierCode),
    TrangThaiHoSo: status,
    DanhSachLePhi: facts.fees.map(toPortalFee),
    DanhSachGiayToKetQua: [],
    MaDonVi: view.communeCode,
  };
  const id = facts.applicantIdNumber;
  if (id !== undefined && id !== '') {
    record.SoGiayToChuHoSo = id;
    record.DinhDanhCHS = [{ LoaiDinhDanh: id.length === 9 ? 2 : 1, SoDinhDanh: id }];
  }
  if (facts.summary !== undefined && facts.summary !== '') {
    record.TrichYeuHoSo = truncate(nfc(facts.summary), MAX_SUMMARY_CHARS);
  }
  if (view.dueAt !== undefined) record.NgayHenTra = toPortalTime(view.dueAt, 'NgayHenTra', view.dossierCode);
  if (status === 10 && facts.returnedAt !== undefined) {
    record.NgayTra = toPortalTime(facts.returnedAt, 'NgayTra', view.dossierCode);
  }
  return record;
}

/** The `CapNhatTienDoHoSoMC` records of a dossier, oldest first. Pure. */
export function toPortalProgress(dossierCode: string, facts: PortalFacts): PortalProgressRecord[] {
  return facts.progress.map((p) => {
    const r: PortalProgressRecord = {
      MaHoSo: dossierCode,
      NguoiXuLy: truncate(nfc(p.handler.name), MAX_HANDLER_CHARS),
      ThoiDiemXuLy: toPortalTime(p.changedAt, 'ThoiDiemXuLy', dossierCode),
      TrangThai: p.status,
    };
    if (p.handler.title !== undefined) r.ChucDanh = nfc(p.handler.title);
    if (p.handler.department !== undefined) r.PhongBanXuLy = nfc(p.handler.department);
    if (p.note !== undefined) r.NoiDungXuLy = nfc(p.note);
    return r;
  });
}

/**
 * An RFC 3339 time (any offset) as the portal writes it: `yyyyMMddHHmmss` in Vietnam local time
 * (UTC+7, no daylight saving), without an offset; fractions of a second are dropped.
 * @throws ConnectorError (`data`, `mapping`) when `time` is not RFC 3339.
 */
export function toPortalTime(time: string, field = 'time', dossierCode?: string): string {
  return toTargetTime(PORTAL_TARGET, 'portal', time, field, dossierCode);
}

function toPortalFee(fee: PortalFacts['fees'][number]): PortalFee {
  return {
    ...(fee.code === undefined ? {} : { MaPhiLePhi: fee.code }),
    TenPhiLePhi: nfc(fee.name),
    Gia: fee.amount,
  };
}

const nfc = (s: string): string => s.normalize('NFC');

/** At most `max` code points, so a surrogate pair is never split. */
function truncate(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max).join('');
}
