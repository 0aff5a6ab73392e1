import { Worker } from 'node:worker_threads';
import type { EventStore, Unsubscribe } from '#lgsp/event-store';
import { DOSSIER_PROJECTION_NAME, type DossierViewRepository } from '#lgsp/projections';
import {
  backoffDelay,
  measureLag,
  type RetryPolicy,
  type SubscriptionLag,
  type SubscriptionStatus,
} from '#lgsp/subscriptions';
import { systemClock, type Clock, type Logger } from '#lgsp/observability';
import type { FromProjectionWorker, ProjectionWorkerData, ToProjectionWorker } from './protocol.js';

/** Options of {@link ProjectionThread}. */
export interface ProjectionThreadOptions {
  /** The hub's store: its appends wake the worker up, and lag is measured against its head. */
  store: Pick<EventStore, 'onAppended' | 'head' | 'readAll'>;
  /** A main-thread reader of the views the worker writes, for the checkpoint. */
  views: Pick<DossierViewRepository, 'checkpoint'>;
  logger: Logger;
  data: ProjectionWorkerData;
  /** The worker's entry module. @defaultValue `./projection-worker.js` beside this module */
  workerUrl?: URL;
  /** Backoff between restarts of a worker that died. @defaultValue 1 s doubling up to 30 s */
  restart?: Partial<RetryPolicy>;
  /** A worker that ran this long before dying restarts after the first delay again. @defaultValue 60000 */
  healthyAfterMs?: number;
  /** How long start-up waits for the worker to be ready. @defaultValue 15000 */
  startTimeoutMs?: number;
  /** How long `stop` waits for the worker to finish its batch before terminating it. @defaultValue 5000 */
  stopTimeoutMs?: number;
  /** Appends within this window become one wake-up message. @defaultValue 20 */
  wakeCoalesceMs?: number;
  /** Clock for lagSeconds and uptime. @defaultValue systemClock */
  clock?: Pick<Clock, 'now'>;
  /** Told of each event the worker left out of its view (metrics); see `DossierProjection`. */
  onUnreadable?: (eventType: string) => void;
}

/**
 * `starting`: the first worker is opening its files; `running`: a worker runs the projection;
 * `restarting`: the worker died and a new one is due or starting; `stopping`, `stopped`.
 */
export type ProjectionThreadState = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped';

const DEFAULT_RESTART: RetryPolicy = { initialDelayMs: 1000, maxDelayMs: 30_000, factor: 2 };
const WAKE: ToProjectionWorker = { type: 'appended' };
const STOP: ToProjectionWorker = { type: 'stop' };

/**
 * Runs the dossier projection in a `node:worker_threads` worker, so that its reads, JSON work and
 * commits use another core than ingest. The worker reads the event store's file read-only and writes
 * the projection database; this side wakes it on appends, restarts it with backoff when it dies, and
 * reports its lag from the checkpoint it saved and the store's head.
 */
export class ProjectionThread {
  private readonly workerUrl: URL;
  private readonly restartPolicy: RetryPolicy;
  private readonly healthyAfterMs: number;
  private readonly startTimeoutMs: number;
  private readonly stopTimeoutMs: number;
  private readonly wakeCoalesceMs: number;
  private readonly now: () => number;

