import type { EventStore, Lease, LeaseStore, StoredEvent, Unsubscribe } from '#lgsp/event-store';
import { silentLogger, systemClock, tracing, type Clock, type Logger } from '#lgsp/observability';
import { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy } from './backoff.js';
import { LeaseKeeper } from './lease-keeper.js';
import { compileFilter, type Subscriber } from './subscriber.js';

/**
 * `running`: reading or waiting for events; `retrying`: the last batch failed and waits for its retry;
 * `standby`: another process holds the subscriber's lease, this one waits to take it over.
 */
export type SubscriptionState = 'running' | 'retrying' | 'standby' | 'stopped';

/** What a runner is doing, as reported through {@link SubscriptionRunnerOptions.onStatus}. */
export interface SubscriptionStatus {
  state: SubscriptionState;
  /** Consecutive failed attempts of the current batch. */
  attempts: number;
  /** Message of the last failure, while the subscriber is retrying it. */
  lastError?: string;
}

/** How far a subscriber is behind the head of the log. */
export interface SubscriptionLag {
  name: string;
  /** Last position the subscriber finished. */
  checkpoint: number;
  head: number;
  /** head − checkpoint (events the filter skips count too: they are not yet passed). */
  lagEvents: number;
  /** Age of the first event after the checkpoint, 0 when caught up. */
  lagSeconds: number;
  state: SubscriptionState;
  /** Message of the last failure, while the subscriber is retrying it. */
  lastError?: string;
  /** Consecutive failed attempts of the current batch. */
  attempts: number;
  /** With leases: the process that holds this subscriber's lease, as this process last knew it. */
  leaseHolder?: string;
}

/** Runs a subscriber only in the process holding its lease; see {@link LeaseStore}. */
export interface SubscriptionLeaseOptions {
  store: LeaseStore;
  /** This process's id, unique among the processes sharing the store. */
  holder: string;
  /**
   * A lease lapses this long after its last renewal; a dead holder is replaced within about
   * `ttlMs` + `ttlMs` / 3. It is renewed every `ttlMs` / 3, and the holder stops handling batches once
   * 80% of it has passed without a successful renewal. @defaultValue 10000
   */
  ttlMs?: number;
}

/** Options shared by every runner of a {@link Subscriptions} manager. */
export interface SubscriptionRunnerOptions {
  logger?: Logger;
  /**
   * Fallback wake-up when caught up, in case an append notification is missed (another process wrote).
   * @defaultValue 1000
   */
  pollIntervalMs?: number;
  /** Backoff after a failed batch; see {@link DEFAULT_RETRY_POLICY}. */
  retry?: Partial<RetryPolicy>;
  /** Clock for lagSeconds. @defaultValue systemClock */
  clock?: Pick<Clock, 'now'>;
  /** Called with a subscriber's name and status whenever its state, attempts or last error change. */
  onStatus?: (name: string, status: SubscriptionStatus) => void;
  /** Several processes on one store: each subscriber runs only where its lease is held. */
  lease?: SubscriptionLeaseOptions;
}

/**
 * The lag of a subscriber at `checkpoint`: head − checkpoint, and the age of the first event after
 * the checkpoint (0 when caught up).
 */
export async function measureLag(
  store: Pick<EventStore, 'head' | 'readAll'>,
  name: string,
  checkpoint: number,
  status: SubscriptionStatus,
  clock: Pick<Clock, 'now'> = systemClock,
  leaseHolder?: string,
): Promise<SubscriptionLag> {
  const head = (await store.head()).position;
  let lagSeconds = 0;
  if (head > checkpoint) {
    const [first] = await store.readAll({ after: checkpoint, limit: 1 });
    if (first) lagSeconds = Math.max(0, (clock.now() - Date.parse(first.recordedAt)) / 1000);
  }
  return {
    name,
    checkpoint,
    head,
    lagEvents: Math.max(0, head - checkpoint),
    lagSeconds,
    state: status.state,
    ...(status.lastError === undefined ? {} : { lastError: status.lastError }),
    attempts: status.attempts,
    ...(leaseHolder === undefined ? {} : { leaseHolder }),
  };
}

const DEFAULT_BATCH_SIZE = 100;
const DEFAULT_LEASE_TTL_MS = 10_000;
/** From this many consecutive failures on, a failure is logged as an error rather than a warning. */
const ERROR_AFTER_ATTEMPTS = 5;

interface Waiter {
  wakeOnAppend: boolean;
  done(): void;
}

