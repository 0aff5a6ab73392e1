import type { EventStore, StoredEvent } from '#lgsp/event-store';
import {
  DOSSIER_STREAM_PREFIX,
  DOSSIER_VIEW_EVENT_TYPES,
  evolveDossier,
  isDossierViewEvent,
  readDossierState,
  type DossierState,
  type DossierView,
} from '#lgsp/projections';
import { EventConversionError } from '#lgsp/contracts';
import { traceparentOf, type Page, type Subscriber } from '#lgsp/subscriptions';
import { silentLogger, tracing, type Logger } from '#lgsp/observability';
import { systemClock, type Clock } from './clock.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import { isPersonErased, PERSON_ERASED } from './erasure.js';
import { mappingError } from './errors.js';
import type { DeliveredPosition, ParkingStore } from './parking/parking-store.js';
import type { TokenBucket } from './rate-limiter.js';
import { currentReplay, withReplay } from './replay-context.js';
import type { ConnectorRetryPolicy } from './retry.js';
import { TargetGate, type GateResult, type TargetGateListener } from './target-gate.js';

// A dossier's state as of one event is what a connector turns into calls to its target.
export { DOSSIER_STREAM_PREFIX, type DossierState } from '#lgsp/projections';

/** Settings every outbound connector shares (see {@link TargetGate}). */
export interface DossierSyncSettings {
  /** Where the dossiers' streams are read from. */
  events: Pick<EventStore, 'readStream' | 'streamVersion'>;
  /** The parking of every connector; this one's pairs are under its target. */
  parking: ParkingStore;
  breaker: CircuitBreaker;
  limiter?: TokenBucket;
  retry?: Partial<ConnectorRetryPolicy>;
  listener?: TargetGateListener;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
  /** Dossiers of one batch sent at the same time (one dossier's events are never concurrent). @defaultValue 8 */
  concurrency?: number;
  /** @defaultValue 100 */
  batchSize?: number;
  /**
   * Told of a dossier event that cannot be read at the newest version (metrics); the dossier parks for
   * the target as for any data error.
   */
  onUnreadable?: (target: string, error: EventConversionError) => void;
}

export interface DossierSyncConnectorOptions extends DossierSyncSettings {
  /** The subscriber's name, e.g. `connector.portal`; its checkpoint is kept under it. */
  name: string;
  /** The target's name in parkings, metrics and logs, e.g. `portal`. */
  target: string;
  /**
   * Events that call for a delivery; a dossier with none in a batch is not read nor sent.
   * @defaultValue every dossier event, `person.erased` included (the dossier is sent again, its
   *   erased fields reading `[erased]`)
   */
  wants?: (event: StoredEvent) => boolean;
  /**
   * Makes the target hold `state`. Must be harmless when repeated (the same state sent twice changes
   * nothing) and throw ConnectorErrors for the target's failures (see TargetGate).
   */
  send: (state: DossierState, signal?: AbortSignal) => Promise<void>;
}

/** What happened to each dossier of a batch, for tests and metrics. */
export interface DossierSyncOutcome {
  dossier: string;
  /** Positions of the dossier's events in the batch. */
  firstPosition: number;
  lastPosition: number;
  status: GateResult<unknown>['status'];
}

/**
 * An outbound sync to one target, a subscriber of the global log with its own checkpoint.
 *
 * For each batch the events are grouped by dossier, in order. Each dossier's state as of its last
 * event in the batch (its stream folded with `evolveDossier` up to that version) is handed to `send`
 * through the target's {@link TargetGate}. Sending a state again is harmless, so redelivery of a batch
 * changes nothing in the target.
 *
 * A `person.erased` event in a dossier's stream is a dossier event too: the state sent for it is read
 * after the erasure, so its personal fields are `[erased]` and the target's copy is overwritten (each
 * connector's mapping turns an erased value into what its target accepts). A connector whose `wants`
 * refuses it ignores it.
 *
 * A dossier that parks (data refused, or still failing after the gate's attempts) holds its later
 * events behind the parking; other dossiers flow. `handle` throws only for the hub's own failures
 * (e.g. the event store unreadable), which retries the batch; the target's failures never block it.
 */
export class DossierSyncConnector implements Subscriber {
  readonly name: string;
  readonly target: string;
  /** The dossier view's events, and `person.erased` (see {@link DossierSyncConnectorOptions.wants}). */
  readonly filter = { types: [...DOSSIER_VIEW_EVENT_TYPES, PERSON_ERASED] };
  readonly batchSize: number;
  readonly gate: TargetGate;
  private readonly concurrency: number;
  private readonly logger: Logger;
  /** True for an event that calls for a delivery (see {@link DossierSyncConnectorOptions.wants}). */
  readonly wants: (event: StoredEvent) => boolean;
  /** Positions the target took, written once per batch (see {@link recordDelivered}). */
  private unrecorded: DeliveredPosition[] = [];

