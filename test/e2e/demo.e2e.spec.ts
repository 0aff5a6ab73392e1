import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { paymentRef } from '#lgsp/connectors';
import { getJson } from '../support/events.js';
import { runDemo, eventually, startHubProcess, tempDir, type HubProcess } from '../support/hub-process.js';
import { freePort } from '../support/postgres-processes.js';

interface Played {
  dossierCode: string;
  provinceCode: string;
  communeCode: string;
  procedureCode: string;
  variation: string;
  finalStatus: number;
  events: number;
}

/** Every event in the hub's log, paging GET /v1/events with the admin token. */
async function readLog(hub: HubProcess): Promise<{ type: string; data: { dossierCode: string } }[]> {
  const events: { type: string; data: { dossierCode: string } }[] = [];
  let after = 0;
  for (;;) {
    const page = await getJson(`${hub.url}/v1/events?after=${after}&limit=1000`, hub.adminToken);
    expect(page.status).toBe(200);
    const body = page.body as {
      events: { event: { type: string; data: { dossierCode: string } } }[];
      next: number;
      head: number;
    };
    events.push(...body.events.map((e) => e.event));
    if (body.events.length === 0 || body.next >= body.head) return events;
    after = body.next;
  }
}

const readPlayed = (file: string): Played[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Played);

