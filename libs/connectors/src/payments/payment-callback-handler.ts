import type { EventStore } from '#lgsp/event-store';

import { silentLogger, type Logger } from '#lgsp/observability';
import { systemClock, type Clock } from '../core/clock.js';
import { DOSSIER_STREAM_PREFIX } from '../core/dossier-sync-connector.js';
import type { EventSink } from '../core/event-sink.js';
import type { PendingWorkStore } from '../core/pending/pending-work-store.js';
import { verifyMessage } from './digest.js';
import { PAYMENT_CODE } from './external/payment-wire.js';
import {
  PAYMENTS_TARGET,
  callbackHttpResponse,
  dossierOfPaymentRef,
  toPaymentEvent,
  type CallbackEcho,
  type CallbackHttpResponse,
  type CallbackOutcome,
  type DossierPlace,
  type PaymentResult,
} from './payment-mapping.js';
import type { PendingPayment } from './payment-connector.js';
import { markCausedByReplay } from '../core/replay-context.js';

export interface PaymentCallbackHandlerOptions {
  /** Shared secret of `MaXacThuc`. */
  secret: string;
  /** Where the results become events (the hub's ingest). */
  sink: EventSink;
  /** The transactions waiting for their result; a captured one is completed. */
  pending: PendingWorkStore;
  /** To find the dossier's province and commune in its stream. */
  events: Pick<EventStore, 'readStream'>;
  logger?: Logger;
  clock?: Clock;
}

/**
 * Captures the payment platform's result callbacks. The digest is verified before anything in the
 * body is trusted; a verified result becomes `payment.completed` (`MaLoi` 00) or `payment.failed`
 * (`MaLoi` 24) in the dossier's stream, with an id derived from the transaction, so a callback sent
 * twice, or a callback and a poll of the same result, append one event. The pending item is completed
 * only after the append.
 *
 * `handle` throws when the sink cannot take the event (the store is down): the route answers 5xx and
 * the platform sends the callback again.
 */
