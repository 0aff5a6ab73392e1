import pg from 'pg';
import type { GroupDecision, PendingCall } from './group-decision.js';
import { SOURCE_ID_CONSTRAINT } from './sql.js';

/** An optimistic group's transaction, sent on the writer connection; `result` is set once `answer` settles. */
export interface InFlightCommit {
  client: pg.Client;
  group: PendingCall[];
  decision: GroupDecision;
  answer: Promise<InFlightResult>;
  result: InFlightResult | undefined;
}

/**
 * committed; redo: certainly not committed (the server answered), run the group on the locked path,
 * `duplicate` when a stored (source, id) was met, `stale` when a stored position or stream version
 * was (the guess was wrong); unknown: the connection failed, the transaction may have committed.
 */
export type InFlightResult =
  | { kind: 'committed' }
  | { kind: 'redo'; duplicate: boolean; stale: boolean }
  | { kind: 'unknown'; error: unknown };

/** Reads the answers to an optimistic transaction's BEGIN, lock, INSERTs and COMMIT. */
export function readInFlightResult(settled: readonly PromiseSettledResult<pg.QueryResult>[]): InFlightResult {
  const inserts = settled.slice(2, -1);
  const commit = settled.at(-1)!;
  if (commit.status === 'fulfilled' && inserts.every((r) => r.status === 'fulfilled')) {
    if (
      commit.value.command === 'COMMIT' &&
      inserts.every((r) => r.status === 'fulfilled' && r.value.rowCount === 1)
    )
      return { kind: 'committed' };
    // The record to follow is not stored (an earlier group failed), or the transaction rolled back.
    return { kind: 'redo', duplicate: false, stale: false };
  }
  const refused = (r: PromiseSettledResult<pg.QueryResult>): r is PromiseRejectedResult =>
    r.status === 'rejected' && isDatabaseError(r.reason);
  if (!refused(commit) && !inserts.some(refused)) {
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    return { kind: 'unknown', error: failed?.reason };
  }
  const error = inserts.find(refused)?.reason as pg.DatabaseError | undefined;
  const collision = error?.code === '23505';
  return {
    kind: 'redo',
    duplicate: collision && error.constraint === SOURCE_ID_CONSTRAINT,
    stale: collision && error.constraint !== SOURCE_ID_CONSTRAINT,
  };
}

/** A failed locked transaction, rolled back; `committing` when COMMIT had been sent (outcome unknown). */
export class LockedAttemptFailed extends Error {
  constructor(
    override readonly cause: unknown,
    readonly committing: boolean,
    readonly duplicate: boolean,
  ) {
    super('append transaction failed', { cause });
  }
}

export function isDatabaseError(err: unknown): err is pg.DatabaseError {
  return err instanceof pg.DatabaseError;
}
