import { COMMUNE, PROVINCE, post, statusChanged, submitted } from '../support/events.js';
import {
  createCommuneClient,
  eventually,
  runCli,
  startHubProcess,
  tempDir,
  type HubProcess,
} from '../support/hub-process.js';
import {
  connectorsConfig,
  startSimulators,
  type SimName,
  type SimulatorsProcess,
} from '../support/simulators-process.js';
import { sendJson } from '../support/sim-http.js';

/**
 * Issue 6 acceptance, with the hub and the simulators as processes: 10,000 dossiers synchronised to
 * the portal, the one-stop-shop and the civil registry; known mismatches injected behind the hub's
 * back; reconciliation finds exactly them; the replay planned from it sends only those dossiers and
 * fixes them, touching no other system; a second reconciliation finds none; the audit log shows it all.
 * Then a replay of every dossier to the one-stop-shop survives a kill -9 of the hub and completes.
 */

const DOSSIERS = Number(process.env.LGSP_E2E_RECONCILE_DOSSIERS ?? 10_000);
const BIRTH_EVERY = 50;

/** A simulator's control call; the answer, or a failure when it is not a 2xx. */
const send = (url: string, path: string, body: unknown, method = 'POST') => sendJson(url, method, path, body);

const getJson = async <T>(url: string, token?: string): Promise<T> => {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return (await res.json()) as T;
};

interface Calls {
  total: number;
  replayed?: { total: number; byReplay: Record<string, number> };
}

const code = (i: number): string => `000.00.51.H56-251123-${String(100_000 + i)}`;

