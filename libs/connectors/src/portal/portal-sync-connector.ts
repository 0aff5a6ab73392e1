import type { EventStore, StoredEvent } from '#lgsp/event-store';
import {
  DOSSIER_VIEW_EVENT_TYPES,
  evolveDossier,
  isDossierViewEvent,
  type DossierView,
} from '#lgsp/projections';
import { silentLogger, type Page, type Subscriber, type SubscriptionLogger } from '#lgsp/subscriptions';
import type { Clock } from '../core/clock.js';
import type { CircuitBreaker } from '../core/circuit-breaker.js';
import type { ParkingStore } from '../core/parking/parking-store.js';
import type { TokenBucket } from '../core/rate-limiter.js';
import type { ConnectorRetryPolicy } from '../core/retry.js';
import { TargetGate, type GateResult, type TargetGateListener } from '../core/target-gate.js';
import type { PortalClient } from './portal-client.js';
import { PORTAL_TARGET, portalFacts, toPortalDossier, toPortalProgress } from './portal-mapping.js';

const DOSSIER_STREAM_PREFIX = 'dossier-';
const READ_PAGE = 1000;

export interface PortalSyncConnectorOptions {
  /** Where the dossiers' streams are read from. */
  events: Pick<EventStore, 'readStream'>;
  client: PortalClient;
  /** The parking of every connector; the portal's pairs are under target `portal`. */
  parking: ParkingStore;
  breaker: CircuitBreaker;
  limiter?: TokenBucket;
  retry?: Partial<ConnectorRetryPolicy>;
  listener?: TargetGateListener;
  clock?: Clock;
  random?: () => number;
  logger?: SubscriptionLogger;
  /** Dossiers of one batch sent at the same time (one dossier's events are never concurrent). @defaultValue 8 */
  concurrency?: number;
  /** @defaultValue 100 */
  batchSize?: number;
}

/** What happened to each dossier of a batch, for tests and metrics. */
export interface PortalBatchOutcome {
  dossier: string;
  /** Positions of the dossier's events in the batch. */
  firstPosition: number;
  lastPosition: number;
  status: GateResult<unknown>['status'];
}

/**
 * The outbound sync to the national portal, a subscriber of the global log (`connector.portal`).
 *
 * For each batch the events are grouped by dossier, in order. Each dossier's state as of its last
 * event in the batch (its stream folded with `evolveDossier` up to that version) is sent whole through
 * the portal's {@link TargetGate}: `DongBoHoSoMC` (create, or update when it exists) and its progress
 * records. Sending a state again is harmless, so redelivery of a batch changes nothing in the portal.
 *
 * A dossier that parks (data refused, or still failing after the gate's attempts) holds its later
 * events behind the parking; other dossiers flow. `handle` throws only for the hub's own failures
 * (e.g. the event store unreadable), which retries the batch; the target's failures never block it.
 */
export class PortalSyncConnector implements Subscriber {
  readonly name = 'connector.portal';
  readonly filter = { types: DOSSIER_VIEW_EVENT_TYPES };
  readonly batchSize: number;
  readonly gate: TargetGate;
  private readonly concurrency: number;
  private readonly logger: SubscriptionLogger;

