import { OneStopShopSimulator, OSS_CHANNEL as SIM_CHANNEL, OSS_STATUS as SIM_STATUS } from '#lgsp/simulators';
import { connectorFailure } from '../core/errors.testing.js';
import type { OneStopShopDossierBody, OneStopShopProgressEntry } from './external/one-stop-shop-wire.js';
import { OneStopShopClient } from './one-stop-shop-client.js';
import { OSS_STATUS } from './external/one-stop-shop-wire.js';
import { OSS_CHANNEL } from './one-stop-shop-mapping.js';

const API_KEY = 'oss-test-key';
let sim: OneStopShopSimulator;
let url: string;
let n = 0;

beforeAll(async () => {
  sim = new OneStopShopSimulator({ apiKey: API_KEY });
  ({ url } = await sim.start());
});

afterAll(() => sim.stop());

beforeEach(() => sim.reset());

const client = (overrides: Partial<ConstructorParameters<typeof OneStopShopClient>[0]> = {}) =>
  new OneStopShopClient({ baseUrl: url, apiKey: API_KEY, timeoutMs: 1000, ...overrides });

const newCode = () => `000.00.51.H56-251123-${String(++n).padStart(4, '0')}`;

const body = (overrides: Partial<OneStopShopDossierBody> = {}): OneStopShopDossierBody => ({
  ma_thu_tuc: '1.001193',
  ten_thu_tuc: 'Đăng ký khai sinh',
  kenh_nop: 'TRUC_TIEP',
  ho_ten_nguoi_nop: 'Nguyễn Thị Hoà',
  so_giay_to: '051190001234',
  ma_don_vi: '21040',
  ngay_nhan: '23/11/2025 09:15:00',
  trang_thai: 'DA_TIEP_NHAN',
  le_phi: [{ ten: 'Lệ phí', so_tien: 8000 }],
  phien_ban: 2,
  ...overrides,
});

const entry = (i: number): OneStopShopProgressEntry => ({
  can_bo: 'Trần Văn Bình',
  thoi_gian: `23/11/2025 10:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`,
  noi_dung: `Bước ${i}`,
  trang_thai: 'DANG_XU_LY',
});

