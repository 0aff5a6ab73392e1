// The relay against a real broker (test/support/kafka.ts): every event of the log reaches its province
// topic once and in dossier order, as CloudEvents the official SDK accepts; a broker outage delays the
// events and loses none.
import { Kafka, type KafkaMessage } from 'cloudevents';
import { type EventToAppend, type StoredEvent } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { KafkaJsClient, KafkaRelay, type KafkaTopics } from '#lgsp/kafka';
import { Subscriptions } from '#lgsp/subscriptions';
import { dedicatedKafka, sharedKafka, type KafkaBroker } from '../../../test/support/kafka.js';
import {
  TEST_PROVINCES as PROVINCES,
  TopicReader,
  eventually,
  recordingLogger,
  statusChangedEvent,
  textHeaders,
  uniqueTopics,
  storePerTest,
} from './testing/kafka-test-support.js';

const SLOW = 180_000;

const perTest = storePerTest('lgsp-kafka-relay-', SLOW);
const { cleanups } = perTest;
let store: SqliteEventStore;
beforeEach(() => {
  store = perTest.store;
});

let seq = 0;
/** A status change of dossier `D-<n>`; even dossiers are in province 51, odd ones in 01. */
function statusChanged(dossier: number): EventToAppend {
  seq += 1;
  const place = PROVINCES[dossier % 2]!;
  return statusChangedEvent(
    seq,
    `000.00.${place.provinceCode}.H56-250701-${String(dossier).padStart(4, '0')}`,
    place,
  );
}

/** Appends `n` events over `dossiers` dossiers, 20 concurrent appends at a time, as ingest would. */
async function appendEvents(n: number, dossiers: number): Promise<void> {
  for (let done = 0; done < n; done += 20) {
    const chunk = Array.from({ length: Math.min(20, n - done) }, (_, i) =>
      statusChanged((done + i * 7) % dossiers),
    );
    await Promise.all(chunk.map((e) => store.append([e])));
  }
}

function startRelay(broker: KafkaBroker, topics: KafkaTopics) {
  const logger = recordingLogger();
  const client = new KafkaJsClient({
    brokers: broker.brokers,
    clientId: 'it-relay',
    connectionTimeoutMs: 1000,
    logger,
  });
  const relay = new KafkaRelay({ client, topics, provinceTopics: { partitions: 3 }, batchSize: 50 });
  const subscriptions = new Subscriptions({ store, retry: { initialDelayMs: 100, maxDelayMs: 1000 } });
  const runner = subscriptions.register(relay);
  cleanups.push(async () => {
    await subscriptions.stop();
    await relay.close();
  });
  return { subscriptions, runner, relay, logger };
}

/** Reads both province topics until `count` records arrived. */
async function readProvinceTopics(broker: KafkaBroker, topics: KafkaTopics, count: number) {
  const client = new KafkaJsClient({ brokers: broker.brokers, clientId: 'it-reader' });
  const readers = await Promise.all(
    PROVINCES.map(({ provinceCode }) => new TopicReader(client, topics.province(provinceCode)).start()),
  );
  cleanups.push(async () => {
    await Promise.all(readers.map((r) => r.stop()));
  });
  const all = () => readers.flatMap((r) => r.records);
  await eventually(() => all().length >= count, 60_000, `${count} records on the province topics`);
  // A moment more, to see a record that arrives twice.
  await new Promise((r) => setTimeout(r, 500));
  return all();
}

/**
 * Checks the records against the log: each event exactly once, on its province's topic, keyed by its
 * dossier, each dossier's events in stream order, every record a valid CloudEvent for the official SDK.
 */
