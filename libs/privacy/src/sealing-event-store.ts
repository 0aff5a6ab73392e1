import type {
  AppendOptions,
  AppendResult,
  CheckpointStore,
  EventStore,
  EventToAppend,
  Head,
  ReadAllOptions,
  ReadStreamOptions,
  SourceId,
  StoredEvent,
  Unsubscribe,
} from '#lgsp/event-store';
import type { PersonalDataCodec } from './personal-data-codec.js';

/**
 * An event store whose personal fields are stored sealed: appends seal them (the subject keys are
 * durable before the events), reads open them. The store below hashes and chains what it stores, the
 * sealed values, so the chain verifies with or without the keys. Everything the hub reads through it
 * (ingest, subscribers, connectors, Kafka, webhooks, replays) sees clear text while a key exists, and
 * `[erased]` once it was destroyed.
 */
export class SealingEventStore implements EventStore {
  constructor(
    /** The store below, holding sealed values. */
    readonly inner: EventStore,
    readonly codec: PersonalDataCodec,
  ) {}

  get checkpoints(): CheckpointStore {
    return this.inner.checkpoints;
  }

  async append(events: readonly EventToAppend[], options?: AppendOptions): Promise<AppendResult[]> {
    return this.inner.append(await this.codec.seal(events, { withNextAppend: true }), options);
  }

  streamVersion(stream: string): Promise<number> {
    return this.inner.streamVersion(stream);
  }

  findStored(keys: readonly SourceId[]): Promise<(AppendResult | undefined)[]> {
    return this.inner.findStored(keys);
  }

  async readStream(stream: string, options?: ReadStreamOptions): Promise<StoredEvent[]> {
    return this.codec.revealEvents(await this.inner.readStream(stream, options));
  }

  /** Opened when read (see `PersonalDataCodec.revealEventsLazily`): subscribers read many they pass by. */
  async readAll(options?: ReadAllOptions): Promise<StoredEvent[]> {
    return this.codec.revealEventsLazily(await this.inner.readAll(options));
  }

  head(): Promise<Head> {
    return this.inner.head();
  }

  onAppended(listener: (head: number) => void): Unsubscribe {
    return this.inner.onAppended(listener);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
