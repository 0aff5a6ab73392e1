import { DEFAULT_PAYMENT_DIALECT, PAYMENT_STATUS, formatVn } from '#lgsp/connectors';
import type { Clock } from '#lgsp/observability';
import { mulberry32, SimInputError } from '../faults.js';
import { array, bool, date, nonNegative, record, requiredText, text, weights } from '../fields.js';
import { isRecord, json, Simulator, type SimRequest, type SimResponse, type Started } from '../http.js';
import { messageDigest, signMessage, verifyMessage, type DigestMessage } from '#lgsp/connectors';

/**
 * The portal's payment platform. One endpoint, `POST /api/v1/thanh-toan`, taking messages
 * `{LoaiBanTin: "INIT" | "QUERY" | "GET_BILL", PhienBan, ..., MaXacThuc}` signed over the real
 * field orders (connectors' payments/digest.ts): a message signed over any other order is refused
 * with "02". INIT carries the fixed values (`PhienBan`, `LoaiHinhThanhToan`, `MaKenhThanhToan`,
 * `MaThietBi`, `NgonNgu`, `MaTienTe`, `MaNganHang`), `ThongTinGiaoDich`, `Ip` and `ThongTinBienLai`;
 * QUERY and GET_BILL repeat the INIT's `ThoiGianGD` (another one is refused while
 * `matchOriginalTime`). `MaThamChieu` with punctuation is refused while `refusePunctuation`. Answers
 * are `{MaLoi, MoTaLoi, ..., MaXacThuc}`. `MaLoi`: "00" success, "01" bad input (HTTP 400), "02" bad
 * `MaXacThuc` (HTTP 400), "03" unknown transaction, "04" `MaThamChieu` reused with another amount,
 * "12" no bill yet (not paid), "24" payment failed (callbacks only), "99" other errors.
 * `TrangThaiGD`: 1 success, 3 pending, 4 failed. Results reach `callbackUrl` as POSTed callbacks,
 * whose answer `{MaLoi, MoTaLoi, MaDoiTac, MaThamChieu, ThoiGianGD, MaXacThuc}` is verified.
 * See ../../README.md.
 */
export interface PaymentConfig {
  /** Where results are POSTed; @defaultValue none (no callbacks) */
  callbackUrl?: string;
  /** Shared secret of `MaXacThuc`; @defaultValue `lgsp-dev-secret` */
  secret: string;
  /** Seed of the payment plans; @defaultValue 1 */
  seed: number;
  /**
   * Relative weights of how payments end; `pending` stays pending for ever (a citizen who never pays).
   * @defaultValue 8 / 1 / 0: a payment stays pending for ever only when asked, by this weight or for one
   * payment with {@link PaymentPlatformSimulator.abandon}
   */
  outcomes: { success: number; failed: number; pending: number };
  /** QUERYs answered pending before the result; @defaultValue 0–2 */
  pendingPolls: { min: number; max: number };
  /** The result (and its callback) comes by itself after this long; `null`: only through QUERY. @defaultValue 100–1000 ms */
  resolveAfterMs: { min: number; max: number } | null;
  /** A callback not answered 2xx is sent again this many times; @defaultValue 2 */
  callbackRetries: number;
  /** Delay before the first retry, doubling after each; @defaultValue 500 */
  callbackRetryDelayMs: number;
  /** Refuse a `MaThamChieu` holding anything but letters, digits and `_` ("01"). @defaultValue true */
  refusePunctuation: boolean;
  /** Refuse a QUERY/GET_BILL whose `ThoiGianGD` is not the INIT's ("01"). @defaultValue true */
  matchOriginalTime: boolean;
  /** `LoaiBanTin` of a callback (no public trace of its value). @defaultValue `CONFIRM` */
  callbackType: string;
}

/** `TrangThaiGD`, as the platform's published interface lists it. */
export const TRANSACTION_STATUS = PAYMENT_STATUS;

const BANKS = ['VCB', 'BIDV', 'CTG', 'VBA', 'TCB', 'MB', 'ACB'] as const;

