import { CivilRegistrySimulator, InterlinkedServicesSimulator } from '#lgsp/simulators';
import { connectorFailure } from '../core/errors.testing.js';
import { CivilRegistryClient } from './civil-registry-client.js';
import { DvcltClient } from './dvclt-client.js';
import type { CivilRegistryBirthData, CivilRegistryRequest } from './external/civil-registry-wire.js';

const code = (n: number) => `000.00.51.H56-251123-${String(n).padStart(4, '0')}`;
const person: CivilRegistryBirthData = {
  nksHoTen: 'Nguyễn Minh Khang',
  nksNgaySinh: '20.11.2025',
  nksGioiTinh: 1,
  meHoTen: 'Lê Thị Hoà',
  meSoDDCN: '051190001234',
};
const request = (
  n: number,
  overrides: Partial<CivilRegistryRequest> = {},
  data: Partial<Record<keyof CivilRegistryBirthData, unknown>> = {},
): CivilRegistryRequest => ({
  maDonVi: '21040',
  module: 'LTKS',
  maHoSoLT: `LT251123${String(n).padStart(6, '0')}`,
  maHoSoMCDT: code(n),
  ngayTiepNhan: '23/11/2025 23:59:30',
  data: JSON.stringify({ ...person, ...data }),
  fileDinhKem: [],
  ...overrides,
});
const query = (...codes: string[]) => ({ maDinhDanhHoSo: codes, maTinh: '51', module: 'LTKS' as const });

