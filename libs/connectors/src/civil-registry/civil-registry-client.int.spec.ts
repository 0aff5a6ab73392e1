import { CivilRegistrySimulator } from '#lgsp/simulators';
import { connectorFailure } from '../core/errors.testing.js';
import { CivilRegistryClient } from './civil-registry-client.js';
import type { CivilRegistryRequest } from './external/civil-registry-wire.js';

const request = (n: number, overrides: Partial<CivilRegistryRequest> = {}): CivilRegistryRequest => ({
  maLienThong: `LT-000.00.51.H56-251123-${String(n).padStart(4, '0')}`,
  maHoSoMotCua: `000.00.51.H56-251123-${String(n).padStart(4, '0')}`,
  loaiDangKy: 'KHAI_SINH',
  maDonViDangKy: '21040',
  ngayDangKy: '24/11/2025',
  thongTin: { hoTen: 'Nguyễn Minh Khang', ngaySinh: '20/11/2025', gioiTinh: 1, soDinhDanhMe: '051190001234' },
  ...overrides,
});

describe('CivilRegistryClient with the civil-registry simulator', () => {
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

  it('registers, then answers a second registration of the same code as existing without a second one', async () => {
    expect(await client.register(request(1))).toEqual({
      created: true,
      maLienThong: request(1).maLienThong,
      trangThai: 1,
    });
    expect(await client.register(request(1))).toEqual({
      created: false,
      maLienThong: request(1).maLienThong,
      trangThai: 1,
    });
    expect(sim.state().registrations.map((r) => r.maLienThong)).toEqual([request(1).maLienThong]);
  });

  it('polls a result along its plan and lists the registrations', async () => {
    await client.register(request(1));
    await client.register(request(2));
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await client.result(request(1).maLienThong))!.trangThai);
    expect(statuses).toEqual([1, 3, 4, 4]);
    const done = await client.result(request(1).maLienThong);
    expect(done).toMatchObject({
      soGiayChungNhan: expect.stringMatching(/TP\/KS$/),
      soDinhDanhCaNhan: expect.any(String),
    });

    const page = await client.list(1, 10);
    expect(page.total).toBe(2);
    expect(page.items.map((r) => r.maLienThong)).toEqual([request(2).maLienThong]);
  });

  it('answers undefined for a code the registry does not know', async () => {
    expect(await client.result('LT-unknown')).toBeUndefined();
  });

  it('classifies bad input (HTTP 400) as a data error, with the citizen ID masked', async () => {
    const bad = request(3, { thongTin: { ...request(3).thongTin, ngaySinh: '31/02/2025' } });
    const e = await connectorFailure(client.register(bad));
    expect(e).toMatchObject({ kind: 'data', code: 'rejected', status: 400, target: 'civil-registry' });
    const id = await connectorFailure(
      client.register(request(4, { thongTin: { ...request(4).thongTin, soDinhDanhMe: '05119000123' } })),
    );
    expect(id.kind).toBe('data');
    expect(id.message).not.toContain('05119000123');
  });

  it('classifies an outage (503 + Retry-After), a rate limit (429) and 5xx as retriable', async () => {
    await control('PUT', '/_sim/faults', { outage: { forMs: 60_000 } });
    const outage = await connectorFailure(client.register(request(5)));
    expect(outage).toMatchObject({ kind: 'retriable', code: 'unavailable', status: 503 });
    expect(outage.retryAfterMs).toBeGreaterThan(0);

    await control('PUT', '/_sim/faults', { rateLimit: { perSecond: 0.01, burst: 1 } });
    await client.list();
    expect(await connectorFailure(client.result('LT-x'))).toMatchObject({
      kind: 'retriable',
      code: 'rate-limited',
      status: 429,
    });

    await control('PUT', '/_sim/faults', { errorRate: 1 });
    const errors = await Promise.all([1, 2, 3, 4, 5, 6].map(() => connectorFailure(client.list())));
    expect(errors.every((e) => e.kind === 'retriable' && e.code === 'unavailable')).toBe(true);
    expect(sim.state().registrations).toEqual([]);
  });

  it('classifies any other business refusal (HTTP 200, code "1") as a data error', async () => {
    // The simulator refuses nothing else with code "1"; a registry that does is stood in for here.
    const refusing = new CivilRegistryClient({
      baseUrl: url,
      fetch: async () =>
        new Response(JSON.stringify({ code: '1', message: 'Đơn vị 21040 chưa được cấp quyền đăng ký' }), {
          status: 200,
          headers: { 'content-type': 'application/json' },
        }),
    });
    const e = await connectorFailure(refusing.register(request(6)));
    expect(e).toMatchObject({ kind: 'data', code: 'rejected', status: 200 });
    expect(e.message).toContain('chưa được cấp quyền');
    expect(await connectorFailure(refusing.result('LT-x'))).toMatchObject({ kind: 'data', code: 'rejected' });
  });

  it('classifies an unreachable registry as retriable', async () => {
    const down = new CivilRegistryClient({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 1000 });
    expect(await connectorFailure(down.result('LT-x'))).toMatchObject({ kind: 'retriable', code: 'network' });
  });
});
