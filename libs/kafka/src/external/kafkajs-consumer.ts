import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { type Logger } from '#lgsp/observability';
import type { ConsumedMessage, ConsumerOptions, KafkaConsumer, MessageVerdict } from '../client.js';

type Handle = (message: ConsumedMessage) => Promise<MessageVerdict>;

const nextOffset = (offset: string): string => (BigInt(offset) + 1n).toString();

function consumed(topic: string, partition: number, message: KafkaMessage): ConsumedMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: message.timestamp,
    key: message.key ?? null,
    value: message.value ?? null,
    headers: message.headers ?? {},
  };
}

/**
 * A kafkajs consumer-group member that commits by hand. Each batch is processed record by record; a
 * `done` record has its offset resolved and committed before the next one starts. A `retry` record
 * pauses its partition (other partitions go on) and leaves the batch without resolving it, so kafkajs
 * fetches again from that record once the partition resumes: the order within a partition holds.
 */
export class KafkaJsConsumer implements KafkaConsumer {
  private consumer: Consumer | undefined;
  private readonly resumeTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly kafka: Kafka,
    private readonly options: ConsumerOptions,
    private readonly logger: Logger,
  ) {}

  async start(handle: Handle, onFailure: (error: unknown) => void): Promise<void> {
    if (this.consumer) return;
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      allowAutoTopicCreation: false,
      // kafkajs sleeps this long when every assigned partition is paused, so it is also the
      // granularity of a retry's backoff.
      maxWaitTimeInMs: this.options.maxWaitTimeMs ?? 1000,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      const details = { groupId: this.options.groupId, topic: this.options.topic, err: error.message };
      if (restart) this.logger.warn(details, 'Kafka consumer lost its connection; kafkajs restarts it');
      else this.logger.error(details, 'Kafka consumer stopped on an error kafkajs does not retry');
      if (!restart && this.consumer === consumer) onFailure(error);
    });
    try {
      await consumer.connect();
      // A new group starts at the earliest offset: records produced before the hub first ran are ingested.
      await consumer.subscribe({ topics: [this.options.topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
        eachBatch: (payload) => this.eachBatch(payload, handle),
      });
    } catch (err) {
      this.consumer = undefined;
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
  }

  private async eachBatch(payload: EachBatchPayload, handle: Handle): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale, pause } = payload;
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) return;
      const verdict = await handle(consumed(batch.topic, batch.partition, message));
      if (verdict.kind === 'retry') {
        const resume = pause();
        const timer = setTimeout(() => {
          this.resumeTimers.delete(timer);
          resume();
        }, verdict.delayMs);
        this.resumeTimers.add(timer);
        return;
      }
      resolveOffset(message.offset);
      await commitOffsetsIfNecessary({
        topics: [
          {
            topic: batch.topic,
            partitions: [{ partition: batch.partition, offset: nextOffset(message.offset) }],
          },
        ],
      });
      await heartbeat();
    }
  }

  async stop(): Promise<void> {
    for (const timer of this.resumeTimers) clearTimeout(timer);
    this.resumeTimers.clear();
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.disconnect();
  }
}