export class PaymentCallbackHandler {
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(private readonly options: PaymentCallbackHandlerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * The signed answer to the callback `body` whose outcome is `outcome`, echoing its `MaDoiTac`,
   * `MaThamChieu` and `ThoiGianGD` (see {@link callbackHttpResponse}).
   */
  httpResponse(outcome: CallbackOutcome, body: unknown): CallbackHttpResponse {
    return callbackHttpResponse(outcome, this.options.secret, callbackEcho(body));
  }

  async handle(body: unknown): Promise<CallbackOutcome> {
    const receivedAtMs = this.clock.now();
    const parsed = parsePaymentCallback(body);
    if ('field' in parsed) {
      this.logger.warn({ target: PAYMENTS_TARGET, field: parsed.field }, 'payment callback refused: invalid');
      return { outcome: 'invalid', ...parsed };
    }
    const { message, result } = parsed;
    if (!verifyMessage('CALLBACK', message, this.options.secret)) {
      // The reference is the sender's word only: cut, and kept out of the logs, where a forger could
      // write anything (a citizen's name) through an unauthenticated route.
      const ref = result.ref.slice(0, 100);
      this.logger.warn({ target: PAYMENTS_TARGET }, 'payment callback refused: MaXacThuc does not verify');
      return { outcome: 'forged', ref };
    }
    if (parsed.maLoi !== PAYMENT_CODE.ok && parsed.maLoi !== PAYMENT_CODE.failed) {
      return { outcome: 'invalid', field: 'MaLoi', message: 'expected 00 (paid) or 24 (failed)' };
    }
    const dossier = dossierOfPaymentRef(result.ref);
    if (dossier === undefined) {
      return {
        outcome: 'invalid',
        field: 'MaThamChieu',
        message: 'not a reference of the hub (<escaped dossier>ZT<n>)',
      };
    }
    const found = await this.placeOf(dossier, result.ref);
    if (found === undefined) {
      this.logger.warn(
        { target: PAYMENTS_TARGET, dossier, paymentRef: result.ref },
        'payment callback for an unknown dossier',
      );
      return { outcome: 'unknown-dossier', ref: result.ref };
    }
    const { place, requestedAt } = found;
    const mapped = toPaymentEvent(result, place, {
      receivedAtMs,
      ...(requestedAt === undefined ? {} : { requestedAt }),
    });
    if (!mapped.ok) return { outcome: 'invalid', field: mapped.field, message: mapped.message };
    // A payment a replay opened again: its callback is an event caused by that replay.
    const work = await this.options.pending.get(PAYMENTS_TARGET, result.ref);
    const [appended] = await this.options.sink.append([markCausedByReplay(mapped.event, work?.replay)]);
    await this.options.pending.complete(PAYMENTS_TARGET, result.ref);
    const duplicate = appended?.duplicate ?? false;
    this.logger.info(
      {
        target: PAYMENTS_TARGET,
        dossier,
        paymentRef: result.ref,
        outcome: result.outcome,
        duplicate,
        ...(appended === undefined ? {} : { position: appended.position }),
        capturedAt: new Date(this.clock.now()).toISOString(),
      },
      duplicate ? 'payment callback already captured' : 'payment callback captured',
    );
    return {
      outcome: duplicate ? 'duplicate' : 'accepted',
      dossier,
      ref: result.ref,
      eventId: mapped.event.id,
    };
  }

  /**
   * Province and commune of the dossier: from its pending payment (with the INIT's `ThoiGianGD`), else
   * from its stream.
   */
  private async placeOf(
    dossier: string,
    ref: string,
  ): Promise<{ place: DossierPlace; requestedAt?: string } | undefined> {
    const item = await this.options.pending.get(PAYMENTS_TARGET, ref);
    const payload = item?.payload as Partial<PendingPayment> | undefined;
    if (typeof payload?.provinceCode === 'string' && typeof payload.communeCode === 'string') {
      return {
        place: { dossierCode: dossier, provinceCode: payload.provinceCode, communeCode: payload.communeCode },
        ...(typeof payload.requestedAt === 'string' ? { requestedAt: payload.requestedAt } : {}),
      };
    }
    const [first] = await this.options.events.readStream(`${DOSSIER_STREAM_PREFIX}${dossier}`, {
      fromVersion: 1,
      limit: 1,
    });
    const data = first?.data as { provinceCode?: unknown; communeCode?: unknown } | undefined;
    if (typeof data?.provinceCode !== 'string' || typeof data.communeCode !== 'string') return undefined;
    return {
      place: { dossierCode: dossier, provinceCode: data.provinceCode, communeCode: data.communeCode },
    };
  }
}

/** What the answer echoes: the callback's `MaDoiTac`, `MaThamChieu`, `ThoiGianGD` (cut to 100). */
function callbackEcho(body: unknown): CallbackEcho {
  const m =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : {};
  const field = (name: string): string => (typeof m[name] === 'string' ? m[name].slice(0, 100) : '');
  return { MaDoiTac: field('MaDoiTac'), MaThamChieu: field('MaThamChieu'), ThoiGianGD: field('ThoiGianGD') };
}

type ParsedCallback =
  | { message: Record<string, unknown>; maLoi: string; result: PaymentResult }
  | { field: string; message: string };

/**
 * Checks the callback's shape, naming the first field that is wrong. The digest and the meaning of
 * `MaLoi` are checked after, by the caller: `result.outcome` holds only once `MaLoi` is 00 or 24.
 */
export function parsePaymentCallback(body: unknown): ParsedCallback {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { field: 'body', message: 'expected a JSON object' };
  }
  const m = body as Record<string, unknown>;
  for (const field of [
    'LoaiBanTin',
    'MaLoi',
    'MaDoiTac',
    'MaThamChieu',
    'MaGiaoDich',
    'ThoiGianGD',
    'MaXacThuc',
  ] as const) {
    if (typeof m[field] !== 'string' || m[field] === '') {
      return { field, message: 'expected a non-empty string' };
    }
  }
  for (const field of ['MaTienTe', 'MaNganHang', 'ThongTinGiaoDich'] as const) {
    if (m[field] !== undefined && typeof m[field] !== 'string') {
      return { field, message: 'expected a string' };
    }
  }
  const soTien = typeof m.SoTien === 'string' && /^\d+$/.test(m.SoTien) ? Number(m.SoTien) : m.SoTien;
  if (typeof soTien !== 'number' || !Number.isSafeInteger(soTien) || soTien < 0) {
    return { field: 'SoTien', message: 'expected a whole amount in VND' };
  }
  const maLoi = m.MaLoi as string;
  const bankCode = typeof m.MaNganHang === 'string' && m.MaNganHang !== '' ? m.MaNganHang : undefined;
  return {
    message: m,
    maLoi,
    result: {
      outcome: maLoi === PAYMENT_CODE.ok ? 'completed' : 'failed',
      ref: (m.MaThamChieu as string).normalize('NFC'),
      transactionId: (m.MaGiaoDich as string).normalize('NFC'),
      amount: soTien,
      at: m.ThoiGianGD as string,
      ...(bankCode === undefined ? {} : { bankCode }),
    },
  };
}
