import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getJson } from '../support/events.js';
import { createCommuneClient, startHubProcess, tempDir, type HubProcess } from '../support/hub-process.js';
import { POSTGRES_URL, dropSchema, pgClient, schemaName } from '../support/postgres.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import {
  acknowledgedPositions,
  allAttempts,
  auditDeliveries,
  createWebhook,
  lifecycle,
  postLifecycle,
  readLog,
  sleep,
  verifyOnArrival,
  type LoggedEvent,
} from '../support/webhook-audit.js';

// Acceptance "Replicas" of issue 15: two hub processes on one PostgreSQL schema; the 'webhooks'
// subscriber (queueing and dispatch) runs in the replica holding its lease.

const LEASE_TTL_MS = 3000;
const POLL_MS = 200;
const SUBSCRIBER = 'webhooks';
const WRITERS = 16;

interface SubscriptionRow {
  name: string;
  state: string;
  lagEvents: number;
  leaseHolder?: string;
}

async function subscription(hub: HubProcess, name: string): Promise<SubscriptionRow | undefined> {
  const r = await getJson(`${hub.url}/v1/admin/subscriptions`, hub.adminToken);
  return (r.body.subscriptions as SubscriptionRow[]).find((s) => s.name === name);
}

function startReplica(id: string, schema: string, adminToken: string, config: string): Promise<HubProcess> {
  return startHubProcess({
    dataDir: tempDir(`lgsp-${id}-`),
    adminToken,
    env: {
      LGSP_STORE: POSTGRES_URL,
      LGSP_POSTGRES_SCHEMA: schema,
      LGSP_INSTANCE_ID: id,
      LGSP_LEASE_TTL_MS: String(LEASE_TTL_MS),
      LGSP_CONFIG: config,
      LGSP_WEBHOOKS_ALLOW_INSECURE: 'true',
    },
  });
}

/** Waits until `receiver` acknowledged every position of the log; the log read when writers are done. */
async function allAcknowledged(
  hub: HubProcess,
  receiver: WebhookReceiver,
  timeoutMs: number,
): Promise<LoggedEvent[]> {
  const log = await readLog(hub.url, hub.adminToken);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const acked = acknowledgedPositions(receiver);
    const missing = log.filter((e) => !acked.has(e.position));
    if (missing.length === 0) return log;
    if (Date.now() > deadline) {
      const holder = await subscription(hub, SUBSCRIBER);
      throw new Error(
        `${missing.length} of ${log.length} events not acknowledged after ${timeoutMs} ms (first: ${missing
          .slice(0, 5)
          .map((e) => e.position)
          .join(', ')}); subscriber: ${JSON.stringify(holder)}`,
      );
    }
    await sleep(200);
  }
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