export interface Payment {
  MaThamChieu: string;
  MaDoiTac: string;
  SoTien: number;
  ThongTinGiaoDich: string;
  ThongTinBienLai: Record<string, unknown>;
  MaGiaoDich: string;
  MaNganHang: string;
  /** The INIT's `ThoiGianGD`, as it was sent. */
  ThoiGianKhoiTao: string;
  TrangThaiGD: number;
  ThoiGianGD?: string;
  SoLanTruyVan: number;
  plan: { outcome: 'success' | 'failed' | 'pending'; pendingPolls: number; resolveAfterMs: number | null };
}

export interface SentCallback {
  kind: 'result' | 'duplicate' | 'forged';
  url: string;
  body: Record<string, unknown>;
  sentAt: string;
  /** Deliveries tried so far. */
  attempts: number;
  status?: number;
  response?: string;
  /** Whether the last answer was `{MaLoi, MoTaLoi, MaDoiTac, MaThamChieu, ThoiGianGD}` signed with the secret. */
  answerVerified?: boolean;
  error?: string;
}

export class PaymentPlatformSimulator extends Simulator {
  private config: PaymentConfig = defaultPaymentConfig();
  private random = mulberry32(this.config.seed);
  private payments = new Map<string, Payment>();
  /** `MaThamChieu`s whose citizen will not pay (see {@link abandon}). */
  private abandoned = new Set<string>();
  private callbacks: SentCallback[] = [];
  private timers = new Set<NodeJS.Timeout>();
  private inFlight = new Set<Promise<void>>();
  private transactions = 0;
  private stopped = false;

  constructor(options: { clock?: Pick<Clock, 'now'>; config?: Record<string, unknown> } = {}) {
    super('payments', options.clock);
    if (options.config) this.configure(options.config);
  }

  configure(input: unknown): PaymentConfig {
    this.config = parsePaymentConfig(input, this.config);
    this.random = mulberry32(this.config.seed);
    return this.config;
  }

  state(): { config: Omit<PaymentConfig, 'secret'>; payments: Payment[]; callbacks: SentCallback[] } {
    const { secret: _secret, ...config } = this.config;
    return { config, payments: [...this.payments.values()], callbacks: this.callbacks };
  }

  /** Resolves once every callback sent so far has been answered (or failed). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  override start(port = 0, host = '127.0.0.1'): Promise<Started> {
    this.stopped = false;
    return super.start(port, host);
  }

  override async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimers();
    await this.settled();
    await super.stop();
  }

  /** Settles a payment now (1 success, 4 failed), sending its callback. */
  resolve(maThamChieu: string, status: 1 | 4): Payment {
    const payment = this.payments.get(maThamChieu);
    if (!payment) throw new SimInputError(`MaThamChieu ${maThamChieu}: no such payment`);
    if (payment.TrangThaiGD === TRANSACTION_STATUS.pending) this.settle(payment, status);
    return payment;
  }

  /**
   * The citizen will not pay `maThamChieu`: its payment, opened before or after this call, stays
   * pending (`TrangThaiGD` 3) for ever, whatever the outcome weights (only {@link resolve} settles it).
   * The scripted counterpart of the `pending` weight, for a caller that plays the citizens and must
   * know which payments are abandoned (the demo). A payment already settled cannot be abandoned.
   */
  abandon(maThamChieu: string): { MaThamChieu: string; TrangThaiGD: number | null } {
    const payment = this.payments.get(maThamChieu);
    if (payment !== undefined && payment.TrangThaiGD !== TRANSACTION_STATUS.pending) {
      throw new SimInputError(
        `MaThamChieu ${maThamChieu}: already settled (TrangThaiGD ${payment.TrangThaiGD}), cannot be abandoned`,
      );
    }
    this.abandoned.add(maThamChieu);
    if (payment !== undefined) payment.plan.outcome = 'pending';
    return { MaThamChieu: maThamChieu, TrangThaiGD: payment?.TrangThaiGD ?? null };
  }

