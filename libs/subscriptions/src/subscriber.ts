import type { StoredEvent } from '#lgsp/event-store';

/** Which events a subscriber wants. An absent list matches everything; an empty list matches nothing. */
export interface SubscriberFilter {
  types?: readonly string[];
  provinceCodes?: readonly string[];
}

/**
 * A named consumer of the global log. Its checkpoint is stored under `name`, so the name must stay
 * the same across releases. Delivery is at least once, in position order: `handle` must be idempotent.
 */
export interface Subscriber {
  name: string;
  filter?: SubscriberFilter;
  /**
   * Events read per page (the filter is applied to the page, so a batch may hold fewer).
   * @defaultValue 100
   */
  batchSize?: number;
  /**
   * Once caught up and woken by an append, wait this long before reading, so that a burst of
   * commits becomes one batch (one write, one checkpoint) instead of many small ones. It bounds
   * how much lag it adds. @defaultValue 0
   */
  coalesceMs?: number;
  /**
   * Set when the subscriber keeps its checkpoint itself, next to its own state, rather than in the
   * event store's `checkpoints`: the runner loads the position from here and never saves it; `handle`
   * must save `page.checkpoint` in the same transaction as the batch's effects (so a batch is applied
   * exactly once), and is called for every page, even one the filter leaves empty.
   */
  ownCheckpoint?: OwnCheckpoint;
  /**
   * Set when handling a batch again changes nothing (the subscriber decides from its own state): its
   * checkpoint is saved without a sync of its own, durable with the store's next synced commit (see
   * `CheckpointSaveOptions.withNextCommit`; the event store's appends, embedded). A killed process loses
   * nothing; a power loss can take the checkpoint back a few batches, which are then handled again.
   * Ignored with {@link ownCheckpoint} and with leases (a shared PostgreSQL store syncs each save).
   */
  checkpointWithNextCommit?: boolean;
  /** Processes one batch. Throwing leaves the checkpoint where it was: the batch is retried later. */
  handle(events: readonly StoredEvent[], page: Page): Promise<void>;
}

/** The page of the log a batch was taken from. */
export interface Page {
  /** Last position of the page: the subscriber's checkpoint once the batch is done. */
  checkpoint: number;
  /**
   * Aborted when the runner is asked to stop (shutdown): a long batch may hand its work back by
   * throwing (its checkpoint stays, so it is delivered again after the restart) instead of finishing.
   */
  signal?: AbortSignal;
}

/** A checkpoint a subscriber keeps with its own state; see {@link Subscriber.ownCheckpoint}. */
export interface OwnCheckpoint {
  /** The last position the subscriber finished, 0 when it has none. */
  load(): Promise<number>;
}

/** Compiles a filter into a predicate; undefined when the filter lets everything through. */
export function compileFilter(
  filter: SubscriberFilter | undefined,
): ((e: StoredEvent) => boolean) | undefined {
  const types = filter?.types ? new Set(filter.types) : undefined;
  const provinces = filter?.provinceCodes ? new Set(filter.provinceCodes) : undefined;
  if (!types && !provinces) return undefined;
  return (e) =>
    (!types || types.has(e.type)) &&
    (!provinces || (e.provinceCode !== undefined && provinces.has(e.provinceCode)));
}
