import {
  CIVIL_REGISTRY_EXISTS,
  CIVIL_REGISTRY_MODULES,
  CIVIL_REGISTRY_STATUS,
  formatVn,
} from '#lgsp/connectors';
import type { Clock } from '#lgsp/observability';
import { corruptRecord, mulberry32, SimInputError, toNfd } from '../faults.js';
import {
  array,
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
 * The Ministry of Justice civil-registry system (hộ tịch), as integrators call it. `POST /api/NhanDKHT`
 * receives a dossier (`{maDonVi, module, maHoSoLT, maHoSoMCDT, ngayTiepNhan, data: "<JSON>",
 * fileDinhKem}`); `POST /api/LayKetQua` answers the results of several dossiers at once
 * (`{maDinhDanhHoSo: [...], maTinh, module}` → `{status, value: [...]}`); `POST /api/DanhSachHoSo`
 * pages through what it holds (the simulator's listing for reconciliation, no public trace). Every
 * answer is `{status: "1" | "0", statusDescription, errorCode, errorDescription}`; bad input is
 * refused with HTTP 400 in the same shape, which is how a call in the hub's first (REST,
 * `maLienThong`/`thongTin`) shape is refused. Four date formats appear in one flow:
 * `ngayTiepNhan` `dd/MM/yyyy HH:mm:ss`, person dates `dd.MM.yyyy`, `ngayDangKy` `dd/MM/yyyy`,
 * `ngayCapNhat` ISO-8601 with `+07:00`. See ../../README.md.
 */
/** The registry's status codes (`trangThai`), as its published interface lists them. */
export const REGISTRY_STATUS = CIVIL_REGISTRY_STATUS;
export const REGISTRATION_KINDS = CIVIL_REGISTRY_MODULES;
export type RegistrationKind = (typeof REGISTRATION_KINDS)[number];

const STATUS_TEXT: Record<number, string> = {
  1: 'Đã tiếp nhận',
  2: 'Yêu cầu bổ sung hồ sơ',
  3: 'Đang xử lý',
  4: 'Đã hoàn thành',
  6: 'Từ chối',
};

/** The certificate's field of `ketQuaXuLy` per module. */
const CERTIFICATE_FIELD: Record<RegistrationKind, string> = {
  LTKS: 'giayKhaiSinh',
  LTKT: 'tronLucKhaiTu',
  LTKH: 'giayChungNhanKetHon',
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
  maHoSoMCDT: string;
  maHoSoLT: string;
  module: RegistrationKind;
  maDonVi: string;
  ngayTiepNhan: string;
  /** `data`, parsed. */
  data: Record<string, unknown>;
  /** Names of the attachments (their content is not kept). */
  fileDinhKem: string[];
  /** The planned statuses, one per poll (or per `stepMs`); the last one is final. */
  keHoach: number[];
  soLanTraCuu: number;
  receivedAtMs: number;
  soDangKy?: string;
  quyenSo?: string;
  trangSo?: string;
  ngayDangKy?: string;
  soDinhDanh?: string;
  /** Fields shown instead of the computed ones, set by `POST /_sim/tamper`. */
  overrides?: Record<string, unknown>;
}

/** A one-page PDF standing in for the certificate (tiny, valid enough for a viewer). */
export const CERTIFICATE_PDF_BASE64 = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
).toString('base64');

