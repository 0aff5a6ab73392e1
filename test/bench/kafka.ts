/**
 * Kafka figures for `npm run bench`, each beside a baseline measured in the same run on the same broker:
 * - relay throughput from the store to Kafka, against raw kafkajs producing the same records (the
 *   relay's own mapping, same batch size, idempotent, acks=all) to the same broker;
 * - end-to-end latency from HTTP POST to receipt by a Kafka consumer, at a paced 1,000 events/s.
 */
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { type EventToAppend, type StoredEvent } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { KafkaJsClient, KafkaRelay, KafkaReplayTargets, KafkaTopics, toKafkaMessage } from '#lgsp/kafka';
import { ReplayService, SqlReplayStore } from '#lgsp/replay';
import { type Client } from '#lgsp/security';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { Subscriptions } from '#lgsp/subscriptions';
import { PROVINCE, statusChanged, submitted } from '../support/events.js';
import { startHubProcess, tempDir } from '../support/hub-process.js';
import { sharedKafka } from '../support/kafka.js';
import {
  appendable,
  baselineLine,
  benchLine,
  NOT_MEASURED,
  notMeasuredLine,
  REPLAY_GOAL,
  type BenchTable,
} from './bench-common.js';

const RELAY_EVENTS = Number(process.env.BENCH_RELAY_EVENTS ?? 20_000);
const BATCH = 200;

/** Event `i` of the relay's log: 2,000 dossiers submitted, then their status changes. */
function relayEvent(i: number): EventToAppend {
  const code = `RELAY-${i % 2000}`;
  return appendable(i < 2000 ? submitted(code) : statusChanged(code, 2 + (i % 8)));
}

async function relayThroughput(
  brokers: string[],
): Promise<{ relay: number; raw: number; replay: number | string }> {
  const store = SqliteEventStore.open({ file: join(tempDir('lgsp-bench-relay-'), 'events.db') });
  for (let i = 0; i < RELAY_EVENTS; i += 1000) {
    await store.append(Array.from({ length: Math.min(1000, RELAY_EVENTS - i) }, (_, k) => relayEvent(i + k)));
  }
  const stored: StoredEvent[] = [];
  for (let after = 0; stored.length < RELAY_EVENTS;) {
    const page = await store.readAll({ after, limit: 5000 });
    stored.push(...page);
    after = page[page.length - 1]?.position ?? after;
  }

  // Baseline: the same records, already mapped, produced with kafkajs directly.
  const rawPrefix = `benchraw${Date.now()}`;
  const kafka = new Kafka({ brokers, clientId: 'lgsp-bench-raw', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic: `${rawPrefix}.events.province.${PROVINCE}`, numPartitions: 6 }],
  });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const messages = stored.map((e) => toKafkaMessage(e));
  const rawStarted = performance.now();
  for (let i = 0; i < messages.length; i += BATCH) {
    await producer.send({
      topic: `${rawPrefix}.events.province.${PROVINCE}`,
      acks: -1,
      messages: messages.slice(i, i + BATCH).map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
    });
  }
  const raw = messages.length / ((performance.now() - rawStarted) / 1000);
  await producer.disconnect();

  // The relay, as the hub runs it: a checkpointed subscriber reading the store.
  const client = new KafkaJsClient({ brokers, clientId: 'lgsp-bench-relay' });
  const relay = new KafkaRelay({
    client,
    topics: new KafkaTopics({ prefix: `benchrelay${Date.now()}` }),
    batchSize: BATCH,
  });
  const subscriptions = new Subscriptions({ store });
  subscriptions.register(relay);
  const relayStarted = performance.now();
  await subscriptions.start();
  for (;;) {
    const [lag] = await subscriptions.lag();
    if (lag && lag.checkpoint >= RELAY_EVENTS) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const relayRate = RELAY_EVENTS / ((performance.now() - relayStarted) / 1000);
  await subscriptions.stop();
  await relay.close();
  let replay: number | string;
  try {
    replay = await replayRate(brokers, store);
  } catch (err) {
    replay = err instanceof Error ? err.message : String(err);
  }
  await store.close();
  return { relay: relayRate, raw, replay };
}

