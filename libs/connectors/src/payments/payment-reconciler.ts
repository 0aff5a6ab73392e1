import type { PaymentCompleted, PaymentFailed } from '#lgsp/contracts';
import { FEE_DUE_STATUS, evolveDossier, type DossierView } from '#lgsp/projections';
import {
  CODE,
  TEXT,
  differences,
  eachLimited,
  PagedReconciler,
  type MismatchBatcher,
  type ExpectedDossier,
  type SystemReading,
} from '#lgsp/reconciliation';
import { PAYMENT_STATUS } from './external/payment-wire.js';
import type { PaymentClient } from './payment-client.js';
import {
  PAYMENTS_TARGET,
  PAYMENT_COMPLETED_TYPE,
  PAYMENT_FAILED_TYPE,
  feeRequests,
  paymentRef,
} from './payment-mapping.js';

/** What the platform answers to a `QUERY`: undefined for a reference it does not know. */
type PaymentQueryResult = Awaited<ReturnType<PaymentClient['query']>>;

/** A dossier's payments, each with what the platform answered to its `QUERY`. */
type Queried = { dossier: ExpectedDossier; payment: ExpectedPayment; actual: PaymentQueryResult }[];

export interface PaymentReconcilerOptions {
  client: Pick<PaymentClient, 'query'>;
  /** QUERY calls in flight at once. @defaultValue 16 */
  concurrency?: number;
  /** Dossiers between two yielded batches. @defaultValue 500 */
  chunkSize?: number;
  /** Mismatches per yielded batch. @defaultValue 500 */
  batchSize?: number;
}

/** A payment the log implies the platform holds, with the final result the log captured, if any. */
export interface ExpectedPayment {
  /** `MaThamChieu`. */
  ref: string;
  /** `ThoiGianGD` of its INIT, which QUERY repeats. */
  requestedAt: string;
  outcome?: { TrangThaiGD: 1; MaGiaoDich: string; SoTien: number } | { TrangThaiGD: 4 };
}

/**
 * The payments of a dossier by its log: each fee request ({@link paymentRef}, the n-th change to
 * status 6) the payment connector opens — none while nothing is due or once the dossier is paid in
 * full — and each of the dossier's fee-request references with a final payment event, with that
 * result (a completion wins over a failure of the same reference). A final event for a reference no
 * fee request of the log made cannot be looked up (QUERY needs the INIT's `ThoiGianGD`) and is left
 * out. Pure.
 */
export function expectedPayments(dossier: ExpectedDossier): ExpectedPayment[] {
  const payments = new Map<string, ExpectedPayment>();
  const requestedAt = new Map(
    feeRequests(dossier.dossier, dossier.events).map((r) => [r.ref, r.requestedAt]),
  );
  let view: DossierView | undefined;
  let attempt = 0;
  for (const e of dossier.events) {
    view = evolveDossier(view, e);
    if (e.type === 'vn.gov.lgsp.dossier.status-changed.v1') {
      if ((e.data as { status?: unknown }).status !== FEE_DUE_STATUS) continue;
      attempt++;
      const { payment } = view;
      const paidInFull = payment.state === 'paid' && payment.amountPaid >= payment.amountDue;
      const ref = paymentRef(dossier.dossier, attempt);
      const at = requestedAt.get(ref);
      if (payment.amountDue > 0 && !paidInFull && !payments.has(ref) && at !== undefined) {
        payments.set(ref, { ref, requestedAt: at });
      }
    } else if (e.type === PAYMENT_COMPLETED_TYPE) {
      const d = e.data as PaymentCompleted;
      const at = requestedAt.get(d.paymentRef);
      if (at === undefined) continue;
      payments.set(d.paymentRef, {
        ref: d.paymentRef,
        requestedAt: at,
        outcome: { TrangThaiGD: 1, MaGiaoDich: d.transactionId, SoTien: d.amount },
      });
    } else if (e.type === PAYMENT_FAILED_TYPE) {
      const d = e.data as PaymentFailed;
      const at = requestedAt.get(d.paymentRef);
      if (at !== undefined && payments.get(d.paymentRef)?.outcome?.TrangThaiGD !== 1) {
        payments.set(d.paymentRef, { ref: d.paymentRef, requestedAt: at, outcome: { TrangThaiGD: 4 } });
      }
    }
  }
  return [...payments.values()];
}

/**
 * Reconciles the payment platform, which has no list: one `QUERY` per payment the log implies
 * ({@link expectedPayments}), a bounded number at a time. A reference the platform does not know is
 * `missing-in-target`; a final result of the log the platform contradicts is `wrong-field`
 * (`TrangThaiGD`, and `MaGiaoDich`/`SoTien` of a completion), or `stale-status` while the platform still
 * says pending. A payment the log has no result for yet is not judged beyond its existence. Records
 * the log does not imply cannot be found without a list, so there are no extras.
 */
export class PaymentReconciler extends PagedReconciler<Queried> {
  readonly target = PAYMENTS_TARGET;
  private readonly concurrency: number;
  private readonly chunkSize: number;

  constructor(private readonly options: PaymentReconcilerOptions) {
    super(options);
    this.concurrency = options.concurrency ?? 16;
    this.chunkSize = options.chunkSize ?? 500;
  }

  protected read(expected: ReadonlyMap<string, ExpectedDossier>): SystemReading<Queried> {
    const { client } = this.options;
    const { chunkSize, concurrency } = this;
    const dossiers = [...expected.values()];
    // A "page" is a chunk of dossiers, each payment of each looked up (the platform has no list).
    return {
      async *pages(signal) {
        for (let i = 0; i < dossiers.length; i += chunkSize) {
          const records: Queried[] = [];
          let scanned = 0;
          await eachLimited(dossiers.slice(i, i + chunkSize), concurrency, async (dossier) => {
            const queried: Queried = [];
            for (const payment of expectedPayments(dossier)) {
              signal?.throwIfAborted();
              queried.push({
                dossier,
                payment,
                actual: await client.query({ ref: payment.ref, requestedAt: payment.requestedAt }, signal),
              });
              scanned++;
            }
            records.push(queried);
          });
          yield { records, scanned };
        }
      },
      check: (queried, out) => {
        for (const { dossier, payment, actual } of queried)
          this.compare(dossier.dossier, payment, actual, out);
        return true;
      },
    };
  }

  private compare(
    code: string,
    payment: ExpectedPayment,
    actual: PaymentQueryResult,
    out: MismatchBatcher,
  ): void {
    if (actual === undefined) {
      out.add(code, '*', { MaThamChieu: payment.ref }, null, 'missing-in-target');
      return;
    }
    const { outcome } = payment;
    if (outcome === undefined) return;
    if (actual.status !== outcome.TrangThaiGD) {
      const category = actual.status === PAYMENT_STATUS.pending ? 'stale-status' : 'wrong-field';
      out.add(code, 'TrangThaiGD', outcome.TrangThaiGD, actual.status, category);
      return;
    }
    if (outcome.TrangThaiGD !== 1) return;
    const platform = { MaGiaoDich: actual.transactionId, SoTien: actual.amount };
    const rules = { MaGiaoDich: TEXT, SoTien: CODE };
    const log = { MaGiaoDich: outcome.MaGiaoDich, SoTien: outcome.SoTien };
    for (const d of differences(log, platform, rules))
      out.add(code, d.field, d.expected, d.actual, 'wrong-field');
  }
}
