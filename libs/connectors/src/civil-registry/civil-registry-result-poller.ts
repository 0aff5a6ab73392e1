import type { EventStore } from '#lgsp/event-store';
import { readDossierState } from '#lgsp/projections';
import { backoffDelay, type RetryPolicy } from '#lgsp/subscriptions';
import { silentLogger, type Logger } from '#lgsp/observability';
import { observeCall, type CallListener } from '../core/call-listener.js';
import { systemClock, type Clock } from '../core/clock.js';
import { isConnectorError } from '../core/errors.js';
import { formatVn } from '../core/vn-time.js';
import type { EventSink } from '../core/event-sink.js';
import type { PendingItem, PendingWorkStore } from '../core/pending/pending-work-store.js';
import type { CivilRegistryClient } from './civil-registry-client.js';
import {
  DEFAULT_DVCLT_STATUSES,
  DVCLT_REPORTING_BODY,
  type CivilRegistryPendingPayload,
  type DvcltReporting,
} from './civil-registry-connector.js';
import {
  CIVIL_REGISTRY_SOURCE,
  CIVIL_REGISTRY_TARGET,
  civilRegistryEventId,
  civilRegistryResultEvents,
} from './civil-registry-mapping.js';
import { CIVIL_REGISTRY_STATUS, type CivilRegistryResult } from './external/civil-registry-wire.js';
import { markCausedByReplay } from '../core/replay-context.js';

export interface CivilRegistryResultPollerOptions {
  client: Pick<CivilRegistryClient, 'results' | 'receive'>;
  /** Where the captured statuses are reported (DVCLT); none when absent. */
  dvclt?: DvcltReporting;
  /** The registrations awaiting a result (scheduled by the {@link CivilRegistryConnector}). */
  pending: PendingWorkStore;
  /** Where captured events go: the hub's ingest. */
  sink: EventSink;
  /** Where the dossiers' streams are read from (their status and the results captured already). */
  events: Pick<EventStore, 'readStream'>;
  /** Between two polls of a registration that is not final. @defaultValue 60000 */
  pollIntervalMs?: number;
  /** Items polled per round, asked in one `LayKetQua` per province and module. @defaultValue 50 */
  batch?: number;
  /** Pause of the loop after a round that found fewer than `batch` items due. @defaultValue 1000 */
  idleMs?: number;
  /**
   * Backoff after failed polls in a row (the target down, a result the hub cannot map, the store
   * unavailable); the target's Retry-After is a lower bound.
   * @defaultValue 1 s doubling up to 1 h
   */
  backoff?: Partial<RetryPolicy>;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
  /**
   * Told of each `LayKetQua`, each registration sent again and each status reported to DVCLT
   * (operation `poll`, target `civil-registry`, as DVCLT's calls of the sync count too), for metrics.
   */
  called?: CallListener;
}

/** What one round did. */
export interface CivilRegistryPollRound {
  /** Pending items polled. */
  polled: number;
  /** Events appended (not counting the duplicates of results captured before). */
  appended: number;
  /** Registrations that reached a final status (4 done, 6 rejected); their items are completed. */
  final: number;
}

const DEFAULT_BACKOFF: RetryPolicy = { initialDelayMs: 1000, maxDelayMs: 3_600_000, factor: 2 };

/**
 * Captures the civil registry's results: asks `LayKetQua` for the due pending registrations in
 * batches (one call per province and module, up to `batch` codes), appends the events of their status
 * changes (see `civilRegistryResultEvents`) through the hub's ingest and reports the new statuses to
 * DVCLT.
 *
 * An item is never lost: a failure of the registry, an unmappable result or an unavailable store
 * reschedules it with backoff; it is completed only once its final result's events are appended.
 * A dossier missing from the registry's answer (a write it acknowledged and lost) is sent again
 * with the same codes. Several pollers may share a store: captured events are deduplicated by id, so a
 * result polled twice appends nothing the second time.
 */
export class CivilRegistryResultPoller {
  private readonly pollIntervalMs: number;
  private readonly batch: number;
  private readonly idleMs: number;
  private readonly backoff: RetryPolicy;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly logger: Logger;
  private loop: Promise<void> | undefined;
  private abort: AbortController | undefined;

