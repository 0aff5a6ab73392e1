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

  it('remembers the dossiers it made up to knownDossiers, those used longest ago forgotten first', async () => {
    const c = client({ knownDossiers: 4 });
    const records = Array.from({ length: 5 }, () => dossier());
    for (const r of records) await c.syncDossier(r);
    // The first two were made before the last three: they are forgotten, and an update of one of them
    // costs a creation answered "đã tồn tại" first; the last ones are still known.
    expect(await c.syncDossier({ ...records[4]!, TrangThaiHoSo: 4 })).toEqual({ created: false, calls: 1 });
    expect(await c.syncDossier({ ...records[0]!, TrangThaiHoSo: 4 })).toEqual({ created: false, calls: 2 });
    // Used again, it is known again.
    expect(await c.syncDossier({ ...records[0]!, TrangThaiHoSo: 9 })).toEqual({ created: false, calls: 1 });
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

  it('reads the catalogue’s answer variants, and takes a garbled one as retriable', async () => {
    /** A portal that logs in, then gives `answers` in turn (login is the first). */
    const scripted = (...answers: unknown[]) => {
      const queue = [{ error_code: 0, session: 's' }, ...answers];
      const fake: typeof fetch = async () => new Response(JSON.stringify(queue.shift()), { status: 200 });
      return client({ fetch: fake });
    };
    const birth = {
      MATTHC: '1.001193',
      TENTTHC: 'Đăng ký khai sinh'.normalize('NFD'),
      LINHVUCTHUCHIEN: [{ MALINHVUC: 'G09-TP01', TENLINHVUC: 'Hộ tịch' }, { MALINHVUC: '' }],
      CACHTHUCTHUCHIEN: [
        { KENH: 1, THOIGIAN: [{ THOIGIANGIAIQUYET: '5', DONVITINH: 'Ngày' }] },
        {
          KENH: 2,
          THOIGIAN: [
            { THOIGIANGIAIQUYET: 3, DONVITINH: 'Ngày làm việc' },
            { THOIGIANGIAIQUYET: 2, DONVITINH: 'Giờ' },
          ],
        },
      ],
    };
    // `result` as an array, codes as strings, names in NFD, the shortest limit in days.
    expect(await scripted({ error_code: '0', result: [birth] }).procedure('1.001193')).toEqual({
      code: '1.001193',
      name: 'Đăng ký khai sinh'.normalize('NFC'),
      sectors: [{ code: 'G09-TP01', name: 'Hộ tịch' }],
      timeLimit: { days: 3, working: true },
    });
    expect(await scripted({ error_code: 0, result: [] }).procedure('1.001193')).toBeUndefined();
    expect(
      await connectorFailure(
        scripted({ error_code: 0, result: { MATTHC: '1.001193' } }).procedure('1.001193'),
      ),
    ).toMatchObject({
      kind: 'retriable',
    });
    expect(
      await connectorFailure(scripted({ error_code: -1, message: 'Lỗi hệ thống' }).procedure('1.001193')),
    ).toMatchObject({
      kind: 'data',
      code: 'rejected',
    });
    expect(await connectorFailure(scripted({ error_code: 0 }).procedures())).toMatchObject({
      kind: 'retriable',
    });
    expect(await connectorFailure(scripted({ error_code: 0, result: {} }).agencies())).toMatchObject({
      kind: 'retriable',
    });
    expect(
      await scripted({
        error_code: 0,
        result: [{ MACOQUAN: 'X' }, { MACOQUAN: '000.00.00.G22', TENCOQUAN: 'VPCP' }],
      }).agencies(),
    ).toEqual([{ code: '000.00.00.G22', name: 'VPCP' }]);
    expect(
      await connectorFailure(scripted({ error_code: 0, result: ['x'] }).lookup('000.00.51.H56-251123-0001')),
    ).toMatchObject({
      kind: 'retriable',
    });
    // An answer whose error_code is neither a number nor a numeric string is not the portal's.
    expect(
      await connectorFailure(scripted({ error_code: 'OK' }).lookup('000.00.51.H56-251123-0001')),
    ).toMatchObject({
      kind: 'retriable',
    });
  });

  it('keeps an e-mail address, a phone or an ID the portal echoes out of the error message', async () => {
    // A portal that logs in, then refuses the dossier with a message quoting the applicant's contact.
    const answers = [
      { error_code: '0', session: 's' },
      {
        error_code: '-1',
        message: 'Email hoa.nguyen@example.vn hoặc số điện thoại 0912345678 không hợp lệ',
        result: [],
      },
    ];
    const fake: typeof fetch = async () => new Response(JSON.stringify(answers.shift()), { status: 200 });
    const err = await connectorFailure(client({ fetch: fake }).syncDossier(dossier()));
    expect(err).toMatchObject({ kind: 'data', code: 'rejected' });
    expect(err.message).toContain('không hợp lệ');
    expect(err.message).not.toContain('hoa.nguyen@example.vn');
    expect(err.message).not.toContain('0912345678');
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

  it('refuses a dossier without a mandatory field as a data error naming it', async () => {
    for (const field of ['MaLinhVuc', 'Email', 'SoDienThoai', 'DonViXuLy'] as const) {
      const record: Partial<PortalDossierRecord> = dossier();
      delete record[field];
      const err = await connectorFailure(client().syncDossier(record as PortalDossierRecord));
      expect(err).toMatchObject({ kind: 'data', code: 'rejected', status: 400, target: 'portal' });
      expect(err.message).toContain(field);
    }
    expect(portal.sim.state().dossiers).toEqual([]);
  });

  it('sends isUpdating as "True"/"False" and Gia as a string, which the portal keeps', async () => {
    const c = client();
    const record = dossier({ DanhSachLePhi: [{ TenPhiLePhi: 'Lệ phí', Gia: '8000' }] });
    await c.syncDossier(record);
    await c.syncDossier({ ...record, TrangThaiHoSo: 4 });
    const history = portal.sim.state().history[record.MaHoSo] as { isUpdating: boolean }[];
    expect(history.map((h) => h.isUpdating)).toEqual([false, true]);
    expect(portal.sim.state().dossiers[0]?.DanhSachLePhi).toEqual([{ TenPhiLePhi: 'Lệ phí', Gia: '8000' }]);
  });

  it.each([-1, 0, 3, -3] as const)(
    'reads "already exists" under error_code %i and turns the creation into an update',
    async (existsCode) => {
      const record = dossier();
      await client().syncDossier(record);
      portal.sim.setDialect({ existsCode });
      // A fresh client does not know the dossier exists: its creation is answered "already exists".
      expect(await client().syncDossier({ ...record, TrangThaiHoSo: 9 })).toEqual({
        created: false,
        calls: 2,
      });
      const stored = portal.sim.state().dossiers.filter((d) => d.MaHoSo === record.MaHoSo);
      expect(stored.map((d) => d.TrangThaiHoSo)).toEqual([9]);
    },
  );

  it('reads error_code written as a string in every answer', async () => {
    portal.sim.setDialect({ errorCodeAsString: true });
    const c = client();
    const record = dossier();
    expect(await c.syncDossier(record)).toEqual({ created: true, calls: 1 });
    expect(await client().syncDossier({ ...record, TrangThaiHoSo: 4 })).toEqual({ created: false, calls: 2 });
    expect((await c.lookup(record.MaHoSo))?.TrangThaiHoSo).toBe(4);
    expect(await c.procedure('1.001193')).toMatchObject({ name: 'Đăng ký khai sinh' });
    const refused = await connectorFailure(client().syncDossier(dossier({ MaHoSo: 'not-a-code' })));
    expect(refused).toMatchObject({ kind: 'data', code: 'rejected' });
    // A session expired under a string code still logs in again.
    portal.skew(61_000);
    expect((await c.lookup(record.MaHoSo))?.MaHoSo).toBe(record.MaHoSo);
    expect(portal.sim.calls().byOperation.DangNhap).toBe(4);
  });

  it.each(['mahoso', 'MaHoSo'] as const)(
    'looks a dossier up by %s and reads either answer',
    async (lookupKey) => {
      const c = client({ lookupKey });
      const record = dossier();
      await c.syncDossier(record);
      expect(await c.lookup(record.MaHoSo)).toEqual({ ...record, TienDo: [] });
      expect(await c.lookup('000.00.51.H56-251123-9999')).toBeUndefined();
    },
  );

  it('calls the adapter paths it is configured with, with madonvi and a dstcode header', async () => {
    const c = client({
      loginPath: '/mapi/login',
      servicePath: '/mapi/g',
      agencyId: '000.00.51.H56',
      dstCode: 'VN:GOV:000.00.00.G22:DVCQG',
    });
    await c.syncDossier(dossier());
    expect(portal.sim.state().lastCall).toEqual({
      path: '/mapi/g',
      madonvi: '000.00.51.H56',
      dstcode: 'VN:GOV:000.00.00.G22:DVCQG',
    });
    // Without them: the default paths, and neither madonvi nor dstcode.
    await client().syncDossier(dossier());
    expect(portal.sim.state().lastCall).toEqual({ path: '/api/adapter' });
    const wrong = await connectorFailure(client({ servicePath: '/mapi/x' }).syncDossier(dossier()));
    expect(wrong).toMatchObject({ kind: 'data', status: 404 });
  });

  it('reads the procedure catalogue: LayThuTuc, LayDanhSachTTHC, LayDanhMucCoQuan', async () => {
    const c = client();
    expect(await c.procedure('1.000894')).toEqual({
      code: '1.000894',
      name: 'Đăng ký kết hôn',
      sectors: [{ code: 'G09-TP01', name: 'Hộ tịch' }],
      timeLimit: { days: 5, working: true },
    });
    expect(await c.procedure('9.999999')).toBeUndefined();
    expect(await connectorFailure(c.procedure('not a code'))).toMatchObject({ kind: 'data', status: 400 });
    const attest = await c.procedures('G09-TP02');
    expect(attest.map((p) => p.code).sort()).toEqual(['2.000884', '2.000908']);
    expect((await c.procedures()).length).toBeGreaterThanOrEqual(8);
    expect(await c.agencies()).toEqual(
      expect.arrayContaining([{ code: '000.00.00.G22', name: 'Văn phòng Chính phủ' }]),
    );
  });

  it('syncs and looks up a dossier whose code ends in 5 random digits (out-of-province agencies)', async () => {
    const c = client();
    const record = dossier({ MaHoSo: '000.00.01.H01-251123-48213' });
    expect(await c.syncDossier(record)).toEqual({ created: true, calls: 1 });
    expect((await c.lookup(record.MaHoSo))?.MaHoSo).toBe(record.MaHoSo);
  });
});