describe('CivilRegistryClient with the civil-registry simulator (NhanDKHT, LayKetQua)', () => {
  const sim = new CivilRegistrySimulator();
  let url = '';
  let client: CivilRegistryClient;

  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    ({ url } = await sim.start());
    client = new CivilRegistryClient({ baseUrl: url, timeoutMs: 2000 });
  });
  afterAll(() => sim.stop());
  beforeEach(async () => {
    await control('POST', '/_sim/reset');
    await control('PUT', '/_sim/config', {
      seed: 1,
      outcomes: { done: 1 },
      processingPolls: { min: 1, max: 1 },
    });
  });

  it('receives, then answers a second NhanDKHT of the same dossier DA_TON_TAI without a second one', async () => {
    expect(await client.receive(request(1))).toEqual({ created: true, maHoSoMCDT: code(1) });
    expect(await client.receive(request(1))).toEqual({ created: false, maHoSoMCDT: code(1) });
    expect(sim.state().registrations.map((r) => r.maHoSoMCDT)).toEqual([code(1)]);
    expect(sim.state().registrations[0]!.data).toMatchObject({
      nksHoTen: 'Nguyễn Minh Khang',
      meSoDDCN: '051190001234',
    });
  });

  it('polls results in batches along their plans and lists the dossiers', async () => {
    await client.receive(request(1));
    await client.receive(request(2));
    const statuses: number[][] = [];
    for (let i = 0; i < 4; i++) {
      const results = await client.results(query(code(1), code(2), code(9)));
      expect([...results.keys()]).toEqual([code(1), code(2)]);
      statuses.push([...results.values()].map((r) => r.trangThai));
    }
    expect(statuses).toEqual([
      [1, 1],
      [3, 3],
      [4, 4],
      [4, 4],
    ]);
    const done = (await client.results(query(code(1)))).get(code(1))!;
    expect(done).toMatchObject({
      maHoSoLT: request(1).maHoSoLT,
      soDangKy: expect.stringMatching(/^\d+$/),
      quyenSo: expect.stringMatching(/^\d{2}\/\d{4}$/),
      trangSo: expect.stringMatching(/^\d+$/),
      ngayDangKy: expect.stringMatching(/^\d{2}\/\d{2}\/\d{4}$/),
      soDinhDanh: expect.stringMatching(/^\d{12}$/),
      ketQuaXuLy: { giayKhaiSinh: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/) },
    });

    const page = await client.list(1, 10);
    expect(page.total).toBe(2);
    expect(page.items.map((r) => r.maHoSoMCDT)).toEqual([code(2)]);
  });

  it('leaves out of LayKetQua a dossier the registry does not know, or of another module', async () => {
    await client.receive(request(1));
    expect((await client.results(query('000.00.51.H56-251123-9999'))).size).toBe(0);
    expect((await client.results({ ...query(code(1)), module: 'LTKT' })).size).toBe(0);
  });

  it('classifies bad input (HTTP 400) as a data error, with the citizen ID masked', async () => {
    const bad = await connectorFailure(client.receive(request(3, {}, { nksNgaySinh: '31.02.2025' })));
    expect(bad).toMatchObject({ kind: 'data', code: 'rejected', status: 400, target: 'civil-registry' });
    expect(bad.message).toContain('nksNgaySinh');
    // The first dialect's date form is refused too.
    expect(
      await connectorFailure(client.receive(request(3, {}, { nksNgaySinh: '20/11/2025' }))),
    ).toMatchObject({
      kind: 'data',
      status: 400,
    });
    const id = await connectorFailure(client.receive(request(4, {}, { meSoDDCN: '05119000123' })));
    expect(id.kind).toBe('data');
    expect(id.message).not.toContain('05119000123');
    for (const wrong of [
      { module: 'KHAI_SINH' as never },
      { maDonVi: '000.00.51.H56' },
      { maHoSoLT: 'LT 1' },
      { ngayTiepNhan: '20251123235930' },
      { data: { nksHoTen: 'x' } as never },
      { data: '{not json' },
      { fileDinhKem: [{ tenTep: 'a.pdf' }] },
    ]) {
      expect(await connectorFailure(client.receive(request(5, wrong)))).toMatchObject({
        kind: 'data',
        status: 400,
      });
    }
    for (const wrong of [
      query(),
      { ...query(code(1)), maTinh: '5' },
      { ...query(code(1)), module: 'KS' as never },
    ]) {
      expect(await connectorFailure(client.results(wrong))).toMatchObject({ kind: 'data', status: 400 });
    }
    expect(sim.state().registrations).toEqual([]);
  });

  it('refuses a call in the first (REST, maLienThong/thongTin) shape with its error shape', async () => {
    const old = await fetch(`${url}/api/v1/hotich/dang-ky`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        maLienThong: 'LT-1',
        maHoSoMotCua: code(1),
        loaiDangKy: 'KHAI_SINH',
        thongTin: {},
      }),
    });
    expect(old.status).toBe(404);
    expect(await old.json()).toMatchObject({
      status: '0',
      errorCode: '404',
      errorDescription: expect.any(String),
    });
    const oldBody = await fetch(`${url}/api/NhanDKHT`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        maLienThong: 'LT-1',
        maHoSoMotCua: code(1),
        loaiDangKy: 'KHAI_SINH',
        thongTin: {},
      }),
    });
    expect(oldBody.status).toBe(400);
    expect(await oldBody.json()).toEqual({
      status: '0',
      statusDescription: 'Thất bại',
      errorCode: '400',
      errorDescription: 'body.module: required',
    });
  });

  it('classifies an outage (503 + Retry-After), a rate limit (429) and 5xx as retriable', async () => {
    await control('PUT', '/_sim/faults', { outage: { forMs: 60_000 } });
    const outage = await connectorFailure(client.receive(request(5)));
    expect(outage).toMatchObject({ kind: 'retriable', code: 'unavailable', status: 503 });
    expect(outage.retryAfterMs).toBeGreaterThan(0);

    await control('PUT', '/_sim/faults', { rateLimit: { perSecond: 0.01, burst: 1 } });
    await client.list();
    expect(await connectorFailure(client.results(query(code(1))))).toMatchObject({
      kind: 'retriable',
      code: 'rate-limited',
      status: 429,
    });

    await control('PUT', '/_sim/faults', { errorRate: 1 });
    const errors = await Promise.all([1, 2, 3, 4, 5, 6].map(() => connectorFailure(client.list())));
    expect(errors.every((e) => e.kind === 'retriable' && e.code === 'unavailable')).toBe(true);
    expect(sim.state().registrations).toEqual([]);
  });

  it('classifies any other refusal (HTTP 200, status "0") as a data error', async () => {
    // The simulator refuses nothing else with status "0"; a registry that does is stood in for here.
    const refusing = new CivilRegistryClient({
      baseUrl: url,
      fetch: async () =>
        new Response(
          JSON.stringify({
            status: '0',
            statusDescription: 'Thất bại',
            errorCode: 'KHONG_CO_QUYEN',
            errorDescription: 'Đơn vị 21040 chưa được cấp quyền đăng ký',
          }),
          { status: 200, headers: { 'content-type': 'application/json' } },
        ),
    });
    const e = await connectorFailure(refusing.receive(request(6)));
    expect(e).toMatchObject({ kind: 'data', code: 'rejected', status: 200 });
    expect(e.message).toContain('chưa được cấp quyền');
    expect(await connectorFailure(refusing.results(query(code(1))))).toMatchObject({ kind: 'data' });
  });

  it('refuses an answer for a dossier it did not ask for', async () => {
    const stray = new CivilRegistryClient({
      baseUrl: url,
      fetch: async () =>
        new Response(JSON.stringify({ status: '1', value: [{ maHoSoMCDT: code(7), trangThai: 1 }] }), {
          status: 200,
          headers: { 'content-type': 'application/json' },
        }),
    });
    expect(await connectorFailure(stray.results(query(code(1))))).toMatchObject({ kind: 'data' });
  });

  it('classifies an unreachable registry as retriable', async () => {
    const down = new CivilRegistryClient({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 1000 });
    expect(await connectorFailure(down.results(query(code(1))))).toMatchObject({
      kind: 'retriable',
      code: 'network',
    });
  });
});

