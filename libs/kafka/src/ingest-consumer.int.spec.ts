// The Kafka ingest consumer against a real broker (test/support/kafka.ts), a real SQLite store and the
// real ingest use case: valid records are appended once, refused ones land in the dead-letter topic
// with their reason and original coordinates, and a store failure keeps the record until it succeeds.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventValidator, exampleEvent, type CloudEvent } from '#lgsp/contracts';
import { StoreUnavailableError } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { IngestService } from '#lgsp/ingest';
import {
  KafkaIngestConsumer,
  KafkaJsClient,
  type ConsumedMessage,
  type KafkaIngestOutcome,
  type KafkaTopics,
  type OutgoingMessage,
} from '#lgsp/kafka';
import type { Client } from '#lgsp/security';
import { sharedKafka, type KafkaBroker } from '../../../test/support/kafka.js';
import {
  TopicReader,
  eventually,
  recordingLogger,
  textHeaders,
  uniqueGroup,
  uniqueTopics,
} from './testing/kafka-test-support.js';

const SLOW = 120_000;
const SOURCE = '/communes/21040/one-stop-shop';

const COMMUNE_CLIENT: Client = {
  id: 'client-21040',
  name: 'Xã Bình Sơn one-stop-shop',
  role: 'commune',
  provinceCode: '51',
  communeCodes: ['21040'],
  sources: [SOURCE],
  createdAt: '2025-07-01T00:00:00.000Z',
};

let dir: string;
let store: SqliteEventStore;
let broker: KafkaBroker;
let client: KafkaJsClient;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  broker = await sharedKafka();
}, SLOW);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lgsp-kafka-ingest-'));
  store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  client = new KafkaJsClient({ brokers: broker.brokers, clientId: 'it-ingest' });
});

afterEach(async () => {
  // Consumers leave their groups in parallel: each may wait for its fetch in flight.
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup().catch(() => undefined)));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}, SLOW);

function statusChanged(overrides: Partial<CloudEvent> = {}): CloudEvent {
  const event = exampleEvent('vn.gov.lgsp.dossier.status-changed.v1', randomUUID());
  return { ...event, source: SOURCE, ...overrides };
}

/** A binary-mode record: ce_ headers, the data as the value. */
function binary(event: CloudEvent): OutgoingMessage {
  const { data, datacontenttype: _contentType, ...attributes } = event;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(attributes)) headers[`ce_${name}`] = String(value);
  return { key: (data as { dossierCode: string }).dossierCode, value: JSON.stringify(data), headers };
}

/** A structured-mode record: the whole event as the value. */
function structured(event: CloudEvent): OutgoingMessage {
  return {
    key: (event.data as { dossierCode: string }).dossierCode,
    value: JSON.stringify(event),
    headers: { 'content-type': 'application/cloudevents+json' },
  };
}

function startConsumer(
  topics: KafkaTopics,
  options: { groupId?: string; ingest?: IngestService['ingest'] } = {},
) {
  const ingest = new IngestService(store, new EventValidator());
  const outcomes: [KafkaIngestOutcome, string | undefined][] = [];
  const logger = recordingLogger();
  const consumer = new KafkaIngestConsumer({
    client,
    topics,
    groupId: options.groupId ?? uniqueGroup('ingest'),
    ingest: { ingest: options.ingest ?? ((c, events, single) => ingest.ingest(c, events, single)) },
    sources: { clientForSource: async (source) => (source === SOURCE ? COMMUNE_CLIENT : undefined) },
    createTopics: { partitions: 2 },
    retry: { initialDelayMs: 100, maxDelayMs: 500 },
    observer: { outcome: (outcome, code) => outcomes.push([outcome, code]) },
    logger,
  });
  cleanups.push(() => consumer.stop());
  return { consumer, ingest, outcomes, logger };
}

