import { DomainError, exampleEvent } from '#lgsp/contracts';
import type { ReadAllOptions, StoredEvent } from '#lgsp/event-store';
import {
  BrokerError,
  KafkaReplayTargets,
  KafkaTopics,
  LGSP_REPLAY_HEADER,
  kafkaReplayConsumer,
  toKafkaMessage,
  type OutgoingMessage,
} from '#lgsp/kafka';
import { FakeKafkaClient } from './testing/fake-kafka-client.js';
import { testClient } from './testing/kafka-test-support.js';

/** 1..n: event i is of dossier D<i % 4>, province 51 (commune 21040) when i is even, else 01 (00004). */
function log(n: number): StoredEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const position = i + 1;
    const [provinceCode, communeCode] = position % 2 === 0 ? ['51', '21040'] : ['01', '00004'];
    const dossierCode = `D${position % 4}`;
    return {
      position,
      stream: `dossier-${dossierCode}`,
      streamVersion: 1,
      id: `evt-${position}`,
      source: `/communes/${communeCode}`,
      type: 'vn.gov.lgsp.dossier.status-changed.v1',
      data: { dossierCode, provinceCode, communeCode, status: 2 },
      extensions: {},
      provinceCode,
      communeCode,
      recordedAt: '2025-07-01T02:15:00.000Z',
      hash: 'h',
      prevHash: 'p',
    };
  });
}

/** The log's `readAll`, counting the calls. */
function store(events: StoredEvent[]) {
  const reads: ReadAllOptions[] = [];
  return {
    reads,
    readAll: async (options: ReadAllOptions = {}) => {
      reads.push(options);
      const after = options.after ?? 0;
      return events
        .filter(
          (e) =>
            e.position > after &&
            (!options.provinceCodes || options.provinceCodes.includes(e.provinceCode ?? '')) &&
            (!options.communeCodes || options.communeCodes.includes(e.communeCode ?? '')),
        )
        .slice(0, options.limit ?? 1000);
    },
  };
}

const client = testClient;

const province51 = client('so-51', 'province', { provinceCode: '51' });
const commune = client('xa-00004', 'commune', { provinceCode: '01', communeCodes: ['00004'] });
const topics = new KafkaTopics({ prefix: 'unit' });

function targets(kafka: FakeKafkaClient, events = store(log(20)), more = {}) {
  return new KafkaReplayTargets({
    client: kafka,
    events,
    topics,
    replayTopics: { partitions: 3 },
    retry: { initialDelayMs: 1, maxDelayMs: 4 },
    ...more,
  });
}

const sentMessages = (kafka: FakeKafkaClient): OutgoingMessage[] =>
  kafka.sent.flatMap((batches) => batches.flatMap((b) => [...b.messages]));

