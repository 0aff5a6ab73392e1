import type { EventStore, StoredEvent, Unsubscribe } from '#lgsp/event-store';
import { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy } from './backoff.js';
import { compileFilter, silentLogger, type Subscriber, type SubscriptionLogger } from './subscriber.js';

/** `running`: reading or waiting for events; `retrying`: the last batch failed and waits for its retry. */
export type SubscriptionState = 'running' | 'retrying' | 'stopped';

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
}

/** Options shared by every runner of a {@link Subscriptions} manager. */
export interface SubscriptionRunnerOptions {
  logger?: SubscriptionLogger;
  /**
   * Fallback wake-up when caught up, in case an append notification is missed (another process wrote).
   * @defaultValue 1000
   */
  pollIntervalMs?: number;
  /** Backoff after a failed batch; see {@link DEFAULT_RETRY_POLICY}. */
  retry?: Partial<RetryPolicy>;
  /** Clock for lagSeconds. @defaultValue Date.now */
  now?: () => number;
  /** Called with a subscriber's name and status whenever its state, attempts or last error change. */
  onStatus?: (name: string, status: SubscriptionStatus) => void;
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
  now: () => number = Date.now,
): Promise<SubscriptionLag> {
  const head = (await store.head()).position;
  let lagSeconds = 0;
  if (head > checkpoint) {
    const [first] = await store.readAll({ after: checkpoint, limit: 1 });
    if (first) lagSeconds = Math.max(0, (now() - Date.parse(first.recordedAt)) / 1000);
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
  };
}

const DEFAULT_BATCH_SIZE = 100;
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
  private readonly logger: SubscriptionLogger;
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
  private appendedSinceRead = false;
  private waiter: Waiter | undefined;
  private unsubscribe: Unsubscribe | undefined;

  constructor(
    private readonly store: EventStore,
    readonly subscriber: Subscriber,
    options: SubscriptionRunnerOptions = {},
  ) {
    if (subscriber.name.length === 0) throw new TypeError('a subscriber needs a name');
    this.logger = options.logger ?? silentLogger;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.now = options.now ?? Date.now;
    this.onStatus = options.onStatus;
    const size = subscriber.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isSafeInteger(size) || size < 1)
      throw new TypeError(`${subscriber.name}: batchSize must be ≥ 1`);
    this.batchSize = size;
    this.coalesceMs = Math.max(0, subscriber.coalesceMs ?? 0);
    this.matches = compileFilter(subscriber.filter);
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
    // Re-read at every start: an operator may have moved the checkpoint (replay) while it was stopped.
    this.position = undefined;
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

  /** Lets the batch in flight finish and its checkpoint be saved, then stops. Interrupts a backoff wait. */
  async stop(): Promise<void> {
    if (!this.loop) return;
    this.stopRequested = true;
    this.waiter?.done();
    await this.loop;
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
    return measureLag(this.store, this.name, checkpoint, this.status, this.now);
  }

  private async run(): Promise<void> {
    while (!this.stopRequested) {
      let page: StoredEvent[] = [];
      try {
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
        if (this.subscriber.ownCheckpoint) {
          await this.subscriber.handle(batch, { checkpoint: last.position });
        } else {
          if (batch.length > 0) await this.subscriber.handle(batch, { checkpoint: last.position });
          await this.store.checkpoints.save(this.name, last.position);
        }
        this.position = last.position;
        this.succeeded();
      } catch (err) {
        await this.failed(err, page);
      }
    }
    this.logger.info({ subscriber: this.name, checkpoint: this.position }, 'subscriber stopped');
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
