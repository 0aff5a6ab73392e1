import { WrongExpectedVersionError } from './errors.js';
import type { AppendResult, CommitGroup, EventToAppend } from './port.js';

/**
 * The append calls an adapter commits together (group commit, SQLite and PostgreSQL): each call's
 * events, and how its promise is settled once the group is decided.
 */
export interface PendingCall<E> {
  events: E[];
  resolve(results: AppendResult[]): void;
  reject(error: unknown): void;
  /** See {@link AppendOptions.onCommitted}. */
  onCommitted?: ((group: CommitGroup) => void) | undefined;
}

/** What a group decided for one call: its results, or the error it is refused with. */
export type CallOutcome = { ok: true; results: AppendResult[] } | { ok: false; error: unknown };

/** Counters since a store was opened; `commits` < `appendCalls` shows group commit at work. */
export interface GroupCommitStats {
  /** Write transactions committed. */
  commits: number;
  /** Append calls settled (resolved or rejected). */
  appendCalls: number;
  /** Events newly stored. */
  eventsAppended: number;
  /** Events found already stored by (source, id). */
  duplicates: number;
  /** Append calls rejected with WrongExpectedVersionError. */
  conflicts: number;
  /** Groups that failed as a whole (BEGIN or COMMIT failed); every call in them was rejected. */
  failedGroups: number;
  /** Most calls committed in one transaction. */
  largestGroup: number;
}

/** Every counter at zero. */
export const noGroupCommits = (): GroupCommitStats => ({
  commits: 0,
  appendCalls: 0,
  eventsAppended: 0,
  duplicates: 0,
  conflicts: 0,
  failedGroups: 0,
  largestGroup: 0,
});

/** The counters a group's outcomes move. */
type OutcomeCounters = Pick<GroupCommitStats, 'duplicates' | 'eventsAppended' | 'conflicts'>;

/** Settles each call of a committed group with its outcome, counting appends, duplicates and conflicts. */
export function settleCalls<E>(
  group: readonly PendingCall<E>[],
  outcomes: readonly (CallOutcome | undefined)[],
  counters: OutcomeCounters,
): void {
  let joined: CommitGroup | undefined;
  group.forEach((call, i) => {
    const outcome = outcomes[i];
    if (outcome === undefined) return;
    if (outcome.ok) {
      if (call.onCommitted !== undefined) {
        joined ??= { calls: group.length, events: group.reduce((n, c) => n + c.events.length, 0) };
        call.onCommitted(joined);
      }
      for (const r of outcome.results) {
        if (r.duplicate) counters.duplicates += 1;
        else counters.eventsAppended += 1;
      }
      call.resolve(outcome.results);
    } else {
      if (outcome.error instanceof WrongExpectedVersionError) counters.conflicts += 1;
      call.reject(outcome.error);
    }
  });
}

/**
 * The start every adapter's `append` shares: the events validated and snapshotted by `prepare` (its
 * refusal answered as a rejected promise, never thrown), nothing to do for none, else `commit`.
 */
export function appendPrepared<P>(
  events: readonly EventToAppend[],
  prepare: (events: readonly EventToAppend[]) => P[],
  commit: (prepared: P[]) => Promise<AppendResult[]>,
): Promise<AppendResult[]> {
  let prepared: P[];
  try {
    prepared = prepare(events);
  } catch (err) {
    return Promise.reject(err);
  }
  if (prepared.length === 0) return Promise.resolve([]);
  return commit(prepared);
}