/**
 * Drives one subscriber over the global log: load checkpoint → read a page → handle the events that
 * match the filter → save the page's last position → repeat; when caught up, wait for an append.
 * A failing batch is retried with exponential backoff and the checkpoint stays put (at least once).
 * A subscriber with an {@link Subscriber.ownCheckpoint} saves the position itself, with its batch.
 */
export class SubscriptionRunner {
  private readonly logger: Logger;
  private readonly pollIntervalMs: number;
  private readonly retry: RetryPolicy;
  private readonly now: () => number;
  private readonly onStatus: ((name: string, status: SubscriptionStatus) => void) | undefined;
  private reported: SubscriptionStatus = { state: 'stopped', attempts: 0 };
  private readonly batchSize: number;
  private readonly coalesceMs: number;
  private readonly matches: ((e: StoredEvent) => boolean) | undefined;

  private currentState: SubscriptionState = 'stopped';
  private position: number | undefined;
  private attempts = 0;
  private lastError: string | undefined;
  private loop: Promise<void> | undefined;
  private stopRequested = false;
  /** Aborted by {@link stop}: the batch in flight may hand its work back (see {@link Page.signal}). */
  private stopping = new AbortController();
  private appendedSinceRead = false;
  private waiter: Waiter | undefined;
  private unsubscribe: Unsubscribe | undefined;
  private readonly leaseOptions: Required<SubscriptionLeaseOptions> | undefined;
  /** The lease this process holds for the subscriber, kept renewed. */
  private keeper: LeaseKeeper | undefined;
  private knownHolder: string | undefined;
  /** A batch handled up to here whose checkpoint write has not succeeded yet. */
  private unsaved: number | undefined;

