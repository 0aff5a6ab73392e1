import {
  EventConversionError,
  eventVersionsIssues,
  toVersions,
  withAllVersions,
  type EventVersions,
} from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import type { Page, Subscriber, SubscriberFilter } from '#lgsp/subscriptions';
import { silentLogger, tracing, type Logger } from '#lgsp/observability';
import { provinceCodeOf, toKafkaMessage } from './cloudevents-kafka.js';
import {
  DLQ_CODE_HEADER,
  DLQ_ERRORS_HEADER,
  DLQ_REASON_HEADER,
  ORIGINAL_TOPIC_HEADER,
} from './dead-letter.js';
import {
  type KafkaAdmin,
  type KafkaClient,
  type KafkaProducer,
  type OutgoingMessage,
  type TopicMessages,
} from './client.js';
import { UnroutableEventError } from './errors.js';
import { KafkaTopics, topicSettings, type TopicSettings } from './topics.js';

/** The relay's subscriber name: its checkpoint is stored under it, so it never changes. */
export const KAFKA_RELAY_NAME = 'relay.kafka';

/** What the relay reports to metrics; an interface so that this library knows no metrics library. */
export interface KafkaRelayObserver {
  /** `count` events of one province topic were acknowledged by the broker. */
  published(topic: string, count: number): void;
  /** An event could not be converted to the version its topic receives: sent to the relay's dead-letter topic. */
  unreadable?(topic: string, event: StoredEvent, error: EventConversionError): void;
}

/**
 * The version of each event family a province topic carries, by province code, `*` for every province
 * not named (`{"*": {}, "79": {"dossier.submitted": 2}}`); a family not named is sent at version 1.
 */
export type RelayEventVersions = Readonly<Record<string, EventVersions>>;

export interface KafkaRelayOptions {
  client: KafkaClient;
  /** @defaultValue topics with the prefix "lgsp" */
  topics?: KafkaTopics;
  /** How a province topic is created the first time the relay needs it. */
  provinceTopics?: Partial<TopicSettings>;
  /** Subscriber name (and checkpoint key). @defaultValue "relay.kafka" */
  name?: string;
  /** Events per batch; one batch is one produce request per broker. @defaultValue 200 */
  batchSize?: number;
  /** See {@link Subscriber.coalesceMs}. @defaultValue 5 */
  coalesceMs?: number;
  /** Relay only these events (a type names every version of its family). @defaultValue every event */
  filter?: SubscriberFilter;
  /** The versions each province topic carries. @defaultValue version 1 of every family, on every topic */
  eventVersions?: RelayEventVersions;
  logger?: Logger;
  observer?: KafkaRelayObserver;
}

/**
 * Publishes the event log to Kafka: each event to the topic of its province, in CloudEvents binary
 * mode, key = dossier code (see `toKafkaMessage`). It is a subscriber: the runner hands it the log in
 * position order and saves the checkpoint only after `handle` resolved, which is after the broker
 * acknowledged every record (`acks=all`, idempotent producer). When the broker is down `handle` throws a
 * retriable `BrokerError`; the runner backs off and hands the same events again, while ingest goes on
 * appending to the store. Delivery is therefore at least once: a batch that failed half-way is sent
 * again whole, and subscribers recognise a repeat by `lgsp_position` (or `ce_source` + `ce_id`).
 */
export class KafkaRelay implements Subscriber {
  readonly name: string;
  readonly batchSize: number;
  readonly coalesceMs: number;
  readonly filter?: SubscriberFilter;
  private readonly topics: KafkaTopics;
  private readonly settings: TopicSettings;
  private readonly producer: KafkaProducer;
  private readonly admin: KafkaAdmin;
  private readonly logger: Logger;
  private readonly observer: KafkaRelayObserver | undefined;
  private readonly eventVersions: RelayEventVersions;
  /** Topics known to exist; forgotten after a failed send, in case one was deleted. */
  private readonly knownTopics = new Set<string>();

  constructor(options: KafkaRelayOptions) {
    this.name = options.name ?? KAFKA_RELAY_NAME;
    this.batchSize = options.batchSize ?? 200;
    this.coalesceMs = options.coalesceMs ?? 5;
    if (options.filter)
      this.filter =
        options.filter.types === undefined
          ? options.filter
          : { ...options.filter, types: withAllVersions(options.filter.types) };
    this.eventVersions = options.eventVersions ?? {};
    for (const [province, versions] of Object.entries(this.eventVersions)) {
      const issues = eventVersionsIssues(versions, `/kafka/relay/eventVersions/${province}`);
      if (!/^([0-9]{2}|\*)$/.test(province))
        issues.push({
          pointer: `/kafka/relay/eventVersions/${province}`,
          message: 'is not a province code or *',
        });
      if (issues.length > 0) throw new TypeError(issues.map((i) => `${i.pointer}: ${i.message}`).join('; '));
    }
    this.topics = options.topics ?? new KafkaTopics();
    this.settings = topicSettings(options.provinceTopics, 'provinceTopics');
    this.producer = options.client.producer();
    this.admin = options.client.admin();
    this.logger = options.logger ?? silentLogger;
    this.observer = options.observer;
  }

