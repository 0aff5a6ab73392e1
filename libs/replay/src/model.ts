import type { StoredEvent } from '#lgsp/event-store';

/**
 * Replay: send again, to ONE target, what the log says — previewed first as a plan (a dry run with no
 * side effect on any system), then run in chunks at the target's rate, pausable, resumable after a
 * restart, and audited. Replayed deliveries carry a replay marker so downstream systems know.
 */

/**
 * What a replay is sent to: a connector target (`portal`, `one-stop-shop`, `civil-registry`,
 * `payments`), which receives each dossier's current state again, or a Kafka consumer
 * (`kafka:<consumer name>`), which receives the selected events again on its own replay topic.
 */
export type ReplayTargetName = string;

/** Which events/dossiers a replay covers; every given criterion must hold. */
export interface ReplayScope {
  dossiers?: string[];
  /** RFC 3339 window on the events' recording time. */
  from?: string;
  to?: string;
  /** Event types (full CloudEvents types). */
  types?: string[];
  provinceCode?: string;
  communeCode?: string;
  /** The dossiers with mismatches in this reconciliation run (its target must be the replay's). */
  reconciliationRun?: string;
}

export interface EventRef {
  position: number;
  /** RFC 3339 recording time. */
  recordedAt: string;
  type: string;
  dossier: string;
}

/** The dry run: exactly what would be sent where, and how long it would take. */
export interface ReplayPlan {
  target: ReplayTargetName;
  scope: ReplayScope;
  /** What is sent per item: a dossier's state (connector) or an event (Kafka). */
  unit: 'dossier' | 'event';
  /** Dossiers concerned, in the order they would be sent (log order of their last selected event). */
  dossiers: string[];
  /** Events selected by the scope. */
  events: number;
  firstEvent?: EventRef;
  lastEvent?: EventRef;
  /** Calls the target would receive (estimate for connectors: per dossier as the connector sends). */
  calls: number;
  /** The target's rate limit used for the estimate. */
  ratePerSecond: number;
  estimatedSeconds: number;
  /** True when the plan is larger than `replay.confirmAbove` items: running it needs `confirm: true`. */
  confirmationRequired: boolean;
  /** The log position the plan was computed at. */
  logPosition: number;
  /**
   * Findings of the plan's reconciliation run that a replay cannot fix: records the target holds and
   * the log never had (`unexpected-extra`), still open. They are left out of the plan; an operator
   * captures each into the log or acknowledges it (`POST /v1/admin/reconciliations/{id}/mismatches/{seq}/capture|acknowledge`).
   */
  cannotFix?: { category: 'unexpected-extra'; dossiers: string[]; advice: string };
  /** What a replay to this target causes beyond it (see {@link ReplayTarget.effects}). */
  effects?: string;
}

export const REPLAY_STATES = ['running', 'paused', 'completed', 'cancelled', 'failed'] as const;
export type ReplayState = (typeof REPLAY_STATES)[number];
export type ReplayCommand = 'pause' | 'resume' | 'cancel' | 'complete' | 'fail';

/** The explicit state machine: state → command → next state. Anything else is refused (409). */
export const REPLAY_TRANSITIONS: Readonly<Record<ReplayState, Partial<Record<ReplayCommand, ReplayState>>>> =
  {
    running: { pause: 'paused', cancel: 'cancelled', complete: 'completed', fail: 'failed' },
    paused: { resume: 'running', cancel: 'cancelled' },
    completed: {},
    cancelled: {},
    failed: { resume: 'running', cancel: 'cancelled' },
  };

export interface ReplayRun {
  id: string;
  target: ReplayTargetName;
  scope: ReplayScope;
  unit: 'dossier' | 'event';
  state: ReplayState;
  by: string;
  /** RFC 3339. */
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  /** Items (dossiers or events) in all. */
  total: number;
  /** Items done (sent, or held behind a parking), in order: the next item is `items[done]`. */
  done: number;
  /** Items the target refused or that parked during the replay. */
  failed: number;
  /** Items per chunk; the cursor is saved after each chunk. */
  chunkSize: number;
  ratePerSecond: number;
  /** Why a `failed` run stopped. */
  error?: string;
}