describe('npm run demo against the hub process', () => {
  let hub: HubProcess;

  beforeAll(async () => {
    hub = await startHubProcess();
  });

  afterAll(async () => {
    await hub.stop();
  });

  it('plays 50 lifecycles in two concurrent runs of one seed without a dossier code twice, and every dossier reaches its final status', async () => {
    const dir = tempDir('lgsp-demo-');
    // Same seed and the same two communes: both runs propose the same dossier codes.
    const common = ['--count', '25', '--rate', '0', '--seed', 'e2e', '--communes', '21040,21025', '--json'];
    const env = { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken };
    const [a, b] = await Promise.all([
      runDemo([...common, '--dossiers-out', join(dir, 'a.jsonl')], env),
      runDemo(
        [...common, '--mode', 'batch', '--batch-size', '4', '--dossiers-out', join(dir, 'b.jsonl')],
        env,
      ),
    ]);
    for (const run of [a, b]) {
      expect(run.stderr).not.toMatch(/failed|unexpected/);
      expect(run.code).toBe(0);
      const summary = JSON.parse(run.stdout) as {
        ok: boolean;
        lifecycles: { completed: number; failed: number };
        events: { appended: number };
        errors: Record<string, number>;
      };
      expect(summary).toMatchObject({ ok: true, lifecycles: { completed: 25, failed: 0 }, errors: {} });
    }
    const played = [...readPlayed(join(dir, 'a.jsonl')), ...readPlayed(join(dir, 'b.jsonl'))];
    expect(played).toHaveLength(50);
    expect(new Set(played.map((p) => p.dossierCode)).size).toBe(50);
    for (const p of played) expect(p.dossierCode).toMatch(/^000\.21\.0(40|25)\.H51-[0-9]{6}-[0-9]{4}$/);
    expect(played.some((p) => p.procedureCode === '1.001193')).toBe(true);

    const expectedEvents = played.reduce((sum, p) => sum + p.events, 0);
    const log = await readLog(hub);
    expect(log).toHaveLength(expectedEvents);
    const perDossier = new Map<string, number>();
    for (const e of log) perDossier.set(e.data.dossierCode, (perDossier.get(e.data.dossierCode) ?? 0) + 1);
    for (const p of played) expect(perDossier.get(p.dossierCode)).toBe(p.events);

    for (const p of played) {
      const view = await eventually(async () => {
        const res = await getJson(`${hub.url}/v1/dossiers/${p.dossierCode}`, hub.adminToken);
        const body = res.body as { status?: number; streamVersion?: number };
        return res.status === 200 && body.streamVersion === p.events ? res.body : undefined;
      });
      expect(view['status']).toBe(p.finalStatus);
      expect(view['communeCode']).toBe(p.communeCode);
      const payment = view['payment'] as { state: string; amountDue: number; amountPaid: number };
      if (p.finalStatus === 10 && payment.amountDue > 0) {
        expect(payment).toMatchObject({ state: 'paid', amountPaid: payment.amountDue });
      }
      if (p.procedureCode === '1.001193' && p.finalStatus === 10) {
        expect(view['civilStatus']).toMatchObject({ registrationType: 'birth' });
      }
    }
  });

  it('waits out 429 and 503 with Retry-After and still appends each event once', async () => {
    // A proxy in front of the hub that refuses every third request, as an overloaded gateway would.
    let seen = 0;
    const target = new URL(hub.url);
    const proxy: Server = createServer((req, res) => {
      seen++;
      if (seen % 3 === 0) {
        res.writeHead(seen % 2 === 0 ? 429 : 503, { 'retry-after': '0', 'content-type': 'application/json' });
        res.end('{"title":"busy"}');
        return;
      }
      const upstream = request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const before = (await getJson(`${hub.url}/v1/admin/subscriptions`, hub.adminToken)).body[
        'head'
      ] as number;
      const run = await runDemo(
        ['--count', '10', '--rate', '0', '--seed', 'busy', '--progress', '0', '--json'],
        {
          LGSP_URL: proxyUrl,
          LGSP_TOKEN: hub.adminToken,
        },
      );
      expect(run.code).toBe(0);
      const summary = JSON.parse(run.stdout) as {
        events: { appended: number };
        retries: number;
        errors: Record<string, number>;
      };
      expect(summary.retries).toBeGreaterThan(0);
      expect(Object.keys(summary.errors).sort()).toEqual(['429', '503']);
      const after = (await getJson(`${hub.url}/v1/admin/subscriptions`, hub.adminToken)).body[
        'head'
      ] as number;
      expect(after - before).toBe(summary.events.appended);
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  });

  it('with --connectors waits on the hub for payments and birth registrations, and reports those no system decides as stalled', async () => {
    // This hub runs no connector: every fee request and every birth registration in processing stalls.
    const dir = tempDir('lgsp-demo-connectors-');
    const run = await runDemo(
      [
        '--connectors',
        '--count',
        '8',
        '--rate',
        '0',
        '--seed',
        'e2e-connectors',
        '--communes',
        '21040',
        '--client-role',
        'commune',
        '--mix',
        'rejected=0,supplemented=0,withdrawn=0,payment-retried=0,payment-abandoned=0,birth=0.5',
        '--wait-timeout',
        '1500ms',
        '--poll-interval',
        '100ms',
        '--progress',
        '200',
        '--json',
        '--dossiers-out',
        join(dir, 'played.jsonl'),
      ],
      { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken },
    );
    expect(run.stderr).not.toMatch(/failed|unexpected/);
    expect(run.stderr).toMatch(/[1-8] waiting on external systems · 0 stalled/);
    expect(run.code).toBe(3);
    const summary = JSON.parse(run.stdout) as {
      ok: boolean;
      lifecycles: { completed: number; failed: number; stalled: number };
      connectors: {
        outcomes: Record<string, number>;
        stalled: { dossierCode: string; waitingFor: string }[];
      };
    };
    const played = readPlayed(join(dir, 'played.jsonl')) as (Played & {
      stalled?: { waitingFor: string; reason: string; status: number; paymentState: string };
    })[];
    expect(played).toHaveLength(8);
    const stalled = played.filter((p) => p.stalled !== undefined);
    expect(stalled.length).toBeGreaterThan(0);
    expect(summary).toMatchObject({
      ok: false,
      lifecycles: { completed: 8 - stalled.length, failed: 0, stalled: stalled.length },
      connectors: { outcomes: {} },
    });
    expect(summary.connectors.stalled.map((s) => s.dossierCode).sort()).toEqual(
      stalled.map((p) => p.dossierCode).sort(),
    );
    const log = await readLog(hub);
    for (const p of played) {
      const types = log.filter((e) => e.data.dossierCode === p.dossierCode).map((e) => e.type);
      expect(types.filter((t) => /payment|civil-status/.test(t))).toEqual([]);
      const res = await getJson(`${hub.url}/v1/dossiers/${p.dossierCode}`, hub.adminToken);
      const view = res.body as { status: number; payment: { state: string } };
      if (p.stalled === undefined) {
        // neither a fee nor a birth registration: nothing to wait for
        expect(p.procedureCode).not.toBe('1.001193');
        expect(view).toMatchObject({ status: 10, payment: { state: 'none' } });
      } else if (p.procedureCode === '1.001193') {
        expect(p.stalled).toMatchObject({ waitingFor: 'civil-registry', reason: 'timeout', status: 4 });
        expect(view.status).toBe(4);
      } else {
        expect(p.stalled).toMatchObject({
          waitingFor: 'payment',
          reason: 'timeout',
          status: 6,
          paymentState: 'due',
        });
        expect(view).toMatchObject({ status: 6, payment: { state: 'due' } });
      }
    }
  });

  it('exits non-zero with a clear message when the hub refuses its token or cannot be reached', async () => {
    const refused = await runDemo(['--count', '3', '--progress', '0'], {
      LGSP_URL: hub.url,
      LGSP_TOKEN: 'wrong',
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/creating client demo-.*: the hub answered 401/);

    const unreachable = await runDemo(['--count', '1', '--progress', '0', '--max-retries', '0'], {
      LGSP_URL: 'http://127.0.0.1:9',
      LGSP_TOKEN: 'x',
    });
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toMatch(/cannot reach the hub at http:\/\/127\.0\.0\.1:9/);

    const usage = await runDemo(['--count', 'many'], { LGSP_TOKEN: 'x' });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--count: "many" must be an integer >= 1/);
  });
});

describe('npm run demo -- --connectors against the hub as npm start runs it (embedded simulators)', () => {
  let hub: HubProcess;
  let paymentsUrl = '';

  beforeAll(async () => {
    // npm start: every connector on, the simulators in the hub process (here on free ports).
    const url = async () => `http://127.0.0.1:${await freePort()}`;
    paymentsUrl = await url();
    hub = await startHubProcess({
      env: {
        LGSP_SIMULATORS: 'embedded',
        LGSP_CONNECTORS: 'all',
        LGSP_PORTAL_URL: await url(),
        LGSP_ONE_STOP_SHOP_URL: await url(),
        LGSP_CIVIL_REGISTRY_URL: await url(),
        LGSP_DVCLT_URL: await url(),
        LGSP_PAYMENTS_URL: paymentsUrl,
      },
    });
  }, 30_000);

  afterAll(async () => {
    await hub?.stop();
  });

  it('plays abandoned payments as an explicit share: stopped (8) after the deadline, counted, exit 0; the platform leaves exactly those pending', async () => {
    const dir = tempDir('lgsp-demo-abandoned-');
    const run = await runDemo(
      [
        '--connectors',
        '--count',
        '40',
        '--rate',
        '0',
        '--seed',
        'e2e-abandoned',
        '--mix',
        'payment-abandoned=0.3',
        '--payment-deadline',
        '1s',
        '--poll-interval',
        '200ms',
        '--wait-timeout',
        '120s',
        '--progress',
        '0',
        '--json',
        '--dossiers-out',
        join(dir, 'played.jsonl'),
      ],
      // the demo finds the payment platform where the hub's connector does
      { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken, LGSP_PAYMENTS_URL: paymentsUrl },
    );
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr.slice(-3000) }).toEqual({
      code: 0,
      stderr: '',
    });
    const summary = JSON.parse(run.stdout) as {
      ok: boolean;
      lifecycles: { completed: number; failed: number; stalled: number };
      variations: Record<string, number>;
      finalStatuses: Record<string, number>;
      connectors: { outcomes: Record<string, number>; stalled: unknown[]; paymentDeadlineMs: number };
    };
    const played = readPlayed(join(dir, 'played.jsonl')) as (Played & { outcomes: string[] })[];
    const abandoned = played.filter((p) => p.variation === 'payment-abandoned');
    expect(abandoned.length).toBeGreaterThan(0);
    expect(summary).toMatchObject({
      ok: true,
      lifecycles: { completed: 40, failed: 0, stalled: 0 },
      variations: { 'payment-abandoned': abandoned.length },
      connectors: {
        outcomes: { 'payment-abandoned': abandoned.length },
        stalled: [],
        paymentDeadlineMs: 1000,
      },
    });
    expect(summary.finalStatuses['8']).toBeGreaterThanOrEqual(abandoned.length);

    for (const p of abandoned) {
      expect(p).toMatchObject({ finalStatus: 8, outcomes: ['payment-abandoned'] });
      const res = await getJson(`${hub.url}/v1/dossiers/${p.dossierCode}`, hub.adminToken);
      expect(res.body).toMatchObject({ status: 8, payment: { state: 'due' } });
    }
    // The platform holds every abandoned payment pending (the hub opened it), and no other.
    const state = (await (await fetch(`${paymentsUrl}/_sim/state`)).json()) as {
      payments: { MaThamChieu: string; TrangThaiGD: number }[];
    };
    const pending = state.payments.filter((x) => x.TrangThaiGD === 3).map((x) => x.MaThamChieu);
    expect(pending.sort()).toEqual(abandoned.map((p) => paymentRef(p.dossierCode, 1)).sort());
  }, 180_000);
});
