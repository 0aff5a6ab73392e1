import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CircuitBreaker,
  SqlParkingStore,
  OneStopShopClient,
  OneStopShopSyncConnector,
  PortalClient,
  PortalSyncConnector,
} from '#lgsp/connectors';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { NationalPortalSimulator, OneStopShopSimulator } from '#lgsp/simulators';
import { connectorReplayTarget } from './connector-target.js';
import type { ReplayTarget } from './model.js';
import { ReplayService } from './replay-service.js';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { SqlReplayStore } from './sql-replay-store.js';
import { dossierEvent } from './replay.testing.js';

const PROVINCE = '51';
const COMMUNE = '21040';
const AGENCY = '000.00.51.H56';

let dir: string;
let store: SqliteEventStore;
let portal: NationalPortalSimulator;
let shop: OneStopShopSimulator;
let portalUrl: string;
let shopUrl: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'replay-connector-'));
  store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  portal = new NationalPortalSimulator({ sessionTtlMs: 60_000 });
  shop = new OneStopShopSimulator({ apiKey: 'oss-key' });
  ({ url: portalUrl } = await portal.start());
  ({ url: shopUrl } = await shop.start());
});

afterAll(async () => {
  await portal.stop();
  await shop.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function append(code: string, type: string, data: Record<string, unknown>): Promise<void> {
  const unit = { provinceCode: PROVINCE, communeCode: COMMUNE };
  await store.append([dossierEvent(code, type, unit, { ...unit, ...data }, new Date().toISOString())]);
}

async function lifecycle(code: string): Promise<void> {
  await append(code, 'vn.gov.lgsp.dossier.submitted.v1', {
    procedureCode: '1.001193',
    procedureName: 'Đăng ký khai sinh',
    agencyCode: AGENCY,
    channel: 'online',
    applicant: { fullName: 'Nguyễn Thị Hoà', idNumber: '051190001234' },
    receivedAt: '2025-11-23T16:59:30Z',
    dueAt: '2025-11-26T10:00:00Z',
    summary: 'Đăng ký khai sinh cho con',
    fees: [],
  });
  await append(code, 'vn.gov.lgsp.dossier.status-changed.v1', {
    status: 2,
    changedAt: '2025-11-23T17:05:00Z',
    handler: { name: 'Trần Văn Bình', title: 'Công chức tư pháp', department: 'Bộ phận một cửa' },
  });
}

const calls = async (url: string) =>
  (await (await fetch(`${url}/_sim/calls`)).json()) as {
    total: number;
    byDossier: Record<string, Record<string, number>>;
    replayed: { total: number; byReplay: Record<string, number> };
  };

describe('a replay through the real portal connector', () => {
  it('sends the scoped dossiers to the portal only, every call marked with the replay', async () => {
    const codes = [1, 2, 3, 4].map((i) => `${AGENCY}-251123-${String(i).padStart(4, '0')}`);
    for (const code of codes) await lifecycle(code);
    const parking = new SqlParkingStore(SqliteDatabase.open(':memory:'));
    const settings = (target: string) => ({
      events: store,
      parking,
      breaker: new CircuitBreaker(target, { coolDownMs: 200, failureThreshold: 5 }),
      retry: { initialDelayMs: 10, maxDelayMs: 100, maxAttempts: 3 },
    });
    const portalConnector = new PortalSyncConnector({
      ...settings('portal'),
      client: new PortalClient({ baseUrl: portalUrl, username: 'lgsp', password: 'lgsp', timeoutMs: 2000 }),
    });
    const shopConnector = new OneStopShopSyncConnector({
      ...settings('one-stop-shop'),
      client: new OneStopShopClient({ baseUrl: shopUrl, apiKey: 'oss-key', timeoutMs: 2000 }),
    });
    // The fourth dossier is parked for the portal: the replay holds it, it is not sent.
    await parking.park('portal', codes[3]!, {
      reason: 'r',
      kind: 'data',
      attempts: 1,
      firstPosition: 1,
      lastError: 'e',
      parkedAt: new Date().toISOString(),
    });
    const targets = new Map<string, ReplayTarget>([
      ['portal', connectorReplayTarget(portalConnector, { ratePerSecond: 50, callsPerItem: 2, parking })],
      [
        'one-stop-shop',
        connectorReplayTarget(shopConnector, { ratePerSecond: 50, callsPerItem: 1, parking }),
      ],
    ]);
    const service = new ReplayService({
      store: await SqlReplayStore.open(SqliteDatabase.over(store.database)),
      targets,
      events: store,
      confirmAbove: 100,
      chunkSize: 2,
      pollMs: 20,
    });
    service.start();
    try {
      const scope = { dossiers: [codes[2]!, codes[0]!, codes[3]!] };
      const plan = await service.plan('portal', scope, 'ops');
      expect(plan).toMatchObject({ dossiers: [codes[0], codes[2], codes[3]], events: 6, calls: 6 });
      expect((await calls(portalUrl)).total).toBe(0);

      const { replay } = await service.run('portal', scope, { by: 'ops' });
      const end = Date.now() + 20_000;
      while ((await service.get(replay.id)).state === 'running' && Date.now() < end)
        await new Promise((r) => setTimeout(r, 20));
      expect(await service.get(replay.id)).toMatchObject({
        state: 'completed',
        total: 3,
        done: 3,
        failed: 0,
      });

      const seen = await calls(portalUrl);
      expect(seen.total).toBeGreaterThanOrEqual(4);
      expect(seen.replayed).toEqual({ total: seen.total, byReplay: { [replay.id]: seen.total } });
      expect(Object.keys(seen.byDossier).sort()).toEqual([codes[0], codes[2]].sort());
      expect(
        portal
          .state()
          .dossiers.map((d) => d.MaHoSo)
          .sort(),
      ).toEqual([codes[0], codes[2]].sort());
      const other = await calls(shopUrl);
      expect(other.total).toBe(0);
      expect(other.replayed).toEqual({ total: 0, byReplay: {} });
    } finally {
      await service.stop();
    }
  });
});
