// Trace context across the real broker (test/support/kafka.ts), with the OpenTelemetry SDK recording
// in memory: a record's `traceparent` header becomes the parent of the ingest consumer's `process` span
// and is stored with the event; the relay's records carry each event's stored traceparent as a header,
// and its `send` span links to them.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { EventValidator, exampleEvent, type CloudEvent } from '#lgsp/contracts';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { IngestService } from '#lgsp/ingest';
import { KafkaIngestConsumer, KafkaJsClient, KafkaRelay } from '#lgsp/kafka';
import { ABSENT_TRACING, ApiTracing, useTracing } from '#lgsp/observability';
import type { Client } from '#lgsp/security';
import { Subscriptions } from '#lgsp/subscriptions';
import { sharedKafka, type KafkaBroker } from '../../../test/support/kafka.js';
import {
  TEST_PROVINCES,
  TopicReader,
  eventually,
  statusChangedEvent,
  textHeaders,
  uniqueGroup,
  uniqueTopics,
} from './testing/kafka-test-support.js';

const SLOW = 120_000;
const SOURCE = '/communes/21040/one-stop-shop';
const CLIENT: Client = {
  id: 'client-21040',
  name: 'one-stop-shop',
  role: 'commune',
  provinceCode: '51',
  communeCodes: ['21040'],
  sources: [SOURCE],
  createdAt: '2025-07-01T00:00:00.000Z',
};
const CONSUMER = api.SpanKind.CONSUMER;
const PRODUCER = api.SpanKind.PRODUCER;

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const contextManager = new AsyncLocalStorageContextManager();
let broker: KafkaBroker;
let client: KafkaJsClient;
let dir: string;
let store: SqliteEventStore;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  api.context.setGlobalContextManager(contextManager.enable());
  api.trace.setGlobalTracerProvider(provider);
  useTracing(new ApiTracing(api, 'on'));
  broker = await sharedKafka();
}, SLOW);
afterAll(async () => {
  useTracing(ABSENT_TRACING);
  await provider.shutdown();
  api.trace.disable();
  api.context.disable();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lgsp-kafka-trace-'));
  store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  client = new KafkaJsClient({ brokers: broker.brokers, clientId: 'it-trace' });
  exporter.reset();
});
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c().catch(() => undefined)));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}, SLOW);

const traceparent = (): string =>
  `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;

describe('trace context over Kafka (real broker, SDK recording in memory)', () => {
  it(
    'the ingest consumer continues the trace of the record header and stores it with the event',
    async () => {
      const topics = uniqueTopics();
      const consumer = new KafkaIngestConsumer({
        client,
        topics,
        groupId: uniqueGroup('trace'),
        ingest: new IngestService(store, new EventValidator()),
        sources: { clientForSource: async (s) => (s === SOURCE ? CLIENT : undefined) },
        createTopics: { partitions: 1 },
      });
      cleanups.push(() => consumer.stop());
      await consumer.start();

      const event: CloudEvent = {
        ...exampleEvent('vn.gov.lgsp.dossier.status-changed.v1', randomUUID()),
        source: SOURCE,
      };
      const header = traceparent();
      const [, traceId, parentId] = header.split('-') as [string, string, string];
      const producer = client.producer();
      await producer.send([
        {
          topic: topics.ingest,
          messages: [
            {
              key: 'k',
              value: JSON.stringify(event),
              headers: { 'content-type': 'application/cloudevents+json', traceparent: header },
            },
          ],
        },
      ]);
      await producer.close();

      await eventually(async () => (await store.readAll()).length === 1, 60_000, 'the event appended');
      const [stored] = await store.readAll();
      const process = exporter.getFinishedSpans().find((s) => s.name === `process ${topics.ingest}`);
      expect(process).toBeDefined();
      expect(process!.kind).toBe(CONSUMER);
      expect(process!.spanContext().traceId).toBe(traceId);
      expect(process!.parentSpanContext?.spanId).toBe(parentId);
      expect(process!.attributes['messaging.destination.name']).toBe(topics.ingest);
      // The event stores the consumer's span: the trace goes on from the record's producer.
      expect(stored!.extensions['traceparent']).toBe(`00-${traceId}-${process!.spanContext().spanId}-01`);
      const append = exporter.getFinishedSpans().find((s) => s.name === 'append');
      expect(append?.parentSpanContext?.spanId).toBe(process!.spanContext().spanId);
    },
    SLOW,
  );

  it(
    "the relay's records carry each event's stored traceparent; its send span links to them",
    async () => {
      const topics = uniqueTopics();
      const place = TEST_PROVINCES[0]!;
      const events = [1, 2, 3].map((seq) => ({
        ...statusChangedEvent(seq, `000.00.${place.provinceCode}.H56-250701-000${seq}`, place),
        extensions: { traceparent: traceparent() },
      }));
      for (const e of events) await store.append([e]);

      const relay = new KafkaRelay({ client, topics, provinceTopics: { partitions: 1 }, batchSize: 50 });
      const subscriptions = new Subscriptions({ store });
      subscriptions.register(relay);
      cleanups.push(async () => {
        await subscriptions.stop();
        await relay.close();
      });
      await subscriptions.start();
      // The relay creates the province topic with its first batch: read it once it exists.
      let reader: TopicReader | undefined;
      await eventually(
        async () => {
          reader = await new TopicReader(client, topics.province(place.provinceCode))
            .start()
            .catch(() => undefined);
          return reader !== undefined;
        },
        60_000,
        'the province topic',
      );
      cleanups.push(() => reader!.stop());
      await eventually(() => reader!.records.length >= 3, 60_000, 'three records');

      const sent = reader!.records.map((r) => textHeaders(r)['traceparent']);
      expect(sent).toEqual(events.map((e) => e.extensions['traceparent']));
      await eventually(
        () => exporter.getFinishedSpans().some((s) => s.kind === PRODUCER),
        10_000,
        'the send span',
      );
      const send = exporter.getFinishedSpans().find((s) => s.kind === PRODUCER)!;
      expect(send.links.map((l) => `00-${l.context.traceId}-${l.context.spanId}-01`)).toEqual(sent);
      // Sent inside the relay's `process` span (a subscriber's batch), which links to the same contexts.
      const batch = exporter.getFinishedSpans().find((s) => s.name === 'process relay.kafka');
      expect(send.parentSpanContext?.spanId).toBe(batch?.spanContext().spanId);
      expect(batch?.links).toHaveLength(3);
    },
    SLOW,
  );
});