  protected clear(): void {
    this.cancelTimers();
    this.payments.clear();
    this.abandoned.clear();
    this.callbacks = [];
    this.transactions = 0;
    this.random = mulberry32(this.config.seed);
  }

  protected errorBody(status: number, message: string): unknown {
    return { MaLoi: status === 400 ? '01' : '99', MoTaLoi: message };
  }

  protected override async handleControl(req: SimRequest): Promise<SimResponse | undefined> {
    const route = `${req.method} ${req.path}`;
    if (route === 'PUT /_sim/config') {
      this.configure(req.body ?? {});
      return json(200, this.state().config);
    }
    if (route === 'GET /_sim/config') return json(200, this.state().config);
    if (route === 'POST /_sim/payments/resolve') {
      const body = record(req.body, 'body');
      const status = body.TrangThaiGD;
      if (status !== 1 && status !== 4) throw new SimInputError('body.TrangThaiGD: expected 1 or 4');
      return json(200, this.resolve(requiredText(body, 'MaThamChieu', 'body'), status));
    }
    if (route === 'POST /_sim/payments/abandon') {
      return json(200, this.abandon(requiredText(record(req.body, 'body'), 'MaThamChieu', 'body')));
    }
    if (route === 'POST /_sim/tamper') return json(200, this.tamper(record(req.body, 'body')));
    if (route === 'POST /_sim/forge-callback') {
      const sent = await this.forge(isRecord(req.body) ? req.body : {});
      return json(200, sent);
    }
    return undefined;
  }

  /**
   * `POST /_sim/tamper`: changes a payment behind the hub's back, for reconciliation tests, sending
   * no callback. `{MaThamChieu, delete: true}` forgets it; `{MaThamChieu, set: {TrangThaiGD?, SoTien?,
   * MaGiaoDich?}}` overwrites those fields.
   */
  tamper(body: Record<string, unknown>): Payment | { deleted: string } {
    const ref = requiredText(body, 'MaThamChieu', 'body');
    const payment = this.payments.get(ref);
    if (!payment) throw new SimInputError(`body.MaThamChieu: no payment ${ref}`);
    if (bool(body, 'delete', 'body') === true) {
      this.payments.delete(ref);
      return { deleted: ref };
    }
    const set = record(body.set, 'body.set');
    for (const key of Object.keys(set)) {
      if (!['TrangThaiGD', 'SoTien', 'MaGiaoDich'].includes(key)) {
        throw new SimInputError(`body.set.${key}: expected TrangThaiGD, SoTien or MaGiaoDich`);
      }
    }
    if (Object.keys(set).length === 0) throw new SimInputError('body.set: expected at least one field');
    if (set.TrangThaiGD !== undefined) {
      const status = set.TrangThaiGD;
      if (status !== 1 && status !== 3 && status !== 4) {
        throw new SimInputError('body.set.TrangThaiGD: expected 1, 3 or 4');
      }
      payment.TrangThaiGD = status;
    }
    if (set.SoTien !== undefined) payment.SoTien = amount(set.SoTien, 'body.set.SoTien');
    if (set.MaGiaoDich !== undefined) payment.MaGiaoDich = requiredText(set, 'MaGiaoDich', 'body.set');
    return payment;
  }

