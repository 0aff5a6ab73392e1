import { NationalPortalSimulator, parseFaultConfig } from '#lgsp/simulators';
import { ConnectorError } from '../core/errors.js';
import type { PortalDossierRecord, PortalProgressRecord } from './external/portal-wire.js';
import { PortalClient } from './portal-client.js';

let sim: NationalPortalSimulator;
let url: string;
let skewMs = 0;
let n = 0;

beforeAll(async () => {
  sim = new NationalPortalSimulator({ sessionTtlMs: 60_000, now: () => Date.now() + skewMs });
  ({ url } = await sim.start());
});

afterAll(() => sim.stop());

beforeEach(() => {
  sim.reset();
  skewMs = 0;
});

const client = (overrides: Partial<ConstructorParameters<typeof PortalClient>[0]> = {}) =>
  new PortalClient({ baseUrl: url, username: 'lgsp', password: 'lgsp', timeoutMs: 1000, ...overrides });

const dossier = (overrides: Partial<PortalDossierRecord> = {}): PortalDossierRecord => ({
  MaHoSo: `000.00.51.H56-251123-${String(++n).padStart(4, '0')}`,
  MaTTHC: '1.001193',
  TenTTHC: 'Đăng ký khai sinh',
  KenhThucHien: 1,
  ChuHoSo: 'Nguyễn Thị Hoà',
  DinhDanhCHS: [],
  NgayTiepNhan: '20251123091500',
  TrangThaiHoSo: 2,
  DanhSachLePhi: [],
  DanhSachGiayToKetQua: [],
  ...overrides,
});

async function failure(p: Promise<unknown>): Promise<ConnectorError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ConnectorError) return e;
    throw e;
  }
  throw new Error('expected a ConnectorError');
}

