import { BrokerError, KafkaConnectionCheck, type KafkaAdmin, type KafkaClient } from './index.js';
import { FakeKafkaClient } from './testing/fake-kafka-client.js';
import { eventually, recordingLogger } from './testing/kafka-test-support.js';

/** A client whose admin answers describeCluster with the next outcome of `outcomes` (the last one repeats). */
function clientAnswering(
  outcomes: (BrokerError | number)[],
): KafkaClient & { calls: number; closed: number } {
  const fake = new FakeKafkaClient();
  const client = {
    calls: 0,
    closed: 0,
    producer: () => fake.producer(),
    consumer: (options: Parameters<KafkaClient['consumer']>[0]) => fake.consumer(options),
    admin: (): KafkaAdmin => ({
      createTopics: async () => undefined,
      describeCluster: async () => {
        const outcome = outcomes[Math.min(client.calls, outcomes.length - 1)]!;
        client.calls += 1;
        if (typeof outcome === 'number') return { brokers: outcome };
        throw outcome;
      },
      close: async () => {
        client.closed += 1;
      },
    }),
  };
  return client;
}

const refused = new BrokerError('connecting to Kafka: SASL authentication failed', {
  retriable: false,
  refusal: 'authentication',
});
const down = new BrokerError('connecting to Kafka: Connection error: connect ECONNREFUSED', {
  retriable: true,
});

describe('KafkaConnectionCheck', () => {
  it('reports a refusal with its cause, checks again, and stops checking once connected', async () => {
    const client = clientAnswering([refused, down, 3]);
    const logger = recordingLogger();
    const check = new KafkaConnectionCheck({ client, recheckMs: 10, logger });
    expect(check.state).toEqual({ state: 'checking' });
    expect(await check.start()).toEqual({
      state: 'refused',
      refusal: 'authentication',
      detail: 'connecting to Kafka: SASL authentication failed',
    });
    await eventually(() => check.state.state === 'connected', 2000, 'connected');
    expect(check.state).toEqual({ state: 'connected', brokers: 3 });
    await new Promise((r) => setTimeout(r, 50));
    expect(client.calls).toBe(3);
    expect(client.closed).toBe(3);
    expect(logger.lines).toEqual([
      expect.stringMatching(/^error Kafka refused the connection .*"refusal":"authentication"/),
      expect.stringMatching(/^warn Kafka is not reachable yet .*ECONNREFUSED/),
    ]);
    check.stop();
  });

  it('checks no more once stopped', async () => {
    const client = clientAnswering([down]);
    const check = new KafkaConnectionCheck({ client, recheckMs: 10 });
    expect(await check.start()).toMatchObject({ state: 'unreachable' });
    check.stop();
    const calls = client.calls;
    await new Promise((r) => setTimeout(r, 50));
    expect(client.calls).toBe(calls);
  });
});
