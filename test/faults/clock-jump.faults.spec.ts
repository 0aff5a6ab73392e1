import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getJson } from '../support/events.js';
import { runFault } from '../support/fault-verdict.js';
import {
  REPO_ROOT,
  createCommuneClient,
  eventually,
  startHubProcess,
  tempDir,
  type HubProcess,
} from '../support/hub-process.js';
import { POSTGRES_URL, dropSchema, schemaName } from '../support/postgres.js';
import {
  auditDeliveries,
  createWebhook,
  lifecycle,
  postLifecycle,
  readLog,
  sleep,
} from '../support/webhook-audit.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

// Issue 18, fault suite: the wall clock of a hub process jumps (two hours forward, then two hours
// back past the true time, then right) while it holds the subscribers' leases on PostgreSQL, a
// second replica standing by, and while a webhook receiver refuses deliveries so that retries are
// pending across the jumps. Leases must keep one holder at a time (the order per dossier is kept,
// nothing delivered twice after an acknowledgement), and the retries must neither fire all at once
// nor wait out the jump: every event is delivered shortly after the receiver comes back.
// The recovery mechanism is in the code, not a setting: webhook tries are never waited for longer
// than the retry schedule's longest delay (libs/webhooks/src/delivery.ts). Without it (before that
// change), a retry pending when the clock stepped back waited for the size of the step: 261 of 3249
// events were not delivered 30 s after the traffic. The lease keeper times leases by the monotonic
// clock, which a wall-clock step does not move.

const FAULT = 'clock-jump';
const HOUR = 3_600_000;
const LEASE_TTL_MS = 3000;
/** [ms after the traffic starts, clock offset from then on]. */
const JUMPS: [number, number][] = [
  [6_000, 2 * HOUR],
  [14_000, -2 * HOUR],
  [22_000, 0],
];
/** The receiver answers 503 in these windows [from, to) ms after the traffic starts: retries pending over each jump. */
const REFUSING: [number, number][] = [
  [4_000, 8_000],
  [12_000, 16_000],
  [20_000, 24_000],
];
const TRAFFIC_MS = 28_000;
const WRITERS = 4;
/** After the traffic, the receiver must have everything within this. */
const CATCH_UP_MS = 60_000;