describe('webhooks on two hub replicas sharing one PostgreSQL schema', () => {
  const schema = schemaName('whrep');
  const adminToken = `admin-${Math.random().toString(36).slice(2)}`;
  const ids = ['hub-a', 'hub-b'];
  let hubs: HubProcess[] = [];
  let receiver: WebhookReceiver;
  let webhookId: string;
  let badSignatures: { failures: number };
  let token: string;

  beforeAll(async () => {
    await (await pgClient()).end();
    const dir = tempDir('lgsp-wh-replicas-');
    const config = join(dir, 'hub.json');
    writeFileSync(
      config,
      JSON.stringify({
        webhooks: { retryDelaysSeconds: [1, 2, 5, 10, 10, 10, 10, 10, 10], pollMs: POLL_MS },
      }),
    );
    hubs = [
      await startReplica(ids[0]!, schema, adminToken, config),
      await startReplica(ids[1]!, schema, adminToken, config),
    ];
    token = await createCommuneClient(hubs[0]!, 'commune-wh-replicas');
    receiver = await WebhookReceiver.start();
    // Created through the second replica: the webhook lives in the database, the lease holder delivers.
    const created = await createWebhook(hubs[1]!.url, adminToken, receiver.url, 'replicas receiver');
    webhookId = created.id;
    badSignatures = verifyOnArrival(receiver, created.secret);
  });

  afterAll(async () => {
    for (const hub of hubs) await hub.stop();
    await receiver.down();
    await dropSchema(schema);
  });

  it('normal operation: events written through both replicas are each delivered exactly once, in order per dossier', async () => {
    let next = 0;
    const LIFECYCLES = 300;
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        for (let i = next++; i < LIFECYCLES; i = next++) {
          // Each event through either replica, a dossier's events one after the other.
          for (const e of lifecycle()) await postLifecycle(pick(hubs).url, token, [e]);
        }
      }),
    );
    const log = await allAcknowledged(hubs[0]!, receiver, 60_000);
    // A moment more for a second delivery, were one coming.
    await sleep(2 * POLL_MS + 1000);
    const audit = auditDeliveries(log, receiver.received);
    const rows = await Promise.all(hubs.map((h) => subscription(h, SUBSCRIBER)));
    const attempts = await allAttempts(hubs[0]!.url, adminToken, webhookId);
    process.stderr.write(
      `[webhooks-replicas] normal operation: ${log.length} events through both replicas, ${receiver.received.length} deliveries, ${new Set(receiver.received.map((d) => d.id)).size} distinct webhook-ids; '${SUBSCRIBER}' ${rows.map((r) => `${r?.state}@${r?.leaseHolder}`).join(' / ')}\n`,
    );

    expect(log.length).toBeGreaterThanOrEqual(LIFECYCLES * 3);
    expect(receiver.received.length).toBe(log.length);
    expect(new Set(receiver.received.map((d) => d.id)).size).toBe(log.length);
    expect(audit.missing).toEqual([]);
    expect(audit.unknown).toEqual([]);
    expect(audit.outOfOrder).toEqual([]);
    expect(audit.repeatsAfterAck).toBe(0);
    expect(audit.idsSharedByPositions).toEqual([]);
    expect(badSignatures.failures).toBe(0);
    // One replica delivers, the other stands by; both name the same holder.
    expect(rows.map((r) => r?.state).sort()).toEqual(['running', 'standby']);
    expect(new Set(rows.map((r) => r?.leaseHolder)).size).toBe(1);
    expect(ids).toContain(rows[0]?.leaseHolder);
    // The attempts log agrees: one try per event, each delivered.
    expect(attempts.map((t) => t.outcome)).toEqual(log.map(() => 'delivered'));
    expect(new Set(attempts.map((t) => t.position)).size).toBe(log.length);
  });

  it('kill -9 of the delivering replica under load: the other takes over, nothing lost, order kept, duplicates only around the kill', async () => {
    const holderId = (await subscription(hubs[0]!, SUBSCRIBER))?.leaseHolder;
    expect(ids).toContain(holderId);
    const holder = hubs[ids.indexOf(holderId!)]!;
    const survivor = hubs.find((h) => h !== holder)!;
    const survivorId = ids[hubs.indexOf(survivor)]!;
    const receivedBefore = receiver.received.length;

    // Commune systems keep writing through the survivor; the holder dies once 500 events are in,
    // and the writing goes on for 8 s after.
    let posted = 0;
    let killedAt = 0;
    let stopAt = Number.POSITIVE_INFINITY;
    const writers = Array.from({ length: WRITERS }, async () => {
      while (Date.now() < stopAt) {
        const events = lifecycle();
        await postLifecycle(survivor.url, token, events);
        posted += events.length;
      }
    });
    const killer = (async () => {
      while (posted < 500) await sleep(5);
      await holder.kill();
      killedAt = Date.now();
      stopAt = killedAt + 8000;
    })();
    await Promise.all([...writers, killer]);

    const log = await allAcknowledged(survivor, receiver, 90_000);
    const audit = auditDeliveries(log, receiver.received);
    const afterKill = receiver.received.filter((d) => d.at > killedAt);
    const takeoverMs = (afterKill[0]?.at ?? Number.NaN) - killedAt;
    const row = await subscription(survivor, SUBSCRIBER);
    // The duplicates: positions acknowledged again after the kill, and when they were first acknowledged.
    const duplicated = audit.positionsAckedTwice.map((p) => ({
      position: p,
      firstAck: audit.firstAck.get(p)!,
    }));
    const earliest = Math.min(...duplicated.map((d) => d.firstAck));
    process.stderr.write(
      [
        `[webhooks-replicas] failover: ${holderId} (lease holder) killed with SIGKILL after ${posted >= 500 ? 500 : posted}+ events of this phase; ${posted} events posted through ${survivorId} in all, log head ${log.length}`,
        `[webhooks-replicas] first delivery by ${survivorId} ${takeoverMs} ms after the kill (lease TTL ${LEASE_TTL_MS} ms); ${receiver.received.length - receivedBefore} deliveries in this phase`,
        `[webhooks-replicas] duplicates: ${audit.repeatsAfterAck} deliveries of ${duplicated.length} positions already acknowledged${duplicated.length ? `, first acknowledged ${killedAt - earliest} ms to ${killedAt - Math.max(...duplicated.map((d) => d.firstAck))} ms before the kill` : ''}`,
        '',
      ].join('\n'),
    );

    expect(audit.missing).toEqual([]);
    expect(audit.unknown).toEqual([]);
    expect(audit.outOfOrder).toEqual([]);
    expect(audit.idsPerPositionAbove1).toEqual([]);
    expect(audit.idsSharedByPositions).toEqual([]);
    expect(badSignatures.failures).toBe(0);
    expect(row).toMatchObject({ state: 'running', leaseHolder: survivorId });
    // The lease lapses TTL after the last renewal, the survivor tries every TTL / 3, then polls.
    expect(takeoverMs).toBeLessThan(LEASE_TTL_MS + LEASE_TTL_MS / 3 + 2000 + POLL_MS);
    // Only deliveries whose acknowledgement the dead replica had not yet written come twice: those
    // acknowledged just before the kill, repeated by the survivor after it.
    for (const d of duplicated) {
      expect(d.firstAck).toBeGreaterThan(killedAt - 5000);
      expect(d.firstAck).toBeLessThanOrEqual(killedAt + 50);
    }
    for (const at of audit.repeatTimes) expect(at).toBeGreaterThan(killedAt);
  }, 240_000);
});
