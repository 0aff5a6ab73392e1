import { DomainError, EventValidator, exampleEvent, type CloudEvent } from '#lgsp/contracts';
import {
  ReadOnlyStoreError,
  StoreUnavailableError,
  type AppendResult,
  type EventStore,
} from '#lgsp/event-store';
import { IngestService, type IngestOutcome } from '#lgsp/ingest';
import {
  DEFAULT_INGEST_GROUP_ID,
  KafkaIngestConsumer,
  KafkaTopics,
  type ConsumedMessage,
  type KafkaIngestOutcome,
  type MessageVerdict,
  type SourceDirectory,
} from '#lgsp/kafka';
import type { Client } from '#lgsp/security';
import { FakeKafkaClient } from './testing/fake-kafka-client.js';

const COMMUNE_CLIENT: Client = {
  id: 'c-1',
  name: 'Xã Bình Sơn',
  role: 'commune',
  provinceCode: '51',
  communeCodes: ['21040'],
  sources: ['/communes/21040'],
  createdAt: '2025-07-01T00:00:00.000Z',
};

const topics = new KafkaTopics({ prefix: 'unit' });
let offset = 0;

function record(event: CloudEvent, overrides: Partial<ConsumedMessage> = {}): ConsumedMessage {
  offset += 1;
  return {
    topic: topics.ingest,
    partition: 2,
    offset: String(offset),
    timestamp: '1751333400000',
    key: Buffer.from('000.00.15.H55-250701-0001'),
    value: Buffer.from(JSON.stringify(event)),
    headers: { 'content-type': Buffer.from('application/cloudevents+json') },
    ...overrides,
  };
}

function appendResult(event: CloudEvent, duplicate: boolean): AppendResult {
  return {
    id: event.id,
    source: event.source,
    stream: 'dossier-x',
    streamVersion: 1,
    position: 7,
    duplicate,
  };
}

type IngestCall = { client: Client; events: readonly CloudEvent[]; single: boolean };

function setup(
  ingestImpl?: (call: IngestCall) => Promise<IngestOutcome>,
  clientForSource: SourceDirectory['clientForSource'] = async (source) =>
    source === '/communes/21040' ? COMMUNE_CLIENT : undefined,
) {
  const client = new FakeKafkaClient();
  const calls: IngestCall[] = [];
  const outcomes: [KafkaIngestOutcome, string | undefined][] = [];
  const consumer = new KafkaIngestConsumer({
    client,
    topics,
    retry: { initialDelayMs: 100, maxDelayMs: 1000 },
    sources: { clientForSource },
    ingest: {
      ingest: async (c, events, single) => {
        const call = { client: c, events, single };
        calls.push(call);
        if (ingestImpl) return ingestImpl(call);
        return { status: 201, results: events.map((e) => appendResult(e, false)) };
      },
    },
    observer: { outcome: (outcome, code) => outcomes.push([outcome, code]) },
  });
  return { client, consumer, calls, outcomes };
}

/** The one record sent to the dead-letter topic. */
function deadLettered(client: FakeKafkaClient) {
  expect(client.sent).toHaveLength(1);
  const [batch] = client.sent[0] ?? [];
  expect(batch?.topic).toBe('unit.ingest.dlq');
  expect(batch?.messages).toHaveLength(1);
  const message = batch?.messages[0];
  const headers = Object.fromEntries(
    Object.entries(message?.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : String(v)]),
  );
  return { message, headers };
}

