import type { EventStore, ReadAllOptions, StoredEvent } from '#lgsp/event-store';
import type { ReplaySendResult, ReplayTarget } from '#lgsp/replay';
import { inReadScope, readScope, type Client, type ReadScope } from '#lgsp/security';
import { backoffDelay } from '#lgsp/subscriptions';
import { silentLogger, type Logger } from '#lgsp/observability';
import { EventConversionError, toVersions } from '#lgsp/contracts';
import { toKafkaMessage } from './cloudevents-kafka.js';
import { type KafkaAdmin, type KafkaClient, type KafkaProducer, type OutgoingMessage } from './client.js';
import { BrokerError, UnroutableEventError } from './errors.js';
import type { RelayEventVersions } from './relay.js';
import { KafkaTopics, topicSettings, type TopicSettings } from './topics.js';

/**
 * The header that marks a replayed record: its value is the replay's id. Records of the live province
 * topics never carry it. A consumer that sees a replayed event it already has (same `lgsp_position`, or
 * `ce_source` + `ce_id`) may drop it.
 */
export const LGSP_REPLAY_HEADER = 'lgsp_replay';

/** Replay targets of Kafka consumers are named `kafka:<client name>`. */
export const KAFKA_REPLAY_TARGET_PREFIX = 'kafka:';

/** The consumer (client name) of a `kafka:<consumer>` target name; undefined for any other name. */
export function kafkaReplayConsumer(target: string): string | undefined {
  if (!target.startsWith(KAFKA_REPLAY_TARGET_PREFIX)) return undefined;
  return target.slice(KAFKA_REPLAY_TARGET_PREFIX.length);
}

/** How often a refused or unanswered produce is tried again before the batch (and the run) fails. */
export interface KafkaReplayRetry {
  /** Tries in all, the first included. @defaultValue 4 */
  attempts: number;
  /** Wait before the second try; doubled after each failure. @defaultValue 250 */
  initialDelayMs: number;
  /** Longest wait between tries. @defaultValue 2000 */
  maxDelayMs: number;
}

export interface KafkaReplayTargetsOptions {
  client: KafkaClient;
  /** Where the replayed events are read (by position). */
  events: Pick<EventStore, 'readAll'>;
  /** @defaultValue topics with the prefix "lgsp" */
  topics?: KafkaTopics;
  /** How a replay topic is created the first time a replay needs it (as the province topics). */
  replayTopics?: Partial<TopicSettings>;
  /** Events per second a replay sends at most (`kafka.replay.ratePerSecond`). @defaultValue 1000 */
  ratePerSecond?: number;
  /** Events per produce request (`kafka.replay.batchSize`). @defaultValue 200 */
  batchSize?: number;
  retry?: Partial<KafkaReplayRetry>;
  /** Events per read of the log while collecting a batch. @defaultValue 1000 */
  readPageSize?: number;
  /** The versions each province topic carries (the relay's `eventVersions`): a replay sends the same. */
  eventVersions?: RelayEventVersions;
  logger?: Logger;
}

/** A Kafka consumer's replay target, with the topic it sends to. */
export interface KafkaReplayTarget extends ReplayTarget {
  readonly unit: 'event';
  /** `<prefix>.replay.<client name>`. */
  readonly topic: string;
  sendBatch(items: readonly string[], replayId: string, signal?: AbortSignal): Promise<ReplaySendResult[]>;
}

/** The roles whose clients are Kafka consumers a replay can be sent to. */
const CONSUMER_ROLES: ReadonlySet<Client['role']> = new Set(['province', 'commune']);

/**
 * The replay targets of Kafka consumers, sharing one producer and one admin client. A consumer is a
 * registered client of role `province` or `commune`; its target `kafka:<client name>` sends the
 * replayed events to the consumer's own topic `<prefix>.replay.<client name>` and to no other topic, and
 * accepts only the events the client may read (its province, or its communes): a replay never gives a
 * consumer more than its read scope, whatever the replay's scope says.
 */
export class KafkaReplayTargets {
  readonly ratePerSecond: number;
  readonly batchSize: number;
  private readonly options: KafkaReplayTargetsOptions;
  private readonly topics: KafkaTopics;
  private readonly settings: TopicSettings;
  private readonly retry: KafkaReplayRetry;
  private readonly producer: KafkaProducer;
  private readonly admin: KafkaAdmin;
  private readonly logger: Logger;
  /** Replay topics known to exist; forgotten after a failed send, in case one was deleted. */
  private readonly knownTopics = new Set<string>();