const OK = { status: '1', statusDescription: 'Thành công', errorCode: '', errorDescription: '' };
const refusal = (errorCode: string, errorDescription: string) => ({
  status: '0',
  statusDescription: 'Thất bại',
  errorCode,
  errorDescription,
});
/** `maHoSoLT`: at most 50 of these characters. */
const LINK_CODE = /^[0-9A-Za-z.\-_]{1,50}$/;
/** `LayKetQua` takes at most this many codes per call. */
export const RESULT_BATCH_MAX = 100;

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
    return refusal(String(status), message);
  }

  protected override handleControl(req: SimRequest): SimResponse | undefined {
    if (req.method === 'PUT' && req.path === '/_sim/config') return json(200, this.configure(req.body ?? {}));
    if (req.method === 'GET' && req.path === '/_sim/config') return json(200, this.config);
    if (req.method === 'POST' && req.path === '/_sim/tamper') return this.tamper(record(req.body, 'body'));
    return undefined;
  }

  /**
   * `POST /_sim/tamper`: changes the registry behind the hub's back, for reconciliation tests. The
   * dossier is named by `dossier` (maHoSoMCDT). `{dossier, delete: true}` forgets it;
   * `{dossier, set: {field: value}}` shows those values instead of the computed ones (e.g.
   * `trangThai`, `soDangKy`) from then on; `{extra: dossier}` stores one nobody sent: `maHoSoMCDT`,
   * optional `maHoSoLT`, `module` (LTKS), `trangThai` (1) and `data` (the person fields, as listed),
   * any other field shown as given. Not
   * counted as a call.
   */
  tamper(body: Record<string, unknown>): SimResponse {
    if (body.extra !== undefined) {
      const { maHoSoMCDT, maHoSoLT, module, trangThai, data, ...shown } = record(body.extra, 'body.extra');
      const dossier = requiredText({ maHoSoMCDT }, 'maHoSoMCDT', 'body.extra');
      const maDonVi = typeof shown.maDonVi === 'string' ? shown.maDonVi : '';
      const registration: Registration = {
        maHoSoMCDT: dossier,
        maHoSoLT: typeof maHoSoLT === 'string' ? maHoSoLT : `LT-${dossier}`,
        module: (typeof module === 'string' ? module : 'LTKS') as RegistrationKind,
        maDonVi,
        ngayTiepNhan: formatVn(this.now(), 'legacy'),
        data: data === undefined ? {} : record(data, 'body.extra.data'),
        fileDinhKem: [],
        keHoach: [typeof trangThai === 'number' ? trangThai : REGISTRY_STATUS.received],
        soLanTraCuu: 0,
        receivedAtMs: this.now(),
        overrides: shown,
      };
      if (!this.registrations.has(dossier)) this.order.push(dossier);
      this.registrations.set(dossier, registration);
      return json(200, { ...OK, value: this.view(registration, false) });
    }
    const dossier = requiredText(body, 'dossier', 'body');
    const registration = this.registrations.get(dossier);
    if (registration === undefined) return json(200, refusal('KHONG_TIM_THAY', 'Không tìm thấy hồ sơ'));
    if (body.delete === true) {
      this.registrations.delete(dossier);
      this.order = this.order.filter((c) => c !== dossier);
      return json(200, OK);
    }
    registration.overrides = { ...registration.overrides, ...record(body.set, 'body.set') };
    return json(200, { ...OK, value: this.view(registration, false) });
  }

  protected async handle(req: SimRequest): Promise<SimResponse> {
    if (req.method === 'POST' && req.path === '/api/NhanDKHT') return this.receive(req.body);
    if (req.method === 'POST' && req.path === '/api/LayKetQua') return this.results(req.body);
    if (req.method === 'POST' && req.path === '/api/DanhSachHoSo') return this.list(req.body);
    return this.error(404, `Không có API ${req.method} ${req.path}`);
  }

  private async receive(raw: unknown): Promise<SimResponse> {
    const peek = isRecord(raw) && typeof raw.maHoSoMCDT === 'string' ? [raw.maHoSoMCDT] : [];
    const guarded = await this.guard('NhanDKHT', peek);
    if ('reject' in guarded) return guarded.reject;
    const { decision } = guarded;
    const body = record(raw, 'body');
    const module = requiredText(body, 'module', 'body') as RegistrationKind;
    if (!REGISTRATION_KINDS.includes(module)) {
      throw new SimInputError(`body.module: expected one of ${REGISTRATION_KINDS.join(', ')}`);
    }
    const maDonVi = requiredText(body, 'maDonVi', 'body', {
      pattern: /^\d{5}$/,
      hint: 'a 5-digit unit code',
    });
    const maHoSoMCDT = requiredText(body, 'maHoSoMCDT', 'body', {
      pattern: DOSSIER_CODE,
      hint: 'a dossier code',
    });
    const registration = {
      maHoSoMCDT,
      maHoSoLT: requiredText(body, 'maHoSoLT', 'body', { pattern: LINK_CODE, hint: 'an interlinked code' }),
      module,
      maDonVi,
      ngayTiepNhan: date(body, 'ngayTiepNhan', 'body', 'legacy', true) as string,
      data: parseData(module, body.data),
      fileDinhKem: parseAttachments(body.fileDinhKem),
    };
    const existing = this.registrations.get(maHoSoMCDT);
    if (existing) {
      return json(200, refusal(CIVIL_REGISTRY_EXISTS, `Hồ sơ ${maHoSoMCDT} đã tồn tại`));
    }
    const nowMs = this.now();
    const stored: Registration = {
      ...(decision.nfd ? toNfd(registration) : registration),
      keHoach: this.plan(),
      soLanTraCuu: 0,
      receivedAtMs: nowMs,
    };
    if (decision.corrupt) {
      corruptRecord(stored as unknown as Record<string, unknown>, decision.corrupt, [
        'maHoSoMCDT',
        'maHoSoLT',
        'module',
        'maDonVi',
        'ngayTiepNhan',
        'keHoach',
        'soLanTraCuu',
        'receivedAtMs',
        'fileDinhKem',
      ]);
    }
    if (!decision.dropWrite) {
      this.registrations.set(maHoSoMCDT, stored);
      this.order.push(maHoSoMCDT);
    }
    return json(200, { ...OK, statusDescription: 'Tiếp nhận thành công' });
  }

  private async results(raw: unknown): Promise<SimResponse> {
    const peek = isRecord(raw) && Array.isArray(raw.maDinhDanhHoSo) ? raw.maDinhDanhHoSo.filter(isText) : [];
    const guarded = await this.guard('LayKetQua', peek);
    if ('reject' in guarded) return guarded.reject;
    const body = record(raw, 'body');
    const codes = array(body, 'maDinhDanhHoSo', 'body', true);
    if (codes.length === 0 || codes.length > RESULT_BATCH_MAX) {
      throw new SimInputError(`body.maDinhDanhHoSo: 1 to ${RESULT_BATCH_MAX} codes, got ${codes.length}`);
    }
    codes.forEach((c, i) => {
      if (!isText(c)) throw new SimInputError(`body.maDinhDanhHoSo[${i}]: expected a dossier code`);
    });
    requiredText(body, 'maTinh', 'body', {
      pattern: /^\d{2}$/,
      hint: 'a 2-digit province code',
    });
    const module = requiredText(body, 'module', 'body') as RegistrationKind;
    if (!REGISTRATION_KINDS.includes(module)) {
      throw new SimInputError(`body.module: expected one of ${REGISTRATION_KINDS.join(', ')}`);
    }
    const value: Record<string, unknown>[] = [];
    for (const code of new Set(codes as string[])) {
      const r = this.registrations.get(code);
      // Another module's dossier is not shown, as an unknown one. (`maTinh` is checked for its form
      // only: NhanDKHT names no province, and commune codes do not start with the province's.)
      if (r === undefined || r.module !== module) continue;
      value.push(this.view(r, true));
    }
    return json(200, { ...OK, value: guarded.decision.nfd ? toNfd(value) : value });
  }

  private async list(raw: unknown): Promise<SimResponse> {
    const guarded = await this.guard('DanhSachHoSo');
    if ('reject' in guarded) return guarded.reject;
    const body = raw === undefined ? {} : record(raw, 'body');
    const from = integer(body.tu === undefined ? null : String(body.tu), 'body.tu', 0, 1_000_000_000, 0);
    const size = integer(
      body.soLuong === undefined ? null : String(body.soLuong),
      'body.soLuong',
      1,
      5000,
      500,
    );
    const page = this.order.slice(from, from + size).map((c) => {
      const r = this.registrations.get(c)!;
      return { ...this.view(r, false), maDonVi: r.maDonVi, data: r.data };
    });
    return json(200, { ...OK, tongSo: this.order.length, value: page });
  }

  /** The dossier as the system shows it; a poll (`advance`) moves it one step on its plan. */
  private view(r: Registration, advance: boolean): Record<string, unknown> {
    if (advance) r.soLanTraCuu += 1;
    const status = this.status(r);
    const stepMs = this.config.stepMs;
    const data: Record<string, unknown> = {
      maHoSoMCDT: r.maHoSoMCDT,
      maHoSoLT: r.maHoSoLT,
      module: r.module,
      trangThai: status,
      moTaTrangThai: STATUS_TEXT[status],
      ngayTiepNhan: r.ngayTiepNhan,
      ngayCapNhat: formatVn(stepMs > 0 ? r.receivedAtMs + this.step(r) * stepMs : this.now(), 'iso'),
    };
    if (status === REGISTRY_STATUS.supplementNeeded) data.lyDo = 'Thiếu giấy chứng sinh, đề nghị bổ sung';
    if (status === REGISTRY_STATUS.rejected) data.lyDo = 'Hồ sơ không đủ điều kiện đăng ký';
    if (status === REGISTRY_STATUS.done) {
      if (r.soDangKy === undefined) {
        this.certificates += 1;
        const year = formatVn(this.now(), 'dateOnly').slice(6);
        r.soDangKy = String(this.certificates);
        r.quyenSo = `${String(Math.ceil(this.certificates / 500)).padStart(2, '0')}/${year}`;
        r.trangSo = String(((this.certificates - 1) % 500) + 1);
        r.ngayDangKy = formatVn(this.now(), 'dateOnly');
        if (r.module === 'LTKS') r.soDinhDanh = String(Math.floor(this.random() * 1e12)).padStart(12, '0');
      }
      Object.assign(
        data,
        stripUndefined({
          soDangKy: r.soDangKy,
          quyenSo: r.quyenSo,
          trangSo: r.trangSo,
          ngayDangKy: r.ngayDangKy,
          soDinhDanh: r.soDinhDanh,
          ketQuaXuLy: { [CERTIFICATE_FIELD[r.module]]: CERTIFICATE_PDF_BASE64 },
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

/**
 * `data`: a JSON string (an object is the first shape's `thongTin`, refused). For LTKS the person
 * fields are checked as the registry would; the other modules' fields are kept as sent.
 */
function parseData(module: RegistrationKind, raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'string') throw new SimInputError('body.data: expected a JSON string');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new SimInputError('body.data: not valid JSON');
  }
  const o = record(parsed, 'body.data');
  if (module !== 'LTKS') return o;
  const p = 'body.data';
  const id = { pattern: /^\d{12}$/, hint: 'a 12-digit personal ID' };
  return stripUndefined({
    ...o,
    nksHoTen: requiredText(o, 'nksHoTen', p, { max: 100 }),
    nksNgaySinh: date(o, 'nksNgaySinh', p, 'dotted', true),
    nksGioiTinh: code(o, 'nksGioiTinh', p, [1, 2]),
    nksNoiSinh: text(o, 'nksNoiSinh', p, { max: 250 }),
    meHoTen: text(o, 'meHoTen', p, { max: 100 }),
    meSoDDCN: text(o, 'meSoDDCN', p, id),
    chaHoTen: text(o, 'chaHoTen', p, { max: 100 }),
    chaSoDDCN: text(o, 'chaSoDDCN', p, id),
  });
}

/** `fileDinhKem`: a list of `{tenTep, duongDan | noiDung}`; only the names are kept. */
function parseAttachments(raw: unknown): string[] {
  if (!Array.isArray(raw)) throw new SimInputError('body.fileDinhKem: expected a list');
  return raw.map((item, i) => {
    const p = `body.fileDinhKem[${i}]`;
    const f = record(item, p);
    const name = requiredText(f, 'tenTep', p, { max: 255 });
    const link = text(f, 'duongDan', p, { max: 2000, pattern: /^https?:\/\/\S+$/, hint: 'a URL' });
    const content = text(f, 'noiDung', p, { pattern: /^[A-Za-z0-9+/]+={0,2}$/, hint: 'base64' });
    if (link === undefined && content === undefined)
      throw new SimInputError(`${p}: duongDan or noiDung required`);
    return name;
  });
}

const isText = (v: unknown): v is string => typeof v === 'string' && v !== '';
