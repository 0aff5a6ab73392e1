import { parseVn } from '#lgsp/connectors';
import { request } from '../../../../test/support/sim-http.js';
import { CERTIFICATE_PDF_BASE64, CivilRegistrySimulator } from './civil-registry.js';

const birth = (maLienThong: string): Record<string, unknown> => ({
  maLienThong,
  maHoSoMotCua: '000.00.15.H56-250701-0001',
  loaiDangKy: 'KHAI_SINH',
  maDonViDangKy: '21040',
  ngayDangKy: '01/07/2025',
  thongTin: { hoTen: 'Nguyễn Minh Khang', ngaySinh: '28/06/2025', gioiTinh: 1, hoTenMe: 'Lê Thị Hoa' },
});

describe('CivilRegistrySimulator over HTTP', () => {
  const sim = new CivilRegistrySimulator();
  let url = '';
  const poll = async (code: string) =>
    (await request(url, 'GET', `/api/v1/hotich/ket-qua/${code}`)).body.data;

  beforeAll(async () => {
    ({ url } = await sim.start());
  });
  afterAll(() => sim.stop());
  beforeEach(() => request(url, 'POST', '/_sim/reset'));

  it('takes a birth registration and progresses 1 → 3 → 4 with a certificate, in four date formats', async () => {
    await request(url, 'PUT', '/_sim/config', { outcomes: { done: 1 }, processingPolls: { min: 2, max: 2 } });
    const received = await request(url, 'POST', '/api/v1/hotich/dang-ky', birth('LT-0001'));
    expect(received.body).toEqual({
      code: '0',
      message: 'Tiếp nhận thành công',
      data: { maLienThong: 'LT-0001', trangThai: 1, thoiGianTiepNhan: expect.any(String) },
    });
    expect(parseVn(received.body.data.thoiGianTiepNhan, 'portal')).toBeDefined();
    const statuses = [];
    let last: Record<string, unknown> = {};
    for (let i = 0; i < 5; i++) {
      last = await poll('LT-0001');
      statuses.push(last.trangThai);
    }
    expect(statuses).toEqual([1, 3, 3, 4, 4]);
    expect(last.soGiayChungNhan).toMatch(/^\d{6}\/\d{4}\/TP\/KS$/);
    expect(last.soDinhDanhCaNhan).toMatch(/^\d{12}$/);
    expect(last.fileGiayChungNhan).toBe(CERTIFICATE_PDF_BASE64);
    expect(Buffer.from(String(last.fileGiayChungNhan), 'base64').toString('latin1').startsWith('%PDF')).toBe(
      true,
    );
    expect(parseVn(String(last.thoiGianCapNhat), 'iso')).toBeDefined();
    expect(parseVn(String(last.ngayCapGiayChungNhan), 'twelveHour')).toBeDefined();
    expect(sim.state().registrations[0]!.ngayDangKy).toBe('01/07/2025');
  });

  it('plans outcomes from the seed: the same seed gives the same progressions', async () => {
    const run = async (): Promise<number[][]> => {
      await request(url, 'POST', '/_sim/reset');
      await request(url, 'PUT', '/_sim/config', { seed: 99 });
      const all: number[][] = [];
      for (let i = 0; i < 12; i++) {
        await request(url, 'POST', '/api/v1/hotich/dang-ky', birth(`LT-${i}`));
        const seen: number[] = [];
        for (let p = 0; p < 7; p++) seen.push(Number((await poll(`LT-${i}`)).trangThai));
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
    await request(url, 'POST', '/api/v1/hotich/dang-ky', birth('LT-S'));
    const s = [await poll('LT-S'), await poll('LT-S'), await poll('LT-S'), await poll('LT-S')];
    expect(s.map((d) => d.trangThai)).toEqual([1, 2, 3, 4]);
    expect(s[1].lyDo).toBeDefined();
    await request(url, 'PUT', '/_sim/config', { outcomes: { rejected: 1 }, processingPolls: { min: 0 } });
    await request(url, 'POST', '/api/v1/hotich/dang-ky', birth('LT-R'));
    await poll('LT-R');
    const rejected = await poll('LT-R');
    expect(rejected).toEqual(expect.objectContaining({ trangThai: 6, lyDo: expect.any(String) }));
    expect(rejected.soGiayChungNhan).toBeUndefined();
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
      await request(started.url, 'POST', '/api/v1/hotich/dang-ky', birth('LT-T'));
      now += 2500;
      const res = await request(started.url, 'GET', '/api/v1/hotich/ket-qua/LT-T');
      expect(res.body.data.trangThai).toBe(4);
      expect(res.body.data.thoiGianCapNhat).toBe('2025-07-01T08:00:02+07:00');
    } finally {
      await timed.stop();
    }
  });

  it('never registers twice, answers unknown codes, and rejects bad input with 400', async () => {
    await request(url, 'POST', '/api/v1/hotich/dang-ky', birth('LT-D'));
    const again = await request(url, 'POST', '/api/v1/hotich/dang-ky', birth('LT-D'));
    expect(again.body).toEqual(
      expect.objectContaining({ code: '1', message: expect.stringContaining('đã tồn tại') }),
    );
    expect(sim.state().registrations).toHaveLength(1);
    expect((await request(url, 'GET', '/api/v1/hotich/ket-qua/LT-X')).body.code).toBe('1');
    const badDate = await request(url, 'POST', '/api/v1/hotich/dang-ky', {
      ...birth('LT-B'),
      ngayDangKy: '2025-07-01',
    });
    expect(badDate.status).toBe(400);
    expect(badDate.body).toEqual({ code: '400', message: expect.stringContaining('ngayDangKy') });
    const badKind = await request(url, 'POST', '/api/v1/hotich/dang-ky', {
      ...birth('LT-B'),
      loaiDangKy: 'NHAN_CON',
    });
    expect(badKind.status).toBe(400);
    const death = await request(url, 'POST', '/api/v1/hotich/dang-ky', {
      ...birth('LT-K'),
      loaiDangKy: 'KHAI_TU',
      thongTin: { hoTen: 'Trần Văn Bảy', soDinhDanh: '001045000123', ngayMat: '30/06/2025' },
    });
    expect(death.body.code).toBe('0');
    const list = await request(url, 'GET', '/api/v1/hotich/dang-ky?tu=0&soLuong=10');
    expect(list.body.tongSo).toBe(2);
  });
});
