import { Kafka, logLevel } from 'kafkajs';
import { dossierCode, getJson, post, statusChanged, submitted } from '../support/events.js';
import {
  createCommuneClient,
  eventually,
  runCli,
  startHubProcess,
  tempDir,
  type HubProcess,
} from '../support/hub-process.js';
import { sharedKafka, type KafkaBroker } from '../support/kafka.js';
import { distinct, readTopics, type ReadRecord } from '../support/kafka-consumer.js';
import { POSTGRES_URL, auditStore, dropSchema, pgClient, queryIn, schemaName } from '../support/postgres.js';
import { startPostgresCluster, type PostgresCluster } from '../support/postgres-cluster.js';

// Distributed mode: hub processes sharing one PostgreSQL schema (`LGSP_STORE=postgres://…`), driven
// over HTTP as commune systems drive them, with the Kafka relay as the subscriber under a lease.

const LEASE_TTL_MS = 3000;
const RELAY = 'relay.kafka';
const PROJECTION = 'projection.dossiers';

interface SubscriptionRow {
  name: string;
  state: string;
  lagEvents: number;
  leaseHolder?: string;
}

async function subscriptionsOf(hub: HubProcess): Promise<SubscriptionRow[]> {
  const r = await getJson(`${hub.url}/v1/admin/subscriptions`, hub.adminToken);
  return r.body.subscriptions as SubscriptionRow[];
}

async function subscription(hub: HubProcess, name: string): Promise<SubscriptionRow | undefined> {
  return (await subscriptionsOf(hub)).find((s) => s.name === name);
}

function startReplica(
  id: string,
  schema: string,
  broker: KafkaBroker,
  topicPrefix: string,
  adminToken: string,
  url = POSTGRES_URL,
): Promise<HubProcess> {
  return startHubProcess({
    dataDir: tempDir(`lgsp-${id}-`),
    adminToken,
    env: {
      LGSP_STORE: url,
      LGSP_POSTGRES_SCHEMA: schema,
      LGSP_INSTANCE_ID: id,
      LGSP_LEASE_TTL_MS: String(LEASE_TTL_MS),
      LGSP_KAFKA_BROKERS: broker.brokers.join(','),
      LGSP_KAFKA_TOPIC_PREFIX: topicPrefix,
    },
  });
}

