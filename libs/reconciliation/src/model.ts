/**
 * Reconciliation: which dossiers disagree between the hub's log and one external system, and how.
 * A run reads the system's state (bulk export or look-up), compares it with the state the log implies
 * (the connectors' own mapping of the projected dossier), after normalisation (NFC, time zones and date
 * formats, code mappings), and records one mismatch per differing field.
 */

import type { Clock } from '#lgsp/observability';

/** The systems a run can cover: the connectors' targets. */
export const RECONCILIATION_TARGETS = ['portal', 'one-stop-shop', 'civil-registry', 'payments'] as const;
export type ReconciliationTarget = (typeof RECONCILIATION_TARGETS)[number];

/** Which dossiers a run covers; every given criterion must hold (an empty scope is every dossier). */
export interface ReconciliationScope {
  provinceCode?: string;
  communeCode?: string;
  /** RFC 3339: dossiers whose last event was recorded at or after this instant. */
  from?: string;
  /** RFC 3339: … and before this instant. */
  to?: string;
  /** Exactly these dossier codes. */
  dossiers?: string[];
}

export const MISMATCH_CATEGORIES = [
  /** The log has the dossier (or payment), the system does not. */
  'missing-in-target',
  /** The system holds an earlier status of the dossier than the log's last. */
  'stale-status',
  /** A field differs (after normalisation) from what the log implies. */
  'wrong-field',
  /** The system holds a record, in scope, that the log does not imply. */
  'unexpected-extra',
  /** A birth dossier sent to the civil registry has no registration there. */
  'missing-civil-record',
  /**
   * The hub erased a person's data (its key destroyed) and the system still holds something else in a
   * field filled from it; what it holds is not recorded ({@link NOT_ERASED_VALUE}). A replay of the
   * dossier to the system sends it again, erased.
   */
  'not-erased-in-target',
] as const;
export type MismatchCategory = (typeof MISMATCH_CATEGORIES)[number];

/**
 * The `actual` of a `not-erased-in-target` mismatch: the system's value is personal data the hub erased,
 * so a finding never copies it.
 */
export const NOT_ERASED_VALUE = '[not erased: value withheld]';

/** One disagreement. `expected`/`actual` are JSON values as the system's fields hold them (null: absent). */
export interface Mismatch {
  dossier: string;
  /** The target system, e.g. `portal`. */
  system: ReconciliationTarget;
  /** The system's field name (e.g. `TrangThaiHoSo`, `ho_ten_nguoi_nop`); `*` for a whole record. */
  field: string;
  expected: unknown;
  actual: unknown;
  category: MismatchCategory;
  /** RFC 3339. */
  detectedAt: string;
  /** An `unexpected-extra` an operator captured or acknowledged (no replay can fix one). */
  resolution?: ExtraResolution;
}

/** The two things an operator can do about an `unexpected-extra` finding. */
export type ExtraAction = 'captured' | 'acknowledged';

/**
 * What an operator did about a record only the system holds: `captured` it into the log as an event
 * from that system (it happened there), or `acknowledged` it with a note (later runs inherit the
 * acknowledgement and do not count the record as open again).
 */
export interface ExtraResolution {
  action: ExtraAction;
  /** The operator (client name). */
  by: string;
  /** RFC 3339. */
  at: string;
  note?: string;
  /** `captured`: the log position of the event appended (the last, when the record was told as several). */
  position?: number;
  /** Inherited: the run in which the record was acknowledged. */
  fromRun?: string;
}

export type ReconciliationState = 'running' | 'completed' | 'failed';

export interface ReconciliationProgress {
  /** Dossiers of the scope in the log. */
  expected: number;
  /** Records read from the system so far. */
  scanned: number;
  /** Dossiers compared so far. */
  compared: number;
}

