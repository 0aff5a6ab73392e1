import type { Kafka, PartitionerArgs, ProducerConfig, RecordMetadata } from 'kafkajs';
import { silentLogger } from '#lgsp/observability';
import { BrokerError } from '../errors.js';
import { KafkaJsProducer } from './kafkajs-client.js';

interface SentBatch {
  topic: string;
  messages: { key: string; partition: number }[];
}

/**
 * A kafkajs stand-in that partitions with the producer's own partitioner over 3 partitions and, like
 * kafkajs 2.2.4 after a leader moved (tulios/kafkajs#1303), answers for some partitions only: the
 * partitions in `silent[call]` get no answer in that call (their records were never written).
 */
function fakeKafka(silent: number[][]) {
  const calls: SentBatch[][] = [];
  const partitionMetadata = [0, 1, 2].map((partitionId) => ({
    partitionId,
    leader: partitionId,
    replicas: [partitionId],
    isr: [partitionId],
    partitionErrorCode: 0,
  }));
  const kafka = {
    producer(config?: ProducerConfig) {
      const partitioner = config!.createPartitioner!();
      return {
        connect: () => Promise.resolve(),
        disconnect: () => Promise.resolve(),
        sendBatch({ topicMessages }: { topicMessages: { topic: string; messages: { key: string }[] }[] }) {
          const silentNow = silent[calls.length] ?? [];
          const call: SentBatch[] = topicMessages.map(({ topic, messages }) => ({
            topic,
            messages: messages.map((message) => ({
              key: message.key,
              partition: partitioner({ topic, partitionMetadata, message } as unknown as PartitionerArgs),
            })),
          }));
          calls.push(call);
          const answers: RecordMetadata[] = [];
          for (const { topic, messages } of call) {
            for (const partition of new Set(messages.map((m) => m.partition))) {
              if (!silentNow.includes(partition)) answers.push({ topicName: topic, partition, errorCode: 0 });
            }
          }
          return Promise.resolve(answers);
        },
      };
    },
  } as unknown as Pick<Kafka, 'producer'>;
  return { kafka, calls };
}

const records = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ key: `dossier-${i}`, value: `v${i}`, headers: {} }));

describe('KafkaJsProducer', () => {
  it('sends again, in order, the records of a partition kafkajs left without an answer', async () => {
    const { kafka, calls } = fakeKafka([[1]]);
    const warnings: object[] = [];
    const producer = new KafkaJsProducer(kafka, 3, { ...silentLogger, warn: (obj) => warnings.push(obj) });
    await producer.send([{ topic: 't', messages: records(30) }]);

    expect(calls).toHaveLength(2);
    const first = calls[0]![0]!.messages;
    const ofPartition1 = first.filter((m) => m.partition === 1).map((m) => m.key);
    expect(ofPartition1.length).toBeGreaterThan(0);
    expect(ofPartition1.length).toBeLessThan(30);
    // The second call carries exactly the unanswered partition's records, in the order given.
    expect(calls[1]).toEqual([{ topic: 't', messages: ofPartition1.map((key) => ({ key, partition: 1 })) }]);
    // Said once, with the topic, partition and count (no keys: they may name a dossier).
    expect(warnings).toEqual([
      { component: 'kafka', unanswered: [{ topic: 't', partitions: [1], records: ofPartition1.length }] },
    ]);
  });

  it('sends once when every partition answered', async () => {
    const { kafka, calls } = fakeKafka([]);
    await new KafkaJsProducer(kafka, 3).send([
      { topic: 'a', messages: records(10) },
      { topic: 'b', messages: records(4) },
    ]);
    expect(calls).toHaveLength(1);
  });

  it('fails, retriable, when a partition stays without an answer', async () => {
    const { kafka, calls } = fakeKafka([[2], [2], [2], [2], [2]]);
    const warnings: object[] = [];
    const sent = new KafkaJsProducer(kafka, 3, { ...silentLogger, warn: (obj) => warnings.push(obj) }).send([
      { topic: 't', messages: records(30) },
    ]);
    await expect(sent).rejects.toThrow(BrokerError);
    await expect(sent).rejects.toMatchObject({ retriable: true });
    await expect(sent).rejects.toThrow(/had no answer from their partition's leader after 4 sends/);
    expect(calls).toHaveLength(4);
    // A warning for each of the three sends again, none for the last answer (the send fails instead).
    expect(warnings).toHaveLength(3);
  });
});
