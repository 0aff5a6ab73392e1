import { readFileSync } from 'node:fs';
import {
  CheckpointSubscriber,
  SqlCheckpointStore,
  signingKeyFromPem,
  type CheckpointKey,
  type PublicKey,
  type SignedCheckpoint,
  type SigningKeyPair,
} from '#lgsp/checkpoints';
import type { EventStore } from '#lgsp/event-store';
import type { HubConfig } from '#lgsp/hub-config';
import type { RootLogger as Logger } from '#lgsp/observability';
import type { SqlDatabase } from '#lgsp/storage';
import type { Subscriptions } from '#lgsp/subscriptions';

/** What the API reads of the checkpoints: the public keys and the checkpoints kept. */
export interface CheckpointReader {
  /** The key that signs now. */
  key(): Promise<Pick<CheckpointKey, 'keyId' | 'publicKey'>>;
  /** Every key recorded in the store, oldest first. */
  keys(): Promise<PublicKey[]>;
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
  /** The log as stored (sealed personal data unopened): the signer reads it, beside `subscriptions`' own. */
  events: EventStore;
  subscriptions: Subscriptions;
  /** With PostgreSQL replicas the time rule signs only where the subscriber's lease is held. */
  leased: boolean;
}

/**
 * Opens the checkpoint tables, makes the signing key at the first start (or reads `checkpoints.keyFile`),
 * and registers the signing subscriber; undefined when `checkpoints.enabled` is false.
 * @throws Error when the key file cannot be read or holds no Ed25519 private key.
 */
export async function checkpointParts(options: CheckpointPartsOptions): Promise<CheckpointParts | undefined> {
  const { config, logger } = options;
  if (!config.checkpoints.enabled) return undefined;
  const { keyFile } = config.checkpoints;
  const key = keyFile === null ? undefined : readKeyFile(keyFile);
  const store = await SqlCheckpointStore.open(options.database);
  const log = logger.child({ component: 'checkpoints' });
  const subscriber = new CheckpointSubscriber({
    store,
    events: options.events,
    settings: { every: config.checkpoints.every, everySeconds: config.checkpoints.everySeconds },
    ...(key ? { key } : {}),
    logger: log,
  });
  const { keyId } = await subscriber.key();
  log.info(
    {
      keyId,
      keyFrom: keyFile ?? 'the store',
      every: config.checkpoints.every,
      everySeconds: config.checkpoints.everySeconds,
    },
    'checkpoint signing key ready',
  );
  // It signs positions and chain hashes: it reads the events as stored (`events`), so that a store
  // opening personal data opens nothing for it.
  const runner = options.subscriptions.register(subscriber, { store: options.events });
  return {
    reader: {
      key: () => subscriber.key(),
      keys: async () => (await store.keys()).map(({ keyId, publicKey }) => ({ keyId, publicKey })),
      list: (after, limit) => store.list(after, limit),
    },
    start: () => subscriber.start(options.leased ? () => runner.heldLease !== undefined : () => true),
    stop: () => subscriber.stop(),
  };
}

/** The key pair of `checkpoints.keyFile`. */
function readKeyFile(file: string): SigningKeyPair {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`checkpoints.keyFile: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return signingKeyFromPem(pem);
  } catch (err) {
    throw new Error(`checkpoints.keyFile: ${file} holds ${(err as Error).message}`, { cause: err });
  }
}
