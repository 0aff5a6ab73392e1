import { DomainError } from '#lgsp/contracts';

/** Kafka's legal topic names: ASCII letters, digits, `.`, `_`, `-`, at most 249 characters. */
const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
/** Province codes of the national statistics office: two digits. */
const PROVINCE_CODE = /^[0-9]{2}$/;

/** The prefix of the hub's topics in production. */
export const DEFAULT_TOPIC_PREFIX = 'lgsp';

export interface KafkaTopicsOptions {
  /**
   * First segment of every topic name. Tests give each run its own prefix so that runs sharing a
   * broker never see each other's messages. @defaultValue "lgsp"
   */
  prefix?: string;
}

/**
 * The names of the hub's topics (see schemas/asyncapi.yaml):
 * - `<prefix>.events.province.<provinceCode>`: the relayed events of one province, key = dossier code;
 *   one topic per province so that Kafka ACLs can isolate provinces;
 * - `<prefix>.ingest`: events produced by commune systems;
 * - `<prefix>.ingest.dlq`: ingest messages that were refused, with the reason in headers;
 * - `<prefix>.events.dlq`: stored events the relay could not convert to the version their province topic
 *   carries (see `KafkaRelayOptions.eventVersions`), as stored, with the reason in headers;
 * - `<prefix>.replay.<consumer>`: the events an operator replays to one Kafka consumer (a client of the
 *   hub), marked with the `lgsp_replay` header; no other consumer reads it.
 */
export class KafkaTopics {
  readonly prefix: string;
  readonly ingest: string;
  readonly deadLetter: string;
  readonly relayDeadLetter: string;
  private readonly provincePrefix: string;
  private readonly replayPrefix: string;

  constructor(options: KafkaTopicsOptions = {}) {
    const prefix = options.prefix ?? DEFAULT_TOPIC_PREFIX;
    // The longest name is the province topic; checking it covers the others.
    if (prefix === '' || !LEGAL_TOPIC.test(`${prefix}.events.province.00`)) {
      throw new TypeError(
        `topic prefix ${JSON.stringify(prefix)} is not usable: it must be non-empty, and Kafka topic names ` +
          'hold only letters, digits, ".", "_" and "-", at most 249 characters',
      );
    }
    this.prefix = prefix;
    this.ingest = `${prefix}.ingest`;
    this.deadLetter = `${prefix}.ingest.dlq`;
    this.relayDeadLetter = `${prefix}.events.dlq`;
    this.provincePrefix = `${prefix}.events.province.`;
    this.replayPrefix = `${prefix}.replay.`;
  }

  /**
   * The replay topic of one Kafka consumer, named after its hub client.
   * @throws DomainError `invalid` when the name cannot be a segment of a topic name: empty, a character
   *   other than ASCII letters, digits, `.`, `_` and `-`, or a topic name longer than 249 characters.
   */
  replay(consumer: string): string {
    const topic = this.replayPrefix + consumer;
    if (consumer === '' || !LEGAL_TOPIC.test(topic)) {
      throw new DomainError(
        'invalid',
        `consumer name ${JSON.stringify(consumer)} cannot name a Kafka replay topic: it must be non-empty, ` +
          `hold only ASCII letters, digits, ".", "_" and "-", and keep ${JSON.stringify(this.replayPrefix)} + name ` +
          'within 249 characters',
        [{ pointer: '/target', message: 'the consumer name is not a legal Kafka topic segment' }],
      );
    }
    return topic;
  }

  /**
   * The topic of one province's events.
   * @throws DomainError `invalid` when the code is not a two-digit province code.
   */
  province(provinceCode: string): string {
    if (!PROVINCE_CODE.test(provinceCode)) {
      throw new DomainError('invalid', `province code ${JSON.stringify(provinceCode)} is not two digits`, [
        { pointer: '/data/provinceCode', message: 'must be a two-digit province code' },
      ]);
    }
    return this.provincePrefix + provinceCode;
  }

  /** The province a topic of {@link province} belongs to; undefined for any other topic. */
  provinceOf(topic: string): string | undefined {
    if (!topic.startsWith(this.provincePrefix)) return undefined;
    const code = topic.slice(this.provincePrefix.length);
    return PROVINCE_CODE.test(code) ? code : undefined;
  }
}

/** How the hub creates a topic that does not exist yet (it never alters an existing one). */
export interface TopicSettings {
  /**
   * Partitions of a new topic. All events of a dossier go to one partition, so this bounds the
   * parallelism of a topic's consumers. @defaultValue 6
   */
  partitions: number;
  /** Copies of each partition; 1 suits a single test broker, production wants 3. @defaultValue 1 */
  replicationFactor: number;
  /** Topic configuration, e.g. `{ "min.insync.replicas": "2", "retention.ms": "-1" }`. @defaultValue {} */
  config: Readonly<Record<string, string>>;
}

export const DEFAULT_TOPIC_SETTINGS: Readonly<TopicSettings> = {
  partitions: 6,
  replicationFactor: 1,
  config: {},
};

/**
 * Settings with their defaults filled in.
 * @throws TypeError naming `path` when partitions or replication factor is not an integer ≥ 1.
 */
export function topicSettings(settings: Partial<TopicSettings> | undefined, path: string): TopicSettings {
  const filled = { ...DEFAULT_TOPIC_SETTINGS, ...settings };
  for (const key of ['partitions', 'replicationFactor'] as const) {
    if (!Number.isSafeInteger(filled[key]) || filled[key] < 1) {
      throw new TypeError(`${path}.${key} must be an integer ≥ 1, got ${String(filled[key])}`);
    }
  }
  return filled;
}
