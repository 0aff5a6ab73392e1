import { OSS_STATUS, formatVn } from '#lgsp/connectors';
import type { Clock } from '#lgsp/observability';
import { corruptRecord, SimInputError, toNfd, type FaultDecision } from '../faults.js';
import {
  array,
  date,
  DOSSIER_CODE,
  integer,
  PROCEDURE_CODE,
  record,
  requiredText,
  stripUndefined,
  text,
} from '../fields.js';
import { DossierStore } from '../dossier-store.js';
import { json, Simulator, type SimRequest, type SimResponse } from '../http.js';

/**
 * A province's one-stop-shop (một cửa điện tử). Its own REST dialect with snake_case Vietnamese
 * field names, `dd/MM/yyyy HH:mm:ss` local times and named status codes (see {@link OSS_STATUS}).
 * Answers `{ma_loi: 0, thong_bao, du_lieu}`; errors `{ma_loi: "E<status>", thong_bao}` with that
 * HTTP status. See ../../README.md.
 */
export interface OneStopShopOptions {
  /** When set, every call needs the header `X-API-Key`; @defaultValue none */
  apiKey?: string;
  /** The clock of timestamps, sessions and faults, for tests. @defaultValue systemClock */
  clock?: Pick<Clock, 'now'>;
}

// The shop's status names are its published vocabulary, one table with the connector's wire types.
export { OSS_STATUS };
const STATUS_NAMES = Object.values(OSS_STATUS);

/** `kenh_nop` names for the portal's KenhThucHien 1, 2, 3. */
export const OSS_CHANNEL: Record<number, string> = { 1: 'TRUC_TIEP', 2: 'TRUC_TUYEN', 3: 'BUU_CHINH' };

export const MAX_OSS_PROGRESS_PER_CALL = 50;
export const MAX_OSS_PAGE = 2000;

export interface OssDossier {
  ma_ho_so: string;
  ma_thu_tuc: string;
  ten_thu_tuc: string;
  kenh_nop: string;
  ho_ten_nguoi_nop: string;
  so_giay_to: string | undefined;
  trich_yeu: string | undefined;
  ma_don_vi: string;
  ngay_nhan: string;
  ngay_hen_tra: string | undefined;
  ngay_tra: string | undefined;
  trang_thai: string;
  le_phi: { ten: string; so_tien: number }[];
  phien_ban: number | undefined;
  ngay_cap_nhat: string;
}

export interface OssProgress {
  can_bo: string;
  chuc_vu: string | undefined;
  phong_ban: string | undefined;
  thoi_gian: string;
  noi_dung: string | undefined;
  trang_thai: string;
}

const DOSSIER_PATH = /^\/api\/v1\/ho-so\/([^/]+)$/;
const PROGRESS_PATH = /^\/api\/v1\/ho-so\/([^/]+)\/tien-do$/;

export class OneStopShopSimulator extends Simulator {
  private readonly apiKey: string | undefined;
  private dossiers = new DossierStore<OssDossier, OssProgress, 'tien_do'>('tien_do');
  private history = new Map<string, { ngay: string; trang_thai: string; phien_ban: number | undefined }[]>();

  constructor(options: OneStopShopOptions = {}) {
    super('one-stop-shop', options.clock);
    this.apiKey = options.apiKey;
  }

  state(): { dossiers: (OssDossier & { tien_do: OssProgress[] })[]; history: Record<string, unknown[]> } {
    return {
      dossiers: this.dossiers.all(),
      history: Object.fromEntries(this.history),
    };
  }

  protected clear(): void {
    this.dossiers.clear();
    this.history.clear();
  }

  protected errorBody(status: number, message: string): unknown {
    return { ma_loi: `E${status}`, thong_bao: message };
  }

  protected override handleControl(req: SimRequest): SimResponse | undefined {
    if (req.method === 'POST' && req.path === '/_sim/tamper') return this.tamper(record(req.body, 'body'));
    return undefined;
  }