  constructor(private readonly options: CivilRegistryResultPollerOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 60_000;
    this.batch = Math.max(1, options.batch ?? 50);
    this.idleMs = options.idleMs ?? 1000;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Polls the items due now, one after the other. `signal` aborts the calls under way (the item stays
   * due). Throws only when the pending store fails.
   */
  async pollOnce(signal?: AbortSignal): Promise<CivilRegistryPollRound> {
    return this.round(() => signal?.aborted === true, signal);
  }

  /** Starts polling in a loop until {@link stop}; a no-op when running. */
  start(): void {
    if (this.loop !== undefined) return;
    const abort = new AbortController();
    this.abort = abort;
    this.loop = this.run(abort.signal);
  }

  /** Stops the loop and resolves once the item under way is captured; the others stay due. */
  async stop(): Promise<void> {
    this.abort?.abort(new Error('civil registry result poller stopped'));
    const loop = this.loop;
    this.loop = undefined;
    this.abort = undefined;
    await loop;
  }

  private async run(stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      let full = false;
      try {
        // The calls of a round are not aborted by stop(): it waits for the round to finish.
        full = (await this.round(() => stop.aborted)).polled >= this.batch;
      } catch (err) {
        this.logger.error(
          { target: CIVIL_REGISTRY_TARGET, error: err instanceof Error ? err.message : String(err) },
          'civil registry poll round failed',
        );
      }
      if (full || stop.aborted) continue;
      try {
        await this.clock.sleep(this.idleMs, stop);
      } catch {
        // Aborted by stop().
      }
    }
  }

  private async round(stopping: () => boolean, signal?: AbortSignal): Promise<CivilRegistryPollRound> {
    const round: CivilRegistryPollRound = { polled: 0, appended: 0, final: 0 };
    const due = await this.options.pending.due(CIVIL_REGISTRY_TARGET, this.clock.now(), this.batch);
    // One LayKetQua per province and module: the registry answers a batch of one of each.
    const groups = new Map<string, PendingItem[]>();
    for (const item of due) {
      const { request, provinceCode } = item.payload as CivilRegistryPendingPayload;
      const key = `${provinceCode}/${request.module}`;
      groups.set(key, [...(groups.get(key) ?? []), item]);
    }
    for (const items of groups.values()) {
      if (stopping()) break;
      round.polled += items.length;
      const first = items[0]!.payload as CivilRegistryPendingPayload;
      let results: Map<string, CivilRegistryResult>;
      try {
        const { client } = this.options;
        results = await this.call(() =>
          client.results(
            {
              maDinhDanhHoSo: items.map((i) => i.key),
              maTinh: first.provinceCode,
              module: first.request.module,
            },
            signal,
          ),
        );
      } catch (err) {
        if (signal?.aborted && !isConnectorError(err)) throw err;
        for (const item of items) await this.failed(item, err);
        continue;
      }
      for (const item of items) {
        // Stopping: the items not captured yet stay due, for the next start.
        if (stopping()) break;
        const outcome = await this.pollItem(item, results.get(item.key), signal);
        round.appended += outcome.appended;
        if (outcome.final) round.final++;
      }
    }
    return round;
  }

  private async pollItem(
    item: PendingItem,
    result: CivilRegistryResult | undefined,
    signal?: AbortSignal,
  ): Promise<{ appended: number; final: boolean }> {
    const payload = item.payload as CivilRegistryPendingPayload;
    const log = { target: CIVIL_REGISTRY_TARGET, dossier: item.dossier };
    try {
      if (result === undefined) {
        // The registry acknowledged the dossier and lost it: send it again, same codes.
        const { client } = this.options;
        await this.call(() => client.receive(payload.request, signal));
        this.logger.warn(
          { ...log, attempts: item.attempts + 1 },
          'civil registry lost the registration: sent again',
        );
        await this.options.pending.reschedule(
          CIVIL_REGISTRY_TARGET,
          item.key,
          this.clock.now() + this.pollIntervalMs,
          item.attempts + 1,
          { ...payload, failures: 0 },
        );
        return { appended: 0, final: false };
      }
      const dossier = await this.readDossier(item.dossier);
      const supplementRequested =
        payload.supplementRequested ||
        dossier.captured.has(
          civilRegistryEventId(item.key, CIVIL_REGISTRY_STATUS.supplementNeeded, 'status-changed'),
        );
      const capture = civilRegistryResultEvents(result, {
        dossierCode: payload.dossierCode,
        provinceCode: payload.provinceCode,
        communeCode: payload.communeCode,
        registrationType: payload.registrationType,
        person: payload.person,
        supplementRequested,
        ...(dossier.status === undefined ? {} : { dossierStatus: dossier.status }),
      });
      const fresh = capture.events.filter((e) => !dossier.captured.has(e.id));
      // The events are appended before the item is updated or completed. A crash in between leaves the
      // item as it was, so the next poll captures the same result (or a later one) again: its events
      // have the same ids, which the ingest keeps once, so nothing is appended twice and nothing is lost.
      // The other order could complete an item whose events were never appended.
      const results = await this.options.sink.append(fresh.map((e) => markCausedByReplay(e, item.replay)));
      const appended = results.filter((r) => !r.duplicate).length;
      if (capture.events.length > 0 || capture.final) {
        this.logger.info(
          { ...log, status: capture.status, appended, final: capture.final },
          'civil registry result captured',
        );
      }
      // Reported after the append and before the item moves on: a failed report polls again, and
      // DVCLT ignores a repeated one.
      if (capture.status !== payload.lastStatus)
        await this.report(payload, capture.status, supplementRequested, signal);
      if (capture.final) {
        await this.options.pending.complete(CIVIL_REGISTRY_TARGET, item.key);
      } else {
        await this.options.pending.reschedule(
          CIVIL_REGISTRY_TARGET,
          item.key,
          this.clock.now() + this.pollIntervalMs,
          item.attempts + 1,
          {
            ...payload,
            lastStatus: capture.status,
            supplementRequested:
              supplementRequested || capture.status === CIVIL_REGISTRY_STATUS.supplementNeeded,
            failures: 0,
          } satisfies CivilRegistryPendingPayload,
        );
      }
      return { appended, final: capture.final };
    } catch (err) {
      if (signal?.aborted && !isConnectorError(err)) throw err;
      await this.failed(item, err);
      return { appended: 0, final: false };
    }
  }