  private phase: ProjectionThreadState = 'stopped';
  private worker: Worker | undefined;
  private workerStatus: SubscriptionStatus = { state: 'stopped', attempts: 0 };
  private readyAt = 0;
  private restarts = 0;
  private lastFailure: string | undefined;
  private firstStart: { resolve(): void; reject(err: Error): void } | undefined;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  private unsubscribe: Unsubscribe | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: ProjectionThreadOptions) {
    this.workerUrl = options.workerUrl ?? new URL('./projection-worker.js', import.meta.url);
    this.restartPolicy = { ...DEFAULT_RESTART, ...options.restart };
    this.healthyAfterMs = options.healthyAfterMs ?? 60_000;
    this.startTimeoutMs = options.startTimeoutMs ?? 15_000;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 5000;
    this.wakeCoalesceMs = options.wakeCoalesceMs ?? 20;
    const clock = options.clock ?? systemClock;
    this.now = () => clock.now();
  }

  /** Where the worker is in its life cycle. */
  get state(): ProjectionThreadState {
    return this.phase;
  }

  /** The worker's thread id while one exists. */
  get threadId(): number | undefined {
    return this.worker?.threadId;
  }

  /**
   * Starts the worker and resolves once it has opened its files and started the projection.
   * @throws Error when the first worker fails or is not ready in time (nothing is left running).
   */
  async start(): Promise<void> {
    if (this.phase !== 'stopped') return;
    this.phase = 'starting';
    this.restarts = 0;
    this.lastFailure = undefined;
    this.unsubscribe = this.options.store.onAppended(() => this.wake());
    const ready = new Promise<void>((resolve, reject) => (this.firstStart = { resolve, reject }));
    this.spawn();
    try {
      await ready;
    } catch (err) {
      this.unsubscribe?.();
      this.unsubscribe = undefined;
      throw err;
    }
  }

  /**
   * Asks the worker to stop (it finishes its batch and saves the checkpoint with it) and waits for
   * it to exit; terminates it after `stopTimeoutMs`.
   */
  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    this.stopping ??= this.shutDown().finally(() => (this.stopping = undefined));
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    this.phase = 'stopping';
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const worker = this.worker;
    if (worker !== undefined) {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage(STOP);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.stopTimeoutMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        this.options.logger.warn(
          { worker: 'projection', timeoutMs: this.stopTimeoutMs },
          'projection worker did not stop in time; terminating it',
        );
        await worker.terminate();
      }
    }
    this.worker = undefined;
    this.phase = 'stopped';
  }

  /** The projection's lag, computed here from its saved checkpoint and the store's head. */
  async lag(): Promise<SubscriptionLag[]> {
    const checkpoint = await this.options.views.checkpoint();
    return [
      await measureLag(this.options.store, DOSSIER_PROJECTION_NAME, checkpoint, this.status(), {
        now: this.now,
      }),
    ];
  }

  private status(): SubscriptionStatus {
    switch (this.phase) {
      case 'running':
        return this.workerStatus;
      case 'restarting':
        return {
          state: 'retrying',
          attempts: this.restarts,
          ...(this.lastFailure === undefined ? {} : { lastError: this.lastFailure }),
        };
      case 'starting':
        return { state: 'running', attempts: 0 };
      default:
        return { state: 'stopped', attempts: 0 };
    }
  }

  private spawn(): void {
    let worker: Worker;
    try {
      worker = new Worker(this.workerUrl, { workerData: this.options.data });
    } catch (err) {
      this.ended(`the projection worker could not be started: ${(err as Error).message}`, err);
      return;
    }
    this.worker = worker;
    this.workerStatus = { state: 'running', attempts: 0 };
    let ready = false;
    let error: Error | undefined;
    const startTimer = setTimeout(() => {
      error = new Error(`the projection worker was not ready within ${this.startTimeoutMs} ms`);
      void worker.terminate();
    }, this.startTimeoutMs);
    worker.on('message', (message: FromProjectionWorker) => {
      if (message.type === 'status') {
        this.workerStatus = message.status;
      } else if (message.type === 'unreadable') {
        this.options.onUnreadable?.(message.eventType);
      } else if (message.type === 'ready' && !ready) {
        ready = true;
        clearTimeout(startTimer);
        this.ready();
      }
    });
    worker.on('error', (err) => {
      error = err;
    });
    worker.on('exit', (code) => {
      clearTimeout(startTimer);
      this.exited(worker, code, error);
    });
  }

  private ready(): void {
    this.readyAt = this.now();
    if (this.phase === 'starting') {
      this.phase = 'running';
      this.firstStart?.resolve();
      this.firstStart = undefined;
    } else if (this.phase === 'restarting') {
      this.phase = 'running';
      this.options.logger.info(
        { worker: 'projection', restarts: this.restarts, threadId: this.worker?.threadId },
        'projection worker restarted',
      );
    }
  }

  private exited(worker: Worker, code: number, error: Error | undefined): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.ended(
      `the projection worker exited with code ${code}${error ? `: ${error.message}` : ''}`,
      error,
      code,
    );
  }

  /** A worker is gone: fails the first start, or schedules a restart unless stopping. */
  private ended(failure: string, error: unknown, exitCode?: number): void {
    if (this.firstStart !== undefined) {
      // The first worker never got ready: start() fails, the hub does not start.
      this.firstStart.reject(new Error(failure, { cause: error }));
      this.firstStart = undefined;
      if (this.phase === 'starting') this.phase = 'stopped';
      return;
    }
    if (this.phase === 'stopping' || this.phase === 'stopped') return;
    const healthy = this.phase === 'running' && this.now() - this.readyAt >= this.healthyAfterMs;
    this.restarts = healthy ? 1 : this.restarts + 1;
    this.lastFailure = failure;
    this.phase = 'restarting';
    const delayMs = backoffDelay(this.restarts, this.restartPolicy);
    this.options.logger.error(
      { worker: 'projection', exitCode, err: failure, restarts: this.restarts, retryInMs: delayMs },
      'projection worker died; restarting it',
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.phase === 'restarting') this.spawn();
    }, delayMs);
  }

  /** Posts at most one wake-up per `wakeCoalesceMs`, however many commits happen meanwhile. */
  private wake(): void {
    if (this.wakeTimer !== undefined || this.worker === undefined) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.worker?.postMessage(WAKE);
    }, this.wakeCoalesceMs);
  }
}