  constructor(private readonly options: DossierSyncConnectorOptions) {
    this.name = options.name;
    this.target = options.target;
    this.batchSize = options.batchSize ?? 100;
    this.concurrency = Math.max(1, options.concurrency ?? 8);
    this.logger = options.logger ?? silentLogger;
    this.wants = options.wants ?? (() => true);
    this.gate = new TargetGate({
      target: options.target,
      breaker: options.breaker,
      parking: options.parking,
      ...(options.limiter === undefined ? {} : { limiter: options.limiter }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      ...(options.listener === undefined ? {} : { listener: options.listener }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.random === undefined ? {} : { random: options.random }),
    });
  }

  /** Delivers the batch; on shutdown (`page.signal`) the dossiers not sent yet are handed back. */
  async handle(events: readonly StoredEvent[], page?: Page): Promise<void> {
    await this.deliver(events, page?.signal);
  }

  /** Delivers one batch and tells what became of each dossier. */
  async deliver(events: readonly StoredEvent[], signal?: AbortSignal): Promise<DossierSyncOutcome[]> {
    const groups = groupByDossier(events, this.wants);
    const outcomes: DossierSyncOutcome[] = [];
    let next = 0;
    const worker = async () => {
      while (next < groups.length) {
        signal?.throwIfAborted();
        const group = groups[next++]!;
        outcomes.push(await this.deliverDossier(group, signal));
      }
    };
    // Every worker finishes before a failure is thrown, so no delivery of a failed batch runs on.
    const settled = await Promise.allSettled(
      Array.from({ length: Math.min(this.concurrency, groups.length) }, worker),
    );
    await this.recordDelivered();
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return outcomes.sort((a, b) => a.firstPosition - b.firstPosition);
  }

  /**
   * Sends a dossier's current state again, e.g. once an operator has retried its parking (the events
   * held behind a parking are not delivered by the log, which has moved on). A no-op for a stream with
   * no dossier event.
   */
  async redeliver(dossier: string, signal?: AbortSignal): Promise<DossierSyncOutcome | undefined> {
    try {
      return await this.resend(dossier, signal);
    } finally {
      await this.recordDelivered();
    }
  }

  /** {@link redeliver} without writing the position the target took (the caller writes it). */
  private async resend(dossier: string, signal?: AbortSignal): Promise<DossierSyncOutcome | undefined> {
    const state = await this.stateOf(dossier);
    const last = state?.events.at(-1);
    if (state === undefined || last === undefined) return undefined;
    // Sent again long after: the span links to the requests that made the dossier's events.
    const links = [...new Set(state.events.map(traceparentOf))];
    return this.deliverDossier(
      { dossier, stream: last.stream, first: last, last, events: [], state },
      signal,
      links,
    );
  }

  /**
   * An operator's replay of one dossier to this target: its current state sent again through the gate
   * (a parked dossier stays held), every call marked with the replay's id ({@link withReplay}).
   */
  async replay(
    dossier: string,
    replayId: string,
    signal?: AbortSignal,
  ): Promise<DossierSyncOutcome | undefined> {
    return withReplay(replayId, () => this.redeliver(dossier, signal));
  }

  /**
   * {@link replay} of several dossiers, up to the connector's concurrency at once (each dossier's calls
   * stay in order), with one outcome per dossier in the order given.
   */
  async replayMany(
    dossiers: readonly string[],
    replayId: string,
    signal?: AbortSignal,
  ): Promise<(DossierSyncOutcome | undefined)[]> {
    return withReplay(replayId, async () => {
      const outcomes = new Array<DossierSyncOutcome | undefined>(dossiers.length);
      let next = 0;
      const worker = async () => {
        while (next < dossiers.length) {
          const i = next++;
          outcomes[i] = await this.resend(dossiers[i]!, signal);
        }
      };
      // Every worker finishes before a failure is thrown, so nothing of the batch runs on after it; the
      // positions the target took are written once for the batch.
      const settled = await Promise.allSettled(
        Array.from({ length: Math.min(this.concurrency, dossiers.length) }, worker),
      );
      await this.recordDelivered();
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      return outcomes;
    });
  }

  /** The dossier's state as of its stream version `version` (its whole state when omitted). */
  async stateOf(dossier: string, version = Number.MAX_SAFE_INTEGER): Promise<DossierState | undefined> {
    return readDossierState(this.options.events, dossier, { throughVersion: version });
  }

  /**
   * Writes the positions the target took since the last write, in one transaction (a batch's worth):
   * the dossiers' sync state. A failed write throws, so the batch is delivered (and recorded) again.
   */
  private async recordDelivered(): Promise<void> {
    const batch = this.unrecorded.splice(0);
    if (batch.length > 0) await this.options.parking.delivered(batch);
  }

  /** {@link syncDossier} in its span: a child of the stored trace live, linked to it when sent again. */
  private async deliverDossier(
    group: DossierGroup,
    signal?: AbortSignal,
    links?: readonly (string | undefined)[],
  ): Promise<DossierSyncOutcome> {
    const { dossier, first, last } = group;
    const replay = currentReplay();
    // Live, the sync joins the trace of the request that stored its last event; sent again (a replay, a
    // retried parking), it is part of the operator's action and links to the original requests.
    return tracing().span(
      `${this.target} sync`,
      {
        kind: links === undefined ? 'consumer' : 'internal',
        parent: links === undefined ? traceparentOf(last) : undefined,
        links: links ?? [],
        attributes: {
          'lgsp.target': this.target,
          'lgsp.dossier.code': dossier,
          'lgsp.position.first': first.position,
          'lgsp.position.last': last.position,
          'lgsp.replay.id': replay,
        },
      },
      async (span) => {
        const outcome = await this.syncDossier(group, signal);
        span.setAttribute('lgsp.sync.status', outcome.status);
        return outcome;
      },
    );
  }

  /**
   * Sends a dossier's state as of `last` through the gate, noting the position the target took (see
   * {@link recordDelivered}); parks or holds it on failure.
   */
  private async syncDossier(group: DossierGroup, signal?: AbortSignal): Promise<DossierSyncOutcome> {
    const { dossier, first, last } = group;
    let state: DossierState | undefined;
    const result = await this.gate.run(
      { dossier, position: first.position },
      async () => {
        try {
          state ??=
            group.state ?? foldedFromBatch(group) ?? (await this.stateOf(dossier, last.streamVersion));
          if (state === undefined) {
            throw new Error(
              `stream ${group.stream} has no dossier event up to version ${last.streamVersion}`,
            );
          }
          await this.options.send(state, signal);
        } catch (err) {
          // An event the connectors cannot read at the newest version is the dossier's data error: parked.
          if (!(err instanceof EventConversionError)) throw err;
          this.options.onUnreadable?.(this.target, err);
          throw mappingError(this.target, err.message, err);
        }
      },
      signal,
    );
    if (result.status === 'delivered') {
      // The dossier's state as of `last` is what the target holds now (GET /v1/dossiers/{code} shows it).
      this.unrecorded.push({
        target: this.target,
        dossier,
        position: last.position,
        at: new Date((this.options.clock ?? systemClock).now()).toISOString(),
      });
    } else {
      // The whole of the dossier's events in the batch wait behind the parking, not only the first.
      await this.options.parking.hold(this.target, dossier, last.position);
      this.logger.warn(
        {
          target: this.target,
          dossier,
          position: first.position,
          lastPosition: last.position,
          held: result.attempts === 0,
          ...(result.error === undefined ? {} : { code: result.error.code, kind: result.error.kind }),
        },
        result.attempts === 0 ? `${this.target} sync held behind a parking` : `${this.target} sync parked`,
      );
    }
    return { dossier, firstPosition: first.position, lastPosition: last.position, status: result.status };
  }
}

interface DossierGroup {
  dossier: string;
  stream: string;
  first: StoredEvent;
  last: StoredEvent;
  /** The dossier's events in the batch (the view's and `person.erased`), in order; empty for a redelivery. */
  events: StoredEvent[];
  /** The state to send, read already (a redelivery reads the whole stream once). */
  state?: DossierState;
}

/**
 * The dossier's state folded from the batch alone, when the batch holds its whole stream through `last`:
 * events from stream version 1 with no gap (a dossier whose lifecycle came in one batch, as in a catch-up
 * after an outage). Saves reading the stream again; undefined otherwise, and when the batch erases a
 * person (the state sent must be read after the erasure, its fields `[erased]`).
 */
function foldedFromBatch(group: DossierGroup): DossierState | undefined {
  const { events } = group;
  if (events[0]?.streamVersion !== 1) return undefined;
  let view: DossierView | undefined;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (i > 0 && e.streamVersion !== events[i - 1]!.streamVersion + 1) return undefined;
    if (!isDossierViewEvent(e)) return undefined;
    view = evolveDossier(view, e);
  }
  return view === undefined ? undefined : { dossier: group.dossier, view, events: [...events] };
}

/**
 * The batch's dossier events grouped by stream, in order of each dossier's first event. A dossier is
 * kept when one of its events is wanted; its group then spans all its events of the batch.
 */
function groupByDossier(
  events: readonly StoredEvent[],
  wants: (event: StoredEvent) => boolean,
): DossierGroup[] {
  const groups = new Map<string, DossierGroup & { wanted: boolean }>();
  for (const e of events) {
    if (!e.stream.startsWith(DOSSIER_STREAM_PREFIX) || !(isDossierViewEvent(e) || isPersonErased(e)))
      continue;
    const group = groups.get(e.stream);
    if (group === undefined) {
      groups.set(e.stream, {
        dossier: e.stream.slice(DOSSIER_STREAM_PREFIX.length),
        stream: e.stream,
        first: e,
        last: e,
        events: [e],
        wanted: wants(e),
      });
    } else {
      group.events.push(e);
      if (e.streamVersion > group.last.streamVersion) group.last = e;
      if (!group.wanted) group.wanted = wants(e);
    }
  }
  return [...groups.values()].filter((g) => g.wanted).map(({ wanted: _wanted, ...g }) => g);
}
