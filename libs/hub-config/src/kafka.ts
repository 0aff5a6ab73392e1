import { BOOLEAN, integer, positive, settingsObject } from './schema.js';
import type { Env } from './env.js';

export interface KafkaConfig {
  /** Bootstrap brokers; empty = no Kafka. @defaultValue [] (env `LGSP_KAFKA_BROKERS`, comma-separated) */
  brokers: string[];
  /** Names the hub in the brokers' logs and quotas. @defaultValue "lgsp-hub" */
  clientId: string;
  /** First segment of every topic: `<prefix>.events.province.<code>`, `<prefix>.ingest`, `<prefix>.ingest.dlq`, `<prefix>.replay.<client>`. @defaultValue "lgsp" (env `LGSP_KAFKA_TOPIC_PREFIX`) */
  topicPrefix: string;
  /** How the hub creates the topics it needs when they do not exist. @defaultValue 6 partitions, replication factor 1 */
  topics: { partitions: number; replicationFactor: number };
  /** Publishes every stored event to its province topic. @defaultValue enabled, 200 events per produce */
  relay: { enabled: boolean; batchSize: number };
  /** Consumes the ingest topic in a consumer group. @defaultValue enabled, group "lgsp-hub-ingest" */
  ingest: { enabled: boolean; groupId: string };
  /**
   * Replays to a Kafka consumer (target `kafka:<client name>`, topic `<prefix>.replay.<client name>`):
   * events per second a run sends unless it says otherwise, and events per produce request.
   * @defaultValue 1000 events/s, 200 events per produce
   */
  replay: { ratePerSecond: number; batchSize: number };
}

export const KAFKA_DEFAULTS: KafkaConfig = {
  brokers: [],
  clientId: 'lgsp-hub',
  topicPrefix: 'lgsp',
  topics: { partitions: 6, replicationFactor: 1 },
  relay: { enabled: true, batchSize: 200 },
  ingest: { enabled: true, groupId: 'lgsp-hub-ingest' },
  replay: { ratePerSecond: 1000, batchSize: 200 },
};

export const KAFKA_SCHEMA = settingsObject({
  brokers: { type: 'array', items: { type: 'string', pattern: '^[^\\s:]+:[0-9]{1,5}$' } },
  clientId: { type: 'string', minLength: 1, maxLength: 100 },
  topicPrefix: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,100}$' },
  topics: settingsObject({
    partitions: integer(1, 1000),
    replicationFactor: integer(1, 10),
  }),
  relay: settingsObject({
    enabled: BOOLEAN,
    batchSize: integer(1, 10_000),
  }),
  ingest: settingsObject({
    enabled: BOOLEAN,
    groupId: { type: 'string', minLength: 1, maxLength: 200 },
  }),
  replay: settingsObject({
    ratePerSecond: positive(1_000_000),
    batchSize: integer(1, 10_000),
  }),
});

export function applyKafkaEnv(kafka: KafkaConfig, env: Env, problems: string[]): void {
  if (env.LGSP_KAFKA_BROKERS) {
    const brokers = env.LGSP_KAFKA_BROKERS.split(',')
      .map((b) => b.trim())
      .filter(Boolean);
    const bad = brokers.filter((b) => !/^[^\s:]+:[0-9]{1,5}$/.test(b));
    if (bad.length > 0) problems.push(`LGSP_KAFKA_BROKERS: ${bad.join(', ')} must be host:port`);
    else kafka.brokers = brokers;
  }
  if (env.LGSP_KAFKA_TOPIC_PREFIX) {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(env.LGSP_KAFKA_TOPIC_PREFIX)) {
      problems.push('LGSP_KAFKA_TOPIC_PREFIX: letters, digits, ".", "_" and "-" only');
    } else kafka.topicPrefix = env.LGSP_KAFKA_TOPIC_PREFIX;
  }
}
