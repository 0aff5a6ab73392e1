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
  /** Processes one batch. Throwing leaves the checkpoint where it was: the batch is retried later. */
  handle(events: readonly StoredEvent[]): Promise<void>;
}

/** The subset of a pino logger the subscriptions use. */
export interface SubscriptionLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: SubscriptionLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

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
