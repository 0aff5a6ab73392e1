import { newCode } from '../support/dossier-log.js';
import { dossierCode, getJson, post, statusChanged, submitted } from '../support/events.js';
import {
  createCommuneClient,
  eventually,
  startHubProcess,
  tempDir,
  type HubProcess,
} from '../support/hub-process.js';
import { sharedKafka, type KafkaBroker } from '../support/kafka.js';
import { POSTGRES_URL, dropSchema, pgClient, queryIn, schemaName } from '../support/postgres.js';
import { startSimulators, type SimulatorsProcess } from '../support/simulators-process.js';
import { createWebhook } from '../support/webhook-audit.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

// Issue 18, "one image, roles per process": two API processes (LGSP_ROLES=api) and one worker (every
// other role) on one PostgreSQL schema. Events pushed to either API are projected and delivered by the
// worker, read back from both APIs; the API processes run no subscriber.

const LEASE_TTL_MS = 3000;
const WORKER_ROLES = ['relay', 'projection', 'connectors', 'webhooks', 'replay'];
const ALL_ROLES = ['api', ...WORKER_ROLES];

interface SubscriptionRow {
  name: string;
  state: string;
  lagEvents: number;
  leaseHolder?: string;
}

interface Site {
  schema: string;
  adminToken: string;
  broker: KafkaBroker;
  topicPrefix: string;
  oneStopShopUrl: string;
}

function startProcess(id: string, site: Site, roles: string): Promise<HubProcess> {
  const { schema, adminToken, broker, topicPrefix, oneStopShopUrl } = site;
  return startHubProcess({
    dataDir: tempDir(`lgsp-${id}-`),
    adminToken,
    env: {
      LGSP_STORE: POSTGRES_URL,
      LGSP_POSTGRES_SCHEMA: schema,
      LGSP_INSTANCE_ID: id,
      LGSP_LEASE_TTL_MS: String(LEASE_TTL_MS),
      LGSP_ROLES: roles,
      LGSP_WEBHOOKS_ALLOW_INSECURE: 'true',
      LGSP_KAFKA_BROKERS: broker.brokers.join(','),
      LGSP_KAFKA_TOPIC_PREFIX: topicPrefix,
      LGSP_CONNECTORS: 'one-stop-shop',
      LGSP_ONE_STOP_SHOP_URL: oneStopShopUrl,
    },
  });
}

