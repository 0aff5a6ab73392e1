import { randomBytes } from 'node:crypto';
import { formatVn, type PortalProgressRecord } from '#lgsp/connectors';
import type { Clock } from '#lgsp/observability';
import { corruptRecord, SimInputError, toNfd, type FaultDecision } from '../faults.js';
import {
  AGENCY_ID,
  array,
  bool,
  code,
  date,
  DOSSIER_CODE,
  PROCEDURE_CODE,
  record,
  requiredText,
  stripUndefined,
  text,
} from '../fields.js';
import { DossierStore } from '../dossier-store.js';
import { isRecord, json, Simulator, type SimRequest, type SimResponse } from '../http.js';

/**
 * The national public-service portal (DVCQG) adapter: `POST /api/login`, then `POST /api/adapter`
 * with `{service, session, ...}`. Answers are HTTP 200 with `error_code` 0 on success and -1 for a
 * business error (e.g. "đã tồn tại"); an invalid or expired session answers HTTP 200 with
 * `error_code` 401; malformed input answers HTTP 400 with `error_code` -1. See ../../README.md.
 */
export interface PortalOptions {
  username?: string;
  password?: string;
  /** @defaultValue 30 minutes */
  sessionTtlMs?: number;
  /** Agency ID in the codes of online submissions; @defaultValue `000.00.00.G22` (the portal office) */
  agencyId?: string;
  /** The clock of timestamps, sessions and faults, for tests. @defaultValue systemClock */
  clock?: Pick<Clock, 'now'>;
}

export const PORTAL_STATUSES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] as const;
export const MAX_PROGRESS_PER_CALL = 10;
export const MAX_EXPORT_PAGE = 5000;

export interface PortalDossier {
  MaHoSo: string;
  MaTTHC: string;
  TenTTHC: string;
  KenhThucHien: number;
  ChuHoSo: string;
  SoGiayToChuHoSo?: string;
  DinhDanhCHS: { LoaiDinhDanh: number; SoDinhDanh: string }[];
  TrichYeuHoSo?: string;
  NgayTiepNhan: string;
  NgayHenTra?: string;
  NgayTra?: string;
  TrangThaiHoSo: number;
  DanhSachLePhi: Record<string, unknown>[];
  DanhSachGiayToKetQua: Record<string, unknown>[];
  MaDonVi?: string;
}

/** A progress record of `CapNhatTienDoHoSoMC`, as the portal's published interface defines it. */
export type PortalProgress = PortalProgressRecord;

export interface OnlineSubmission extends PortalDossier {
  /** Position in the submission feed; `LayDanhSachHoSoTrucTuyen` returns those after a cursor. */
  ViTri: number;
}

const SERVICES = [
  'DongBoHoSoMC',
  'CapNhatTienDoHoSoMC',
  'TraCuuHoSo',
  'XuatDanhSachHoSo',
  'LayDanhSachHoSoTrucTuyen',
] as const;
type Service = (typeof SERVICES)[number];

export class NationalPortalSimulator extends Simulator {
  private readonly username: string;
  private readonly password: string;
  private readonly sessionTtlMs: number;
  private readonly agencyId: string;
  private sessions = new Map<string, number>();
  /** Dossiers in creation order: the export pages over it by index. */
  private dossiers = new DossierStore<PortalDossier, PortalProgress, 'TienDo'>('TienDo');
  /** Every accepted write per dossier, in arrival order, to check that changes arrived in order. */
  private history = new Map<string, { at: string; TrangThaiHoSo: number; isUpdating: boolean }[]>();
  private submissions: OnlineSubmission[] = [];
  private dailyCounters = new Map<string, number>();

  constructor(options: PortalOptions = {}) {
    super('national-portal', options.clock);
    this.username = options.username ?? 'lgsp';
    this.password = options.password ?? 'lgsp';
    this.sessionTtlMs = options.sessionTtlMs ?? 30 * 60_000;
    this.agencyId = options.agencyId ?? '000.00.00.G22';
    if (!AGENCY_ID.test(this.agencyId)) throw new Error(`agencyId ${this.agencyId} is not an agency ID`);
  }

