import { connectorFailure } from '../core/errors.testing.js';
import { withPortalSimulator } from './portal-client.testing.js';

const portal = withPortalSimulator();
const { client } = portal;

const submit = (n: number) =>
  portal.sim.submitOnline(
    Array.from({ length: n }, (_, i) => ({
      MaTTHC: '1.001193',
      TenTTHC: 'Đăng ký khai sinh',
      ChuHoSo: 'Nguyễn Thị Hoà',
      TrichYeuHoSo: `Hồ sơ ${i + 1}`,
      MaDonVi: '21040',
    })),
  );

describe('PortalClient.listOnlineSubmissions with the portal simulator', () => {
  it('pages the online submissions after a cursor, in feed order', async () => {
    const sent = submit(5);
    const c = client();

    const first = await c.listOnlineSubmissions(0, 2);
    expect(first.submissions).toEqual(sent.slice(0, 2));
    expect(first.last).toBe(2);
    const rest = await c.listOnlineSubmissions(first.last, 10);
    expect(rest.submissions.map((s) => s.ViTri)).toEqual([3, 4, 5]);
    expect(rest.last).toBe(5);
    expect(await c.listOnlineSubmissions(5, 10)).toEqual({ submissions: [], last: 5 });
    expect(portal.sim.calls().byOperation.LayDanhSachHoSoTrucTuyen).toBe(3);
  });

  it('logs in again when the session has expired', async () => {
    submit(1);
    const c = client();
    await c.listOnlineSubmissions(0, 10);
    portal.skew(120_000);
    expect((await c.listOnlineSubmissions(0, 10)).submissions).toHaveLength(1);
    expect(portal.sim.calls().byOperation.DangNhap).toBe(2);
  });

  it('a page size the portal refuses is a data error', async () => {
    const error = await connectorFailure(client().listOnlineSubmissions(0, 1001));
    expect(error).toMatchObject({ kind: 'data', code: 'rejected', status: 400 });
  });

  it('a page the portal garbles is retriable, since skipping it would lose submissions', async () => {
    const garbled = (result: unknown) =>
      client({
        fetch: (input, init) => {
          if (String(input).endsWith('/api/login')) return fetch(input, init);
          return Promise.resolve(Response.json({ error_code: 0, message: 'Thành công', result }));
        },
      });
    expect(await connectorFailure(garbled(undefined).listOnlineSubmissions(0, 10))).toMatchObject({
      kind: 'retriable',
      code: 'unavailable',
    });
    expect(await connectorFailure(garbled([{ MaHoSo: 'x' }]).listOnlineSubmissions(0, 10))).toMatchObject({
      kind: 'retriable',
      code: 'unavailable',
    });
    // Positions written as numeric strings are read as numbers.
    const page = await garbled([{ ViTri: '7', MaHoSo: 'x' }]).listOnlineSubmissions(6, 10);
    expect(page).toEqual({ submissions: [{ ViTri: 7, MaHoSo: 'x' }], last: 7 });
  });
});