async function expectLogRelayedOnce(
  topics: KafkaTopics,
  records: Awaited<ReturnType<typeof readProvinceTopics>>,
) {
  const events = await store.readAll({ limit: 10_000 });
  const byPosition = new Map<number, StoredEvent>(events.map((e) => [e.position, e]));
  const positions = records.map((r) => Number(textHeaders(r)['lgsp_position']));
  expect([...positions].sort((a, b) => a - b)).toEqual(events.map((e) => e.position));

  const versionsByDossier = new Map<string, number[]>();
  for (const record of records) {
    const headers = textHeaders(record);
    const event = byPosition.get(Number(headers['lgsp_position']))!;
    expect(record.topic).toBe(topics.province(event.provinceCode!));
    const dossierCode = (event.data as { dossierCode: string }).dossierCode;
    expect(record.key?.toString()).toBe(dossierCode);
    const versions = versionsByDossier.get(dossierCode) ?? [];
    versions.push(Number(headers['lgsp_stream_version']));
    versionsByDossier.set(dossierCode, versions);

    const message: KafkaMessage<Buffer> = {
      headers,
      key: dossierCode,
      value: record.value!,
      body: record.value!,
    };
    const received = Kafka.toEvent<unknown>(message);
    if (Array.isArray(received)) throw new Error('expected one event');
    expect((received as unknown as { validate(): boolean }).validate()).toBe(true);
    expect(received).toMatchObject({
      id: event.id,
      source: event.source,
      type: event.type,
      data: event.data,
    });
    expect(headers['traceparent']).toBe(event.extensions['traceparent']);
  }
  for (const [dossierCode, versions] of versionsByDossier) {
    const expected = Array.from({ length: versions.length }, (_, i) => i + 1);
    expect({ dossierCode, versions }).toEqual({ dossierCode, versions: expected });
  }
}

describe('KafkaRelay on a real broker', () => {
  it(
    'publishes 200 events of 2 provinces once each, in dossier order, as valid CloudEvents',
    async () => {
      const broker = await sharedKafka();
      const topics = uniqueTopics();
      await appendEvents(200, 12);
      const { subscriptions } = startRelay(broker, topics);
      await subscriptions.start();
      await eventually(
        async () => (await store.checkpoints.load('relay.kafka')) === 200,
        60_000,
        'checkpoint 200',
      );

      const records = await readProvinceTopics(broker, topics, 200);
      expect(records).toHaveLength(200);
      await expectLogRelayedOnce(topics, records);
      const [lag] = await subscriptions.lag();
      expect(lag).toMatchObject({ name: 'relay.kafka', lagEvents: 0, state: 'running', attempts: 0 });
    },
    SLOW,
  );

  it(
    'keeps appending while the broker is down, retries, and delivers everything once it is back',
    async () => {
      const broker = await dedicatedKafka();
      cleanups.push(() => broker.stop());
      const topics = uniqueTopics();
      const { subscriptions, runner } = startRelay(broker, topics);
      await subscriptions.start();
      await appendEvents(20, 6);
      await eventually(
        async () => (await store.checkpoints.load('relay.kafka')) === 20,
        60_000,
        'checkpoint 20',
      );

      await broker.stop();
      const started = Date.now();
      await appendEvents(40, 6);
      // Appends do not wait for Kafka: the store buffers.
      expect(Date.now() - started).toBeLessThan(2000);
      await eventually(() => runner.status.attempts >= 2, 60_000, 'two failed attempts');
      const lag = await runner.lag();
      expect(lag).toMatchObject({ checkpoint: 20, head: 60, lagEvents: 40 });
      expect(lag.lastError).toMatch(/Kafka/);
      expect(await store.checkpoints.load('relay.kafka')).toBe(20);

      await broker.start();
      await eventually(
        async () => (await store.checkpoints.load('relay.kafka')) === 60,
        90_000,
        'checkpoint 60 after the restart',
      );
      expect(runner.status).toEqual({ state: 'running', attempts: 0 });

      const records = await readProvinceTopics(broker, topics, 60);
      expect(records).toHaveLength(60);
      await expectLogRelayedOnce(topics, records);
    },
    SLOW * 2,
  );
});
