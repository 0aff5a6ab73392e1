import type { ConnectorError } from '../core/errors.js';
import {
  HttpExchange,
  httpStatusError,
  parseJsonAnswer,
  redactIdNumbers,
  refusedError,
  unavailableError,
} from '../core/http-exchange.js';
import { signMessage, verifyMessage, type DigestMessage } from './digest.js';
import {
  DEFAULT_PAYMENT_DIALECT,
  PAYMENT_CODE,
  PAYMENT_STATUS,
  type PaymentAnswer,
  type PaymentDialect,
  type PaymentReceiptInfo,
  type PaymentStatusCode,
} from './external/payment-wire.js';
import { PAYMENTS_TARGET } from './payment-mapping.js';

const PATH = '/api/v1/thanh-toan';

export interface PaymentClientOptions {
  /** Base URL of the platform, e.g. `http://127.0.0.1:4030`. */
  baseUrl: string;
  /** `MaDoiTac`: the province as the platform knows it. */
  partnerCode: string;
  /** Shared secret of `MaXacThuc`. */
  secret: string;
  /** Per HTTP call. @defaultValue 10000 */
  timeoutMs?: number;
  /** Target name in the errors. @defaultValue `payments` */
  target?: string;
  /** @defaultValue the global fetch */
  fetch?: typeof fetch;
  /** The fixed values of every request. @defaultValue {@link DEFAULT_PAYMENT_DIALECT} */
  dialect?: Partial<PaymentDialect>;
  /** `Ip` of INIT: the hub's address as the platform knows it. @defaultValue `127.0.0.1` */
  ip?: string;
}

export interface PaymentInit {
  /** `MaThamChieu`. */
  ref: string;
  /** Whole VND, above 0. */
  amount: number;
  /** `ThoiGianGD`, yyyyMMddHHmmss: keep it the same when repeating an INIT; QUERY and GET_BILL repeat it. */
  requestedAt: string;
  /** `ThongTinGiaoDich` (signed) and the receipt's `NoiDungThanhToan`. @defaultValue `Thanh toán <ref>` */
  description?: string;
  /** `ThongTinBienLai`; fields not given are sent empty. */
  receipt?: Partial<PaymentReceiptInfo>;
}

/** A transaction as QUERY and GET_BILL name it: its reference and the `ThoiGianGD` of its INIT. */
export interface PaymentLookup {
  ref: string;
  requestedAt: string;
}

export interface PaymentInitResult {
  ref: string;
  transactionId: string;
  paymentUrl: string;
}

export interface PaymentQueryResult {
  ref: string;
  transactionId: string;
  amount: number;
  status: PaymentStatusCode;
  /** `ThoiGianGD` of the result (yyyyMMddHHmmss); empty while pending. */
  at: string;
  bankCode?: string;
}

export interface PaymentBill {
  ref: string;
  transactionId: string;
  amount: number;
  receiptNumber: string;
  /** `UrlBienLai`: where the receipt is served. */
  receiptUrl: string;
}

type Operation = 'INIT' | 'QUERY' | 'GET_BILL';

/**
 * A client of the payment platform (`POST /api/v1/thanh-toan`): signs each request with `MaXacThuc`
 * and verifies the digest of every successful answer before returning anything from it.
 *
 * Every failure is a {@link ConnectorError}. No answer, a timeout, 408/429/5xx are `retriable`; so is an
 * answer whose `MaXacThuc` does not verify: it cannot be trusted, so nothing is taken from it, and it
 * is not the dossier's fault (a damaged answer or the two sides' secrets differ), so the breaker
 * opens rather than parking every dossier. `MaLoi` 01 (bad input), 02 (the platform refused our
 * digest) and 04 (reference reused with another amount) are `data`.
 */
export class PaymentClient {
  readonly target: string;
  readonly partnerCode: string;
  private readonly http: HttpExchange;
  private readonly dialect: PaymentDialect;

  constructor(private readonly options: PaymentClientOptions) {
    this.target = options.target ?? PAYMENTS_TARGET;
    this.partnerCode = options.partnerCode;
    this.http = new HttpExchange(this.target, options);
    this.dialect = { ...DEFAULT_PAYMENT_DIALECT, ...options.dialect };
  }