  state(): {
    dossiers: (PortalDossier & { TienDo: PortalProgress[] })[];
    history: Record<string, unknown[]>;
    onlineSubmissions: OnlineSubmission[];
    sessions: number;
  } {
    return {
      dossiers: this.dossiers.all(),
      history: Object.fromEntries(this.history),
      onlineSubmissions: this.submissions,
      sessions: this.sessions.size,
    };
  }

  /** Adds dossiers that a citizen submitted online (what `POST /_sim/online-submissions` does). */
  submitOnline(inputs: readonly Record<string, unknown>[]): OnlineSubmission[] {
    const nowMs = this.now();
    const prepared = inputs.map((input, i) => {
      const path = `submissions[${i}]`;
      return {
        MaTTHC: requiredText(input, 'MaTTHC', path, { pattern: PROCEDURE_CODE, hint: 'a procedure code' }),
        TenTTHC: requiredText(input, 'TenTTHC', path, { max: 500 }),
        ChuHoSo: requiredText(input, 'ChuHoSo', path, { max: 250 }),
        SoGiayToChuHoSo: text(input, 'SoGiayToChuHoSo', path, { max: 50 }),
        DinhDanhCHS: identities(input, path),
        TrichYeuHoSo: text(input, 'TrichYeuHoSo', path, { max: 1000 }),
        MaDonVi: text(input, 'MaDonVi', path, {
          pattern: /^\d{2}(\d{3})?$/,
          hint: 'a province or commune code',
        }),
      };
    });
    return prepared.map((p) => {
      const day = formatVn(nowMs, 'portal').slice(2, 8);
      const n = (this.dailyCounters.get(day) ?? 0) + 1;
      this.dailyCounters.set(day, n);
      const dossier: PortalDossier = stripUndefined({
        MaHoSo: `${this.agencyId}-${day}-${String(n).padStart(4, '0')}`,
        ...p,
        KenhThucHien: 2,
        NgayTiepNhan: formatVn(nowMs, 'portal'),
        TrangThaiHoSo: 1,
        DanhSachLePhi: [],
        DanhSachGiayToKetQua: [],
      });
      const submission = { ...dossier, ViTri: this.submissions.length + 1 };
      this.submissions.push(submission);
      this.store(dossier, false);
      return submission;
    });
  }

  protected clear(): void {
    this.sessions.clear();
    this.dossiers.clear();
    this.history.clear();
    this.submissions = [];
    this.dailyCounters.clear();
  }

  protected errorBody(_status: number, message: string): unknown {
    return { error_code: -1, message };
  }

  protected override handleControl(req: SimRequest): SimResponse | undefined {
    if (req.method === 'POST' && req.path === '/_sim/online-submissions') {
      const body = req.body;
      const inputs = Array.isArray(body) ? body : [body];
      return json(201, this.submitOnline(inputs.map((b, i) => record(b, `submissions[${i}]`))));
    }
    if (req.method === 'POST' && req.path === '/_sim/tamper') return this.tamper(record(req.body, 'body'));
    return undefined;
  }

  /**
   * `POST /_sim/tamper` (see {@link DossierStore.tamper}), with `MaHoSo` and `TienDo`. Nothing is
   * counted as a call and no fault applies.
   */
  tamper(body: Record<string, unknown>): SimResponse {
    return this.dossiers.tamper(body, {
      codeField: 'MaHoSo',
      storeExtra: (_code, dossier) => this.store(dossier, false),
      ok: (dossier) =>
        json(200, {
          error_code: 0,
          message: 'Thành công',
          ...(dossier === undefined ? {} : { result: dossier }),
        }),
      notFound: (code) => this.error(404, `Không tìm thấy hồ sơ ${code}`),
    });
  }

