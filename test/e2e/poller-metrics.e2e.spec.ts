import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { post, statusChanged, submitted } from '../support/events.js';
import {
  createCommuneClient,
  eventually,
  startHubProcess,
  tempDir,
  type HubProcess,
} from '../support/hub-process.js';
import { sendJson } from '../support/sim-http.js';
import { startSimulators, type SimulatorsProcess } from '../support/simulators-process.js';

/**
 * The calls of the inbound side — the payment status poller (QUERY), the civil-registry result poller
 * (LayKetQua) and the portal's online capture (LayDanhSachHoSoTrucTuyen) — counted in the connectors'
 * call metrics beside the syncs, under `operation` `poll` and `capture`, on a hub process whose
 * simulators fail those calls first.
 */

/** A dossier code the portal accepts (its pattern ends in 4 to 6 digits). */
const portalCode = (): string => `000.00.51.H56-251124-${String(randomInt(100_000, 999_999))}`;

/** The value of one sample line `name{labels} value` of the scrape; 0 when absent. */
function sample(text: string, series: string): number {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return 0;
}

const calls = (text: string, target: string, operation: string, outcome: string): number =>
  sample(
    text,
    `lgsp_connector_calls_total{target="${target}",operation="${operation}",outcome="${outcome}"}`,
  );

