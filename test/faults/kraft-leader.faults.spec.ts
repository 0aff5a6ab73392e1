import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getJson } from '../support/events.js';
import { envNumber, recoveryDisabled, runFault } from '../support/fault-verdict.js';
import {
  createCommuneClient,
  eventually,
  REPO_ROOT,
  startHubProcess,
  tempDir,
  type HubProcess,
} from '../support/hub-process.js';
import { ensureGroupCoordinator } from '../support/kafka-consumer.js';
import { partitionStates, type PartitionState } from '../support/kafka-offsets.js';
import { consoleReadAll, kafkaCluster, type ConsoleRecord, type KafkaCluster } from '../support/kafka.js';
import { postLifecycles, sleep } from '../support/webhook-audit.js';

// Issue 18, fault suite: a three-broker KRaft cluster started by the harness (deploy/kafka/kafka.sh,
// one JVM per node, each a broker and a controller; replication 3, min.insync.replicas 2, unclean
// leader election off), the hub relaying to it with the topic settings the deployment ships
// (deploy/config/hub.json: 3 replicas). Under load, the broker leading the most partitions of the
// relay's topic is SIGKILLed and stays down. Nothing the relay counted as delivered (its checkpoint,
// which it saves only once every in-sync replica has the records: acks=all) may be missing from the
// surviving brokers, each dossier's events in order; the relay must go on with two brokers of three.
// Recovery disabled: the hub creates its topics with one replica (the hub's default), so the killed
// broker takes its partitions, and what the relay had delivered to them, with it.

const FAULT = 'kraft-leader';
const WRITERS = 4;
const TRAFFIC_MS = envNumber('LGSP_FAULTS_KRAFT_TRAFFIC_S', 30) * 1000;
const KILL_AT_MS = Math.round(TRAFFIC_MS / 3);

interface RelayState {
  checkpoint: number;
  lagEvents: number;
}

async function relayState(hub: HubProcess): Promise<RelayState | undefined> {
  const subs = await getJson(`${hub.url}/v1/admin/subscriptions`, hub.adminToken);
  return (subs.body.subscriptions as ({ name: string } & RelayState)[]).find((s) => s.name === 'relay.kafka');
}

const describePartitions = (states: readonly PartitionState[]): string =>
  states
    .map((p) => `p${p.partition} leader ${p.leader} isr [${p.isr.join(',')}] ${p.high} records`)
    .join('; ');