  /**
   * `POST /_sim/tamper`: changes the stored state behind the hub's back, for reconciliation tests.
   * `{dossier, delete: true}` forgets a dossier and its progress; `{dossier, set: {field: value}}`
   * overwrites fields as given, unchecked (`tien_do` replaces the progress); `{extra: dossier}` stores
   * a dossier (with `ma_ho_so`, optional `tien_do`) that nobody synchronised. Not counted as a call.
   */
  tamper(body: Record<string, unknown>): SimResponse {
    return this.dossiers.tamper(body, {
      codeField: 'ma_ho_so',
      storeExtra: (code, dossier) => this.dossiers.put(code, dossier),
      ok: (dossier) =>
        json(200, { ma_loi: 0, thong_bao: 'OK', ...(dossier === undefined ? {} : { du_lieu: dossier }) }),
      notFound: (code) => this.error(404, `Không tìm thấy hồ sơ ${code}`),
    });
  }

  protected async handle(req: SimRequest): Promise<SimResponse> {
    const dossierMatch = DOSSIER_PATH.exec(req.path);
    const progressMatch = PROGRESS_PATH.exec(req.path);
    const maHoSo = decodeURIComponent((dossierMatch ?? progressMatch)?.[1] ?? '');
    let operation: string;
    if (req.method === 'PUT' && dossierMatch) operation = 'CapNhatHoSo';
    else if (req.method === 'GET' && dossierMatch) operation = 'TraCuuHoSo';
    else if (req.method === 'POST' && progressMatch) operation = 'ThemTienDo';
    else if (req.method === 'GET' && req.path === '/api/v1/ho-so') operation = 'DanhSachHoSo';
    else return this.error(404, `Không có API ${req.method} ${req.path}`);
    const guarded = await this.guard(operation, maHoSo ? [maHoSo] : []);
    if ('reject' in guarded) return guarded.reject;
    if (this.apiKey !== undefined && req.headers['x-api-key'] !== this.apiKey) {
      return this.error(401, 'Thiếu hoặc sai X-API-Key');
    }
    const decision = guarded.decision;
    const response = this.serve(operation, maHoSo, req, decision);
    return decision.nfd ? { ...response, body: toNfd(response.body) } : response;
  }

  private serve(operation: string, maHoSo: string, req: SimRequest, decision: FaultDecision): SimResponse {
    switch (operation) {
      case 'CapNhatHoSo':
        return this.upsert(maHoSo, req.body, decision);
      case 'TraCuuHoSo':
        return this.dossiers.has(maHoSo)
          ? json(200, { ma_loi: 0, thong_bao: 'OK', du_lieu: this.dossiers.withProgress(maHoSo) })
          : this.error(404, `Không tìm thấy hồ sơ ${maHoSo}`);
      case 'ThemTienDo':
        return this.appendProgress(maHoSo, req.body, decision);
      default: {
        const page = integer(req.query.get('trang'), 'trang', 1, 1_000_000_000, 1);
        const size = integer(req.query.get('so_luong'), 'so_luong', 1, MAX_OSS_PAGE, 500);
        const dossiers = this.dossiers.page((page - 1) * size, size);
        return json(200, {
          ma_loi: 0,
          thong_bao: 'OK',
          trang: page,
          so_luong: size,
          tong_so: this.dossiers.size,
          tong_so_trang: Math.ceil(this.dossiers.size / size),
          du_lieu: dossiers,
        });
      }
    }
  }

