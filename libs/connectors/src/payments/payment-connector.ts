import type { StoredEvent } from '#lgsp/event-store';
import { DOSSIER_STREAM_PREFIX, FEE_DUE_STATUS, readDossierState } from '#lgsp/projections';
import { systemClock } from '../core/clock.js';
import {
  DossierSyncConnector,
  type DossierState,
  type DossierSyncSettings,
} from '../core/dossier-sync-connector.js';
import { mappingError } from '../core/errors.js';
import { replayOfWork } from '../core/replay-context.js';
import type { PendingWorkStore } from '../core/pending/pending-work-store.js';
import type { PaymentClient } from './payment-client.js';
import type { PaymentReceiptInfo } from './external/payment-wire.js';
import {
  PAYMENTS_TARGET,
  feeRequests,
  paymentReceipt,
  type PaymentBeneficiary,
  isValidPaymentRef,
  settledPaymentRefs,
  type FeeRequest,
} from './payment-mapping.js';

/** What the poller needs to act on a pending payment; kept in the pending item. */
export interface PendingPayment {
  dossier: string;
  provinceCode: string;
  communeCode: string;
  /** Whole VND. */
  amount: number;
  /** `MaGiaoDich` the INIT answered. */
  transactionId: string;
  /** `ThoiGianGD` of the INIT, so it can be repeated identically. */
  requestedAt: string;
  /** `ThongTinGiaoDich` of the INIT. */
  description: string;
  /** `ThongTinBienLai` of the INIT (absent in items scheduled before it was sent). */
  receipt?: Partial<PaymentReceiptInfo>;
}

export interface PaymentConnectorOptions extends DossierSyncSettings {
  client: PaymentClient;
  /** Where each opened transaction waits for its result. */
  pending: PendingWorkStore;
  /** First QUERY of a transaction this long after its INIT (callbacks usually come sooner). @defaultValue 60000 */
  pollDelayMs?: number;
  /** The account fees are paid into, for the receipt (`TKThuHuong`, `MaNHThuHuong`, `TenTKThuHuong`). @defaultValue empty */
  beneficiary?: PaymentBeneficiary;
}

/** The status-changed events that call for a payment: to status 6, fee due. */
export function isFeeDueEvent(event: Pick<StoredEvent, 'type' | 'data'>): boolean {
  return (
    event.type === 'vn.gov.lgsp.dossier.status-changed.v1' &&
    (event.data as { status?: unknown } | null)?.status === FEE_DUE_STATUS
  );
}

/**
 * Opens the payment of each fee due on the payment platform (`connector.payments`, target `payments`).
 *
 * The n-th change of a dossier to status 6 is the fee request {@link paymentRef}`(dossierCode, n)`. For each request
 * with no final payment event yet in the dossier's stream, it sends INIT for the fees declared at
 * submission (none when they are 0), timed at the status change, so a repeated INIT is identical and
 * the platform answers the same transaction; then it leaves the transaction in the pending store for
 * {@link PaymentStatusPoller} (the callback usually settles it first). A dossier already paid in full
 * opens nothing more. `MaLoi` 04 (the reference reused with another amount) parks the dossier.
 */
export class PaymentConnector extends DossierSyncConnector {
  constructor(options: PaymentConnectorOptions) {
    const { client, pending, pollDelayMs = 60_000, beneficiary, ...settings } = options;
    const clock = settings.clock ?? systemClock;
    super({
      ...settings,
      name: 'connector.payments',
      target: PAYMENTS_TARGET,
      wants: isFeeDueEvent,
      send: async (state, signal) => {
        // The final events may be later than the state sent (a replayed batch): read up to now, when the
        // stream has grown past the state (a point lookup, cheaper than reading the stream to find nothing).
        const grown =
          (await settings.events.streamVersion(`${DOSSIER_STREAM_PREFIX}${state.dossier}`)) >
          state.view.streamVersion;
        const latest = grown
          ? ((await readDossierState(settings.events, state.dossier, { after: state })) ?? state)
          : state;
        for (const request of openFeeRequests(state, latest)) {
          const { view } = latest;
          const amount = view.payment.amountDue;
          const description = `Thanh toán phí, lệ phí hồ sơ ${state.dossier}`;
          const receipt = paymentReceipt(state.dossier, view, latest.events, description, beneficiary);
          const opened = await client.init(
            { ref: request.ref, amount, requestedAt: request.requestedAt, description, receipt },
            signal,
          );
          const payload: PendingPayment = {
            dossier: state.dossier,
            provinceCode: view.provinceCode,
            communeCode: view.communeCode,
            amount,
            transactionId: opened.transactionId,
            requestedAt: request.requestedAt,
            description,
            receipt,
          };
          const now = clock.now();
          await pending.schedule({
            target: PAYMENTS_TARGET,
            key: request.ref,
            dossier: state.dossier,
            payload,
            dueAt: now + pollDelayMs,
            createdAt: new Date(now).toISOString(),
            ...replayOfWork(),
          });
        }
      },
    });
  }
}

/**
 * The fee requests of `state` still to open: none once the dossier is paid in full or has no fee,
 * and none whose reference already has a final event in `latest`.
 */
export function openFeeRequests(state: DossierState, latest: DossierState = state): FeeRequest[] {
  const { payment } = latest.view;
  if (payment.amountDue <= 0) return [];
  if (payment.state === 'paid' && payment.amountPaid >= payment.amountDue) return [];
  const settled = settledPaymentRefs(latest.events);
  const open = feeRequests(state.dossier, state.events).filter((r) => !settled.has(r.ref));
  for (const r of open) {
    if (!isValidPaymentRef(r.ref)) {
      throw mappingError(PAYMENTS_TARGET, `${r.ref} is not a MaThamChieu (at most 50 letters and digits)`);
    }
  }
  return open;
}
