import { noGroupCommits, settleCalls, type GroupCommitStats } from '../group-calls.js';
import pg from 'pg';
import { StoreUnavailableError } from '../errors.js';
import type { AppendOptions, AppendResult } from '../port.js';
import type { PendingEvent } from '../records.js';
import { insertParams } from './array-encoding.js';
import {
  chainHeadOf,
  chainRows,
  decideGroup,
  groupKeys,
  type ChainHead,
  type GroupDecision,
  type GroupKeys,
  type PendingCall,
} from './group-decision.js';
import {
  isDatabaseError,
  LockedAttemptFailed,
  readInFlightResult,
  type InFlightCommit,
} from './in-flight.js';
import {
  HEAD_SQL,
  INSERT_PART_SQL,
  INSERT_SQL,
  LOCK_SQL,
  STORED_SQL,
  VERSIONS_SQL,
  type HeadRow,
  type StoredRow,
  type VersionRow,
} from './sql.js';

/** Counters since the store was opened; `commits` < `appendCalls` shows group commit at work. */
export interface PostgresEventStoreStats extends GroupCommitStats {
  /** Commits of groups sent optimistically (the rest took the locked path). */
  speculativeCommits: number;
  /** Optimistic groups that did not commit and ran again on the locked path. */
  redoneGroups: number;
}

/** How the group commit reaches PostgreSQL and the store it serves. */
export interface GroupCommitOptions {
  connectionString: string;
  applicationName: string;
  schema: string;
  /** Most append calls committed together in one transaction. */
  maxGroupSize: number;
  /** The new head after each commit that wrote. */
  onCommitted(head: number): void;
  isClosed(): boolean;
}

/** Commits that look up the group's (source, id) pairs before inserting, after one met a duplicate. */
const LOOKUP_COMMITS_AFTER_DUPLICATE = 64;
/** Commits on the locked path after an optimistic group guessed wrong (another process appended, most likely). */
const LOCKED_COMMITS_AFTER_STALE_GUESS = 64;
/** Optimistic groups sent and not yet answered. */
const MAX_IN_FLIGHT = 2;
/** A group stops taking calls at this many events, so that large appends overlap with one another. */
const MAX_GROUP_EVENTS = 256;
/** Streams whose version the store remembers for optimistic groups. */
const KNOWN_STREAMS = 10_000;
/** Rows of a large optimistic group sent in a first INSERT of their own, to be written while the rest are hashed. */
const FIRST_CHUNK_ROWS = 32;

/**
 * The append side of the PostgreSQL store: `append` calls queued while a transaction runs are
 * committed together in the next one (up to `maxGroupSize` calls, and no more than 256 events
 * unless one call has more, so that large appends overlap), on a writer connection of its own in
 * pipeline mode. Each transaction writes every accepted event of its group with one INSERT (two for
 * a large optimistic group, whose first rows go ahead) whose columns go as binary arrays.
 *
 * **The locked path.** BEGIN, the lock and the reads of the head and of the group's stream versions
 * go out together; duplicates and expected-version conflicts are decided in memory (a conflicting
 * call is dropped alone), the hashes chained, then the INSERT (with its NOTIFY) and COMMIT go
 * together: two round trips. The stored (source, id) pairs are not read first: their unique index
 * fails an INSERT that meets one, and the group then runs again with that lookup, as it does before
 * reporting a conflict (a stored duplicate is no conflict, whatever its expected version).
 *
 * **Optimistic groups.** Once the head is known, a group is decided against the head and stream
 * versions expected from the store's own commits, and BEGIN, the lock, the INSERT and COMMIT go at
 * once: one round trip, and the next group is hashed and sent behind it. Under the lock the database
 * checks every guess: the INSERT writes nothing unless the record it follows is stored with the hash
 * it chained to, and the unique indexes refuse a position, stream version or (source, id) already
 * taken. A group whose guess failed, and every group sent behind it, runs again in order on the
 * locked path; so does a group in which a call would fail (conflicts are only reported from locked
 * reads), and every group for a while after a wrong guess or a duplicate.
 */
export class GroupCommit {
  readonly counters: PostgresEventStoreStats = {
    ...noGroupCommits(),
    speculativeCommits: 0,
    redoneGroups: 0,
  };

  private readonly queue: PendingCall[] = [];
  private flushing = false;
  private flushScheduled = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => undefined;
  private readonly lockKey: string;
  private readonly channel: string;
  /** The pipelined connection append transactions run on; opened on first use, dropped on failure. */
  private writer: pg.Client | undefined;
  /** Commits left that look up the group's (source, id) pairs before the INSERT. */
  private lookupCommits = 0;
  /** Commits left on the locked path before sending optimistically again, after a stale guess. */
  private lockedCommits = 0;
  /** The head once every group sent has committed; undefined until a locked read and after a failure. */
  private expectedHead: ChainHead | undefined;
  /** Stream versions as of `expectedHead`, for the streams appended to lately (at most KNOWN_STREAMS). */
  private readonly knownVersions = new Map<string, number>();
  /** Resumes a flush waiting for its oldest in-flight group, to send the calls queued meanwhile. */
  private wakeFlush: () => void = () => undefined;