  protected async handle(req: SimRequest): Promise<SimResponse> {
    if (req.method === 'POST' && req.path === '/api/login') return this.login(req.body);
    if (req.method === 'POST' && req.path === '/api/adapter') return this.adapter(req.body);
    return this.error(404, `Không tìm thấy dịch vụ ${req.method} ${req.path}`);
  }

  private async login(raw: unknown): Promise<SimResponse> {
    const guarded = await this.guard('DangNhap');
    if ('reject' in guarded) return guarded.reject;
    const body = record(raw, 'body');
    const username = requiredText(body, 'username', 'body');
    const password = requiredText(body, 'password', 'body');
    if (username !== this.username || password !== this.password) {
      return json(200, { error_code: -1, message: 'Tên đăng nhập hoặc mật khẩu không đúng' });
    }
    const session = randomBytes(24).toString('hex');
    this.sessions.set(session, this.now() + this.sessionTtlMs);
    return json(200, { error_code: 0, message: 'Đăng nhập thành công', session });
  }

  private async adapter(raw: unknown): Promise<SimResponse> {
    const body = record(raw, 'body');
    const service = body.service;
    if (typeof service !== 'string' || !(SERVICES as readonly string[]).includes(service)) {
      throw new SimInputError(
        `service: expected one of ${SERVICES.join(', ')}, got ${JSON.stringify(service)}`,
      );
    }
    const guarded = await this.guard(service, dossierCodes(body));
    if ('reject' in guarded) return guarded.reject;
    const expiry = typeof body.session === 'string' ? this.sessions.get(body.session) : undefined;
    if (expiry === undefined || expiry <= this.now()) {
      if (typeof body.session === 'string') this.sessions.delete(body.session);
      return json(200, { error_code: 401, message: 'Phiên làm việc (session) không hợp lệ hoặc đã hết hạn' });
    }
    const response = this.serve(service as Service, body, guarded.decision);
    return guarded.decision.nfd ? { ...response, body: toNfd(response.body) } : response;
  }

  private serve(service: Service, body: Record<string, unknown>, decision: FaultDecision): SimResponse {
    switch (service) {
      case 'DongBoHoSoMC':
        return this.syncDossiers(body, decision);
      case 'CapNhatTienDoHoSoMC':
        return this.appendProgress(body, decision);
      case 'TraCuuHoSo': {
        const maHoSo = requiredText(body, 'MaHoSo', 'body');
        if (!this.dossiers.has(maHoSo)) {
          return json(200, { error_code: -1, message: `Không tìm thấy hồ sơ ${maHoSo}` });
        }
        return json(200, {
          error_code: 0,
          message: 'Thành công',
          result: this.dossiers.withProgress(maHoSo),
        });
      }
      case 'XuatDanhSachHoSo': {
        const from = nonNegativeInt(body.ViTri, 'body.ViTri', 0);
        const size = nonNegativeInt(body.SoLuong, 'body.SoLuong', 1000);
        if (size < 1 || size > MAX_EXPORT_PAGE) {
          throw new SimInputError(`body.SoLuong: expected 1 to ${MAX_EXPORT_PAGE}`);
        }
        const page = this.dossiers.page(from, size);
        const next = from + page.length;
        return json(200, {
          error_code: 0,
          message: 'Thành công',
          TongSo: this.dossiers.size,
          ViTriTiepTheo: next < this.dossiers.size ? next : null,
          result: page,
        });
      }
      case 'LayDanhSachHoSoTrucTuyen': {
        const after = nonNegativeInt(body.ViTri, 'body.ViTri', 0);
        const size = nonNegativeInt(body.SoLuong, 'body.SoLuong', 100);
        if (size < 1 || size > 1000) throw new SimInputError('body.SoLuong: expected 1 to 1000');
        const page = this.submissions.slice(after, after + size);
        return json(200, {
          error_code: 0,
          message: 'Thành công',
          result: page,
          ViTriCuoi: page.at(-1)?.ViTri ?? after,
        });
      }
    }
  }

