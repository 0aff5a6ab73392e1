import type { CloudEvent, PaymentCompleted, PaymentFailed } from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import { FEE_DUE_STATUS } from '#lgsp/projections';
import { submissionData } from '../core/dossier-facts.js';
import { formatVn, parseVn, toVnRfc3339 } from '../core/vn-time.js';
import { signMessage } from './digest.js';
import {
  PAYMENT_CODE,
  type PaymentCallbackAnswer,
  type PaymentReceiptInfo,
} from './external/payment-wire.js';
import type { DossierView } from '#lgsp/projections';

/** The target's name in parkings, pending work, metrics and logs. */
export const PAYMENTS_TARGET = 'payments';
/** `source` of the events captured from the payment platform (as the demo planner writes them). */
export const PAYMENT_SOURCE = '/national/payment-platform';
export const PAYMENT_COMPLETED_TYPE = 'vn.gov.lgsp.payment.completed.v1';
export const PAYMENT_FAILED_TYPE = 'vn.gov.lgsp.payment.failed.v1';
const STATUS_CHANGED_TYPE = 'vn.gov.lgsp.dossier.status-changed.v1';

/**
 * `reason` of a failed payment: the platform says only that it failed (`MaLoi` 24 or
 * `TrangThaiGD` 4), and a callback and a poll of one failure must make the same event.
 */
export const PAYMENT_FAILED_REASON = 'Giao dịch thanh toán không thành công';

/**
 * What the hub sends as `MaThamChieu`: at most 50 letters and digits. Neither `.` nor `-` (domain.md:
 * one integrator strips every non-word character from the reference, and the platform is taken to
 * refuse punctuation), and no `_` either, which no source shows.
 */
const REF_PATTERN = /^[0-9A-Za-z]{1,50}$/;

/**
 * The reversible escape that turns a dossier code into letters and digits. `Z` (a letter Vietnamese
 * does not use, so rare in codes) introduces each escape: `ZZ` is a `Z`, `ZD` a `.`, `ZH` a `-`, `ZU`
 * a `_`; `ZT` ends the dossier code and is followed by the attempt number.
 */
const ESCAPES: Readonly<Record<string, string>> = { Z: 'ZZ', '.': 'ZD', '-': 'ZH', _: 'ZU' };
const UNESCAPES: Readonly<Record<string, string>> = { Z: 'Z', D: '.', H: '-', U: '_' };
const DOSSIER_CODE = /^[0-9A-Za-z][0-9A-Za-z._-]*$/;

/**
 * `MaThamChieu` of the `attempt`-th fee request of a dossier (1-based): the dossier code with `.`,
 * `-`, `_` and `Z` escaped, then `ZT<attempt>`. `000.00.00.G22-250701-0001`, attempt 1, is
 * `000ZD00ZD00ZDG22ZH250701ZH0001ZT1`. Reversible ({@link dossierOfPaymentRef}), so a callback names
 * its dossier without any lookup.
 */
export function paymentRef(dossierCode: string, attempt: number): string {
  const escaped = [...dossierCode].map((c) => ESCAPES[c] ?? c).join('');
  return `${escaped}ZT${attempt}`;
}

/** The dossier a `MaThamChieu` belongs to, or undefined when it is not one the hub makes. */
export function dossierOfPaymentRef(ref: string): string | undefined {
  if (!REF_PATTERN.test(ref)) return undefined;
  let dossier = '';
  for (let i = 0; i < ref.length; i++) {
    const c = ref[i]!;
    if (c !== 'Z') {
      dossier += c;
      continue;
    }
    const next = ref[i + 1];
    if (next === 'T') {
      const attempt = ref.slice(i + 2);
      if (!/^[1-9][0-9]*$/.test(attempt)) return undefined;
      return DOSSIER_CODE.test(dossier) ? dossier : undefined;
    }
    const plain = next === undefined ? undefined : UNESCAPES[next];
    if (plain === undefined) return undefined;
    dossier += plain;
    i++;
  }
  return undefined;
}

/** Whether `ref` is a `MaThamChieu` the hub may send (at most 50 letters and digits). */
export const isValidPaymentRef = (ref: string): boolean => REF_PATTERN.test(ref);

