/**
 * Verification of the hash chain: a walk over stored records in position order that names the first
 * position whose record was modified, is missing, or is out of order. Pure: the stores give it their
 * records (see {@link ChainSource}); `lgsp verify` runs it over a whole store, and the same walk can
 * start after a known record (a signed checkpoint).
 */
import { GENESIS_HASH, canonicalJson, recordHashOfJson } from './hash.js';
import type { StoredEvent } from './port.js';

/**
 * A stored record as the chain covers it: its attributes, and `data` and `extensions` as the JSON
 * text that is stored and hashed. Verifying the text itself (not a parse of it) means that any
 * changed byte counts, even one that would parse to the same value.
 */
export interface ChainRecord extends Omit<StoredEvent, 'data' | 'extensions'> {
  dataJson: string;
  extensionsJson: string;
}

/**
 * Why a record breaks the chain. At the position p the walk expects next, with the hash of the
 * verified record p − 1 (the genesis hash for p = 1):
 * - `missing`: no record is stored at p (the next one stored is at a later position: a gap).
 * - `modified`: the record at p follows record p − 1 (its stored prevHash is that record's hash) but
 *   does not match its own stored hash; or it matches its hash when chained to record p − 1 and only
 *   its stored prevHash was changed.
 * - `out-of-order`: the record at p neither follows record p − 1 nor matches its hash at p: it is a
 *   record from elsewhere in the log (rows swapped or moved), or one made up. When the record that
 *   belongs at p is stored later in the log, `foundAt` says where. Also a position stored twice.
 */
export type ChainBreakKind = 'modified' | 'missing' | 'out-of-order';

export interface ChainBreak {
  /** The first position that is wrong. */
  position: number;
  kind: ChainBreakKind;
  /** What was found there, for people. */
  reason: string;
  /** `out-of-order`: the position where the record that belongs at `position` is stored. */
  foundAt?: number;
}

/** The last verified record: where a walk resumes. Position 0 and the genesis hash before the first. */
export interface ChainLink {
  position: number;
  hash: string;
}

export const CHAIN_START: ChainLink = { position: 0, hash: GENESIS_HASH };

/** The chain holds: `events` records verified, the last of them `head` (CHAIN_START when none). */
export interface ChainHolds {
  ok: true;
  events: number;
  head: ChainLink;
}

/** The chain is broken at `break`; `events` records were verified before it. */
export interface ChainBroken {
  ok: false;
  events: number;
  break: ChainBreak;
}

export type ChainVerdict = ChainHolds | ChainBroken;

/** Where `lgsp verify` reads a store's records from; one per adapter, read-only. */
export interface ChainSource {
  /** What is read, for messages: a file path, or a server and schema (never a password). */
  readonly name: string;
  /** The highest stored position (0 when empty), for progress. */
  head(): Promise<number>;
  /** Every stored record in position order, read page by page (memory does not grow with the store). */
  records(): AsyncIterable<ChainRecord>;
  close(): Promise<void>;
}

/** The chain form of a StoredEvent read through the port (its data as canonical JSON again). */
export function chainRecordOf(e: StoredEvent): ChainRecord {
  return { ...e, dataJson: canonicalJson(e.data ?? null), extensionsJson: canonicalJson(e.extensions) };
}

/** The walk over records in position order, fed one record at a time. */
class ChainWalk {
  private last: ChainLink;
  /** The position expected next; set by the first record when the walk starts after an unknown position. */
  private expected: number | undefined;
  private verified = 0;
  private broken: ChainBreak | undefined;
  /** After an out-of-order record: looking for the record that belongs at the broken position. */
  private seeking = false;

  constructor(after: ChainLink | { hash: string }) {
    this.last = 'position' in after ? after : { position: 0, hash: after.hash };
    this.expected = 'position' in after ? after.position + 1 : undefined;
  }

  /** Takes the next record; false once the walk is over (the verdict no longer depends on what follows). */
  feed(r: ChainRecord): boolean {
    if (this.broken === undefined) {
      this.broken = this.check(r);
      this.seeking = this.broken?.kind === 'out-of-order' && this.broken.position === r.position;
      return this.broken === undefined || this.seeking;
    }
    if (!belongsAt(r, this.broken.position, this.last.hash)) return true;
    this.broken.foundAt = r.position;
    this.broken.reason += `; its own record is stored at position ${r.position}`;
    return false;
  }

  verdict(): ChainVerdict {
    return this.broken === undefined
      ? { ok: true, events: this.verified, head: this.last }
      : { ok: false, events: this.verified, break: this.broken };
  }

  private check(r: ChainRecord): ChainBreak | undefined {
    const p = this.expected ?? r.position;
    if (r.position > p) {
      return {
        position: p,
        kind: 'missing',
        reason: `no record at position ${p}; the next stored is ${r.position}`,
      };
    }
    if (r.position < p) {
      return {
        position: r.position,
        kind: 'out-of-order',
        reason: `a record at position ${r.position} comes after position ${p - 1} (a position stored twice)`,
      };
    }
    const prev = this.last.hash;
    const matches = hashAt(r, p, prev) === r.hash;
    const links = r.prevHash === prev;
    if (!links && !matches) {
      return {
        position: p,
        kind: 'out-of-order',
        reason: `the record stored at position ${p} does not follow position ${p - 1}`,
      };
    }
    if (!matches) return { position: p, kind: 'modified', reason: 'stored hash does not match the record' };
    if (!links) return { position: p, kind: 'modified', reason: 'stored prevHash was changed' };
    this.last = { position: p, hash: r.hash };
    this.expected = p + 1;
    this.verified += 1;
    return undefined;
  }
}

function hashAt(r: ChainRecord, position: number, prevHash: string): string {
  const at = r.position === position ? r : { ...r, position };
  return recordHashOfJson(prevHash, at, r.dataJson, r.extensionsJson);
}

/** Whether `r` is the record that belongs at `position` after the record whose hash is `prevHash`. */
function belongsAt(r: ChainRecord, position: number, prevHash: string): boolean {
  return r.prevHash === prevHash && hashAt(r, position, prevHash) === r.hash;
}

/**
 * Verifies records read in position order from the start of the log (or after `after`), and names
 * the first break. After an out-of-order record it reads on to find where the record that belongs
 * there is stored, so a broken store is read to its end at most once, like an intact one.
 */
export async function verifyRecords(
  records: AsyncIterable<ChainRecord> | Iterable<ChainRecord>,
  after: ChainLink = CHAIN_START,
): Promise<ChainVerdict> {
  const walk = new ChainWalk(after);
  for await (const r of records) if (!walk.feed(r)) break;
  return walk.verdict();
}

/**
 * Checks a contiguous run of records read through the port, e.g. pages of `readAll`: from the start
 * of the log, or after the record whose hash is `expectedPrevHash`. Returns the first break.
 */
export function verifyChain(
  events: readonly StoredEvent[],
  expectedPrevHash: string = GENESIS_HASH,
): { ok: true } | ({ ok: false } & ChainBreak) {
  const walk = new ChainWalk(expectedPrevHash === GENESIS_HASH ? CHAIN_START : { hash: expectedPrevHash });
  for (const e of events) if (!walk.feed(chainRecordOf(e))) break;
  const verdict = walk.verdict();
  return verdict.ok ? { ok: true } : { ok: false, ...verdict.break };
}
