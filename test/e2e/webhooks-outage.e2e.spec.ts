import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getJson } from '../support/events.js';
import { createCommuneClient, startHubProcess, tempDir, type HubProcess } from '../support/hub-process.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import {
  acknowledgedPositions,
  allAttempts,
  auditDeliveries,
  createWebhook,
  lifecycle,
  percentile,
  postLifecycle,
  readLog,
  sleep,
  verifyOnArrival,
  type Attempt,
  type LoggedEvent,
} from '../support/webhook-audit.js';

// Acceptance "Outage" of issue 15: one hub, two filter-less webhooks, dossier lifecycles flowing;
// receiver A goes down for two minutes and comes back on the same port; receiver B stays up.

const LIFECYCLES = 2000;
const WRITERS = 16;
const BASELINE_MS = 20_000;
const OUTAGE_MS = 120_000;
const AFTER_MS = 20_000;
/** Lifecycles start evenly over the baseline, the outage and the time after it. */
const TRAFFIC_MS = BASELINE_MS + OUTAGE_MS + AFTER_MS;
/** Retries every 10 s at most: about 230 s nominal (≥ 184 s with the jitter), more than the outage. */
const RETRY_DELAYS_SECONDS = [1, 2, 5, ...Array.from({ length: 22 }, () => 10)];
const CATCH_UP_TIMEOUT_MS = 120_000;

const ms = (v: number): string => `${Math.round(v)} ms`;