/**
 * A replay of the whole log to one consumer's replay topic (`kafka:<consumer>`) through
 * `ReplayService` and `KafkaReplayTargets`, batches of BATCH events one at a time, no rate limit: its
 * ceiling is the raw produce above (the same records in batches of BATCH, one at a time, acks=all).
 * Events per second from `run` to completion; anything but every event sent is an error.
 */
async function replayRate(brokers: string[], store: SqliteEventStore): Promise<number> {
  const consumer: Client = {
    id: 'bench-consumer',
    name: 'bench-consumer',
    role: 'province',
    provinceCode: PROVINCE,
    communeCodes: [],
    sources: [],
    createdAt: new Date().toISOString(),
  };
  const targets = new KafkaReplayTargets({
    client: new KafkaJsClient({ brokers, clientId: 'lgsp-bench-replay' }),
    events: store,
    topics: new KafkaTopics({ prefix: `benchreplay${Date.now()}` }),
    replayTopics: { partitions: 6 },
    ratePerSecond: 1_000_000,
    batchSize: BATCH,
  });
  const service = new ReplayService({
    store: await SqlReplayStore.open(SqliteDatabase.over(store.database)),
    targets: new Map(),
    resolveTarget: (name) =>
      targets.resolve(name, { findByName: async (n) => (n === consumer.name ? consumer : undefined) }),
    events: store,
    confirmAbove: RELAY_EVENTS + 1,
    chunkSize: 1000,
    pollMs: 20,
  });
  try {
    service.start();
    const started = performance.now();
    const target = `kafka:${consumer.name}`;
    const { replay } = await service.run(target, {}, { by: 'bench', ratePerSecond: 1_000_000 });
    let run = await service.get(replay.id);
    while (run.state === 'running') {
      await new Promise((r) => setTimeout(r, 5));
      run = await service.get(replay.id);
    }
    const seconds = (performance.now() - started) / 1000;
    if (run.state !== 'completed' || run.done !== RELAY_EVENTS || run.failed !== 0)
      throw new Error(
        `the replay ended ${run.state}, ${run.done} done, ${run.failed} failed: ${run.error ?? ''}`,
      );
    return RELAY_EVENTS / seconds;
  } finally {
    await service.stop();
    await targets.close();
  }
}

async function endToEndLatency(
  brokers: string[],
  seconds: number,
): Promise<{ p50: number; p99: number; received: number; sent: number }> {
  const topicPrefix = `benchlat${Date.now()}`;
  const topic = `${topicPrefix}.events.province.${PROVINCE}`;
  const kafka = new Kafka({ brokers, clientId: 'lgsp-bench-latency', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
  await admin.disconnect();
  const hub = await startHubProcess({
    env: { LGSP_KAFKA_BROKERS: brokers.join(','), LGSP_KAFKA_TOPIC_PREFIX: topicPrefix },
  });
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const consumer = kafka.consumer({ groupId: `bench-${Date.now()}`, maxWaitTimeInMs: 10 });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const id = message.headers?.ce_id?.toString();
        const t = id ? sentAt.get(id) : undefined;
        if (t !== undefined) latencies.push(performance.now() - t);
      },
    });
    await new Promise((r) => setTimeout(r, 3000)); // let the group settle
    const token = hub.adminToken;
    // 1,000 events/s: every 10 ms, 10 single-event POSTs. The first 2 s warm up the producer, the
    // topic metadata and the JIT, and are not counted.
    const warmupTicks = 200;
    const ticks = warmupTicks + seconds * 100;
    const inFlight: Promise<unknown>[] = [];
    for (let t = 0; t < ticks; t++) {
      if (t === warmupTicks) latencies.length = 0;
      const tickStart = performance.now();
      for (let k = 0; k < 10; k++) {
        const e = k % 2 === 0 ? submitted(`LAT-${t}-${k}`) : statusChanged(`LAT-${t}-${k}`, 2);
        if (t >= warmupTicks) sentAt.set(String(e.id), performance.now());
        inFlight.push(
          fetch(`${hub.url}/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/cloudevents+json' },
            body: JSON.stringify(e),
          }).then((r) => r.arrayBuffer()),
        );
      }
      const wait = 10 - (performance.now() - tickStart);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await Promise.all(inFlight);
    const deadline = Date.now() + 15_000;
    while (latencies.length < sentAt.size && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
  } finally {
    await consumer.disconnect();
    await hub.discard();
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), received: latencies.length, sent: sentAt.size };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/**
 * The relay against raw kafkajs produce (goal ≥ 0.7×); the POST → consumer latency has no baseline of
 * its own in the run: it is compared with its goal's bound.
 */
export function kafkaTables(figures: Record<string, number | string>): BenchTable[] {
  const n = (key: string): number | undefined => {
    const v = figures[key];
    return typeof v === 'number' ? v : undefined;
  };
  return [
    {
      benchmark: 'Kafka',
      lines: [
        baselineLine(
          'raw kafkajs produce, batches of 200, idempotent, acks=all',
          n('rawProduce'),
          'events/s',
        ),
        benchLine(
          'relay store → Kafka, batches of 200',
          n('relay'),
          'events/s',
          { label: 'raw kafkajs produce', figure: n('rawProduce') },
          { ratio: { min: 0.7 } },
        ),
        n('kafkaReplay') !== undefined
          ? benchLine(
              `replay to a consumer's replay topic, batches of ${BATCH}`,
              n('kafkaReplay'),
              'events/s',
              { label: "raw kafkajs produce (the target's ceiling)", figure: n('rawProduce') },
              { ratio: { min: REPLAY_GOAL } },
            )
          : notMeasuredLine(
              "replay to a consumer's replay topic",
              "raw kafkajs produce (the target's ceiling)",
              `≥ ${REPLAY_GOAL}×`,
              String(figures.kafkaReplayNotMeasured ?? NOT_MEASURED),
            ),
        n('latencyP99Ms') === undefined
          ? notMeasuredLine(
              'HTTP POST → consumer receipt at 1,000 events/s, p99',
              "the goal's bound (no same-run baseline)",
              'p99 < 100 ms',
              `not measured: ${String(figures.latencyNotMeasured ?? NOT_MEASURED)}`,
            )
          : benchLine(
              'HTTP POST → consumer receipt at 1,000 events/s, p99',
              n('latencyP99Ms'),
              'ms',
              { label: "the goal's bound (no same-run baseline)", figure: 100 },
              { ratio: { max: 1 }, text: 'p99 < 100 ms' },
            ),
      ],
    },
  ];
}

