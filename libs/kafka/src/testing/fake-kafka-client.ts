import {
  BrokerError,
  type ConsumedMessage,
  type ConsumerOptions,
  type KafkaAdmin,
  type KafkaClient,
  type KafkaConsumer,
  type KafkaProducer,
  type MessageVerdict,
  type TopicMessages,
  type TopicSpec,
} from '#lgsp/kafka';

/**
 * An in-memory stand-in for the Kafka ports, for unit tests of the relay and the ingest consumer:
 * it records what was sent and created, and fails the next calls on demand.
 */
export class FakeKafkaClient implements KafkaClient {
  readonly sent: TopicMessages[][] = [];
  readonly created: TopicSpec[][] = [];
  readonly consumers: ConsumerOptions[] = [];
  /** The next this many sends (or topic creations) fail with a retriable BrokerError. */
  failSends = 0;
  failCreates = 0;
  closed = 0;
  handler: ((message: ConsumedMessage) => Promise<MessageVerdict>) | undefined;
  onFailure: ((error: unknown) => void) | undefined;
  consumerStarted = 0;
  consumerStopped = 0;

  producer(): KafkaProducer {
    return {
      send: async (batches) => {
        if (this.failSends > 0) {
          this.failSends -= 1;
          throw new BrokerError('Kafka did not acknowledge the records: Connection refused', {
            retriable: true,
          });
        }
        this.sent.push(batches.map((b) => ({ topic: b.topic, messages: [...b.messages] })));
      },
      close: async () => {
        this.closed += 1;
      },
    };
  }

  admin(): KafkaAdmin {
    return {
      createTopics: async (topics) => {
        if (this.failCreates > 0) {
          this.failCreates -= 1;
          throw new BrokerError('could not create topics: Connection refused', { retriable: true });
        }
        this.created.push([...topics]);
      },
      describeCluster: async () => ({ brokers: 1 }),
      close: async () => {
        this.closed += 1;
      },
    };
  }

  consumer(options: ConsumerOptions): KafkaConsumer {
    this.consumers.push(options);
    return {
      start: async (handle, onFailure) => {
        this.handler = handle;
        this.onFailure = onFailure;
        this.consumerStarted += 1;
      },
      stop: async () => {
        this.handler = undefined;
        this.consumerStopped += 1;
      },
    };
  }

  /** The client library gives up on the running consumer. */
  crash(error: Error): void {
    if (!this.onFailure) throw new Error('the consumer is not started');
    this.onFailure(error);
  }

  /** Hands one record to the started consumer, as the client library would. */
  deliver(message: ConsumedMessage): Promise<MessageVerdict> {
    if (!this.handler) throw new Error('the consumer is not started');
    return this.handler(message);
  }
}