describe('webhooks: a receiver down for two minutes under traffic', () => {
  let hub: HubProcess | undefined;
  const receivers: WebhookReceiver[] = [];

  afterAll(async () => {
    await hub?.stop();
    for (const r of receivers) await r.down();
  });

  it(
    'delivers every event to both receivers, in order per dossier, repeats under one webhook-id, and the receiver that stayed up is not held back',
    async () => {
      const dataDir = tempDir('lgsp-wh-outage-');
      const config = join(dataDir, 'hub.json');
      writeFileSync(
        config,
        JSON.stringify({ webhooks: { retryDelaysSeconds: RETRY_DELAYS_SECONDS, pollMs: 200 } }),
      );
      hub = await startHubProcess({
        dataDir,
        env: { LGSP_CONFIG: config, LGSP_WEBHOOKS_ALLOW_INSECURE: 'true' },
      });
      const token = await createCommuneClient(hub, 'commune-wh-outage');

      const a = await WebhookReceiver.start();
      const b = await WebhookReceiver.start();
      receivers.push(a, b);
      const whA = await createWebhook(hub.url, hub.adminToken, a.url, 'receiver A (goes down)');
      const whB = await createWebhook(hub.url, hub.adminToken, b.url, 'receiver B (stays up)');
      const badA = verifyOnArrival(a, whA.secret);
      const badB = verifyOnArrival(b, whB.secret);

      // Commune systems: WRITERS connections, lifecycle i starting at t0 + i × interval.
      const interval = TRAFFIC_MS / LIFECYCLES;
      const t0 = Date.now();
      let next = 0;
      let posted = 0;
      const writer = async (): Promise<void> => {
        for (let i = next++; i < LIFECYCLES; i = next++) {
          await sleep(t0 + i * interval - Date.now());
          const events = lifecycle();
          await postLifecycle(hub!.url, token, events);
          posted += events.length;
        }
      };
      let outageStart = 0;
      let outageEnd = 0;
      let postedBeforeOutage = 0;
      let postedDuringOutage = 0;
      const outage = async (): Promise<void> => {
        await sleep(t0 + BASELINE_MS - Date.now());
        postedBeforeOutage = posted;
        await a.down();
        outageStart = Date.now();
        // A timer may fire a millisecond early by the wall clock: wait until the clock says so.
        while (Date.now() < outageStart + OUTAGE_MS) await sleep(outageStart + OUTAGE_MS - Date.now() + 1);
        await a.up();
        outageEnd = Date.now();
        postedDuringOutage = posted - postedBeforeOutage;
      };
      await Promise.all([...Array.from({ length: WRITERS }, writer), outage()]);
      const trafficEnd = Date.now();

      // Both receivers catch up with the whole log.
      const log = await readLog(hub.url, hub.adminToken);
      expect(log).toHaveLength(posted);
      const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
      for (;;) {
        const [ackA, ackB] = [acknowledgedPositions(a), acknowledgedPositions(b)];
        if (log.every((e) => ackA.has(e.position) && ackB.has(e.position))) break;
        if (Date.now() > deadline) {
          const view = await getJson(`${hub.url}/v1/webhooks/${whA.id}`, hub.adminToken);
          throw new Error(
            `not every event delivered ${CATCH_UP_TIMEOUT_MS} ms after the traffic: A ${ackA.size}, B ${ackB.size} of ${log.length}; A: ${JSON.stringify(view.body)}`,
          );
        }
        await sleep(500);
      }
      const caughtUp = Date.now();

      const byPosition = new Map<number, LoggedEvent>(log.map((e) => [e.position, e]));
      const auditA = auditDeliveries(log, a.received);
      const auditB = auditDeliveries(log, b.received);

      // When A had acknowledged everything recorded before it came back.
      const beforeUp = log.filter((e) => Date.parse(e.recordedAt) < outageEnd);
      const aBacklogDone = Math.max(...beforeUp.map((e) => auditA.firstAck.get(e.position) ?? Infinity));

      // B's lag: first acknowledgement minus the event's recordedAt, by when the event was recorded.
      const lagB = { baseline: [] as number[], outage: [] as number[], after: [] as number[] };
      for (const [position, at] of auditB.firstAck) {
        const recorded = Date.parse(byPosition.get(position)!.recordedAt);
        const phase = recorded < outageStart ? 'baseline' : recorded < outageEnd ? 'outage' : 'after';
        lagB[phase].push(at - recorded);
      }
      const lagA = [...auditA.firstAck].map(([p, at]) => at - Date.parse(byPosition.get(p)!.recordedAt));

      // Every try A's endpoint got (the refused ones too), from the attempts log (its lines are
      // written shortly after the answers: wait until the last deliveries have theirs).
      let attempts = await allAttempts(hub.url, hub.adminToken, whA.id);
      for (
        let wait = 0;
        attempts.filter((t) => t.outcome === 'delivered').length < log.length && wait < 50;
        wait++
      ) {
        await sleep(100);
        attempts = await allAttempts(hub.url, hub.adminToken, whA.id);
      }
      const triesByPosition = new Map<number, Attempt[]>();
      for (const t of attempts)
        triesByPosition.set(t.position, [...(triesByPosition.get(t.position) ?? []), t]);
      const retried = [...triesByPosition].filter(([, tries]) => tries.length > 1);
      const receivedIdOf = new Map(a.acknowledged.map((d) => [d.event.lgspposition, d.id]));
      const idMismatches = retried
        .filter(([p, tries]) => tries.some((t) => t.messageId !== receivedIdOf.get(p)))
        .map(
          ([p, tries]) =>
            `${p}: tries ${[...new Set(tries.map((t) => t.messageId))].join(',')} received ${receivedIdOf.get(p)}`,
        );
      const outcomes = new Map<string, number>();
      for (const t of attempts) outcomes.set(t.outcome, (outcomes.get(t.outcome) ?? 0) + 1);

      const viewA = (await getJson(`${hub.url}/v1/webhooks/${whA.id}`, hub.adminToken)).body
        .webhook as Record<string, unknown>;
      const viewB = (await getJson(`${hub.url}/v1/webhooks/${whB.id}`, hub.adminToken)).body
        .webhook as Record<string, unknown>;

      const stats = (v: number[]) =>
        `n ${v.length}, p50 ${ms(percentile(v, 50))}, p99 ${ms(percentile(v, 99))}, max ${ms(Math.max(...v))}`;
      process.stderr.write(
        [
          `[webhooks-outage] injected: ${LIFECYCLES} lifecycles (${log.length} events, ${new Set(log.map((e) => e.stream)).size} dossiers) over ${ms(trafficEnd - t0)} by ${WRITERS} connections; receiver A down ${ms(outageEnd - outageStart)} (from t0+${ms(outageStart - t0)}), ${postedBeforeOutage} events posted before, ${postedDuringOutage} during`,
          `[webhooks-outage] A: ${a.received.length} deliveries received, ${auditA.firstAck.size} positions acknowledged, ${attempts.length} tries logged (${JSON.stringify(Object.fromEntries(outcomes))}), ${retried.length} positions tried more than once (max ${Math.max(0, ...retried.map(([, t]) => t.length))} tries), backlog acknowledged ${ms(aBacklogDone - outageEnd)} after it came back, every event of A and B ${ms(caughtUp - trafficEnd)} after the traffic`,
          `[webhooks-outage] A lag (receive − recordedAt): ${stats(lagA)}`,
          `[webhooks-outage] B lag baseline (recorded before the outage): ${stats(lagB.baseline)}`,
          `[webhooks-outage] B lag while A was down:                     ${stats(lagB.outage)}`,
          `[webhooks-outage] B lag after A came back (A catching up):     ${stats(lagB.after)}`,
          `[webhooks-outage] signatures not verified: A ${badA.failures}, B ${badB.failures}; repeats after an acknowledgement: A ${auditA.repeatsAfterAck}, B ${auditB.repeatsAfterAck}`,
          '',
        ].join('\n'),
      );

      expect(log.length).toBeGreaterThanOrEqual(LIFECYCLES * 3);
      expect(outageEnd - outageStart).toBeGreaterThanOrEqual(OUTAGE_MS);
      expect(postedDuringOutage).toBeGreaterThan(0);
      for (const audit of [auditA, auditB]) {
        expect(audit.missing).toEqual([]);
        expect(audit.unknown).toEqual([]);
        expect(audit.outOfOrder).toEqual([]);
        expect(audit.idsPerPositionAbove1).toEqual([]);
        expect(audit.idsSharedByPositions).toEqual([]);
      }
      // One process, never killed: an acknowledgement is written, so nothing is acknowledged twice.
      expect(auditA.positionsAckedTwice).toEqual([]);
      expect(auditB.positionsAckedTwice).toEqual([]);
      expect(b.received.length).toBe(log.length);
      expect(badA.failures).toBe(0);
      expect(badB.failures).toBe(0);

      // The outage made A's endpoint retry, each repeat under the webhook-id it finally received.
      expect(retried.length).toBeGreaterThan(0);
      expect(idMismatches).toEqual([]);
      expect(outcomes.get('delivered')).toBe(log.length);
      expect(outcomes.get('parked') ?? 0).toBe(0);
      expect(outcomes.get('disabled') ?? 0).toBe(0);
      for (const view of [viewA, viewB])
        expect(view).toMatchObject({ state: 'active', parked: 0, pending: 0, checkpoint: log.length });

      // B saw no delay beyond its own lag while A was down, nor while A caught up.
      expect(lagB.outage.length).toBeGreaterThan(0);
      expect(percentile(lagB.outage, 99)).toBeLessThan(2000);
      expect(percentile(lagB.after, 99)).toBeLessThan(2000);
    },
    10 * 60_000,
  );
});
