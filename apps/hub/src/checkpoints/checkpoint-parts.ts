import {
  CheckpointSubscriber,
  SqlCheckpointStore,
  type CheckpointKey,
  type SignedCheckpoint,
} from '#lgsp/checkpoints';
import type { EventStore } from '#lgsp/event-store';
import type { HubConfig } from '#lgsp/hub-config';
import type { RootLogger as Logger } from '#lgsp/observability';
import type { SqlDatabase } from '#lgsp/storage';
import type { Subscriptions } from '#lgsp/subscriptions';

/** What the API reads of the checkpoints: the signing key's public half and the checkpoints kept. */
export interface CheckpointReader {
  key(): Promise<Pick<CheckpointKey, 'keyId' | 'publicKey'>>;
  /** Checkpoints after position `after`, in position order, at most `limit`. */
  list(after: number, limit: number): Promise<SignedCheckpoint[]>;
}

/** The checkpoints of a hub process: the reader of the API and the signing subscriber's timer. */
export interface CheckpointParts {
  reader: CheckpointReader;
  start(): void;
  stop(): Promise<void>;
}

export interface CheckpointPartsOptions {
  config: HubConfig;
  logger: Logger;
  database: SqlDatabase;
  events: EventStore;
  subscriptions: Subscriptions;
  /** With PostgreSQL replicas the time rule signs only where the subscriber's lease is held. */
  leased: boolean;
}

/**
 * Opens the checkpoint tables, makes the signing key at the first start, and registers the signing
 * subscriber; undefined when `checkpoints.enabled` is false.
 */
export async function checkpointParts(options: CheckpointPartsOptions): Promise<CheckpointParts | undefined> {
  const { config, logger } = options;
  if (!config.checkpoints.enabled) return undefined;
  const store = await SqlCheckpointStore.open(options.database);
  const log = logger.child({ component: 'checkpoints' });
  const subscriber = new CheckpointSubscriber({
    store,
    events: options.events,
    settings: { every: config.checkpoints.every, everySeconds: config.checkpoints.everySeconds },
    logger: log,
  });
  const { keyId } = await subscriber.key();
  log.info(
    { keyId, every: config.checkpoints.every, everySeconds: config.checkpoints.everySeconds },
    'checkpoint signing key ready',
  );
  const runner = options.subscriptions.register(subscriber);
  return {
    reader: { key: () => subscriber.key(), list: (after, limit) => store.list(after, limit) },
    start: () => subscriber.start(options.leased ? () => runner.heldLease !== undefined : () => true),
    stop: () => subscriber.stop(),
  };
}
