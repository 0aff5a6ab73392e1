import type { RetryPolicy, SubscriptionStatus } from '#lgsp/subscriptions';

/** What the hub hands the projection worker (its `workerData`). */
export interface ProjectionWorkerData {
  /** The event store's file, opened read-only by the worker. */
  eventsFile: string;
  /** The projection database; the hub has created its tables before starting the worker. */
  projectionsFile: string;
  batchSize: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** The main thread's log format (`log.format` resolved there). @defaultValue "json" */
  logFormat?: 'json' | 'pretty';
  /** Fallback poll when no wake-up message arrives; see `SubscriptionRunnerOptions.pollIntervalMs`. */
  pollIntervalMs?: number;
  /** Backoff of a failing batch inside the worker. */
  retry?: Partial<RetryPolicy>;
}

/** Messages from the hub to the worker. */
export type ToProjectionWorker =
  /** Events were appended since the last wake-up. */
  | { type: 'appended' }
  /** Finish the batch in flight (its checkpoint saved with it), close the files, exit. */
  | { type: 'stop' };

/** Messages from the worker to the hub. */
export type FromProjectionWorker =
  /** Files open and the projection started. */
  | { type: 'ready' }
  /** The projection's runner changed state. */
  | { type: 'status'; status: SubscriptionStatus }
  /** An event was left out of its view: it cannot be read at the newest version (its stored type). */
  | { type: 'unreadable'; eventType: string };
