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
import {
  DEFAULT_AGENCIES,
  DEFAULT_PROCEDURES,
  parseCatalogueAgency,
  parseCatalogueProcedure,
  type CatalogueAgency,
  type CatalogueProcedure,
} from './procedure-catalogue.js';

/**
 * The national public-service portal (DVCQG) adapter: `POST /api/login` (or `/mapi/login` behind
 * the adapter), then `POST /api/adapter` (or `/mapi/g`) with `{service, session, ...}`, optionally
 * `madonvi` and a `dstcode` header. Answers are HTTP 200 with `error_code` 0 on success and -1 for a
 * business error (e.g. "đã tồn tại"); an invalid or expired session answers HTTP 200 with
 * `error_code` 401; malformed input (a dossier without a mandatory field among them) answers HTTP 400
 * with `error_code` -1. How its answers vary between deployments is its {@link PortalDialect}. See
 * ../../README.md.
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
  /** How its answers vary (also `POST /_sim/dialect`). @defaultValue {@link DEFAULT_DIALECT} */
  dialect?: Partial<PortalDialect>;
}

/**
 * What differs between the portal's deployments as its clients see them (domain.md, "Closer to the
 * real dialects"), and a fault seen in the field.
 */
export interface PortalDialect {
  /** `error_code` written as a string ("0", "-1"), as both public clients read it. */
  errorCodeAsString: boolean;
  /** The `error_code` of a "đã tồn tại" (already exists) answer: -1, 0, 3 or -3 are seen. */
  existsCode: -1 | 0 | 3 | -3;
  /**
   * Online submissions are coded `{agency}-{yyMMdd}-{5 random digits}`, as out-of-province agencies'
   * dossiers are, instead of the 4-digit daily counter.
   */
  randomSuffix: boolean;
}

export const DEFAULT_DIALECT: PortalDialect = {
  errorCodeAsString: false,
  existsCode: -1,
  randomSuffix: false,
};

