import { OneStopShopSimulator } from './one-stop-shop/one-stop-shop.js';
import { NationalPortalSimulator } from './portal/national-portal.js';
import { request } from '../../../test/support/sim-http.js';

const dossier = (i: number): Record<string, unknown> => ({
  ma_thu_tuc: '1.001193',
  ten_thu_tuc: 'Đăng ký khai sinh',
  kenh_nop: 'TRUC_TUYEN',
  ho_ten_nguoi_nop: 'Nguyễn Thị Hoà',
  ma_don_vi: '21040',
  ngay_nhan: '01/07/2025 08:30:00',
  trang_thai: 'DA_TIEP_NHAN',
  phien_ban: i,
});
const path = (i: number): string => `/api/v1/ho-so/000.00.15.H56-250701-${String(i).padStart(4, '0')}`;

describe('faults over HTTP', () => {
  let now = Date.UTC(2025, 6, 1, 1);
  const sim = new OneStopShopSimulator({ clock: { now: () => now } });
  let url = '';

  beforeAll(async () => {
    ({ url } = await sim.start());
  });
  afterAll(() => sim.stop());
  beforeEach(() => request(url, 'POST', '/_sim/reset'));

  /** Sets the faults, writes `n` dossiers and returns the statuses and the codes stored. */
  const play = async (
    faults: Record<string, unknown>,
    n: number,
  ): Promise<{ statuses: number[]; stored: string[] }> => {
    await request(url, 'POST', '/_sim/reset');
    expect((await request(url, 'PUT', '/_sim/faults', faults)).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 1; i <= n; i++) statuses.push((await request(url, 'PUT', path(i), dossier(i))).status);
    return { statuses, stored: sim.state().dossiers.map((d) => d.ma_ho_so) };
  };

  it('answers 5xx at the error rate, the same sequence for the same seed', async () => {
    const first = await play({ seed: 11, errorRate: 0.4 }, 40);
    const errors = first.statuses.filter((s) => s >= 500);
    expect(errors.length).toBeGreaterThan(5);
    expect(errors.length).toBeLessThan(30);
    expect(new Set(errors)).toEqual(new Set([500, 502, 504]));
    expect(await play({ seed: 11, errorRate: 0.4 }, 40)).toEqual(first);
    expect((await play({ seed: 12, errorRate: 0.4 }, 40)).statuses).not.toEqual(first.statuses);
    const calls = (await request(url, 'GET', '/_sim/calls')).body;
    expect(calls.byOperation.CapNhatHoSo).toBe(40);
  });

  it('answers a 502 as an nginx HTML page', async () => {
    await request(url, 'PUT', '/_sim/faults', { seed: 11, errorRate: 1 });
    for (let i = 0; i < 20; i++) {
      const res = await request(url, 'GET', path(1));
      if (res.status === 502) {
        expect(res.headers.get('content-type')).toBe('text/html');
        expect(res.text).toContain('nginx');
        return;
      }
    }
    throw new Error('no 502 in 20 calls');
  });

  it('drops writes silently, the same ones for the same seed', async () => {
    const first = await play({ seed: 3, dropWrites: 0.5 }, 20);
    expect(first.statuses.every((s) => s === 201)).toBe(true);
    expect(first.stored.length).toBeGreaterThan(2);
    expect(first.stored.length).toBeLessThan(18);
    expect(await play({ seed: 3, dropWrites: 0.5 }, 20)).toEqual(first);
  });

  it('answers 503 with Retry-After during an outage window and recovers after it', async () => {
    await request(url, 'PUT', '/_sim/faults', { outage: { forMs: 30_000 } });
    const down = await request(url, 'GET', path(1));
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('30');
    expect(down.body).toEqual({ ma_loi: 'E503', thong_bao: expect.any(String) });
    now += 30_000;
    expect((await request(url, 'GET', path(1))).status).toBe(404);
    await request(url, 'PUT', '/_sim/faults', {
      outages: [{ from: new Date(now + 1000).toISOString(), to: new Date(now + 2000).toISOString() }],
    });
    expect((await request(url, 'GET', path(1))).status).toBe(404);
    now += 1500;
    expect((await request(url, 'GET', path(1))).status).toBe(503);
    expect((await request(url, 'GET', '/_sim/calls')).body.rejected.outage).toBe(2);
  });

  it('answers 429 with Retry-After over the rate limit', async () => {
    await request(url, 'PUT', '/_sim/faults', { rateLimit: { perSecond: 1, burst: 2 } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await request(url, 'GET', path(1)));
    expect(statuses.map((s) => s.status)).toEqual([404, 404, 429]);
    expect(statuses[2]!.headers.get('retry-after')).toBe('1');
    now += 1000;
    expect((await request(url, 'GET', path(1))).status).toBe(404);
  });

  it('adds latency from the distribution', async () => {
    await request(url, 'PUT', '/_sim/faults', { latency: { kind: 'uniform', minMs: 80, maxMs: 100 } });
    const started = performance.now();
    await request(url, 'GET', path(1));
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
  });

  it('corrupts a named field of the stored dossier', async () => {
    await request(url, 'PUT', '/_sim/faults', { corrupt: { field: 'ho_ten_nguoi_nop' } });
    const res = await request(url, 'PUT', path(1), dossier(1));
    expect(res.body.du_lieu.ho_ten_nguoi_nop).toBe('Nguyễn Thị Hoà');
    expect(sim.state().dossiers[0]!.ho_ten_nguoi_nop).not.toBe('Nguyễn Thị Hoà');
  });

  it('stores and returns names in NFD', async () => {
    await request(url, 'PUT', '/_sim/faults', { nfd: true });
    await request(url, 'PUT', path(1), dossier(1));
    const read = await request(url, 'GET', path(1));
    const name = read.body.du_lieu.ho_ten_nguoi_nop as string;
    expect(name).not.toBe('Nguyễn Thị Hoà');
    expect(name.normalize('NFC')).toBe('Nguyễn Thị Hoà');
    expect(sim.state().dossiers[0]!.ho_ten_nguoi_nop).toBe(name);
  });

  it('limits faults to the named operations', async () => {
    await request(url, 'PUT', '/_sim/faults', { errorRate: 1, operations: ['CapNhatHoSo'] });
    expect((await request(url, 'PUT', path(1), dossier(1))).status).toBeGreaterThanOrEqual(500);
    expect((await request(url, 'GET', path(1))).status).toBe(404);
  });

  it('answers bad fault settings with a 400 in the system style', async () => {
    const res = await request(url, 'PUT', '/_sim/faults', { errorRate: 'often' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ ma_loi: 'E400', thong_bao: expect.stringContaining('faults.errorRate') });
  });
});

describe('faults on the national portal', () => {
  it('uses the portal error style for an outage', async () => {
    const portal = new NationalPortalSimulator();
    const { url } = await portal.start();
    try {
      await request(url, 'PUT', '/_sim/faults', { outage: { forMs: 5000 } });
      const res = await request(url, 'POST', '/api/login', { username: 'lgsp', password: 'lgsp' });
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ error_code: -1, message: expect.any(String) });
    } finally {
      await portal.stop();
    }
  });
});
