// The Kafka harness itself: the shared broker serves Kafka requests and carries messages, a
// dedicated broker stops (its port closes), starts again and keeps what it had, and a cluster that
// cannot start says why. (The cluster itself runs in the kraft-leader fault.)
import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import {
  apiVersions,
  consoleConsume,
  consoleProduce,
  dedicatedKafka,
  kafkaCluster,
  reachable,
  sharedKafka,
  type KafkaBroker,
} from './kafka.js';

const PRODUCE = 0;
const FETCH = 1;
// Starting a broker takes a few seconds here, longer on a first run that downloads the jars.
const SLOW = 180_000;

function client(broker: KafkaBroker): Kafka {
  return new Kafka({ clientId: 'lgsp-harness-test', brokers: broker.brokers, logLevel: logLevel.NOTHING });
}

async function produce(broker: KafkaBroker, topic: string, values: string[]): Promise<void> {
  const kafka = client(broker);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value })) });
  } finally {
    await producer.disconnect();
  }
}

/** The first `count` values of the topic, read from the beginning by a new consumer group. */
async function consume(
  broker: KafkaBroker,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<string[]> {
  const consumer = client(broker).consumer({ groupId: `harness-${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const values: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`got ${values.length} of ${count} messages in ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: async ({ message }) => {
            values.push(message.value?.toString() ?? '');
            if (values.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    return values;
  } finally {
    await consumer.disconnect();
  }
}

describe('sharedKafka', () => {
  let broker: KafkaBroker;
  beforeAll(async () => {
    broker = await sharedKafka();
  }, SLOW);

  it('is the broker of KAFKA_BROKERS, set by the global setup', async () => {
    expect(process.env.KAFKA_BROKERS).toBeDefined();
    expect(broker.brokers).toEqual(process.env.KAFKA_BROKERS!.split(','));
    expect(broker.startedHere).toBe(false);
    expect(await sharedKafka()).toBe(broker);
  });

  it('answers Kafka ApiVersions requests', async () => {
    const versions = await apiVersions(broker.brokers[0]!);
    expect(versions.get(PRODUCE)?.max).toBeGreaterThanOrEqual(3);
    expect(versions.get(FETCH)?.max).toBeGreaterThanOrEqual(4);
  });

  it('carries a message from a kafkajs producer to a kafkajs consumer', async () => {
    const topic = `harness-${randomUUID()}`;
    const value = JSON.stringify({ hello: 'kafka', at: Date.now() });
    await produce(broker, topic, [value]);
    expect(await consume(broker, topic, 1)).toEqual([value]);
  }, 60_000);

  it("interoperates with Kafka's own console producer and consumer", async () => {
    const topic = `harness-${randomUUID()}`;
    await consoleProduce(broker, topic, ['from the console']);
    expect(await consume(broker, topic, 1)).toEqual(['from the console']);
    await produce(broker, `${topic}-back`, ['from kafkajs']);
    expect(await consoleConsume(broker, `${topic}-back`, 1)).toEqual(['from kafkajs']);
  }, 60_000);

  it('does not stop a broker it did not start', async () => {
    await broker.stop();
    expect(await reachable(broker.brokers[0]!)).toBe(true);
  });
});

describe('dedicatedKafka', () => {
  let broker: KafkaBroker | undefined;
  afterAll(async () => {
    await broker?.stop();
  }, 60_000);

  it(
    'stops, starts again, and keeps the messages it had',
    async () => {
      broker = await dedicatedKafka();
      const address = broker.brokers[0]!;
      expect(broker.startedHere).toBe(true);
      expect(broker.brokers).not.toEqual((process.env.KAFKA_BROKERS ?? '').split(','));
      expect(await reachable(address)).toBe(true);

      const topic = `outage-${randomUUID()}`;
      await produce(broker, topic, ['before the outage']);

      await broker.stop();
      expect(await reachable(address)).toBe(false);

      await broker.start();
      expect(await reachable(address)).toBe(true);
      expect((await apiVersions(address)).size).toBeGreaterThan(0);
      expect(await consume(broker, topic, 1)).toEqual(['before the outage']);
    },
    SLOW,
  );

  it('reports an unreachable address as unreachable', async () => {
    expect(await reachable('127.0.0.1:1', 500)).toBe(false);
  });
});

describe('kafkaCluster', () => {
  const saved = { PATH: process.env.PATH, JAVA_HOME: process.env.JAVA_HOME };
  afterEach(() => {
    process.env.PATH = saved.PATH;
    if (saved.JAVA_HOME === undefined) delete process.env.JAVA_HOME;
    else process.env.JAVA_HOME = saved.JAVA_HOME;
  });

  it('fails, naming Java, when there is no Java to run the nodes', async () => {
    process.env.PATH = '/nonexistent';
    delete process.env.JAVA_HOME;
    await expect(kafkaCluster()).rejects.toThrow(
      'cannot start a 3-node Kafka cluster: java (a Java 17+ runtime on PATH or in JAVA_HOME) is not installed',
    );
  });
});
