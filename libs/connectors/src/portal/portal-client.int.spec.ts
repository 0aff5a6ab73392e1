import { parseFaultConfig } from '#lgsp/simulators';
import { connectorFailure } from '../core/errors.testing.js';
import type { PortalDossierRecord, PortalProgressRecord } from './external/portal-wire.js';
import { withPortalSimulator } from './portal-client.testing.js';

const portal = withPortalSimulator();
const { client } = portal;
let n = 0;

const dossier = (overrides: Partial<PortalDossierRecord> = {}): PortalDossierRecord => ({
  MaHoSo: `000.00.51.H56-251123-${String(++n).padStart(4, '0')}`,
  MaTTHC: '1.001193',
  TenTTHC: 'Đăng ký khai sinh',
  KenhThucHien: 1,
  ChuHoSo: 'Nguyễn Thị Hoà',
  DinhDanhCHS: [],
  NgayTiepNhan: '20251123091500',
  NgayHenTra: '20251126170000',
  MaLinhVuc: 'G09-TP01',
  TenLinhVuc: 'Hộ tịch',
  LoaiDoiTuong: '1',
  HinhThuc: '0',
  DonViXuLy: '000.00.51.H56',
  Email: 'motcua@binhson.gov.vn',
  SoDienThoai: '02553821234',
  TrangThaiHoSo: 2,
  DanhSachLePhi: [],
  DanhSachGiayToKetQua: [],
  ...overrides,
});

describe('PortalClient with the portal simulator', () => {
  it('creates a dossier, then updates it, and looks it up', async () => {
    const c = client();
    const record = dossier();
    expect(await c.syncDossier(record)).toEqual({ created: true, calls: 1 });
    expect(await c.syncDossier({ ...record, TrangThaiHoSo: 4 })).toEqual({ created: false, calls: 1 });
    expect(await c.lookup(record.MaHoSo)).toEqual({ ...record, TrangThaiHoSo: 4, TienDo: [] });
    expect(await c.lookup('000.00.51.H56-251123-9999')).toBeUndefined();
    expect(portal.sim.calls().byOperation.DangNhap).toBe(1);
  });

  it('turns "đã tồn tại" into an update, never a second dossier, even when the answer is in NFD', async () => {
    const record = dossier();
    await client().syncDossier(record);
    portal.sim.faults.configure(parseFaultConfig({ nfd: 1 }, Date.now()));

    expect(await client().syncDossier({ ...record, TrangThaiHoSo: 9 })).toEqual({ created: false, calls: 2 });

    const stored = portal.sim.state().dossiers.filter((d) => d.MaHoSo === record.MaHoSo);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.TrangThaiHoSo).toBe(9);
  });

  it('creates again a dossier the portal lost (a dropped write) instead of failing the update', async () => {
    const c = client();
    const record = dossier();
    portal.sim.faults.configure(
      parseFaultConfig({ dropWrites: 1, operations: ['DongBoHoSoMC'] }, Date.now()),
    );
    await c.syncDossier(record);
    portal.sim.faults.reset();

    expect(await c.syncDossier(record)).toEqual({ created: true, calls: 2 });
    expect(portal.sim.state().dossiers.map((d) => d.MaHoSo)).toEqual([record.MaHoSo]);
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
    expect(portal.sim.calls().byOperation.CapNhatTienDoHoSoMC).toBe(6);
    expect((await c.lookup(record.MaHoSo))?.TienDo).toHaveLength(23);
  });

  it('shares one login between concurrent calls, and one re-login after expiry', async () => {
    const c = client();
    await Promise.all(Array.from({ length: 8 }, () => c.syncDossier(dossier())));
    portal.skew(61_000);
    await Promise.all(Array.from({ length: 8 }, () => c.syncDossier(dossier())));
    expect(portal.sim.calls().byOperation.DangNhap).toBe(2);
    expect(portal.sim.state().dossiers).toHaveLength(16);
  });

  it('logs in again once when the session has expired', async () => {
    const c = client();
    await c.syncDossier(dossier());
    portal.skew(61_000);
    await c.syncDossier(dossier());
    expect(portal.sim.calls().byOperation.DangNhap).toBe(2);
  });

  it('classifies the portal’s refusals as data errors', async () => {
    const bad = await connectorFailure(client().syncDossier(dossier({ MaHoSo: 'not-a-code' })));
    expect(bad).toMatchObject({ kind: 'data', code: 'rejected', status: 400, target: 'portal' });
    expect(bad.message).toContain('MaHoSo');

    const missing = await connectorFailure(
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
    const err = await connectorFailure(
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
    portal.sim.faults.configure(parseFaultConfig({ outage: { forMs: 5000 } }, Date.now()));
    expect(await connectorFailure(client().syncDossier(dossier()))).toMatchObject({
      kind: 'retriable',
      code: 'unavailable',
      status: 503,
      retryAfterMs: 5000,
    });

    portal.sim.faults.configure(parseFaultConfig({ rateLimit: { perSecond: 0.5, burst: 1 } }, Date.now()));
    const c = client();
    await c.login();
    expect(await connectorFailure(c.syncDossier(dossier()))).toMatchObject({
      kind: 'retriable',
      code: 'rate-limited',
      status: 429,
      retryAfterMs: 2000,
    });

    portal.sim.faults.configure(parseFaultConfig({ errorRate: 1 }, Date.now()));
    expect(await connectorFailure(client().syncDossier(dossier()))).toMatchObject({
      kind: 'retriable',
      code: 'unavailable',
    });
  });

  it('classifies a slow portal and an unreachable one as retriable', async () => {
    portal.sim.faults.configure(parseFaultConfig({ latency: 500 }, Date.now()));
    expect(await connectorFailure(client({ timeoutMs: 100 }).syncDossier(dossier()))).toMatchObject({
      kind: 'retriable',
      code: 'timeout',
    });

    expect(
      await connectorFailure(client({ baseUrl: 'http://127.0.0.1:1' }).syncDossier(dossier())),
    ).toMatchObject({
      kind: 'retriable',
      code: 'network',
    });
  });

  it('treats refused credentials as the hub’s problem, retriable, not the dossier’s', async () => {
    expect(await connectorFailure(client({ password: 'wrong' }).syncDossier(dossier()))).toMatchObject({
      kind: 'retriable',
    });
  });
});