/** One "fee due" of a dossier: the n-th status-changed event to status 6. */
export interface FeeRequest {
  ref: string;
  attempt: number;
  /** The status change's `changedAt` as `ThoiGianGD` (yyyyMMddHHmmss, Vietnam time). */
  requestedAt: string;
  /** Global position of the status event. */
  position: number;
}

/**
 * The fee requests among a dossier's events, in order. `requestedAt` comes from the event, so an
 * INIT built from it is the same each time it is sent and the platform answers the same transaction.
 */
export function feeRequests(dossierCode: string, events: readonly StoredEvent[]): FeeRequest[] {
  const requests: FeeRequest[] = [];
  for (const e of events) {
    if (e.type !== STATUS_CHANGED_TYPE) continue;
    const data = e.data as { status?: unknown; changedAt?: unknown };
    if (data.status !== FEE_DUE_STATUS) continue;
    const at = typeof data.changedAt === 'string' ? Date.parse(data.changedAt) : Number.NaN;
    const instant = Number.isNaN(at) ? Date.parse(e.time ?? e.recordedAt) : at;
    const attempt = requests.length + 1;
    requests.push({
      ref: paymentRef(dossierCode, attempt),
      attempt,
      requestedAt: formatVn(instant, 'portal'),
      position: e.position,
    });
  }
  return requests;
}

/** `paymentRef`s that already have a final event (completed or failed) among `events`. */
export function settledPaymentRefs(events: readonly Pick<StoredEvent, 'type' | 'data'>[]): Set<string> {
  const refs = new Set<string>();
  for (const e of events) {
    if (e.type !== PAYMENT_COMPLETED_TYPE && e.type !== PAYMENT_FAILED_TYPE) continue;
    const ref = (e.data as { paymentRef?: unknown }).paymentRef;
    if (typeof ref === 'string') refs.add(ref);
  }
  return refs;
}

/** The account fees are paid into, as the receipt names it. */
export interface PaymentBeneficiary {
  /** `TKThuHuong`. */
  account: string;
  /** `MaNHThuHuong`. */
  bankCode: string;
  /** `TenTKThuHuong`. */
  holder: string;
}

/**
 * `ThongTinBienLai` of a dossier's INIT: procedure (`MaTTHC`; `MaDVC` is `MaTTHC` + ".01" as the
 * provincial code base builds it, unconfirmed), receiving agency (`MaDonVi`), `MaHoSo`, the
 * beneficiary account, the payer (the applicant's name only), each fee declared at submission
 * (`PhiLePhi`, `LoaiPhiLePhi` "Phi") and one line per fee to pay (`DSKhoanNop`). Amounts are strings.
 */
export function paymentReceipt(
  dossierCode: string,
  view: Pick<DossierView, 'procedureCode' | 'agencyCode' | 'applicant' | 'payment'>,
  events: readonly Pick<StoredEvent, 'type' | 'data'>[],
  description: string,
  beneficiary?: PaymentBeneficiary,
): PaymentReceiptInfo {
  const fees = events.map(submissionData).find((d) => d !== undefined)?.fees;
  const procedure = view.procedureCode ?? '';
  const paid = (fees ?? []).filter((f) => f.amount > 0);
  return {
    MaTTHC: procedure,
    MaDVC: procedure === '' ? '' : `${procedure}.01`,
    MaDonVi: view.agencyCode ?? '',
    MaHoSo: dossierCode,
    TKThuHuong: beneficiary?.account ?? '',
    MaNHThuHuong: beneficiary?.bankCode ?? '',
    TenTKThuHuong: beneficiary?.holder ?? '',
    HoTenNguoiNop: view.applicant?.fullName ?? '',
    NoiDungThanhToan: description,
    PhiLePhi: paid.map((f) => ({
      LoaiPhiLePhi: 'Phi',
      MaPhiLePhi: f.code ?? '',
      TenPhiLePhi: f.name,
      SoTien: String(f.amount),
    })),
    DSKhoanNop:
      paid.length === 0
        ? [{ NoiDung: description, SoTien: String(view.payment.amountDue) }]
        : paid.map((f) => ({ NoiDung: f.name, SoTien: String(f.amount) })),
  };
}

