/**
 * Durable follow-up work of connectors: things the hub must ask a target about again later, such as
 * a payment still pending or a civil-status registration not yet decided. An item survives a restart
 * of the hub; a poller takes the items that are due, asks the target, then either completes the item
 * or reschedules it.
 *
 * Items are keyed by (target, key); `key` is the target's own reference (`MaThamChieu`,
 * `maLienThong`…). `payload` is JSON the connector needs to act on the answer; it may hold personal
 * data (a registered person's name), so it never goes to logs.
 */
export interface PendingItem {
  target: string;
  key: string;
  dossier: string;
  payload: unknown;
  /** Epoch ms at or after which the item is due. */
  dueAt: number;
  /** Polls made so far. */
  attempts: number;
  /** RFC 3339. */
  createdAt: string;
  /**
   * The operator's replay that asked for this work: the events its answers become are marked with
   * `causedbyreplay` (see {@link markCausedByReplay}).
   */
  replay?: string;
}

export interface PendingWorkStore {
  /**
   * Adds the item unless (target, key) is pending already, in which case nothing changes (a repeated
   * request for the same work is harmless). Returns true when the item was added.
   */
  schedule(item: Omit<PendingItem, 'attempts'> & { attempts?: number }): Promise<boolean>;
  /** Items of `target` due at `now` (epoch ms), the earliest first. */
  due(target: string, now: number, limit: number): Promise<PendingItem[]>;
  /** Moves the item to `dueAt`, recording the polls made and, when given, a new payload. */
  reschedule(target: string, key: string, dueAt: number, attempts: number, payload?: unknown): Promise<void>;
  /** Removes the item; a no-op when it is not pending. */
  complete(target: string, key: string): Promise<void>;
  get(target: string, key: string): Promise<PendingItem | undefined>;
  /** How many items of `target` are pending, due or not. */
  count(target: string): Promise<number>;
}

/** The component name under which the pending-work tables are versioned. */
export const PENDING_WORK_COMPONENT = 'connectors.pending';