describe('PortalClient with the portal simulator', () => {
  it('creates a dossier, then updates it, and looks it up', async () => {
    const c = client();
    const record = dossier();
    expect(await c.syncDossier(record)).toEqual({ created: true, calls: 1 });
    expect(await c.syncDossier({ ...record, TrangThaiHoSo: 4 })).toEqual({ created: false, calls: 1 });
    expect(await c.lookup(record.MaHoSo)).toEqual({ ...record, TrangThaiHoSo: 4, TienDo: [] });
    expect(await c.lookup('000.00.51.H56-251123-9999')).toBeUndefined();
    expect(sim.calls().byOperation.DangNhap).toBe(1);
  });

  it('turns "đã tồn tại" into an update, never a second dossier, even when the answer is in NFD', async () => {
    const record = dossier();
    await client().syncDossier(record);
    sim.faults.configure(parseFaultConfig({ nfd: 1 }, Date.now()));

    expect(await client().syncDossier({ ...record, TrangThaiHoSo: 9 })).toEqual({ created: false, calls: 2 });

    const stored = sim.state().dossiers.filter((d) => d.MaHoSo === record.MaHoSo);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.TrangThaiHoSo).toBe(9);
  });

  it('creates again a dossier the portal lost (a dropped write) instead of failing the update', async () => {
    const c = client();
    const record = dossier();
    sim.faults.configure(parseFaultConfig({ dropWrites: 1, operations: ['DongBoHoSoMC'] }, Date.now()));
    await c.syncDossier(record);
    sim.faults.reset();

    expect(await c.syncDossier(record)).toEqual({ created: true, calls: 2 });
    expect(sim.state().dossiers.map((d) => d.MaHoSo)).toEqual([record.MaHoSo]);
  });

  it('sends progress records in calls of at most 10', async () => {
    const c = client();
    const record = dossier();
    await c.syncDossier(record);
    const progress: PortalProgressRecord[] = Array.from({ length: 23 }, (_, i) => ({
      MaHoSo: record.MaHoSo,
      NguoiXuLy: 'Trần Văn Bình',
      ThoiDiemXuLy: `2025112310${String(i).padStart(2, '0')}00`,
      TrangThai: 4,
    }));

    expect(await c.pushProgress(progress)).toBe(3);
    expect(await c.pushProgress(progress)).toBe(3);
    expect(sim.calls().byOperation.CapNhatTienDoHoSoMC).toBe(6);
    expect((await c.lookup(record.MaHoSo))?.TienDo).toHaveLength(23);
  });

  it('shares one login between concurrent calls, and one re-login after expiry', async () => {
    const c = client();
    await Promise.all(Array.from({ length: 8 }, () => c.syncDossier(dossier())));
    skewMs = 61_000;
    await Promise.all(Array.from({ length: 8 }, () => c.syncDossier(dossier())));
    expect(sim.calls().byOperation.DangNhap).toBe(2);
    expect(sim.state().dossiers).toHaveLength(16);
  });

  it('logs in again once when the session has expired', async () => {
    const c = client();
    await c.syncDossier(dossier());
    skewMs = 61_000;
    await c.syncDossier(dossier());
    expect(sim.calls().byOperation.DangNhap).toBe(2);
  });

  it('classifies the portal’s refusals as data errors', async () => {
    const bad = await failure(client().syncDossier(dossier({ MaHoSo: 'not-a-code' })));
    expect(bad).toMatchObject({ kind: 'data', code: 'rejected', status: 400, target: 'portal' });
    expect(bad.message).toContain('MaHoSo');

    const missing = await failure(
      client().pushProgress([
        {
          MaHoSo: '000.00.51.H56-251123-9998',
          NguoiXuLy: 'A',
          ThoiDiemXuLy: '20251123091500',
          TrangThai: 4,
        },
      ]),
    );
    expect(missing).toMatchObject({ kind: 'data', code: 'rejected' });
  });

  it('keeps a citizen ID the portal echoes out of the error message', async () => {
    const err = await failure(
      client().syncDossier(
        dossier({
          SoGiayToChuHoSo: '05119000123',
          DinhDanhCHS: [{ LoaiDinhDanh: 1, SoDinhDanh: '05119000123' }],
        }),
      ),
    );
    expect(err).toMatchObject({ kind: 'data', status: 400 });
    expect(err.message).toContain('SoDinhDanh');
    expect(err.message).not.toContain('05119000123');
  });

  it('classifies an outage, a rate limit and 5xx as retriable, with the Retry-After', async () => {
    sim.faults.configure(parseFaultConfig({ outage: { forMs: 5000 } }, Date.now()));
    expect(await failure(client().syncDossier(dossier()))).toMatchObject({
      kind: 'retriable',
      code: 'unavailable',
      status: 503,
      retryAfterMs: 5000,
    });

    sim.faults.configure(parseFaultConfig({ rateLimit: { perSecond: 0.5, burst: 1 } }, Date.now()));
    const c = client();
    await c.login();
    expect(await failure(c.syncDossier(dossier()))).toMatchObject({
      kind: 'retriable',
      code: 'rate-limited',
      status: 429,
      retryAfterMs: 2000,
    });

    sim.faults.configure(parseFaultConfig({ errorRate: 1 }, Date.now()));
    expect(await failure(client().syncDossier(dossier()))).toMatchObject({
      kind: 'retriable',
      code: 'unavailable',
    });
  });

  it('classifies a slow portal and an unreachable one as retriable', async () => {
    sim.faults.configure(parseFaultConfig({ latency: 500 }, Date.now()));
    expect(await failure(client({ timeoutMs: 100 }).syncDossier(dossier()))).toMatchObject({
      kind: 'retriable',
      code: 'timeout',
    });

    expect(await failure(client({ baseUrl: 'http://127.0.0.1:1' }).syncDossier(dossier()))).toMatchObject({
      kind: 'retriable',
      code: 'network',
    });
  });

  it('treats refused credentials as the hub’s problem, retriable, not the dossier’s', async () => {
    expect(await failure(client({ password: 'wrong' }).syncDossier(dossier()))).toMatchObject({
      kind: 'retriable',
    });
  });
});