/** A final result of a payment, from a callback or a QUERY. */
export interface PaymentResult {
  outcome: 'completed' | 'failed';
  /** `MaThamChieu`. */
  ref: string;
  /** `MaGiaoDich`. */
  transactionId: string;
  /** `SoTien`, whole VND. */
  amount: number;
  /** `ThoiGianGD` as the platform wrote it (yyyyMMddHHmmss, Vietnam time). */
  at: string;
  /** `MaNganHang`. */
  bankCode?: string;
}

/** Where the dossier is, copied into the event (the hub's scope checks read it). */
export interface DossierPlace {
  dossierCode: string;
  provinceCode: string;
  communeCode: string;
}

/**
 * The `id` of the event of a result: the same for a callback, its duplicate and a QUERY of the same
 * transaction, so the store keeps one. The reference is part of it because the platform's
 * transaction numbers are its own and the reference is the hub's.
 */
export function paymentEventId(result: Pick<PaymentResult, 'outcome' | 'ref' | 'transactionId'>): string {
  return `payment:${result.ref}:${result.transactionId}:${result.outcome}`;
}

export type PaymentEventMapping =
  { ok: true; event: CloudEvent } | { ok: false; field: string; message: string };

/** Clock skew allowed between the platform and the hub when reading `ThoiGianGD`. */
const TIME_SKEW_MS = 5 * 60_000;
const HOUR_MS = 3_600_000;

/**
 * When a result's `ThoiGianGD` is read: `receivedAtMs` the moment the hub got it, `requestedAt` the
 * INIT's `ThoiGianGD` when known. Without them the text is read as 24-hour time only.
 */
export interface PaymentTimeReading {
  receivedAtMs?: number;
  requestedAt?: string;
}

/**
 * Epoch ms of a `ThoiGianGD`, tolerant of the 12-hour defect seen in the field (`yyyyMMddhhmmss`, no
 * AM/PM: 13:00–23:59 written as 01–11, 00:xx written as 12). An hour 01–12 has two readings (h and
 * h + 12, or 12 and 00); with a receipt time, the hub takes the latest reading within the 12 hours
 * before receipt (±5 min skew) and not before the INIT (−5 min) — a result reaches the hub by callback
 * or poll within minutes, well under 12 hours. If no reading fits (a late or replayed result) it
 * keeps the 24-hour reading. The digest is
 * always verified over the text as sent, before this. Undefined: not a time as yyyyMMddHHmmss.
 */
export function readPaymentTime(text: string, reading: PaymentTimeReading = {}): number | undefined {
  const asSent = parseVn(text.trim(), 'portal');
  if (asSent === undefined || reading.receivedAtMs === undefined) return asSent;
  const hour = Number(text.trim().slice(8, 10));
  const candidates = [asSent];
  if (hour >= 1 && hour <= 11) candidates.push(asSent + 12 * HOUR_MS);
  if (hour === 12) candidates.push(asSent - 12 * HOUR_MS);
  const requested = reading.requestedAt === undefined ? undefined : parseVn(reading.requestedAt, 'portal');
  const received = reading.receivedAtMs;
  const fits = candidates.filter(
    (t) =>
      t <= received + TIME_SKEW_MS &&
      t >= received - 12 * HOUR_MS - TIME_SKEW_MS &&
      (requested === undefined || t >= requested - TIME_SKEW_MS),
  );
  return fits.length === 0 ? asSent : Math.max(...fits);
}

/**
 * The CloudEvent of a final result; refused (naming the field) when the platform's time is not a real
 * time. `reading` lets a 12-hour `ThoiGianGD` be read sensibly ({@link readPaymentTime}).
 */