/** Total records in the topics (sum of high watermarks): what a consumer reading everything would get. */
async function recordsInTopics(brokers: string[], pattern: RegExp): Promise<number> {
  const admin = new Kafka({ brokers, clientId: 'lgsp-test-offsets', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    let total = 0;
    for (const topic of (await admin.listTopics()).filter((t) => pattern.test(t))) {
      for (const p of await admin.fetchTopicOffsets(topic)) total += Number(p.high) - Number(p.low);
    }
    return total;
  } finally {
    await admin.disconnect();
  }
}

const position = (r: ReadRecord): number => Number(r.headers.lgsp_position);

/** Each partition's records in strictly increasing global position (the log's order). */
function expectGlobalOrderPerPartition(records: readonly ReadRecord[]): void {
  const last = new Map<string, number>();
  for (const r of records) {
    const key = `${r.topic}/${r.partition}`;
    const previous = last.get(key) ?? 0;
    expect({ key, previous, position: position(r) }).toEqual({
      key,
      previous,
      position: Math.max(previous + 1, position(r)),
    });
    last.set(key, position(r));
  }
}

/** The hub's last log lines about subscribers, leases and the store, for a failure message. */
function logTail(hub: HubProcess): string {
  return hub
    .output()
    .split('\n')
    .filter((l) => /subscriber|lease|relay|store|LISTEN/i.test(l))
    .slice(-30)
    .join('\n');
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

describe('two hub replicas on one PostgreSQL database', () => {
  const schema = schemaName('replicas');
  const topicPrefix = `rep${Math.random().toString(36).slice(2, 8)}`;
  const adminToken = `admin-${Math.random().toString(36).slice(2)}`;
  const topics = new RegExp(`^${topicPrefix}\\.events\\.province\\.`);
  let broker: KafkaBroker;
  let hubs: HubProcess[] = [];
  let token: string;

  beforeAll(async () => {
    await (await pgClient()).end();
    broker = await sharedKafka();
    hubs = [
      await startReplica('hub-a', schema, broker, topicPrefix, adminToken),
      await startReplica('hub-b', schema, broker, topicPrefix, adminToken),
    ];
    // A client created through one replica authenticates on the other: clients live in the database.
    token = await createCommuneClient(hubs[0]!, 'commune-21040');
  });

  afterAll(async () => {
    for (const hub of hubs) await hub.stop();
    await dropSchema(schema);
  });

  it('concurrent ingest into the same dossiers: only 409s, no duplicates, no gaps, one relay delivers each event once in order', async () => {
    const [a, b] = hubs as [HubProcess, HubProcess];
    const statuses = new Map<number, number>();
    const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
    const acknowledged = new Set<string>();
    const refused = new Set<string>();
    const dossiers = Array.from({ length: 40 }, () => dossierCode());

    await Promise.all(
      dossiers.map(async (code) => {
        const first: Record<string, unknown> = { ...submitted(code), expectedversion: 0 };
        const r = await post(pick(hubs).url, token, first);
        count(r.status);
        if (r.status === 201) acknowledged.add(String(first.id));
        for (let version = 1; version <= 4; version++) {
          // Two commune systems race to write the dossier's next event, one on each replica.
          const rivals: Record<string, unknown>[] = [
            { ...statusChanged(code, version + 1), expectedversion: version },
            { ...statusChanged(code, version + 1), expectedversion: version },
          ];
          const results = await Promise.all([post(a.url, token, rivals[0]), post(b.url, token, rivals[1])]);
          results.forEach((res, i) => {
            count(res.status);
            (res.status === 201 ? acknowledged : refused).add(String(rivals[i]!.id));
          });
          // The winner sent again to the other replica (a retry after a lost response): 200, not stored twice.
          const winner = results.findIndex((res) => res.status === 201);
          if (winner >= 0) {
            const again = await post(hubs[1 - winner]!.url, token, rivals[winner]);
            count(again.status);
            expect(again.body.results).toEqual([expect.objectContaining({ duplicate: true })]);
          }
        }
      }),
    );

    // Every request was a success, a duplicate, or a conflict: nothing else failed.
    expect(Object.fromEntries(statuses)).toEqual({ 201: 200, 409: 160, 200: 160 });
    expect(acknowledged.size).toBe(200);

    const audit = await auditStore(schema);
    expect(audit.head).toBe(200);
    expect(audit.positionsContiguous).toBe(true);
    expect(audit.duplicatePairs).toBe(0);
    expect(audit.streamsWithGaps).toEqual([]);
    for (const id of acknowledged) expect(audit.ids.has(id)).toBe(true);
    for (const id of refused) expect(audit.ids.has(id)).toBe(false);

    // One replica runs each subscriber; the other stands by, and both name the same holder.
    await eventually(async () => {
      const rows = await Promise.all(hubs.map((h) => subscription(h, RELAY)));
      return rows.every((r) => r?.lagEvents === 0) ? true : undefined;
    }, 30_000);
    for (const name of [RELAY, PROJECTION]) {
      const rows = await Promise.all(hubs.map((h) => subscription(h, name)));
      expect(rows.map((r) => r?.state).sort()).toEqual(['running', 'standby']);
      expect(new Set(rows.map((r) => r?.leaseHolder))).toHaveProperty('size', 1);
    }

    // The subscriber (the Kafka relay) saw every event exactly once, in global order.
    const records = await readTopics(broker.brokers, topics, (r) => r.length >= 200);
    expect(await recordsInTopics(broker.brokers, topics)).toBe(200);
    expect(records.map(position).sort((x, y) => x - y)).toEqual(range(200));
    expectGlobalOrderPerPartition(records);

    // The dossier views are shared: either replica serves the state the log implies.
    const code = dossiers[0]!;
    await eventually(async () => {
      const view = await getJson(`${b.url}/v1/dossiers/${code}`, adminToken);
      return view.status === 200 && view.body.streamVersion === 5 ? view : undefined;
    }, 20_000);
    const viewA = await getJson(`${a.url}/v1/dossiers/${code}`, adminToken);
    expect(viewA.body).toMatchObject({ dossierCode: code, status: 5, streamVersion: 5 });
  });

  it('failover: kill -9 the replica holding the relay lease; the other takes over within the TTL bound and misses nothing', async () => {
    const holderId = (await subscription(hubs[0]!, RELAY))?.leaseHolder;
    expect(['hub-a', 'hub-b']).toContain(holderId);
    const holder = hubs.find((_, i) => ['hub-a', 'hub-b'][i] === holderId)!;
    const survivor = hubs.find((h) => h !== holder)!;
    const before = (await auditStore(schema)).head;

    // Commune systems keep writing through the surviving replica while the holder dies.
    const acknowledged = new Set<string>();
    let killedAt = 0;
    const writers = Array.from({ length: 20 }, async (_, w) => {
      const code = dossierCode();
      const events = [submitted(code), ...range(4).map((v) => statusChanged(code, v + 1))];
      for (const [i, e] of events.entries()) {
        if (w === 0 && i === 2) {
          await holder.kill();
          killedAt = Date.now();
        }
        const r = await post(survivor.url, token, e);
        expect(r.status).toBe(201);
        acknowledged.add(String(e.id));
      }
    });
    await Promise.all(writers);
    expect(acknowledged.size).toBe(100);

    let last: SubscriptionRow | undefined;
    const takeover = await eventually(async () => {
      last = await subscription(survivor, RELAY);
      return last?.state === 'running' ? Date.now() - killedAt : undefined;
    }, 20_000).catch((err: unknown) => {
      throw new Error(`${String(err)}: ${JSON.stringify(last)}\n${logTail(survivor)}`);
    });
    // The lease lapses TTL after the last renewal, and the survivor tries again every TTL / 3.
    process.stderr.write(
      `[replicas] relay taken over ${takeover} ms after kill -9 (lease TTL ${LEASE_TTL_MS} ms)\n`,
    );
    expect(takeover).toBeLessThan(LEASE_TTL_MS + LEASE_TTL_MS / 3 + 2000);

    await eventually(async () => {
      const rows = await subscriptionsOf(survivor);
      return rows.every((r) => r.state === 'running' && r.lagEvents === 0) ? true : undefined;
    }, 30_000);
    const head = (await auditStore(schema)).head;
    expect(head).toBe(before + 100);

    // Nothing missed: every position reached Kafka. The batch in flight at the kill may come twice
    // (delivery is at least once across a failover); consumers deduplicate on (ce_source, ce_id).
    const records = await readTopics(broker.brokers, topics, distinct(head, position));
    expect([...new Set(records.map(position))].sort((x, y) => x - y)).toEqual(range(head));
    const repeats = records.length - head;
    process.stderr.write(
      `[replicas] ${head} events relayed across the failover, ${repeats} delivered twice\n`,
    );
    expect(repeats).toBeGreaterThanOrEqual(0);
    expect(repeats).toBeLessThanOrEqual(200); // at most one relay batch (kafka.relay.batchSize)

    // The projection moved to the survivor too: the last dossier written is fully reflected there.
    const views = await getJson(`${survivor.url}/v1/admin/subscriptions`, adminToken);
    expect((views.body.subscriptions as SubscriptionRow[]).find((s) => s.name === PROJECTION)).toMatchObject({
      state: 'running',
      leaseHolder: survivor === hubs[0] ? 'hub-a' : 'hub-b',
    });
  });
});

describe('PostgreSQL restarts during ingest', () => {
  let cluster: PostgresCluster | undefined;
  let hub: HubProcess | undefined;

  afterAll(async () => {
    await hub?.stop();
    await cluster?.destroy();
  });

  it('clients get clear 503s or succeed on retry, and no acknowledged event is lost', async () => {
    cluster = await startPostgresCluster();
    const broker = await sharedKafka();
    const adminToken = 'restart-admin';
    hub = await startReplica(
      'hub-r',
      'lgsp',
      broker,
      `rst${Math.random().toString(36).slice(2, 8)}`,
      adminToken,
      cluster.url,
    );
    const token = await createCommuneClient(hub, 'commune-restart');

    const acknowledged = new Set<string>();
    const unavailable: { status: number; title: unknown; retryAfter: string | null }[] = [];
    const other: { status: number; body: unknown }[] = [];
    let restarted = false;

    const writers = Array.from({ length: 16 }, async () => {
      for (let d = 0; d < 6; d++) {
        const code = dossierCode();
        const events = [submitted(code), ...range(3).map((v) => statusChanged(code, v + 1))];
        for (const e of events) {
          // A commune system's loop: send, and on 503 wait as told and send the same event again.
          for (let attempt = 1; ; attempt++) {
            const res = await fetch(`${hub!.url}/v1/events`, {
              method: 'POST',
              headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${token}` },
              body: JSON.stringify(e),
            });
            const body = (await res.json()) as Record<string, unknown>;
            if (res.status === 201 || res.status === 200) {
              acknowledged.add(String(e.id));
              break;
            }
            if (res.status === 503) {
              unavailable.push({
                status: res.status,
                title: body.title,
                retryAfter: res.headers.get('retry-after'),
              });
              expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
              if (attempt > 200) throw new Error('still unavailable after 200 attempts');
              await new Promise((r) => setTimeout(r, 250));
              continue;
            }
            other.push({ status: res.status, body });
            break;
          }
        }
      }
    });
    // Restart the server once ingest is well under way (a quarter of the events acknowledged).
    const restart = (async () => {
      while (acknowledged.size < 96) await new Promise((r) => setTimeout(r, 5));
      await cluster!.restart();
      restarted = true;
    })();
    await Promise.all([...writers, restart]);

    process.stderr.write(
      `[replicas] PostgreSQL restarted during ingest: ${acknowledged.size} events acknowledged, ${unavailable.length} 503 answers retried\n`,
    );
    expect(restarted).toBe(true);
    expect(other).toEqual([]);
    expect(acknowledged.size).toBe(16 * 6 * 4);
    // The restart hit ingest: some requests were answered 503 with a problem document and Retry-After.
    expect(unavailable.length).toBeGreaterThan(0);
    for (const u of unavailable)
      expect(u).toEqual({ status: 503, title: 'Service unavailable', retryAfter: '1' });

    const audit = await auditStore('lgsp', cluster.url);
    for (const id of acknowledged) expect(audit.ids.has(id)).toBe(true);
    expect(audit.head).toBe(acknowledged.size);
    expect(audit.positionsContiguous).toBe(true);
    expect(audit.duplicatePairs).toBe(0);
    expect(audit.streamsWithGaps).toEqual([]);

    // The hub recovered by itself: ready, and its subscribers caught up with the log.
    expect((await fetch(`${hub.url}/health/ready`)).status).toBe(200);
    let rows: SubscriptionRow[] = [];
    await eventually(async () => {
      rows = await subscriptionsOf(hub!);
      return rows.every((r) => r.state === 'running' && r.lagEvents === 0) ? true : undefined;
    }, 30_000).catch((err: unknown) => {
      throw new Error(`${String(err)}: ${JSON.stringify(rows)}\n${logTail(hub!)}`);
    });
  });
});

describe('lgsp migrate', () => {
  const schema = schemaName('migrate');
  afterAll(() => dropSchema(schema));

  it('creates every table of a PostgreSQL store without starting the hub, and is idempotent', async () => {
    const run = () => runCli(['migrate', '--store', POSTGRES_URL, '--schema', schema, '--json'], {});
    const first = await run();
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const { versions } = JSON.parse(first.stdout) as { versions: { component: string; version: number }[] };
    expect(versions.map((v) => v.component)).toEqual([
      'connectors.parking',
      'connectors.pending',
      'event-store',
      'personal-data-erasures',
      'personal-data-keys',
      'projection.dossiers',
      'reconciliation',
      'replay.runs',
      'security.audit',
      'security.clients',
      'signed-checkpoints',
      'webhooks',
    ]);
    for (const v of versions) expect(v.version).toBeGreaterThanOrEqual(1);
    const tables = await queryIn<{ table_name: string }>(
      schema,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [schema],
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining([
        'events',
        'checkpoints',
        'subscriber_leases',
        'clients',
        'dossier_views',
        'connector_parking',
        'connector_parking_history',
        'connector_pending',
        'audit_log',
        'checkpoint_keys',
        'signed_checkpoints',
        'privacy_erasures',
        'privacy_subject_keys',
        'privacy_subject_streams',
      ]),
    );
    const again = await run();
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ versions });

    const human = await runCli(['migrate', '--store', POSTGRES_URL, '--schema', schema], {});
    expect(human.stdout).toMatch(/COMPONENT\s+VERSION/);
  });

  it('fails clearly: a bad store setting exits 78, an unreachable server exits 4 naming it', async () => {
    const bad = await runCli(['migrate', '--store', 'mysql://db/x'], {});
    expect(bad.code).toBe(78);
    expect(bad.stderr).toMatch(/LGSP_STORE: must be "sqlite" or a postgres:\/\/ URL/);
    const down = await runCli(['migrate', '--store', 'postgres://postgres:secret@127.0.0.1:1/test'], {});
    expect(down.code).toBe(4);
    expect(down.stderr).toMatch(/PostgreSQL.*127\.0\.0\.1:1/);
    expect(down.stderr).not.toContain('secret');
  });
});