describe('fault: the partition leader of a three-broker KRaft cluster killed under load', () => {
  let hub: HubProcess | undefined;
  let cluster: KafkaCluster | undefined;
  afterAll(async () => {
    await hub?.stop();
    await cluster?.stop();
  });

  it('loses nothing the relay counted as delivered and keeps each dossier in order', async () => {
    await runFault(FAULT, async (v) => {
      const disabled = recoveryDisabled(FAULT);
      cluster = await kafkaCluster({ nodes: 3, replication: 3, minInsync: 2 });
      const nodes = cluster.nodes;
      // The consumer offsets topic (3 replicas) cannot be created once a broker is gone.
      await ensureGroupCoordinator(cluster.brokers);

      // The topic settings the deployment ships; recovery disabled: one replica, the hub's default.
      const shipped = JSON.parse(readFileSync(join(REPO_ROOT, 'deploy/config/hub.json'), 'utf8')) as {
        kafka: { topics: { partitions: number; replicationFactor: number } };
      };
      const topicSettings = { ...shipped.kafka.topics, ...(disabled ? { replicationFactor: 1 } : {}) };
      const dataDir = tempDir('lgsp-fault-kraft-');
      const config = join(dataDir, 'hub.json');
      writeFileSync(
        config,
        JSON.stringify({ ...shipped, kafka: { ...shipped.kafka, topics: topicSettings } }),
      );
      const topicPrefix = `fault${Math.random().toString(36).slice(2, 8)}`;
      const topics = new RegExp(`^${topicPrefix}\\.events\\.`);
      hub = await startHubProcess({
        dataDir,
        env: {
          LGSP_CONFIG: config,
          LGSP_KAFKA_BROKERS: cluster.brokers.join(','),
          LGSP_KAFKA_TOPIC_PREFIX: topicPrefix,
        },
      });
      const current = hub;
      const token = await createCommuneClient(current, 'fault-kraft', '21040', [
        '--rate-limit',
        '10000',
        '--burst',
        '10000',
      ]);

      const acknowledged = new Set<string>();
      const refused: string[] = [];
      let reported = 0;
      let polling = true;
      const poller = (async () => {
        while (polling) {
          const relay = await relayState(current).catch(() => undefined);
          if (relay) reported = Math.max(reported, relay.checkpoint);
          await sleep(100);
        }
      })();
      try {
        const t0 = Date.now();
        const fault = (async () => {
          await sleep(KILL_AT_MS);
          const before = await partitionStates(cluster!.brokers, topics);
          const led = new Map<number, number>();
          for (const p of before) if (p.high > 0) led.set(p.leader, (led.get(p.leader) ?? 0) + p.high);
          // The broker leading the partitions that hold the most relayed records.
          const victim = [...led].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0];
          if (victim === undefined) throw new Error(`no partition had records at t+${KILL_AT_MS / 1000} s`);
          const checkpoint = (await relayState(current))?.checkpoint ?? 0;
          reported = Math.max(reported, checkpoint);
          await cluster!.kill(victim);
          return { node: victim, at: Date.now() - t0, checkpoint, before };
        })();
        const [k] = await Promise.all([
          fault,
          postLifecycles(current.url, token, WRITERS, t0 + TRAFFIC_MS, acknowledged, refused),
        ]);
        const survivors = nodes.filter((n) => n.id !== k.node).map((n) => n.address);
        const created = k.before[0];
        v.inject(
          `a KRaft cluster of ${nodes.length} nodes (deploy/kafka/kafka.sh; each a broker and a controller; replication ${cluster.replication}, min.insync.replicas ${cluster.minInsync}, unclean leader election off); the hub's topics created with ${created?.replicas.length ?? '?'} replica${created?.replicas.length === 1 ? '' : 's'}` +
            (disabled ? ' [recovery disabled: one replica]' : ' (deploy/config/hub.json)'),
        );
        v.inject(
          `SIGKILL of broker ${k.node} (kept down) at t+${(k.at / 1000).toFixed(1)} s, the relay's checkpoint then ${k.checkpoint}, ${WRITERS} connections posting lifecycles for ${TRAFFIC_MS / 1000} s; before: ${describePartitions(k.before)}`,
        );
        v.check(
          'every write answered 201 (ingest does not wait for Kafka)',
          refused.length === 0,
          `${acknowledged.size} acknowledged, ${refused.length} refused${refused.length ? `: ${refused[0]}` : ''}`,
        );

        let lag = -1;
        const caughtUp = await eventually(
          async () => {
            const relay = await relayState(current);
            lag = relay?.lagEvents ?? -1;
            if (relay) reported = Math.max(reported, relay.checkpoint);
            return lag === 0 ? true : undefined;
          },
          disabled ? 30_000 : 90_000,
        ).catch(() => false);
        v.check(
          `the relay caught up with the log on the ${survivors.length} surviving brokers`,
          caughtUp,
          `relay.kafka lag ${lag}, checkpoint ${reported}`,
        );

        const after = await partitionStates(survivors, topics);
        const unled = after.filter((p) => p.leader === k.node || p.leader < 0);
        const underMin = after.filter((p) => p.isr.length < cluster!.minInsync);
        v.check(
          `every partition led by a surviving broker, with at least min.insync.replicas (${cluster.minInsync}) in sync`,
          after.length > 0 && unled.length === 0 && underMin.length === 0,
          `after: ${describePartitions(after)}`,
        );

        // What the survivors hold (Kafka's console consumer: it reads the partitions that have a
        // leader), each event's first record: the relay sends a batch again whole after a failed send.
        const records = await consoleReadAll(survivors, `^${topicPrefix}\\.events\\..*`);
        const first = new Map<number, ConsoleRecord>();
        for (const r of records) {
          const position = Number(r.headers.lgsp_position);
          if (!first.has(position)) first.set(position, r);
        }
        const missingUpTo = (n: number): number[] =>
          Array.from({ length: n }, (_, i) => i + 1).filter((p) => !first.has(p));
        const missingAtKill = missingUpTo(k.checkpoint);
        v.check(
          `every event the relay counted as delivered when broker ${k.node} was killed (positions 1..${k.checkpoint}) on the surviving brokers`,
          k.checkpoint > 0 && missingAtKill.length === 0,
          `${missingAtKill.length} missing${missingAtKill.length ? `, e.g. positions ${missingAtKill.slice(0, 5).join(', ')}` : ''}`,
        );
        const missing = missingUpTo(reported);
        // kafkajs 2.2.4 can resolve a send with a moved partition's records never written (#1303); the
        // hub's producer sends those again and says so (libs/kafka/src/external/kafkajs-client.ts).
        const resends = current.output().split('partitions left without an answer').length - 1;
        v.check(
          `every event the relay counted as delivered (positions 1..${reported}, its highest reported checkpoint) on the surviving brokers`,
          missing.length === 0,
          `${records.length} records read, ${first.size} distinct events, ${records.length - first.size} sent twice, ${missing.length} missing${missing.length ? `, e.g. positions ${missing.slice(0, 5).join(', ')}` : ''}; ` +
            `sends kafkajs resolved with a partition unanswered, sent again by the hub: ${resends}`,
        );

        // Per dossier (the record key, in one partition of its province's topic), in the order of its
        // partition: stream versions 1, 2, 3… and positions increasing.
        const dossiers = new Map<string, { versions: number[]; positions: number[] }>();
        for (const r of [...first.values()].sort(
          (a, b) => a.partition - b.partition || a.offset - b.offset,
        )) {
          const d = dossiers.get(r.key) ?? { versions: [], positions: [] };
          d.versions.push(Number(r.headers.lgsp_stream_version));
          d.positions.push(Number(r.headers.lgsp_position));
          dossiers.set(r.key, d);
        }
        const outOfOrder = [...dossiers].filter(
          ([, d]) =>
            d.versions.some((n, i) => n !== i + 1) ||
            d.positions.some((p, i) => i > 0 && p <= d.positions[i - 1]!),
        );
        v.check(
          'each dossier in order (stream versions 1, 2, 3… and positions increasing in its partition)',
          dossiers.size > 0 && outOfOrder.length === 0,
          `${dossiers.size} dossiers, ${outOfOrder.length} out of order${outOfOrder.length ? `: ${JSON.stringify(outOfOrder[0])}` : ''}`,
        );
      } finally {
        polling = false;
        await poller;
      }
    });
  }, 240_000);
});
