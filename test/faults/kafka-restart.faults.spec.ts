import { getJson } from '../support/events.js';
import { runFault } from '../support/fault-verdict.js';
import { createCommuneClient, eventually, startHubProcess, type HubProcess } from '../support/hub-process.js';
import { distinctIds, readTopics } from '../support/kafka-consumer.js';
import { dedicatedKafka, type KafkaBroker } from '../support/kafka.js';
import { postLifecycles, sleep } from '../support/webhook-audit.js';

// Issue 18, fault suite: the Kafka broker the relay publishes to is stopped under load and started
// again. Ingest must keep answering 201 (the log is the hub's, Kafka only a copy), and once the
// broker is back every acknowledged event must be on its topic, each dossier's in order.
// The broker is a dedicated one (deploy/kafka/kafka.sh) on KAFKA_PORT when set, else a free port.

const FAULT = 'kafka-restart';
const WRITERS = 4;
const TRAFFIC_MS = 30_000;
const DOWN_AT_MS = 8_000;
const DOWN_FOR_MS = 10_000;

describe('fault: the Kafka broker restarted under load', () => {
  let hub: HubProcess | undefined;
  let broker: KafkaBroker | undefined;
  afterAll(async () => {
    await hub?.stop();
    await broker?.stop();
  });

  it('keeps answering 201 and relays every acknowledged event, in order per dossier, once the broker is back', async () => {
    await runFault(FAULT, async (v) => {
      broker = await dedicatedKafka(process.env.KAFKA_PORT ? { port: Number(process.env.KAFKA_PORT) } : {});
      const topicPrefix = `fault${Math.random().toString(36).slice(2, 8)}`;
      hub = await startHubProcess({
        env: { LGSP_KAFKA_BROKERS: broker.brokers.join(','), LGSP_KAFKA_TOPIC_PREFIX: topicPrefix },
      });
      const current = hub;
      const token = await createCommuneClient(current, 'fault-kafka', '21040', [
        '--rate-limit',
        '10000',
        '--burst',
        '10000',
      ]);
      const acknowledged = new Set<string>();
      const refused: string[] = [];
      const t0 = Date.now();
      let downMs = 0;
      const outage = (async () => {
        await sleep(DOWN_AT_MS);
        const from = Date.now();
        await broker!.stop();
        await sleep(from + DOWN_FOR_MS - Date.now());
        await broker!.start();
        downMs = Date.now() - from;
      })();
      await Promise.all([
        outage,
        postLifecycles(current.url, token, WRITERS, t0 + TRAFFIC_MS, acknowledged, refused),
      ]);
      v.inject(
        `the broker stopped at t+${DOWN_AT_MS / 1000} s and started again ${(downMs / 1000).toFixed(1)} s later (kafka.sh stop/start), ${WRITERS} connections posting lifecycles for ${TRAFFIC_MS / 1000} s`,
      );
      v.check(
        'every write answered 201 while the broker was down',
        refused.length === 0,
        `${acknowledged.size} acknowledged, ${refused.length} refused${refused.length ? `: ${refused[0]}` : ''}`,
      );

      let lag = -1;
      const caughtUp = await eventually(async () => {
        const subs = await getJson(`${current.url}/v1/admin/subscriptions`, current.adminToken);
        const relay = (subs.body.subscriptions as { name: string; lagEvents: number }[]).find(
          (s) => s.name === 'relay.kafka',
        );
        lag = relay?.lagEvents ?? -1;
        return lag === 0 ? true : undefined;
      }, 90_000).catch(() => false);
      v.check('the relay caught up with the log', caughtUp, `relay.kafka lag ${lag}`);

      const records = await readTopics(
        broker.brokers,
        new RegExp(`^${topicPrefix}\\.events\\.`),
        distinctIds(acknowledged.size),
        60_000,
      );
      const first = new Map<string, (typeof records)[number]>();
      for (const r of records) if (!first.has(r.headers.ce_id!)) first.set(r.headers.ce_id!, r);
      const missing = [...acknowledged].filter((id) => !first.has(id));
      v.check(
        'every acknowledged event on its Kafka topic',
        missing.length === 0,
        `${records.length} records read, ${first.size} distinct events, ${missing.length} acknowledged missing`,
      );
      const versions = new Map<string, number[]>();
      for (const r of first.values())
        versions.set(r.key ?? '', [
          ...(versions.get(r.key ?? '') ?? []),
          Number(r.headers.lgsp_stream_version),
        ]);
      const outOfOrder = [...versions].filter(([, list]) => list.some((n, i) => n !== i + 1));
      v.check(
        'each dossier in order (stream versions 1, 2, 3… in its partition)',
        outOfOrder.length === 0,
        `${versions.size} dossiers, ${outOfOrder.length} out of order${outOfOrder.length ? `: ${JSON.stringify(outOfOrder[0])}` : ''}`,
      );
    });
  }, 300_000);
});
