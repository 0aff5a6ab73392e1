import { randomInt } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { post, submitted } from '../support/events.js';
import {
  REPO_ROOT,
  createCommuneClient,
  eventually,
  runCli,
  startHubProcess,
  tempDir,
  type HubProcess,
} from '../support/hub-process.js';
import { sendJson } from '../support/sim-http.js';
import { startSimulators, type SimulatorsProcess } from '../support/simulators-process.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * The metrics an operator watches, read from a hub process whose portal connector calls the portal
 * simulator (slow, then failing) and whose webhook delivers to a local receiver; and the Grafana
 * dashboard of `deploy/grafana`, whose every query must name metrics this hub exports.
 */

/** A dossier code the portal accepts (its pattern ends in 4 to 6 digits). */
const portalCode = (): string => `000.00.51.H56-251123-${String(randomInt(100_000, 999_999))}`;
const DASHBOARD = join(REPO_ROOT, 'deploy/grafana/lgsp-hub.json');

/** The value of one sample line `name{labels} value` of the scrape; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

/**
 * The names a scrape offers a query: each `# TYPE` family, and for a histogram its `_bucket`, `_sum`
 * and `_count` series (a summary: `_sum`, `_count`).
 */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
]);

/**
 * The metric names a PromQL expression reads: label matchers, ranges, strings, grouping clauses and
 * function calls removed, every identifier left is a metric name.
 */
function metricNamesOf(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$[a-zA-Z_]\w*/g, ' ');
  const names: string[] = [];
  for (const m of stripped.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, word, call] = m as unknown as [string, string, string | undefined];
    if (call !== undefined || PROMQL_WORDS.has(word)) continue;
    names.push(word);
  }
  return names;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; datasource?: { uid: string } }[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
}