  protected async handle(req: SimRequest): Promise<SimResponse> {
    if (req.method !== 'POST' || req.path !== '/api/v1/thanh-toan') {
      return this.error(404, `Không có API ${req.method} ${req.path}`);
    }
    const body = record(req.body, 'body');
    const kind = body.LoaiBanTin;
    if (kind !== 'INIT' && kind !== 'QUERY' && kind !== 'GET_BILL') {
      throw new SimInputError(
        `body.LoaiBanTin: expected INIT, QUERY or GET_BILL, got ${JSON.stringify(kind)}`,
      );
    }
    const ref = typeof body.MaThamChieu === 'string' ? [body.MaThamChieu] : [];
    const guarded = await this.guard(kind, ref);
    if ('reject' in guarded) return guarded.reject;
    requiredText(body, 'PhienBan', 'body', { max: 20 });
    const maDoiTac = requiredText(body, 'MaDoiTac', 'body', { max: 50 });
    const maThamChieu = requiredText(body, 'MaThamChieu', 'body', {
      max: 50,
      ...(this.config.refusePunctuation
        ? { pattern: /^\w+$/, hint: 'a reference of letters and digits only (no "." or "-")' }
        : { pattern: /^[0-9A-Za-z.\-_]+$/ }),
    });
    const thoiGianGD = date(body, 'ThoiGianGD', 'body', 'portal', true)!;
    if (kind === 'INIT') checkInit(body);
    if (!verifyMessage(kind, body, this.config.secret)) {
      return json(400, { MaLoi: '02', MoTaLoi: 'MaXacThuc không hợp lệ' });
    }
    if (kind === 'INIT') return this.init(body, maDoiTac, maThamChieu, guarded.decision.dropWrite);
    const payment = this.payments.get(maThamChieu);
    if (!payment || payment.MaDoiTac !== maDoiTac) {
      return json(200, { MaLoi: '03', MoTaLoi: `Không tìm thấy giao dịch ${maThamChieu}` });
    }
    if (this.config.matchOriginalTime && thoiGianGD !== payment.ThoiGianKhoiTao) {
      throw new SimInputError(
        `body.ThoiGianGD: ${thoiGianGD} is not the ThoiGianGD of the transaction's INIT`,
      );
    }
    if (kind === 'QUERY') {
      payment.SoLanTruyVan += 1;
      const { plan } = payment;
      if (
        payment.TrangThaiGD === TRANSACTION_STATUS.pending &&
        plan.outcome !== 'pending' &&
        payment.SoLanTruyVan > plan.pendingPolls
      ) {
        this.settle(payment, plan.outcome === 'success' ? 1 : 4);
      }
      return this.signed('QUERY_RESPONSE', {
        MaLoi: '00',
        MoTaLoi: 'Thành công',
        LoaiBanTin: 'QUERY',
        MaDoiTac: payment.MaDoiTac,
        MaThamChieu: payment.MaThamChieu,
        MaGiaoDich: payment.MaGiaoDich,
        SoTien: payment.SoTien,
        MaTienTe: DEFAULT_PAYMENT_DIALECT.MaTienTe,
        TrangThaiGD: payment.TrangThaiGD,
        ThoiGianGD: payment.ThoiGianGD ?? '',
        MaNganHang: payment.MaNganHang,
        ThongTinGiaoDich: payment.ThongTinGiaoDich,
      });
    }
    if (payment.TrangThaiGD !== TRANSACTION_STATUS.success) {
      return json(200, { MaLoi: '12', MoTaLoi: 'Giao dịch chưa thanh toán thành công, chưa có biên lai' });
    }
    return this.signed('GET_BILL_RESPONSE', {
      MaLoi: '00',
      MoTaLoi: 'Thành công',
      MaThamChieu: payment.MaThamChieu,
      MaGiaoDich: payment.MaGiaoDich,
      SoTien: payment.SoTien,
      SoBienLai: `BL${payment.MaGiaoDich.slice(2)}`,
      UrlBienLai: `https://thanhtoan.dichvucong.gov.vn/bien-lai/${payment.MaGiaoDich}.pdf`,
    });
  }

