import { CIVIL_REGISTRY_STATUS, formatVn } from '#lgsp/connectors';
import type { Clock } from '#lgsp/observability';
import { corruptRecord, mulberry32, SimInputError, toNfd } from '../faults.js';
import {
  code,
  date,
  DOSSIER_CODE,
  integer,
  nonNegative,
  record,
  requiredText,
  stripUndefined,
  text,
  weights,
} from '../fields.js';
import { isRecord, json, Simulator, type SimRequest, type SimResponse } from '../http.js';

/**
 * The Ministry of Justice civil-registry system (hộ tịch). camelCase JSON; answers
 * `{code: "0", message, data}`, business errors `{code: "1", message}` (HTTP 200), bad input
 * `{code: "400", message}` (HTTP 400). Four date formats appear in one flow, as in the real one:
 * `ngayDangKy`/`ngaySinh`/`ngayMat` `dd/MM/yyyy`; `thoiGianTiepNhan` `yyyyMMddHHmmss`;
 * `thoiGianCapNhat` ISO-8601 with `+07:00`; `ngayCapGiayChungNhan` 12-hour `dd/MM/yyyy hh:mm:ss AM`.
 * See ../../README.md.
 */
/** The registry's status codes (`trangThai`), as its published interface lists them. */
export const REGISTRY_STATUS = CIVIL_REGISTRY_STATUS;
export const REGISTRATION_KINDS = ['KHAI_SINH', 'KHAI_TU', 'KET_HON'] as const;
export type RegistrationKind = (typeof REGISTRATION_KINDS)[number];

const STATUS_TEXT: Record<number, string> = {
  1: 'Đã tiếp nhận',
  2: 'Yêu cầu bổ sung hồ sơ',
  3: 'Đang xử lý',
  4: 'Đã hoàn thành',
  6: 'Từ chối',
};

export interface RegistryConfig {
  /** Seed of the outcome plans; @defaultValue 1 */
  seed: number;
  /** Relative weights of the outcomes; @defaultValue done 8, supplement 1, rejected 1 */
  outcomes: { done: number; supplement: number; rejected: number };
  /** Polls answered "processing" before the final status; @defaultValue 1–3 */
  processingPolls: { min: number; max: number };
  /** When > 0 the status also advances one step per `stepMs` since receipt; @defaultValue 0 (polls only) */
  stepMs: number;
}

export interface Registration {
  maLienThong: string;
  maHoSoMotCua: string;
  loaiDangKy: RegistrationKind;
  maDonViDangKy: string;
  ngayDangKy: string;
  thongTin: Record<string, unknown>;
  thoiGianTiepNhan: string;
  /** The planned statuses, one per poll (or per `stepMs`); the last one is final. */
  keHoach: number[];
  soLanTraCuu: number;
  receivedAtMs: number;
  soGiayChungNhan?: string;
  soDinhDanhCaNhan?: string;
  /** Fields shown instead of the computed ones, set by `POST /_sim/tamper`. */
  overrides?: Record<string, unknown>;
}

/** A one-page PDF standing in for the certificate (tiny, valid enough for a viewer). */
export const CERTIFICATE_PDF_BASE64 = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
).toString('base64');

export class CivilRegistrySimulator extends Simulator {
  private config: RegistryConfig = defaultRegistryConfig();
  private random = mulberry32(this.config.seed);
  private registrations = new Map<string, Registration>();
  private order: string[] = [];
  private certificates = 0;

  constructor(options: { clock?: Pick<Clock, 'now'>; config?: Partial<RegistryConfig> } = {}) {
    super('civil-registry', options.clock);
    if (options.config) this.configure(options.config);
  }

  configure(input: unknown): RegistryConfig {
    this.config = parseRegistryConfig(input);
    this.random = mulberry32(this.config.seed);
    return this.config;
  }

  state(): { config: RegistryConfig; registrations: (Registration & { trangThai: number })[] } {
    return {
      config: this.config,
      registrations: this.order.map((c) => {
        const r = this.registrations.get(c)!;
        return { ...r, trangThai: this.status(r) };
      }),
    };
  }

  protected clear(): void {
    this.registrations.clear();
    this.order = [];
    this.certificates = 0;
    this.random = mulberry32(this.config.seed);
  }

  protected errorBody(status: number, message: string): unknown {
    return { code: String(status), message };
  }

  protected override handleControl(req: SimRequest): SimResponse | undefined {
    if (req.method === 'PUT' && req.path === '/_sim/config') return json(200, this.configure(req.body ?? {}));
    if (req.method === 'GET' && req.path === '/_sim/config') return json(200, this.config);
    if (req.method === 'POST' && req.path === '/_sim/tamper') return this.tamper(record(req.body, 'body'));
    return undefined;
  }