describe('metrics of connectors, webhooks, reconciliation and replay, on a hub process', () => {
  let sims: SimulatorsProcess;
  let hub: HubProcess;
  let receiver: WebhookReceiver;
  const receivers: WebhookReceiver[] = [];
  let token: string;
  let cli: Record<string, string>;
  const portal = () => sims.urls['national-portal'];
  let lastScrape = 0;
  /** Scrapes at most every 150 ms, as Prometheus does at its interval: under the /metrics rate limit (10/s). */
  const scrape = async (): Promise<string> => {
    const wait = lastScrape + 150 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    lastScrape = Date.now();
    const res = await fetch(`${hub.url}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };
  const ingest = async (codes: string[]): Promise<void> => {
    const res = await post(
      hub.url,
      token,
      codes.map((c) => submitted(c)),
      'application/cloudevents-batch+json',
    );
    expect(res.status).toBe(201);
  };

  beforeAll(async () => {
    sims = await startSimulators();
    // Slow: every portal call takes 80 to 120 ms.
    await sendJson(portal(), 'PUT', '/_sim/faults', {
      seed: 17,
      latency: { kind: 'uniform', minMs: 80, maxMs: 120 },
      errorRate: 0,
    });
    const dir = tempDir('lgsp-metrics-e2e-');
    const config = join(dir, 'hub.json');
    writeFileSync(
      config,
      JSON.stringify({
        connectors: {
          breaker: { failureThreshold: 3, coolDownMs: 400 },
          // 4 calls a second: a batch of dossiers queues for the rate limit.
          portal: { url: portal(), ratePerSecond: 4, maxAttempts: 2, onlineCapture: { enabled: false } },
        },
        webhooks: { retryDelaysSeconds: [0.2], jitter: 0, pollMs: 100 },
      }),
    );
    hub = await startHubProcess({
      dataDir: dir,
      env: { LGSP_CONFIG: config, LGSP_CONNECTORS: 'portal', LGSP_WEBHOOKS_ALLOW_INSECURE: 'true' },
    });
    cli = { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken };
    token = await createCommuneClient(hub, 'metrics-commune');
    receiver = await WebhookReceiver.start();
  }, 60_000);

  afterAll(async () => {
    await hub?.stop();
    await receiver?.down();
    for (const r of receivers) await r.down();
    sims?.child.kill('SIGTERM');
  });

  it('counts, times and rate-limits the calls to a slow portal and to a webhook; opens the circuit and holds the dossiers when the portal fails', async () => {
    const created = await fetch(`${hub.url}/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, ratePerSecond: 2 }),
    });
    expect(created.status).toBe(201);
    const webhook = ((await created.json()) as { webhook: { id: string } }).webhook.id;
    // A second endpoint always answers 503: retried, then parked per dossier, and shown failing.
    const refusing = await WebhookReceiver.start(() => 503);
    receivers.push(refusing);
    const createdFailing = await fetch(`${hub.url}/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: refusing.url }),
    });
    expect(createdFailing.status).toBe(201);
    const failingWebhook = ((await createdFailing.json()) as { webhook: { id: string } }).webhook.id;

    const codes = Array.from({ length: 6 }, portalCode);
    await ingest(codes);
    let text = await eventually(async () => {
      const t = await scrape();
      return (sample(t, `lgsp_webhook_deliveries_total{webhook="${webhook}",outcome="delivered"}`) ?? 0) >=
        6 && (sample(t, 'lgsp_subscriber_lag_events{subscriber="connector.portal"}') ?? 1) === 0
        ? t
        : undefined;
    }, 30_000);

    const ok = sample(text, 'lgsp_connector_calls_total{target="portal",operation="sync",outcome="ok"}') ?? 0;
    expect(ok).toBeGreaterThanOrEqual(6);
    const count = sample(text, 'lgsp_connector_call_seconds_count{target="portal",operation="sync"}') ?? 0;
    const sum = sample(text, 'lgsp_connector_call_seconds_sum{target="portal",operation="sync"}') ?? 0;
    expect(count).toBe(ok);
    // The simulator's latency shows in the histogram: no call faster than 80 ms.
    expect(sum / count).toBeGreaterThanOrEqual(0.075);
    expect(
      sample(text, 'lgsp_connector_call_seconds_bucket{le="0.05",target="portal",operation="sync"}'),
    ).toBe(0);
    expect(sample(text, 'lgsp_connector_rate_limit_wait_seconds_count{target="portal"}')).toBeGreaterThan(0);
    expect(sample(text, 'lgsp_connector_circuit_state{target="portal",state="closed"}')).toBe(1);
    expect(sample(text, 'lgsp_connector_parked_dossiers{target="portal"}')).toBe(0);
    expect(sample(text, `lgsp_webhook_delivery_seconds_count{webhook="${webhook}"}`)).toBeGreaterThanOrEqual(
      6,
    );
    expect(sample(text, `lgsp_webhook_rate_limit_wait_seconds_count{webhook="${webhook}"}`)).toBeGreaterThan(
      0,
    );
    expect(sample(text, `lgsp_webhook_failing{webhook="${webhook}"}`)).toBe(0);
    text = await eventually(async () => {
      const t = await scrape();
      return (sample(t, `lgsp_webhook_parked_dossiers{webhook="${failingWebhook}"}`) ?? 0) >= 1
        ? t
        : undefined;
    }, 30_000);
    expect(sample(text, `lgsp_webhook_failing{webhook="${failingWebhook}"}`)).toBe(1);
    expect(
      sample(text, `lgsp_webhook_deliveries_total{webhook="${failingWebhook}",outcome="retry"}`),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'lgsp_http_request_duration_seconds_count{method="POST",route="/v1/events",status="201"}'),
    ).toBe(1);

    // Reads by dossier are labelled by the route pattern, never by the code.
    const read = await fetch(`${hub.url}/v1/dossiers/${codes[0]}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(read.status).toBe(200);
    await fetch(`${hub.url}/v1/no-such-route/${codes[1]}`);

    // A status changed behind the hub's back: the reconciliation finds it, the replay fixes it.
    await sendJson(portal(), 'POST', '/_sim/tamper', { dossier: codes[2], set: { TrangThaiHoSo: 2 } });
    const run = await runCli(['reconcile', 'run', '--target', 'portal', '--json'], cli);
    expect(run.code).toBe(5);
    const runId = (JSON.parse(run.stdout) as { run: { id: string } }).run.id;
    text = await scrape();
    expect(sample(text, 'lgsp_reconciliation_mismatches{target="portal",category="wrong-field"}')).toBe(1);
    expect(sample(text, 'lgsp_reconciliation_mismatches{target="portal",category="stale-status"}')).toBe(0);
    const replay = await runCli(
      ['replay', 'run', '--target', 'portal', '--from-reconciliation', runId, '--json'],
      cli,
    );
    expect(replay.code).toBe(0);
    text = await scrape();
    expect(sample(text, 'lgsp_replay_items{target="portal",kind="total"}')).toBe(1);
    expect(sample(text, 'lgsp_replay_items{target="portal",kind="done"}')).toBe(1);
    expect(sample(text, 'lgsp_replay_state{target="portal",state="completed"}')).toBe(1);
    expect(sample(text, 'lgsp_replay_state{target="portal",state="running"}')).toBe(0);

    // Failing: every call answers 5xx, the circuit opens. An outage holds the dossiers (a failed trial
    // call of the half-open circuit is not one of a dossier's attempts, see TargetGate): a dossier parks
    // only if it failed maxAttempts times while the circuit was closed, which the order of the calls
    // decides; the parked gauge is exported either way.
    await sendJson(portal(), 'PUT', '/_sim/faults', { seed: 18, errorRate: 1 });
    const failing = Array.from({ length: 3 }, portalCode);
    await ingest(failing);
    text = await eventually(async () => {
      const t = await scrape();
      const open =
        (sample(t, 'lgsp_connector_circuit_state{target="portal",state="open"}') ?? 0) +
        (sample(t, 'lgsp_connector_circuit_state{target="portal",state="half-open"}') ?? 0);
      const unavailable =
        sample(t, 'lgsp_connector_calls_total{target="portal",operation="sync",outcome="unavailable"}') ?? 0;
      return open === 1 && unavailable >= 3 ? t : undefined;
    }, 30_000);
    expect(sample(text, 'lgsp_connector_parked_dossiers{target="portal"}')).toBeLessThanOrEqual(3);
    expect(
      sample(text, 'lgsp_connector_calls_total{target="portal",operation="sync",outcome="unavailable"}'),
    ).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'lgsp_connector_circuit_state{target="portal",state="closed"}')).toBe(0);
    expect(
      (sample(text, 'lgsp_connector_circuit_state{target="portal",state="open"}') ?? 0) +
        (sample(text, 'lgsp_connector_circuit_state{target="portal",state="half-open"}') ?? 0),
    ).toBe(1);

    // No dossier code, name or citizen ID in any series (names and labels; values are numbers).
    const series = text
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .map((l) => l.replace(/ [^ ]+$/, ''))
      .join('\n');
    expect(series).toContain('route="/v1/dossiers/:dossierCode"');
    expect(series).toContain('route="unmatched"');
    for (const code of [...codes, ...failing]) expect(series).not.toContain(code);
    expect(series).not.toMatch(/Nguyễn|051190001234|H56-/);
    // Node's default metrics under their standard names, as stock dashboards expect.
    expect(series).toMatch(/^process_cpu_user_seconds_total$/m);
    expect(series).not.toMatch(/^lgsp_(process|nodejs)_/m);
  }, 120_000);

  it('ships a Grafana dashboard whose every query reads a metric this hub exports', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
    expect(dashboard).toMatchObject({ uid: 'lgsp-hub', title: 'lgsp-hub' });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets?.length).toBeGreaterThan(0);
    }
    const exported = exportedNames(await scrape());
    const queries = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr }))),
      ...dashboard.templating.list
        .filter((v) => v.type === 'query')
        .map((v) => ({ where: `$${v.name}`, expr: (v.query as { query: string }).query })),
    ];
    expect(queries.length).toBeGreaterThan(20);
    const used = new Set<string>();
    const unknown: string[] = [];
    for (const { where, expr } of queries) {
      const names = metricNamesOf(expr.replace(/^label_values\((\w+),\s*\w+\)$/, '$1'));
      expect([where, names.length > 0]).toEqual([where, true]);
      for (const name of names) {
        used.add(name);
        if (!exported.has(name)) unknown.push(`${where}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
    // The dashboard shows what issue 17 asks an operator to watch.
    for (const name of [
      'lgsp_connector_calls_total',
      'lgsp_connector_call_seconds_bucket',
      'lgsp_connector_circuit_state',
      'lgsp_connector_rate_limit_wait_seconds_sum',
      'lgsp_connector_parked_dossiers',
      'lgsp_webhook_rate_limit_wait_seconds_sum',
      'lgsp_reconciliation_mismatches',
      'lgsp_replay_items',
      'lgsp_http_request_duration_seconds_bucket',
      'process_cpu_user_seconds_total',
    ])
      expect(used).toContain(name);
  });

  it('reads metric names out of PromQL, leaving functions, labels and grouping out', () => {
    expect(
      metricNamesOf(
        'histogram_quantile(0.95, sum by (le, route) (rate(lgsp_http_request_duration_seconds_bucket{route=~"$r"}[$__rate_interval])))',
      ),
    ).toEqual(['lgsp_http_request_duration_seconds_bucket']);
    expect(metricNamesOf('a_total{kind="done"} / ignoring (kind) b_total or up == 1')).toEqual([
      'a_total',
      'b_total',
      'up',
    ]);
  });
});
