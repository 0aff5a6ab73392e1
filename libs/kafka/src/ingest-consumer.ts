import { DomainError, type CloudEvent, type DomainErrorCode } from '#lgsp/contracts';
import type { IngestService } from '#lgsp/ingest';
import type { Client } from '#lgsp/security';
import { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy } from '#lgsp/subscriptions';
import { silentLogger, tracing, type Logger } from '#lgsp/observability';
import { fromKafkaMessage, traceparentHeader } from './cloudevents-kafka.js';
import {
  type ConsumedMessage,
  type KafkaAdmin,
  type KafkaClient,
  type KafkaConsumer,
  type KafkaProducer,
  type MessageVerdict,
} from './client.js';
import { deadLetterMessage } from './dead-letter.js';
import { KafkaTopics, topicSettings, type TopicSettings } from './topics.js';

/**
 * Which hub client a Kafka record acts for. Kafka gives no bearer token, so a record is authorised by
 * its CloudEvents `source`: the hub binds each source to one client, whose scope ingest then checks.
 */
export interface SourceDirectory {
  /**
   * The client bound to this `source`; undefined when none is (the record is dead-lettered). A
   * rejection (the clients store unavailable) keeps the record, to be read again later.
   */
  clientForSource(source: string): Promise<Client | undefined>;
}

/** The consumer group of the hub's ingest consumers. */
export const DEFAULT_INGEST_GROUP_ID = 'lgsp-hub-ingest';

/**
 * Codes that put the record itself at fault: it can never be appended as it is, so it goes to the
 * dead-letter topic. Anything else (the store unavailable, a broker error, an unexpected error) is the
 * hub's problem: the record is kept and read again later, never dead-lettered for it.
 */
export const DEAD_LETTER_CODES: ReadonlySet<DomainErrorCode> = new Set<DomainErrorCode>([
  'malformed',
  'invalid',
  'unauthenticated',
  'forbidden',
  'conflict',
  'too-large',
  'unsupported-media-type',
  'not-found',
]);

/** What became of one consumed record. `retrying`: it stays, and is read again after a backoff. */
export type KafkaIngestOutcome = 'appended' | 'duplicate' | 'dead-lettered' | 'retrying';

/** What the ingest consumer reports to metrics; an interface so that this library knows no metrics library. */
export interface KafkaIngestObserver {
  /** `code`: the error code of a dead-lettered or retrying record (`error` when it was not a DomainError). */
  outcome(outcome: KafkaIngestOutcome, code?: string): void;
}

export type KafkaIngestConsumerState = 'stopped' | 'connecting' | 'running';

export interface KafkaIngestConsumerOptions {
  client: KafkaClient;
  ingest: Pick<IngestService, 'ingest'>;
  sources: SourceDirectory;
  /** @defaultValue topics with the prefix "lgsp" */
  topics?: KafkaTopics;
  /** @defaultValue "lgsp-hub-ingest" */
  groupId?: string;
  /** Partitions ingested at the same time (records of one partition are always one after the other). @defaultValue 1 */
  partitionsConsumedConcurrently?: number;
  /**
   * Creates the ingest and dead-letter topics at start when they do not exist; `false` when operators
   * manage them. @defaultValue `{ partitions: 6, replicationFactor: 1 }`
   */
  createTopics?: Partial<TopicSettings> | false;
  /** Backoff of a record whose append failed for a retriable reason, and of reconnecting. */
  retry?: Partial<RetryPolicy>;
  logger?: Logger;
  observer?: KafkaIngestObserver;
}