  private init(
    body: Record<string, unknown>,
    maDoiTac: string,
    maThamChieu: string,
    drop: boolean,
  ): SimResponse {
    const soTien = amount(body.SoTien, 'body.SoTien');
    const existing = this.payments.get(maThamChieu);
    if (existing && (existing.SoTien !== soTien || existing.MaDoiTac !== maDoiTac)) {
      return json(200, { MaLoi: '04', MoTaLoi: `MaThamChieu ${maThamChieu} đã tồn tại với số tiền khác` });
    }
    let payment = existing;
    if (!payment) {
      this.transactions += 1;
      const u = this.random();
      const polls = this.random();
      const delay = this.random();
      const bank = this.random();
      const { outcomes, pendingPolls, resolveAfterMs } = this.config;
      const total = outcomes.success + outcomes.failed + outcomes.pending;
      const outcome = this.abandoned.has(maThamChieu)
        ? 'pending'
        : u * total < outcomes.success
          ? 'success'
          : u * total < outcomes.success + outcomes.failed
            ? 'failed'
            : 'pending';
      payment = {
        MaThamChieu: maThamChieu,
        MaDoiTac: maDoiTac,
        SoTien: soTien,
        ThongTinGiaoDich: typeof body.ThongTinGiaoDich === 'string' ? body.ThongTinGiaoDich : '',
        ThongTinBienLai: record(body.ThongTinBienLai, 'body.ThongTinBienLai'),
        MaGiaoDich: `GD${String(this.transactions).padStart(12, '0')}`,
        MaNganHang: BANKS[Math.floor(bank * BANKS.length)]!,
        ThoiGianKhoiTao: String(body.ThoiGianGD),
        TrangThaiGD: TRANSACTION_STATUS.pending,
        SoLanTruyVan: 0,
        plan: {
          outcome,
          pendingPolls: pendingPolls.min + Math.floor(polls * (pendingPolls.max - pendingPolls.min + 1)),
          resolveAfterMs: resolveAfterMs
            ? resolveAfterMs.min + delay * (resolveAfterMs.max - resolveAfterMs.min)
            : null,
        },
      };
      if (!drop) {
        this.payments.set(maThamChieu, payment);
        this.schedule(payment);
      }
    }
    return this.signed('INIT_RESPONSE', {
      MaLoi: '00',
      MoTaLoi: 'Khởi tạo giao dịch thành công',
      MaThamChieu: maThamChieu,
      MaGiaoDich: payment.MaGiaoDich,
      UrlThanhToan: `https://thanhtoan.dichvucong.gov.vn/pay/${payment.MaGiaoDich}`,
    });
  }