  constructor(options: KafkaReplayTargetsOptions) {
    this.options = options;
    this.ratePerSecond = options.ratePerSecond ?? 1000;
    this.batchSize = options.batchSize ?? 200;
    for (const [name, value] of [
      ['ratePerSecond', this.ratePerSecond],
      ['batchSize', this.batchSize],
    ] as const) {
      if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be > 0, got ${value}`);
    }
    this.topics = options.topics ?? new KafkaTopics();
    this.settings = topicSettings(options.replayTopics, 'replayTopics');
    this.retry = { attempts: 4, initialDelayMs: 250, maxDelayMs: 2000, ...options.retry };
    this.producer = options.client.producer();
    this.admin = options.client.admin();
    this.logger = options.logger ?? silentLogger;
  }

  /** The event at the version its province topic carries (see {@link KafkaReplayTargetsOptions.eventVersions}). */
  atTopicVersion(event: StoredEvent): StoredEvent {
    const versions = this.options.eventVersions ?? {};
    return toVersions(event, versions[event.provinceCode ?? ''] ?? versions['*']);
  }

  /**
   * The replay target of one consumer; undefined when the client is not a consumer (role `admin` or
   * `operator`).
   * @throws DomainError `invalid` when the client's name cannot name a topic (see `KafkaTopics.replay`).
   */
  target(client: Client): KafkaReplayTarget | undefined {
    if (!CONSUMER_ROLES.has(client.role)) return undefined;
    const topic = this.topics.replay(client.name);
    return new KafkaConsumerReplayTarget(this, client, topic, readScope(client));
  }

  /**
   * The target a replay names: `kafka:<client name>` for a registered `province` or `commune` client;
   * undefined for any other name, an unknown client or another role (the replay API then answers 404).
   * @throws DomainError `invalid` when the client's name cannot name a topic.
   */
  async resolve(
    name: string,
    clients: { findByName(name: string): Promise<Client | undefined> },
  ): Promise<KafkaReplayTarget | undefined> {
    const consumer = kafkaReplayConsumer(name);
    if (consumer === undefined || consumer === '') return undefined;
    const client = await clients.findByName(consumer);
    return client === undefined ? undefined : this.target(client);
  }

  /** Closes the producer and admin connections. Call after the replay executor stopped. */
  async close(): Promise<void> {
    await Promise.all([this.producer.close(), this.admin.close()]);
  }

  /** @internal The events at these positions (ascending), read in pages of the log within `filter`. */
  async read(
    positions: readonly number[],
    filter: Pick<ReadAllOptions, 'provinceCodes' | 'communeCodes'>,
    signal: AbortSignal | undefined,
  ): Promise<Map<number, StoredEvent>> {
    const found = new Map<number, StoredEvent>();
    const wanted = new Set(positions);
    const last = positions.at(-1);
    if (last === undefined) return found;
    const pageSize = this.options.readPageSize ?? 1000;
    let next = 0; // index in `positions` of the first position not passed yet
    let after = (positions[0] ?? 1) - 1;
    while (after < last) {
      signal?.throwIfAborted();
      const limit = Math.min(pageSize, last - after);
      const page = await this.options.events.readAll({ after, limit, ...filter });
      for (const event of page) {
        if (event.position > last) break;
        if (wanted.has(event.position)) found.set(event.position, event);
      }
      const end = page.at(-1);
      if (end === undefined || page.length < limit) break;
      // Skip the stretch of the log before the next wanted position: a sparse batch reads little.
      while (next < positions.length && (positions[next] ?? 0) <= end.position) next++;
      const jump = positions[next];
      if (jump === undefined) break;
      after = Math.max(end.position, jump - 1);
    }
    return found;
  }

  /**
   * @internal Produces the records to the replay topic (created when missing) in one send, trying again
   * with backoff while the broker is unavailable.
   * @throws BrokerError when the last try failed or the broker refused for good; the signal's reason when
   *   it aborted during a wait.
   */
  async produce(topic: string, messages: readonly OutgoingMessage[], signal: AbortSignal | undefined) {
    // The hub's one backoff, without jitter: one producer per process, nothing to spread out.
    const policy = { ...this.retry, factor: 2 };
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      try {
        await this.ensureTopic(topic);
        await this.producer.send([{ topic, messages }]);
        return;
      } catch (err) {
        this.knownTopics.delete(topic);
        const retriable = !(err instanceof BrokerError) || err.retriable;
        if (!retriable || attempt >= this.retry.attempts) throw err;
        const delay = backoffDelay(attempt, policy, () => 1);
        this.logger.warn(
          { topic, attempt, delayMs: delay, err: err instanceof Error ? err.message : String(err) },
          'Kafka replay send failed; trying again',
        );
        await sleep(delay, signal);
      }
    }
  }

  private async ensureTopic(topic: string): Promise<void> {
    if (this.knownTopics.has(topic)) return;
    const { partitions, replicationFactor, config } = this.settings;
    await this.admin.createTopics([{ topic, partitions, replicationFactor, config }]);
    this.knownTopics.add(topic);
    this.logger.info({ topic, partitions, replicationFactor }, 'Kafka replay topic ready');
  }
}

/** One consumer's replay target: see {@link KafkaReplayTargets}. */
class KafkaConsumerReplayTarget implements KafkaReplayTarget {
  readonly name: string;
  readonly unit = 'event' as const;
  readonly ratePerSecond: number;
  /** One record per event. */
  readonly callsPerItem = 1;
  readonly batchSize: number;
  private readonly filter: Pick<ReadAllOptions, 'provinceCodes' | 'communeCodes'>;

  constructor(
    private readonly targets: KafkaReplayTargets,
    client: Client,
    readonly topic: string,
    private readonly scope: ReadScope,
  ) {
    this.name = KAFKA_REPLAY_TARGET_PREFIX + client.name;
    this.ratePerSecond = targets.ratePerSecond;
    this.batchSize = targets.batchSize;
    // The log's own filter narrows the reads; `accepts` decides (a consumer is never `all`).
    this.filter =
      !scope.all && scope.communeCodes.length > 0
        ? { communeCodes: scope.communeCodes }
        : { provinceCodes: scope.all ? [] : scope.provinceCodes };
  }

  /** The events the client may read: those of its province, or of its communes. */
  accepts(event: StoredEvent): boolean {
    return inReadScope(this.scope, event.provinceCode, event.communeCode);
  }

  async send(item: string, replayId: string, signal?: AbortSignal): Promise<ReplaySendResult> {
    const [result] = await this.sendBatch([item], replayId, signal);
    return result ?? 'failed';
  }

  /**
   * Reads the batch's events from the log and produces them to the consumer's replay topic in one send,
   * each as the relay would (CloudEvents binary mode, key = dossier code, the version its province topic
   * carries) plus `lgsp_replay: <replayId>`.
   * An item that is not a position of the log, an event outside the consumer's scope, and an event with
   * no dossier code are `failed` and not sent.
   */
  async sendBatch(
    items: readonly string[],
    replayId: string,
    signal?: AbortSignal,
  ): Promise<ReplaySendResult[]> {
    const positions = items.map((item) => (/^[1-9][0-9]*$/.test(item) ? Number(item) : NaN));
    const sorted = [...new Set(positions.filter((p) => Number.isSafeInteger(p)))].sort((a, b) => a - b);
    const readable = (this.filter.communeCodes ?? this.filter.provinceCodes ?? []).length > 0;
    const events = readable
      ? await this.targets.read(sorted, this.filter, signal)
      : new Map<number, StoredEvent>();
    const messages: OutgoingMessage[] = [];
    const results = positions.map((position): ReplaySendResult => {
      const event = events.get(position);
      if (event === undefined || !this.accepts(event)) return 'failed';
      let message;
      try {
        message = toKafkaMessage(this.targets.atTopicVersion(event));
      } catch (err) {
        // Not routable, or not convertible to its topic's version (the relay dead-letters it): not sent.
        if (err instanceof UnroutableEventError || err instanceof EventConversionError) return 'failed';
        throw err;
      }
      messages.push({ ...message, headers: { ...message.headers, [LGSP_REPLAY_HEADER]: replayId } });
      return 'sent';
    });
    if (messages.length > 0) await this.targets.produce(this.topic, messages, signal);
    return results;
  }
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