const setFaults = async (faults: Record<string, unknown>) => {
  const res = await fetch(`${url}/_sim/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  expect(res.status).toBe(200);
};

describe('OneStopShopClient with the one-stop-shop simulator', () => {
  it('uses the shop’s own status and channel names', () => {
    expect(OSS_STATUS).toEqual(SIM_STATUS);
    expect(Object.values(OSS_CHANNEL)).toEqual(Object.values(SIM_CHANNEL));
  });

  it('creates a dossier, replaces it, and reads it back with its progress', async () => {
    const c = client();
    const code = newCode();
    expect(await c.putDossier(code, body())).toBe('created');
    expect(await c.putDossier(code, body({ trang_thai: 'DANG_XU_LY', phien_ban: 3 }))).toBe('replaced');
    expect(await c.addProgress(code, [entry(1)])).toBe(1);

    expect(await c.getDossier(code)).toEqual({
      ...body({ trang_thai: 'DANG_XU_LY', phien_ban: 3 }),
      ma_ho_so: code,
      ngay_cap_nhat: expect.stringMatching(/^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2}$/),
      tien_do: [entry(1)],
    });
    expect(await c.getDossier(newCode())).toBeUndefined();
  });

  it('takes the shop’s 409 for an older phien_ban as done, and the newer state stays', async () => {
    const c = client();
    const code = newCode();
    await c.putDossier(code, body({ trang_thai: 'DA_XU_LY_XONG', phien_ban: 5 }));

    expect(await c.putDossier(code, body({ trang_thai: 'DA_TIEP_NHAN', phien_ban: 2 }))).toBe('newer-held');
    expect(await c.putDossier(code, body({ trang_thai: 'DA_XU_LY_XONG', phien_ban: 5 }))).toBe('replaced');

    expect((await c.getDossier(code))?.trang_thai).toBe('DA_XU_LY_XONG');
    expect(sim.state().history[code]).toEqual([
      expect.objectContaining({ phien_ban: 5 }),
      expect.objectContaining({ phien_ban: 5 }),
    ]);
  });

  it('sends progress in calls of at most 50 entries, and a repeat adds no duplicate', async () => {
    const c = client();
    const code = newCode();
    await c.putDossier(code, body());
    const entries = Array.from({ length: 120 }, (_, i) => entry(i));

    expect(await c.addProgress(code, entries)).toBe(3);
    expect(await c.addProgress(code, entries)).toBe(3);
    expect(await c.addProgress(code, [])).toBe(0);

    expect((await c.getDossier(code))?.tien_do).toEqual(entries);
    expect(sim.calls().byOperation.ThemTienDo).toBe(6);
  });

  it('lists the dossiers page by page in creation order', async () => {
    const c = client();
    const codes = [newCode(), newCode(), newCode()];
    for (const code of codes) await c.putDossier(code, body());

    const first = await c.listDossiers(1, 2);
    const second = await c.listDossiers(2, 2);

    expect(first).toMatchObject({ page: 1, size: 2, total: 3, pages: 2 });
    expect(first.dossiers.map((d) => d.ma_ho_so)).toEqual(codes.slice(0, 2));
    expect(second.dossiers.map((d) => d.ma_ho_so)).toEqual(codes.slice(2));
    expect((await c.listDossiers()).dossiers).toHaveLength(3);
    await expect(c.listDossiers(0, 10)).rejects.toThrow(RangeError);
    await expect(c.listDossiers(1, 2001)).rejects.toThrow(RangeError);
  });

  it('refuses refused content as a data error without personal data in the message', async () => {
    const c = client();
    const code = newCode();
    const badId = await connectorFailure(c.putDossier(code, body({ so_giay_to: '05119000123' })));
    expect(badId).toMatchObject({ kind: 'data', code: 'rejected', status: 400, target: 'one-stop-shop' });
    expect(badId.message).toContain('so_giay_to');
    expect(badId.message).not.toContain('05119000123');

    const badName = await connectorFailure(
      c.putDossier(code, body({ ho_ten_nguoi_nop: 'Nguyễn Thị Hoà', ma_don_vi: 'Hoà-1' })),
    );
    expect(badName.message).toContain('ma_don_vi');
    expect(badName.message).not.toContain('Hoà');

    const unknown = await connectorFailure(c.addProgress(newCode(), [entry(1)]));
    expect(unknown).toMatchObject({ kind: 'data', status: 404 });
  });

  it('takes a refused API key as retriable (the hub’s configuration, not the dossier’s data)', async () => {
    const err = await connectorFailure(client({ apiKey: 'wrong' }).putDossier(newCode(), body()));
    expect(err).toMatchObject({ kind: 'retriable', code: 'unavailable', status: 401 });
    expect(err.message).not.toContain('wrong');
    expect(
      await connectorFailure(new OneStopShopClient({ baseUrl: url }).getDossier(newCode())),
    ).toMatchObject({
      kind: 'retriable',
      status: 401,
    });
  });

  it('classifies outages, rate limits and server errors as retriable, with Retry-After', async () => {
    const c = client();
    await setFaults({ outage: { forMs: 5000 } });
    expect(await connectorFailure(c.putDossier(newCode(), body()))).toMatchObject({
      kind: 'retriable',
      code: 'unavailable',
      status: 503,
      retryAfterMs: 5000,
    });

    await setFaults({ rateLimit: { perSecond: 1, burst: 1 } });
    await c.putDossier(newCode(), body());
    expect(await connectorFailure(c.putDossier(newCode(), body()))).toMatchObject({
      kind: 'retriable',
      code: 'rate-limited',
      status: 429,
      retryAfterMs: expect.any(Number),
    });

    await setFaults({ errorRate: 1, seed: 7 });
    for (let i = 0; i < 5; i++) {
      const err = await connectorFailure(c.getDossier(newCode()));
      expect(err).toMatchObject({ kind: 'retriable', code: 'unavailable' });
      expect([500, 502, 504]).toContain(err.status);
    }
  });

  it('classifies an unreachable shop and a slow one as retriable', async () => {
    const dead = new OneStopShopSimulator();
    const { url: deadUrl } = await dead.start();
    await dead.stop();
    expect(await connectorFailure(client({ baseUrl: deadUrl }).getDossier(newCode()))).toMatchObject({
      kind: 'retriable',
      code: 'network',
    });

    await setFaults({ latency: 300 });
    expect(await connectorFailure(client({ timeoutMs: 50 }).getDossier(newCode()))).toMatchObject({
      kind: 'retriable',
      code: 'timeout',
    });
  });

  it('passes the caller’s abort through rather than classifying it', async () => {
    await setFaults({ latency: 300 });
    const controller = new AbortController();
    const pending = client().putDossier(newCode(), body(), controller.signal);
    controller.abort(new Error('shutting down'));
    await expect(pending).rejects.toThrow('shutting down');
  });
});
