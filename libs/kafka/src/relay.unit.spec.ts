import { eventSchemaId, exampleEvent } from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import { BrokerError, KAFKA_RELAY_NAME, KafkaRelay, KafkaTopics, UnroutableEventError } from '#lgsp/kafka';
import { FakeKafkaClient } from './testing/fake-kafka-client.js';

let position = 0;
const versions = new Map<string, number>();

function event(dossier: string, provinceCode: string | undefined): StoredEvent {
  position += 1;
  const stream = `dossier-${dossier}`;
  const streamVersion = (versions.get(stream) ?? 0) + 1;
  versions.set(stream, streamVersion);
  return {
    position,
    stream,
    streamVersion,
    id: `evt-${position}`,
    source: '/communes/21040',
    type: 'vn.gov.lgsp.dossier.status-changed.v1',
    data: { dossierCode: dossier, ...(provinceCode ? { provinceCode } : {}), status: 2 },
    extensions: {},
    ...(provinceCode ? { provinceCode } : {}),
    recordedAt: '2025-07-01T02:15:00.000Z',
    hash: 'h',
    prevHash: 'p',
  };
}

const topics = new KafkaTopics({ prefix: 'unit' });

function relay(client: FakeKafkaClient, published: [string, number][] = []) {
  return new KafkaRelay({
    client,
    topics,
    provinceTopics: { partitions: 3 },
    observer: { published: (topic, count) => published.push([topic, count]) },
  });
}

describe('KafkaRelay', () => {
  it('is the subscriber relay.kafka and relays every event by default', () => {
    const subject = relay(new FakeKafkaClient());
    expect(subject.name).toBe(KAFKA_RELAY_NAME);
    expect(subject.name).toBe('relay.kafka');
    expect(subject.filter).toBeUndefined();
    expect(subject.batchSize).toBe(200);
  });

  it('sends each event to its province topic, keyed by dossier, in log order within each topic', async () => {
    const client = new FakeKafkaClient();
    const published: [string, number][] = [];
    const events = [event('A', '51'), event('B', '08'), event('A', '51'), event('C', '51'), event('B', '08')];
    await relay(client, published).handle(events);
    expect(client.sent).toHaveLength(1);
    const [batches] = client.sent;
    expect(batches?.map((b) => b.topic)).toEqual(['unit.events.province.51', 'unit.events.province.08']);
    expect(batches?.[0]?.messages.map((m) => [m.key, m.headers['lgsp_position']])).toEqual([
      ['A', '1'],
      ['A', '3'],
      ['C', '4'],
    ]);
    expect(batches?.[1]?.messages.map((m) => [m.key, m.headers['lgsp_stream_version']])).toEqual([
      ['B', '1'],
      ['B', '2'],
    ]);
    expect(published).toEqual([
      ['unit.events.province.51', 3],
      ['unit.events.province.08', 2],
    ]);
  });

  it('creates a province topic once, with the configured settings, before its first send', async () => {
    const client = new FakeKafkaClient();
    const subject = relay(client);
    await subject.handle([event('A', '51')]);
    await subject.handle([event('A', '51'), event('D', '01')]);
    await subject.handle([event('D', '01')]);
    expect(client.created).toEqual([
      [{ topic: 'unit.events.province.51', partitions: 3, replicationFactor: 1, config: {} }],
      [{ topic: 'unit.events.province.01', partitions: 3, replicationFactor: 1, config: {} }],
    ]);
  });

  it('throws the retriable broker error when the broker does not acknowledge, and checks the topics again next time', async () => {
    const client = new FakeKafkaClient();
    const subject = relay(client);
    await subject.handle([event('A', '51')]);
    client.failSends = 1;
    const batch = [event('A', '51')];
    const failure = subject.handle(batch);
    await expect(failure).rejects.toBeInstanceOf(BrokerError);
    await expect(failure).rejects.toMatchObject({ code: 'unavailable', retriable: true });
    await subject.handle(batch);
    expect(client.created).toHaveLength(2);
    expect(client.sent.at(-1)?.[0]?.messages.map((m) => m.headers['lgsp_position'])).toEqual([
      String(batch[0]?.position),
    ]);
  });

  it('fails without sending when a topic cannot be created', async () => {
    const client = new FakeKafkaClient();
    client.failCreates = 1;
    await expect(relay(client).handle([event('A', '51')])).rejects.toMatchObject({ retriable: true });
    expect(client.sent).toEqual([]);
  });

  it('refuses a batch holding an event without a province, before sending any of it', async () => {
    const client = new FakeKafkaClient();
    const bad = event('E', undefined);
    const failure = relay(client).handle([event('A', '51'), bad, event('A', '51')]);
    await expect(failure).rejects.toBeInstanceOf(UnroutableEventError);
    await expect(failure).rejects.toMatchObject({ position: bad.position, retriable: false });
    expect(client.sent).toEqual([]);
    expect(client.created).toEqual([]);
  });

  it('refuses an event whose province code cannot name a topic', async () => {
    const client = new FakeKafkaClient();
    const failure = relay(client).handle([event('A', '5')]);
    await expect(failure).rejects.toBeInstanceOf(UnroutableEventError);
    await expect(failure).rejects.toThrow(/is not two digits/);
  });

  it('does nothing for an empty batch', async () => {
    const client = new FakeKafkaClient();
    await relay(client).handle([]);
    expect(client.sent).toEqual([]);
    expect(client.created).toEqual([]);
  });

  it('closes its producer and admin connections', async () => {
    const client = new FakeKafkaClient();
    await relay(client).close();
    expect(client.closed).toBe(2);
  });

  it('refuses bad topic settings at construction', () => {
    expect(
      () => new KafkaRelay({ client: new FakeKafkaClient(), provinceTopics: { replicationFactor: 0 } }),
    ).toThrow('provinceTopics.replicationFactor must be an integer ≥ 1, got 0');
  });
});

