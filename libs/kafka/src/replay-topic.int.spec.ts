// Replays to Kafka consumers against a real broker (test/support/kafka.ts): the replay service sends a
// scope's events to one consumer's replay topic, and only those its client may read; no other topic
// receives a record; a pause or a restart mid-run skips nothing; a broker outage fails the run, and a
// resume completes it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainError } from '#lgsp/contracts';
import { type EventToAppend, type StoredEvent } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import {
  KafkaJsClient,
  KafkaRelay,
  KafkaReplayTargets,
  LGSP_REPLAY_HEADER,
  type ConsumedMessage,
  type KafkaTopics,
} from '#lgsp/kafka';
import { ReplayService, SqlReplayStore, type ReplayProgress } from '#lgsp/replay';
import { dedicatedKafka, sharedKafka, type KafkaBroker } from '../../../test/support/kafka.js';
import { changedTopics, topicWatermarks } from '../../../test/support/kafka-offsets.js';
import {
  TEST_PROVINCES as PROVINCES,
  TopicReader,
  eventually,
  statusChangedEvent,
  testClient,
  textHeaders,
  uniqueTopics,
} from './testing/kafka-test-support.js';
import { SqliteDatabase } from '#lgsp/storage/sqlite';

const SLOW = 120_000;
const DOSSIERS = 12;
const EVENTS = 120;

const client = testClient;
const CLIENTS = [
  client('so-51', 'province', { provinceCode: '51' }),
  client('xa-00004', 'commune', { provinceCode: '01', communeCodes: ['00004'] }),
  client('ops', 'operator'),
];
const clients = { findByName: async (name: string) => CLIENTS.find((c) => c.name === name) };

let dir: string;
let store: SqliteEventStore;
let broker: KafkaBroker;
let topics: KafkaTopics;
let kafka: KafkaJsClient;
let events: StoredEvent[];
/** The relay's records of the province topics, by log position. */
const relayed = new Map<number, ConsumedMessage>();
const cleanups: (() => Promise<void>)[] = [];

const dossierCode = (n: number) =>
  `000.00.${PROVINCES[n % 2]!.provinceCode}.H56-250701-${String(n).padStart(4, '0')}`;

function statusChanged(seq: number): EventToAppend {
  const dossier = (seq * 7) % DOSSIERS;
  return statusChangedEvent(seq, dossierCode(dossier), PROVINCES[dossier % 2]!);
}

/** Reads a topic from the start until it holds `count` records, then a moment more to see any extra. */
async function readTopic(topic: string, count: number): Promise<ConsumedMessage[]> {
  const reader = await new TopicReader(kafka, topic).start();
  cleanups.push(() => reader.stop());
  await eventually(() => reader.records.length >= count, 60_000, `${count} records on ${topic}`);
  await new Promise((r) => setTimeout(r, 500));
  return reader.records;
}

const positionOf = (record: ConsumedMessage) => Number(textHeaders(record)['lgsp_position']);
const everyTopic = () =>
  topicWatermarks(broker.brokers, new RegExp(`^${topics.prefix.replace(/\./g, '\\.')}\\.`));

function replayTargets(options: { batchSize?: number } = {}) {
  const targets = new KafkaReplayTargets({
    client: kafka,
    events: store,
    topics,
    replayTopics: { partitions: 3 },
    ...options,
  });
  cleanups.push(() => targets.close());
  return targets;
}

async function replayService(targets: KafkaReplayTargets, chunkSize = 20) {
  const service = new ReplayService({
    store: await SqlReplayStore.open(SqliteDatabase.over(store.database)),
    targets: new Map(),
    resolveTarget: (name) => targets.resolve(name, clients),
    events: store,
    confirmAbove: 10_000,
    chunkSize,
    pollMs: 20,
  });
  cleanups.push(() => service.stop());
  return service;
}