/** A run's progress as shown to operators. */
export interface ReplayProgress extends ReplayRun {
  /** Items per second over the last minute of running. */
  rate: number;
  /** Seconds left at that rate (at the configured rate before any measure); null when not running. */
  etaSeconds: number | null;
}

/** Runs, their item lists and cursors, in the hub's store: a restart resumes `running` runs. */
export interface ReplayStore {
  /** Stores the run and its items (dossier codes or event positions as strings), in order. */
  create(run: ReplayRun, items: readonly string[]): Promise<void>;
  get(id: string): Promise<ReplayRun | undefined>;
  /** Newest first. */
  list(query: { limit: number; after?: string }): Promise<ReplayRun[]>;
  /** Items `from` … `from + limit − 1` of the run. */
  items(id: string, from: number, limit: number): Promise<string[]>;
  /** Saves progress after a chunk: only while the run is still `running` (a pause or cancel wins); returns the run as stored. */
  advance(id: string, done: number, failed: number, at: string): Promise<ReplayRun>;
  /**
   * Applies a command through {@link REPLAY_TRANSITIONS}, atomically.
   * @throws DomainError `conflict` when the command is not allowed in the run's state.
   */
  transition(id: string, command: ReplayCommand, at: string, error?: string): Promise<ReplayRun>;
  /** Runs in `running` state (resumed at start-up). */
  running(): Promise<ReplayRun[]>;
}

/** What became of one item sent to a target: sent, held behind the target's parking, or refused. */
export type ReplaySendResult = 'sent' | 'held' | 'failed';

/**
 * One system a replay can be sent to. The executor calls only the run's own target, at the run's
 * rate: one item at a time, or in batches when the target can take them.
 */
export interface ReplayTarget {
  readonly name: ReplayTargetName;
  readonly unit: 'dossier' | 'event';
  /** Calls per second the target bears (its connector's rate limit): the plan's estimate uses it. */
  readonly ratePerSecond: number;
  /** Calls the target receives per item (an estimate for connectors, e.g. 2 for the portal). */
  readonly callsPerItem: number;
  /**
   * What sending to this target causes beyond it, for the plan to say: e.g. the civil registry issues
   * certificates again, whose events then flow live to the other systems.
   */
  readonly effects?: string;
  /**
   * The events this target may receive at all (a Kafka consumer sees only its own province's or
   * communes' events): the planner selects nothing else, whatever the scope. @defaultValue every event
   */
  accepts?(event: StoredEvent): boolean;
  /**
   * Sends `item` (a dossier code, or an event position) again, marked with `replayId`. Resolves with
   * the target's answer (a refusal is `failed`, not an error); rejects only for the hub's own failures
   * (or the signal's abort), which stop the run as `failed`.
   */
  send(item: string, replayId: string, signal?: AbortSignal): Promise<ReplaySendResult>;
  /**
   * Sends several items at once (at most {@link batchSize}, in the run's order), all marked with
   * `replayId`, and resolves with one result per item, in order. Optional: without it the executor
   * calls {@link send} item by item. Rejects like `send`; a rejected batch counts none of its items as
   * done (they are sent again when the run resumes).
   */
  sendBatch?(items: readonly string[], replayId: string, signal?: AbortSignal): Promise<ReplaySendResult[]>;
  /** Items per {@link sendBatch} call (the executor also never crosses a chunk). @defaultValue 1 */
  readonly batchSize?: number;
}

/** The dossiers with mismatches of a reconciliation run, and its target; undefined for an unknown run. */
export type ReconciliationLookup = (runId: string) => Promise<
  | {
      target: string;
      dossiers: readonly string[];
      /** Dossiers of its open `unexpected-extra` findings: only in the target, a replay cannot fix them. */
      extras?: readonly string[];
    }
  | undefined
>;
