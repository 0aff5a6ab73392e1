import { request } from '../../../../test/support/sim-http.js';
import { OneStopShopSimulator } from './one-stop-shop.js';

const CODE = '000.00.15.H56-250701-0001';
const body = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  ma_thu_tuc: '1.001193',
  ten_thu_tuc: 'Đăng ký khai sinh',
  kenh_nop: 'TRUC_TIEP',
  ho_ten_nguoi_nop: 'Nguyễn Văn An',
  so_giay_to: '001099012345',
  ma_don_vi: '21040',
  ngay_nhan: '01/07/2025 08:30:00',
  ngay_hen_tra: '03/07/2025 17:00:00',
  trang_thai: 'DA_TIEP_NHAN',
  le_phi: [{ ten: 'Lệ phí', so_tien: 8000 }],
  phien_ban: 1,
  ...over,
});

describe('OneStopShopSimulator over HTTP', () => {
  const sim = new OneStopShopSimulator({ apiKey: 'k' });
  let url = '';
  const call = (method: string, path: string, b?: unknown) =>
    request(url, method, path, b, { 'x-api-key': 'k' });

  beforeAll(async () => {
    ({ url } = await sim.start());
  });
  afterAll(() => sim.stop());
  beforeEach(() => request(url, 'POST', '/_sim/reset'));

  it('upserts by code, never creating a second dossier, and refuses an older version', async () => {
    expect((await call('PUT', `/api/v1/ho-so/${CODE}`, body())).status).toBe(201);
    expect((await call('PUT', `/api/v1/ho-so/${CODE}`, body())).status).toBe(200);
    const newer = await call(
      'PUT',
      `/api/v1/ho-so/${CODE}`,
      body({ trang_thai: 'DANG_XU_LY', phien_ban: 2 }),
    );
    expect(newer.body).toEqual(expect.objectContaining({ ma_loi: 0, thong_bao: 'Cập nhật thành công' }));
    const stale = await call('PUT', `/api/v1/ho-so/${CODE}`, body({ phien_ban: 1 }));
    expect(stale.status).toBe(409);
    expect(stale.body.ma_loi).toBe('E409');
    const look = await call('GET', `/api/v1/ho-so/${CODE}`);
    expect(look.body.du_lieu).toEqual(expect.objectContaining({ trang_thai: 'DANG_XU_LY', phien_ban: 2 }));
    expect(look.body.du_lieu.ngay_cap_nhat).toMatch(/^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2}$/);
    expect(sim.state().dossiers).toHaveLength(1);
    expect(sim.state().history[CODE]).toHaveLength(3);
  });

  it('needs the API key', async () => {
    const res = await request(url, 'GET', `/api/v1/ho-so/${CODE}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ ma_loi: 'E401', thong_bao: expect.any(String) });
  });

  it.each([
    ['a portal-format date', { ngay_nhan: '20250701083000' }, 'ngay_nhan'],
    ['an impossible date', { ngay_nhan: '31/06/2025 08:00:00' }, 'ngay_nhan'],
    ['a portal status code', { trang_thai: 4 }, 'trang_thai'],
    ['a district code', { ma_don_vi: '123' }, 'ma_don_vi'],
    ['a fractional fee', { le_phi: [{ ten: 'x', so_tien: 1.5 }] }, 'so_tien'],
  ])('answers 400 in its own style for %s', async (_n, over, field) => {
    const res = await call('PUT', `/api/v1/ho-so/${CODE}`, body(over));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ ma_loi: 'E400', thong_bao: expect.stringContaining(field) });
  });

  it('records progress and pages the export', async () => {
    for (let i = 1; i <= 5; i++) await call('PUT', `/api/v1/ho-so/000.00.15.H56-250701-000${i}`, body());
    const entry = {
      can_bo: 'Trần Thị Bình',
      thoi_gian: '01/07/2025 09:00:00',
      noi_dung: 'Chuyển xử lý',
      trang_thai: 'DANG_XU_LY',
    };
    const added = await call('POST', `/api/v1/ho-so/${CODE}/tien-do`, { danh_sach: [entry, entry] });
    expect(added.body.ma_loi).toBe(0);
    const missing = await call('POST', '/api/v1/ho-so/000.00.15.H56-250701-0099/tien-do', {
      danh_sach: [entry],
    });
    expect(missing.status).toBe(404);
    const page1 = await call('GET', '/api/v1/ho-so?trang=1&so_luong=2');
    const page3 = await call('GET', '/api/v1/ho-so?trang=3&so_luong=2');
    expect(page1.body).toEqual(expect.objectContaining({ tong_so: 5, tong_so_trang: 3 }));
    expect(page1.body.du_lieu[0].tien_do).toEqual([entry]);
    expect(page3.body.du_lieu.map((d: { ma_ho_so: string }) => d.ma_ho_so)).toEqual([
      '000.00.15.H56-250701-0005',
    ]);
    expect((await call('GET', '/api/v1/ho-so?trang=0')).status).toBe(400);
  });
});
