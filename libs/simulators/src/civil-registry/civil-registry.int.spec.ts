import { parseVn } from '#lgsp/connectors';
import { request } from '../../../../test/support/sim-http.js';
import { CERTIFICATE_PDF_BASE64, CivilRegistrySimulator, RESULT_BATCH_MAX } from './civil-registry.js';

const dossier = (n: number) => `000.00.15.H56-250701-${String(n).padStart(4, '0')}`;
const person = {
  nksHoTen: 'Nguyễn Minh Khang',
  nksNgaySinh: '28.06.2025',
  nksGioiTinh: 1,
  meHoTen: 'Lê Thị Hoa',
};
const birth = (n: number, overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  maDonVi: '21040',
  module: 'LTKS',
  maHoSoLT: `LT250701${String(n).padStart(6, '0')}`,
  maHoSoMCDT: dossier(n),
  ngayTiepNhan: '01/07/2025 08:30:00',
  data: JSON.stringify(person),
  fileDinhKem: [{ tenTep: 'to-khai.pdf', noiDung: 'JVBERi0xLjQK' }],
  ...overrides,
});

describe('CivilRegistrySimulator over HTTP (NhanDKHT, LayKetQua, DanhSachHoSo)', () => {
  const sim = new CivilRegistrySimulator();
  let url = '';
  const results = async (...ns: number[]) =>
    (
      await request(url, 'POST', '/api/LayKetQua', {
        maDinhDanhHoSo: ns.map(dossier),
        maTinh: '15',
        module: 'LTKS',
      })
    ).body.value as Record<string, unknown>[];
  const poll = async (n: number) => (await results(n))[0]!;

  beforeAll(async () => {
    ({ url } = await sim.start());
  });
  afterAll(() => sim.stop());
  beforeEach(() => request(url, 'POST', '/_sim/reset'));

  it('receives a birth and progresses 1 → 3 → 4 with the registration and certificate, in four date formats', async () => {
    await request(url, 'PUT', '/_sim/config', { outcomes: { done: 1 }, processingPolls: { min: 2, max: 2 } });
    const received = await request(url, 'POST', '/api/NhanDKHT', birth(1));
    expect(received.body).toEqual({
      status: '1',
      statusDescription: 'Tiếp nhận thành công',
      errorCode: '',
      errorDescription: '',
    });
    const statuses = [];
    let last: Record<string, unknown> = {};
    for (let i = 0; i < 5; i++) {
      last = await poll(1);
      statuses.push(last.trangThai);
    }
    expect(statuses).toEqual([1, 3, 3, 4, 4]);
    expect(last).toMatchObject({
      maHoSoMCDT: dossier(1),
      maHoSoLT: 'LT250701000001',
      soDangKy: '1',
      quyenSo: expect.stringMatching(/^01\/\d{4}$/),
      trangSo: '1',
      soDinhDanh: expect.stringMatching(/^\d{12}$/),
      ketQuaXuLy: { giayKhaiSinh: CERTIFICATE_PDF_BASE64 },
    });
    const pdf = Buffer.from(String((last.ketQuaXuLy as { giayKhaiSinh: string }).giayKhaiSinh), 'base64');
    expect(pdf.toString('latin1').startsWith('%PDF')).toBe(true);
    expect(parseVn(String(last.ngayTiepNhan), 'legacy')).toBeDefined();
    expect(parseVn(String(last.ngayDangKy), 'dateOnly')).toBeDefined();
    expect(parseVn(String(last.ngayCapNhat), 'iso')).toBeDefined();
    expect(sim.state().registrations[0]).toMatchObject({ data: person, fileDinhKem: ['to-khai.pdf'] });
  });

  it('answers a batch: each known dossier once, unknown and other-module ones left out, each advanced one step', async () => {
    await request(url, 'PUT', '/_sim/config', { outcomes: { done: 1 }, processingPolls: { min: 1, max: 1 } });
    await request(url, 'POST', '/api/NhanDKHT', birth(1));
    await request(url, 'POST', '/api/NhanDKHT', birth(2));
    await request(
      url,
      'POST',
      '/api/NhanDKHT',
      birth(3, { module: 'LTKT', data: '{"nktHoTen":"Trần Văn Bảy"}' }),
    );
    const first = await results(1, 2, 2, 3, 9);
    expect(first.map((r) => [r.maHoSoMCDT, r.trangThai])).toEqual([
      [dossier(1), 1],
      [dossier(2), 1],
    ]);
    expect((await results(2)).map((r) => r.trangThai)).toEqual([3]);
    expect((await results(1, 2)).map((r) => r.trangThai)).toEqual([3, 4]);
  });

  it('plans outcomes from the seed: the same seed gives the same progressions', async () => {
    const run = async (): Promise<number[][]> => {
      await request(url, 'POST', '/_sim/reset');
      await request(url, 'PUT', '/_sim/config', { seed: 99 });
      const all: number[][] = [];
      for (let i = 0; i < 12; i++) {
        await request(url, 'POST', '/api/NhanDKHT', birth(i));
        const seen: number[] = [];
        for (let p = 0; p < 7; p++) seen.push(Number((await poll(i)).trangThai));
        all.push(seen);
      }
      return all;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(first.every((s) => s[0] === 1 && [4, 6].includes(s.at(-1)!))).toBe(true);
    expect(new Set(first.map((s) => s.join())).size).toBeGreaterThan(1);
  });

  it('shows supplement needed (2) and rejection (6) with a reason', async () => {
    await request(url, 'PUT', '/_sim/config', { outcomes: { supplement: 1 }, processingPolls: { min: 1 } });
    await request(url, 'POST', '/api/NhanDKHT', birth(1));
    const s = [await poll(1), await poll(1), await poll(1), await poll(1)];
    expect(s.map((d) => d.trangThai)).toEqual([1, 2, 3, 4]);
    expect(s[1]!.lyDo).toBeDefined();
    await request(url, 'PUT', '/_sim/config', { outcomes: { rejected: 1 }, processingPolls: { min: 0 } });
    await request(url, 'POST', '/api/NhanDKHT', birth(2));
    await poll(2);
    const rejected = await poll(2);
    expect(rejected).toEqual(expect.objectContaining({ trangThai: 6, lyDo: expect.any(String) }));
    expect(rejected.soDangKy).toBeUndefined();
    expect(rejected.ketQuaXuLy).toBeUndefined();
  });

  it('also advances with time when stepMs is set', async () => {
    let now = Date.UTC(2025, 6, 1, 1);
    const timed = new CivilRegistrySimulator({
      clock: { now: () => now },
      config: {
        outcomes: { done: 1, supplement: 0, rejected: 0 },
        processingPolls: { min: 1, max: 1 },
        stepMs: 1000,
      },
    });
    const started = await timed.start();
    try {
      await request(started.url, 'POST', '/api/NhanDKHT', birth(1));
      now += 2500;
      const res = await request(started.url, 'POST', '/api/LayKetQua', {
        maDinhDanhHoSo: [dossier(1)],
        maTinh: '15',
        module: 'LTKS',
      });
      expect(res.body.value[0]).toMatchObject({ trangThai: 4, ngayCapNhat: '2025-07-01T08:00:02+07:00' });
    } finally {
      await timed.stop();
    }
  });

  it('never receives twice (DA_TON_TAI) and lists what it holds', async () => {
    await request(url, 'POST', '/api/NhanDKHT', birth(1));
    const again = await request(url, 'POST', '/api/NhanDKHT', birth(1, { maHoSoLT: 'LT-OTHER' }));
    expect(again.status).toBe(200);
    expect(again.body).toEqual({
      status: '0',
      statusDescription: 'Thất bại',
      errorCode: 'DA_TON_TAI',
      errorDescription: expect.stringContaining('đã tồn tại'),
    });
    expect(sim.state().registrations).toHaveLength(1);
    await request(url, 'POST', '/api/NhanDKHT', birth(2, { module: 'LTKH', data: '{"chongHoTen":"A"}' }));
    const list = await request(url, 'POST', '/api/DanhSachHoSo', { tu: 1, soLuong: 10 });
    expect(list.body).toMatchObject({
      status: '1',
      tongSo: 2,
      value: [{ maHoSoMCDT: dossier(2), module: 'LTKH' }],
    });
  });

  it.each([
    ['no module', { module: undefined }, 'body.module: required'],
    ['the first shape’s kind', { module: 'KHAI_SINH' }, 'body.module'],
    ['an agency ID for maDonVi', { maDonVi: '000.00.15.H56' }, 'body.maDonVi'],
    ['a dossier code of another form', { maHoSoMCDT: 'HS-1' }, 'body.maHoSoMCDT'],
    ['no interlinked code', { maHoSoLT: undefined }, 'body.maHoSoLT: required'],
    ['an interlinked code with a space', { maHoSoLT: 'LT 1' }, 'body.maHoSoLT'],
    ['ngayTiepNhan as yyyyMMddHHmmss', { ngayTiepNhan: '20250701083000' }, 'body.ngayTiepNhan'],
    ['ngayTiepNhan on 31 April', { ngayTiepNhan: '31/04/2025 08:00:00' }, 'body.ngayTiepNhan'],
    ['data as an object', { data: person }, 'body.data: expected a JSON string'],
    ['data not JSON', { data: '{nksHoTen' }, 'body.data: not valid JSON'],
    ['data a JSON list', { data: '[]' }, 'body.data'],
    [
      'no child’s name',
      { data: JSON.stringify({ ...person, nksHoTen: undefined }) },
      'body.data.nksHoTen: required',
    ],
    [
      'a birth date dd/MM/yyyy',
      { data: JSON.stringify({ ...person, nksNgaySinh: '28/06/2025' }) },
      'nksNgaySinh',
    ],
    ['a sex 3', { data: JSON.stringify({ ...person, nksGioiTinh: 3 }) }, 'nksGioiTinh'],
    ['a mother’s 9-digit ID', { data: JSON.stringify({ ...person, meSoDDCN: '051190001' }) }, 'meSoDDCN'],
    ['no attachment list', { fileDinhKem: undefined }, 'body.fileDinhKem: expected a list'],
    ['an attachment without content', { fileDinhKem: [{ tenTep: 'a.pdf' }] }, 'duongDan or noiDung required'],
    ['an attachment link not a URL', { fileDinhKem: [{ tenTep: 'a.pdf', duongDan: 'ftp:x' }] }, 'duongDan'],
  ])('refuses NhanDKHT with %s (400, its error shape)', async (_what, overrides, message) => {
    const res = await request(url, 'POST', '/api/NhanDKHT', birth(5, overrides));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      status: '0',
      statusDescription: 'Thất bại',
      errorCode: '400',
      errorDescription: expect.stringContaining(message),
    });
    expect(sim.state().registrations).toEqual([]);
  });

  it.each([
    ['no codes', { maDinhDanhHoSo: [] }],
    [
      'too many codes',
      { maDinhDanhHoSo: Array.from({ length: RESULT_BATCH_MAX + 1 }, (_, i) => dossier(i)) },
    ],
    ['a code that is not text', { maDinhDanhHoSo: [12] }],
    ['codes not a list', { maDinhDanhHoSo: dossier(1) }],
    ['a province of one digit', { maTinh: '1' }],
    ['no module', { module: undefined }],
  ])('refuses LayKetQua with %s (400)', async (_what, overrides) => {
    const res = await request(url, 'POST', '/api/LayKetQua', {
      maDinhDanhHoSo: [dossier(1)],
      maTinh: '15',
      module: 'LTKS',
      ...overrides,
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: '0', errorCode: '400' });
  });

  it.each([
    ['a negative offset', { tu: -1 }],
    ['a page of 0', { soLuong: 0 }],
    ['a page over 5000', { soLuong: 5001 }],
    ['an offset that is not a number', { tu: 'a' }],
    ['a body that is not an object', []],
  ])('refuses DanhSachHoSo with %s (400)', async (_what, body) => {
    const res = await request(url, 'POST', '/api/DanhSachHoSo', body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: '0', errorCode: '400' });
  });

  it('refuses the first shape’s routes with 404 in its error shape', async () => {
    for (const [method, path] of [
      ['POST', '/api/v1/hotich/dang-ky'],
      ['GET', '/api/v1/hotich/ket-qua/LT-1'],
      ['GET', '/api/v1/hotich/dang-ky'],
    ] as const) {
      const res = await request(url, method, path, method === 'POST' ? birth(1) : undefined);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ status: '0', errorCode: '404' });
    }
  });
});
