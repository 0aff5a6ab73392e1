/**
 * What the relay and the ingest consumer need from a Kafka client, in the hub's own terms. The one
 * implementation is `KafkaJsClient` (external/); nothing else in this library knows kafkajs, so a
 * different client means a new file in external/ and nothing more.
 */
import type { KafkaHeaders } from './cloudevents-kafka.js';

/** Header values to produce; a name may carry several values. */
export type OutgoingHeaders = Record<string, string | Buffer | (string | Buffer)[]>;

/** One record to produce. */
export interface OutgoingMessage {
  key: string | Buffer | null;
  value: string | Buffer | null;
  headers: OutgoingHeaders;
}

/** The records for one topic. */
export interface TopicMessages {
  topic: string;
  messages: readonly OutgoingMessage[];
}

/** A consumed record and where it was read. */
export interface ConsumedMessage {
  topic: string;
  partition: number;
  /** Offset as decimal text (offsets are 64-bit). */
  offset: string;
  /** Record timestamp, milliseconds since the epoch as decimal text. */
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: KafkaHeaders;
}

/** A topic to create when it does not exist. */
export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level configuration, e.g. `{ "min.insync.replicas": "2" }`. */
  config?: Readonly<Record<string, string>>;
}

export interface KafkaProducer {
  /**
   * Produces every record, resolving only once the broker acknowledged all of them (`acks=all`:
   * every in-sync replica has them). Records of one partition keep their order. Connects on first use;
   * after a failure the connection is dropped and the next call starts a fresh producer.
   * @throws BrokerError when the broker cannot be reached or refuses a record (nothing is known about
   *   which records were written: the caller sends them again, which may duplicate some).
   */
  send(batches: readonly TopicMessages[]): Promise<void>;
  close(): Promise<void>;
}

export interface KafkaAdmin {
  /**
   * Creates the topics that do not exist yet and waits for their partition leaders; existing topics are
   * left as they are (two processes may race to create one).
   * @throws BrokerError
   */
  createTopics(topics: readonly TopicSpec[]): Promise<void>;
  /**
   * Connects and asks the cluster for its brokers: proves that the address, TLS and SASL settings work.
   * @returns how many brokers the cluster has
   * @throws BrokerError, with `refusal` set when the credentials or a certificate were refused
   */
  describeCluster(): Promise<{ brokers: number }>;
  close(): Promise<void>;
}

/** What to do with a consumed record. */
export type MessageVerdict =
  /** The record is finished (appended, a duplicate, or dead-lettered): commit its offset. */
  | { kind: 'done' }
  /** Leave the offset where it is; read this record again after `delayMs` (its partition waits). */
  | { kind: 'retry'; delayMs: number };

export interface ConsumerOptions {
  groupId: string;
  topic: string;
  /**
   * Partitions processed at the same time; records of one partition are always processed one after the
   * other. @defaultValue 1
   */
  partitionsConsumedConcurrently?: number;
  /**
   * Longest time the broker holds a fetch that has no records yet. It also bounds how late a paused
   * partition is read again after its backoff, and how long `stop()` waits. @defaultValue 1000
   */
  maxWaitTimeMs?: number;
}

/**
 * A consumer-group member on one topic. A new group starts at the earliest offset. Auto-commit is off:
 * an offset is committed only after `handle` said `done` for its record.
 */
export interface KafkaConsumer {
  /**
   * Joins the group and runs `handle` for every record until {@link stop}. Resolves once started.
   * Connection losses and rebalances are handled inside; `onFailure` is called when the client gave up
   * and the consumer no longer runs (the caller may start it again).
   */
  start(
    handle: (message: ConsumedMessage) => Promise<MessageVerdict>,
    onFailure: (error: unknown) => void,
  ): Promise<void>;
  /** Waits for the records in flight, leaves the group, disconnects. */
  stop(): Promise<void>;
}

/** A connection to one Kafka cluster, handing out producers, admin clients and consumers. */
export interface KafkaClient {
  producer(): KafkaProducer;
  admin(): KafkaAdmin;
  consumer(options: ConsumerOptions): KafkaConsumer;
}
