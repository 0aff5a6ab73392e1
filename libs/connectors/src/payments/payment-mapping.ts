import type { CloudEvent, PaymentCompleted, PaymentFailed } from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import { FEE_DUE_STATUS } from '#lgsp/projections';
import { formatVn, vnTextToRfc3339 } from '../core/vn-time.js';
import { PAYMENT_CODE } from './external/payment-wire.js';

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

/** What the platform accepts as `MaThamChieu`. */
const REF_PATTERN = /^[0-9A-Za-z.\-_]{1,50}$/;
const REF_SUFFIX = /-TT([1-9][0-9]*)$/;

/** `MaThamChieu` of the `attempt`-th fee request of a dossier (1-based): `<dossierCode>-TT<attempt>`. */
export function paymentRef(dossierCode: string, attempt: number): string {
  return `${dossierCode}-TT${attempt}`;
}

/** The dossier a `MaThamChieu` belongs to, or undefined when it is not one the hub makes. */
export function dossierOfPaymentRef(ref: string): string | undefined {
  const m = REF_SUFFIX.exec(ref);
  if (m === null || !REF_PATTERN.test(ref)) return undefined;
  const dossier = ref.slice(0, m.index);
  return /^[0-9A-Za-z][0-9A-Za-z._-]*$/.test(dossier) ? dossier : undefined;
}

/** Whether the platform accepts `ref` as a `MaThamChieu` (at most 50 letters, digits, `.-_`). */
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

/** The CloudEvent of a final result; refused (naming the field) when the platform's time is not a real time. */
export function toPaymentEvent(result: PaymentResult, place: DossierPlace): PaymentEventMapping {
  const at = vnTextToRfc3339(result.at, 'portal');
  if (at === undefined) {
    return { ok: false, field: 'ThoiGianGD', message: 'expected a time as yyyyMMddHHmmss' };
  }
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

/** What became of one callback. */
export type CallbackOutcome =
  | { outcome: 'accepted'; dossier: string; ref: string; eventId: string }
  | { outcome: 'duplicate'; dossier: string; ref: string; eventId: string }
  | { outcome: 'forged'; ref?: string }
  | { outcome: 'invalid'; field: string; message: string }
  | { outcome: 'unknown-dossier'; ref: string };

/** The HTTP answer to a callback, in the platform's own dialect (`MaLoi`, `MoTaLoi`). */
export interface CallbackHttpResponse {
  status: 200 | 400 | 401 | 404;
  body: { MaLoi: string; MoTaLoi: string };
}

/**
 * The HTTP answer for a callback outcome. A duplicate is answered 200 like the first delivery, so the
 * platform stops sending it; anything else non-2xx makes it try again, which helps only a dossier the
 * hub does not know yet.
 */
export function callbackHttpResponse(outcome: CallbackOutcome): CallbackHttpResponse {
  switch (outcome.outcome) {
    case 'accepted':
      return { status: 200, body: { MaLoi: PAYMENT_CODE.ok, MoTaLoi: 'Đã ghi nhận kết quả thanh toán' } };
    case 'duplicate':
      return {
        status: 200,
        body: { MaLoi: PAYMENT_CODE.ok, MoTaLoi: 'Kết quả thanh toán đã được ghi nhận trước đó' },
      };
    case 'forged':
      return { status: 401, body: { MaLoi: PAYMENT_CODE.badDigest, MoTaLoi: 'MaXacThuc không hợp lệ' } };
    case 'invalid':
      return {
        status: 400,
        body: { MaLoi: PAYMENT_CODE.badInput, MoTaLoi: `${outcome.field}: ${outcome.message}` },
      };
    case 'unknown-dossier':
      return {
        status: 404,
        body: { MaLoi: PAYMENT_CODE.unknownTransaction, MoTaLoi: `Không có hồ sơ cho ${outcome.ref}` },
      };
  }
}