describe('DvcltClient with the DVCLT simulator (CapMaHoSoLT, CapNhatTrangThai)', () => {
  const sim = new InterlinkedServicesSimulator();
  let client: DvcltClient;
  let url = '';
  const ask = (n: number) => ({
    maHoSoMCDT: code(n),
    maDonVi: '21040',
    maTTHC: '1.001193',
    module: 'LTKS' as const,
  });
  const report = (maHoSoLT: string, trangThai: number) => ({
    maHoSoLT,
    trangThai,
    coQuanXuLy: 5,
    thoiGian: '20251124090000',
  });

  beforeAll(async () => {
    ({ url } = await sim.start());
    client = new DvcltClient({ baseUrl: url, timeoutMs: 2000 });
  });
  afterAll(() => sim.stop());
  beforeEach(() => sim.reset());

  it('issues one interlinked code per dossier and records the status reports once each', async () => {
    const lt = await client.issueCode(ask(1));
    expect(lt).toMatch(/^LT\d{12}$/);
    expect(await client.issueCode(ask(1))).toBe(lt);
    expect(await client.issueCode(ask(2))).not.toBe(lt);
    for (const s of [1, 7, 7, 4, 5]) await client.report(report(lt, s));
    expect(sim.state().dossiers.find((d) => d.maHoSoLT === lt)).toMatchObject({
      maHoSoMCDT: code(1),
      maTTHC: '1.001193',
      trangThai: [1, 7, 4, 5].map((s) => ({ trangThai: s, coQuanXuLy: 5, thoiGian: '20251124090000' })),
    });
  });

  it('refuses bad input (400) and an unknown code (status "0") as data errors', async () => {
    const lt = await client.issueCode(ask(1));
    for (const wrong of [
      { ...ask(3), maHoSoMCDT: 'x' },
      { ...ask(3), maDonVi: '2104' },
      { ...ask(3), maTTHC: 'birth' },
      { ...ask(3), module: 'KS' as never },
    ]) {
      expect(await connectorFailure(client.issueCode(wrong))).toMatchObject({
        kind: 'data',
        status: 400,
        target: 'dvclt',
      });
    }
    for (const wrong of [
      { ...report(lt, 8) },
      { ...report(lt, 1), coQuanXuLy: 0 },
      { ...report(lt, 1), thoiGian: '24/11/2025 09:00:00' },
      { ...report(lt, 1), maHoSoLT: '' },
    ]) {
      expect(await connectorFailure(client.report(wrong))).toMatchObject({ kind: 'data', status: 400 });
    }
    expect(await connectorFailure(client.report(report('LT-unknown', 1)))).toMatchObject({
      kind: 'data',
      code: 'rejected',
      status: 200,
    });
    expect(sim.state().dossiers.map((d) => d.trangThai)).toEqual([[]]);
  });

  it('classifies an outage as retriable', async () => {
    await fetch(`${url}/_sim/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ outage: { forMs: 60_000 } }),
    });
    expect(await connectorFailure(client.issueCode(ask(1)))).toMatchObject({
      kind: 'retriable',
      status: 503,
    });
  });
});
