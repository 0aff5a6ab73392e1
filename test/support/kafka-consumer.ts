import { Kafka, logLevel, type IHeaders } from 'kafkajs';

/** A record read back from a topic, with its headers as strings. */
export interface ReadRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | undefined;
  headers: Record<string, string>;
  value: string;
}

const headersOf = (headers: IHeaders | undefined): Record<string, string> =>
  Object.fromEntries(
    Object.entries(headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? String(v[0]) : String(v ?? '')]),
  );

/**
 * Reads the topics matching `pattern` from the beginning, in a consumer group of its own, until
 * `done(records)` is true or `timeoutMs` passes; returns what it read.
 */
export async function readTopics(
  brokers: string[],
  pattern: RegExp,
  done: (records: readonly ReadRecord[]) => boolean,
  timeoutMs = 30_000,
): Promise<ReadRecord[]> {
  const kafka = new Kafka({ brokers, clientId: 'lgsp-test-reader', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => pattern.test(t));
  await admin.disconnect();
  const records: ReadRecord[] = [];
  if (topics.length === 0) return records;
  const consumer = kafka.consumer({ groupId: `lgsp-test-${Math.random().toString(36).slice(2)}` });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const timer = setTimeout(finish, timeoutMs);
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      records.push({
        topic,
        partition,
        offset: message.offset,
        key: message.key?.toString('utf8'),
        headers: headersOf(message.headers),
        value: message.value?.toString('utf8') ?? '',
      });
      if (done(records)) finish();
    },
  });
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  return records;
}

/**
 * A `done` for {@link readTopics}: at least `n` distinct CloudEvents ids read. Counts the records as they
 * arrive (a `Set` of every record at each message made reading 40,000 records quadratic).
 */
export function distinctIds(n: number): (records: readonly ReadRecord[]) => boolean {
  return distinct(n, (r) => r.headers.ce_id);
}

/** A `done` for {@link readTopics}: at least `n` distinct `keyOf` values read, counted as they arrive. */
export function distinct(
  n: number,
  keyOf: (record: ReadRecord) => unknown,
): (records: readonly ReadRecord[]) => boolean {
  const seen = new Set<unknown>();
  let counted = 0;
  return (records) => {
    for (; counted < records.length; counted++) seen.add(keyOf(records[counted]!));
    return seen.size >= n;
  };
}

/** Produces raw records, as a commune system producing to the ingest topic would. */
export async function produce(
  brokers: string[],
  topic: string,
  messages: { key?: string; value: string; headers?: Record<string, string> }[],
): Promise<void> {
  const kafka = new Kafka({ brokers, clientId: 'lgsp-test-producer', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  await producer.send({ topic, messages });
  await producer.disconnect();
}

/**
 * Waits until the cluster has a group coordinator, which creates the consumer offsets topic. A cluster
 * that has lost a broker cannot create it with the replication it is configured for: a test that reads
 * in a consumer group after killing a broker calls this first, as a cluster in service has it already.
 */
export async function ensureGroupCoordinator(brokers: string[], timeoutMs = 60_000): Promise<void> {
  const kafka = new Kafka({ brokers, clientId: 'lgsp-test-coordinator', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await admin.describeGroups(['lgsp-test-coordinator']);
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error('no group coordinator in time', { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  } finally {
    await admin.disconnect();
  }
}