const DONE: MessageVerdict = { kind: 'done' };
/** From this many consecutive failures of one partition on, they are logged as errors. */
const ERROR_AFTER_ATTEMPTS = 5;

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function dossierOf(event: CloudEvent): string | undefined {
  const data = event.data;
  const code =
    typeof data === 'object' && data !== null ? (data as { dossierCode?: unknown }).dossierCode : undefined;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Ingests the records of the ingest topic through the same use case as HTTP. For each record, in
 * partition order: read the CloudEvent (binary or structured mode) → find the client bound to its
 * `source` → `IngestService.ingest`. Appended or already stored: the offset is committed (after the
 * append is durable). Refused for a fault of the record (see {@link DEAD_LETTER_CODES}): the record goes
 * to the dead-letter topic with the reason, and once the broker acknowledged it, the offset is committed.
 * Anything else: nothing is committed, the partition pauses with backoff and the record is read again.
 */
export class KafkaIngestConsumer {
  private readonly topics: KafkaTopics;
  private readonly groupId: string;
  private readonly consumer: KafkaConsumer;
  private readonly producer: KafkaProducer;
  private readonly admin: KafkaAdmin;
  private readonly retry: RetryPolicy;
  private readonly createTopics: TopicSettings | undefined;
  private readonly logger: Logger;
  /** Consecutive failures per `topic/partition`; cleared when a record of the partition is done. */
  private readonly attempts = new Map<string, number>();
  private currentState: KafkaIngestConsumerState = 'stopped';
  private connectAttempts = 0;
  private connectTimer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;

  constructor(private readonly options: KafkaIngestConsumerOptions) {
    this.topics = options.topics ?? new KafkaTopics();
    this.groupId = options.groupId ?? DEFAULT_INGEST_GROUP_ID;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.createTopics =
      options.createTopics === false ? undefined : topicSettings(options.createTopics, 'createTopics');
    this.logger = options.logger ?? silentLogger;
    this.consumer = options.client.consumer({
      groupId: this.groupId,
      topic: this.topics.ingest,
      ...(options.partitionsConsumedConcurrently === undefined
        ? {}
        : { partitionsConsumedConcurrently: options.partitionsConsumedConcurrently }),
    });
    this.producer = options.client.producer();
    this.admin = options.client.admin();
  }

  get state(): KafkaIngestConsumerState {
    return this.currentState;
  }

  /**
   * Joins the consumer group. When the broker cannot be reached, it logs, keeps trying with backoff in
   * the background and resolves anyway: a broker outage must not stop the hub from starting.
   */
  async start(): Promise<void> {
    if (this.currentState !== 'stopped') return;
    this.currentState = 'connecting';
    this.connectAttempts = 0;
    await this.connect();
  }

  /** Stops reconnecting, lets the record in flight finish, leaves the group and disconnects. */
  async stop(): Promise<void> {
    if (this.currentState === 'stopped') return;
    this.currentState = 'stopped';
    clearTimeout(this.connectTimer);
    await this.connecting;
    await this.consumer.stop();
    await Promise.all([this.producer.close(), this.admin.close()]);
    this.attempts.clear();
  }

  /** A method, not a field read, so that the compiler does not narrow the state across awaits. */
  private stopRequested(): boolean {
    return this.currentState === 'stopped';
  }

  private connect(): Promise<void> {
    this.connecting = this.tryConnect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async tryConnect(): Promise<void> {
    try {
      if (this.createTopics) {
        const { partitions, replicationFactor, config } = this.createTopics;
        await this.admin.createTopics(
          [this.topics.ingest, this.topics.deadLetter].map((topic) => ({
            topic,
            partitions,
            replicationFactor,
            config,
          })),
        );
      }
      if (this.stopRequested()) return;
      await this.consumer.start(
        (message) => this.process(message),
        (err) => this.consumerFailed(err),
      );
      if (this.stopRequested()) {
        await this.consumer.stop();
        return;
      }
      this.currentState = 'running';
      this.connectAttempts = 0;
      this.logger.info({ groupId: this.groupId, topic: this.topics.ingest }, 'Kafka ingest consumer started');
    } catch (err) {
      this.reconnectLater(err, 'Kafka ingest consumer cannot start; retrying');
    }
  }

  /** The client library gave up on the running consumer: start a new one, with backoff. */
  private consumerFailed(err: unknown): void {
    if (this.currentState !== 'running') return;
    this.currentState = 'connecting';
    void this.consumer
      .stop()
      .catch(() => undefined)
      .then(() => this.reconnectLater(err, 'Kafka ingest consumer stopped on an error; reconnecting'));
  }

  private reconnectLater(err: unknown, message: string): void {
    if (this.stopRequested()) return;
    this.connectAttempts += 1;
    const retryInMs = backoffDelay(this.connectAttempts, this.retry);
    this.logger.warn(
      {
        groupId: this.groupId,
        topic: this.topics.ingest,
        attempts: this.connectAttempts,
        retryInMs,
        err: errorMessage(err),
      },
      message,
    );
    this.connectTimer = setTimeout(() => void this.connect(), retryInMs);
  }

  /**
   * Decides the fate of one record, in a `process` span joining the trace of the record's `traceparent`
   * header, whose context is what the event stores (unless it carries its own). Never throws.
   */
  private process(message: ConsumedMessage): Promise<MessageVerdict> {
    return tracing().span(
      `process ${message.topic}`,
      {
        kind: 'consumer',
        parent: traceparentHeader(message.headers),
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.destination.name': message.topic,
          'messaging.destination.partition.id': String(message.partition),
          'messaging.kafka.offset': Number(message.offset),
          'messaging.consumer.group.name': this.groupId,
        },
      },
      (span) => this.decide(message, span.traceparent()),
    );
  }

  private async decide(message: ConsumedMessage, traceparent: string | undefined): Promise<MessageVerdict> {
    try {
      const event = fromKafkaMessage(message);
      const client = await this.options.sources.clientForSource(event.source);
      if (client === undefined) {
        throw new DomainError('unauthenticated', `no client is bound to source ${event.source}`, [
          { pointer: '/source', message: 'no hub client is bound to this source' },
        ]);
      }
      const { results, warnings } = await this.options.ingest.ingest(client, [event], true, { traceparent });
      const result = results[0];
      if (warnings !== undefined) {
        // Kafka has no answer to carry them: the operator sees them (codes, never personal data).
        this.logger.warn(
          { topic: message.topic, partition: message.partition, offset: message.offset, warnings },
          'Kafka ingest: appended with codes the national portal would refuse',
        );
      }
      const duplicate = result?.duplicate === true;
      this.settled(message);
      this.options.observer?.outcome(duplicate ? 'duplicate' : 'appended');
      this.logger.debug(
        {
          topic: message.topic,
          partition: message.partition,
          offset: message.offset,
          dossier: dossierOf(event),
          position: result?.position,
        },
        duplicate ? 'Kafka ingest: already stored' : 'Kafka ingest: appended',
      );
      return DONE;
    } catch (err) {
      if (err instanceof DomainError && !err.retriable && DEAD_LETTER_CODES.has(err.code)) {
        return this.deadLetter(message, err);
      }
      return this.retryLater(message, err);
    }
  }

  private async deadLetter(message: ConsumedMessage, error: DomainError): Promise<MessageVerdict> {
    try {
      await this.producer.send([
        { topic: this.topics.deadLetter, messages: [deadLetterMessage(message, error)] },
      ]);
    } catch (err) {
      return this.retryLater(message, err);
    }
    this.settled(message);
    this.options.observer?.outcome('dead-lettered', error.code);
    // Only what the hub chose: the record's text (its dossier, source, id, the reason quoting it) is the
    // producer's and may carry personal data; the dead-letter record keeps it for whoever reads that topic.
    this.logger.warn(
      {
        topic: message.topic,
        partition: message.partition,
        offset: message.offset,
        code: error.code,
        issues: error.issues.length,
        deadLetterTopic: this.topics.deadLetter,
      },
      'Kafka ingest: record refused, sent to the dead-letter topic',
    );
    return DONE;
  }

  private retryLater(message: ConsumedMessage, err: unknown): MessageVerdict {
    const key = `${message.topic}/${message.partition}`;
    const attempts = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempts);
    const delayMs = backoffDelay(attempts, this.retry);
    const code = err instanceof DomainError ? err.code : 'error';
    this.options.observer?.outcome('retrying', code);
    const details = {
      topic: message.topic,
      partition: message.partition,
      offset: message.offset,
      attempts,
      retryInMs: delayMs,
      code,
      err: errorMessage(err),
    };
    if (attempts >= ERROR_AFTER_ATTEMPTS) this.logger.error(details, 'Kafka ingest keeps failing; retrying');
    else this.logger.warn(details, 'Kafka ingest failed; the record will be read again');
    return { kind: 'retry', delayMs };
  }

  private settled(message: ConsumedMessage): void {
    this.attempts.delete(`${message.topic}/${message.partition}`);
  }
}
