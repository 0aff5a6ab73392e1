import { getJson } from '../support/events.js';
import { recoveryDisabled, runFault } from '../support/fault-verdict.js';
import {
  createCommuneClient,
  eventually,
  startHubProcess,
  tempDir,
  type HubProcess,
} from '../support/hub-process.js';
import { startPostgresCluster, type PostgresCluster } from '../support/postgres-cluster.js';
import { lifecycle, readLog, sleep } from '../support/webhook-audit.js';

// Issue 18, fault suite: the hub's PostgreSQL server crashes (SIGKILL to the postmaster and its
// children) under load and is started again (crash recovery). The server is a cluster of the test's
// own (test/support/postgres-cluster.ts), never the shared one. While it is down, writes are refused
// with a 503 problem; afterwards every acknowledged event is in the log, writes are accepted again
// and every subscriber catches up, without restarting the hub.
// Recovery disabled: the server is not started again.

const FAULT = 'postgres-restart';
const WRITERS = 4;
const TRAFFIC_MS = 25_000;
const DOWN_AT_MS = 6_000;
const DOWN_FOR_MS = 5_000;

describe('fault: PostgreSQL crashed and restarted under load', () => {
  let hub: HubProcess | undefined;
  let cluster: PostgresCluster | undefined;
  afterAll(async () => {
    await hub?.stop();
    await cluster?.destroy();
  });

  it('refuses writes with a 503 while it is down, loses no acknowledged event, and resumes by itself', async () => {
    await runFault(FAULT, async (v) => {
      cluster = await startPostgresCluster();
      const pgServer = cluster;
      hub = await startHubProcess({
        dataDir: tempDir('lgsp-fault-pg-'),
        env: { LGSP_STORE: pgServer.url, LGSP_POSTGRES_SCHEMA: 'fault_pg' },
      });
      const current = hub;
      const token = await createCommuneClient(current, 'fault-pg', '21040', [
        '--rate-limit',
        '10000',
        '--burst',
        '10000',
      ]);
      const acknowledged = new Set<string>();
      const answers = new Map<string, number>();
      const otherwise: string[] = [];
      let lastRefusedAt = 0;
      let upAt = 0;
      const t0 = Date.now();
      const outage = (async () => {
        await sleep(DOWN_AT_MS);
        await pgServer.kill();
        await sleep(DOWN_FOR_MS);
        if (recoveryDisabled(FAULT)) return;
        await pgServer.start();
        upAt = Date.now();
      })();
      await Promise.all([
        outage,
        ...Array.from({ length: WRITERS }, async () => {
          while (Date.now() < t0 + TRAFFIC_MS) {
            for (const e of lifecycle()) {
              const res = await fetch(`${current.url}/v1/events`, {
                method: 'POST',
                headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${token}` },
                body: JSON.stringify(e),
              });
              const body = (await res.json()) as { type?: string };
              answers.set(String(res.status), (answers.get(String(res.status)) ?? 0) + 1);
              if (res.status === 201) {
                acknowledged.add(e.id as string);
                continue;
              }
              lastRefusedAt = Date.now();
              const problem = res.headers.get('content-type')?.startsWith('application/problem+json');
              if (res.status !== 503 || !problem || !body.type?.endsWith('/unavailable'))
                otherwise.push(`${res.status} ${JSON.stringify(body)}`);
              await sleep(200);
              break;
            }
          }
        }),
      ]);
      v.inject(
        `the hub's PostgreSQL server (a cluster of the test's own) SIGKILLed at t+${DOWN_AT_MS / 1000} s and started again ${DOWN_FOR_MS / 1000} s later (crash recovery), ${WRITERS} connections posting lifecycles for ${TRAFFIC_MS / 1000} s`,
      );
      if (recoveryDisabled(FAULT)) v.inject('recovery disabled: the server not started again');
      v.check(
        'writes refused only with a 503 problem while it was down',
        (answers.get('503') ?? 0) > 0 && otherwise.length === 0,
        `answers ${JSON.stringify(Object.fromEntries(answers))}${otherwise.length ? `; otherwise: ${otherwise[0]}` : ''}`,
      );
      v.check(
        'writes accepted again after the restart, without restarting the hub',
        upAt > 0 && lastRefusedAt < t0 + TRAFFIC_MS - 3000,
        `last refusal ${((lastRefusedAt - upAt) / 1000).toFixed(1)} s after the server was up`,
      );
      if (recoveryDisabled(FAULT)) return; // the log cannot be read without its server
      const log = await readLog(current.url, current.adminToken);
      const ids = new Set<string>();
      for (let after = 0; ;) {
        const page = await getJson(`${current.url}/v1/events?after=${after}&limit=1000`, current.adminToken);
        const events = page.body.events as { event: { id: string } }[];
        if (events.length === 0) break;
        for (const e of events) ids.add(e.event.id);
        after = page.body.next as number;
      }
      const missing = [...acknowledged].filter((id) => !ids.has(id));
      v.check(
        'every acknowledged event in the log, positions increasing',
        missing.length === 0 && log.every((e, i) => i === 0 || e.position > log[i - 1]!.position),
        `${acknowledged.size} acknowledged, ${log.length} in the log, ${missing.length} missing`,
      );
      let lags: Record<string, number> = {};
      const caughtUp = await eventually(async () => {
        const subs = await getJson(`${current.url}/v1/admin/subscriptions`, current.adminToken);
        const list = subs.body.subscriptions as { name: string; lagEvents: number }[];
        lags = Object.fromEntries(list.map((s) => [s.name, s.lagEvents]));
        return list.every((s) => s.lagEvents === 0) ? true : undefined;
      }, 60_000).catch(() => false);
      v.check('every subscriber caught up', caughtUp, `lag ${JSON.stringify(lags)}`);
    });
  }, 300_000);
});
