import { request, type HttpAnswer } from '../../../../test/support/sim-http.js';
import { NationalPortalSimulator, type PortalDossier } from './national-portal.js';

const dossier = (code: string, over: Partial<PortalDossier> = {}): Record<string, unknown> => ({
  MaHoSo: code,
  MaTTHC: '1.001193',
  TenTTHC: 'Đăng ký khai sinh',
  KenhThucHien: 1,
  ChuHoSo: 'Nguyễn Văn An',
  SoGiayToChuHoSo: '001099012345',
  DinhDanhCHS: [{ LoaiDinhDanh: 1, SoDinhDanh: '001099012345' }],
  TrichYeuHoSo: 'Đăng ký khai sinh cho con',
  NgayTiepNhan: '20250701083000',
  NgayHenTra: '20250703170000',
  TrangThaiHoSo: 2,
  DanhSachLePhi: [{ TenPhiLePhi: 'Lệ phí', Gia: 0 }],
  MaLinhVuc: 'G09-TP01',
  TenLinhVuc: 'Hộ tịch',
  LoaiDoiTuong: '1',
  HinhThuc: '0',
  DonViXuLy: '000.00.15.H56',
  Email: 'motcua@example.vn',
  SoDienThoai: '02553821234',
  ...over,
});

/** The fields both public clients treat as mandatory in `DongBoHoSoMC`. */
const MANDATORY = [
  'MaLinhVuc',
  'TenLinhVuc',
  'LoaiDoiTuong',
  'HinhThuc',
  'DonViXuLy',
  'NgayHenTra',
  'Email',
  'SoDienThoai',
] as const;

