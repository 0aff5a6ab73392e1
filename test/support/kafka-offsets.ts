import { Kafka, logLevel } from 'kafkajs';

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