  constructor(private readonly options: PortalSyncConnectorOptions) {
    this.batchSize = options.batchSize ?? 100;
    this.concurrency = Math.max(1, options.concurrency ?? 8);
    this.logger = options.logger ?? silentLogger;
    this.gate = new TargetGate({
      target: PORTAL_TARGET,
      breaker: options.breaker,
      parking: options.parking,
      ...(options.limiter === undefined ? {} : { limiter: options.limiter }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      ...(options.listener === undefined ? {} : { listener: options.listener }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.random === undefined ? {} : { random: options.random }),
    });
  }

  async handle(events: readonly StoredEvent[], _page?: Page): Promise<void> {
    await this.deliver(events);
  }

  /** Delivers one batch and tells what became of each dossier. */
  async deliver(events: readonly StoredEvent[], signal?: AbortSignal): Promise<PortalBatchOutcome[]> {
    const groups = groupByDossier(events);
    const outcomes: PortalBatchOutcome[] = [];
    let next = 0;
    const worker = async () => {
      while (next < groups.length) {
        const group = groups[next++]!;
        outcomes.push(await this.deliverDossier(group, signal));
      }
    };
    // Every worker finishes before a failure is thrown, so no delivery of a failed batch runs on.
    const settled = await Promise.allSettled(
      Array.from({ length: Math.min(this.concurrency, groups.length) }, worker),
    );
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return outcomes.sort((a, b) => a.firstPosition - b.firstPosition);
  }

  /**
   * Sends a dossier's current state again, e.g. once an operator has retried its parking (the events
   * held behind a parking are not delivered by the log, which has moved on). A no-op for a stream with
   * no dossier event.
   */
  async redeliver(dossier: string, signal?: AbortSignal): Promise<PortalBatchOutcome | undefined> {
    const events = await this.readThrough(`${DOSSIER_STREAM_PREFIX}${dossier}`, Number.MAX_SAFE_INTEGER);
    const group = groupByDossier(events)[0];
    return group === undefined ? undefined : this.deliverDossier({ ...group, first: group.last }, signal);
  }

  /** Sends a dossier's state as of `last` through the gate; parks or holds it on failure. */
  private async deliverDossier(group: DossierGroup, signal?: AbortSignal): Promise<PortalBatchOutcome> {
    const { dossier, stream, first, last } = group;
    let state: { view: DossierView; events: StoredEvent[] } | undefined;
    const result = await this.gate.run(
      { dossier, position: first.position },
      async () => {
        state ??= await this.stateAt(stream, last.streamVersion);
        const facts = portalFacts(state.events);
        const record = toPortalDossier(state.view, facts);
        await this.options.client.syncDossier(record, signal);
        await this.options.client.pushProgress(toPortalProgress(dossier, facts), signal);
      },
      signal,
    );
    if (result.status === 'parked') {
      // The whole of the dossier's events in the batch wait behind the parking, not only the first.
      await this.options.parking.hold(PORTAL_TARGET, dossier, last.position);
      this.logger.warn(
        {
          target: PORTAL_TARGET,
          dossier,
          position: first.position,
          lastPosition: last.position,
          held: result.attempts === 0,
          ...(result.error === undefined ? {} : { code: result.error.code, kind: result.error.kind }),
        },
        result.attempts === 0 ? 'portal sync held behind a parking' : 'portal sync parked',
      );
    }
    return { dossier, firstPosition: first.position, lastPosition: last.position, status: result.status };
  }

  private async stateAt(
    stream: string,
    version: number,
  ): Promise<{ view: DossierView; events: StoredEvent[] }> {
    const events = (await this.readThrough(stream, version)).filter(isDossierViewEvent);
    let view: DossierView | undefined;
    for (const e of events) view = evolveDossier(view, e);
    if (view === undefined) throw new Error(`stream ${stream} has no dossier event up to version ${version}`);
    return { view, events };
  }

  /** The stream's events up to `version`, read in pages. */
  private async readThrough(stream: string, version: number): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    for (let from = 1; from <= version;) {
      const limit = Math.min(READ_PAGE, version - from + 1);
      const page = await this.options.events.readStream(stream, { fromVersion: from, limit });
      events.push(...page.filter((e) => e.streamVersion <= version));
      const last = page.at(-1);
      if (last === undefined || page.length < limit) break;
      from = last.streamVersion + 1;
    }
    return events;
  }
}

interface DossierGroup {
  dossier: string;
  stream: string;
  first: StoredEvent;
  last: StoredEvent;
}

/** The batch's dossier events grouped by stream, in order of each dossier's first event. */
function groupByDossier(events: readonly StoredEvent[]): DossierGroup[] {
  const groups = new Map<string, DossierGroup>();
  for (const e of events) {
    if (!e.stream.startsWith(DOSSIER_STREAM_PREFIX) || !isDossierViewEvent(e)) continue;
    const group = groups.get(e.stream);
    if (group === undefined) {
      groups.set(e.stream, {
        dossier: e.stream.slice(DOSSIER_STREAM_PREFIX.length),
        stream: e.stream,
        first: e,
        last: e,
      });
    } else if (e.streamVersion > group.last.streamVersion) group.last = e;
  }
  return [...groups.values()];
}
