import type { DossierSubmitted } from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import type { DossierView } from '#lgsp/projections';
import { dossierFacts, type DossierFacts } from '../core/dossier-facts.js';
import { isErased, unlessErased } from '../core/erasure.js';
import { mappingError } from '../core/errors.js';
import { toTargetTime } from '../core/vn-time.js';
import {
  OSS_STATUS,
  type OneStopShopChannel,
  type OneStopShopDossierBody,
  type OneStopShopFee,
  type OneStopShopProgressEntry,
} from './external/one-stop-shop-wire.js';

/** The target name of the one-stop-shop in parking, breaker, logs and errors. */
export const ONE_STOP_SHOP_TARGET = 'one-stop-shop';

/**
 * The `noi_dung` of a progress entry whose status change carries no note: the shop's officers read
 * the progress as a journal, and an entry without a line of text says nothing to them.
 */
export const OSS_DEFAULT_PROGRESS_NOTE: Readonly<Record<number, string>> = {
  1: 'Hồ sơ mới nộp',
  2: 'Đã tiếp nhận hồ sơ',
  3: 'Từ chối tiếp nhận hồ sơ',
  4: 'Hồ sơ đang được xử lý',
  5: 'Yêu cầu bổ sung hồ sơ',
  6: 'Chờ công dân nộp phí, lệ phí',
  7: 'Công dân rút hồ sơ',
  8: 'Dừng xử lý hồ sơ',
  9: 'Đã xử lý xong hồ sơ',
  10: 'Đã trả kết quả cho công dân',
};

/** `kenh_nop` of each channel of the submission. */
export const OSS_CHANNEL: Readonly<Record<DossierSubmitted['channel'], OneStopShopChannel>> = {
  'in-person': 'TRUC_TIEP',
  online: 'TRUC_TUYEN',
  postal: 'BUU_CHINH',
};

/**
 * The lengths the shop enforces, in UTF-16 code units as it counts them (its `String.length`);
 * longer texts are cut, never refused.
 */
export const OSS_MAX_CHARS = {
  ten_thu_tuc: 500,
  ho_ten_nguoi_nop: 250,
  trich_yeu: 1000,
  le_phi_ten: 250,
  can_bo: 100,
  chuc_vu: 250,
  phong_ban: 250,
  noi_dung: 2000,
} as const;

/**
 * What the shop needs beyond the {@link DossierView}: the {@link DossierFacts} (its `returnedAt` is
 * the shop's `ngay_tra`), whose fees the shop takes without their code.
 */
export type OneStopShopFacts = Omit<DossierFacts, 'fees'> & {
  fees: readonly { name: string; amount: number }[];
};

/**
 * Folds a dossier's events (in stream order) into the {@link OneStopShopFacts}. A status change
 * without a handler makes no progress entry, since the shop requires `can_bo`. Pure.
 */
export const oneStopShopFacts: (events: readonly Pick<StoredEvent, 'type' | 'data'>[]) => OneStopShopFacts =
  dossierFacts;

/** A dossier's state: what {@link DossierSyncConnector} hands to `send`. */
export interface OneStopShopState {
  dossier: string;
  view: DossierView;
  events: readonly Pick<StoredEvent, 'type' | 'data'>[];
}

/**
 * The `PUT /api/v1/ho-so/{ma_ho_so}` body of a dossier: its projected state in the shop's fields.
 * Texts are NFC and cut to the shop's limits; times are `dd/MM/yyyy HH:mm:ss` in Vietnam local time;
 * a dossier without a status change yet is `MOI_NOP`. `phien_ban` is the stream version of the state,
 * so the shop refuses (409) a state older than the one it holds (a `person.erased` event is not a
 * view event: the state sent for it keeps its version, which the shop takes). After an erasure the
 * name is sent as `[erased]` and the ID left out (see {@link oneStopShopErasedFields}). Pure.
 * @throws ConnectorError (`data`, `mapping`) when a field the shop requires is missing, the status is
 *   not 1–10 or a time is not RFC 3339 (never because a value was erased). Messages name fields, never
 *   their personal values.
 */