const LOGIN_PATHS = ['/api/login', '/mapi/login'];
const SERVICE_PATHS = ['/api/adapter', '/mapi/g'];
/** An e-mail address, loosely (the portal's own rule is not public). */
const EMAIL = /^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$/;
/** A phone number: digits, an optional leading +, 8–15 digits. */
const PHONE = /^\+?\d{8,15}$/;
/** A code the real clients send as a string or a number: 1 to 10 digits. */
const ANY_CODE = /^\d{1,10}$/;

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
  /** `DongBoHoSoMC` refuses a dossier without these (an online submission may lack the contact). */
  MaLinhVuc?: string;
  TenLinhVuc?: string;
  LoaiDoiTuong: string | number;
  HinhThuc: string | number;
  DonViXuLy: string;
  Email?: string;
  SoDienThoai?: string;
  NoiNopHoSo?: string | number;
  NgayNopHoSo?: string;
  NgayTuChoi?: string;
  TaiKhoanDuocXacThucVoiVNeID?: string | number;
  DuocThanhToanTrucTuyen?: string | number;
  DSKetNoiCSDL?: { MaCSDL: string }[];
  TaiLieuNop?: Record<string, unknown>[];
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
  'LayThuTuc',
  'LayDanhSachTTHC',
  'LayDanhMucCoQuan',
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
  private readonly initialDialect: PortalDialect;
  private dialect: PortalDialect;
  private procedures = new Map<string, CatalogueProcedure>();
  private agencies = new Map<string, CatalogueAgency>();
  /** What the last adapter call carried besides its service, to show what a client sends. */
  private lastCall: { path?: string; madonvi?: string; dstcode?: string } = {};

  constructor(options: PortalOptions = {}) {
    super('national-portal', options.clock);
    this.username = options.username ?? 'lgsp';
    this.password = options.password ?? 'lgsp';
    this.sessionTtlMs = options.sessionTtlMs ?? 30 * 60_000;
    this.agencyId = options.agencyId ?? '000.00.00.G22';
    if (!AGENCY_ID.test(this.agencyId)) throw new Error(`agencyId ${this.agencyId} is not an agency ID`);
    this.initialDialect = parseDialect(options.dialect ?? {}, DEFAULT_DIALECT, 'dialect');
    this.dialect = this.initialDialect;
    this.seedCatalogue();
  }

  /** Adds (or replaces) procedures and agencies of the catalogue (what `POST /_sim/catalogue` does). */
  addToCatalogue(input: { procedures?: unknown; agencies?: unknown }): {
    procedures: number;
    agencies: number;
  } {
    const body = record(input, 'body');
    const procedures = array(body, 'procedures', 'body').map((p, i) =>
      parseCatalogueProcedure(p, `body.procedures[${i}]`),
    );
    const agencies = array(body, 'agencies', 'body').map((a, i) =>
      parseCatalogueAgency(a, `body.agencies[${i}]`),
    );
    for (const p of procedures) this.procedures.set(p.MATTHC, p);
    for (const a of agencies) this.agencies.set(a.MACOQUAN, a);
    return { procedures: this.procedures.size, agencies: this.agencies.size };
  }

  /** Sets part of the {@link PortalDialect} (what `POST /_sim/dialect` does); the rest stays. */
  setDialect(input: unknown): PortalDialect {
    this.dialect = parseDialect(input, this.dialect, 'body');
    return this.dialect;
  }

  private seedCatalogue(): void {
    this.procedures = new Map(DEFAULT_PROCEDURES.map((p) => [p.MATTHC, structuredClone(p)]));
    this.agencies = new Map(DEFAULT_AGENCIES.map((a) => [a.MACOQUAN, { ...a }]));
  }

  state(): {
    dossiers: (PortalDossier & { TienDo: PortalProgress[] })[];
    history: Record<string, unknown[]>;
    onlineSubmissions: OnlineSubmission[];
    sessions: number;
    dialect: PortalDialect;
    lastCall: { path?: string; madonvi?: string; dstcode?: string };
    catalogue: { procedures: CatalogueProcedure[]; agencies: CatalogueAgency[] };
  } {
    return {
      dossiers: this.dossiers.all(),
      history: Object.fromEntries(this.history),
      onlineSubmissions: this.submissions,
      sessions: this.sessions.size,
      dialect: this.dialect,
      lastCall: this.lastCall,
      catalogue: { procedures: [...this.procedures.values()], agencies: [...this.agencies.values()] },
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
        Email: contact(input, 'Email', path, EMAIL, 'an e-mail address', false),
        SoDienThoai: contact(input, 'SoDienThoai', path, PHONE, 'a phone number', false),
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
      // Out-of-province agencies number their dossiers with 5 random digits (a fault of the field).
      const suffix = this.dialect.randomSuffix ? this.unusedRandomSuffix(day) : String(n).padStart(4, '0');
      const procedure = this.procedures.get(p.MaTTHC);
      const sector = procedure?.LINHVUCTHUCHIEN[0];
      const dossier = stripUndefined({
        MaHoSo: `${this.agencyId}-${day}-${suffix}`,
        ...p,
        MaLinhVuc: sector?.MALINHVUC,
        TenLinhVuc: sector?.TENLINHVUC,
        LoaiDoiTuong: '1',
        HinhThuc: '1',
        DonViXuLy: this.agencyId,
        NoiNopHoSo: '2',
        NgayNopHoSo: formatVn(nowMs, 'portal'),
        KenhThucHien: 2,
        NgayTiepNhan: formatVn(nowMs, 'portal'),
        TrangThaiHoSo: 1,
        DanhSachLePhi: [],
        DanhSachGiayToKetQua: [],
      }) as PortalDossier;
      const submission = { ...dossier, ViTri: this.submissions.length + 1 };
      this.submissions.push(submission);
      this.store(dossier, false);
      return submission;
    });
  }

  /** 5 random digits that no dossier of `day` of this agency has yet. */
  private unusedRandomSuffix(day: string): string {
    for (;;) {
      const suffix = String(10_000 + (randomBytes(4).readUInt32BE(0) % 90_000));
      if (!this.dossiers.has(`${this.agencyId}-${day}-${suffix}`)) return suffix;
    }
  }

  protected clear(): void {
    this.dialect = this.initialDialect;
    this.lastCall = {};
    this.seedCatalogue();
    this.sessions.clear();
    this.dossiers.clear();
    this.history.clear();
    this.submissions = [];
    this.dailyCounters.clear();
  }

  protected errorBody(_status: number, message: string): unknown {
    return this.dialected({ error_code: -1, message });
  }

  /** An answer body with `error_code` (its own and its items') written as the dialect writes it. */
  private dialected<T>(body: T): T {
    if (!this.dialect.errorCodeAsString || !isRecord(body)) return body;
    const asString = (o: Record<string, unknown>) =>
      typeof o.error_code === 'number' ? { ...o, error_code: String(o.error_code) } : o;
    const out = asString(body);
    if (Array.isArray(out.result)) {
      out.result = out.result.map((r: unknown) => (isRecord(r) && 'error_code' in r ? asString(r) : r));
    }
    return out as T;
  }

  private answer(status: number, body: Record<string, unknown>): SimResponse {
    return json(status, this.dialected(body));
  }

  protected override handleControl(req: SimRequest): SimResponse | undefined {
    if (req.method === 'POST' && req.path === '/_sim/online-submissions') {
      const body = req.body;
      const inputs = Array.isArray(body) ? body : [body];
      return json(201, this.submitOnline(inputs.map((b, i) => record(b, `submissions[${i}]`))));
    }
    if (req.method === 'POST' && req.path === '/_sim/tamper') return this.tamper(record(req.body, 'body'));
    if (req.method === 'POST' && req.path === '/_sim/catalogue') {
      return json(200, this.addToCatalogue(record(req.body, 'body')));
    }
    if (req.method === 'POST' && req.path === '/_sim/dialect') return json(200, this.setDialect(req.body));
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
    if (req.method === 'POST' && LOGIN_PATHS.includes(req.path)) return this.login(req.body);
    if (req.method === 'POST' && SERVICE_PATHS.includes(req.path)) {
      const dstcode = req.headers['dstcode'];
      if (
        dstcode !== undefined &&
        (typeof dstcode !== 'string' || !/^[A-Za-z0-9._:-]{1,100}$/.test(dstcode))
      ) {
        throw new SimInputError('header dstcode: expected 1–100 letters, digits or . _ : -');
      }
      const body = record(req.body, 'body');
      const madonvi = text(body, 'madonvi', 'body', { pattern: AGENCY_ID, hint: 'an agency ID' });
      this.lastCall = stripUndefined({ path: req.path, madonvi, dstcode });
      return this.adapter(body);
    }
    return this.error(404, `Không tìm thấy dịch vụ ${req.method} ${req.path}`);
  }

  private async login(raw: unknown): Promise<SimResponse> {
    const guarded = await this.guard('DangNhap');
    if ('reject' in guarded) return guarded.reject;
    const body = record(raw, 'body');
    const username = requiredText(body, 'username', 'body');
    const password = requiredText(body, 'password', 'body');
    if (username !== this.username || password !== this.password) {
      return this.answer(200, { error_code: -1, message: 'Tên đăng nhập hoặc mật khẩu không đúng' });
    }
    const session = randomBytes(24).toString('hex');
    this.sessions.set(session, this.now() + this.sessionTtlMs);
    return this.answer(200, { error_code: 0, message: 'Đăng nhập thành công', session });
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
      return this.answer(200, {
        error_code: 401,
        message: 'Phiên làm việc (session) không hợp lệ hoặc đã hết hạn',
      });
    }
    const served = this.serve(service as Service, body, guarded.decision);
    const response = { ...served, body: this.dialected(served.body) };
    return guarded.decision.nfd ? { ...response, body: toNfd(response.body) } : response;
  }

  private serve(service: Service, body: Record<string, unknown>, decision: FaultDecision): SimResponse {
    switch (service) {
      case 'DongBoHoSoMC':
        return this.syncDossiers(body, decision);
      case 'CapNhatTienDoHoSoMC':
        return this.appendProgress(body, decision);
      case 'TraCuuHoSo': {
        // Both public clients ask by a lowercase `mahoso` and read `result` as an array; `MaHoSo`
        // is answered with the object.
        if (body.mahoso !== undefined) {
          const maHoSo = requiredText(body, 'mahoso', 'body', { max: 100 });
          const found = this.dossiers.has(maHoSo) ? [this.dossiers.withProgress(maHoSo)] : [];
          return json(200, { error_code: 0, message: 'Thành công', result: found });
        }
        const maHoSo = requiredText(body, 'MaHoSo', 'body', { max: 100 });
        if (!this.dossiers.has(maHoSo)) {
          return json(200, { error_code: -1, message: `Không tìm thấy hồ sơ ${maHoSo}` });
        }
        return json(200, {
          error_code: 0,
          message: 'Thành công',
          result: this.dossiers.withProgress(maHoSo),
        });
      }
      case 'LayThuTuc': {
        const maTTHC = requiredText(body, 'MaTTHC', 'body', {
          pattern: PROCEDURE_CODE,
          hint: 'a procedure code like 1.001193',
        });
        const procedure = this.procedures.get(maTTHC);
        if (procedure === undefined) {
          return json(200, { error_code: -1, message: `Không tìm thấy thủ tục ${maTTHC}` });
        }
        return json(200, { error_code: 0, message: 'Thành công', result: procedure });
      }
      case 'LayDanhSachTTHC': {
        const sector = text(body, 'MaLinhVuc', 'body', { max: 50 });
        const list = [...this.procedures.values()].filter(
          (p) => sector === undefined || p.LINHVUCTHUCHIEN.some((l) => l.MALINHVUC === sector),
        );
        return json(200, { error_code: 0, message: 'Thành công', result: list });
      }
      case 'LayDanhMucCoQuan':
        return json(200, { error_code: 0, message: 'Thành công', result: [...this.agencies.values()] });
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
    const defaultUpdating = updating(body, 'body') ?? false;
    const parsed = items.map((item, i) => {
      const o = record(item, `data[${i}]`);
      return {
        dossier: parseDossier(o, `data[${i}]`),
        isUpdating: updating(o, `data[${i}]`) ?? defaultUpdating,
      };
    });
    const existsCode = this.dialect.existsCode;
    const results = parsed.map(({ dossier, isUpdating }) => {
      const exists = this.dossiers.has(dossier.MaHoSo);
      if (!isUpdating && exists) {
        return {
          MaHoSo: dossier.MaHoSo,
          error_code: existsCode,
          message: `Hồ sơ ${dossier.MaHoSo} đã tồn tại`,
        };
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
    const failed = results.filter((r) => r.error_code !== 0 || /đã tồn tại/.test(r.message));
    // "Already exists" under code 0 leaves the batch's code 0, as seen in the field.
    const code = failed.find((r) => r.error_code !== 0)?.error_code ?? 0;
    return json(200, {
      error_code: code,
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

/** `isUpdating`: a boolean, or "True"/"False" as both public clients send it (any case), or 1/0. */
function updating(o: Record<string, unknown>, path: string): boolean | undefined {
  const v = o.isUpdating;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  return bool(o, 'isUpdating', path);
}

function parseDialect(input: unknown, base: PortalDialect, path: string): PortalDialect {
  const o = record(input, path);
  for (const key of Object.keys(o)) {
    if (!(key in DEFAULT_DIALECT)) throw new SimInputError(`${path}.${key}: not a dialect setting`);
  }
  const flag = (key: 'errorCodeAsString' | 'randomSuffix') => {
    const v = o[key];
    if (v === undefined) return base[key];
    if (typeof v !== 'boolean') throw new SimInputError(`${path}.${key}: expected true or false`);
    return v;
  };
  const existsCode = o.existsCode === undefined ? base.existsCode : o.existsCode;
  if (existsCode !== -1 && existsCode !== 0 && existsCode !== 3 && existsCode !== -3) {
    throw new SimInputError(`${path}.existsCode: expected -1, 0, 3 or -3`);
  }
  return { errorCodeAsString: flag('errorCodeAsString'), existsCode, randomSuffix: flag('randomSuffix') };
}

/** A code of a string or a number (as the real clients differ): digits, within `allowed` when given. */
function anyCode(
  o: Record<string, unknown>,
  key: string,
  path: string,
  required: boolean,
  allowed?: readonly string[],
): string | number | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') {
    if (required) throw new SimInputError(`${path}.${key}: required`);
    return undefined;
  }
  const s = typeof v === 'number' && Number.isInteger(v) ? String(v) : v;
  if (typeof s !== 'string' || !ANY_CODE.test(s) || (allowed !== undefined && !allowed.includes(s))) {
    throw new SimInputError(
      `${path}.${key}: expected ${allowed === undefined ? 'a code of digits' : `one of ${allowed.join(', ')}`}, got ${JSON.stringify(v)}`,
    );
  }
  return v as string | number;
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
    const p = `${path}.${key}[${i}]`;
    const r = record(item, p);
    if (key === 'DanhSachLePhi') {
      // Amounts arrive as numbers or, from both public clients, as strings of digits.
      const gia = r.Gia;
      const amount = typeof gia === 'string' && /^\d{1,15}$/.test(gia) ? Number(gia) : gia;
      if (gia !== undefined && (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0)) {
        throw new SimInputError(`${p}.Gia: expected a non-negative amount in VND`);
      }
      anyCode(r, 'HinhThucThu', p, false);
      anyCode(r, 'LoaiPhiLePhi', p, false);
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
    NgayHenTra: date(o, 'NgayHenTra', path, 'portal', true),
    NgayTra: date(o, 'NgayTra', path, 'portal', false),
    TrangThaiHoSo: code(o, 'TrangThaiHoSo', path, PORTAL_STATUSES) as number,
    DanhSachLePhi: objects(o, 'DanhSachLePhi', path),
    DanhSachGiayToKetQua: objects(o, 'DanhSachGiayToKetQua', path),
    MaDonVi: text(o, 'MaDonVi', path, { pattern: /^\d{2}(\d{3})?$/, hint: 'a province or commune code' }),
    // Mandatory for both public clients (OpenCPS marks only a few fields optional).
    MaLinhVuc: requiredText(o, 'MaLinhVuc', path, { max: 50 }),
    TenLinhVuc: requiredText(o, 'TenLinhVuc', path, { max: 500 }),
    LoaiDoiTuong: anyCode(o, 'LoaiDoiTuong', path, true, ['1', '2', '3', '4']) as string | number,
    HinhThuc: anyCode(o, 'HinhThuc', path, true) as string | number,
    DonViXuLy: requiredText(o, 'DonViXuLy', path, { pattern: AGENCY_ID, hint: 'an agency ID' }),
    Email: contact(o, 'Email', path, EMAIL, 'an e-mail address', true) as string,
    SoDienThoai: contact(o, 'SoDienThoai', path, PHONE, 'a phone number', true) as string,
    // The 2024 schema's fields, optional.
    NoiNopHoSo: anyCode(o, 'NoiNopHoSo', path, false),
    NgayNopHoSo: date(o, 'NgayNopHoSo', path, 'portal', false),
    NgayTuChoi: date(o, 'NgayTuChoi', path, 'portal', false),
    TaiKhoanDuocXacThucVoiVNeID: anyCode(o, 'TaiKhoanDuocXacThucVoiVNeID', path, false, ['0', '1']),
    DuocThanhToanTrucTuyen: anyCode(o, 'DuocThanhToanTrucTuyen', path, false, ['0', '1']),
    DSKetNoiCSDL: optionalArray(o, 'DSKetNoiCSDL', path)?.map((item, i) => {
      const p = `${path}.DSKetNoiCSDL[${i}]`;
      return { MaCSDL: requiredText(record(item, p), 'MaCSDL', p, { max: 50 }) };
    }),
    TaiLieuNop: optionalArray(o, 'TaiLieuNop', path)?.map((item, i) => {
      const p = `${path}.TaiLieuNop[${i}]`;
      const r = record(item, p);
      return stripUndefined({
        MaThanhPhanHoSo: text(r, 'MaThanhPhanHoSo', p, { max: 100 }),
        TenTepDinhKem: requiredText(r, 'TenTepDinhKem', p, { max: 500 }),
      });
    }),
  });
}

/** A contact field (personal data): checked like {@link text}, but the refusal does not echo it. */
function contact(
  o: Record<string, unknown>,
  key: string,
  path: string,
  pattern: RegExp,
  hint: string,
  required: boolean,
): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') {
    if (required) throw new SimInputError(`${path}.${key}: required`);
    return undefined;
  }
  if (typeof v !== 'string' || v.length > 254 || !pattern.test(v)) {
    throw new SimInputError(`${path}.${key}: not ${hint}`);
  }
  return v;
}

function optionalArray(o: Record<string, unknown>, key: string, path: string): unknown[] | undefined {
  return o[key] === undefined || o[key] === null ? undefined : array(o, key, path);
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
    NgayBatDau: date(o, 'NgayBatDau', path, 'portal', false),
    NgayKetThucTheoQuyDinh: date(o, 'NgayKetThucTheoQuyDinh', path, 'portal', false),
  });
}
