import type { CallOutcome, PendingCall as GroupCall } from '../group-calls.js';
import { WrongExpectedVersionError, type VersionConflict } from '../errors.js';
import { GENESIS_HASH } from '../hash.js';
import { ANY_VERSION, type AppendResult } from '../port.js';
import { hashPending, storedDuplicate, type PendingEvent } from '../records.js';
import type { HeadRow, StoredRow } from './sql.js';

/** One `append` call waiting in the queue. */
export type PendingCall = GroupCall<PendingEvent>;

/** A record a group will insert; `hash` and `prevHash` are empty until `chainRows`. */
export interface NewRow {
  position: number;
  stream: string;
  streamVersion: number;
  e: PendingEvent;
  recordedAt: string;
  hash: string;
  prevHash: string;
}

/** The last stored record, as the next one is chained to it; position 0 and the genesis hash when empty. */
export interface ChainHead {
  position: number;
  hash: string;
  recordedAt: string;
}

/** What a group's transaction decided: one outcome per call, the rows to insert, the head after them. */
export interface GroupDecision {
  outcomes: CallOutcome[];
  rows: NewRow[];
  /** The head the rows follow. */
  before: ChainHead;
  /** The head once the rows are stored; `before` until they are chained. */
  after: ChainHead;
  /** The version of every stream the group touches once the rows are stored. */
  versions: Map<string, number>;
}

/** The (source, id) pairs and the streams of a group, for the reads under the lock. */
export interface GroupKeys {
  sources: string[];
  ids: string[];
  streams: string[];
}

export function chainHeadOf(row: HeadRow | undefined): ChainHead {
  return row === undefined
    ? { position: 0, hash: GENESIS_HASH, recordedAt: '' }
    : { position: Number(row.position), hash: row.hash, recordedAt: row.recorded_at };
}

export function groupKeys(group: readonly PendingCall[]): GroupKeys {
  const sources: string[] = [];
  const ids: string[] = [];
  const streams = new Set<string>();
  for (const call of group) {
    for (const e of call.events) {
      sources.push(e.source);
      ids.push(e.id);
      streams.add(e.stream);
    }
  }
  return { sources, ids, streams: [...streams] };
}

/**
 * Decides every call of the group against the head, the stream versions and the stored (source, id)
 * pairs the group touches: as read under the lock, or as expected by an optimistic send. The stored
 * pairs are the ones found; none when they were not looked up, and the INSERT's unique index then
 * stands guard.
 */
export function decideGroup(
  group: readonly PendingCall[],
  head: ChainHead,
  versionOf: (stream: string) => number,
  storedRows: readonly StoredRow[],
): GroupDecision {
  let position = head.position;
  const now = new Date().toISOString();
  // Never earlier than the head, so recordedAt is monotonic along positions even if the clock steps back.
  const recordedAt = head.recordedAt > now ? head.recordedAt : now;
  const stored = new Map<string, AppendResult>();
  for (const r of storedRows) {
    stored.set(key(r.source, r.id), storedDuplicate(r));
  }
  const versions = new Map<string, number>();
  for (const call of group) {
    for (const e of call.events) if (!versions.has(e.stream)) versions.set(e.stream, versionOf(e.stream));
  }

  const rows: NewRow[] = [];
  const outcomes = group.map((call): CallOutcome => {
    const callVersions = new Map<string, number>();
    const callStored = new Map<string, AppendResult>();
    const callRows: NewRow[] = [];
    const results: AppendResult[] = [];
    const conflicts: VersionConflict[] = [];
    let callPosition = position;
    call.events.forEach((e, index) => {
      const current = callVersions.get(e.stream) ?? versions.get(e.stream) ?? 0;
      // A stored (source, id) is a duplicate whatever its expected version.
      const k = key(e.source, e.id);
      const existing = callStored.get(k) ?? stored.get(k);
      if (existing) {
        results.push({ ...existing, duplicate: true });
        return;
      }
      if (e.expectedVersion !== ANY_VERSION && e.expectedVersion !== current) {
        conflicts.push({ index, stream: e.stream, expected: e.expectedVersion, actual: current });
        return;
      }
      const streamVersion = current + 1;
      callVersions.set(e.stream, streamVersion);
      // The call is already lost: keep counting versions so later conflicts report what it would have made.
      if (conflicts.length > 0) return;
      callPosition += 1;
      // Chained later (see chainRows), once the group's rows are final.
      callRows.push({
        position: callPosition,
        stream: e.stream,
        streamVersion,
        e,
        recordedAt,
        hash: '',
        prevHash: '',
      });
      const result: AppendResult = {
        id: e.id,
        source: e.source,
        stream: e.stream,
        streamVersion,
        position: callPosition,
        duplicate: false,
      };
      callStored.set(k, result);
      results.push(result);
    });
    if (conflicts.length > 0) return { ok: false, error: new WrongExpectedVersionError(conflicts) };
    position = callPosition;
    for (const [s, v] of callVersions) versions.set(s, v);
    for (const [k, r] of callStored) stored.set(k, r);
    rows.push(...callRows);
    return { ok: true, results };
  });
  return { outcomes, rows, before: head, after: head, versions };
}

/**
 * Chains the rows [from, to) of a decided group, in order (rows before `from` are chained already),
 * and once the last row is chained makes it the group's `after` head.
 */
export function chainRows(decision: GroupDecision, from: number, to: number): void {
  const { rows } = decision;
  let hash = from === 0 ? decision.before.hash : rows[from - 1]!.hash;
  for (let i = from; i < to; i++) {
    const r = rows[i]!;
    r.prevHash = hash;
    hash = r.hash = hashPending(hash, r.e, r.position, r.streamVersion, r.recordedAt);
  }
  const last = rows[to - 1];
  if (to === rows.length && last)
    decision.after = { position: last.position, hash, recordedAt: last.recordedAt };
}

function key(source: string, id: string): string {
  return `${source.length}:${source}${id}`;
}