  constructor(
    private readonly store: EventStore,
    readonly subscriber: Subscriber,
    options: SubscriptionRunnerOptions = {},
  ) {
    if (subscriber.name.length === 0) throw new TypeError('a subscriber needs a name');
    this.logger = options.logger ?? silentLogger;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    const clock = options.clock ?? systemClock;
    this.now = () => clock.now();
    this.onStatus = options.onStatus;
    const size = subscriber.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isSafeInteger(size) || size < 1)
      throw new TypeError(`${subscriber.name}: batchSize must be ≥ 1`);
    this.batchSize = size;
    this.coalesceMs = Math.max(0, subscriber.coalesceMs ?? 0);
    this.matches = compileFilter(subscriber.filter);
    if (options.lease) {
      const ttlMs = options.lease.ttlMs ?? DEFAULT_LEASE_TTL_MS;
      if (!Number.isSafeInteger(ttlMs) || ttlMs < 300)
        throw new TypeError(`${subscriber.name}: lease ttlMs must be a whole number ≥ 300`);
      this.leaseOptions = { ...options.lease, ttlMs };
    }
  }

  /** The lease this process holds for the subscriber, if any. */
  get heldLease(): Lease | undefined {
    return this.keeper?.trusted ? this.keeper.lease : undefined;
  }

  get name(): string {
    return this.subscriber.name;
  }

  get state(): SubscriptionState {
    return this.currentState;
  }

  /** The last position finished, undefined until the checkpoint was loaded. */
  get checkpoint(): number | undefined {
    return this.position;
  }

  /** Starts the loop in the background; a no-op while it runs. */
  start(): void {
    if (this.loop) return;
    this.stopRequested = false;
    this.stopping = new AbortController();
    // Re-read at every start: an operator may have moved the checkpoint (replay) while it was stopped.
    this.position = undefined;
    this.unsaved = undefined;
    this.currentState = 'running';
    this.report();
    this.unsubscribe = this.store.onAppended(() => {
      this.appendedSinceRead = true;
      if (this.waiter?.wakeOnAppend) this.waiter.done();
    });
    this.loop = this.run()
      .catch((err: unknown) => {
        this.lastError = message(err);
        this.logger.error(
          { subscriber: this.name, err: this.lastError },
          'subscriber loop ended unexpectedly',
        );
      })
      .finally(() => {
        this.unsubscribe?.();
        this.unsubscribe = undefined;
        this.currentState = 'stopped';
        this.loop = undefined;
        this.report();
      });
  }

  /**
   * Stops: the batch in flight finishes and its checkpoint is saved, or, when the subscriber honours
   * {@link Page.signal} (aborted here), hands its work back and is read again after the next start.
   * Interrupts a backoff wait.
   */
  async stop(): Promise<void> {
    if (!this.loop) return;
    this.stopRequested = true;
    this.stopping.abort(new Error(`subscriber ${this.name} stopping`));
    this.waiter?.done();
    await this.loop;
  }

  /** Takes the lease when it is free; true when this process now holds it. */
  private async acquireLease(): Promise<boolean> {
    const options = this.leaseOptions;
    if (!options) return true;
    const keeper: LeaseKeeper | undefined = await LeaseKeeper.take(options, this.name, {
      lost: (reason) => {
        if (this.keeper === keeper) this.leaseLost(reason);
      },
      renewalFailed: (err) =>
        this.logger.warn({ subscriber: this.name, err: message(err) }, 'subscriber lease renewal failed'),
    });
    if (!keeper) {
      if (this.currentState !== 'standby') {
        this.logger.info({ subscriber: this.name }, 'subscriber lease held by another process; standing by');
      }
      this.knownHolder = (await options.store.list()).find((l) => l.subscriber === this.name)?.holder;
      this.currentState = 'standby';
      this.report();
      return false;
    }
    const { lease } = keeper;
    this.keeper = keeper;
    this.knownHolder = lease.holder;
    // Another process may have moved the checkpoint while it held the lease.
    this.position = undefined;
    this.logger.info(
      { subscriber: this.name, holder: lease.holder, epoch: lease.epoch },
      'subscriber lease taken',
    );
    return true;
  }

  private leaseLost(reason: string): void {
    this.logger.warn(
      { subscriber: this.name, epoch: this.keeper?.lease.epoch, reason },
      'subscriber lease lost',
    );
    this.keeper?.stop();
    this.keeper = undefined;
    this.position = undefined;
    this.unsaved = undefined;
  }

  /** Stops renewing and gives the lease up, so that another process takes over without waiting. */
  private async releaseLease(): Promise<void> {
    const keeper = this.keeper;
    this.keeper = undefined;
    if (!keeper) return;
    try {
      await keeper.release();
      this.logger.info({ subscriber: this.name, epoch: keeper.lease.epoch }, 'subscriber lease released');
    } catch (err) {
      this.logger.warn(
        { subscriber: this.name, err: message(err) },
        'subscriber lease not released; it lapses by itself',
      );
    }
  }

  /** The current state, attempts and last error. */
  get status(): SubscriptionStatus {
    return {
      state: this.currentState,
      attempts: this.attempts,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  async lag(): Promise<SubscriptionLag> {
    const checkpoint = this.position ?? (await this.loadCheckpoint());
    return measureLag(this.store, this.name, checkpoint, this.status, { now: this.now }, this.knownHolder);
  }

  private async run(): Promise<void> {
    try {
      await this.loopUntilStopped();
    } finally {
      await this.releaseLease();
    }
  }

  private async loopUntilStopped(): Promise<void> {
    while (!this.stopRequested) {
      let page: StoredEvent[] = [];
      try {
        if (this.leaseOptions && !this.keeper?.check()) {
          if (!(await this.acquireLease())) {
            await this.wait(Math.floor(this.leaseOptions.ttlMs / 3), false);
            continue;
          }
        }
        if (this.unsaved !== undefined) {
          if (await this.saveCheckpoint(this.unsaved)) {
            this.position = this.unsaved;
            this.succeeded();
          }
          continue;
        }
        if (this.position === undefined) {
          this.position = await this.loadCheckpoint();
          this.logger.info({ subscriber: this.name, checkpoint: this.position }, 'subscriber started');
        }
        this.appendedSinceRead = false;
        page = await this.store.readAll({ after: this.position, limit: this.batchSize });
        const last = page[page.length - 1];
        if (last === undefined) {
          this.succeeded();
          await this.wait(this.pollIntervalMs, true);
          if (this.coalesceMs > 0) await this.wait(this.coalesceMs, false);
          continue;
        }
        const batch = this.matches ? page.filter(this.matches) : page;
        const signal = this.stopping.signal;
        if (this.subscriber.ownCheckpoint) {
          await this.handle(batch, last.position, signal);
        } else {
          if (batch.length > 0) await this.handle(batch, last.position, signal);
          // Handled: a failed checkpoint write from here on is retried alone, not with the batch.
          this.unsaved = last.position;
          if (!(await this.saveCheckpoint(last.position))) continue;
        }
        this.position = last.position;
        this.succeeded();
      } catch (err) {
        if (this.stopRequested && this.stopping.signal.aborted) {
          this.logger.info(
            { subscriber: this.name, checkpoint: this.position, fromPosition: page[0]?.position },
            'subscriber handed its batch back on stop',
          );
          break;
        }
        await this.failed(err, page);
      }
    }
    this.logger.info({ subscriber: this.name, checkpoint: this.position }, 'subscriber stopped');
  }

  /**
   * The subscriber's handling of a batch, in a `process` span (OTel messaging conventions for a batch)
   * that links to the trace context stored with each of its events.
   */
  private handle(batch: readonly StoredEvent[], checkpoint: number, signal: AbortSignal): Promise<void> {
    if (batch.length === 0) return this.subscriber.handle(batch, { checkpoint, signal });
    return tracing().span(
      `process ${this.name}`,
      {
        kind: 'consumer',
        root: true,
        links: batch.map((e) => traceparentOf(e)),
        attributes: {
          'messaging.operation.type': 'process',
          'messaging.consumer.group.name': this.name,
          'messaging.batch.message_count': batch.length,
          'lgsp.position.first': batch[0]!.position,
          'lgsp.position.last': batch[batch.length - 1]!.position,
        },
      },
      () => this.subscriber.handle(batch, { checkpoint, signal }),
    );
  }

  /**
   * Saves the checkpoint of a handled batch (fenced by the lease when there is one). False when the
   * lease was lost: the batch is the new holder's to redo (at least once), not this process's.
   * @throws when the write fails; `unsaved` keeps the position for the retry.
   */
  private async saveCheckpoint(position: number): Promise<boolean> {
    if (this.leaseOptions) {
      const lease = this.keeper?.lease;
      if (!lease || !(await this.leaseOptions.store.saveCheckpoint(lease, position))) {
        this.unsaved = undefined;
        this.leaseLost('the checkpoint write was fenced off');
        return false;
      }
    } else {
      await this.store.checkpoints.save(
        this.name,
        position,
        this.subscriber.checkpointWithNextCommit === true ? { withNextCommit: true } : undefined,
      );
    }
    this.unsaved = undefined;
    return true;
  }

  private succeeded(): void {
    if (this.attempts > 0) {
      this.logger.info(
        { subscriber: this.name, checkpoint: this.position, attempts: this.attempts },
        'subscriber recovered',
      );
    }
    this.attempts = 0;
    this.lastError = undefined;
    this.currentState = 'running';
    this.report();
  }

  private loadCheckpoint(): Promise<number> {
    return this.subscriber.ownCheckpoint?.load() ?? this.store.checkpoints.load(this.name);
  }

  /** Tells `onStatus` when the status differs from the last one it was given. */
  private report(): void {
    if (!this.onStatus) return;
    const status = this.status;
    const last = this.reported;
    if (
      status.state === last.state &&
      status.attempts === last.attempts &&
      status.lastError === last.lastError
    )
      return;
    this.reported = status;
    try {
      this.onStatus(this.name, status);
    } catch (err) {
      this.logger.warn({ subscriber: this.name, err: message(err) }, 'status listener failed');
    }
  }

  private async failed(err: unknown, page: readonly StoredEvent[]): Promise<void> {
    this.attempts += 1;
    this.lastError = message(err);
    this.currentState = 'retrying';
    this.report();
    const delayMs = backoffDelay(this.attempts, this.retry);
    const details = {
      subscriber: this.name,
      checkpoint: this.position,
      fromPosition: page[0]?.position,
      toPosition: page[page.length - 1]?.position,
      attempts: this.attempts,
      retryInMs: delayMs,
      err: this.lastError,
    };
    if (this.attempts >= ERROR_AFTER_ATTEMPTS)
      this.logger.error(details, 'subscriber keeps failing; retrying');
    else this.logger.warn(details, 'subscriber batch failed; retrying');
    await this.wait(delayMs, false);
  }

  /** Sleeps up to `ms`; `stop()` always wakes it, an append only when `wakeOnAppend`. */
  private wait(ms: number, wakeOnAppend: boolean): Promise<void> {
    if (this.stopRequested || (wakeOnAppend && this.appendedSinceRead)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiter = { wakeOnAppend, done };
    });
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The W3C traceparent stored with an event (CloudEvents distributed-tracing extension), if any. */
export function traceparentOf(event: StoredEvent): string | undefined {
  const tp = event.extensions['traceparent'];
  return typeof tp === 'string' ? tp : undefined;
}
