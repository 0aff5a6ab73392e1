import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import type { StoredEvent } from '#lgsp/event-store';
import { post, statusChanged, submitted } from '../support/events.js';
import {
  createCommuneClient,
  eventually,
  startHubProcess,
  tempDir,
  type HubProcess,
} from '../support/hub-process.js';
import { connectorsConfig, startSimulators, type SimulatorsProcess } from '../support/simulators-process.js';
import { sendJson } from '../support/sim-http.js';

/**
 * Issue 17 part 6: SIGTERM while the connectors have a backlog (the portal down, so its connector
 * waits in retries; births being registered, so the civil registry's poller appends) stops taking new
 * work first, hands back what is in flight, and exits 0 within the 10 s grace period. After a restart
 * nothing acknowledged is lost: every event the hub answered 201 for is in the log, and the connectors
 * deliver the backlog.
 */

const DOSSIERS = 300;
const GRACE_MS = 10_000;
const code = (i: number): string => `000.00.51.H56-251124-${String(200_000 + i)}`;
const REGISTERED = 'vn.gov.lgsp.civil-status.registered.v1';

async function readLog(dataDir: string): Promise<StoredEvent[]> {
  const store = SqliteEventStore.open({ file: `${dataDir}/events.db` });
  try {
    const out: StoredEvent[] = [];
    for (let after = 0; ;) {
      const page = await store.readAll({ after, limit: 1000 });
      if (page.length === 0) return out;
      out.push(...page);
      after = page.at(-1)!.position;
    }
  } finally {
    await store.close();
  }
}

describe('SIGTERM with a connector backlog', () => {
  let sims: SimulatorsProcess;
  let hub: HubProcess | undefined;

  beforeAll(async () => {
    sims = await startSimulators();
  });

  afterAll(async () => {
    await hub?.stop();
    sims?.child.kill('SIGTERM');
  });

  it('stops taking new work, exits 0 within the grace period, and loses nothing acknowledged', async () => {
    await sendJson(sims.urls['civil-registry'], 'PUT', '/_sim/config', {
      seed: 17,
      outcomes: { done: 1, supplement: 0, rejected: 0 },
      processingPolls: { min: 1, max: 1 },
    });
    // Slow systems: the connectors fall behind the ingest.
    for (const name of ['one-stop-shop', 'civil-registry', 'dvclt', 'payments'] as const)
      await sendJson(sims.urls[name], 'PUT', '/_sim/faults', {
        seed: 3,
        latency: { kind: 'uniform', minMs: 20, maxMs: 60 },
      });
    // The portal is down: its connector retries with backoff behind an open circuit.
    await sendJson(sims.urls['national-portal'], 'PUT', '/_sim/faults', {
      seed: 1,
      outage: { forMs: 600_000 },
    });
    const dataDir = tempDir('lgsp-shutdown-e2e-');
    const env = { LGSP_CONFIG: connectorsConfig(dataDir, sims.urls), LGSP_CONNECTORS: 'all' };
    hub = await startHubProcess({ dataDir, env });
    const token = await createCommuneClient(hub, 'e2e-shutdown');

    const acknowledged: string[] = [];
    for (let from = 0; from < DOSSIERS; from += 50) {
      const batch: Record<string, unknown>[] = [];
      for (let i = from; i < from + 50; i++) {
        const sub = submitted(code(i));
        if (i % 2 === 0)
          sub.data = {
            ...(sub.data as Record<string, unknown>),
            civilRegistration: {
              registrationType: 'birth',
              person: { fullName: `Nguyễn Văn Bé ${i}`, dateOfBirth: '2025-11-20', sex: 'male' },
              mother: { fullName: 'Lê Thị Hoà', idNumber: '051190001234' },
            },
          };
        batch.push(sub, statusChanged(code(i), 2), statusChanged(code(i), 4));
      }
      const res = await post(hub.url, token, batch, 'application/cloudevents-batch+json');
      expect(res.status).toBe(201);
      for (const e of batch) acknowledged.push(e.id as string);
    }
    const running = hub;
    // Births are being registered (the poller appends) and the connectors still have a backlog.
    await eventually(async () => {
      const res = await fetch(`${running.url}/v1/events?after=0&limit=1000&type=${REGISTERED}`, {
        headers: { authorization: `Bearer ${running.adminToken}` },
      });
      const registered = ((await res.json()) as { events: unknown[] }).events.length;
      const subs = (await (
        await fetch(`${running.url}/v1/admin/subscriptions`, {
          headers: { authorization: `Bearer ${running.adminToken}` },
        })
      ).json()) as { subscriptions: { name: string; lagEvents: number }[] };
      const backlog = subs.subscriptions.find((s) => s.name === 'connector.portal')?.lagEvents ?? 0;
      return registered >= 5 && backlog > 0 ? true : undefined;
    }, 120_000);

    const signalledAt = Date.now();
    const exitCode = await running.stop();
    const tookMs = Date.now() - signalledAt;
    hub = undefined;
    expect({ exitCode, withinGrace: tookMs < GRACE_MS }).toEqual({ exitCode: 0, withinGrace: true });
    expect(running.output()).not.toContain('shutdown took longer');

    // Nothing was appended once the hub was told to stop, beyond the item in flight (a second's slack).
    const log = await readLog(dataDir);
    const late = log.filter((e) => Date.parse(e.recordedAt) > signalledAt + 1000);
    expect(late.map((e) => e.type)).toEqual([]);
    const ids = new Set(log.map((e) => e.id));
    expect(acknowledged.filter((id) => !ids.has(id))).toEqual([]);

    // Restarted, with the portal back: the backlog is delivered, nothing is missing in the systems.
    await sendJson(sims.urls['national-portal'], 'PUT', '/_sim/faults', { seed: 1 });
    const again = await startHubProcess({ dataDir, env, adminToken: running.adminToken });
    hub = again;
    await eventually(async () => {
      const subs = (await (
        await fetch(`${again.url}/v1/admin/subscriptions`, {
          headers: { authorization: `Bearer ${again.adminToken}` },
        })
      ).json()) as { subscriptions: { lagEvents: number }[] };
      return subs.subscriptions.every((s) => s.lagEvents === 0) ? true : undefined;
    }, 180_000);
    const portal = (await (await fetch(`${sims.urls['national-portal']}/_sim/state`)).json()) as {
      dossiers: { MaHoSo: string }[];
    };
    const held = new Set(portal.dossiers.map((d) => d.MaHoSo));
    const missing = Array.from({ length: DOSSIERS }, (_, i) => code(i)).filter((c) => !held.has(c));
    expect(missing).toEqual([]);
  }, 400_000);
});
