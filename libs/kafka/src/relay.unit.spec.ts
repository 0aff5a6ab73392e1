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