  constructor(private readonly options: GroupCommitOptions) {
    this.lockKey = `lgsp-event-store:${options.schema}`;
    this.channel = `lgsp_appended:${options.schema}`;
  }

  /** Queues one call's events; resolves once they are committed. */
  append(events: PendingEvent[], options?: AppendOptions): Promise<AppendResult[]> {
    return new Promise<AppendResult[]>((resolve, reject) => {
      this.queue.push({ events, resolve, reject, onCommitted: options?.onCommitted });
      this.scheduleFlush();
    });
  }

  /** Commits the calls already queued. */
  async drain(): Promise<void> {
    while (this.flushing || this.queue.length > 0) {
      if (!this.flushing) void this.flush();
      await this.idle;
    }
  }

  /** Closes the writer connection (after `drain`, once the store is closed). */
  async close(): Promise<void> {
    const writer = this.writer;
    this.writer = undefined;
    await writer?.end().catch(() => undefined);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate lets every append() of the current tick join the group.
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.flushing) this.wakeFlush();
      else void this.flush();
    });
  }

  /**
   * Commits the queue group by group until it is empty. A group is sent optimistically when the head
   * is known, possibly while earlier groups are still in flight; otherwise it runs the locked path,
   * after every group in flight is answered.
   */
  private async flush(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    this.idle = new Promise((resolve) => (this.markIdle = resolve));
    const inFlight: InFlightCommit[] = [];
    try {
      for (;;) {
        while (this.queue.length > 0 && inFlight.length < MAX_IN_FLIGHT) {
          const group = this.takeGroup();
          let sent: InFlightCommit | undefined;
          try {
            sent = this.sendOptimistic(group);
          } catch (err) {
            // Not expected; whatever went out on the connection is abandoned with it.
            if (this.writer) this.dropWriter(this.writer);
            this.forgetExpected([]);
            this.reject(group, err);
            continue;
          }
          if (sent) {
            inFlight.push(sent);
            continue;
          }
          await this.completeInFlight(inFlight, false);
          await this.commitLocked(group);
        }
        const oldest = inFlight[0];
        if (oldest === undefined) break;
        // Complete the oldest group in flight, or take the calls queued meanwhile into a new one.
        const woken = new Promise<void>((resolve) => (this.wakeFlush = resolve));
        await Promise.race([oldest.answer, woken]);
        this.wakeFlush = () => undefined;
        await this.completeInFlight(inFlight, true);
      }
    } catch (err) {
      // Not expected either: no call may be left waiting.
      this.forgetExpected(inFlight.map((f) => f.decision));
      for (const sent of inFlight) this.reject(sent.group, err);
    } finally {
      this.flushing = false;
      this.markIdle();
      if (this.queue.length > 0 && !this.options.isClosed()) void this.flush();
    }
  }

  /** Up to maxGroupSize calls, and no more than MAX_GROUP_EVENTS events unless one call alone has more. */
  private takeGroup(): PendingCall[] {
    let calls = 0;
    let events = 0;
    for (const call of this.queue) {
      if (
        calls === this.options.maxGroupSize ||
        (calls > 0 && events + call.events.length > MAX_GROUP_EVENTS)
      )
        break;
      calls += 1;
      events += call.events.length;
    }
    const group = this.queue.splice(0, calls);
    this.counters.appendCalls += group.length;
    this.counters.largestGroup = Math.max(this.counters.largestGroup, group.length);
    return group;
  }

  /**
   * Decides the group against the expected head and stream versions and sends its transaction
   * (BEGIN, lock, guarded INSERT with NOTIFY, COMMIT) in one go, without waiting for the answer.
   * Returns undefined when the group must take the locked path: no writer connection or expected
   * head yet, optimistic sending paused (after a wrong guess or a duplicate), or a call that would
   * fail (a conflict is only ever reported from the locked reads).
   */
  private sendOptimistic(group: PendingCall[]): InFlightCommit | undefined {
    const client = this.writer;
    const head = this.expectedHead;
    // After a duplicate (a redelivery, most likely more to come) the locked path looks them up at once.
    if (client === undefined || head === undefined || this.lockedCommits > 0 || this.lookupCommits > 0)
      return undefined;
    const decision = decideGroup(group, head, (stream) => this.knownVersions.get(stream) ?? 0, []);
    const { rows } = decision;
    if (rows.length === 0 || decision.outcomes.some((o) => !o.ok)) return undefined;
    const queries = [
      client.query('BEGIN'),
      client.query({ name: 'lgsp_es_lock', text: LOCK_SQL, values: [this.lockKey] }),
    ];
    // The first rows go alone, so that PostgreSQL inserts them while the rest are hashed.
    const split = rows.length > 2 * FIRST_CHUNK_ROWS ? FIRST_CHUNK_ROWS : rows.length;
    for (const [from, to] of [
      [0, split],
      [split, rows.length],
    ] as const) {
      if (from === to) continue;
      chainRows(decision, from, to);
      queries.push(this.insert(client, decision, from, to));
    }
    queries.push(client.query('COMMIT'));
    this.rememberExpected(decision);
    const sent: InFlightCommit = {
      client,
      group,
      decision,
      result: undefined,
      answer: Promise.allSettled(queries).then((settled) => (sent.result = readInFlightResult(settled))),
    };
    return sent;
  }

  /**
   * Completes the groups in flight in order (only those already answered when `answeredOnly`):
   * resolves the calls of a committed one; after a failed one, whose failure also fails every later
   * group (their INSERTs are guarded on its rows), runs each group again on the locked path, or
   * rejects it when its outcome is unknown.
   */
  private async completeInFlight(inFlight: InFlightCommit[], answeredOnly: boolean): Promise<void> {
    while (inFlight.length > 0) {
      const sent = inFlight[0]!;
      if (answeredOnly && sent.result === undefined) return;
      const result = await sent.answer;
      inFlight.shift();
      if (result.kind === 'committed') {
        this.counters.speculativeCommits += 1;
        this.resolveCalls(sent.group, sent.decision);
        continue;
      }
      this.forgetExpected(inFlight.concat(sent).map((f) => f.decision));
      if (result.kind === 'unknown') {
        this.dropWriter(sent.client);
        this.reject(sent.group, result.error);
        continue;
      }
      if (result.duplicate) this.lookupCommits = LOOKUP_COMMITS_AFTER_DUPLICATE;
      if (result.stale) this.lockedCommits = LOCKED_COMMITS_AFTER_STALE_GUESS;
      this.counters.redoneGroups += 1;
      await this.commitLocked(sent.group);
    }
  }

  /** The locked path: BEGIN, lock and reads, then the decided INSERT and COMMIT (see `runLocked`). */
  private async commitLocked(group: PendingCall[]): Promise<void> {
    let decision: GroupDecision;
    try {
      decision = await this.runLocked(group);
    } catch (err) {
      this.expectedHead = undefined;
      for (const call of group) for (const e of call.events) this.knownVersions.delete(e.stream);
      this.reject(group, err);
      return;
    }
    if (this.lockedCommits > 0) this.lockedCommits -= 1;
    if (this.lookupCommits > 0) this.lookupCommits -= 1;
    this.rememberExpected(decision);
    this.resolveCalls(group, decision);
  }

  /** Answers the calls of a committed group, and notifies the new head. */
  private resolveCalls(group: readonly PendingCall[], decision: GroupDecision): void {
    this.counters.commits += 1;
    settleCalls(group, decision.outcomes, this.counters);
    if (decision.rows.length > 0) this.options.onCommitted(decision.after.position);
  }

  private reject(group: readonly PendingCall[], cause: unknown): void {
    this.counters.failedGroups += 1;
    const error = new StoreUnavailableError('the event store could not commit; retry the append', cause);
    for (const call of group) call.reject(error);
  }

  /** What the store expects once `decision` commits: the next group is decided against it. */
  private rememberExpected(decision: GroupDecision): void {
    this.expectedHead = decision.after;
    for (const [stream, version] of decision.versions) {
      this.knownVersions.delete(stream);
      this.knownVersions.set(stream, version);
    }
    for (const stream of this.knownVersions.keys()) {
      if (this.knownVersions.size <= KNOWN_STREAMS) break;
      this.knownVersions.delete(stream);
    }
  }

  /** After a failure: the head and the versions of the failed groups' streams are no longer known. */
  private forgetExpected(decisions: readonly GroupDecision[]): void {
    this.expectedHead = undefined;
    for (const d of decisions) for (const stream of d.versions.keys()) this.knownVersions.delete(stream);
  }

  /**
   * Sends the guarded INSERT of the chained rows [from, to) of a group; the one of its last rows also
   * sends the NOTIFY. Answers one row when it wrote.
   */
  private insert(
    client: pg.Client,
    decision: GroupDecision,
    from: number,
    to: number,
  ): Promise<pg.QueryResult> {
    const rows = decision.rows.slice(from, to);
    const after = rows[0]!.position - 1;
    const values: unknown[] = [...insertParams(rows), after, after === 0 ? null : rows[0]!.prevHash];
    if (to < decision.rows.length)
      return client.query({ name: 'lgsp_es_insert_part', text: INSERT_PART_SQL, values });
    values.push(this.channel, String(decision.after.position));
    return client.query({ name: 'lgsp_es_insert', text: INSERT_SQL, values });
  }

  /**
   * The locked path for one group, trying again where that cannot commit anything twice: once on a
   * fresh connection when the old one failed before COMMIT was sent, and once with the (source, id)
   * lookup when the INSERT met a stored (source, id).
   */
  private async runLocked(group: readonly PendingCall[]): Promise<GroupDecision> {
    const keys = groupKeys(group);
    let lookup = this.lookupCommits > 0;
    let reconnected = false;
    for (;;) {
      const client = await this.writerConnection();
      try {
        return await this.lockedAttempt(client, group, keys, lookup);
      } catch (err) {
        if (!(err instanceof LockedAttemptFailed)) throw err;
        if (err.duplicate && !lookup) {
          lookup = true;
          this.lookupCommits = LOOKUP_COMMITS_AFTER_DUPLICATE;
          continue;
        }
        if (!err.committing && !reconnected && !isDatabaseError(err.cause)) {
          reconnected = true;
          continue;
        }
        throw err.cause;
      }
    }
  }

  /**
   * One locked transaction in two round trips: BEGIN, the lock and the reads the decisions need are
   * sent together; then the INSERT (with its NOTIFY) and COMMIT.
   * @throws LockedAttemptFailed after rolling back (or dropping the connection).
   */
  private async lockedAttempt(
    client: pg.Client,
    group: readonly PendingCall[],
    keys: GroupKeys,
    lookup: boolean,
  ): Promise<GroupDecision> {
    let committing = false;
    try {
      const [, , head, versions, stored] = await Promise.all([
        client.query('BEGIN'),
        client.query({ name: 'lgsp_es_lock', text: LOCK_SQL, values: [this.lockKey] }),
        client.query<HeadRow>({ name: 'lgsp_es_head', text: HEAD_SQL }),
        // Unnamed: a plan cached while the table was small would keep scanning it whole.
        client.query<VersionRow>(VERSIONS_SQL, [keys.streams]),
        lookup ? this.storedKeys(client, keys) : undefined,
      ]);
      const chainHead = chainHeadOf(head.rows[0]);
      const read = new Map(versions.rows.map((r) => [r.stream, Number(r.v)]));
      const versionOf = (stream: string) => read.get(stream) ?? 0;
      let decision = decideGroup(group, chainHead, versionOf, stored ?? []);
      // Without the lookup a stored (source, id) could be taken for a conflict: look before failing a call.
      if (stored === undefined && decision.outcomes.some((o) => !o.ok)) {
        decision = decideGroup(group, chainHead, versionOf, await this.storedKeys(client, keys));
      }
      const writes: Promise<pg.QueryResult>[] = [];
      if (decision.rows.length > 0) {
        chainRows(decision, 0, decision.rows.length);
        writes.push(this.insert(client, decision, 0, decision.rows.length));
      }
      committing = true;
      const [commit, insert] = await Promise.all([client.query('COMMIT'), ...writes]);
      // COMMIT of a transaction that failed answers ROLLBACK; the failed statement has thrown already.
      if (commit.command !== 'COMMIT' || (insert !== undefined && insert.rowCount !== 1)) {
        throw new Error(`the append transaction did not commit (${commit.command})`);
      }
      return decision;
    } catch (err) {
      const duplicate = isDatabaseError(err) && err.code === '23505';
      // Pipelined behind whatever is still in flight; a connection that cannot roll back is dropped.
      if (!isDatabaseError(err)) this.dropWriter(client);
      else await client.query('ROLLBACK').catch(() => this.dropWriter(client));
      throw new LockedAttemptFailed(err, committing && !duplicate, duplicate);
    }
  }

  private async storedKeys(client: pg.Client, keys: GroupKeys): Promise<StoredRow[]> {
    return (await client.query<StoredRow>(STORED_SQL, [keys.sources, keys.ids])).rows;
  }

  /** The connection append transactions run on, opened on first use and after a failure. */
  private async writerConnection(): Promise<pg.Client> {
    if (this.writer) return this.writer;
    const client = new pg.Client({
      connectionString: this.options.connectionString,
      application_name: this.options.applicationName,
      options: `-c search_path=${pg.escapeIdentifier(this.options.schema)}`,
      pipeline: true,
    });
    client.on('error', () => this.dropWriter(client));
    client.on('end', () => {
      if (this.writer === client) this.writer = undefined;
    });
    await client.connect();
    this.writer = client;
    return client;
  }

  private dropWriter(client: pg.Client): void {
    if (this.writer === client) this.writer = undefined;
    void client.end().catch(() => undefined);
  }
}
