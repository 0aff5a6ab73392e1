// The relay, the Kafka ingest and a replay topic over the development broker's secured listeners
// (deploy/kafka/kafka.sh with KAFKA_SECURED=1, certificates by deploy/kafka/certs.sh): SASL_SSL with
// SCRAM and PLAIN, and SSL with a client certificate. A wrong password, an unknown CA and a missing
// client certificate are refused, each named as such.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventValidator, exampleEvent } from '#lgsp/contracts';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { IngestService } from '#lgsp/ingest';
import {
  BrokerError,
  KafkaConnectionCheck,
  KafkaIngestConsumer,
  KafkaJsClient,
  KafkaRelay,
  KafkaReplayTargets,
  LGSP_REPLAY_HEADER,
  type KafkaClientOptions,
  type KafkaIngestOutcome,
} from '#lgsp/kafka';
import type { Client } from '#lgsp/security';
import { Subscriptions } from '#lgsp/subscriptions';
import { securedKafka, type SecuredKafkaBroker } from '../../../test/support/kafka.js';
import {
  TEST_PROVINCES as PROVINCES,
  TopicReader,
  eventually,
  recordingLogger,
  statusChangedEvent,
  testClient,
  textHeaders,
  uniqueGroup,
  uniqueTopics,
} from './testing/kafka-test-support.js';

const SLOW = 120_000;
const SOURCE = '/communes/21040/one-stop-shop';
const COMMUNE_CLIENT: Client = {
  ...testClient('xa-21040', 'commune', { provinceCode: '51', communeCodes: ['21040'] }),
  sources: [SOURCE],
};

let broker: SecuredKafkaBroker;
let pem: { ca: string; cert: string; key: string; untrustedCa: string };
let password: string;
let dir: string;
let store: SqliteEventStore;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  broker = await securedKafka();
  const file = (name: string) => readFileSync(join(broker.certsDir, name), 'utf8');
  pem = {
    ca: file('ca.crt'),
    cert: file('client.crt'),
    key: file('client.key'),
    untrustedCa: file('untrusted-ca.crt'),
  };
  password = file('sasl.password').trim();
}, SLOW);

afterAll(async () => {
  await broker?.stop();
}, SLOW);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lgsp-kafka-secured-'));
  store = SqliteEventStore.open({ file: join(dir, 'events.db') });
});

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup().catch(() => undefined)));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}, SLOW);

type Sasl = NonNullable<KafkaClientOptions['sasl']>;

/** A client of the SASL_SSL listener, trusting the development CA unless told otherwise. */
function saslClient(mechanism: Sasl['mechanism'], options: { password?: string; ca?: string } = {}) {
  return new KafkaJsClient({
    brokers: broker.saslSsl,
    clientId: 'it-secured',
    connectionTimeoutMs: 2000,
    ssl: { ca: [options.ca ?? pem.ca] },
    sasl: { mechanism, username: broker.username, password: options.password ?? password },
  });
}

/** A client of the SSL listener, with the development client certificate unless told otherwise. */
function mtlsClient(options: { certificate?: boolean } = {}) {
  return new KafkaJsClient({
    brokers: broker.ssl,
    clientId: 'it-secured-mtls',
    connectionTimeoutMs: 2000,
    ssl: { ca: [pem.ca], ...(options.certificate === false ? {} : { cert: pem.cert, key: pem.key }) },
  });
}

/** Reads a topic over the PLAINTEXT listener until it holds `count` records. */
async function readTopic(topic: string, count: number) {
  const reader = await new TopicReader(new KafkaJsClient({ brokers: broker.brokers }), topic).start();
  cleanups.push(() => reader.stop());
  await eventually(() => reader.records.length >= count, 60_000, `${count} records on ${topic}`);
  return reader.records;
}

async function check(client: KafkaJsClient) {
  const connection = new KafkaConnectionCheck({ client, logger: recordingLogger() });
  cleanups.push(async () => connection.stop());
  return connection.start();
}

