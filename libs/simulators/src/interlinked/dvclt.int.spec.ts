import { request } from '../../../../test/support/sim-http.js';
import { InterlinkedServicesSimulator } from './dvclt.js';

const ask = (n: number, overrides: Record<string, unknown> = {}) => ({
  maHoSoMCDT: `000.00.15.H56-250701-${String(n).padStart(4, '0')}`,
  maDonVi: '21040',
  maTTHC: '1.001193',
  module: 'LTKS',
  ...overrides,
});
const report = (maHoSoLT: string, overrides: Record<string, unknown> = {}) => ({
  maHoSoLT,
  trangThai: 1,
  coQuanXuLy: 5,
  thoiGian: '20250701083000',
  ...overrides,
});

describe('InterlinkedServicesSimulator (DVCLT) over HTTP', () => {
  let now = Date.UTC(2025, 6, 1, 1);
  const sim = new InterlinkedServicesSimulator({ clock: { now: () => now } });
  let url = '';
  const issue = async (body: Record<string, unknown>) => request(url, 'POST', '/api/CapMaHoSoLT', body);

  beforeAll(async () => {
    ({ url } = await sim.start());
  });
  afterAll(() => sim.stop());
  beforeEach(() => request(url, 'POST', '/_sim/reset'));

  it('issues one interlinked code per dossier, lets it be pulled, and records each new report', async () => {
    const first = await issue(ask(1));
    expect(first.body).toEqual({
      status: '1',
      statusDescription: 'Thành công',
      errorCode: '',
      errorDescription: '',
      value: { maHoSoLT: 'LT250701000001' },
    });
    now += 86_400_000;
    expect((await issue(ask(1))).body.value.maHoSoLT).toBe('LT250701000001');
    expect((await issue(ask(2))).body.value.maHoSoLT).toBe('LT250702000002');
    for (const trangThai of [1, 7, 7, 4, 5]) {
      expect(
        (await request(url, 'POST', '/api/CapNhatTrangThai', report('LT250701000001', { trangThai }))).body,
      ).toMatchObject({
        status: '1',
      });
    }
    const pulled = await request(url, 'POST', '/api/LayHoSo', { maHoSoLT: 'LT250701000001' });
    expect(pulled.body.value).toMatchObject({
      maHoSoMCDT: ask(1).maHoSoMCDT,
      maTTHC: '1.001193',
      ngayCap: '20250701080000',
      trangThai: [1, 7, 4, 5].map((trangThai) => ({ trangThai, coQuanXuLy: 5, thoiGian: '20250701083000' })),
    });
  });

  it('answers status "0" for a code it never issued', async () => {
    for (const path of ['/api/CapNhatTrangThai', '/api/LayHoSo']) {
      const res = await request(url, 'POST', path, report('LT-UNKNOWN'));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: '0', errorCode: 'KHONG_TIM_THAY' });
    }
  });

  it.each([
    ['a dossier code of another form', { maHoSoMCDT: 'HS-1' }],
    ['a 4-digit unit', { maDonVi: '2104' }],
    ['a procedure code of another form', { maTTHC: 'khai-sinh' }],
    ['an unknown module', { module: 'KHAI_SINH' }],
    ['no dossier code', { maHoSoMCDT: undefined }],
  ])('refuses CapMaHoSoLT with %s (400)', async (_what, overrides) => {
    const res = await issue(ask(3, overrides));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: '0', errorCode: '400' });
    expect(sim.state().dossiers).toEqual([]);
  });

  it.each([
    ['status 8', { trangThai: 8 }],
    ['status 0', { trangThai: 0 }],
    ['no reporting body', { coQuanXuLy: undefined }],
    ['a time dd/MM/yyyy', { thoiGian: '01/07/2025 08:30:00' }],
    ['an impossible time', { thoiGian: '20250230083000' }],
    ['no code', { maHoSoLT: undefined }],
  ])('refuses CapNhatTrangThai with %s (400)', async (_what, overrides) => {
    const lt = (await issue(ask(1))).body.value.maHoSoLT as string;
    const res = await request(url, 'POST', '/api/CapNhatTrangThai', report(lt, overrides));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: '0', errorCode: '400' });
    expect(sim.state().dossiers[0]!.trangThai).toEqual([]);
  });

  it.each([
    ['no code', {}],
    ['a code over 50 characters', { maHoSoLT: 'L'.repeat(51) }],
    ['a code that is not text', { maHoSoLT: 12 }],
  ])('refuses LayHoSo with %s (400)', async (_what, body) => {
    const res = await request(url, 'POST', '/api/LayHoSo', body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: '0', errorCode: '400' });
  });

  it('refuses the routes it does not have with 404 in its error shape', async () => {
    const res = await request(url, 'GET', '/api/CapMaHoSoLT');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ status: '0', errorCode: '404' });
  });
});