  private upsert(maHoSo: string, raw: unknown, decision: FaultDecision): SimResponse {
    if (!DOSSIER_CODE.test(maHoSo))
      throw new SimInputError(`ma_ho_so: ${JSON.stringify(maHoSo)} không hợp lệ`);
    const body = record(raw, 'body');
    const dossier: OssDossier = {
      ma_ho_so: maHoSo,
      ma_thu_tuc: requiredText(body, 'ma_thu_tuc', 'body', {
        pattern: PROCEDURE_CODE,
        hint: 'a procedure code',
      }),
      ten_thu_tuc: requiredText(body, 'ten_thu_tuc', 'body', { max: 500 }),
      kenh_nop: oneOf(body, 'kenh_nop', Object.values(OSS_CHANNEL)),
      ho_ten_nguoi_nop: requiredText(body, 'ho_ten_nguoi_nop', 'body', { max: 250 }),
      so_giay_to: text(body, 'so_giay_to', 'body', {
        pattern: /^(\d{9}|\d{12})$/,
        hint: 'a 9- or 12-digit ID',
      }),
      trich_yeu: text(body, 'trich_yeu', 'body', { max: 1000 }),
      ma_don_vi: requiredText(body, 'ma_don_vi', 'body', {
        pattern: /^\d{5}$/,
        hint: 'a 5-digit commune code',
      }),
      ngay_nhan: date(body, 'ngay_nhan', 'body', 'legacy', true) as string,
      ngay_hen_tra: date(body, 'ngay_hen_tra', 'body', 'legacy', false),
      ngay_tra: date(body, 'ngay_tra', 'body', 'legacy', false),
      trang_thai: oneOf(body, 'trang_thai', STATUS_NAMES),
      le_phi: array(body, 'le_phi', 'body').map((f, i) => {
        const fee = record(f, `body.le_phi[${i}]`);
        const amount = fee.so_tien;
        if (typeof amount !== 'number' || !Number.isInteger(amount) || amount < 0) {
          throw new SimInputError(`body.le_phi[${i}].so_tien: expected a whole amount in VND`);
        }
        return { ten: requiredText(fee, 'ten', `body.le_phi[${i}]`, { max: 250 }), so_tien: amount };
      }),
      phien_ban: optionalVersion(body.phien_ban),
      ngay_cap_nhat: formatVn(this.now(), 'legacy'),
    };
    const existing = this.dossiers.get(maHoSo);
    if (
      existing?.phien_ban !== undefined &&
      dossier.phien_ban !== undefined &&
      dossier.phien_ban < existing.phien_ban
    ) {
      return this.error(
        409,
        `Phiên bản ${dossier.phien_ban} cũ hơn phiên bản đã lưu ${existing.phien_ban} của hồ sơ ${maHoSo}`,
      );
    }
    if (!decision.dropWrite) {
      const stored = stripUndefined(decision.nfd ? toNfd(dossier) : dossier);
      if (decision.corrupt) {
        corruptRecord(stored as unknown as Record<string, unknown>, decision.corrupt, [
          'ma_ho_so',
          'ngay_cap_nhat',
        ]);
      }
      this.dossiers.put(maHoSo, stored);
      const h = this.history.get(maHoSo) ?? [];
      h.push({ ngay: stored.ngay_cap_nhat, trang_thai: stored.trang_thai, phien_ban: stored.phien_ban });
      this.history.set(maHoSo, h);
    }
    return json(existing ? 200 : 201, {
      ma_loi: 0,
      thong_bao: existing ? 'Cập nhật thành công' : 'Tạo mới thành công',
      du_lieu: stripUndefined(dossier),
    });
  }

  private appendProgress(maHoSo: string, raw: unknown, decision: FaultDecision): SimResponse {
    const body = record(raw, 'body');
    const items = array(body, 'danh_sach', 'body', true);
    if (items.length === 0 || items.length > MAX_OSS_PROGRESS_PER_CALL) {
      throw new SimInputError(
        `body.danh_sach: 1 to ${MAX_OSS_PROGRESS_PER_CALL} entries, got ${items.length}`,
      );
    }
    const entries = items.map((item, i): OssProgress => {
      const p = `body.danh_sach[${i}]`;
      const o = record(item, p);
      return stripUndefined({
        can_bo: requiredText(o, 'can_bo', p, { max: 100 }),
        chuc_vu: text(o, 'chuc_vu', p, { max: 250 }),
        phong_ban: text(o, 'phong_ban', p, { max: 250 }),
        thoi_gian: date(o, 'thoi_gian', p, 'legacy', true) as string,
        noi_dung: text(o, 'noi_dung', p, { max: 2000 }),
        trang_thai: oneOf(o, 'trang_thai', STATUS_NAMES, p),
      });
    });
    if (!this.dossiers.has(maHoSo)) return this.error(404, `Không tìm thấy hồ sơ ${maHoSo}`);
    if (!decision.dropWrite) {
      this.dossiers.addProgress(
        maHoSo,
        entries.map((e) => (decision.nfd ? toNfd(e) : e)),
      );
    }
    return json(200, { ma_loi: 0, thong_bao: `Đã ghi ${entries.length} tiến độ` });
  }
}

function oneOf(o: Record<string, unknown>, key: string, allowed: readonly string[], path = 'body'): string {
  const v = requiredText(o, key, path);
  if (!allowed.includes(v)) {
    throw new SimInputError(
      `${path}.${key}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

function optionalVersion(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new SimInputError('body.phien_ban: expected a non-negative integer');
  }
  return v;
}

/** The one-stop-shop's status name for a portal status code (1–10). */
export function ossStatus(portalStatus: number): string {
  const name = OSS_STATUS[portalStatus];
  if (name === undefined) throw new SimInputError(`status: ${portalStatus} is not a portal status (1–10)`);
  return name;
}