describe('Kafka over the secured listeners', () => {
  it(
    'the relay publishes over SASL_SSL with SCRAM-SHA-512 and the ingest consumer reads over mutual TLS',
    async () => {
      const topics = uniqueTopics();
      for (let i = 1; i <= 10; i++) {
        const place = PROVINCES[i % 2]!;
        await store.append([
          statusChangedEvent(i, `000.00.${place.provinceCode}.H56-250701-000${i % 3}`, place),
        ]);
      }
      const relay = new KafkaRelay({
        client: saslClient('scram-sha-512'),
        topics,
        provinceTopics: { partitions: 1 },
      });
      const subscriptions = new Subscriptions({ store, retry: { initialDelayMs: 100, maxDelayMs: 1000 } });
      subscriptions.register(relay);
      cleanups.push(async () => {
        await subscriptions.stop();
        await relay.close();
      });
      await subscriptions.start();
      await eventually(async () => (await store.checkpoints.load('relay.kafka')) === 10, 60_000, 'relayed');
      const relayed = [
        ...(await readTopic(topics.province('51'), 5)),
        ...(await readTopic(topics.province('01'), 5)),
      ];
      expect(relayed.map((r) => Number(textHeaders(r)['lgsp_position'])).sort((a, b) => a - b)).toEqual([
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
      ]);

      // A commune system produces over SASL_SSL with SCRAM-SHA-256; the hub consumes with its certificate.
      const ingested = SqliteEventStore.open({ file: join(dir, 'ingested.db') });
      cleanups.push(() => ingested.close());
      const outcomes: KafkaIngestOutcome[] = [];
      const ingest = new IngestService(ingested, new EventValidator());
      const consumer = new KafkaIngestConsumer({
        client: mtlsClient(),
        topics,
        groupId: uniqueGroup('secured-ingest'),
        ingest,
        sources: { clientForSource: async (source) => (source === SOURCE ? COMMUNE_CLIENT : undefined) },
        createTopics: { partitions: 1 },
        observer: { outcome: (outcome) => outcomes.push(outcome) },
      });
      cleanups.push(() => consumer.stop());
      await consumer.start();
      const events = Array.from({ length: 3 }, () => ({
        ...exampleEvent('vn.gov.lgsp.dossier.status-changed.v1', randomUUID()),
        source: SOURCE,
      }));
      const producer = saslClient('scram-sha-256').producer();
      cleanups.push(() => producer.close());
      await producer.send([
        {
          topic: topics.ingest,
          messages: events.map((event) => ({
            key: null,
            value: JSON.stringify(event),
            headers: { 'content-type': 'application/cloudevents+json' },
          })),
        },
      ]);
      await eventually(() => outcomes.length >= 3, 60_000, 'three records ingested');
      expect(outcomes).toEqual(['appended', 'appended', 'appended']);
      expect((await ingested.readAll({ limit: 10 })).map((e) => e.id)).toEqual(events.map((e) => e.id));
    },
    SLOW,
  );

  it(
    'a replay reaches its consumer’s replay topic over SASL_SSL with PLAIN',
    async () => {
      const topics = uniqueTopics();
      for (let i = 1; i <= 4; i++) {
        const place = PROVINCES[0];
        await store.append([statusChangedEvent(i, `000.00.51.H56-250701-000${i}`, place)]);
      }
      const targets = new KafkaReplayTargets({
        client: saslClient('plain'),
        events: store,
        topics,
        replayTopics: { partitions: 1 },
      });
      cleanups.push(() => targets.close());
      const target = targets.target(testClient('so-51', 'province', { provinceCode: '51' }))!;
      const results = await target.sendBatch(['1', '2', '3', '4'], 'replay-secured');
      expect(results).toEqual(['sent', 'sent', 'sent', 'sent']);
      const records = await readTopic(target.topic, 4);
      expect(records.map((r) => textHeaders(r)[LGSP_REPLAY_HEADER])).toEqual(Array(4).fill('replay-secured'));
    },
    SLOW,
  );

  it('checks every way in: SCRAM-SHA-512, SCRAM-SHA-256, PLAIN over TLS, and a client certificate', async () => {
    for (const client of [
      saslClient('scram-sha-512'),
      saslClient('scram-sha-256'),
      saslClient('plain'),
      mtlsClient(),
    ]) {
      expect(await check(client)).toEqual({ state: 'connected', brokers: 1 });
    }
  });

  it('names a wrong password as an authentication failure, and never shows the password', async () => {
    const wrong = `not-${password}`;
    for (const mechanism of ['scram-sha-512', 'plain'] as const) {
      const state = await check(saslClient(mechanism, { password: wrong }));
      expect(state).toMatchObject({ state: 'refused', refusal: 'authentication' });
      expect(JSON.stringify(state)).toMatch(/SASL authentication failed/);
      expect(JSON.stringify(state)).not.toContain(wrong);
    }
    // The relay's producer gets the same refusal, not worth retrying inside one send.
    const producer = saslClient('scram-sha-512', { password: wrong }).producer();
    cleanups.push(() => producer.close());
    const refused = await producer
      .send([{ topic: 'it-never', messages: [{ key: null, value: 'x', headers: {} }] }])
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(refused).toBeInstanceOf(BrokerError);
    expect(refused).toMatchObject({ refusal: 'authentication', retriable: false });
  });

  it('names an unknown CA, and a missing client certificate, as certificate failures', async () => {
    const untrusted = await check(saslClient('scram-sha-512', { ca: pem.untrustedCa }));
    expect(untrusted).toMatchObject({ state: 'refused', refusal: 'certificate' });
    expect(JSON.stringify(untrusted)).toMatch(/the broker's TLS certificate is not trusted/);

    const anonymous = await check(mtlsClient({ certificate: false }));
    expect(anonymous).toMatchObject({ state: 'refused', refusal: 'certificate' });
    expect(JSON.stringify(anonymous)).toMatch(/the broker refused the client certificate/);
  });

  it('tells an unreachable broker from a refusal', async () => {
    const closed = new KafkaJsClient({ brokers: ['127.0.0.1:1'], connectionTimeoutMs: 500, retries: 1 });
    expect(await check(closed)).toMatchObject({ state: 'unreachable' });
  });
});