  /**
   * Opens a transaction (INIT). Repeating the same INIT answers the same transaction; the same
   * reference with another amount is refused (`data`).
   */
  async init(request: PaymentInit, signal?: AbortSignal): Promise<PaymentInitResult> {
    const answer = await this.accepted('INIT', this.initFields(request), signal);
    return {
      ref: text(answer.MaThamChieu),
      transactionId: text(answer.MaGiaoDich),
      paymentUrl: text(answer.UrlThanhToan),
    };
  }

  /** The signed INIT message of `request`, exactly as {@link init} sends it. */
  initMessage(request: PaymentInit): Record<string, unknown> {
    return signMessage('INIT', this.initFields(request), this.options.secret);
  }

  private initFields(request: PaymentInit): Record<string, unknown> {
    const description = request.description ?? `Thanh toán ${request.ref}`;
    const r = request.receipt ?? {};
    return {
      LoaiBanTin: 'INIT',
      PhienBan: this.dialect.PhienBan,
      MaDoiTac: this.partnerCode,
      MaThamChieu: request.ref,
      SoTien: String(request.amount),
      LoaiHinhThanhToan: this.dialect.LoaiHinhThanhToan,
      MaKenhThanhToan: this.dialect.MaKenhThanhToan,
      MaThietBi: this.dialect.MaThietBi,
      NgonNgu: this.dialect.NgonNgu,
      MaTienTe: this.dialect.MaTienTe,
      MaNganHang: this.dialect.MaNganHang,
      ThongTinGiaoDich: description,
      ThoiGianGD: request.requestedAt,
      Ip: this.options.ip ?? '127.0.0.1',
      ThongTinBienLai: {
        MaTTHC: r.MaTTHC ?? '',
        MaDVC: r.MaDVC ?? '',
        MaDonVi: r.MaDonVi ?? '',
        MaHoSo: r.MaHoSo ?? '',
        TKThuHuong: r.TKThuHuong ?? '',
        MaNHThuHuong: r.MaNHThuHuong ?? '',
        TenTKThuHuong: r.TenTKThuHuong ?? '',
        HoTenNguoiNop: r.HoTenNguoiNop ?? '',
        NoiDungThanhToan: r.NoiDungThanhToan ?? description,
        PhiLePhi: r.PhiLePhi ?? [],
        DSKhoanNop: r.DSKhoanNop ?? [{ NoiDung: description, SoTien: String(request.amount) }],
      },
    };
  }

  /**
   * The transaction's state (QUERY, with the INIT's `ThoiGianGD`), or undefined when the platform has
   * no transaction for `ref`. `TrangThaiGD` and `SoTien` are read as numbers or digit strings.
   */
  async query(lookup: PaymentLookup, signal?: AbortSignal): Promise<PaymentQueryResult | undefined> {
    const answer = await this.accepted(
      'QUERY',
      this.lookupFields('QUERY', lookup),
      signal,
      PAYMENT_CODE.unknownTransaction,
    );
    if (answer === undefined) return undefined;
    const status = wholeNumber(answer.TrangThaiGD);
    if (
      status !== PAYMENT_STATUS.success &&
      status !== PAYMENT_STATUS.pending &&
      status !== PAYMENT_STATUS.failed
    ) {
      throw this.unexpected('QUERY', `TrangThaiGD ${JSON.stringify(answer.TrangThaiGD)}`);
    }
    const amount = wholeNumber(answer.SoTien);
    if (amount === undefined) throw this.unexpected('QUERY', 'SoTien is not a whole amount');
    const bankCode = answer.MaNganHang;
    return {
      ref: text(answer.MaThamChieu),
      transactionId: text(answer.MaGiaoDich),
      amount,
      status,
      at: text(answer.ThoiGianGD),
      ...(typeof bankCode === 'string' && bankCode !== '' ? { bankCode: bankCode.normalize('NFC') } : {}),
    };
  }