describe('fault: the clock of the lease-holding hub process jumps', () => {
  const schema = schemaName('fault_clock');
  const hubs: HubProcess[] = [];
  let receiver: WebhookReceiver | undefined;
  afterAll(async () => {
    for (const h of hubs) await h.stop();
    await receiver?.down();
    await dropSchema(schema);
  });

  it('keeps one lease holder and delivers every event in order, the retries neither stalled nor rushed', async () => {
    await runFault(FAULT, async (v) => {
      const dir = tempDir('lgsp-fault-clock-');
      const offsetFile = join(dir, 'clock-offset');
      writeFileSync(offsetFile, '0');
      const config = join(dir, 'hub.json');
      writeFileSync(
        config,
        JSON.stringify({
          webhooks: { retryDelaysSeconds: [1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], pollMs: 200 },
        }),
      );
      const adminToken = 'fault-clock-admin-token';
      const replica = (
        id: string,
        env: Record<string, string> = {},
        nodeArgs: string[] = [],
      ): Promise<HubProcess> =>
        startHubProcess({
          dataDir: tempDir(`lgsp-fault-clock-${id}-`),
          adminToken,
          nodeArgs,
          env: {
            LGSP_STORE: POSTGRES_URL,
            LGSP_POSTGRES_SCHEMA: schema,
            LGSP_INSTANCE_ID: id,
            LGSP_LEASE_TTL_MS: String(LEASE_TTL_MS),
            LGSP_CONFIG: config,
            LGSP_WEBHOOKS_ALLOW_INSECURE: 'true',
            ...env,
          },
        });
      // The first replica started takes the leases; its clock is the one that jumps.
      const jumping = await replica('hub-jumping', { LGSP_TEST_CLOCK_OFFSET_FILE: offsetFile }, [
        '--import',
        join(REPO_ROOT, 'test/support/clock-jump.mjs'),
      ]);
      hubs.push(jumping);
      const token = await createCommuneClient(jumping, 'fault-clock', '21040', [
        '--rate-limit',
        '10000',
        '--burst',
        '10000',
      ]);
      let refusing = false;
      receiver = await WebhookReceiver.start(() => (refusing ? 503 : 204));
      const webhook = await createWebhook(jumping.url, adminToken, receiver.url, 'fault-clock');
      const standby = await replica('hub-standby');
      hubs.push(standby);
      /** The subscribers `h` reports running (it holds their lease). */
      const running = async (h: HubProcess): Promise<Set<string>> => {
        const r = await getJson(`${h.url}/v1/admin/subscriptions`, adminToken);
        const list = r.body.subscriptions as { name: string; state: string }[];
        return new Set(list.filter((x) => x.state === 'running').map((x) => x.name));
      };
      v.inject(
        `two hub replicas on one PostgreSQL schema (lease TTL ${LEASE_TTL_MS} ms); the wall clock of the one holding the leases set to ${JUMPS.map(([at, o]) => `${o / HOUR >= 0 ? '+' : ''}${o / HOUR} h at t+${at / 1000} s`).join(', ')}; the webhook receiver answering 503 during ${REFUSING.map(([a, b]) => `t+${a / 1000}-${b / 1000} s`).join(', ')}; ${WRITERS} connections posting lifecycles for ${TRAFFIC_MS / 1000} s`,
      );
      const t0 = Date.now();
      const timeline = (async () => {
        const steps = [
          ...JUMPS.map(([at, offset]) => [at, () => writeFileSync(offsetFile, String(offset))] as const),
          ...REFUSING.flatMap(([from, to]) => [
            [from, () => (refusing = true)] as const,
            [to, () => (refusing = false)] as const,
          ]),
        ].sort((a, b) => a[0] - b[0]);
        for (const [at, step] of steps) {
          await sleep(t0 + at - Date.now());
          step();
        }
      })();
      /**
       * Subscribers seen running in both replicas at two polls in a row (250 ms apart): a lease
       * lasts 3 s, so two holders delivering would show at both; a replica that has just started
       * may report one subscriber running for a single poll before it stands by.
       */
      const doubleHolders: string[] = [];
      let polls = 0;
      let single = 0;
      const poll = (async () => {
        let previous = new Set<string>();
        while (Date.now() < t0 + TRAFFIC_MS) {
          const [a, b] = await Promise.all(hubs.map(running));
          polls++;
          const both = new Set([...a!].filter((n) => b!.has(n)));
          for (const name of both)
            if (previous.has(name))
              doubleHolders.push(`${name} at t+${Math.round((Date.now() - t0) / 1000)} s`);
            else single++;
          previous = both;
          await sleep(250);
        }
      })();
      await Promise.all([
        timeline,
        poll,
        ...Array.from({ length: WRITERS }, async () => {
          while (Date.now() < t0 + TRAFFIC_MS) await postLifecycle(standby.url, token, lifecycle());
        }),
      ]);
      const trafficEnd = Date.now();

      const log = await readLog(standby.url, adminToken);
      const acked = (): Set<number> => new Set(receiver!.acknowledged.map((d) => d.event.lgspposition));
      // One set per poll: a set per position made this poll quadratic, and it ran in the receiver's
      // process, which then answered late (the hub timed out and sent again).
      const all = await eventually(async () => {
        const positions = acked();
        return log.every((e) => positions.has(e.position)) ? true : undefined;
      }, CATCH_UP_MS).catch(() => false);
      const caughtUpS = ((Date.now() - trafficEnd) / 1000).toFixed(1);
      const audit = auditDeliveries(log, receiver.received);
      const refusedAnswers = receiver.received.filter((d) => d.answered === 503);
      const refusingMs = REFUSING.reduce((sum, [a, b]) => sum + (b - a), 0);
      const view = (await getJson(`${standby.url}/v1/webhooks/${webhook.id}`, adminToken)).body as {
        webhook?: { state?: string };
      };

      v.check(
        'one lease holder at a time (no subscriber running in both replicas)',
        doubleHolders.length === 0,
        `${polls} polls of both replicas, ${doubleHolders.length} with two holders at two polls in a row (${single} at a single poll)${doubleHolders.length ? `: ${doubleHolders.slice(0, 3).join(', ')}` : ''}`,
      );
      v.check(
        `every event delivered within ${CATCH_UP_MS / 1000} s of the traffic's end (retries not stalled by a jump)`,
        all === true && audit.missing.length === 0,
        `${log.length} events, ${audit.missing.length} never acknowledged, all in ${caughtUpS} s`,
      );
      v.check(
        'each dossier in order, nothing delivered again after an acknowledgement',
        audit.outOfOrder.length === 0 && audit.repeatsAfterAck === 0,
        `${audit.outOfOrder.length} out of order, ${audit.repeatsAfterAck} repeats after an acknowledgement`,
      );
      v.check(
        'retries were pending across the jumps (the receiver refused tries)',
        refusedAnswers.length > 0,
        `${refusedAnswers.length} tries answered 503 over ${refusingMs / 1000} s of refusal`,
      );
      v.check(
        'the webhook still active',
        view.webhook?.state === 'active',
        `state ${String(view.webhook?.state)}`,
      );
    });
  }, 300_000);
});
