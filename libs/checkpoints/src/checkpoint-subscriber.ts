import type { EventStore, StoredEvent } from '#lgsp/event-store';
import { silentLogger, systemClock, type Clock, type Logger } from '#lgsp/observability';
import type { Subscriber } from '#lgsp/subscriptions';
import type { SignedCheckpoint } from './model.js';
import { CheckpointSigner, type SigningKeyPair } from './signing.js';
import type { SqlCheckpointStore } from './sql-checkpoint-store.js';

/** When the hub signs a checkpoint. */
export interface CheckpointSettings {
  /** A checkpoint at every `every`-th position after the last one. */
  every: number;
  /** A checkpoint at the head once events after the last one have waited this many seconds. */
  everySeconds: number;
}

export interface CheckpointSubscriberOptions {
  store: SqlCheckpointStore;
  events: Pick<EventStore, 'head' | 'readAll'>;
  settings: CheckpointSettings;
  /**
   * A key pair kept outside the store (a key file) to sign with instead of the store's own; its public
   * half is recorded in the store. @defaultValue the store's own key pair, made at the first start
   */
  key?: SigningKeyPair;
  logger?: Logger;
  clock?: Pick<Clock, 'now'>;
  /** Called with each checkpoint this process kept. */
  signed?: (c: SignedCheckpoint) => void;
}

/** The subscriber's name: its checkpoint in the log and its lease. */
export const CHECKPOINTS_SUBSCRIBER = 'checkpoints';

/** How often the time rule is looked at, at most (less when `everySeconds` is shorter). */
const TICK_MS = 1000;

/**
 * Signs checkpoints as the log grows: a log subscriber that signs the record at every `every`-th
 * position after the last checkpoint, and a timer that signs the head once events after the last
 * checkpoint have waited `everySeconds` (a quiet log gets no new checkpoint). Both run only where
 * the subscriber runs (under its lease with PostgreSQL replicas), one at a time. Decisions start from
 * the last checkpoint kept in the store, so a restart or another replica taking over goes on from it;
 * a position is signed once (a second signature of it is not kept).
 */
export class CheckpointSubscriber implements Subscriber {
  readonly name = CHECKPOINTS_SUBSCRIBER;
  readonly batchSize: number;
  /**
   * Its decisions start from the last checkpoint kept in the store, so a batch read again signs nothing
   * twice: its place in the log is saved without an fsync of its own.
   */
  readonly checkpointWithNextCommit = true;
  private readonly logger: Logger;
  private readonly now: () => number;
  /** When this process first saw events after the last checkpoint (its clock); undefined when none are. */
  private pendingSince: number | undefined;
  private signer: Promise<CheckpointSigner> | undefined;
  /** One signing decision at a time (a batch, a tick). */
  private turn: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: CheckpointSubscriberOptions) {
    const { every, everySeconds } = options.settings;
    if (!Number.isSafeInteger(every) || every < 1) throw new TypeError('checkpoints.every must be ≥ 1');
    if (!(everySeconds > 0)) throw new TypeError('checkpoints.everySeconds must be > 0');
    this.batchSize = Math.min(1000, Math.max(100, every));
    this.logger = options.logger ?? silentLogger;
    const clock = options.clock ?? systemClock;
    this.now = () => clock.now();
  }

  /**
   * The public key that signs and its id: the key file's (recorded in the store), or the store's own,
   * made when the store has none (at the hub's first start).
   */
  async key(): Promise<{ keyId: string; publicKey: string }> {
    const signer = await this.signerOf();
    return { keyId: signer.keyId, publicKey: signer.publicKey };
  }

  async handle(events: readonly StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.inTurn(async () => {
      let last = (await this.options.store.latest())?.position ?? 0;
      const { every } = this.options.settings;
      for (const e of events) {
        if (e.position - last < every) continue;
        await this.sign(e);
        last = e.position;
      }
    });
  }

  /** Starts the time rule; `held` says whether this process runs the subscriber (holds its lease). */
  start(held: () => boolean = () => true): void {
    if (this.timer) return;
    const ms = Math.min(TICK_MS, this.options.settings.everySeconds * 1000);
    this.timer = setInterval(() => {
      if (!held()) return;
      this.tick().catch((err: unknown) =>
        this.logger.warn({ err }, 'checkpoint not signed; trying again at the next tick'),
      );
    }, ms);
    this.timer.unref();
  }

  /** Stops the time rule, after a signing in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.turn.catch(() => undefined);
  }

  /**
   * The time rule once: signs the head when events after the last checkpoint have been waiting for
   * `everySeconds` (since this process first saw them, on its own clock).
   */
  async tick(): Promise<SignedCheckpoint | undefined> {
    return this.inTurn(async () => {
      const last = (await this.options.store.latest())?.position ?? 0;
      const head = (await this.options.events.head()).position;
      if (head <= last) {
        this.pendingSince = undefined;
        return undefined;
      }
      this.pendingSince ??= this.now();
      if (this.now() - this.pendingSince < this.options.settings.everySeconds * 1000) return undefined;
      const [event] = await this.options.events.readAll({ after: head - 1, limit: 1 });
      return event ? this.sign(event) : undefined;
    });
  }

  private async sign(e: StoredEvent): Promise<SignedCheckpoint> {
    const signer = await this.signerOf();
    const checkpoint = signer.sign(e.position, e.hash, new Date(this.now()).toISOString());
    this.pendingSince = undefined;
    if (await this.options.store.add(checkpoint)) {
      this.logger.info({ position: e.position, keyId: signer.keyId }, 'checkpoint signed');
      this.options.signed?.(checkpoint);
    }
    return checkpoint;
  }

  private signerOf(): Promise<CheckpointSigner> {
    const { key, store } = this.options;
    this.signer ??= key
      ? store.addPublicKey(key.keyId, key.publicKey).then(() => new CheckpointSigner(key))
      : store.signingKey().then((pair) => new CheckpointSigner(pair));
    // A failed read is tried again at the next call.
    this.signer.catch(() => (this.signer = undefined));
    return this.signer;
  }

  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const run = this.turn.then(work, work);
    this.turn = run.catch(() => undefined);
    return run;
  }
}