async function settled(service: ReplayService, id: string): Promise<ReplayProgress> {
  let run: ReplayProgress | undefined;
  await eventually(
    async () => {
      run = await service.get(id);
      return run.state !== 'running';
    },
    60_000,
    `replay ${id} finished`,
  );
  return run!;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lgsp-kafka-replay-'));
  store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  broker = await sharedKafka();
  topics = uniqueTopics();
  kafka = new KafkaJsClient({ brokers: broker.brokers, clientId: 'it-replay', connectionTimeoutMs: 1000 });
  for (let seq = 1; seq <= EVENTS; seq++) await store.append([statusChanged(seq)]);
  events = await store.readAll({ limit: 10_000 });
  // The live topics, as the relay fills them: a replay must leave them alone.
  const relay = new KafkaRelay({ client: kafka, topics, provinceTopics: { partitions: 3 } });
  await relay.handle(events);
  await relay.close();
  for (const { provinceCode } of PROVINCES) {
    for (const record of await readTopic(topics.province(provinceCode), EVENTS / 2))
      relayed.set(positionOf(record), record);
  }
  expect(relayed.size).toBe(EVENTS);
}, SLOW);

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup().catch(() => undefined)));
}, SLOW);

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('replay to a Kafka consumer, on a real broker', () => {
  it(
    'sends exactly the selected events the consumer may read to its replay topic, marked, and nothing elsewhere',
    async () => {
      const service = await replayService(replayTargets());
      service.start();
      const before = await everyTopic();

      // Every event, as far as the scope goes: the consumer's read scope keeps its province's only.
      const ofProvince = events.filter((e) => e.provinceCode === '51').map((e) => e.position);
      const plan = await service.plan('kafka:so-51', {}, 'ops');
      expect(plan).toMatchObject({ unit: 'event', events: ofProvince.length, calls: ofProvince.length });
      const all = await service.run('kafka:so-51', {}, { by: 'ops' });
      expect(await settled(service, all.replay.id)).toMatchObject({
        state: 'completed',
        done: ofProvince.length,
        failed: 0,
      });
      // A narrower scope naming a dossier of each province: the other province's is not the consumer's.
      const mine = dossierCode(2);
      const theirs = dossierCode(3);
      const narrow = await service.run('kafka:so-51', { dossiers: [mine, theirs] }, { by: 'ops' });
      const ofDossier = events.filter((e) => e.stream === `dossier-${mine}`).map((e) => e.position);
      expect(narrow.plan.events).toBe(ofDossier.length);
      expect(await settled(service, narrow.replay.id)).toMatchObject({ state: 'completed', failed: 0 });

      const topic = topics.replay('so-51');
      const total = ofProvince.length + ofDossier.length;
      expect(changedTopics(before, await everyTopic())).toEqual({ [topic]: { before: 0, after: total } });
      expect((await everyTopic()).has(topics.replay('xa-00004'))).toBe(false);

      const records = await readTopic(topic, total);
      expect(records).toHaveLength(total);
      const byReplay = (id: string) => records.filter((r) => textHeaders(r)[LGSP_REPLAY_HEADER] === id);
      expect(
        byReplay(all.replay.id)
          .map(positionOf)
          .sort((a, b) => a - b),
      ).toEqual(ofProvince);
      expect(
        byReplay(narrow.replay.id)
          .map(positionOf)
          .sort((a, b) => a - b),
      ).toEqual(ofDossier);
      for (const id of [all.replay.id, narrow.replay.id]) {
        const partitions = new Map<number, number[]>();
        for (const r of byReplay(id))
          partitions.set(r.partition, [...(partitions.get(r.partition) ?? []), positionOf(r)]);
        for (const positions of partitions.values())
          expect(positions).toEqual([...positions].sort((a, b) => a - b));
      }
      for (const record of records) {
        const live = relayed.get(positionOf(record))!;
        const { [LGSP_REPLAY_HEADER]: marker, ...headers } = textHeaders(record);
        expect(marker).toMatch(/^[0-9a-f-]{36}$/);
        expect(headers).toEqual(textHeaders(live));
        expect(record.key?.toString()).toBe(live.key?.toString());
        expect(record.value?.toString()).toBe(live.value?.toString());
      }
    },
    SLOW,
  );

  it(
    'skips nothing when the run is paused, resumed, and the hub restarts in the middle',
    async () => {
      const expected = events.filter((e) => e.communeCode === '00004').map((e) => e.position);
      const chunk = 10;
      const first = await replayService(replayTargets({ batchSize: 5 }), chunk);
      first.start();
      const { replay } = await first.run('kafka:xa-00004', {}, { by: 'ops', ratePerSecond: 40 });
      await eventually(async () => (await first.get(replay.id)).done >= chunk, 30_000, 'a first chunk');
      const paused = await first.pause(replay.id, 'ops');
      expect(paused.state).toBe('paused');
      expect(paused.done).toBeLessThan(expected.length);
      const topic = topics.replay('xa-00004');
      await new Promise((r) => setTimeout(r, 300));
      expect((await first.get(replay.id)).done).toBe(paused.done);
      expect((await everyTopic()).get(topic)).toBe(paused.done);

      await first.resume(replay.id, 'ops');
      await eventually(
        async () => (await first.get(replay.id)).done >= paused.done + chunk,
        30_000,
        'a chunk after the resume',
      );
      // The hub stops with the run in flight; the next one resumes it from its cursor.
      await first.stop();
      const stopped = await first.get(replay.id);
      expect(stopped.state).toBe('running');
      expect(stopped.done).toBeLessThan(expected.length);
      const second = await replayService(replayTargets({ batchSize: 5 }), chunk);
      second.start();
      expect(await settled(second, replay.id)).toMatchObject({
        state: 'completed',
        done: expected.length,
        failed: 0,
      });

      const written = (await everyTopic()).get(topic) ?? 0;
      // At most the chunk in flight at the stop is sent twice.
      expect(written).toBeGreaterThanOrEqual(expected.length);
      expect(written).toBeLessThanOrEqual(expected.length + chunk);
      const records = await readTopic(topic, written);
      expect([...new Set(records.map(positionOf))].sort((a, b) => a - b)).toEqual(expected);
      expect(records.every((r) => textHeaders(r)[LGSP_REPLAY_HEADER] === replay.id)).toBe(true);
    },
    SLOW,
  );

  it(
    "fails the run with the broker's message while the broker is away; resumed after its return, it completes",
    async () => {
      const outage = await dedicatedKafka();
      cleanups.push(() => outage.stop());
      const client = new KafkaJsClient({
        brokers: outage.brokers,
        clientId: 'it-replay-outage',
        connectionTimeoutMs: 500,
        retries: 1,
      });
      const targets = new KafkaReplayTargets({
        client,
        events: store,
        topics,
        replayTopics: { partitions: 3 },
        retry: { initialDelayMs: 50, maxDelayMs: 100 },
      });
      cleanups.push(() => targets.close());
      const service = await replayService(targets);
      service.start();
      await outage.stop();

      const expected = events.filter((e) => e.provinceCode === '51').length;
      const { replay } = await service.run('kafka:so-51', {}, { by: 'ops' });
      const failed = await settled(service, replay.id);
      expect(failed).toMatchObject({ state: 'failed', done: 0 });
      expect(failed.error).toMatch(/Kafka|broker|connect/i);

      await outage.start();
      await service.resume(replay.id, 'ops');
      expect(await settled(service, replay.id)).toMatchObject({
        state: 'completed',
        done: expected,
        failed: 0,
      });
      const written = await topicWatermarks(outage.brokers, /\.replay\./);
      expect(Object.fromEntries(written)).toEqual({ [topics.replay('so-51')]: expected });
    },
    SLOW,
  );

  it('refuses an unknown consumer, and a client that is not a consumer, touching no topic', async () => {
    const service = await replayService(replayTargets());
    const before = await everyTopic();
    for (const target of ['kafka:nobody', 'kafka:ops']) {
      const refusal = await service.plan(target, {}, 'ops').catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(DomainError);
      expect(refusal).toMatchObject({
        code: 'not-found',
        message: `no replay target ${target} runs in this hub`,
      });
      await expect(service.run(target, {}, { by: 'ops' })).rejects.toMatchObject({ code: 'not-found' });
    }
    expect(changedTopics(before, await everyTopic())).toEqual({});
  });
});