  private schedule(payment: Payment): void {
    const { outcome, resolveAfterMs } = payment.plan;
    if (outcome === 'pending' || resolveAfterMs === null) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      // The plan may have become pending since (abandon).
      const planned = payment.plan.outcome;
      if (payment.TrangThaiGD === TRANSACTION_STATUS.pending && planned !== 'pending')
        this.settle(payment, planned === 'success' ? 1 : 4);
    }, resolveAfterMs);
    timer.unref();
    this.timers.add(timer);
  }

  private settle(payment: Payment, status: 1 | 4): void {
    payment.TrangThaiGD = status;
    payment.ThoiGianGD = this.faults.twelveHourTime()
      ? twelveHourPortalTime(this.now())
      : formatVn(this.now(), 'portal');
    const url = this.config.callbackUrl;
    if (!url) return;
    const body = signMessage(
      'CALLBACK',
      this.callbackFields(payment, status === 1 ? '00' : '24', payment.ThoiGianGD),
      this.config.secret,
    );
    this.send('result', url, body);
    if (this.faults.duplicateCallback()) this.send('duplicate', url, body);
  }

  /** The fields of a callback, in the platform's order. */
  private callbackFields(payment: Payment, maLoi: string, thoiGianGD: string): Record<string, unknown> {
    return {
      LoaiBanTin: this.config.callbackType,
      MaLoi: maLoi,
      MaDoiTac: payment.MaDoiTac,
      MaThamChieu: payment.MaThamChieu,
      SoTien: payment.SoTien,
      MaTienTe: DEFAULT_PAYMENT_DIALECT.MaTienTe,
      MaGiaoDich: payment.MaGiaoDich,
      MaNganHang: payment.MaNganHang,
      ThoiGianGD: thoiGianGD,
      ThongTinGiaoDich: payment.ThongTinGiaoDich,
    };
  }

  /** Sends a callback whose `MaXacThuc` is not signed with the shared secret. */
  private async forge(input: Record<string, unknown>): Promise<SentCallback> {
    const url = this.config.callbackUrl;
    if (!url) throw new SimInputError('no callbackUrl configured (PUT /_sim/config)');
    const known = typeof input.MaThamChieu === 'string' ? this.payments.get(input.MaThamChieu) : undefined;
    const payment: Payment = known ?? {
      MaThamChieu: typeof input.MaThamChieu === 'string' ? input.MaThamChieu : 'FORGED1',
      MaDoiTac: 'FORGED',
      SoTien: 1,
      ThongTinGiaoDich: '',
      ThongTinBienLai: {},
      MaGiaoDich: 'GD999999999999',
      MaNganHang: 'VCB',
      ThoiGianKhoiTao: '',
      TrangThaiGD: TRANSACTION_STATUS.pending,
      SoLanTruyVan: 0,
      plan: { outcome: 'pending', pendingPolls: 0, resolveAfterMs: null },
    };
    const fields = this.callbackFields(
      { ...payment, ...(typeof input.SoTien === 'number' ? { SoTien: input.SoTien } : {}) },
      typeof input.MaLoi === 'string' ? input.MaLoi : '00',
      formatVn(this.now(), 'portal'),
    );
    const body = { ...fields, MaXacThuc: messageDigest('CALLBACK', fields, `${this.config.secret}-forged`) };
    const sent = this.send('forged', url, body);
    await this.settled();
    return sent;
  }

  /**
   * POSTs a callback. A result that is not answered 2xx is sent again up to `callbackRetries` times,
   * after `callbackRetryDelayMs`, then twice that, and so on; a forged one is sent once.
   */
  private send(kind: SentCallback['kind'], url: string, body: Record<string, unknown>): SentCallback {
    const sent: SentCallback = { kind, url, body, sentAt: formatVn(this.now(), 'portal'), attempts: 0 };
    this.callbacks.push(sent);
    const retries = kind === 'forged' ? 0 : this.config.callbackRetries;
    const delivery = (async () => {
      for (let attempt = 0; attempt <= retries; attempt++) {
        if (attempt > 0) {
          await new Promise((r) => setTimeout(r, this.config.callbackRetryDelayMs * 2 ** (attempt - 1)));
        }
        if (this.stopped) return;
        sent.attempts += 1;
        delete sent.error;
        delete sent.status;
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(5000),
          });
          sent.status = res.status;
          sent.response = (await res.text()).slice(0, 2000);
          sent.answerVerified = this.answerVerifies(sent.response);
          if (res.ok) return;
        } catch (e) {
          sent.error = e instanceof Error ? e.message : String(e);
        }
      }
    })();
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
    return sent;
  }

  /** Whether the hub's answer to a callback is the signed `{MaLoi, MoTaLoi, MaDoiTac, MaThamChieu, ThoiGianGD}`. */
  private answerVerifies(response: string): boolean {
    try {
      const answer: unknown = JSON.parse(response);
      return isRecord(answer) && verifyMessage('CALLBACK_ANSWER', answer, this.config.secret);
    } catch {
      return false;
    }
  }

  private signed(kind: DigestMessage, message: Record<string, unknown>): SimResponse {
    return json(200, signMessage(kind, message, this.config.secret));
  }

  private cancelTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

function amount(v: unknown, path: string): number {
  const n = typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) {
    throw new SimInputError(`${path}: expected a positive whole amount in VND`);
  }
  return n;
}