export function toPaymentEvent(
  result: PaymentResult,
  place: DossierPlace,
  reading: PaymentTimeReading = {},
): PaymentEventMapping {
  const ms = readPaymentTime(result.at, reading);
  if (ms === undefined) {
    return { ok: false, field: 'ThoiGianGD', message: 'expected a time as yyyyMMddHHmmss' };
  }
  const at = toVnRfc3339(ms);
  const common = {
    dossierCode: place.dossierCode,
    provinceCode: place.provinceCode,
    communeCode: place.communeCode,
    paymentRef: result.ref.normalize('NFC'),
  };
  const envelope = (type: string, data: PaymentCompleted | PaymentFailed): CloudEvent => ({
    specversion: '1.0',
    id: paymentEventId(result),
    source: PAYMENT_SOURCE,
    type,
    time: at,
    datacontenttype: 'application/json',
    data,
  });
  if (result.outcome === 'failed') {
    return {
      ok: true,
      event: envelope(PAYMENT_FAILED_TYPE, { ...common, failedAt: at, reason: PAYMENT_FAILED_REASON }),
    };
  }
  const bankCode = result.bankCode?.normalize('NFC');
  return {
    ok: true,
    event: envelope(PAYMENT_COMPLETED_TYPE, {
      ...common,
      transactionId: result.transactionId.normalize('NFC'),
      amount: result.amount,
      paidAt: at,
      ...(bankCode === undefined || bankCode === '' ? {} : { bankCode }),
    }),
  };
}

/** What the hub echoes in its answer to a callback, from the callback itself (empty when unreadable). */
export interface CallbackEcho {
  MaDoiTac: string;
  MaThamChieu: string;
  ThoiGianGD: string;
}

/** What became of one callback. */
export type CallbackOutcome =
  | { outcome: 'accepted'; dossier: string; ref: string; eventId: string }
  | { outcome: 'duplicate'; dossier: string; ref: string; eventId: string }
  | { outcome: 'forged'; ref?: string }
  | { outcome: 'invalid'; field: string; message: string }
  | { outcome: 'unknown-dossier'; ref: string };

/** The HTTP answer to a callback, in the platform's own dialect. */
export interface CallbackHttpResponse {
  status: 200 | 400 | 401 | 404;
  body: PaymentCallbackAnswer;
}

/**
 * The HTTP answer for a callback outcome: `{MaLoi, MoTaLoi, MaDoiTac, MaThamChieu, ThoiGianGD,
 * MaXacThuc}`, the three middle fields echoed from the callback, signed with `secret` over `MaLoi,
 * MaDoiTac, MaThamChieu, ThoiGianGD`. `MaLoi` is `00` for an accepted result and for a duplicate (so
 * the platform stops sending it), `02` for a digest that does not verify (its own code, so the
 * platform's operators can tell a key mismatch from the rest; the hub's choice), `99` ("other
 * errors") for anything else. A non-2xx status makes the platform try again, which helps only a
 * dossier the hub does not know yet.
 */
export function callbackHttpResponse(
  outcome: CallbackOutcome,
  secret: string,
  echo: CallbackEcho = { MaDoiTac: '', MaThamChieu: '', ThoiGianGD: '' },
): CallbackHttpResponse {
  const answer = (status: CallbackHttpResponse['status'], MaLoi: string, MoTaLoi: string) => ({
    status,
    body: signMessage(
      'CALLBACK_ANSWER',
      {
        MaLoi,
        MoTaLoi,
        MaDoiTac: echo.MaDoiTac,
        MaThamChieu: echo.MaThamChieu,
        ThoiGianGD: echo.ThoiGianGD,
      },
      secret,
    ),
  });
  switch (outcome.outcome) {
    case 'accepted':
      return answer(200, PAYMENT_CODE.ok, 'Đã ghi nhận kết quả thanh toán');
    case 'duplicate':
      return answer(200, PAYMENT_CODE.ok, 'Kết quả thanh toán đã được ghi nhận trước đó');
    case 'forged':
      return answer(401, PAYMENT_CODE.badDigest, 'MaXacThuc không hợp lệ');
    case 'invalid':
      return answer(400, PAYMENT_CODE.other, `${outcome.field}: ${outcome.message}`);
    case 'unknown-dossier':
      return answer(404, PAYMENT_CODE.other, `Không có hồ sơ cho ${outcome.ref}`);
  }
}
