/**
 * The kafkajs adapter. Only this folder imports kafkajs; do not put hub logic here: it translates the
 * ports of `client.ts` to kafkajs calls and kafkajs errors to `BrokerError`.
 */
import {
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type LogEntry,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import { silentLogger, type Logger } from '#lgsp/observability';
import {
  type ConsumerOptions,
  type KafkaAdmin,
  type KafkaClient,
  type KafkaConsumer,
  type KafkaProducer,
  type OutgoingMessage,
  type TopicMessages,
  type TopicSpec,
} from '../client.js';
import { BrokerError, type KafkaRefusal } from '../errors.js';
import { KafkaJsConsumer } from './kafkajs-consumer.js';
import { mendRequestQueue } from './request-queue.js';

/** How to reach the cluster. */
export interface KafkaClientOptions {
  /** Bootstrap brokers, `host:port` each (env `LGSP_KAFKA_BROKERS`). */
  brokers: readonly string[];
  /** Names this process in the broker's logs and quotas. @defaultValue "lgsp-hub" */
  clientId?: string;
  /**
   * TLS to the brokers: `true` trusts Node's default CAs; an object gives the CAs to trust instead and
   * a client certificate (mutual TLS), PEM text each. The broker's name is always verified.
   * @defaultValue false
   */
  ssl?: boolean | KafkaTlsOptions;
  /** SASL credentials (with `ssl` outside a closed network; PLAIN sends the password as it is). */
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /** Time to open a connection to a broker. @defaultValue 3000 */
  connectionTimeoutMs?: number;
  /** Time a broker may take to answer one request. @defaultValue 30000 */
  requestTimeoutMs?: number;
  /**
   * Attempts kafkajs makes inside one call (connect, produce, create topics) before the call fails.
   * Kept small so that an outage reaches the caller quickly, whose own backoff then takes over (the
   * relay's subscription runner, the ingest consumer's pause). @defaultValue 3
   */
  retries?: number;
  /** Receives kafkajs's own log lines too (its INFO as debug). */
  logger?: Logger;
}

/** TLS settings, PEM text each. */
export interface KafkaTlsOptions {
  /** CA certificates to trust instead of Node's defaults. */
  ca?: string[];
  /** Client certificate (chain) for mutual TLS, with its `key`. */
  cert?: string;
  key?: string;
}

const DEFAULT_CLIENT_ID = 'lgsp-hub';

/**
 * kafkajs warns at every producer created with bounded retries. The bound is deliberate: a send that
 * fails drops its producer, and the caller sends the same records again with a new one, so an old
 * producer never retries behind a newer one's back (which could reorder a dossier's events).
 */
const EXPECTED_WARNING = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

function logCreator(logger: Logger) {
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      const { message, timestamp: _timestamp, ...extra } = log;
      const obj = { component: 'kafkajs', namespace, ...extra };
      if (level === logLevel.ERROR) logger.error(obj, message);
      else if (level === logLevel.WARN) {
        if (message !== EXPECTED_WARNING) logger.warn(obj, message);
      } else logger.debug(obj, message);
    };
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The error kafkajs gave up on: "number of retries exceeded" wraps the last attempt's error. */
function rootCause(err: unknown): unknown {
  let current = err;
  while (
    current instanceof Error &&
    current.name === 'KafkaJSNumberOfRetriesExceeded' &&
    current.cause instanceof Error
  ) {
    current = current.cause;
  }
  return current;
}

/** Node's codes for a broker certificate that does not verify against the trusted CAs. */
const UNTRUSTED_CERTIFICATE_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Why the connection was refused, with what to say about it; undefined for anything else. */
function refusalOf(root: unknown): { refusal: KafkaRefusal; reason: string } | undefined {
  if (!(root instanceof Error)) return undefined;
  if (root.name === 'KafkaJSSASLAuthenticationError') {
    return { refusal: 'authentication', reason: 'SASL authentication failed (wrong user name or password?)' };
  }
  const code = (root as { code?: unknown }).code;
  if (typeof code !== 'string') return undefined;
  if (UNTRUSTED_CERTIFICATE_CODES.has(code)) {
    return {
      refusal: 'certificate',
      reason: `the broker's TLS certificate is not trusted (${code}; is kafka.tls.caFile its CA?)`,
    };
  }
  // The broker's TLS alert about the client's certificate (missing, unknown CA, expired...).
  if (code.startsWith('ERR_SSL_') && /CERTIFICATE|UNKNOWN_CA/.test(code)) {
    return {
      refusal: 'certificate',
      reason: `the broker refused the client certificate (${code.replace(/^ERR_SSL_(SSL\/TLS_)?/, '')})`,
    };
  }
  return undefined;
}

/**
 * A kafkajs failure as a `BrokerError`, retriable as kafkajs classified the underlying error. A refused
 * connection (credentials, certificates) is not retriable, and its message says which it was.
 */
export function toBrokerError(err: unknown, what: string): BrokerError {
  if (err instanceof BrokerError) return err;
  const root = rootCause(err);
  const refused = refusalOf(root);
  if (refused) {
    return new BrokerError(`${what}: ${refused.reason}: ${errorMessage(root).trim()}`, {
      cause: err,
      retriable: false,
      refusal: refused.refusal,
    });
  }
  const flag = (root as { retriable?: unknown } | undefined)?.retriable;
  return new BrokerError(`${what}: ${errorMessage(root)}`, { cause: err, retriable: flag !== false });
}

/** A kafkajs `Kafka` instance behind the ports of `client.ts`. */
export class KafkaJsClient implements KafkaClient {
  private readonly kafka: Kafka;
  private readonly logger: Logger;
  private readonly retries: number;

  constructor(options: KafkaClientOptions) {
    if (options.brokers.length === 0) throw new TypeError('Kafka needs at least one broker (host:port)');
    // kafkajs's request queues otherwise run a 1 ms timer per broker connection (see request-queue.ts).
    mendRequestQueue();
    this.logger = options.logger ?? silentLogger;
    this.retries = options.retries ?? 3;
    this.kafka = new Kafka({
      brokers: [...options.brokers],
      clientId: options.clientId ?? DEFAULT_CLIENT_ID,
      connectionTimeout: options.connectionTimeoutMs ?? 3000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      ...(options.ssl ? { ssl: options.ssl === true ? true : { ...options.ssl } } : {}),
      ...(options.sasl ? { sasl: options.sasl as SASLOptions } : {}),
      retry: { retries: this.retries, initialRetryTime: 200, maxRetryTime: 2000 },
      logLevel: logLevel.INFO,
      logCreator: logCreator(this.logger),
    });
  }

  producer(): KafkaProducer {
    return new KafkaJsProducer(this.kafka, this.retries, this.logger);
  }

  admin(): KafkaAdmin {
    return new KafkaJsAdmin(this.kafka);
  }

  consumer(options: ConsumerOptions): KafkaConsumer {
    return new KafkaJsConsumer(this.kafka, options, this.logger);
  }
}

interface Connection<T> {
  client: T;
  ready: Promise<void>;
}

/** Connects on first use; a failure drops the connection so that the next call starts afresh. */
class Lazy<T extends { connect(): Promise<void>; disconnect(): Promise<void> }> {
  private current: Connection<T> | undefined;

  constructor(private readonly create: () => T) {}

  async get(): Promise<T> {
    if (!this.current) {
      const client = this.create();
      this.current = { client, ready: client.connect() };
    }
    const { client, ready } = this.current;
    await ready;
    return client;
  }

  async reset(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    if (!current) return;
    await current.ready.catch(() => undefined);
    await current.client.disconnect().catch(() => undefined);
  }
}

/** How often the records of partitions left without an answer are sent again inside one `send`. */
const UNANSWERED_RESENDS = 3;

/**
 * The kafkajs producer, checked: `send` resolves only when every record's partition has an answer.
 *
 * kafkajs 2.2.4 can resolve a `sendBatch` with records of one partition never written
 * (tulios/kafkajs#1303, found by the `kraft-leader` fault): a `sendBatch` keeps each broker's answer
 * across its retries and a retry sends only to brokers that have not answered, so when a leader dies
 * and its partition moves to a broker that already answered for other partitions, that partition's
 * records are not sent again. The partitioner below notes which partition kafkajs chose for each record
 * (at every attempt, with the metadata of that attempt); a record whose partition is missing from the
 * answers is sent again with the same producer (its sequence numbers were rolled back with the failed
 * request, so a broker that had written it before dying deduplicates it), and `send` fails — the caller
 * then sends the whole batch again — if an answer is still missing after a few rounds.
 *
 * Exported for its unit test only (`kafkajs-client.unit.spec.ts`); the hub reaches it through
 * `KafkaJsClient.producer()`.
 */
export class KafkaJsProducer implements KafkaProducer {
  private readonly connection: Lazy<Producer>;
  private readonly partitionOf = new WeakMap<object, number>();

  constructor(
    kafka: Pick<Kafka, 'producer'>,
    retries: number,
    private readonly logger: Logger = silentLogger,
  ) {
    const partitionOf = this.partitionOf;
    this.connection = new Lazy(() =>
      kafka.producer({
        // Idempotence makes kafkajs's own retries inside one send free of duplicates; it requires
        // acks=all and one request in flight, which also keeps each partition in order.
        idempotent: true,
        maxInFlightRequests: 1,
        // Topics are created explicitly, with the partitions and replication configured.
        allowAutoTopicCreation: false,
        // The Java client's partitioner (murmur2 of the key), so every client maps a dossier alike;
        // each choice noted for the check of the answers.
        createPartitioner: () => {
          const partitioner = Partitioners.DefaultPartitioner();
          return (args) => {
            const partition = partitioner(args);
            partitionOf.set(args.message, partition);
            return partition;
          };
        },
        retry: { retries: Math.max(1, retries) },
      }),
    );
  }

  async send(batches: readonly TopicMessages[]): Promise<void> {
    let pending = batches
      .filter((b) => b.messages.length > 0)
      .map((b) => ({
        topic: b.topic,
        messages: b.messages.map((m): OutgoingMessage => ({
          key: m.key,
          value: m.value,
          headers: m.headers,
        })),
      }));
    if (pending.length === 0) return;
    try {
      const producer = await this.connection.get();
      for (let round = 0; ; round++) {
        const answers = await producer.sendBatch({ acks: -1, topicMessages: pending });
        pending = this.unanswered(pending, answers);
        if (pending.length === 0) return;
        const unanswered = pending.map((b) => ({
          topic: b.topic,
          partitions: [...new Set(b.messages.map((m) => this.partitionOf.get(m)))],
          records: b.messages.length,
        }));
        if (round === UNANSWERED_RESENDS) {
          const records = unanswered.reduce((n, b) => n + b.records, 0);
          throw new BrokerError(
            `Kafka did not acknowledge the records: ${records} record(s) of ${unanswered
              .map((b) => b.topic)
              .join(', ')} had no answer from their partition's leader after ${round + 1} sends`,
            { retriable: true },
          );
        }
        this.logger.warn(
          { component: 'kafka', unanswered },
          'kafkajs resolved a send with partitions left without an answer (kafkajs#1303); sending their records again',
        );
      }
    } catch (err) {
      await this.connection.reset();
      throw toBrokerError(err, 'Kafka did not acknowledge the records');
    }
  }

  /** The records whose partition is missing from the answers (in their order), per topic. */
  private unanswered(
    sent: readonly { topic: string; messages: OutgoingMessage[] }[],
    answers: readonly { topicName: string; partition: number }[],
  ): { topic: string; messages: OutgoingMessage[] }[] {
    const answered = new Set(answers.map((a) => `${a.topicName}\u0000${a.partition}`));
    const missing: { topic: string; messages: OutgoingMessage[] }[] = [];
    for (const { topic, messages } of sent) {
      const left = messages.filter((m) => {
        const partition = this.partitionOf.get(m);
        return partition === undefined || !answered.has(`${topic}\u0000${partition}`);
      });
      if (left.length > 0) missing.push({ topic, messages: left });
    }
    return missing;
  }

  close(): Promise<void> {
    return this.connection.reset();
  }
}

class KafkaJsAdmin implements KafkaAdmin {
  private readonly connection: Lazy<Admin>;

  constructor(kafka: Kafka) {
    this.connection = new Lazy(() => kafka.admin());
  }

  async createTopics(topics: readonly TopicSpec[]): Promise<void> {
    if (topics.length === 0) return;
    try {
      const admin = await this.connection.get();
      await admin.createTopics({
        waitForLeaders: true,
        topics: topics.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions,
          replicationFactor: t.replicationFactor,
          configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
    } catch (err) {
      await this.connection.reset();
      throw toBrokerError(err, `Kafka could not create topics ${topics.map((t) => t.topic).join(', ')}`);
    }
  }

  async describeCluster(): Promise<{ brokers: number }> {
    try {
      const admin = await this.connection.get();
      const cluster = await admin.describeCluster();
      return { brokers: cluster.brokers.length };
    } catch (err) {
      await this.connection.reset();
      throw toBrokerError(err, 'connecting to Kafka');
    }
  }

  close(): Promise<void> {
    return this.connection.reset();
  }
}