  /**
   * The receipt of a paid transaction (GET_BILL, with the INIT's `ThoiGianGD`): its number and
   * `UrlBienLai`; undefined while it is not paid (`MaLoi` 12).
   */
  async getBill(lookup: PaymentLookup, signal?: AbortSignal): Promise<PaymentBill | undefined> {
    const answer = await this.accepted(
      'GET_BILL',
      this.lookupFields('GET_BILL', lookup),
      signal,
      PAYMENT_CODE.noBill,
    );
    if (answer === undefined) return undefined;
    const receiptUrl = text(answer.UrlBienLai);
    if (!URL.canParse(receiptUrl)) throw this.unexpected('GET_BILL', 'a UrlBienLai that is not a URL');
    return {
      ref: text(answer.MaThamChieu),
      transactionId: text(answer.MaGiaoDich),
      amount: wholeNumber(answer.SoTien) ?? 0,
      receiptNumber: text(answer.SoBienLai),
      receiptUrl,
    };
  }

  private lookupFields(kind: 'QUERY' | 'GET_BILL', lookup: PaymentLookup): Record<string, unknown> {
    return {
      LoaiBanTin: kind,
      PhienBan: this.dialect.PhienBan,
      MaDoiTac: this.partnerCode,
      MaThamChieu: lookup.ref,
      ThoiGianGD: lookup.requestedAt,
    };
  }

  /**
   * One signed request the platform accepted, its answer verified; undefined when it answers the
   * `absent` code (no such transaction, no bill yet).
   * @throws ConnectorError when it refuses the request or its answer does not verify.
   */
  private async accepted(
    kind: Operation,
    fields: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<PaymentAnswer>;
  private async accepted(
    kind: Operation,
    fields: Record<string, unknown>,
    signal: AbortSignal | undefined,
    absent: string,
  ): Promise<PaymentAnswer | undefined>;
  private async accepted(
    kind: Operation,
    fields: Record<string, unknown>,
    signal?: AbortSignal,
    absent?: string,
  ): Promise<PaymentAnswer | undefined> {
    const answer = await this.call(kind, fields, signal);
    if (absent !== undefined && answer.MaLoi === absent) return undefined;
    if (answer.MaLoi !== PAYMENT_CODE.ok) throw this.refused(kind, answer);
    this.verify(`${kind}_RESPONSE`, answer);
    return answer;
  }

  /** One signed request; answers with any `MaLoi`, throws for HTTP and transport failures. */
  private async call(
    kind: Operation,
    fields: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<PaymentAnswer> {
    const message = signMessage(kind, fields, this.options.secret);
    const { response, text: body } = await this.http.exchange('POST', PATH, { body: message, signal });
    const answer = parseJsonAnswer<PaymentAnswer>(body, (v) => typeof v.MaLoi === 'string');
    if (!response.ok) {
      throw httpStatusError(
        this.target,
        response,
        answer === undefined ? kind : `${kind}: ${describe(answer)}`,
      );
    }
    if (answer === undefined) throw this.unexpected(kind, 'a body that is not its JSON');
    return answer;
  }

  private verify(kind: DigestMessage, answer: PaymentAnswer): void {
    if (!verifyMessage(kind, answer, this.options.secret)) {
      throw this.unexpected(kind, 'a MaXacThuc that does not verify');
    }
  }

  private refused(kind: string, answer: PaymentAnswer): ConnectorError {
    const known =
      answer.MaLoi !== PAYMENT_CODE.other && (Object.values(PAYMENT_CODE) as string[]).includes(answer.MaLoi);
    const message = `${this.target} refused ${kind}: ${describe(answer)}`;
    // An unknown code, or 99 ("other errors"), is the platform's trouble, not the content's.
    return known ? refusedError(this.target, message) : unavailableError(this.target, message);
  }

  private unexpected(kind: string, what: string): ConnectorError {
    return unavailableError(this.target, `${this.target} answered ${kind} with ${what}`);
  }
}

/** A whole non-negative number given as a number or a digit string. */
function wholeNumber(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

const text = (v: unknown): string =>
  typeof v === 'string' ? v.normalize('NFC') : v === undefined ? '' : String(v);

/**
 * `MaLoi` and `MoTaLoi` for errors and logs. The platform echoes references, not personal data, but a
 * run of 9 to 12 digits may be a citizen ID, so it is masked like the portal's messages.
 */
function describe(answer: PaymentAnswer): string {
  const message = typeof answer.MoTaLoi === 'string' ? answer.MoTaLoi.normalize('NFC') : '';
  return `MaLoi ${answer.MaLoi}${message === '' ? '' : ` ${redactIdNumbers(message)}`}`;
}