describe('KafkaRelay and event versions', () => {
  const V1 = 'vn.gov.lgsp.dossier.submitted.v1';
  const V2 = 'vn.gov.lgsp.dossier.submitted.v2';

  function submitted(
    type: typeof V1 | typeof V2,
    dossier: string,
    province: string,
    data?: unknown,
  ): StoredEvent {
    const e = event(dossier, province);
    const example = exampleEvent(type);
    return { ...e, type, data: data ?? { ...example.data, dossierCode: dossier, provinceCode: province } };
  }

  it('sends each province topic the versions configured for it, version 1 by default', async () => {
    const client = new FakeKafkaClient();
    const subject = new KafkaRelay({
      client,
      topics,
      eventVersions: { '79': { 'dossier.submitted': 2 } },
      // A filter type names every version of its family.
      filter: { types: [V1] },
    });
    expect([...(subject.filter?.types ?? [])].sort()).toEqual([V1, V2]);
    const events = [
      submitted(V1, 'A', '51'),
      submitted(V2, 'B', '51'),
      submitted(V1, 'C', '79'),
      submitted(V2, 'D', '79'),
    ];
    await subject.handle(events);
    const messages = client.sent[0]!.flatMap((b) => b.messages.map((m) => ({ topic: b.topic, m })));
    const at = (key: string) => messages.find((x) => x.m.key === key)!;
    expect(at('A').topic).toBe('unit.events.province.51');
    expect([at('A').m.headers['ce_type'], at('A').m.headers['ce_dataschema']]).toEqual([V1, undefined]);
    expect(at('A').m.value).toBe(JSON.stringify(events[0]!.data));
    expect([at('B').m.headers['ce_type'], at('B').m.headers['ce_dataschema']]).toEqual([
      V1,
      eventSchemaId(V1),
    ]);
    expect(JSON.parse(String(at('B').m.value))).toMatchObject({ applicant: { idNumber: '051190000123' } });
    expect(at('C').topic).toBe('unit.events.province.79');
    expect(at('C').m.headers['ce_type']).toBe(V2);
    expect(JSON.parse(String(at('C').m.value))).toMatchObject({
      persons: [{ role: 'applicant', documents: [{ kind: 'citizen-id', number: '051190000123' }] }],
    });
    expect(at('D').m.value).toBe(JSON.stringify(events[3]!.data));
  });

  it('sends an event it cannot convert to the relay dead-letter topic with the reason, and goes on', async () => {
    const client = new FakeKafkaClient();
    const unreadable: [string, number][] = [];
    const subject = new KafkaRelay({
      client,
      topics,
      eventVersions: { '*': { 'dossier.submitted': 2 } },
      observer: {
        published: () => undefined,
        unreadable: (topic, e) => unreadable.push([topic, e.position]),
      },
    });
    const broken = submitted(V1, 'E', '51', { dossierCode: 'E', provinceCode: '51' });
    const fine = submitted(V1, 'F', '51');
    await subject.handle([broken, fine]);
    const [batches] = client.sent;
    expect(batches!.map((b) => b.topic).sort()).toEqual(['unit.events.dlq', 'unit.events.province.51']);
    const dead = batches!.find((b) => b.topic === topics.relayDeadLetter)!.messages;
    expect(dead).toHaveLength(1);
    expect(dead[0]!.headers).toMatchObject({
      ce_type: V1,
      lgsp_position: String(broken.position),
      lgsp_dlq_code: 'invalid',
      lgsp_original_topic: 'unit.events.province.51',
      lgsp_dlq_reason: `event ${V1} cannot be read as ${V2}: applicant must be an object`,
    });
    expect(batches!.find((b) => b.topic === 'unit.events.province.51')!.messages.map((m) => m.key)).toEqual([
      'F',
    ]);
    expect(unreadable).toEqual([['unit.events.province.51', broken.position]]);
  });

  it('refuses a configuration outside the catalogue at start-up, naming the path', () => {
    expect(
      () =>
        new KafkaRelay({
          client: new FakeKafkaClient(),
          eventVersions: { '79': { 'dossier.submitted': 9 } },
        }),
    ).toThrow('/kafka/relay/eventVersions/79/dossier.submitted: must be one of the versions 1, 2');
    expect(() => new KafkaRelay({ client: new FakeKafkaClient(), eventVersions: { x: {} } })).toThrow(
      '/kafka/relay/eventVersions/x: is not a province code or *',
    );
  });
});