  /**
   * Sends the batch and resolves once the broker acknowledged all of it.
   * @throws UnroutableEventError before sending anything when an event has no province or dossier code;
   *   the relay then stops at that event (an operator must act) rather than skip it.
   * @throws BrokerError when the broker is unreachable or refuses the records.
   */
  async handle(events: readonly StoredEvent[], _page?: Page): Promise<void> {
    const batches = this.route(events);
    if (batches.length === 0) return;
    await this.ensureTopics(batches.map((b) => b.topic));
    // Each record carries its event's stored traceparent as a header (toKafkaMessage); the send span
    // links to them (OTel messaging conventions, a batch send).
    await tracing().span(
      batches.length === 1 ? `send ${batches[0]!.topic}` : 'send',
      {
        kind: 'producer',
        links: events.map((e) =>
          typeof e.extensions['traceparent'] === 'string' ? e.extensions['traceparent'] : undefined,
        ),
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'send',
          'messaging.batch.message_count': events.length,
          ...(batches.length === 1 ? { 'messaging.destination.name': batches[0]!.topic } : {}),
        },
      },
      async () => {
        try {
          await this.producer.send(batches);
        } catch (err) {
          this.knownTopics.clear();
          throw err;
        }
      },
    );
    for (const batch of batches) this.observer?.published(batch.topic, batch.messages.length);
  }

  /** Closes the producer and admin connections. Call after the subscription runner stopped. */
  async close(): Promise<void> {
    await Promise.all([this.producer.close(), this.admin.close()]);
  }

  /**
   * The batch by topic, each event at the version its province topic carries. One that cannot be
   * converted goes, as stored, to the relay's dead-letter topic with the reason in headers (and the
   * province topic it was for): it never stops the relay, and the topic's consumers see the gap in
   * `lgsp_position`.
   */
  private route(events: readonly StoredEvent[]): TopicMessages[] {
    const byTopic = new Map<string, OutgoingMessage[]>();
    const add = (topic: string, message: OutgoingMessage) => {
      const messages = byTopic.get(topic);
      if (messages) messages.push(message);
      else byTopic.set(topic, [message]);
    };
    for (const event of events) {
      let topic: string;
      let province: string;
      try {
        province = provinceCodeOf(event);
        topic = this.topics.province(province);
      } catch (err) {
        if (err instanceof UnroutableEventError) throw err;
        const reason = err instanceof Error ? err.message : String(err);
        throw new UnroutableEventError(event, reason, [{ pointer: '/data/provinceCode', message: reason }]);
      }
      let message: OutgoingMessage;
      try {
        message = toKafkaMessage(toVersions(event, this.eventVersions[province] ?? this.eventVersions['*']));
      } catch (err) {
        if (!(err instanceof EventConversionError)) throw err;
        this.logger.error(
          { position: event.position, stream: event.stream, type: event.type, topic, err: err.message },
          'event sent to the relay dead-letter topic: it cannot be read at the version its topic carries',
        );
        this.observer?.unreadable?.(topic, event, err);
        const stored = toKafkaMessage(event);
        add(this.topics.relayDeadLetter, {
          ...stored,
          headers: {
            ...stored.headers,
            [DLQ_REASON_HEADER]: err.message,
            [DLQ_CODE_HEADER]: err.code,
            [DLQ_ERRORS_HEADER]: JSON.stringify(err.issues),
            [ORIGINAL_TOPIC_HEADER]: topic,
          },
        });
        continue;
      }
      add(topic, message);
    }
    return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
  }

  private async ensureTopics(topics: readonly string[]): Promise<void> {
    const missing = topics.filter((t) => !this.knownTopics.has(t));
    if (missing.length === 0) return;
    const { partitions, replicationFactor, config } = this.settings;
    await this.admin.createTopics(missing.map((topic) => ({ topic, partitions, replicationFactor, config })));
    for (const topic of missing) this.knownTopics.add(topic);
    this.logger.info({ topics: missing, partitions, replicationFactor }, 'Kafka province topics ready');
  }
}