  /**
   * `POST /_sim/tamper`: changes the registry behind the hub's back, for reconciliation tests. The
   * registration is named by `registration` (maLienThong) or `dossier` (maHoSoMotCua).
   * `{dossier, delete: true}` forgets it; `{dossier, set: {field: value}}` shows those values instead
   * of the computed ones (e.g. `trangThai`, `soGiayChungNhan`) from then on; `{extra: registration}`
   * stores one nobody requested: `maLienThong`, `maHoSoMotCua`, optional `loaiDangKy` (KHAI_SINH) and
   * `trangThai` (1), any other field shown as given. Not counted as a call.
   */
  tamper(body: Record<string, unknown>): SimResponse {
    if (body.extra !== undefined) {
      const { maLienThong, maHoSoMotCua, loaiDangKy, trangThai, ...shown } = record(body.extra, 'body.extra');
      const link = requiredText({ maLienThong }, 'maLienThong', 'body.extra');
      const registration: Registration = {
        maLienThong: link,
        maHoSoMotCua: requiredText({ maHoSoMotCua }, 'maHoSoMotCua', 'body.extra'),
        loaiDangKy: (typeof loaiDangKy === 'string' ? loaiDangKy : 'KHAI_SINH') as RegistrationKind,
        maDonViDangKy: typeof shown.maDonViDangKy === 'string' ? shown.maDonViDangKy : '',
        ngayDangKy: typeof shown.ngayDangKy === 'string' ? shown.ngayDangKy : '',
        thongTin: {},
        thoiGianTiepNhan: formatVn(this.now(), 'portal'),
        keHoach: [typeof trangThai === 'number' ? trangThai : REGISTRY_STATUS.received],
        soLanTraCuu: 0,
        receivedAtMs: this.now(),
        overrides: shown,
      };
      if (!this.registrations.has(link)) this.order.push(link);
      this.registrations.set(link, registration);
      return json(200, { code: '0', message: 'Thành công', data: this.view(registration, false) });
    }
    const dossier = typeof body.registration === 'string' ? undefined : requiredText(body, 'dossier', 'body');
    const link =
      dossier === undefined
        ? (body.registration as string)
        : this.order.find((c) => this.registrations.get(c)?.maHoSoMotCua === dossier);
    const registration = link === undefined ? undefined : this.registrations.get(link);
    if (link === undefined || registration === undefined) {
      return json(200, { code: '1', message: 'Không tìm thấy hồ sơ đăng ký' });
    }
    if (body.delete === true) {
      this.registrations.delete(link);
      this.order = this.order.filter((c) => c !== link);
      return json(200, { code: '0', message: 'Thành công' });
    }
    registration.overrides = { ...registration.overrides, ...record(body.set, 'body.set') };
    return json(200, { code: '0', message: 'Thành công', data: this.view(registration, false) });
  }

  protected async handle(req: SimRequest): Promise<SimResponse> {
    const resultMatch = /^\/api\/v1\/hotich\/ket-qua\/([^/]+)$/.exec(req.path);
    if (req.method === 'POST' && req.path === '/api/v1/hotich/dang-ky') return this.register(req.body);
    if (req.method === 'GET' && resultMatch) return this.result(decodeURIComponent(resultMatch[1]!));
    if (req.method === 'GET' && req.path === '/api/v1/hotich/dang-ky') return this.list(req);
    return this.error(404, `Không có API ${req.method} ${req.path}`);
  }