export interface ReconciliationRun {
  id: string;
  target: ReconciliationTarget;
  scope: ReconciliationScope;
  state: ReconciliationState;
  /** The operator (client name) who started it. */
  by: string;
  /** RFC 3339. */
  startedAt: string;
  finishedAt?: string;
  /** The log position the expected state was read up to. */
  logPosition?: number;
  progress: ReconciliationProgress;
  /** Mismatches found, in all and per category (complete once `completed`). */
  mismatches: {
    total: number;
    dossiers: number;
    byCategory: Partial<Record<MismatchCategory, number>>;
    /** `unexpected-extra` findings captured or acknowledged (in this run, or inherited); absent: 0. */
    resolved?: number;
  };
  /** Why a `failed` run failed (no personal data). */
  error?: string;
}

export interface ListQuery {
  limit: number;
  /** Only items after this cursor (the last item's id / seq of the previous page). */
  after?: string;
}

/** Runs and their mismatches, kept in the hub's store (events database or PostgreSQL schema). */
export interface ReconciliationStore {
  create(run: ReconciliationRun): Promise<void>;
  /** Replaces the run's mutable fields (state, progress, mismatch counts, finishedAt, error, logPosition). */
  update(run: ReconciliationRun): Promise<void>;
  /** Appends mismatches of a run (in batches while it runs). */
  addMismatches(runId: string, mismatches: readonly Mismatch[]): Promise<void>;
  get(id: string): Promise<ReconciliationRun | undefined>;
  /** Newest first. */
  list(query: ListQuery): Promise<ReconciliationRun[]>;
  /** A run's mismatches in the order they were added; `after` is the `seq` of the last one seen. */
  mismatches(
    runId: string,
    query: { limit: number; after?: number; category?: MismatchCategory },
  ): Promise<(Mismatch & { seq: number })[]>;
  /** One mismatch of a run by its `seq`. */
  mismatch(runId: string, seq: number): Promise<(Mismatch & { seq: number }) | undefined>;
  /**
   * Records the operator's resolution of a finding, once: false when it was resolved already. An
   * acknowledgement is also remembered for the (system, dossier) pair, for later runs.
   */
  resolve(runId: string, seq: number, resolution: ExtraResolution): Promise<boolean>;
  /** The acknowledgements remembered for these records of `system` (by dossier), with their run. */
  acknowledged(
    system: string,
    dossiers: readonly string[],
  ): Promise<Map<string, ExtraResolution & { fromRun: string }>>;
}

/** A dossier as the log implies it: its events (of the dossier view's types) and the folded view. */
export interface ExpectedDossier {
  dossier: string;
  /** DossierView of #lgsp/projections. */
  view: import('#lgsp/projections').DossierView;
  events: import('#lgsp/event-store').StoredEvent[];
}

export interface ReconcileContext {
  /** Records read from the system so far (cumulative). */
  scanned(count: number): void;
  /** Dossiers compared so far (cumulative). */
  compared(count: number): void;
  /** The run's clock, for the mismatches' `detectedAt`. */
  clock: Pick<Clock, 'now'>;
  signal?: AbortSignal;
}

/**
 * Compares one system with the log. Implementations read the system through its bulk export or
 * look-up API (the connectors' clients), map each expected dossier with the connector's own mapping,
 * normalise both sides (NFC, instants instead of formatted dates, codes) and yield mismatches in
 * batches as they are found.
 */
export interface TargetReconciler {
  readonly target: ReconciliationTarget;
  /**
   * The event that records what the system holds of a dossier the log never had (an
   * `unexpected-extra`), with the system as its `source`, for an operator's capture; undefined when
   * the system no longer holds it; several events, in the order they happened, when the record holds
   * more than one fact (a dossier and the status changes the system made). Absent for systems whose
   * records cannot be told as an event.
   * @throws ConnectorError when the system cannot be read; DomainError `invalid` when its record cannot
   *   become a valid event, `conflict` when it holds nothing the catalogue can tell (the reason names
   *   the field, never a citizen's data).
   */
  capture?(
    dossier: string,
    signal?: AbortSignal,
  ): Promise<
    import('#lgsp/contracts').CloudEvent | readonly import('#lgsp/contracts').CloudEvent[] | undefined
  >;
  reconcile(
    expected: ReadonlyMap<string, ExpectedDossier>,
    scope: ReconciliationScope,
    context: ReconcileContext,
  ): AsyncIterable<Mismatch[]>;
}