describe('reconciliation and replay with the hub and the simulators as processes', () => {
  let sims: SimulatorsProcess;
  let hub: HubProcess;
  let dataDir: string;
  let env: Record<string, string>;
  let cli: Record<string, string>;
  const births: string[] = [];

  const lag = async () =>
    (
      await getJson<{ subscriptions: { lagEvents: number }[] }>(
        `${hub.url}/v1/admin/subscriptions`,
        hub.adminToken,
      )
    ).subscriptions;
  const calls = async (name: SimName) => getJson<Calls>(`${sims.urls[name]}/_sim/calls`);
  const head = async () => (await getJson<{ head: number }>(`${hub.url}/health/ready`)).head;
  const lgsp = async (args: string[]) => {
    const r = await runCli(args, cli);
    return {
      ...r,
      json: r.stdout.trim().startsWith('{') ? (JSON.parse(r.stdout) as Record<string, unknown>) : {},
    };
  };

  beforeAll(async () => {
    sims = await startSimulators();
    await send(
      sims.urls['civil-registry'],
      '/_sim/config',
      { seed: 6, outcomes: { done: 1, supplement: 0, rejected: 0 }, processingPolls: { min: 1, max: 1 } },
      'PUT',
    );
    dataDir = tempDir('lgsp-reconcile-e2e-');
    const config = connectorsConfig(dataDir, sims.urls, { replay: { confirmAbove: 1000, chunkSize: 50 } });
    env = { LGSP_CONFIG: config, LGSP_CONNECTORS: 'all' };
    hub = await startHubProcess({ dataDir, env });
    cli = { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken };

    // 10,000 dossiers: submitted, received, in processing; every 50th a birth registration.
    const token = await createCommuneClient(hub, 'e2e-reconcile');
    const batches: Record<string, unknown>[][] = [];
    let batch: Record<string, unknown>[] = [];
    for (let i = 0; i < DOSSIERS; i++) {
      const c = code(i);
      const sub = submitted(c);
      if (i % BIRTH_EVERY === 0) {
        births.push(c);
        sub.data = {
          ...(sub.data as Record<string, unknown>),
          civilRegistration: {
            registrationType: 'birth',
            person: { fullName: `Nguyễn Văn Bé ${i}`, dateOfBirth: '2025-11-20', sex: 'male' },
            mother: { fullName: 'Lê Thị Hoà', idNumber: '051190001234' },
          },
        };
      }
      batch.push(sub, statusChanged(c, 2), statusChanged(c, 4));
      if (batch.length >= 300) {
        batches.push(batch);
        batch = [];
      }
    }
    if (batch.length > 0) batches.push(batch);
    for (const b of batches) {
      const r = await post(hub.url, token, b, 'application/cloudevents-batch+json');
      expect(r.status).toBe(201);
    }
    // Synchronised: every connector at the head, every registration decided and captured.
    await eventually(async () => {
      const registry = await getJson<{ registrations: { trangThai: number }[] }>(
        `${sims.urls['civil-registry']}/_sim/state`,
      );
      if (registry.registrations.length !== births.length) return undefined;
      if (registry.registrations.some((r) => r.trangThai !== 4)) return undefined;
      const registered = await getJson<{ events: unknown[] }>(
        `${hub.url}/v1/events?after=0&limit=1000&type=vn.gov.lgsp.civil-status.registered.v1`,
        hub.adminToken,
      );
      if (registered.events.length !== births.length) return undefined;
      return (await lag()).every((s) => s.lagEvents === 0) ? true : undefined;
    }, 600_000);
  }, 900_000);

  afterAll(async () => {
    await hub?.stop();
    sims?.child.kill('SIGTERM');
  });

  it('finds exactly the injected mismatches, replays only those dossiers to that system, and then finds none', async () => {
    for (const name of ['portal', 'one-stop-shop', 'civil-registry'] as const) {
      const clean = await lgsp(['reconcile', 'run', '--target', name, '--json']);
      expect({ name, code: clean.code }).toEqual({ name, code: 0 });
    }

    // Inject, behind the hub's back: silent drops, corrupted fields, stale statuses, NFD names (equal
    // after normalisation: not mismatches), and a lost civil record.
    const portal = sims.urls['national-portal'];
    const pick = (share: number) =>
      Array.from({ length: 5 }, (_, k) => code(Math.floor(DOSSIERS * share) + k * 7 + 1));
    const dropped = pick(0.01);
    const corrupted = pick(0.2);
    const stale = pick(0.4);
    const nfd = pick(0.6);
    for (const c of dropped) await send(portal, '/_sim/tamper', { dossier: c, delete: true });
    for (const c of corrupted)
      await send(portal, '/_sim/tamper', { dossier: c, set: { ChuHoSo: 'Nguyễn Thị Hòa X' } });
    for (const c of stale) await send(portal, '/_sim/tamper', { dossier: c, set: { TrangThaiHoSo: 2 } });
    for (const c of nfd)
      await send(portal, '/_sim/tamper', { dossier: c, set: { ChuHoSo: 'Nguyễn Thị Hoà'.normalize('NFD') } });
    const lostBirth = births[3]!;
    await send(sims.urls['civil-registry'], '/_sim/tamper', { dossier: lostBirth, delete: true });

    const found = await lgsp(['reconcile', 'run', '--target', 'portal', '--json']);
    expect(found.code).toBe(5);
    const runId = (found.json.run as { id: string }).id;
    const shown = await getJson<{ mismatches: { dossier: string; field: string; category: string }[] }>(
      `${hub.url}/v1/admin/reconciliations/${runId}?limit=1000`,
      hub.adminToken,
    );
    const got = shown.mismatches.map((m) => `${m.dossier} ${m.category} ${m.field}`).sort();
    expect(got).toEqual(
      [
        ...dropped.map((c) => `${c} missing-in-target *`),
        ...corrupted.map((c) => `${c} wrong-field ChuHoSo`),
        ...stale.map((c) => `${c} stale-status TrangThaiHoSo`),
      ].sort(),
    );
    const civil = await lgsp(['reconcile', 'run', '--target', 'civil-registry', '--json']);
    expect(civil.code).toBe(5);
    const civilRun = (civil.json.run as { id: string }).id;
    const civilShown = await getJson<{ mismatches: { dossier: string; category: string }[] }>(
      `${hub.url}/v1/admin/reconciliations/${civilRun}`,
      hub.adminToken,
    );
    expect(civilShown.mismatches.map((m) => [m.dossier, m.category])).toEqual([
      [lostBirth, 'missing-civil-record'],
    ]);

    // The plan lists only those dossiers, and has no side effect.
    const callsBefore = await Promise.all(
      (['national-portal', 'one-stop-shop', 'civil-registry', 'payments'] as const).map(calls),
    );
    const headBefore = await head();
    const plan = await lgsp([
      'replay',
      'plan',
      '--target',
      'portal',
      '--from-reconciliation',
      runId,
      '--json',
    ]);
    expect(plan.code).toBe(0);
    const planned = (plan.json.plan as { dossiers: string[]; confirmationRequired: boolean }).dossiers;
    expect([...planned].sort()).toEqual([...dropped, ...corrupted, ...stale].sort());
    expect((await calls('national-portal')).total).toBe(callsBefore[0]!.total);

    // The replay sends to the portal only, each call marked as a replay; nothing is appended.
    const run = await lgsp(['replay', 'run', '--target', 'portal', '--from-reconciliation', runId, '--json']);
    expect(run.code).toBe(0);
    const replayId = (run.json.replay as { id: string; state: string }).id;
    expect(run.json.replay).toMatchObject({ state: 'completed', total: 15, done: 15, failed: 0 });
    const [portalCalls, shopCalls, registryCalls, paymentCalls] = await Promise.all(
      (['national-portal', 'one-stop-shop', 'civil-registry', 'payments'] as const).map(calls),
    );
    const portalNew = portalCalls!.total - callsBefore[0]!.total;
    expect(portalNew).toBeGreaterThan(0);
    expect(portalCalls!.replayed?.byReplay[replayId]).toBe(portalNew);
    expect([shopCalls!.total, registryCalls!.total, paymentCalls!.total]).toEqual(
      callsBefore.slice(1).map((c) => c.total),
    );
    expect(await head()).toBe(headBefore);

    // The civil record comes back through a replay to the civil registry.
    const civilReplay = await lgsp([
      'replay',
      'run',
      '--target',
      'civil-registry',
      '--from-reconciliation',
      civilRun,
      '--json',
    ]);
    expect(civilReplay.code).toBe(0);
    await eventually(async () => {
      const registry = await getJson<{ registrations: { maHoSoMCDT: string; trangThai: number }[] }>(
        `${sims.urls['civil-registry']}/_sim/state`,
      );
      return registry.registrations.find((r) => r.maHoSoMCDT === lostBirth)?.trangThai === 4
        ? true
        : undefined;
    }, 60_000);

    const again = await lgsp(['reconcile', 'run', '--target', 'portal', '--json']);
    expect({ code: again.code, mismatches: (again.json.run as { mismatches: unknown }).mismatches }).toEqual({
      code: 0,
      mismatches: { total: 0, dossiers: 0, byCategory: {} },
    });
    const civilAgain = await lgsp(['reconcile', 'run', '--target', 'civil-registry', '--json']);
    const civilAgainId = (civilAgain.json.run as { id: string }).id;
    expect({
      code: civilAgain.code,
      mismatches: (
        await getJson<{ mismatches: unknown[] }>(
          `${hub.url}/v1/admin/reconciliations/${civilAgainId}`,
          hub.adminToken,
        )
      ).mismatches,
    }).toEqual({ code: 0, mismatches: [] });

    const audit = await lgsp(['audit', '--limit', '1000', '--json']);
    const actions = (audit.json.entries as { action: string; subject: string }[]).map(
      (e) => `${e.action} ${e.subject}`,
    );
    expect(actions).toEqual(
      expect.arrayContaining([
        `reconciliation.run reconciliation:${runId}`,
        `reconciliation.run reconciliation:${civilRun}`,
        'replay.plan portal',
        `replay.run replay:${replayId}`,
        `replay.complete replay:${replayId}`,
      ]),
    );
  }, 600_000);

  it('asks for confirmation above the threshold, and a replay killed with the hub resumes and completes without skipping', async () => {
    const shop = sims.urls['one-stop-shop'];
    const history = async () =>
      (await getJson<{ history: Record<string, unknown[]> }>(`${shop}/_sim/state`)).history;
    const before = await history();

    // 10,000 dossiers is above replay.confirmAbove: without --yes (and no terminal) nothing starts.
    const replays = async () => ((await lgsp(['replay', 'list', '--json'])).json.replays as unknown[]).length;
    const existing = await replays();
    const refused = await lgsp(['replay', 'run', '--target', 'one-stop-shop', '--province', PROVINCE]);
    expect(refused.code).toBe(2);
    expect(await replays()).toBe(existing);

    const started = await lgsp([
      'replay',
      'run',
      '--target',
      'one-stop-shop',
      '--commune',
      COMMUNE,
      '--yes',
      '--rate',
      '400',
      '--no-wait',
      '--json',
    ]);
    expect(started.code).toBe(0);
    const id = (started.json.replay as { id: string }).id;
    const status = async () =>
      (
        await getJson<{ replay: { state: string; done: number; total: number } }>(
          `${hub.url}/v1/admin/replays/${id}`,
          hub.adminToken,
        )
      ).replay;
    await eventually(async () => ((await status()).done >= 500 ? true : undefined), 120_000);
    await hub.kill();

    hub = await startHubProcess({ dataDir, env, adminToken: hub.adminToken });
    cli = { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken };
    const done = await eventually(async () => {
      const s = await status();
      return s.state === 'completed' ? s : undefined;
    }, 300_000);
    expect(done).toMatchObject({ total: DOSSIERS, done: DOSSIERS, failed: 0 });

    // Every dossier was written again (the state of the log, once more), none skipped.
    const after = await history();
    const skipped = Array.from({ length: DOSSIERS }, (_, i) => code(i)).filter(
      (c) => (after[c]?.length ?? 0) <= (before[c]?.length ?? 0),
    );
    expect(skipped).toEqual([]);
    const shopCalls = await calls('one-stop-shop');
    expect(shopCalls.replayed?.byReplay[id]).toBeGreaterThanOrEqual(DOSSIERS);
    const audit = await lgsp(['audit', '--subject', `replay:${id}`, '--json']);
    expect((audit.json.entries as { action: string }[]).map((e) => e.action)).toEqual(
      expect.arrayContaining(['replay.run', 'replay.complete']),
    );
  }, 900_000);
});