describe('KafkaIngestConsumer: start and stop', () => {
  it('creates the ingest and dead-letter topics, then joins the group on the ingest topic', async () => {
    const { client, consumer } = setup();
    await consumer.start();
    expect(consumer.state).toBe('running');
    expect(client.created).toEqual([
      [
        { topic: 'unit.ingest', partitions: 6, replicationFactor: 1, config: {} },
        { topic: 'unit.ingest.dlq', partitions: 6, replicationFactor: 1, config: {} },
      ],
    ]);
    expect(client.consumers).toEqual([{ groupId: DEFAULT_INGEST_GROUP_ID, topic: 'unit.ingest' }]);
    await consumer.stop();
    expect(consumer.state).toBe('stopped');
    expect(client.consumerStopped).toBe(1);
    expect(client.closed).toBe(2);
  });

  it('keeps trying in the background when the broker is down at start, without failing the start', async () => {
    const { client, consumer } = setup();
    client.failCreates = 2;
    await consumer.start();
    expect(consumer.state).toBe('connecting');
    const deadline = Date.now() + 5000;
    while (consumer.state !== 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(consumer.state).toBe('running');
    expect(client.created).toHaveLength(1);
    await consumer.stop();
  });

  it('starts a new consumer, with backoff, when the client library gives up on the running one', async () => {
    const { client, consumer } = setup();
    await consumer.start();
    client.crash(new Error('The group coordinator is not available'));
    expect(consumer.state).toBe('connecting');
    const deadline = Date.now() + 5000;
    while (consumer.state !== 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(consumer.state).toBe('running');
    expect(client.consumerStopped).toBe(1);
    expect(client.consumerStarted).toBe(2);
    await consumer.stop();
  });

  it('stops reconnecting when stopped while the broker is down', async () => {
    const { client, consumer } = setup();
    client.failCreates = 1000;
    await consumer.start();
    await consumer.stop();
    const failuresLeft = client.failCreates;
    await new Promise((r) => setTimeout(r, 300));
    expect(client.failCreates).toBe(failuresLeft);
    expect(client.handler).toBeUndefined();
    expect(consumer.state).toBe('stopped');
  });
});

describe('KafkaIngestConsumer: one record', () => {
  const valid = () => exampleEvent('vn.gov.lgsp.dossier.status-changed.v1', `e-${offset}`);

  it('ingests a structured-mode record as one event for the bound client, then commits', async () => {
    const { client, consumer, calls, outcomes } = setup();
    await consumer.start();
    const event = valid();
    expect(await client.deliver(record(event))).toEqual({ kind: 'done' });
    expect(calls).toEqual([{ client: COMMUNE_CLIENT, events: [event], single: true }]);
    expect(outcomes).toEqual([['appended', undefined]]);
    expect(client.sent).toEqual([]);
  });

  it('ingests a binary-mode record', async () => {
    const { client, consumer, calls } = setup();
    await consumer.start();
    const event = valid();
    const verdict = await client.deliver(
      record(event, {
        headers: {
          ce_specversion: '1.0',
          ce_id: event.id,
          ce_source: event.source,
          ce_type: event.type,
          'content-type': 'application/json',
        },
        value: Buffer.from(JSON.stringify(event.data)),
      }),
    );
    expect(verdict).toEqual({ kind: 'done' });
    expect(calls[0]?.events[0]).toMatchObject({ id: event.id, data: event.data });
  });

  it('commits a record that was already stored', async () => {
    const { client, consumer, outcomes } = setup(async ({ events }) => ({
      status: 200,
      results: events.map((e) => appendResult(e, true)),
    }));
    await consumer.start();
    expect(await client.deliver(record(valid()))).toEqual({ kind: 'done' });
    expect(outcomes).toEqual([['duplicate', undefined]]);
  });

  it('dead-letters a malformed record with its reason and coordinates, keeping key, value and headers', async () => {
    const { client, consumer, calls, outcomes } = setup();
    await consumer.start();
    const bad = record(valid(), {
      value: Buffer.from('{"id": '),
      headers: { 'content-type': Buffer.from('application/cloudevents+json'), 'x-trace': ['a', 'b'] },
    });
    expect(await client.deliver(bad)).toEqual({ kind: 'done' });
    expect(calls).toEqual([]);
    const { message, headers } = deadLettered(client);
    expect(message?.key).toEqual(bad.key);
    expect(message?.value).toEqual(bad.value);
    expect(headers).toMatchObject({
      'content-type': 'application/cloudevents+json',
      'x-trace': ['a', 'b'],
      lgsp_dlq_code: 'malformed',
      lgsp_original_topic: 'unit.ingest',
      lgsp_original_partition: '2',
      lgsp_original_offset: bad.offset,
      lgsp_original_timestamp: '1751333400000',
    });
    expect(headers['lgsp_dlq_reason']).toMatch(/not valid JSON/);
    expect(JSON.parse(String(headers['lgsp_dlq_errors']))).toEqual([
      { pointer: '', message: expect.any(String) },
    ]);
    expect(outcomes).toEqual([['dead-lettered', 'malformed']]);
  });

  it('dead-letters a person.erased record (a type only the hub emits) as invalid, appending nothing', async () => {
    const appended: unknown[] = [];
    const store = { append: async (e: unknown) => appended.push(e) } as unknown as EventStore;
    const real = new IngestService(store, new EventValidator());
    const { client, consumer, outcomes } = setup(({ client: c, events, single }) =>
      real.ingest(c, events, single),
    );
    await consumer.start();
    const notice = exampleEvent('vn.gov.lgsp.person.erased.v1', `e-${offset}`);
    expect(await client.deliver(record({ ...notice, source: '/communes/21040' }))).toEqual({ kind: 'done' });
    const { headers } = deadLettered(client);
    expect(headers['lgsp_dlq_code']).toBe('invalid');
    expect(JSON.parse(String(headers['lgsp_dlq_errors']))).toEqual([
      {
        pointer: '/type',
        message: 'vn.gov.lgsp.person.erased.v1 is emitted by the hub only: clients cannot send it',
      },
    ]);
    expect(outcomes).toEqual([['dead-lettered', 'invalid']]);
    expect(appended).toEqual([]);
  });

  it("logs a dead-lettered record by its coordinates and code, never by the record's text", async () => {
    const lines: string[] = [];
    const client = new FakeKafkaClient();
    const log = (fields: object, msg: string): void => void lines.push(JSON.stringify(fields) + msg);
    const consumer = new KafkaIngestConsumer({
      client,
      topics,
      sources: { clientForSource: async () => COMMUNE_CLIENT },
      ingest: {
        ingest: async () => {
          throw new DomainError('invalid', 'unknown event type "Nguyễn Thị Hoà 0912345678"', [
            { pointer: '/type', message: 'unknown event type "Nguyễn Thị Hoà 0912345678"' },
          ]);
        },
      },
      logger: { debug: log, info: log, warn: log, error: log },
    });
    await consumer.start();
    const event = { ...valid(), id: 'Nguyễn Thị Hoà', subject: '079203004567' };
    expect(await client.deliver(record(event))).toEqual({ kind: 'done' });
    const line = lines.find((l) => l.includes('dead-letter topic'));
    expect(line).toContain('"code":"invalid"');
    for (const secret of ['Nguyễn', '0912345678', '079203004567', 'Nguy'])
      expect(lines.join('\n')).not.toContain(secret);
  });

  it('dead-letters a record whose source is bound to no client, as unauthenticated', async () => {
    const { client, consumer, calls } = setup();
    await consumer.start();
    const event = { ...valid(), source: '/communes/99999' };
    expect(await client.deliver(record(event))).toEqual({ kind: 'done' });
    expect(calls).toEqual([]);
    const { headers } = deadLettered(client);
    expect(headers).toMatchObject({
      lgsp_dlq_code: 'unauthenticated',
      lgsp_dlq_reason: 'no client is bound to source /communes/99999',
    });
    expect(JSON.parse(String(headers['lgsp_dlq_errors']))).toEqual([
      { pointer: '/source', message: 'no hub client is bound to this source' },
    ]);
  });

  it.each([
    [
      'invalid',
      new DomainError('invalid', '1 schema violation(s)', [
        { pointer: '/data/status', message: 'must be ≤ 10' },
      ]),
    ],
    [
      'forbidden',
      new DomainError('forbidden', 'outside the scope', [{ pointer: '/data/communeCode', message: 'no' }]),
    ],
    ['conflict', new DomainError('conflict', 'stream is at version 4, expected 2')],
  ])('dead-letters a record ingest refuses as %s', async (code, error) => {
    const { client, consumer, outcomes } = setup(async () => {
      throw error;
    });
    await consumer.start();
    expect(await client.deliver(record(valid()))).toEqual({ kind: 'done' });
    const { headers } = deadLettered(client);
    expect(headers['lgsp_dlq_code']).toBe(code);
    expect(headers['lgsp_dlq_reason']).toBe(error.message);
    expect(JSON.parse(String(headers['lgsp_dlq_errors']))).toEqual(error.issues);
    expect(outcomes).toEqual([['dead-lettered', code]]);
  });

  it('replaces the dead-letter headers of a record re-driven from the dead-letter topic', async () => {
    const { client, consumer } = setup();
    await consumer.start();
    await client.deliver(
      record(valid(), {
        value: Buffer.from('not json'),
        headers: {
          'content-type': 'application/cloudevents+json',
          lgsp_dlq_code: 'unauthenticated',
          lgsp_original_offset: '1',
        },
      }),
    );
    const { headers } = deadLettered(client);
    expect(headers['lgsp_dlq_code']).toBe('malformed');
    expect(headers['lgsp_original_offset']).not.toBe('1');
  });

  it.each([
    ['the store is unavailable', new StoreUnavailableError('the event store could not commit')],
    ['the store is read-only (not the record’s fault)', new ReadOnlyStoreError('/data/events.db')],
    ['an unexpected error', new TypeError('x is undefined')],
  ])('keeps the record and backs off when %s', async (_what, error) => {
    let failures = 3;
    const { client, consumer, calls, outcomes } = setup(async ({ events }) => {
      if (failures-- > 0) throw error;
      return { status: 201, results: events.map((e) => appendResult(e, false)) };
    });
    await consumer.start();
    const message = record(valid());
    const verdicts: MessageVerdict[] = [];
    for (let i = 0; i < 4; i++) verdicts.push(await client.deliver(message));
    expect(verdicts.map((v) => v.kind)).toEqual(['retry', 'retry', 'retry', 'done']);
    const delays = verdicts.flatMap((v) => (v.kind === 'retry' ? [v.delayMs] : []));
    expect(delays[0]).toBeGreaterThanOrEqual(50);
    expect(delays[0]).toBeLessThanOrEqual(100);
    expect(delays[2]).toBeGreaterThanOrEqual(200);
    expect(delays[2]).toBeLessThanOrEqual(400);
    expect(client.sent).toEqual([]);
    expect(calls).toHaveLength(4);
    expect(outcomes.map(([o]) => o)).toEqual(['retrying', 'retrying', 'retrying', 'appended']);
  });

  it('starts the backoff afresh once a record of the partition is done', async () => {
    let fail = true;
    const { client, consumer } = setup(async ({ events }) => {
      if (fail) throw new StoreUnavailableError('down');
      return { status: 201, results: events.map((e) => appendResult(e, false)) };
    });
    await consumer.start();
    const message = record(valid());
    for (let i = 0; i < 5; i++) await client.deliver(message);
    fail = false;
    await client.deliver(message);
    fail = true;
    const verdict = await client.deliver(record(valid()));
    expect(verdict.kind === 'retry' && verdict.delayMs).toBeLessThanOrEqual(100);
  });

  it('keeps the record, not dead-lettering it, while the clients store is unavailable', async () => {
    let down = true;
    const { client, consumer, calls, outcomes } = setup(undefined, async (source) => {
      if (down) throw new StoreUnavailableError('the clients store cannot read');
      return source === '/communes/21040' ? COMMUNE_CLIENT : undefined;
    });
    await consumer.start();
    const message = record(valid());
    expect((await client.deliver(message)).kind).toBe('retry');
    expect(client.sent).toEqual([]);
    expect(calls).toEqual([]);
    down = false;
    expect(await client.deliver(message)).toEqual({ kind: 'done' });
    expect(outcomes).toEqual([
      ['retrying', 'unavailable'],
      ['appended', undefined],
    ]);
  });

  it('keeps a refused record when the dead-letter topic cannot take it', async () => {
    const { client, consumer, outcomes } = setup();
    await consumer.start();
    client.failSends = 1;
    const bad = record(valid(), { value: Buffer.from('{') });
    expect((await client.deliver(bad)).kind).toBe('retry');
    expect(outcomes).toEqual([['retrying', 'unavailable']]);
    expect(await client.deliver(bad)).toEqual({ kind: 'done' });
    expect(deadLettered(client).headers['lgsp_original_offset']).toBe(bad.offset);
  });
});