describe('KafkaReplayTargets', () => {
  it('names a consumer target kafka:<client> with its own topic, for province and commune clients only', () => {
    const subject = targets(new FakeKafkaClient());
    const target = subject.target(province51);
    expect(target).toMatchObject({
      name: 'kafka:so-51',
      unit: 'event',
      topic: 'unit.replay.so-51',
      ratePerSecond: 1000,
      callsPerItem: 1,
      batchSize: 200,
    });
    expect(subject.target(commune)?.topic).toBe('unit.replay.xa-00004');
    expect(subject.target(client('ops', 'operator'))).toBeUndefined();
    expect(subject.target(client('root', 'admin'))).toBeUndefined();
    expect(kafkaReplayConsumer('kafka:so-51')).toBe('so-51');
    expect(kafkaReplayConsumer('portal')).toBeUndefined();
  });

  it('resolves kafka:<client> for registered province and commune clients only', async () => {
    const subject = targets(new FakeKafkaClient());
    const registered = [province51, commune, client('ops', 'operator')];
    const clients = { findByName: async (name: string) => registered.find((c) => c.name === name) };
    expect((await subject.resolve('kafka:so-51', clients))?.topic).toBe('unit.replay.so-51');
    expect((await subject.resolve('kafka:xa-00004', clients))?.name).toBe('kafka:xa-00004');
    for (const name of ['kafka:ops', 'kafka:nobody', 'kafka:', 'so-51', 'portal'])
      expect(await subject.resolve(name, clients)).toBeUndefined();
  });

  it('refuses a client whose name cannot name a topic, as a data error', () => {
    expect(() => targets(new FakeKafkaClient()).target(client('Sở 51', 'province'))).toThrow(DomainError);
  });

  it('accepts only the events the client may read', () => {
    const subject = targets(new FakeKafkaClient());
    const events = log(4);
    expect(events.filter((e) => subject.target(province51)!.accepts!(e)).map((e) => e.position)).toEqual([
      2, 4,
    ]);
    expect(events.filter((e) => subject.target(commune)!.accepts!(e)).map((e) => e.position)).toEqual([1, 3]);
  });

  it('sends a batch in one produce to the replay topic, as the relay would, marked with the replay', async () => {
    const kafka = new FakeKafkaClient();
    const events = log(20);
    const target = targets(kafka, store(events)).target(province51)!;
    const results = await target.sendBatch(['2', '4', '10', '16'], 'r-1');
    expect(results).toEqual(['sent', 'sent', 'sent', 'sent']);
    expect(kafka.created).toEqual([
      [{ topic: 'unit.replay.so-51', partitions: 3, replicationFactor: 1, config: {} }],
    ]);
    expect(kafka.sent).toHaveLength(1);
    expect(kafka.sent[0]?.map((b) => b.topic)).toEqual(['unit.replay.so-51']);
    const messages = sentMessages(kafka);
    expect(messages).toEqual(
      [2, 4, 10, 16].map((p) => {
        const relayed = toKafkaMessage(events[p - 1]!);
        return { ...relayed, headers: { ...relayed.headers, [LGSP_REPLAY_HEADER]: 'r-1' } };
      }),
    );
    // The topic is created once.
    await target.send('6', 'r-1');
    expect(kafka.created).toHaveLength(1);
    expect(sentMessages(kafka).map((m) => m.headers['lgsp_position'])).toEqual(['2', '4', '10', '16', '6']);
  });

  it('sends an old event at the version its province topic carries, and fails one it cannot convert', async () => {
    const kafka = new FakeKafkaClient();
    const v1 = exampleEvent('vn.gov.lgsp.dossier.submitted.v1');
    const at = (position: number, data: unknown): StoredEvent => ({
      ...log(position).at(-1)!,
      type: v1.type,
      data,
      provinceCode: '51',
      communeCode: '21040',
    });
    const events = [at(1, v1.data), at(2, { dossierCode: 'X', provinceCode: '51' })];
    const target = targets(kafka, store(events), {
      eventVersions: { '51': { 'dossier.submitted': 2 } },
    }).target(province51)!;
    expect(await target.sendBatch(['1', '2'], 'r-3')).toEqual(['sent', 'failed']);
    const [sent] = sentMessages(kafka);
    expect(sent!.headers['ce_type']).toBe('vn.gov.lgsp.dossier.submitted.v2');
    expect(JSON.parse(String(sent!.value))).toMatchObject({ persons: [{ role: 'applicant' }] });
  });

  it('fails, without sending, a position not in the log and an event outside the client scope', async () => {
    const kafka = new FakeKafkaClient();
    const target = targets(kafka).target(province51)!;
    expect(await target.sendBatch(['2', '3', '40', 'x', '4'], 'r-2')).toEqual([
      'sent',
      'failed',
      'failed',
      'failed',
      'sent',
    ]);
    expect(sentMessages(kafka).map((m) => m.headers['lgsp_position'])).toEqual(['2', '4']);
    expect(await target.sendBatch(['3', '5'], 'r-2')).toEqual(['failed', 'failed']);
    expect(kafka.sent).toHaveLength(1);
  });

  it('reads the log in pages within the client scope and skips the stretches no item needs', async () => {
    const events = store(log(10_000));
    const target = targets(new FakeKafkaClient(), events, { readPageSize: 100 }).target(province51)!;
    expect(await target.sendBatch(['2', '4', '5000', '9998'], 'r-3')).toEqual([
      'sent',
      'sent',
      'sent',
      'sent',
    ]);
    expect(events.reads.every((r) => r.provinceCodes?.join() === '51')).toBe(true);
    expect(events.reads.length).toBeLessThanOrEqual(3);
    const communeEvents = store(log(100));
    await targets(new FakeKafkaClient(), communeEvents).target(commune)!.sendBatch(['1'], 'r-3');
    expect(communeEvents.reads).toEqual([{ after: 0, limit: 1, communeCodes: ['00004'] }]);
  });

  it('tries a failed send again with backoff, then gives up with the broker error', async () => {
    const kafka = new FakeKafkaClient();
    const target = targets(kafka).target(province51)!;
    kafka.failSends = 2;
    kafka.failCreates = 1;
    expect(await target.sendBatch(['2'], 'r-4')).toEqual(['sent']);
    expect(kafka.sent).toHaveLength(1);

    kafka.failSends = 4;
    await expect(target.sendBatch(['4'], 'r-4')).rejects.toThrow(BrokerError);
    expect(kafka.failSends).toBe(0);
    expect(kafka.sent).toHaveLength(1);
  });

  it('does not try again what the broker refused for good, nor after the signal aborted', async () => {
    const kafka = new FakeKafkaClient();
    let sends = 0;
    const refusing = Object.assign(Object.create(kafka) as FakeKafkaClient, {
      producer: () => ({
        send: async () => {
          sends += 1;
          throw new BrokerError('Kafka refused: TOPIC_AUTHORIZATION_FAILED', { retriable: false });
        },
        close: async () => undefined,
      }),
    });
    await expect(targets(refusing).target(province51)!.sendBatch(['2'], 'r-5')).rejects.toThrow(
      /TOPIC_AUTHORIZATION_FAILED/,
    );
    expect(sends).toBe(1);

    kafka.failSends = 10;
    const stop = new AbortController();
    const slow = targets(kafka, store(log(4)), { retry: { initialDelayMs: 5_000 } }).target(province51)!;
    const sending = slow.sendBatch(['2'], 'r-5', stop.signal);
    await new Promise((r) => setTimeout(r, 20));
    stop.abort(new Error('paused'));
    await expect(sending).rejects.toThrow('paused');
    expect(kafka.failSends).toBe(9);
  });
});