export async function kafkaBench(seconds: number): Promise<Record<string, number | string>> {
  const broker = await sharedKafka();
  try {
    const { relay, raw, replay } = await relayThroughput(broker.brokers);
    console.log(`\nKafka (Apache Kafka 4.3.1, one local broker, ${broker.brokers.join(',')})`);
    console.log(
      `${'raw kafkajs produce, batches of 200, idempotent, acks=all'.padEnd(60)} ${fmt(raw)} events/s   baseline`,
    );
    console.log(
      `${'relay store → Kafka, batches of 200'.padEnd(60)} ${fmt(relay)} events/s   ${(relay / raw).toFixed(2)}× raw (goal ≥ 0.7)`,
    );
    console.log(
      typeof replay === 'number'
        ? `${'replay to a consumer replay topic, batches of 200'.padEnd(60)} ${fmt(replay)} events/s   ${(replay / raw).toFixed(2)}× raw (goal ≥ ${REPLAY_GOAL})`
        : `replay to a consumer replay topic: not measured: ${replay}`,
    );
    const figures: Record<string, number | string> = {
      rawProduce: raw,
      relay,
      ...(typeof replay === 'number' ? { kafkaReplay: replay } : { kafkaReplayNotMeasured: replay }),
      relayRatio: relay / raw,
    };
    // A failure of the latency run (a hub that does not answer on a loaded machine) leaves the
    // throughput figures above standing; the latency line then says why it has no figure.
    try {
      const latency = await endToEndLatency(broker.brokers, seconds);
      console.log(
        `${'HTTP POST → consumer receipt at 1,000 events/s'.padEnd(60)} p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms` +
          ` (${latency.received}/${latency.sent} received; goal p99 < 100 ms)`,
      );
      return {
        ...figures,
        latencyP50Ms: latency.p50,
        latencyP99Ms: latency.p99,
        latencyReceived: latency.received,
        latencySent: latency.sent,
      };
    } catch (err) {
      const why =
        err instanceof Error
          ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}`
          : String(err);
      console.log(`HTTP POST → consumer receipt: not measured: ${why}`);
      return { ...figures, latencyNotMeasured: why };
    }
  } finally {
    await broker.stop();
  }
}