  private async register(raw: unknown): Promise<SimResponse> {
    const peek = isRecord(raw) && typeof raw.maLienThong === 'string' ? [raw.maLienThong] : [];
    const guarded = await this.guard('DangKyHoTich', peek);
    if ('reject' in guarded) return guarded.reject;
    const { decision } = guarded;
    const body = record(raw, 'body');
    const maLienThong = requiredText(body, 'maLienThong', 'body', { max: 50, pattern: /^[0-9A-Za-z.\-_]+$/ });
    const loaiDangKy = requiredText(body, 'loaiDangKy', 'body') as RegistrationKind;
    if (!REGISTRATION_KINDS.includes(loaiDangKy)) {
      throw new SimInputError(`body.loaiDangKy: expected one of ${REGISTRATION_KINDS.join(', ')}`);
    }
    const registration = {
      maLienThong,
      maHoSoMotCua: requiredText(body, 'maHoSoMotCua', 'body', {
        pattern: DOSSIER_CODE,
        hint: 'a dossier code',
      }),
      loaiDangKy,
      maDonViDangKy: requiredText(body, 'maDonViDangKy', 'body', {
        pattern: /^\d{5}$/,
        hint: 'a 5-digit commune code',
      }),
      ngayDangKy: date(body, 'ngayDangKy', 'body', 'dateOnly', true) as string,
      thongTin: parseDetails(loaiDangKy, record(body.thongTin, 'body.thongTin')),
    };
    const existing = this.registrations.get(maLienThong);
    if (existing) {
      return json(200, {
        code: '1',
        message: `Mã liên thông ${maLienThong} đã tồn tại`,
        data: this.view(existing, false),
      });
    }
    const nowMs = this.now();
    const stored: Registration = {
      ...(decision.nfd ? toNfd(registration) : registration),
      thoiGianTiepNhan: formatVn(nowMs, 'portal'),
      keHoach: this.plan(),
      soLanTraCuu: 0,
      receivedAtMs: nowMs,
    };
    if (decision.corrupt) {
      corruptRecord(stored as unknown as Record<string, unknown>, decision.corrupt, [
        'maLienThong',
        'maHoSoMotCua',
        'loaiDangKy',
        'thoiGianTiepNhan',
        'soLanTraCuu',
        'receivedAtMs',
      ]);
    }
    if (!decision.dropWrite) {
      this.registrations.set(maLienThong, stored);
      this.order.push(maLienThong);
    }
    return json(200, {
      code: '0',
      message: 'Tiếp nhận thành công',
      data: { maLienThong, trangThai: REGISTRY_STATUS.received, thoiGianTiepNhan: stored.thoiGianTiepNhan },
    });
  }

  private async result(maLienThong: string): Promise<SimResponse> {
    const guarded = await this.guard('TraCuuKetQua', [maLienThong]);
    if ('reject' in guarded) return guarded.reject;
    const registration = this.registrations.get(maLienThong);
    if (!registration)
      return json(200, { code: '1', message: `Không tìm thấy mã liên thông ${maLienThong}` });
    const data = this.view(registration, true);
    return json(200, { code: '0', message: 'Thành công', data: guarded.decision.nfd ? toNfd(data) : data });
  }

  private async list(req: SimRequest): Promise<SimResponse> {
    const guarded = await this.guard('DanhSachDangKy');
    if ('reject' in guarded) return guarded.reject;
    const from = integer(req.query.get('tu'), 'tu', 0, 1_000_000_000, 0);
    const size = integer(req.query.get('soLuong'), 'soLuong', 1, 5000, 500);
    const page = this.order.slice(from, from + size).map((c) => this.view(this.registrations.get(c)!, false));
    return json(200, { code: '0', message: 'Thành công', tongSo: this.order.length, data: page });
  }

  /** The registration as the system shows it; a poll (`advance`) moves it one step on its plan. */
  private view(r: Registration, advance: boolean): Record<string, unknown> {
    if (advance) r.soLanTraCuu += 1;
    const status = this.status(r);
    const stepMs = this.config.stepMs;
    const data: Record<string, unknown> = {
      maLienThong: r.maLienThong,
      maHoSoMotCua: r.maHoSoMotCua,
      loaiDangKy: r.loaiDangKy,
      trangThai: status,
      moTaTrangThai: STATUS_TEXT[status],
      thoiGianTiepNhan: r.thoiGianTiepNhan,
      thoiGianCapNhat: formatVn(stepMs > 0 ? r.receivedAtMs + this.step(r) * stepMs : this.now(), 'iso'),
    };
    if (status === REGISTRY_STATUS.supplementNeeded) data.lyDo = 'Thiếu giấy chứng sinh, đề nghị bổ sung';
    if (status === REGISTRY_STATUS.rejected) data.lyDo = 'Hồ sơ không đủ điều kiện đăng ký';
    if (status === REGISTRY_STATUS.done) {
      if (r.soGiayChungNhan === undefined) {
        this.certificates += 1;
        const year = formatVn(r.receivedAtMs, 'portal').slice(0, 4);
        r.soGiayChungNhan = `${String(this.certificates).padStart(6, '0')}/${year}/${SERIES[r.loaiDangKy]}`;
        if (r.loaiDangKy === 'KHAI_SINH') {
          r.soDinhDanhCaNhan = String(Math.floor(this.random() * 1e12)).padStart(12, '0');
        }
      }
      Object.assign(
        data,
        stripUndefined({
          soGiayChungNhan: r.soGiayChungNhan,
          soDinhDanhCaNhan: r.soDinhDanhCaNhan,
          ngayCapGiayChungNhan: formatVn(this.now(), 'twelveHour'),
          fileGiayChungNhan: CERTIFICATE_PDF_BASE64,
        }),
      );
    }
    if (r.overrides !== undefined) Object.assign(data, r.overrides);
    return data;
  }