/** The fields an INIT must carry besides those every message has; `SoTien` as a number or digits. */
function checkInit(body: Record<string, unknown>): void {
  amount(body.SoTien, 'body.SoTien');
  for (const key of [
    'LoaiHinhThanhToan',
    'MaKenhThanhToan',
    'MaThietBi',
    'NgonNgu',
    'MaTienTe',
    'MaNganHang',
    'ThongTinGiaoDich',
    'Ip',
  ]) {
    requiredText(body, key, 'body', { max: 255 });
  }
  const receipt = record(body.ThongTinBienLai, 'body.ThongTinBienLai');
  requiredText(receipt, 'MaHoSo', 'body.ThongTinBienLai', { max: 100 });
  for (const key of [
    'MaTTHC',
    'MaDVC',
    'MaDonVi',
    'TKThuHuong',
    'MaNHThuHuong',
    'TenTKThuHuong',
    'HoTenNguoiNop',
  ]) {
    text(receipt, key, 'body.ThongTinBienLai', { max: 255 });
  }
  for (const key of ['PhiLePhi', 'DSKhoanNop']) {
    array(receipt, key, 'body.ThongTinBienLai', true).forEach((line, i) => {
      const item = record(line, `body.ThongTinBienLai.${key}[${i}]`);
      amount(item.SoTien, `body.ThongTinBienLai.${key}[${i}].SoTien`);
    });
  }
}

/** `ThoiGianGD` as the field defect writes it: `yyyyMMddhhmmss`, hours 12, 01–11, no AM/PM. */
export function twelveHourPortalTime(instant: number): string {
  const t = formatVn(instant, 'portal');
  const h = Number(t.slice(8, 10)) % 12;
  return `${t.slice(0, 8)}${String(h === 0 ? 12 : h).padStart(2, '0')}${t.slice(10)}`;
}

export function defaultPaymentConfig(): PaymentConfig {
  return {
    secret: 'lgsp-dev-secret',
    seed: 1,
    outcomes: { success: 8, failed: 1, pending: 0 },
    pendingPolls: { min: 0, max: 2 },
    resolveAfterMs: { min: 100, max: 1000 },
    callbackRetries: 2,
    callbackRetryDelayMs: 500,
    refusePunctuation: true,
    matchOriginalTime: true,
    callbackType: 'CONFIRM',
  };
}

function range(v: unknown, path: string): { min: number; max: number } {
  const o = record(v, path);
  const min = nonNegative(o.min, `${path}.min`);
  const max = nonNegative(o.max ?? min, `${path}.max`);
  if (max < min) throw new SimInputError(`${path}.max: below min`);
  return { min, max };
}

/** Validates `PUT /_sim/config`; settings not given keep their current value. */
export function parsePaymentConfig(input: unknown, current: PaymentConfig): PaymentConfig {
  const o = record(input, 'config');
  const c: PaymentConfig = { ...current };
  const url = text(o, 'callbackUrl', 'config');
  if (url !== undefined) {
    if (!URL.canParse(url)) throw new SimInputError(`config.callbackUrl: not a URL: ${url}`);
    c.callbackUrl = url;
  }
  if (o.secret !== undefined) c.secret = requiredText(o, 'secret', 'config');
  if (o.seed !== undefined) c.seed = nonNegative(o.seed, 'config.seed');
  if (o.outcomes !== undefined) {
    c.outcomes = weights(o.outcomes, 'config.outcomes', ['success', 'failed', 'pending']);
  }
  if (o.pendingPolls !== undefined) {
    const r = range(o.pendingPolls, 'config.pendingPolls');
    c.pendingPolls = { min: Math.floor(r.min), max: Math.floor(r.max) };
  }
  if (o.callbackRetries !== undefined) {
    c.callbackRetries = Math.floor(nonNegative(o.callbackRetries, 'config.callbackRetries'));
  }
  if (o.callbackRetryDelayMs !== undefined) {
    c.callbackRetryDelayMs = nonNegative(o.callbackRetryDelayMs, 'config.callbackRetryDelayMs');
  }
  const punctuation = bool(o, 'refusePunctuation', 'config');
  if (punctuation !== undefined) c.refusePunctuation = punctuation;
  const original = bool(o, 'matchOriginalTime', 'config');
  if (original !== undefined) c.matchOriginalTime = original;
  if (o.callbackType !== undefined) c.callbackType = requiredText(o, 'callbackType', 'config', { max: 20 });
  if (o.resolveAfterMs !== undefined) {
    c.resolveAfterMs = o.resolveAfterMs === null ? null : range(o.resolveAfterMs, 'config.resolveAfterMs');
  }
  return c;
}
