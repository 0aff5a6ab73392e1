import { randomUUID } from 'node:crypto';
import { getJson, post, statusChanged, submitted } from '../support/events.js';
import { eventually, runCli, startHubProcess, tempDir, type HubProcess } from '../support/hub-process.js';
import { sharedKafka, type KafkaBroker } from '../support/kafka.js';
import { readTopics } from '../support/kafka-consumer.js';
import { changedTopics, topicWatermarks } from '../support/kafka-offsets.js';
import {
  connectorsConfig,
  simulatorCalls,
  startSimulators,
  type SimName,
} from '../support/simulators-process.js';
import type { ChildProcess } from 'node:child_process';

/**
 * Issue 6, replay to one subscriber: with the hub, the simulators and a Kafka broker running, an
 * operator replays to the Kafka consumer of province 51 (`lgsp replay run --target kafka:so-51`). Its
 * replay topic receives exactly the province's events, marked as the replay; no other topic and no
 * simulator receives anything. The other way round, a replay to the portal leaves every topic as it was.
 */

const PLACES = [
  { provinceCode: '51', communeCode: '21040' },
  { provinceCode: '79', communeCode: '25747' },
];
const DOSSIERS = 8;
const PER_DOSSIER = 3;

describe('replay to a Kafka consumer, with the hub and the simulators as processes', () => {
  let sims: { urls: Record<SimName, string>; child: ChildProcess };
  let broker: KafkaBroker;
  let hub: HubProcess;
  let cli: Record<string, string>;
  let prefix: string;
  /** Event ids by province, as ingested. */
  const ids: Record<string, string[]> = { '51': [], '79': [] };

  const lgsp = async (args: string[]) => {
    const r = await runCli(args, cli);
    return {
      ...r,
      json: r.stdout.trim().startsWith('{') ? (JSON.parse(r.stdout) as Record<string, unknown>) : {},
    };
  };
  const topics = () => topicWatermarks(broker.brokers, new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.`));

  /** Every subscriber caught up, and the simulators' call counts still for a second. */
  async function quiet(): Promise<void> {
    await eventually(async () => {
      const subs = await getJson(`${hub.url}/v1/admin/subscriptions`, hub.adminToken);
      const list = subs.body.subscriptions as { lagEvents: number }[];
      return list.length > 0 && list.every((s) => s.lagEvents === 0) ? true : undefined;
    }, 30_000);
    let last = JSON.stringify(await simulatorCalls(sims.urls));
    await eventually(async () => {
      await new Promise((r) => setTimeout(r, 1000));
      const now = JSON.stringify(await simulatorCalls(sims.urls));
      const still = now === last;
      last = now;
      return still ? true : undefined;
    }, 20_000);
  }

  beforeAll(async () => {
    [sims, broker] = await Promise.all([startSimulators(), sharedKafka()]);
    await fetch(`${sims.urls['civil-registry']}/_sim/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        seed: 6,
        outcomes: { done: 1, supplement: 0, rejected: 0 },
        processingPolls: { min: 1, max: 1 },
      }),
    });
    const dataDir = tempDir('lgsp-replay-kafka-e2e-');
    const config = connectorsConfig(dataDir, sims.urls, { kafka: { topics: { partitions: 3 } } });
    prefix = `e2e-${randomUUID().slice(0, 8)}.lgsp`;
    hub = await startHubProcess({
      dataDir,
      env: {
        LGSP_CONFIG: config,
        LGSP_CONNECTORS: 'all',
        LGSP_KAFKA_BROKERS: broker.brokers.join(','),
        LGSP_KAFKA_TOPIC_PREFIX: prefix,
      },
    });
    cli = { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken };

    for (let d = 0; d < DOSSIERS; d++) {
      const place = PLACES[d % 2]!;
      const code = `000.00.51.H56-251123-${String(200_000 + d)}`;
      const events = [
        submitted(code),
        ...Array.from({ length: PER_DOSSIER - 1 }, (_, i) => statusChanged(code, i + 2)),
      ];
      for (const event of events) {
        Object.assign(event.data as object, place);
        expect((await post(hub.url, hub.adminToken, event)).status).toBe(201);
        ids[place.provinceCode]!.push(event.id as string);
      }
    }
    for (const args of [
      ['clients', 'create', '--name', 'so-51', '--province', '51'],
      ['clients', 'create', '--name', 'xa-25747', '--communes', '25747'],
    ]) {
      const created = await lgsp([...args, '--json']);
      expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
    }
    await quiet();
  }, 120_000);

  afterAll(async () => {
    await hub?.stop();
    sims?.child.kill('SIGTERM');
  });

  it('sends province 51 its own events on its replay topic, marked, and nothing to any other topic or system', async () => {
    const plan = await lgsp(['replay', 'plan', '--target', 'kafka:so-51', '--json']);
    expect(plan.code).toBe(0);
    expect(plan.json.plan).toMatchObject({ unit: 'event', events: ids['51']!.length, target: 'kafka:so-51' });

    const before = await topics();
    // The live province topics are there, filled by the relay: the replay must leave them alone.
    expect([before.get(`${prefix}.events.province.51`), before.get(`${prefix}.events.province.79`)]).toEqual([
      ids['51']!.length,
      ids['79']!.length,
    ]);
    const callsBefore = await simulatorCalls(sims.urls);
    const run = await lgsp(['replay', 'run', '--target', 'kafka:so-51', '--yes', '--json']);
    // Progress lines go to stderr; shown here only when the run fails.
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 });
    const replay = run.json.replay as { id: string };
    expect(run.json.replay).toMatchObject({ state: 'completed', total: ids['51']!.length, failed: 0 });

    const replayTopic = `${prefix}.replay.so-51`;
    expect(changedTopics(before, await topics())).toEqual({
      [replayTopic]: { before: 0, after: ids['51']!.length },
    });
    expect((await topics()).has(`${prefix}.replay.xa-25747`)).toBe(false);
    expect((await simulatorCalls(sims.urls)).map((c) => c.total)).toEqual(callsBefore.map((c) => c.total));

    const records = await readTopics(
      broker.brokers,
      new RegExp(`^${replayTopic.replace(/\./g, '\\.')}$`),
      (r) => r.length >= ids['51']!.length,
    );
    expect(records.map((r) => r.headers['ce_id']).sort()).toEqual([...ids['51']!].sort());
    for (const record of records) {
      expect(record.headers).toMatchObject({
        lgsp_replay: replay.id,
        ce_specversion: '1.0',
        'content-type': 'application/json',
      });
      expect((JSON.parse(record.value) as { provinceCode: string; dossierCode: string }).dossierCode).toBe(
        record.key,
      );
    }
  }, 60_000);

  it('refuses a consumer the hub does not know, clearly', async () => {
    const refused = await lgsp(['replay', 'plan', '--target', 'kafka:nobody']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('no replay target kafka:nobody runs in this hub');
    // A client whose name cannot be part of a topic name is a consumer no replay can reach.
    const created = await lgsp(['clients', 'create', '--name', 'Sở 51', '--province', '51', '--json']);
    expect(created.code).toBe(0);
    const unnamable = await lgsp(['replay', 'plan', '--target', 'kafka:Sở 51']);
    expect(unnamable.code).not.toBe(0);
    expect(unnamable.stderr).toContain('cannot name a Kafka replay topic');
  });

  it('leaves every Kafka topic as it was when the replay goes to the portal', async () => {
    const before = await topics();
    const callsBefore = await simulatorCalls(sims.urls);
    const run = await lgsp(['replay', 'run', '--target', 'portal', '--yes', '--json']);
    // Progress lines go to stderr; shown here only when the run fails.
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 });
    const replay = run.json.replay as { id: string };
    expect(run.json.replay).toMatchObject({ state: 'completed', total: DOSSIERS, failed: 0 });
    await new Promise((r) => setTimeout(r, 500));
    expect(changedTopics(before, await topics())).toEqual({});
    const after = await simulatorCalls(sims.urls);
    const portalNew = after[0]!.total - callsBefore[0]!.total;
    expect(portalNew).toBeGreaterThan(0);
    expect(after[0]!.replayed?.byReplay[replay.id]).toBe(portalNew);
    expect(after.slice(1).map((c) => c.total)).toEqual(callsBefore.slice(1).map((c) => c.total));
  }, 60_000);
});