export function toOneStopShopDossier(
  state: OneStopShopState,
  facts: OneStopShopFacts = oneStopShopFacts(state.events),
): OneStopShopDossierBody {
  const { view } = state;
  const code = state.dossier;
  const missing = (field: string, from: string) =>
    mappingError(ONE_STOP_SHOP_TARGET, `dossier ${code}: ${field} is required (${from} is missing)`);
  if (view.procedureCode === undefined) throw missing('ma_thu_tuc', 'procedureCode');
  if (view.procedureName === undefined || view.procedureName === '')
    throw missing('ten_thu_tuc', 'procedureName');
  if (view.channel === undefined) throw missing('kenh_nop', 'channel');
  if (view.applicant === undefined) throw missing('ho_ten_nguoi_nop', 'applicant');
  if (view.receivedAt === undefined) throw missing('ngay_nhan', 'receivedAt');
  const status = view.status ?? 1;
  const body: OneStopShopDossierBody = {
    ma_thu_tuc: view.procedureCode,
    ten_thu_tuc: cut(view.procedureName, OSS_MAX_CHARS.ten_thu_tuc),
    kenh_nop: OSS_CHANNEL[view.channel],
    ho_ten_nguoi_nop: cut(view.applicant.fullName, OSS_MAX_CHARS.ho_ten_nguoi_nop),
    ma_don_vi: view.communeCode,
    ngay_nhan: toOneStopShopTime(view.receivedAt, 'ngay_nhan', code),
    trang_thai: ossStatusName(status, code),
    le_phi: facts.fees.map((f): OneStopShopFee => ({
      ten: cut(f.name, OSS_MAX_CHARS.le_phi_ten),
      so_tien: f.amount,
    })),
    phien_ban: view.streamVersion,
  };
  // An erased ID is left out (the shop takes only 9 or 12 digits); the body replaces the shop's record.
  const id = unlessErased(facts.applicantIdNumber);
  if (id !== undefined && id !== '') body.so_giay_to = id;
  if (facts.summary !== undefined && facts.summary !== '') {
    body.trich_yeu = cut(facts.summary, OSS_MAX_CHARS.trich_yeu);
  }
  if (view.dueAt !== undefined) body.ngay_hen_tra = toOneStopShopTime(view.dueAt, 'ngay_hen_tra', code);
  if (status === 10 && facts.returnedAt !== undefined) {
    body.ngay_tra = toOneStopShopTime(facts.returnedAt, 'ngay_tra', code);
  }
  return body;
}

/**
 * The shop's fields {@link toOneStopShopDossier} fills from personal values the hub erased
 * (`ho_ten_nguoi_nop` "[erased]", `so_giay_to` left out): reconciliation reports a shop still holding
 * something else there as not erased, without recording what it holds. Pure.
 */
export function oneStopShopErasedFields(view: DossierView, facts: OneStopShopFacts): string[] {
  const fields: string[] = [];
  if (isErased(view.applicant?.fullName)) fields.push('ho_ten_nguoi_nop');
  if (isErased(facts.applicantIdNumber)) fields.push('so_giay_to');
  // The summary names the applicant: it is sealed with the applicant's data.
  if (isErased(facts.summary)) fields.push('trich_yeu');
  return fields;
}

/** The `tien_do` entries of a dossier, oldest first, one per status change naming its handler. Pure. */
export function toOneStopShopProgress(
  state: OneStopShopState,
  facts: OneStopShopFacts = oneStopShopFacts(state.events),
): OneStopShopProgressEntry[] {
  return facts.progress.map((p) => {
    const entry: OneStopShopProgressEntry = {
      can_bo: cut(p.handler.name, OSS_MAX_CHARS.can_bo),
      thoi_gian: toOneStopShopTime(p.changedAt, 'thoi_gian', state.dossier),
      noi_dung: cut(
        p.note !== undefined && p.note !== '' ? p.note : (OSS_DEFAULT_PROGRESS_NOTE[p.status] ?? ''),
        OSS_MAX_CHARS.noi_dung,
      ),
      trang_thai: ossStatusName(p.status, state.dossier),
    };
    if (p.handler.title !== undefined && p.handler.title !== '') {
      entry.chuc_vu = cut(p.handler.title, OSS_MAX_CHARS.chuc_vu);
    }
    if (p.handler.department !== undefined && p.handler.department !== '') {
      entry.phong_ban = cut(p.handler.department, OSS_MAX_CHARS.phong_ban);
    }
    return entry;
  });
}

/**
 * An RFC 3339 time (any offset) as the shop writes it: `dd/MM/yyyy HH:mm:ss` in Vietnam local time
 * (UTC+7), without an offset; fractions of a second are dropped.
 * @throws ConnectorError (`data`, `mapping`) when `time` is not RFC 3339.
 */
export function toOneStopShopTime(time: string, field = 'time', dossierCode?: string): string {
  return toTargetTime(ONE_STOP_SHOP_TARGET, 'legacy', time, field, dossierCode);
}

function ossStatusName(status: number, dossierCode: string): string {
  const name = OSS_STATUS[status];
  if (name === undefined) {
    throw mappingError(ONE_STOP_SHOP_TARGET, `dossier ${dossierCode}: status ${status} is not 1–10`);
  }
  return name;
}

/**
 * `s` in NFC, cut to at most `max` UTF-16 code units (how the shop counts) without splitting a
 * surrogate pair.
 */
function cut(s: string, max: number): string {
  const text = s.normalize('NFC');
  if (text.length <= max) return text;
  let out = '';
  for (const ch of text) {
    if (out.length + ch.length > max) break;
    out += ch;
  }
  return out;
}