describe('NationalPortalSimulator over HTTP', () => {
  const sim = new NationalPortalSimulator();
  let url = '';
  let session = '';
  const adapter = (body: Record<string, unknown>) =>
    request(url, 'POST', '/api/adapter', { session, ...body });

  beforeAll(async () => {
    ({ url } = await sim.start());
  });
  afterAll(() => sim.stop());
  beforeEach(async () => {
    await request(url, 'POST', '/_sim/reset');
    const login = await request(url, 'POST', '/api/login', { username: 'lgsp', password: 'lgsp' });
    expect(login.body).toEqual(expect.objectContaining({ error_code: 0 }));
    session = login.body.session;
  });

  it('refuses wrong credentials and calls without a valid session', async () => {
    const bad = await request(url, 'POST', '/api/login', { username: 'lgsp', password: 'x' });
    expect(bad.body.error_code).toBe(-1);
    const noSession = await request(url, 'POST', '/api/adapter', { service: 'TraCuuHoSo', MaHoSo: 'X' });
    expect(noSession.status).toBe(200);
    expect(noSession.body).toEqual({ error_code: 401, message: expect.stringContaining('session') });
    const forged = await request(url, 'POST', '/api/adapter', { service: 'TraCuuHoSo', session: 'abc' });
    expect(forged.body.error_code).toBe(401);
  });

  it('expires a session after its time to live', async () => {
    let now = Date.now();
    const short = new NationalPortalSimulator({ sessionTtlMs: 1000, clock: { now: () => now } });
    const started = await short.start();
    try {
      const login = await request(started.url, 'POST', '/api/login', { username: 'lgsp', password: 'lgsp' });
      const look = {
        service: 'TraCuuHoSo',
        session: login.body.session,
        MaHoSo: '000.00.00.H56-250701-0001',
      };
      expect((await request(started.url, 'POST', '/api/adapter', look)).body.error_code).toBe(-1);
      now += 1000;
      expect((await request(started.url, 'POST', '/api/adapter', look)).body.error_code).toBe(401);
    } finally {
      await short.stop();
    }
  });

  it('creates, refuses to create twice with "đã tồn tại", and updates with isUpdating', async () => {
    const code = '000.00.15.H56-250701-0001';
    const created = await adapter({ service: 'DongBoHoSoMC', data: [dossier(code)] });
    expect(created.body.error_code).toBe(0);
    const again = await adapter({ service: 'DongBoHoSoMC', data: [dossier(code, { TrangThaiHoSo: 4 })] });
    expect(again.status).toBe(200);
    expect(again.body.error_code).toBe(-1);
    expect(again.body.message).toBe(`Hồ sơ ${code} đã tồn tại`);
    const missing = await adapter({
      service: 'DongBoHoSoMC',
      data: [{ ...dossier('000.00.15.H56-250701-0002'), isUpdating: true }],
    });
    expect(missing.body.message).toContain('không tồn tại');
    const updated = await adapter({
      service: 'DongBoHoSoMC',
      isUpdating: true,
      data: [dossier(code, { TrangThaiHoSo: 4 })],
    });
    expect(updated.body.error_code).toBe(0);
    const state = sim.state();
    expect(state.dossiers).toHaveLength(1);
    expect(state.dossiers[0]!.TrangThaiHoSo).toBe(4);
    expect(state.history[code]).toEqual([
      expect.objectContaining({ TrangThaiHoSo: 2, isUpdating: false }),
      expect.objectContaining({ TrangThaiHoSo: 4, isUpdating: true }),
    ]);
    const look = await adapter({ service: 'TraCuuHoSo', MaHoSo: code });
    expect(look.body.result).toEqual(expect.objectContaining({ MaHoSo: code, TrangThaiHoSo: 4, TienDo: [] }));
    const notFound = await adapter({ service: 'TraCuuHoSo', MaHoSo: '000.00.15.H56-250701-0009' });
    expect(notFound.body.error_code).toBe(-1);
  });

  it.each([
    ['a bad date', { NgayTiepNhan: '20250231083000' }, 'NgayTiepNhan'],
    ['a local-format date', { NgayTiepNhan: '01/07/2025 08:30:00' }, 'NgayTiepNhan'],
    ['a status outside 1–10', { TrangThaiHoSo: 11 }, 'TrangThaiHoSo'],
    ['a bad dossier code', { MaHoSo: 'HS-1' }, 'MaHoSo'],
    ['a bad procedure code', { MaTTHC: 'KS' }, 'MaTTHC'],
    ['a 10-digit citizen ID', { DinhDanhCHS: [{ LoaiDinhDanh: 1, SoDinhDanh: '0010990123' }] }, 'SoDinhDanh'],
    ['a bad channel', { KenhThucHien: 4 }, 'KenhThucHien'],
  ])('answers 400 in the portal style for %s', async (_name, over, field) => {
    const res = await adapter({
      service: 'DongBoHoSoMC',
      data: [dossier('000.00.15.H56-250701-0001', over as Partial<PortalDossier>)],
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error_code: -1, message: expect.stringContaining(field) });
    expect(sim.state().dossiers).toHaveLength(0);
  });

  it('answers 400 for malformed JSON and an unknown service', async () => {
    const broken = await request(url, 'POST', '/api/adapter', '{"service":');
    expect(broken.status).toBe(400);
    expect(broken.body.error_code).toBe(-1);
    const unknown = await adapter({ service: 'XoaHoSo' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain('service');
  });

  it('appends progress records, at most 10 per call, keeping a repeated record once', async () => {
    const code = '000.00.15.H56-250701-0003';
    await adapter({ service: 'DongBoHoSoMC', data: [dossier(code)] });
    const record = (i: number) => ({
      MaHoSo: code,
      NguoiXuLy: 'Trần Thị Bình',
      ChucDanh: 'Công chức tư pháp',
      ThoiDiemXuLy: `2025070109${String(i).padStart(2, '0')}00`,
      PhongBanXuLy: 'Bộ phận một cửa',
      NoiDungXuLy: `Bước ${i}`,
      TrangThai: 4,
    });
    const eleven = Array.from({ length: 11 }, (_, i) => record(i));
    const tooMany = await adapter({ service: 'CapNhatTienDoHoSoMC', data: eleven });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toContain('10');
    const ok = await adapter({ service: 'CapNhatTienDoHoSoMC', data: eleven.slice(0, 10) });
    expect(ok.body.error_code).toBe(0);
    await adapter({ service: 'CapNhatTienDoHoSoMC', data: [record(9), record(10)] });
    const longName = await adapter({
      service: 'CapNhatTienDoHoSoMC',
      data: [{ ...record(1), NguoiXuLy: 'x'.repeat(51) }],
    });
    expect(longName.status).toBe(400);
    expect(longName.body.message).toContain('NguoiXuLy');
    const look = await adapter({ service: 'TraCuuHoSo', MaHoSo: code });
    expect(look.body.result.TienDo).toHaveLength(11);
  });

  it('exports all dossiers in pages', async () => {
    const data = Array.from({ length: 25 }, (_, i) =>
      dossier(`000.00.15.H56-250701-${String(i + 1).padStart(4, '0')}`),
    );
    await adapter({ service: 'DongBoHoSoMC', data });
    const codes: string[] = [];
    let from: number | null = 0;
    while (from !== null) {
      const page: HttpAnswer = await adapter({ service: 'XuatDanhSachHoSo', ViTri: from, SoLuong: 10 });
      expect(page.body.TongSo).toBe(25);
      codes.push(...page.body.result.map((d: PortalDossier) => d.MaHoSo));
      from = page.body.ViTriTiepTheo;
    }
    expect(codes).toEqual(data.map((d) => d.MaHoSo));
    expect((await adapter({ service: 'XuatDanhSachHoSo', SoLuong: 0 })).status).toBe(400);
  });

  it('exports 100,000 dossiers in pages of 5,000 within seconds', async () => {
    const template = dossier('000.00.15.H56-250701-0001');
    for (let day = 1; day <= 20; day++) {
      const data = Array.from({ length: 5000 }, (_, i) => ({
        ...template,
        MaHoSo: `000.00.15.H56-2507${String(day).padStart(2, '0')}-${String(i + 1).padStart(4, '0')}`,
      }));
      expect((await adapter({ service: 'DongBoHoSoMC', data })).body.error_code).toBe(0);
    }
    const started = performance.now();
    let from: number | null = 0;
    let total = 0;
    while (from !== null) {
      const page: HttpAnswer = await adapter({ service: 'XuatDanhSachHoSo', ViTri: from, SoLuong: 5000 });
      total += page.body.result.length;
      from = page.body.ViTriTiepTheo;
    }
    expect(total).toBe(100_000);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('holds online submissions with stable codes, fetched after a cursor', async () => {
    const created = await request(url, 'POST', '/_sim/online-submissions', [
      { MaTTHC: '1.001193', TenTTHC: 'Đăng ký khai sinh', ChuHoSo: 'Lê Thị Hoa', MaDonVi: '21040' },
      { MaTTHC: '1.000894', TenTTHC: 'Đăng ký kết hôn', ChuHoSo: 'Phạm Văn Nam' },
    ]);
    expect(created.status).toBe(201);
    const [first, second] = created.body;
    expect(first.MaHoSo).toMatch(/^000\.00\.00\.G22-\d{6}-0001$/);
    expect(second.MaHoSo).toMatch(/-0002$/);
    expect(first).toEqual(expect.objectContaining({ KenhThucHien: 2, TrangThaiHoSo: 1, ViTri: 1 }));
    // The procedure's field comes from the portal's own catalogue.
    expect(first).toEqual(expect.objectContaining({ MaLinhVuc: 'G09-TP01', TenLinhVuc: 'Hộ tịch' }));
    const all = await adapter({ service: 'LayDanhSachHoSoTrucTuyen', ViTri: 0 });
    expect(all.body.result.map((s: { MaHoSo: string }) => s.MaHoSo)).toEqual([first.MaHoSo, second.MaHoSo]);
    expect(all.body.ViTriCuoi).toBe(2);
    const after = await adapter({ service: 'LayDanhSachHoSoTrucTuyen', ViTri: 1 });
    expect(after.body.result).toEqual([expect.objectContaining({ MaHoSo: second.MaHoSo, ViTri: 2 })]);
    const none = await adapter({ service: 'LayDanhSachHoSoTrucTuyen', ViTri: 2 });
    expect(none.body).toEqual(expect.objectContaining({ result: [], ViTriCuoi: 2 }));
    const again = await adapter({ service: 'LayDanhSachHoSoTrucTuyen', ViTri: 0 });
    expect(again.body.result[0].MaHoSo).toBe(first.MaHoSo);
    const dup = await adapter({ service: 'DongBoHoSoMC', data: [dossier(first.MaHoSo)] });
    expect(dup.body.message).toContain('đã tồn tại');
    const bad = await request(url, 'POST', '/_sim/online-submissions', { TenTTHC: 'x', ChuHoSo: 'y' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('MaTTHC');
  });

  it.each(MANDATORY)('refuses a dossier without %s with the portal’s error shape', async (field) => {
    const code = '000.00.15.H56-250701-0101';
    for (const absent of [undefined, '']) {
      const record = dossier(code, { [field]: absent });
      if (absent === undefined) delete record[field];
      const refused = await adapter({ service: 'DongBoHoSoMC', data: [record] });
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({ error_code: -1, message: expect.stringContaining(`data[0].${field}`) });
    }
    expect(sim.state().dossiers).toEqual([]);
  });

  it.each([
    ['LoaiDoiTuong', '5'],
    ['LoaiDoiTuong', 'citizen'],
    ['HinhThuc', 'x'],
    ['DonViXuLy', 'ubnd xa'],
    ['Email', 'not-an-address'],
    ['SoDienThoai', '12-34'],
    ['NgayNopHoSo', '2025-07-01'],
    ['NgayTuChoi', '20251399000000'],
    ['TaiKhoanDuocXacThucVoiVNeID', '2'],
    ['DuocThanhToanTrucTuyen', 'yes'],
    ['NoiNopHoSo', 'online'],
    ['DSKetNoiCSDL', [{}]],
    ['DSKetNoiCSDL', 'CSDLQGDC'],
    ['TaiLieuNop', [{ MaThanhPhanHoSo: 'TP1' }]],
    ['DanhSachLePhi', [{ TenPhiLePhi: 'Lệ phí', Gia: '5.000' }]],
    ['DanhSachLePhi', [{ TenPhiLePhi: 'Lệ phí', Gia: '1000', HinhThucThu: 'cash' }]],
    ['DanhSachLePhi', [{ TenPhiLePhi: 'Lệ phí', Gia: -5 }]],
    ['DanhSachLePhi', [{ TenPhiLePhi: 'Lệ phí', Gia: '1000', LoaiPhiLePhi: 1.5 }]],
  ] as const)('refuses %s = %j', async (field, value) => {
    const r = await adapter({
      service: 'DongBoHoSoMC',
      data: [dossier('000.00.15.H56-250701-0102', { [field]: value })],
    });
    expect(r.status).toBe(400);
    expect(r.body.error_code).toBe(-1);
    expect(r.body.message).toContain(field);
  });

  it('never echoes a refused contact (personal data) in its message', async () => {
    for (const [field, value] of [
      ['Email', 'hoa@@example'],
      ['SoDienThoai', '09-1234-5678'],
    ] as const) {
      const r = await adapter({
        service: 'DongBoHoSoMC',
        data: [dossier('000.00.15.H56-250701-0108', { [field]: value })],
      });
      expect(r.status).toBe(400);
      expect(r.body.message).toContain(field);
      expect(r.body.message).not.toContain(value);
    }
    const bad = await request(url, 'POST', '/_sim/online-submissions', {
      MaTTHC: '1.001193',
      TenTTHC: 'Đăng ký khai sinh',
      ChuHoSo: 'Lê Thị Hoa',
      Email: 'hoa at example',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).not.toContain('hoa at example');
  });

  it('refuses bad catalogue queries', async () => {
    const longField = await adapter({ service: 'LayDanhSachTTHC', MaLinhVuc: 'x'.repeat(51) });
    expect(longField.status).toBe(400);
    expect(longField.body.message).toContain('MaLinhVuc');
    expect((await adapter({ service: 'LayDanhSachTTHC', MaLinhVuc: 7 })).status).toBe(400);
    const none = await adapter({ service: 'LayDanhSachTTHC', MaLinhVuc: 'NO-SUCH' });
    expect(none.body).toMatchObject({ error_code: 0, result: [] });
  });

  it('keeps the 2024 schema’s fields, and takes codes and amounts as strings or numbers', async () => {
    const code = '000.00.15.H56-250701-0103';
    const full = dossier(code, {
      LoaiDoiTuong: 2,
      HinhThuc: 1,
      NoiNopHoSo: '2',
      NgayNopHoSo: '20250701080000',
      TaiKhoanDuocXacThucVoiVNeID: '1',
      DuocThanhToanTrucTuyen: 0,
      DSKetNoiCSDL: [{ MaCSDL: 'CSDLQGDC' }],
      TaiLieuNop: [{ MaThanhPhanHoSo: 'TP1', TenTepDinhKem: 'Tờ khai' }],
      DanhSachLePhi: [
        { TenPhiLePhi: 'Lệ phí', Gia: '8000', MaPhiLePhi: 'LP', HinhThucThu: '1', LoaiPhiLePhi: 2 },
      ],
    });
    const r = await adapter({ service: 'DongBoHoSoMC', isUpdating: 'False', data: [full] });
    expect(r.body).toMatchObject({ error_code: 0 });
    const { TienDo: _progress, ...held } = sim.state().dossiers[0]!;
    expect(held).toEqual({ ...full, DanhSachGiayToKetQua: [] });
    const progress = await adapter({
      service: 'CapNhatTienDoHoSoMC',
      data: [
        {
          MaHoSo: code,
          NguoiXuLy: 'Trần Văn Bình',
          ThoiDiemXuLy: '20250701090000',
          TrangThai: 4,
          NgayBatDau: '20250701083000',
          NgayKetThucTheoQuyDinh: '20250703170000',
        },
      ],
    });
    expect(progress.body.error_code).toBe(0);
    expect(sim.state().dossiers[0]!.TienDo[0]).toMatchObject({ NgayBatDau: '20250701083000' });
    const badStart = await adapter({
      service: 'CapNhatTienDoHoSoMC',
      data: [{ MaHoSo: code, NguoiXuLy: 'B', ThoiDiemXuLy: '20250701090000', TrangThai: 4, NgayBatDau: 'x' }],
    });
    expect(badStart.status).toBe(400);
    expect(badStart.body.message).toContain('NgayBatDau');
    const badEnd = await adapter({
      service: 'CapNhatTienDoHoSoMC',
      data: [
        {
          MaHoSo: code,
          NguoiXuLy: 'B',
          ThoiDiemXuLy: '20250701090000',
          TrangThai: 4,
          NgayKetThucTheoQuyDinh: '20250230170000',
        },
      ],
    });
    expect(badEnd.status).toBe(400);
    expect(badEnd.body.message).toContain('NgayKetThucTheoQuyDinh');
  });

  it('reads isUpdating as "True"/"False" (any case) or a boolean, and refuses anything else', async () => {
    const code = '000.00.15.H56-250701-0104';
    expect(
      (await adapter({ service: 'DongBoHoSoMC', isUpdating: 'False', data: [dossier(code)] })).body
        .error_code,
    ).toBe(0);
    const update = await adapter({
      service: 'DongBoHoSoMC',
      data: [{ ...dossier(code, { TrangThaiHoSo: 4 }), isUpdating: 'True' }],
    });
    expect(update.body.error_code).toBe(0);
    expect(
      (await adapter({ service: 'DongBoHoSoMC', isUpdating: 'TRUE', data: [dossier(code)] })).body.error_code,
    ).toBe(0);
    const bad = await adapter({ service: 'DongBoHoSoMC', isUpdating: 'yes', data: [dossier(code)] });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('isUpdating');
  });

  it.each([-1, 0, 3, -3] as const)(
    'answers "đã tồn tại" under error_code %i as its dialect says',
    async (existsCode) => {
      sim.setDialect({ existsCode });
      const code = '000.00.15.H56-250701-0105';
      await adapter({ service: 'DongBoHoSoMC', data: [dossier(code)] });
      const again = await adapter({ service: 'DongBoHoSoMC', data: [dossier(code, { TrangThaiHoSo: 9 })] });
      expect(again.body).toMatchObject({
        error_code: existsCode,
        message: expect.stringContaining('đã tồn tại'),
        result: [{ MaHoSo: code, error_code: existsCode }],
      });
      // Nothing was written.
      expect(sim.state().dossiers[0]?.TrangThaiHoSo).toBe(2);
    },
  );

  it('writes error_code as a string when its dialect says so, every answer alike', async () => {
    const set = await request(url, 'POST', '/_sim/dialect', { errorCodeAsString: true });
    expect(set.body).toMatchObject({ errorCodeAsString: true, existsCode: -1 });
    const ok = await adapter({ service: 'DongBoHoSoMC', data: [dossier('000.00.15.H56-250701-0106')] });
    expect(ok.body).toMatchObject({ error_code: '0', result: [{ error_code: '0' }] });
    const bad = await adapter({ service: 'DongBoHoSoMC', data: [{}] });
    expect(bad.body.error_code).toBe('-1');
    const noSession = await request(url, 'POST', '/api/adapter', { service: 'TraCuuHoSo', MaHoSo: 'X' });
    expect(noSession.body.error_code).toBe('401');
    const badDialect = await request(url, 'POST', '/_sim/dialect', { existsCode: 7 });
    expect(badDialect.status).toBe(400);
    expect((await request(url, 'POST', '/_sim/dialect', { unknown: true })).status).toBe(400);
    expect((await request(url, 'POST', '/_sim/dialect', { randomSuffix: 'yes' })).status).toBe(400);
    // A reset restores the dialect the simulator was started with.
    await request(url, 'POST', '/_sim/reset');
    expect(sim.state().dialect.errorCodeAsString).toBe(false);
  });

  it('answers TraCuuHoSo by lowercase mahoso with a result array, by MaHoSo with the object', async () => {
    const code = '000.00.15.H56-250701-0107';
    await adapter({ service: 'DongBoHoSoMC', data: [dossier(code)] });
    const lower = await adapter({ service: 'TraCuuHoSo', mahoso: code });
    expect(lower.body).toMatchObject({ error_code: 0, result: [{ MaHoSo: code, TienDo: [] }] });
    const unknown = await adapter({ service: 'TraCuuHoSo', mahoso: '000.00.15.H56-250701-9999' });
    expect(unknown.body).toMatchObject({ error_code: 0, result: [] });
    const upper = await adapter({ service: 'TraCuuHoSo', MaHoSo: code });
    expect(upper.body.result).toMatchObject({ MaHoSo: code });
    expect((await adapter({ service: 'TraCuuHoSo', mahoso: 12 })).status).toBe(400);
    expect((await adapter({ service: 'TraCuuHoSo' })).status).toBe(400);
  });

  it('serves the adapter behind /mapi/login and /mapi/g, with madonvi and a dstcode header', async () => {
    const login = await request(url, 'POST', '/mapi/login', { username: 'lgsp', password: 'lgsp' });
    expect(login.body.error_code).toBe(0);
    const res = await fetch(`${url}/mapi/g`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', dstcode: 'VN:GOV:000.00.00.G22:DVCQG' },
      body: JSON.stringify({
        service: 'LayDanhMucCoQuan',
        session: login.body.session,
        madonvi: '000.00.15.H56',
      }),
    });
    expect(((await res.json()) as { error_code: number }).error_code).toBe(0);
    expect(sim.state().lastCall).toEqual({
      path: '/mapi/g',
      madonvi: '000.00.15.H56',
      dstcode: 'VN:GOV:000.00.00.G22:DVCQG',
    });
    const badAgency = await adapter({ service: 'LayDanhMucCoQuan', madonvi: 'ubnd' });
    expect(badAgency.status).toBe(400);
    expect(badAgency.body.message).toContain('madonvi');
    const badHeader = await fetch(`${url}/api/adapter`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', dstcode: 'a b' },
      body: JSON.stringify({ service: 'LayDanhMucCoQuan', session }),
    });
    expect(badHeader.status).toBe(400);
  });

  it('serves the procedure catalogue: LayThuTuc, LayDanhSachTTHC, LayDanhMucCoQuan', async () => {
    const birth = await adapter({ service: 'LayThuTuc', MaTTHC: '1.001193' });
    expect(birth.body).toMatchObject({
      error_code: 0,
      result: {
        MATTHC: '1.001193',
        TENTTHC: 'Đăng ký khai sinh',
        LINHVUCTHUCHIEN: [{ MALINHVUC: 'G09-TP01', TENLINHVUC: 'Hộ tịch' }],
        CACHTHUCTHUCHIEN: expect.arrayContaining([
          { KENH: '1', THOIGIAN: [{ THOIGIANGIAIQUYET: 1, DONVITINH: 'Ngày làm việc' }] },
        ]),
      },
    });
    const unknown = await adapter({ service: 'LayThuTuc', MaTTHC: '9.999999' });
    expect(unknown.body).toEqual({
      error_code: -1,
      message: expect.stringContaining('Không tìm thấy thủ tục'),
    });
    expect((await adapter({ service: 'LayThuTuc', MaTTHC: 'abc' })).status).toBe(400);
    expect((await adapter({ service: 'LayThuTuc' })).status).toBe(400);

    const all = await adapter({ service: 'LayDanhSachTTHC' });
    expect(all.body.result.length).toBeGreaterThanOrEqual(8);
    const attest = await adapter({ service: 'LayDanhSachTTHC', MaLinhVuc: 'G09-TP02' });
    expect(attest.body.result.map((p: { MATTHC: string }) => p.MATTHC).sort()).toEqual([
      '2.000884',
      '2.000908',
    ]);
    const agencies = await adapter({ service: 'LayDanhMucCoQuan' });
    expect(agencies.body.result).toEqual(
      expect.arrayContaining([{ MACOQUAN: '000.00.00.G22', TENCOQUAN: 'Văn phòng Chính phủ' }]),
    );

    const added = await request(url, 'POST', '/_sim/catalogue', {
      procedures: [
        {
          MATTHC: '1.003583',
          TENTTHC: 'Đăng ký thường trú',
          CAPTHUCHIEN: 'Cấp Xã',
          LINHVUCTHUCHIEN: [{ MALINHVUC: 'G04-CA01', TENLINHVUC: 'Đăng ký, quản lý cư trú' }],
        },
      ],
      agencies: [{ MACOQUAN: '000.00.15.H56', TENCOQUAN: 'UBND xã' }],
    });
    expect(added.status).toBe(200);
    expect((await adapter({ service: 'LayThuTuc', MaTTHC: '1.003583' })).body.result.TENTTHC).toBe(
      'Đăng ký thường trú',
    );
    for (const bad of [
      { procedures: [{ MATTHC: '1.003583', TENTTHC: 'x', CAPTHUCHIEN: 'Xã', LINHVUCTHUCHIEN: [] }] },
      {
        procedures: [
          {
            MATTHC: 'x',
            TENTTHC: 'x',
            CAPTHUCHIEN: 'Xã',
            LINHVUCTHUCHIEN: [{ MALINHVUC: 'a', TENLINHVUC: 'b' }],
          },
        ],
      },
      { agencies: [{ MACOQUAN: 'ubnd', TENCOQUAN: 'x' }] },
      { procedures: 'x' },
    ]) {
      expect((await request(url, 'POST', '/_sim/catalogue', bad)).status).toBe(400);
    }
    // A reset restores the default catalogue.
    await request(url, 'POST', '/_sim/reset');
    const gone = await request(url, 'POST', '/api/login', { username: 'lgsp', password: 'lgsp' });
    const after = await request(url, 'POST', '/api/adapter', {
      service: 'LayThuTuc',
      session: gone.body.session,
      MaTTHC: '1.003583',
    });
    expect(after.body.error_code).toBe(-1);
  });

  it('codes online submissions with 5 random digits when its dialect says so (out-of-province agencies)', async () => {
    sim.setDialect({ randomSuffix: true });
    const created = await request(url, 'POST', '/_sim/online-submissions', [
      { MaTTHC: '1.001193', TenTTHC: 'Đăng ký khai sinh', ChuHoSo: 'Lê Thị Hoa' },
      { MaTTHC: '1.001193', TenTTHC: 'Đăng ký khai sinh', ChuHoSo: 'Lê Văn Hải' },
    ]);
    const codes = created.body.map((s: { MaHoSo: string }) => s.MaHoSo);
    for (const c of codes) expect(c).toMatch(/^000\.00\.00\.G22-\d{6}-[1-9]\d{4}$/);
    expect(new Set(codes).size).toBe(2);
    // The portal accepts its own codes back.
    const synced = await adapter({ service: 'DongBoHoSoMC', isUpdating: 'True', data: [dossier(codes[0])] });
    expect(synced.body.error_code).toBe(0);
  });

  it('counts calls per operation and per dossier', async () => {
    const code = '000.00.15.H56-250701-0004';
    await adapter({ service: 'DongBoHoSoMC', data: [dossier(code)] });
    await adapter({ service: 'TraCuuHoSo', MaHoSo: code });
    const calls = await request(url, 'GET', '/_sim/calls');
    expect(calls.body.byOperation).toEqual(expect.objectContaining({ DongBoHoSoMC: 1, TraCuuHoSo: 1 }));
    expect(calls.body.byDossier[code]).toEqual({ DongBoHoSoMC: 1, TraCuuHoSo: 1 });
  });
});