async function ready(hub: HubProcess): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${hub.url}/health/ready`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The sum of the samples of `metric` (any labels) in a process's /metrics; undefined when it has none. */
async function metricSum(hub: HubProcess, metric: string, labels = ''): Promise<number | undefined> {
  const text = await (await fetch(`${hub.url}/metrics`)).text();
  const samples = text
    .split('\n')
    .filter((l) => l.startsWith(`${metric}{`) && l.includes(labels))
    .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
  return samples.length === 0 ? undefined : samples.reduce((a, b) => a + b, 0);
}

/** The `lgsp_hub_role` series of a process's /metrics, as role → value. */
async function roleGauge(hub: HubProcess): Promise<Record<string, number>> {
  const res = await fetch(`${hub.url}/metrics`);
  expect(res.status).toBe(200);
  const out: Record<string, number> = {};
  for (const m of (await res.text()).matchAll(/^lgsp_hub_role\{role="([a-z]+)"\} (\d+)$/gm))
    out[m[1]!] = Number(m[2]);
  return out;
}

async function subscriptionsOf(hub: HubProcess): Promise<SubscriptionRow[]> {
  const r = await getJson(`${hub.url}/v1/admin/subscriptions`, hub.adminToken);
  expect(r.status).toBe(200);
  return r.body.subscriptions as SubscriptionRow[];
}

describe('roles per process: two API processes and one worker on PostgreSQL', () => {
  const schema = schemaName('roles');
  const adminToken = `admin-${Math.random().toString(36).slice(2)}`;
  let site: Site;
  let apis: [HubProcess, HubProcess];
  let worker: HubProcess;
  let receiver: WebhookReceiver;
  let sims: SimulatorsProcess;
  let codes: string[] = [];
  let token: string;

  beforeAll(async () => {
    await (await pgClient()).end();
    sims = await startSimulators();
    site = {
      schema,
      adminToken,
      broker: await sharedKafka(),
      topicPrefix: `roles${Math.random().toString(36).slice(2, 8)}`,
      oneStopShopUrl: sims.urls['one-stop-shop'],
    };
    // One after the other: the first creates the schema's tables.
    const a = await startProcess('api-a', site, 'api');
    const b = await startProcess('api-b', site, 'api');
    apis = [a, b];
    worker = await startProcess('worker', site, WORKER_ROLES.join(','));
    token = await createCommuneClient(a, 'commune-roles');
    receiver = await WebhookReceiver.start();
    // Created through the second API: webhooks live in the database; the worker delivers.
    await createWebhook(b.url, adminToken, receiver.url, 'roles receiver');
  });

  afterAll(async () => {
    for (const hub of [...(apis ?? []), worker]) await hub?.stop();
    await receiver?.down();
    sims?.child.kill();
    await dropSchema(schema);
  });

  it('readiness and metrics say which roles each process runs; the worker serves probes and metrics only', async () => {
    for (const api of apis) {
      expect((await ready(api)).body).toMatchObject({
        status: 'ready',
        roles: ['api'],
        projection: 'elsewhere',
      });
      expect(await roleGauge(api)).toEqual(
        Object.fromEntries(ALL_ROLES.map((r) => [r, r === 'api' ? 1 : 0])),
      );
    }
    expect((await ready(worker)).body).toMatchObject({
      status: 'ready',
      roles: WORKER_ROLES,
      projection: 'subscriber',
    });
    expect(await roleGauge(worker)).toEqual(
      Object.fromEntries(ALL_ROLES.map((r) => [r, r === 'api' ? 0 : 1])),
    );
    expect((await fetch(`${worker.url}/health/live`)).status).toBe(200);
    // No ingest, reads, operator API or console on the worker.
    const ingest = await post(worker.url, token, submitted(dossierCode()));
    expect(ingest.status).toBe(404);
    expect(ingest.contentType).toMatch(/^application\/problem\+json/);
    expect((await getJson(`${worker.url}/v1/admin/subscriptions`, adminToken)).status).toBe(404);
    expect((await fetch(`${worker.url}/console/`)).status).toBe(404);
  });

  it('events pushed to either API are projected and delivered by the worker and read from both APIs', async () => {
    // Codes the one-stop-shop accepts (six digits after the date).
    codes = Array.from({ length: 20 }, () => newCode());
    await Promise.all(
      codes.map(async (code, i) => {
        const api = apis[i % 2]!;
        expect((await post(api.url, token, submitted(code))).status).toBe(201);
        // The next event through the other API.
        expect((await post(apis[(i + 1) % 2]!.url, token, statusChanged(code, 2))).status).toBe(201);
      }),
    );
    for (const api of apis) {
      for (const code of codes) {
        const view = await eventually(async () => {
          const r = await getJson(`${api.url}/v1/dossiers/${encodeURIComponent(code)}`, token);
          return r.status === 200 && r.body.streamVersion === 2 ? r.body : undefined;
        }, 20_000);
        expect(view).toMatchObject({ dossierCode: code, status: 2, eventCount: 2 });
      }
    }
    const delivered = await eventually(async () => {
      const positions = new Set(receiver.acknowledged.map((d) => d.event.lgspposition));
      return positions.size === codes.length * 2 ? positions : undefined;
    }, 20_000);
    expect(delivered.size).toBe(40);
    // The worker relayed every event to Kafka and synced every dossier to the one-stop-shop; the APIs
    // relayed nothing, called the one-stop-shop never, and report no circuit of a breaker they do not use.
    const relayed = (hub: HubProcess) => metricSum(hub, 'lgsp_kafka_relayed_events_total');
    expect(await eventually(async () => ((await relayed(worker)) === 40 ? 40 : undefined), 20_000)).toBe(40);
    const shop = await eventually(async () => {
      const state = (await (await fetch(`${sims.urls['one-stop-shop']}/_sim/state`)).json()) as {
        dossiers: { ma_ho_so: string }[];
      };
      const held = new Set(state.dossiers.map((d) => d.ma_ho_so));
      return codes.every((c) => held.has(c)) ? held : undefined;
    }, 20_000).catch((err: unknown) => {
      const connectorLines = worker
        .output()
        .split('\n')
        .filter((l) => /one-stop-shop|connector/i.test(l))
        .slice(-20);
      throw new Error(
        `the one-stop-shop did not get every dossier; the worker logged:\n${connectorLines.join('\n')}`,
        {
          cause: err,
        },
      );
    });
    expect(shop.size).toBeGreaterThanOrEqual(codes.length);
    expect(
      await metricSum(worker, 'lgsp_connector_calls_total', 'operation="sync",outcome="ok"'),
    ).toBeGreaterThan(0);
    expect(await metricSum(worker, 'lgsp_connector_circuit_state', 'state="closed"')).toBe(1);
    for (const api of apis) {
      expect(await relayed(api)).toBeUndefined();
      expect(await metricSum(api, 'lgsp_connector_calls_total')).toBeUndefined();
      expect(await metricSum(api, 'lgsp_connector_circuit_state')).toBeUndefined();
      expect(await metricSum(api, 'lgsp_connector_parked_dossiers', 'target="one-stop-shop"')).toBe(0);
    }
  });

  it('the API processes run no subscriber: every lease is the worker’s, and the APIs report them standby', async () => {
    const leases = await queryIn<{ subscriber: string; holder: string }>(
      schema,
      'SELECT subscriber, holder FROM subscriber_leases ORDER BY subscriber',
    );
    expect(leases.map((l) => l.subscriber)).toEqual(
      expect.arrayContaining([
        'projection.dossiers',
        'relay.kafka',
        'webhooks',
        'checkpoints',
        'connector.one-stop-shop',
      ]),
    );
    expect(new Set(leases.map((l) => l.holder))).toEqual(new Set(['worker']));

    for (const api of apis) {
      const rows = await eventually(async () => {
        const all = await subscriptionsOf(api);
        return all.every((s) => s.leaseHolder === 'worker' && s.lagEvents === 0) ? all : undefined;
      }, 15_000);
      expect(rows.map((r) => r.name).sort()).toEqual(leases.map((l) => l.subscriber).sort());
      expect(new Set(rows.map((r) => r.state))).toEqual(new Set(['standby']));
    }
    // What each API logged: no subscriber ever started there.
    for (const api of apis) expect(api.output()).not.toMatch(/"msg":"subscriber started"/);
    expect(worker.output()).toMatch(/"msg":"subscriber started"/);
  });

  it('a replay started through an API process is executed by the worker', async () => {
    const res = await fetch(`${apis[0].url}/v1/admin/replays`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ target: 'one-stop-shop', scope: { dossiers: codes.slice(0, 3) } }),
    });
    expect(res.status).toBe(201);
    const { replay } = (await res.json()) as { replay: { id: string } };
    // Read through the other API: the run lives in the schema.
    const done = await eventually(async () => {
      const r = await getJson(`${apis[1].url}/v1/admin/replays/${replay.id}`, adminToken);
      const run = r.body.replay as { state: string; done: number; failed: number };
      return run.state === 'completed' ? run : undefined;
    }, 20_000);
    expect(done).toMatchObject({ done: 3, failed: 0 });
    const calls = (await (await fetch(`${sims.urls['one-stop-shop']}/_sim/calls`)).json()) as {
      replayed?: { byReplay: Record<string, number> };
    };
    expect(calls.replayed?.byReplay[replay.id]).toBeGreaterThanOrEqual(3);
    expect(worker.output()).toMatch(
      new RegExp(`"replay":"${replay.id}","holder":"worker".*"msg":"replay lease taken"`),
    );
    for (const api of apis) expect(api.output()).not.toMatch(/"msg":"replay lease taken"/);
  });

  it('refuses an unknown role, and a subset of the roles on the embedded SQLite store, naming the valid roles', async () => {
    await expect(startProcess('bad', site, 'api,ingest')).rejects.toThrow(
      /hub exited with 78[\s\S]*LGSP_ROLES: unknown role "ingest"; use all or a comma-separated list of api, relay, projection, connectors, webhooks, replay/,
    );
    await expect(
      startHubProcess({ dataDir: tempDir('lgsp-roles-sqlite-'), env: { LGSP_ROLES: 'api' } }),
    ).rejects.toThrow(/hub exited with 78[\s\S]*the embedded SQLite store runs every role in one process/);
  });
});
