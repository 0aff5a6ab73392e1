import { randomInt, randomUUID } from 'node:crypto';
import { post, statusChanged, submitted } from '../support/events.js';
import { eventually, runCli, startHubProcess, tempDir, type HubProcess } from '../support/hub-process.js';
import { connectorsConfig, startSimulators, type SimulatorsProcess } from '../support/simulators-process.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Issue 17 part 4 with the hub, its connectors and the simulators as processes: `GET /v1/dossiers/{code}`
 * and `lgsp dossiers show` tell, per external system and per webhook endpoint the caller may see, the
 * last position the system took, when, and whether the dossier is parked there (and why).
 */

const C79 = { provinceCode: '79', communeCode: '25747' };
/** A code the portal takes (its pattern is stricter than the hub's). */
const dossierCode = (): string => `000.00.51.H56-251123-${String(randomInt(100_000, 999_999))}`;

interface SyncEntry {
  target: string;
  kind: 'connector' | 'webhook';
  lastPosition: number | null;
  lastDeliveredAt: string | null;
  parked: boolean;
  parkedReason?: string;
}

describe('per-system sync state of a dossier', () => {
  let sims: SimulatorsProcess;
  let hub: HubProcess;
  const tokens: Record<string, string> = {};
  const receivers: WebhookReceiver[] = [];
  const hooks: Record<string, string> = {};
  const ok = dossierCode();
  const refused = dossierCode();
  const positions: Record<string, number> = {};

  const api = async (who: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${hub.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${tokens[who]}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  const syncOf = async (who: string, code: string) => {
    const res = await api(who, 'GET', `/v1/dossiers/${code}`);
    expect(res.status).toBe(200);
    return res.body.sync as SyncEntry[];
  };
  const entry = (sync: SyncEntry[], target: string) => sync.find((s) => s.target === target);

  beforeAll(async () => {
    sims = await startSimulators();
    const dataDir = tempDir('lgsp-dossier-sync-e2e-');
    const config = connectorsConfig(dataDir, sims.urls, {
      webhooks: { retryDelaysSeconds: [0.2], jitter: 0, disableAfterSeconds: 600, pollMs: 100 },
    });
    hub = await startHubProcess({
      dataDir,
      env: { LGSP_CONFIG: config, LGSP_CONNECTORS: 'all', LGSP_WEBHOOKS_ALLOW_INSECURE: 'true' },
    });
    tokens.admin = hub.adminToken;
    const client = async (who: string, body: Record<string, unknown>) => {
      const res = await api('admin', 'POST', '/v1/admin/clients', {
        name: `${who}-${randomUUID().slice(0, 6)}`,
        ...body,
      });
      expect(res.status).toBe(201);
      tokens[who] = res.body.token as string;
    };
    await client('operator', { role: 'operator' });
    await client('p51', { province: '51' });
    await client('p79', { province: '79' });
    await client('c51', { communes: ['21040'] });
    await client('c79', { communes: [C79.communeCode] });

    const hook = async (who: string, name: string, answer: number) => {
      const r = await WebhookReceiver.start(() => answer);
      receivers.push(r);
      const res = await api(who, 'POST', '/v1/webhooks', { url: r.url, filter: { provinces: ['51'] } });
      expect(res.status).toBe(201);
      hooks[name] = (res.body.webhook as { id: string }).id;
    };
    await hook('admin', 'adminOk', 204);
    await hook('p51', 'provinceOk', 204);
    await hook('admin', 'failing', 500);

    // `refused` names a procedure the portal's catalogue lacks: the portal connector parks it (data).
    const unknownProcedure = submitted(refused);
    unknownProcedure.data = { ...(unknownProcedure.data as object), procedureCode: '9.999999' };
    const events = [submitted(ok), statusChanged(ok, 2), unknownProcedure, statusChanged(refused, 2)];
    const res = await post(hub.url, tokens.c51, events, 'application/cloudevents-batch+json');
    expect(res.status).toBe(201);
    const log = await api('admin', 'GET', '/v1/events?after=0&limit=1000');
    for (const e of log.body.events as { position: number; stream: string }[])
      positions[e.stream.slice('dossier-'.length)] = e.position;

    await eventually(async () => {
      const lag = (await api('admin', 'GET', '/v1/admin/subscriptions')).body.subscriptions as {
        lagEvents: number;
      }[];
      if (lag.some((s) => s.lagEvents > 0)) return undefined;
      const sync = await syncOf('admin', ok);
      const hooksDone =
        entry(sync, `webhook:${hooks.adminOk}`)?.lastPosition === positions[ok] &&
        entry(sync, `webhook:${hooks.provinceOk}`)?.lastPosition === positions[ok] &&
        entry(sync, `webhook:${hooks.failing}`)?.parked === true;
      return hooksDone ? true : undefined;
    }, 60_000);
  }, 120_000);

  afterAll(async () => {
    await hub?.stop();
    sims?.child.kill('SIGTERM');
    for (const r of receivers) await r.down();
  });

  it('shows each connector and webhook endpoint: the last position taken, when, and the parkings with their reason', async () => {
    const sync = await syncOf('admin', ok);
    const before = Date.now();
    for (const target of ['portal', 'one-stop-shop']) {
      const s = entry(sync, target);
      expect(s).toEqual({
        target,
        kind: 'connector',
        lastPosition: positions[ok],
        lastDeliveredAt: expect.any(String),
        parked: false,
      });
      expect(Date.parse(s!.lastDeliveredAt!)).toBeLessThanOrEqual(before);
    }
    // Not a birth registration nor a payment: those systems have taken nothing of it.
    expect(entry(sync, 'civil-registry')).toEqual({
      target: 'civil-registry',
      kind: 'connector',
      lastPosition: null,
      lastDeliveredAt: null,
      parked: false,
    });
    expect(entry(sync, 'payments')?.kind).toBe('connector');
    expect(entry(sync, `webhook:${hooks.adminOk}`)).toMatchObject({
      kind: 'webhook',
      lastPosition: positions[ok],
      parked: false,
    });
    expect(entry(sync, `webhook:${hooks.failing}`)).toMatchObject({
      kind: 'webhook',
      lastPosition: null,
      parked: true,
      parkedReason: expect.stringContaining('refused the event'),
    });

    const parked = await syncOf('admin', refused);
    expect(entry(parked, 'portal')).toEqual({
      target: 'portal',
      kind: 'connector',
      lastPosition: null,
      lastDeliveredAt: null,
      parked: true,
      parkedReason: expect.stringContaining("not in the portal's catalogue"),
    });
    expect(entry(parked, 'one-stop-shop')).toMatchObject({ lastPosition: positions[refused], parked: false });
  });

  it('shows an operator what it shows an admin', async () => {
    expect(await syncOf('operator', ok)).toEqual(await syncOf('admin', ok));
  });

  it("shows a province client its dossiers and its own webhooks only, never another client's", async () => {
    const sync = await syncOf('p51', ok);
    expect(sync.filter((s) => s.kind === 'webhook').map((s) => s.target)).toEqual([
      `webhook:${hooks.provinceOk}`,
    ]);
    expect(sync.filter((s) => s.kind === 'connector').map((s) => s.target)).toEqual([
      'civil-registry',
      'one-stop-shop',
      'payments',
      'portal',
    ]);
    expect((await api('p79', 'GET', `/v1/dossiers/${ok}`)).status).toBe(404);
  });

  it('shows a commune client its dossiers with the connectors and no webhook endpoint; others get 404', async () => {
    const sync = await syncOf('c51', refused);
    expect(sync.every((s) => s.kind === 'connector')).toBe(true);
    expect(entry(sync, 'portal')?.parked).toBe(true);
    const other = await api('c79', 'GET', `/v1/dossiers/${ok}`);
    expect(other.status).toBe(404);
    expect(JSON.stringify(other.body)).not.toContain('sync');
  });

  it('lgsp dossiers show prints the sync table, and --json the same sync as the API', async () => {
    const env = { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken };
    const text = await runCli(['dossiers', 'show', refused], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/SYSTEM\s+KIND\s+LAST POSITION\s+DELIVERED AT\s+PARKED/);
    expect(text.stdout).toMatch(/portal\s+connector\s+-\s+-\s+yes: portal cannot take the dossier/);
    const json = await runCli(['dossiers', 'show', refused, '--json'], env);
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as { sync: SyncEntry[] }).sync).toEqual(await syncOf('admin', refused));
  });
});
