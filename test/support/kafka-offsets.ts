import { Kafka, logLevel } from 'kafkajs';
import { clusterMetadata, type PartitionMetadata } from './kafka.js';

/**
 * Records ever written to each topic whose name matches `pattern`: the sum of its partitions' high
 * watermarks (the hub's topics are never compacted or truncated during a test). Comparing two calls
 * tells which topics received records in between, without reading them.
 */
export async function topicWatermarks(brokers: string[], pattern: RegExp): Promise<Map<string, number>> {
  const kafka = new Kafka({ brokers, clientId: 'lgsp-test-offsets', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => pattern.test(t)).sort();
    const out = new Map<string, number>();
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic);
      out.set(
        topic,
        offsets.reduce((sum, p) => sum + Number(p.high), 0),
      );
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** The topics whose record counts differ between two {@link topicWatermarks}, with both counts. */
export function changedTopics(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): Record<string, { before: number; after: number }> {
  const out: Record<string, { before: number; after: number }> = {};
  for (const topic of new Set([...before.keys(), ...after.keys()])) {
    const b = before.get(topic) ?? 0;
    const a = after.get(topic) ?? 0;
    if (a !== b) out[topic] = { before: b, after: a };
  }
  return out;
}

/** One partition as the cluster's metadata has it, with its high watermark. */
export interface PartitionState extends PartitionMetadata {
  /** The high watermark (records every in-sync replica has); -1 when its topic has an offline partition. */
  high: number;
}

/**
 * Leader, replicas, in-sync replicas and high watermark of every partition of the topics matching
 * `pattern`, asked of the first broker of `brokers` that answers. Partitions without a leader are
 * reported (leader -1), where kafkajs would refuse the whole topic.
 */
export async function partitionStates(brokers: string[], pattern: RegExp): Promise<PartitionState[]> {
  let metadata: PartitionMetadata[] | undefined;
  let lastError: unknown;
  for (const address of brokers) {
    try {
      metadata = await clusterMetadata(address);
      break;
    } catch (error) {
      lastError = error;
    }
  }
  if (!metadata) throw new Error(`no broker of ${brokers.join(',')} answered`, { cause: lastError });
  const partitions = metadata.filter((p) => pattern.test(p.topic));
  const high = new Map<string, number>();
  const online = [...new Set(partitions.map((p) => p.topic))].filter((topic) =>
    partitions.every((p) => p.topic !== topic || p.leader >= 0),
  );
  if (online.length > 0) {
    const kafka = new Kafka({ brokers, clientId: 'lgsp-test-offsets', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const topic of online) {
        for (const o of await admin.fetchTopicOffsets(topic))
          high.set(`${topic}/${o.partition}`, Number(o.high));
      }
    } finally {
      await admin.disconnect();
    }
  }
  return partitions.map((p) => ({ ...p, high: high.get(`${p.topic}/${p.partition}`) ?? -1 }));
}