async function produce(topics: KafkaTopics, messages: OutgoingMessage[]): Promise<void> {
  const producer = client.producer();
  try {
    // One by one: their order in a partition is the order of this list.
    for (const message of messages) await producer.send([{ topic: topics.ingest, messages: [message] }]);
  } finally {
    await producer.close();
  }
}

async function reader(topic: string): Promise<TopicReader> {
  const r = await new TopicReader(client, topic).start();
  cleanups.push(() => r.stop());
  return r;
}

const valueOf = (record: ConsumedMessage | OutgoingMessage): string => String(record.value ?? '');

describe('KafkaIngestConsumer on a real broker', () => {
  it(
    'takes dossier.submitted v2 from a producer that moved to it, and v1 from one that did not, each validated by its own schema',
    async () => {
      const topics = uniqueTopics();
      const { consumer, outcomes } = startConsumer(topics);
      await consumer.start();
      const v1 = { ...exampleEvent('vn.gov.lgsp.dossier.submitted.v1', randomUUID()), source: SOURCE };
      const v2 = { ...exampleEvent('vn.gov.lgsp.dossier.submitted.v2', randomUUID()), source: SOURCE };
      // A v1 applicant in a v2 event is refused by the v2 schema.
      const mixed = { ...v2, id: randomUUID(), data: { ...v2.data, applicant: v1.data.applicant } };
      await produce(topics, [binary(v1), structured(v2), binary(mixed as CloudEvent)]);
      await eventually(() => outcomes.length >= 3, 60_000, 'three outcomes');
      // Two partitions: the order across dossiers is not fixed.
      expect(outcomes.map((o) => o.join(' ')).sort()).toEqual([
        'appended ',
        'appended ',
        'dead-lettered invalid',
      ]);
      const stored = await store.readAll();
      expect(stored.map((e) => [e.id, e.type]).sort()).toEqual(
        [
          [v1.id, 'vn.gov.lgsp.dossier.submitted.v1'],
          [v2.id, 'vn.gov.lgsp.dossier.submitted.v2'],
        ].sort(),
      );
      expect(stored.find((e) => e.id === v2.id)!.data).toEqual(v2.data);
    },
    SLOW,
  );

  it(
    'appends valid records once and dead-letters refused ones with the reason and the original coordinates',
    async () => {
      const topics = uniqueTopics();
      const { consumer, outcomes } = startConsumer(topics);
      await consumer.start();
      expect(consumer.state).toBe('running');

      const valid = statusChanged();
      const alsoValid = statusChanged({ type: 'vn.gov.lgsp.payment.failed.v1' });
      alsoValid.data = exampleEvent('vn.gov.lgsp.payment.failed.v1').data;
      const malformed: OutgoingMessage = {
        key: 'broken',
        value: '{"specversion": "1.0", "id": ',
        headers: { 'content-type': 'application/cloudevents+json' },
      };
      const invalid = binary(
        statusChanged({ data: { ...statusChanged().data!, status: 99 } as CloudEvent['data'] }),
      );
      const unbound = structured(statusChanged({ source: '/communes/99999/unknown' }));
      await produce(topics, [
        binary(valid),
        malformed,
        invalid,
        structured(alsoValid),
        binary(valid),
        unbound,
      ]);

      const dlq = await reader(topics.deadLetter);
      const ingested = await reader(topics.ingest);
      await eventually(() => dlq.records.length >= 3 && ingested.records.length >= 6, 60_000, 'records read');
      await eventually(() => outcomes.length >= 6, 60_000, 'six outcomes');

      const stored = await store.readAll();
      expect(stored.map((e) => e.id)).toEqual([valid.id, alsoValid.id]);
      expect(outcomes.filter(([o]) => o !== 'dead-lettered')).toEqual([
        ['appended', undefined],
        ['appended', undefined],
        ['duplicate', undefined],
      ]);

      const originalOf = (value: string) => ingested.records.find((r) => valueOf(r) === value)!;
      const byCode = new Map(dlq.records.map((r) => [textHeaders(r)['lgsp_dlq_code'], r]));
      expect([...byCode.keys()].sort()).toEqual(['invalid', 'malformed', 'unauthenticated']);
      for (const [code, sent, reason] of [
        ['malformed', malformed, /not valid JSON/],
        ['invalid', invalid, /schema violation/],
        ['unauthenticated', unbound, /no client is bound to source \/communes\/99999\/unknown/],
      ] as const) {
        const record = byCode.get(code)!;
        const original = originalOf(valueOf(sent));
        const headers = textHeaders(record);
        expect(valueOf(record)).toBe(valueOf(sent));
        expect(record.key?.toString()).toBe(String(sent.key));
        expect(headers['lgsp_dlq_reason']).toMatch(reason);
        expect(headers).toMatchObject({
          'content-type': String(sent.headers['content-type']),
          lgsp_original_topic: topics.ingest,
          lgsp_original_partition: String(original.partition),
          lgsp_original_offset: original.offset,
          lgsp_original_timestamp: original.timestamp,
        });
        expect(JSON.parse(headers['lgsp_dlq_errors']!)).toEqual(expect.any(Array));
      }
      expect(JSON.parse(textHeaders(byCode.get('invalid')!)['lgsp_dlq_errors']!)).toEqual([
        { pointer: '/data/status', message: expect.stringMatching(/10/) },
      ]);
    },
    SLOW,
  );

  it(
    'commits what it finished: a new member of the group starts after it',
    async () => {
      const topics = uniqueTopics();
      const groupId = uniqueGroup('ingest');
      const first = startConsumer(topics, { groupId });
      await first.consumer.start();
      const before = [statusChanged(), statusChanged()];
      await produce(topics, [
        ...before.map(binary),
        { key: null, value: 'nope', headers: { 'content-type': 'application/cloudevents+json' } },
      ]);
      await eventually(() => first.outcomes.length === 3, 60_000, 'three outcomes');
      await first.consumer.stop();

      const second = startConsumer(topics, { groupId });
      await second.consumer.start();
      const after = statusChanged();
      await produce(topics, [binary(after)]);
      await eventually(() => second.outcomes.length >= 1, 60_000, 'an outcome');
      await new Promise((r) => setTimeout(r, 500));
      expect(second.outcomes).toEqual([['appended', undefined]]);
      expect((await store.readAll()).map((e) => e.id)).toEqual([...before, after].map((e) => e.id));
    },
    SLOW,
  );

  it(
    'keeps a record while the store is unavailable and appends it, in order, once the store is back',
    async () => {
      const topics = uniqueTopics();
      let failuresLeft = 3;
      const real = new IngestService(store, new EventValidator());
      const { consumer, outcomes } = startConsumer(topics, {
        ingest: async (c, events, single) => {
          if (failuresLeft > 0) {
            failuresLeft -= 1;
            throw new StoreUnavailableError('the event store could not commit; nothing was appended');
          }
          return real.ingest(c, events, single);
        },
      });
      await consumer.start();
      const dossier = statusChanged().data as { dossierCode: string };
      const events = [1, 2, 3].map((status) =>
        statusChanged({
          data: { ...(statusChanged().data as object), dossierCode: dossier.dossierCode, status },
        }),
      );
      await produce(topics, events.map(binary));
      const dlq = await reader(topics.deadLetter);

      await eventually(async () => (await store.readAll()).length === 3, 60_000, 'three events appended');
      expect(outcomes).toEqual([
        ['retrying', 'unavailable'],
        ['retrying', 'unavailable'],
        ['retrying', 'unavailable'],
        ['appended', undefined],
        ['appended', undefined],
        ['appended', undefined],
      ]);
      const stored = await store.readAll();
      expect(stored.map((e) => e.id)).toEqual(events.map((e) => e.id));
      expect(stored.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
      expect(dlq.records).toEqual([]);
    },
    SLOW,
  );
});
