import { silentLogger, type Logger } from '#lgsp/observability';
import { observeCall, type CallListener } from '../core/call-listener.js';
import { systemClock, type Clock } from '../core/clock.js';
import { isConnectorError } from '../core/errors.js';
import type { EventSink } from '../core/event-sink.js';
import type { PendingItem, PendingWorkStore } from '../core/pending/pending-work-store.js';
import { PAYMENT_STATUS } from './external/payment-wire.js';
import type { PaymentClient } from './payment-client.js';
import type { PendingPayment } from './payment-connector.js';
import { PAYMENTS_TARGET, toPaymentEvent } from './payment-mapping.js';
import { markCausedByReplay } from '../core/replay-context.js';

export interface PaymentStatusPollerOptions {
  client: PaymentClient;
  pending: PendingWorkStore;
  sink: EventSink;
  /** Pause between two rounds, and the first delay of an item found pending. @defaultValue 30000 */
  pollIntervalMs?: number;
  /** The longest an item waits between two QUERYs, however often it was pending. @defaultValue 3600000 */
  maxPollDelayMs?: number;
  /** Items queried per round. @defaultValue 50 */
  batch?: number;
  clock?: Clock;
  logger?: Logger;
  /** Told of each QUERY and INIT (operation `poll`), for metrics. */
  called?: CallListener;
}

/** What one round did. */
export interface PollRound {
  /** Items queried. */
  polled: number;
  /** Events newly appended (a result captured before, e.g. by its callback, is not counted). */
  appended: number;
  /** Items completed: their result is in the log. */
  final: number;
  /** Items rescheduled: still pending, or the platform or the hub could not be reached. */
  stillPending: number;
}

/**
 * Re-queries the transactions the pending store holds until each is final, including those that
 * come back pending again and again: each time pending (or failing) it waits
 * `pollIntervalMs × 2^attempts`, at most `maxPollDelayMs`. A final result is appended first and the
 * item completed after, so a crash in between only appends again an event the store deduplicates.
 * No failure drops an item: an unreachable platform or store, an untrusted answer, are retried later.
 * A transaction the platform does not know (its INIT was lost) is opened again with the same INIT.
 *
 * The items live in the pending store, so a poller started after a restart carries on with them.
 */
export class PaymentStatusPoller {
  private readonly pollIntervalMs: number;
  private readonly maxPollDelayMs: number;
  private readonly batch: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private running: { abort: AbortController; done: Promise<void> } | undefined;

  constructor(private readonly options: PaymentStatusPollerOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 30_000;
    this.maxPollDelayMs = Math.max(this.pollIntervalMs, options.maxPollDelayMs ?? 3_600_000);
    this.batch = Math.max(1, options.batch ?? 50);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
  }

  /** The wait after the `attempts`-th poll left an item pending. */
  delayAfter(attempts: number): number {
    return Math.min(this.maxPollDelayMs, this.pollIntervalMs * 2 ** Math.max(0, attempts - 1));
  }

  /** Queries every item due now (at most `batch`), one after another. */
  async pollOnce(signal?: AbortSignal): Promise<PollRound> {
    const round: PollRound = { polled: 0, appended: 0, final: 0, stillPending: 0 };
    const items = await this.options.pending.due(PAYMENTS_TARGET, this.clock.now(), this.batch);
    for (const item of items) {
      if (signal?.aborted) break;
      round.polled++;
      const result = await this.pollItem(item, signal);
      if (result === 'pending') round.stillPending++;
      else {
        round.final++;
        if (result === 'appended') round.appended++;
      }
    }
    return round;
  }

  /** Polls in rounds until {@link stop}; a round that throws is logged and the next one comes. */
  start(): void {
    if (this.running !== undefined) return;
    const abort = new AbortController();
    const loop = async () => {
      while (!abort.signal.aborted) {
        try {
          await this.pollOnce(abort.signal);
        } catch (err) {
          if (abort.signal.aborted) break;
          this.logger.error(
            { target: PAYMENTS_TARGET, error: err instanceof Error ? err.message : String(err) },
            'payment poll round failed',
          );
        }
        try {
          await this.clock.sleep(this.pollIntervalMs, abort.signal);
        } catch {
          break;
        }
      }
    };
    this.running = { abort, done: loop() };
  }

  /** Stops polling; resolves once the round under way has ended. */
  async stop(): Promise<void> {
    const running = this.running;
    if (running === undefined) return;
    this.running = undefined;
    running.abort.abort(new Error('payment poller stopped'));
    await running.done;
  }

  private async pollItem(
    item: PendingItem,
    signal?: AbortSignal,
  ): Promise<'appended' | 'captured' | 'pending'> {
    const payload = item.payload as PendingPayment;
    const ref = item.key;
    const attempts = item.attempts + 1;
    const log = { target: PAYMENTS_TARGET, dossier: item.dossier, paymentRef: ref, attempts };
    try {
      const { client } = this.options;
      const answer = await this.call(() => client.query({ ref, requestedAt: payload.requestedAt }, signal));
      if (answer === undefined) {
        // The platform has no such transaction (its INIT was lost): the same INIT opens it again.
        await this.call(() =>
          client.init(
            {
              ref,
              amount: payload.amount,
              requestedAt: payload.requestedAt,
              description: payload.description,
              ...(payload.receipt === undefined ? {} : { receipt: payload.receipt }),
            },
            signal,
          ),
        );
        this.logger.warn(log, 'payment unknown to the platform, opened again');
        return await this.later(item, attempts);
      }
      if (answer.status === PAYMENT_STATUS.pending) return await this.later(item, attempts);
      const mapped = toPaymentEvent(
        {
          outcome: answer.status === PAYMENT_STATUS.success ? 'completed' : 'failed',
          ref,
          transactionId: answer.transactionId,
          amount: answer.amount,
          at: answer.at,
          ...(answer.bankCode === undefined ? {} : { bankCode: answer.bankCode }),
        },
        {
          dossierCode: payload.dossier,
          provinceCode: payload.provinceCode,
          communeCode: payload.communeCode,
        },
        { receivedAtMs: this.clock.now(), requestedAt: payload.requestedAt },
      );
      if (!mapped.ok) {
        this.logger.error({ ...log, field: mapped.field }, `payment result unusable: ${mapped.message}`);
        return await this.later(item, attempts);
      }
      const [appended] = await this.options.sink.append([markCausedByReplay(mapped.event, item.replay)]);
      await this.options.pending.complete(PAYMENTS_TARGET, ref);
      const fresh = appended !== undefined && !appended.duplicate;
      this.logger.info(
        {
          ...log,
          outcome: answer.status,
          duplicate: !fresh,
          ...(appended ? { position: appended.position } : {}),
        },
        fresh ? 'payment result captured by polling' : 'payment result was already captured',
      );
      return fresh ? 'appended' : 'captured';
    } catch (err) {
      if (signal?.aborted) throw err;
      this.logger.warn(
        {
          ...log,
          ...(isConnectorError(err) ? { code: err.code, kind: err.kind } : {}),
          error: err instanceof Error ? err.message : String(err),
        },
        'payment poll failed, will retry',
      );
      return await this.later(item, attempts);
    }
  }

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return observeCall(this.options.called, { target: PAYMENTS_TARGET, operation: 'poll' }, this.clock, fn);
  }

  private async later(item: PendingItem, attempts: number): Promise<'pending'> {
    await this.options.pending.reschedule(
      PAYMENTS_TARGET,
      item.key,
      this.clock.now() + this.delayAfter(attempts),
      attempts,
    );
    return 'pending';
  }
}