  private syncDossiers(body: Record<string, unknown>, decision: FaultDecision): SimResponse {
    const items = array(body, 'data', 'body', true);
    if (items.length === 0) throw new SimInputError('body.data: at least one dossier');
    const defaultUpdating = bool(body, 'isUpdating', 'body') ?? false;
    const parsed = items.map((item, i) => {
      const o = record(item, `data[${i}]`);
      return {
        dossier: parseDossier(o, `data[${i}]`),
        isUpdating: bool(o, 'isUpdating', `data[${i}]`) ?? defaultUpdating,
      };
    });
    const results = parsed.map(({ dossier, isUpdating }) => {
      const exists = this.dossiers.has(dossier.MaHoSo);
      if (!isUpdating && exists) {
        return { MaHoSo: dossier.MaHoSo, error_code: -1, message: `Hồ sơ ${dossier.MaHoSo} đã tồn tại` };
      }
      if (isUpdating && !exists) {
        return { MaHoSo: dossier.MaHoSo, error_code: -1, message: `Hồ sơ ${dossier.MaHoSo} không tồn tại` };
      }
      if (!decision.dropWrite) {
        const stored: PortalDossier = decision.nfd ? toNfd(dossier) : dossier;
        if (decision.corrupt) {
          corruptRecord(stored as unknown as Record<string, unknown>, decision.corrupt, ['MaHoSo']);
        }
        this.store(stored, isUpdating);
      }
      return {
        MaHoSo: dossier.MaHoSo,
        error_code: 0,
        message: isUpdating ? 'Cập nhật hồ sơ thành công' : 'Thêm mới hồ sơ thành công',
      };
    });
    const failed = results.filter((r) => r.error_code !== 0);
    return json(200, {
      error_code: failed.length === 0 ? 0 : -1,
      message: failed.length === 0 ? 'Đồng bộ thành công' : failed.map((r) => r.message).join('; '),
      result: results,
    });
  }

  private appendProgress(body: Record<string, unknown>, decision: FaultDecision): SimResponse {
    const items = array(body, 'data', 'body', true);
    if (items.length === 0) throw new SimInputError('body.data: at least one progress record');
    if (items.length > MAX_PROGRESS_PER_CALL) {
      throw new SimInputError(
        `body.data: tối đa ${MAX_PROGRESS_PER_CALL} bản ghi tiến độ mỗi lần gọi (got ${items.length})`,
      );
    }
    const records = items.map((item, i) => parseProgress(record(item, `data[${i}]`), `data[${i}]`));
    const missing = records.filter((r) => !this.dossiers.has(r.MaHoSo)).map((r) => r.MaHoSo);
    if (missing.length > 0) {
      return json(200, {
        error_code: -1,
        message: `Hồ sơ ${[...new Set(missing)].join(', ')} không tồn tại`,
      });
    }
    if (!decision.dropWrite) {
      // The same record sent twice is kept once, so a repeated call is harmless.
      for (const r of records) this.dossiers.addProgress(r.MaHoSo, [decision.nfd ? toNfd(r) : r]);
    }
    return json(200, { error_code: 0, message: `Cập nhật ${records.length} tiến độ thành công` });
  }

  private store(dossier: PortalDossier, isUpdating: boolean): void {
    this.dossiers.put(dossier.MaHoSo, dossier);
    const h = this.history.get(dossier.MaHoSo) ?? [];
    h.push({ at: formatVn(this.now(), 'portal'), TrangThaiHoSo: dossier.TrangThaiHoSo, isUpdating });
    this.history.set(dossier.MaHoSo, h);
  }
}

function dossierCodes(body: Record<string, unknown>): string[] {
  if (typeof body.MaHoSo === 'string') return [body.MaHoSo];
  if (!Array.isArray(body.data)) return [];
  return [
    ...new Set(
      body.data.flatMap((d: unknown) => (isRecord(d) && typeof d.MaHoSo === 'string' ? [d.MaHoSo] : [])),
    ),
  ];
}

