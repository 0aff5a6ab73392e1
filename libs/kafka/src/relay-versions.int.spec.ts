// Event versions on a real broker: the same log relayed to a province topic at v1 (the default) and,
// by configuration, at v2; an event that cannot be converted goes to the relay's dead-letter topic.
import { eventSchemaId, exampleEvent } from '#lgsp/contracts';
import { ANY_VERSION, type EventToAppend } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { KafkaJsClient, KafkaRelay, type KafkaTopics, type RelayEventVersions } from '#lgsp/kafka';
import { Subscriptions } from '#lgsp/subscriptions';
import { sharedKafka, type KafkaBroker } from '../../../test/support/kafka.js';
import {
  TopicReader,
  eventually,
  textHeaders,
  uniqueTopics,
  storePerTest,
} from './testing/kafka-test-support.js';

const SLOW = 180_000;
const V1 = 'vn.gov.lgsp.dossier.submitted.v1';
const V2 = 'vn.gov.lgsp.dossier.submitted.v2';

const perTest = storePerTest('lgsp-kafka-versions-', SLOW);
const { cleanups } = perTest;
let store: SqliteEventStore;
beforeEach(() => {
  store = perTest.store;
});

function submission(type: typeof V1 | typeof V2, code: string, data?: unknown): EventToAppend {
  return {
    stream: `dossier-${code}`,
    expectedVersion: ANY_VERSION,
    id: `submission-${code}`,
    source: '/communes/21040/one-stop-shop',
    type,
    data: data ?? { ...exampleEvent(type).data, dossierCode: code },
    extensions: {},
    provinceCode: '51',
    communeCode: '21040',
  };
}

function startRelay(
  broker: KafkaBroker,
  topics: KafkaTopics,
  name: string,
  eventVersions?: RelayEventVersions,
) {
  const client = new KafkaJsClient({
    brokers: broker.brokers,
    clientId: `it-${name}`,
    connectionTimeoutMs: 1000,
  });
  const relay = new KafkaRelay({
    client,
    topics,
    name,
    provinceTopics: { partitions: 1 },
    ...(eventVersions === undefined ? {} : { eventVersions }),
  });
  const subscriptions = new Subscriptions({ store, retry: { initialDelayMs: 100, maxDelayMs: 1000 } });
  subscriptions.register(relay);
  cleanups.push(async () => {
    await subscriptions.stop();
    await relay.close();
  });
  return subscriptions;
}

/** Waits until every subscriber has relayed up to the head (the topics then exist). */
async function relayed(subscriptions: Subscriptions): Promise<void> {
  await eventually(
    async () => (await subscriptions.lag()).every((l) => l.lagEvents === 0),
    60_000,
    'the relays at the head',
  );
}

async function read(broker: KafkaBroker, topic: string, count: number) {
  const reader = await new TopicReader(
    new KafkaJsClient({ brokers: broker.brokers, clientId: 'it-versions-reader' }),
    topic,
  ).start();
  cleanups.push(() => reader.stop());
  await eventually(() => reader.records.length >= count, 60_000, `${count} records on ${topic}`);
  return reader.records.map((r) => ({
    headers: textHeaders(r),
    data: JSON.parse(String(r.value)) as Record<string, unknown>,
  }));
}

describe('KafkaRelay with event versions, on a broker', () => {
  it(
    'sends one topic v1 as it always did and another v2, for the same old and new events',
    async () => {
      const broker = await sharedKafka();
      // Stored before the relays start: old events, and a v2 one from a commune that moved to v2.
      await store.append([submission(V1, 'OLD-1')]);
      await store.append([submission(V2, 'NEW-2')]);
      const asV1 = uniqueTopics();
      const asV2 = uniqueTopics();
      const one = startRelay(broker, asV1, 'relay.kafka.v1');
      const two = startRelay(broker, asV2, 'relay.kafka.v2', { '51': { 'dossier.submitted': 2 } });
      await one.start();
      await two.start();
      await store.append([submission(V1, 'NEW-3')]);
      await relayed(one);
      await relayed(two);

      const v1 = await read(broker, asV1.province('51'), 3);
      const v2 = await read(broker, asV2.province('51'), 3);
      expect(v1.map((r) => [r.headers['lgsp_stream'], r.headers['ce_type']])).toEqual([
        ['dossier-OLD-1', V1],
        ['dossier-NEW-2', V1],
        ['dossier-NEW-3', V1],
      ]);
      // v1 events go out exactly as stored; the v2 one downcast, with the v1 schema named.
      expect(v1[0]!.data).toEqual(submission(V1, 'OLD-1').data);
      expect(v1[0]!.headers['ce_dataschema']).toBeUndefined();
      expect(v1[1]!.headers['ce_dataschema']).toBe(eventSchemaId(V1));
      expect(v1[1]!.data['applicant']).toEqual({
        fullName: 'Nguyễn Thị Đào',
        idNumber: '051190000123',
        phone: '0912345678',
      });
      expect(v2.map((r) => [r.headers['lgsp_stream'], r.headers['ce_type']])).toEqual([
        ['dossier-OLD-1', V2],
        ['dossier-NEW-2', V2],
        ['dossier-NEW-3', V2],
      ]);
      expect(v2[0]!.data['persons']).toEqual([
        {
          role: 'applicant',
          fullName: 'Nguyễn Thị Đào',
          documents: [{ kind: 'citizen-id', number: '051190000123' }],
        },
      ]);
      expect(v2[1]!.data).toEqual(submission(V2, 'NEW-2').data);
    },
    SLOW,
  );

  it(
    'puts an event it cannot convert on the relay dead-letter topic and relays the next ones',
    async () => {
      const broker = await sharedKafka();
      const topics = uniqueTopics();
      await store.append([submission(V1, 'BROKEN', { dossierCode: 'BROKEN', provinceCode: '51' })]);
      await store.append([submission(V1, 'FINE')]);
      const subscriptions = startRelay(broker, topics, 'relay.kafka.dlq', {
        '*': { 'dossier.submitted': 2 },
      });
      await subscriptions.start();
      await relayed(subscriptions);
      const [dead] = await read(broker, topics.relayDeadLetter, 1);
      expect(dead!.headers).toMatchObject({
        ce_type: V1,
        lgsp_stream: 'dossier-BROKEN',
        lgsp_dlq_code: 'invalid',
        lgsp_original_topic: topics.province('51'),
        lgsp_dlq_reason: `event ${V1} cannot be read as ${V2}: applicant must be an object`,
      });
      const [fine] = await read(broker, topics.province('51'), 1);
      expect(fine!.headers['lgsp_stream']).toBe('dossier-FINE');
    },
    SLOW,
  );
});