  private step(r: Registration): number {
    const byPolls = r.soLanTraCuu - 1;
    const byTime =
      this.config.stepMs > 0 ? Math.floor((this.now() - r.receivedAtMs) / this.config.stepMs) : 0;
    return Math.max(0, Math.min(r.keHoach.length - 1, Math.max(byPolls, byTime)));
  }

  private status(r: Registration): number {
    return r.keHoach[this.step(r)] ?? REGISTRY_STATUS.received;
  }

  /** Two draws per registration, whatever the outcome. */
  private plan(): number[] {
    const { outcomes, processingPolls } = this.config;
    const total = outcomes.done + outcomes.supplement + outcomes.rejected;
    const u = this.random() * total;
    const n =
      processingPolls.min + Math.floor(this.random() * (processingPolls.max - processingPolls.min + 1));
    const processing = Array.from({ length: n }, () => REGISTRY_STATUS.processing as number);
    if (u < outcomes.done) return [1, ...processing, 4];
    if (u < outcomes.done + outcomes.supplement) return [1, 2, ...processing, 4];
    return [1, ...processing, 6];
  }
}

const SERIES: Record<RegistrationKind, string> = { KHAI_SINH: 'TP/KS', KHAI_TU: 'TP/KT', KET_HON: 'TP/KH' };

export function defaultRegistryConfig(): RegistryConfig {
  return {
    seed: 1,
    outcomes: { done: 8, supplement: 1, rejected: 1 },
    processingPolls: { min: 1, max: 3 },
    stepMs: 0,
  };
}

export function parseRegistryConfig(input: unknown): RegistryConfig {
  const o = record(input, 'config');
  const c = defaultRegistryConfig();
  if (o.seed !== undefined) c.seed = nonNegative(o.seed, 'config.seed');
  if (o.stepMs !== undefined) c.stepMs = nonNegative(o.stepMs, 'config.stepMs');
  if (o.outcomes !== undefined) {
    c.outcomes = weights(o.outcomes, 'config.outcomes', ['done', 'supplement', 'rejected']);
  }
  if (o.processingPolls !== undefined) {
    const p = record(o.processingPolls, 'config.processingPolls');
    const min = Math.floor(nonNegative(p.min, 'config.processingPolls.min'));
    const max = Math.floor(nonNegative(p.max ?? min, 'config.processingPolls.max'));
    if (max < min) throw new SimInputError('config.processingPolls.max: below min');
    c.processingPolls = { min, max };
  }
  return c;
}

function parseDetails(kind: RegistrationKind, o: Record<string, unknown>): Record<string, unknown> {
  const p = 'body.thongTin';
  const id = { pattern: /^\d{12}$/, hint: 'a 12-digit citizen ID' };
  switch (kind) {
    case 'KHAI_SINH':
      return stripUndefined({
        hoTen: requiredText(o, 'hoTen', p, { max: 100 }),
        ngaySinh: date(o, 'ngaySinh', p, 'dateOnly', true),
        gioiTinh: code(o, 'gioiTinh', p, [1, 2]),
        noiSinh: text(o, 'noiSinh', p, { max: 250 }),
        hoTenMe: text(o, 'hoTenMe', p, { max: 100 }),
        soDinhDanhMe: text(o, 'soDinhDanhMe', p, id),
        hoTenCha: text(o, 'hoTenCha', p, { max: 100 }),
        soDinhDanhCha: text(o, 'soDinhDanhCha', p, id),
      });
    case 'KHAI_TU':
      return stripUndefined({
        hoTen: requiredText(o, 'hoTen', p, { max: 100 }),
        soDinhDanh: requiredText(o, 'soDinhDanh', p, id),
        ngayMat: date(o, 'ngayMat', p, 'dateOnly', true),
        noiMat: text(o, 'noiMat', p, { max: 250 }),
      });
    case 'KET_HON':
      return stripUndefined({
        hoTenChong: requiredText(o, 'hoTenChong', p, { max: 100 }),
        soDinhDanhChong: requiredText(o, 'soDinhDanhChong', p, id),
        hoTenVo: requiredText(o, 'hoTenVo', p, { max: 100 }),
        soDinhDanhVo: requiredText(o, 'soDinhDanhVo', p, id),
      });
  }
}