describe('metrics of the pollers and the online capture, on a hub process', () => {
  let sims: SimulatorsProcess;
  let hub: HubProcess;
  let token: string;
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

  beforeAll(async () => {
    sims = await startSimulators();
    // Every registration is done at its first LayKetQua; every payment settles at its second QUERY.
    await sendJson(sims.urls['civil-registry'], 'PUT', '/_sim/config', {
      seed: 17,
      outcomes: { done: 1, supplement: 0, rejected: 0 },
      processingPolls: { min: 0, max: 0 },
    });
    await sendJson(sims.urls.payments, 'PUT', '/_sim/config', {
      seed: 17,
      outcomes: { success: 1, failed: 0, pending: 0 },
      pendingPolls: { min: 1, max: 1 },
      resolveAfterMs: null,
    });
    const dir = tempDir('lgsp-poller-metrics-e2e-');
    const config = join(dir, 'hub.json');
    writeFileSync(
      config,
      JSON.stringify({
        connectors: {
          portal: {
            url: sims.urls['national-portal'],
            ratePerSecond: 1000,
            onlineCapture: { enabled: true, pollIntervalMs: 200, pageSize: 100 },
          },
          oneStopShop: { url: sims.urls['one-stop-shop'], ratePerSecond: 1000 },
          civilRegistry: {
            url: sims.urls['civil-registry'],
            dvcltUrl: sims.urls.dvclt,
            ratePerSecond: 1000,
            pollIntervalMs: 200,
          },
          payments: { url: sims.urls.payments, ratePerSecond: 1000, pollIntervalMs: 200 },
        },
      }),
    );
    hub = await startHubProcess({
      dataDir: dir,
      env: { LGSP_CONFIG: config, LGSP_CONNECTORS: 'all' },
    });
    token = await createCommuneClient(hub, 'poller-metrics-commune');
  }, 60_000);

  afterAll(async () => {
    await hub?.stop();
    sims?.child.kill('SIGTERM');
  });

  it('counts and times each poll and capture call by outcome, apart from the syncs, with no dossier in a label', async () => {
    // The inbound calls fail first: the portal's feed answers 5xx, the registry's results and the
    // platform's QUERY are in an outage.
    await sendJson(sims.urls['national-portal'], 'PUT', '/_sim/faults', {
      seed: 17,
      errorRate: 1,
      operations: ['LayDanhSachHoSoTrucTuyen'],
    });
    await sendJson(sims.urls['civil-registry'], 'PUT', '/_sim/faults', {
      outage: { forMs: 2500 },
      operations: ['LayKetQua'],
    });
    await sendJson(sims.urls.payments, 'PUT', '/_sim/faults', {
      outage: { forMs: 2500 },
      operations: ['QUERY'],
    });

    const birth = portalCode();
    const fee = portalCode();
    const accepted = await post(
      hub.url,
      token,
      [
        submitted(birth, {
          data: {
            ...(submitted(birth).data as Record<string, unknown>),
            civilRegistration: {
              registrationType: 'birth',
              person: { fullName: 'Nguyễn Minh Khang', dateOfBirth: '2025-11-20', sex: 'male' },
              placeOfBirth: 'Trạm y tế xã Bình Sơn',
              mother: { fullName: 'Lê Thị Hoà', idNumber: '051190001234' },
            },
          },
        }),
        statusChanged(birth, 2),
        statusChanged(birth, 4),
        submitted(fee),
        statusChanged(fee, 2),
        statusChanged(fee, 6),
      ],
      'application/cloudevents-batch+json',
    );
    expect(accepted.status).toBe(201);

    let text = await eventually(async () => {
      const t = await scrape();
      return calls(t, 'portal', 'capture', 'unavailable') >= 1 &&
        calls(t, 'civil-registry', 'poll', 'unavailable') >= 1 &&
        calls(t, 'payments', 'poll', 'unavailable') >= 1
        ? t
        : undefined;
    }, 30_000);
    // While the feed fails, its rounds (every 200 ms) count failures, never an ok.
    await new Promise((r) => setTimeout(r, 1000));
    const later = await scrape();
    expect(calls(later, 'portal', 'capture', 'ok')).toBe(calls(text, 'portal', 'capture', 'ok'));
    expect(calls(later, 'portal', 'capture', 'unavailable')).toBeGreaterThan(
      calls(text, 'portal', 'capture', 'unavailable'),
    );
    const okBefore = calls(later, 'portal', 'capture', 'ok');

    // The portal's feed recovers; the outages end. Each poller captures its result.
    await sendJson(sims.urls['national-portal'], 'PUT', '/_sim/faults', { seed: 17 });
    const streamTypes = async (code: string): Promise<string[]> => {
      const res = await fetch(`${hub.url}/v1/streams/dossier-${encodeURIComponent(code)}`, {
        headers: { authorization: `Bearer ${hub.adminToken}` },
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { events: { event: { type: string } }[] }).events.map(
        (e) => e.event.type,
      );
    };
    await eventually(async () => {
      const [b, f] = [await streamTypes(birth), await streamTypes(fee)];
      return b.includes('vn.gov.lgsp.civil-status.registered.v1') &&
        f.includes('vn.gov.lgsp.payment.completed.v1')
        ? true
        : undefined;
    }, 30_000);
    text = await eventually(async () => {
      const t = await scrape();
      return calls(t, 'portal', 'capture', 'ok') > okBefore ? t : undefined;
    }, 10_000);

    // The results came by polling: each poller's successful calls are counted…
    expect(calls(text, 'civil-registry', 'poll', 'ok')).toBeGreaterThanOrEqual(1);
    // …the payment's first answered QUERY was "pending", the second "paid".
    expect(calls(text, 'payments', 'poll', 'ok')).toBeGreaterThanOrEqual(2);
    // …and timed: every call that reached the target (none was refused by a breaker) has a duration.
    for (const [target, operation] of [
      ['portal', 'capture'],
      ['civil-registry', 'poll'],
      ['payments', 'poll'],
    ] as const) {
      const counted =
        calls(text, target, operation, 'ok') +
        calls(text, target, operation, 'unavailable') +
        calls(text, target, operation, 'network') +
        calls(text, target, operation, 'timeout');
      expect([
        target,
        operation,
        sample(text, `lgsp_connector_call_seconds_count{target="${target}",operation="${operation}"}`),
      ]).toEqual([target, operation, counted]);
    }
    // The syncs that brought the work there keep their own series.
    expect(calls(text, 'civil-registry', 'sync', 'ok')).toBeGreaterThanOrEqual(1);
    expect(calls(text, 'payments', 'sync', 'ok')).toBeGreaterThanOrEqual(1);
    // Only the three operations, and no dossier code, name or citizen ID in any series.
    const series = text
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .map((l) => l.replace(/ [^ ]+$/, ''));
    const operations = new Set(
      series.flatMap((s) =>
        s.startsWith('lgsp_connector_call') ? [/operation="([^"]*)"/.exec(s)?.[1]] : [],
      ),
    );
    expect([...operations].sort()).toEqual(['capture', 'poll', 'sync']);
    const joined = series.join('\n');
    for (const code of [birth, fee]) expect(joined).not.toContain(code);
    expect(joined).not.toMatch(/Nguyễn|051190001234|H56-/);
  }, 90_000);
});