function nonNegativeInt(v: unknown, path: string, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new SimInputError(`${path}: expected a non-negative integer`);
  }
  return n;
}

function identities(o: Record<string, unknown>, path: string): PortalDossier['DinhDanhCHS'] {
  return array(o, 'DinhDanhCHS', path).map((item, i) => {
    const p = `${path}.DinhDanhCHS[${i}]`;
    const d = record(item, p);
    const kind = code(d, 'LoaiDinhDanh', p, [1, 2]) as number;
    const number = requiredText(d, 'SoDinhDanh', p, {
      pattern: kind === 1 ? /^\d{12}$/ : /^\d{9}$/,
      hint: kind === 1 ? 'a 12-digit citizen ID' : 'a 9-digit legacy ID',
    });
    return { LoaiDinhDanh: kind, SoDinhDanh: number };
  });
}

function objects(o: Record<string, unknown>, key: string, path: string): Record<string, unknown>[] {
  return array(o, key, path).map((item, i) => {
    const r = record(item, `${path}.${key}[${i}]`);
    if (key === 'DanhSachLePhi' && r.Gia !== undefined && (typeof r.Gia !== 'number' || r.Gia < 0)) {
      throw new SimInputError(`${path}.${key}[${i}].Gia: expected a non-negative amount in VND`);
    }
    return r;
  });
}

/** Validates one `DongBoHoSoMC` dossier and keeps only the portal's fields. */
export function parseDossier(o: Record<string, unknown>, path: string): PortalDossier {
  return stripUndefined({
    MaHoSo: requiredText(o, 'MaHoSo', path, {
      pattern: DOSSIER_CODE,
      hint: 'a dossier code like 000.00.15.H12-250701-0001',
    }),
    MaTTHC: requiredText(o, 'MaTTHC', path, {
      pattern: PROCEDURE_CODE,
      hint: 'a procedure code like 1.001193',
    }),
    TenTTHC: requiredText(o, 'TenTTHC', path, { max: 500 }),
    KenhThucHien: code(o, 'KenhThucHien', path, [1, 2, 3]) as number,
    ChuHoSo: requiredText(o, 'ChuHoSo', path, { max: 250 }),
    SoGiayToChuHoSo: text(o, 'SoGiayToChuHoSo', path, { max: 50 }),
    DinhDanhCHS: identities(o, path),
    TrichYeuHoSo: text(o, 'TrichYeuHoSo', path, { max: 1000 }),
    NgayTiepNhan: date(o, 'NgayTiepNhan', path, 'portal', true) as string,
    NgayHenTra: date(o, 'NgayHenTra', path, 'portal', false),
    NgayTra: date(o, 'NgayTra', path, 'portal', false),
    TrangThaiHoSo: code(o, 'TrangThaiHoSo', path, PORTAL_STATUSES) as number,
    DanhSachLePhi: objects(o, 'DanhSachLePhi', path),
    DanhSachGiayToKetQua: objects(o, 'DanhSachGiayToKetQua', path),
    MaDonVi: text(o, 'MaDonVi', path, { pattern: /^\d{2}(\d{3})?$/, hint: 'a province or commune code' }),
  });
}

function parseProgress(o: Record<string, unknown>, path: string): PortalProgress {
  return stripUndefined({
    MaHoSo: requiredText(o, 'MaHoSo', path, { pattern: DOSSIER_CODE, hint: 'a dossier code' }),
    NguoiXuLy: requiredText(o, 'NguoiXuLy', path, { max: 50 }),
    ChucDanh: text(o, 'ChucDanh', path, { max: 250 }),
    ThoiDiemXuLy: date(o, 'ThoiDiemXuLy', path, 'portal', true) as string,
    PhongBanXuLy: text(o, 'PhongBanXuLy', path, { max: 250 }),
    NoiDungXuLy: text(o, 'NoiDungXuLy', path, { max: 2000 }),
    TrangThai: code(o, 'TrangThai', path, PORTAL_STATUSES) as number,
  });
}
