import { DomainError } from '#lgsp/contracts';
import type { ConnectorErrorKind } from '../errors.js';

/** Why and how a (target, dossier) pair parked. */
export interface ParkRequest {
  /** One line an operator reads, e.g. "national-portal refused the request with 422: MaHoSo missing". */
  reason: string;
  kind: ConnectorErrorKind;
  /** Attempts made before parking (1 for a data error). */
  attempts: number;
  /** Log position of the event whose delivery failed; the first event held back. */
  firstPosition: number;
  /** The last error, as logged (no citizen data). */
  lastError: string;
  /** RFC 3339. */
  parkedAt: string;
}

/** A parked pair, as the operator API lists it. */
export interface ParkedItem extends ParkRequest {
  /** Increasing with each parking; the cursor of {@link ParkingStore.list}. */
  id: number;
  target: string;
  dossier: string;
  /** The highest log position held back behind this parking (≥ firstPosition). */
  lastPosition: number;
}

export type ParkingAction = 'parked' | 'retried' | 'skipped';

/** One line of a pair's parking history: who did what, when, to which events. */
export interface ParkingHistoryEntry {
  target: string;
  dossier: string;
  action: ParkingAction;
  /** RFC 3339. */
  at: string;
  /** `connector` for a parking, the operator for a retry or a skip. */
  by: string;
  /** The parking's reason for `parked`, the operator's note otherwise. */
  note?: string;
  kind: ConnectorErrorKind;
  attempts: number;
  lastError: string;
  /** The events concerned: positions fromPosition…throughPosition of the dossier. */
  fromPosition: number;
  throughPosition: number;
}

/** Who resolves a parking, when, and why. */
export interface ParkingResolution {
  /** The operator (client name), recorded in the history. */
  by: string;
  /** RFC 3339. */
  at: string;
  note?: string;
}

export interface SkipResolution extends ParkingResolution {
  /** Last position dropped; default the parking's `lastPosition`. Not below `firstPosition`. */
  throughPosition?: number;
}

export interface ListParkedQuery {
  target?: string;
  /** At most this many items. */
  limit: number;
  /** Only items with a greater `id` (the last id of the previous page). */
  after?: number;
}

/** The last delivery of a dossier to one target: the highest log position the target has taken. */
export interface DeliveredPosition {
  target: string;
  dossier: string;
  position: number;
  /** RFC 3339. */
  at: string;
}

/** A dossier's state at one target: what it last took, and whether the dossier waits behind a parking. */
export interface TargetSyncState {
  target: string;
  /** Null when the target has taken nothing of the dossier yet. */
  lastPosition: number | null;
  /** RFC 3339; null with `lastPosition`. */
  lastDeliveredAt: string | null;
  parked: boolean;
  parkedReason?: string;
}

/** The pair is not parked: nothing to retry or skip. */
export class NotParkedError extends DomainError {
  constructor(target: string, dossier: string) {
    super('not-found', `dossier ${dossier} is not parked for ${target}`);
    this.name = 'NotParkedError';
  }
}

/**
 * Where parked (target, dossier) pairs and their history live. A pair parks once: parking a parked
 * pair changes nothing and returns the parking as it is. Retry and skip resolve the parking and add a
 * history line naming who, when and which positions; a retry delivers the dossier again from
 * `firstPosition`, a skip drops the events `firstPosition…throughPosition` for that target.
 */
export interface ParkingStore {
  /** Parks the pair; returns the parking (the existing one when it was parked already). */
  park(target: string, dossier: string, request: ParkRequest): Promise<ParkedItem>;
  isParked(target: string, dossier: string): Promise<boolean>;
  /**
   * Holds the event at `position` behind the pair's parking, raising its `lastPosition`.
   * @returns false, holding nothing, when the pair is not parked.
   */
  hold(target: string, dossier: string, position: number): Promise<boolean>;
  get(target: string, dossier: string): Promise<ParkedItem | undefined>;
  /** Parked pairs in parking order. */
  list(query: ListParkedQuery): Promise<ParkedItem[]>;
  /** The number of parked dossiers of each target that has any (the metrics' parked gauges). */
  countByTarget(): Promise<Map<string, number>>;
  /**
   * Resolves the parking so the dossier is delivered again, from `firstPosition`.
   * @throws NotParkedError when the pair is not parked.
   */
  retry(target: string, dossier: string, resolution: ParkingResolution): Promise<ParkingHistoryEntry>;
  /**
   * Resolves the parking by dropping the events held for the target: `firstPosition` through
   * `throughPosition` (default: the parking's `lastPosition`). Later events flow.
   * @throws NotParkedError when the pair is not parked; InvalidSkipError when `throughPosition` is
   *   below `firstPosition`.
   */
  skip(target: string, dossier: string, resolution: SkipResolution): Promise<ParkingHistoryEntry>;
  /** Every parking, retry and skip of the pair, oldest first. */
  history(target: string, dossier: string): Promise<ParkingHistoryEntry[]>;
  /**
   * Records deliveries that targets took (a connector's send, a webhook's 2xx). A pair's position only
   * rises: an older delivery recorded late changes nothing.
   */
  delivered(deliveries: readonly DeliveredPosition[]): Promise<void>;
  /** The dossier's state at every target that took it or parked it, by target name. */
  syncOf(dossier: string): Promise<TargetSyncState[]>;
}

/** A skip that would drop nothing: its last position is before the first held event. */
export class InvalidSkipError extends DomainError {
  constructor(throughPosition: number, firstPosition: number) {
    super(
      'invalid',
      `cannot skip through position ${throughPosition}: the first held event is at ${firstPosition}`,
      [{ pointer: '/throughPosition', message: `must be at least ${firstPosition}` }],
    );
    this.name = 'InvalidSkipError';
  }
}

/** The history entry of a resolution, and the check every adapter makes before writing it. */
export function resolutionEntry(
  parked: ParkedItem,
  action: 'retried' | 'skipped',
  resolution: SkipResolution,
): ParkingHistoryEntry {
  const through =
    action === 'skipped' ? (resolution.throughPosition ?? parked.lastPosition) : parked.lastPosition;
  if (through < parked.firstPosition) throw new InvalidSkipError(through, parked.firstPosition);
  return {
    target: parked.target,
    dossier: parked.dossier,
    action,
    at: resolution.at,
    by: resolution.by,
    ...(resolution.note === undefined ? {} : { note: resolution.note }),
    kind: parked.kind,
    attempts: parked.attempts,
    lastError: parked.lastError,
    fromPosition: parked.firstPosition,
    throughPosition: through,
  };
}

/** The `by` of a parking made by the connector itself. */
export const PARKED_BY_CONNECTOR = 'connector';

/** The history entry of a new parking. */
export const parkedEntry = (parked: ParkedItem): ParkingHistoryEntry => ({
  target: parked.target,
  dossier: parked.dossier,
  action: 'parked',
  at: parked.parkedAt,
  by: PARKED_BY_CONNECTOR,
  note: parked.reason,
  kind: parked.kind,
  attempts: parked.attempts,
  lastError: parked.lastError,
  fromPosition: parked.firstPosition,
  throughPosition: parked.firstPosition,
});

/** The component name the parking tables are versioned under in `schema_version`. */
export const PARKING_COMPONENT = 'connectors.parking';