  /** Reports a registry status to DVCLT, when it names one. */
  private async report(
    payload: CivilRegistryPendingPayload,
    status: number,
    supplementRequested: boolean,
    signal?: AbortSignal,
  ): Promise<void> {
    const dvclt = this.options.dvclt;
    if (dvclt === undefined) return;
    const codes = { ...DEFAULT_DVCLT_STATUSES, ...dvclt.statuses };
    const S = CIVIL_REGISTRY_STATUS;
    const trangThai =
      status === S.supplementNeeded
        ? codes.supplementNeeded
        : status === S.processing && supplementRequested
          ? codes.processing
          : status === S.done
            ? codes.done
            : status === S.rejected
              ? codes.rejected
              : undefined;
    if (trangThai === undefined) return;
    await this.call(() =>
      dvclt.client.report(
        {
          maHoSoLT: payload.request.maHoSoLT,
          trangThai,
          coQuanXuLy: dvclt.coQuanXuLy ?? DVCLT_REPORTING_BODY,
          thoiGian: formatVn(this.clock.now(), 'portal'),
        },
        signal,
      ),
    );
  }

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return observeCall(
      this.options.called,
      { target: CIVIL_REGISTRY_TARGET, operation: 'poll' },
      this.clock,
      fn,
    );
  }

  /** Reschedules an item after a failure, with backoff (the target's Retry-After a lower bound). */
  private async failed(item: PendingItem, err: unknown): Promise<void> {
    const payload = item.payload as CivilRegistryPendingPayload;
    const failures = (payload.failures ?? 0) + 1;
    const retryAfterMs = isConnectorError(err) ? err.retryAfterMs : undefined;
    const delay = Math.max(backoffDelay(failures, this.backoff, this.random), retryAfterMs ?? 0);
    this.logger[isConnectorError(err) && err.kind === 'retriable' ? 'warn' : 'error'](
      {
        target: CIVIL_REGISTRY_TARGET,
        dossier: item.dossier,
        failures,
        delayMs: delay,
        ...(isConnectorError(err) ? { code: err.code, kind: err.kind } : { kind: errorKind(err) }),
        error: err instanceof Error ? err.message : String(err),
      },
      'civil registry poll failed: rescheduled',
    );
    await this.options.pending.reschedule(
      CIVIL_REGISTRY_TARGET,
      item.key,
      this.clock.now() + delay,
      item.attempts + 1,
      {
        ...payload,
        failures,
      },
    );
  }

  /** The dossier's current status and the ids of the events captured from the registry so far. */
  private async readDossier(dossier: string): Promise<{ status?: number; captured: Set<string> }> {
    const state = await readDossierState(this.options.events, dossier);
    // The registry's results are events of the view's types (status changes, registrations).
    const captured = new Set(
      state?.events.filter((e) => e.source === CIVIL_REGISTRY_SOURCE).map((e) => e.id),
    );
    return state?.view.status === undefined ? { captured } : { status: state.view.status, captured };
  }
}

/** The kind of a failure that is not a ConnectorError: the hub's store or a schema refusal. */
function errorKind(err: unknown): string {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : 'unknown';
}
