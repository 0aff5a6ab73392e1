import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { paymentDigest, signMessage, verifyMessage } from '#lgsp/connectors';
import { request } from '../../../../test/support/sim-http.js';
import { PaymentPlatformSimulator, twelveHourPortalTime } from './payment-platform.js';

const SECRET = 'test-secret';
/** `ThoiGianGD` of every INIT here, which QUERY and GET_BILL repeat. */
const T0 = '20251124000509';
const PARTNER = '000.00.00.H56';

/** The fields of an INIT besides the reference and the amount, as the integrators send them. */
const INIT_FIELDS = {
  PhienBan: '1.0.6',
  LoaiHinhThanhToan: 'PAY',
  MaKenhThanhToan: '1',
  MaThietBi: '1',
  NgonNgu: 'vi-VN',
  MaTienTe: 'VND',
  MaNganHang: 'PAYMENT',
  ThongTinGiaoDich: 'Thanh toán phí, lệ phí',
  Ip: '10.0.0.7',
  ThongTinBienLai: {
    MaTTHC: '1.001193',
    MaDVC: '1.001193.01',
    MaDonVi: PARTNER,
    MaHoSo: 'H56-251124-0001',
    PhiLePhi: [{ LoaiPhiLePhi: 'Phi', MaPhiLePhi: 'LP01', TenPhiLePhi: 'Lệ phí', SoTien: '1000' }],
    DSKhoanNop: [{ NoiDung: 'Lệ phí', SoTien: '1000' }],
  },
};

/** A local server standing in for the hub's callback endpoint. */
async function callbackReceiver(): Promise<{
  url: string;
  received: Record<string, unknown>[];
  /** The next `count` callbacks are answered 500, as a hub that is restarting would. */
  failNext: { count: number };
  close: () => Promise<void>;
}> {
  const received: Record<string, unknown>[] = [];
  const failNext = { count: 0 };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      received.push(body);
      const valid = verifyMessage('CALLBACK', body, SECRET);
      const failing = failNext.count > 0;
      if (failing) failNext.count -= 1;
      res.writeHead(failing ? 500 : valid ? 200 : 401, { 'content-type': 'application/json' });
      // The hub's answer: signed over MaLoi, MaDoiTac, MaThamChieu, ThoiGianGD.
      const answer = signMessage(
        'CALLBACK_ANSWER',
        {
          MaLoi: valid ? '00' : '02',
          MoTaLoi: valid ? 'Thành công' : 'MaXacThuc không hợp lệ',
          MaDoiTac: body.MaDoiTac,
          MaThamChieu: body.MaThamChieu,
          ThoiGianGD: body.ThoiGianGD,
        },
        SECRET,
      );
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/payments/callback`,
    received,
    failNext,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('PaymentPlatformSimulator over HTTP', () => {
  const sim = new PaymentPlatformSimulator();
  let url = '';
  let receiver: Awaited<ReturnType<typeof callbackReceiver>>;
  const message = (kind: 'INIT' | 'QUERY' | 'GET_BILL', fields: Record<string, unknown>) => ({
    LoaiBanTin: kind,
    PhienBan: '1.0.6',
    MaDoiTac: PARTNER,
    ThoiGianGD: T0,
    ...(kind === 'INIT' ? INIT_FIELDS : {}),
    ...fields,
  });
  const send = (kind: 'INIT' | 'QUERY' | 'GET_BILL', fields: Record<string, unknown>, secret = SECRET) =>
    request(url, 'POST', '/api/v1/thanh-toan', signMessage(kind, message(kind, fields), secret));

  beforeAll(async () => {
    ({ url } = await sim.start());
    receiver = await callbackReceiver();
  });
  afterAll(async () => {
    await sim.stop();
    await receiver.close();
  });
  beforeEach(async () => {
    await request(url, 'POST', '/_sim/reset');
    receiver.received.length = 0;
    receiver.failNext.count = 0;
    await request(url, 'PUT', '/_sim/config', {
      callbackRetries: 2,
      callbackRetryDelayMs: 10,
      secret: SECRET,
      callbackUrl: receiver.url,
      seed: 1,
      outcomes: { success: 1 },
      pendingPolls: { min: 2, max: 2 },
      resolveAfterMs: null,
    });
  });

  it('verifies MaXacThuc on requests and signs its answers', async () => {
    const forged = await send('INIT', { MaThamChieu: 'REF1', SoTien: 50000 }, 'wrong');
    expect(forged.status).toBe(400);
    expect(forged.body).toEqual({ MaLoi: '02', MoTaLoi: expect.any(String) });
    const init = await send('INIT', { MaThamChieu: 'REF1', SoTien: 50000 });
    expect(init.body.MaLoi).toBe('00');
    expect(verifyMessage('INIT_RESPONSE', init.body, SECRET)).toBe(true);
    expect(verifyMessage('INIT_RESPONSE', init.body, 'wrong')).toBe(false);
    const again = await send('INIT', { MaThamChieu: 'REF1', SoTien: 50000 });
    expect(again.body.MaGiaoDich).toBe(init.body.MaGiaoDich);
    const otherAmount = await send('INIT', { MaThamChieu: 'REF1', SoTien: 60000 });
    expect(otherAmount.body.MaLoi).toBe('04');
    const bad = await send('INIT', { MaThamChieu: 'REF2', SoTien: -5 });
    expect(bad.status).toBe(400);
    expect(bad.body.MaLoi).toBe('01');
  });

  it('refuses a message signed over another field order with MaLoi 02', async () => {
    const init = message('INIT', { MaThamChieu: 'REF1', SoTien: '50000' });
    // The order the first simulators used: LoaiBanTin, MaDoiTac, MaThamChieu, SoTien, ThoiGianGD.
    const oldOrder = paymentDigest(['INIT', PARTNER, 'REF1', '50000', T0], SECRET);
    const refused = await request(url, 'POST', '/api/v1/thanh-toan', { ...init, MaXacThuc: oldOrder });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ MaLoi: '02', MoTaLoi: expect.any(String) });
    await send('INIT', { MaThamChieu: 'REF1', SoTien: '50000' });
    const query = message('QUERY', { MaThamChieu: 'REF1' });
    const withoutVersion = paymentDigest(['QUERY', PARTNER, 'REF1', T0], SECRET);
    const q = await request(url, 'POST', '/api/v1/thanh-toan', { ...query, MaXacThuc: withoutVersion });
    expect(q.body.MaLoi).toBe('02');
  });

  it('refuses an INIT without the fields the platform requires, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ PhienBan: undefined }, 'body.PhienBan'],
      [{ Ip: '' }, 'body.Ip'],
      [{ NgonNgu: 7 }, 'body.NgonNgu'],
      [{ ThongTinBienLai: undefined }, 'body.ThongTinBienLai'],
      [{ ThongTinBienLai: { ...INIT_FIELDS.ThongTinBienLai, MaHoSo: '' } }, 'body.ThongTinBienLai.MaHoSo'],
      [
        { ThongTinBienLai: { ...INIT_FIELDS.ThongTinBienLai, DSKhoanNop: 'x' } },
        'body.ThongTinBienLai.DSKhoanNop',
      ],
      [
        { ThongTinBienLai: { ...INIT_FIELDS.ThongTinBienLai, PhiLePhi: [{ SoTien: 'mười' }] } },
        'body.ThongTinBienLai.PhiLePhi[0].SoTien',
      ],
      [{ SoTien: '12.5' }, 'body.SoTien'],
      [{ ThoiGianGD: '2025-11-24' }, 'body.ThoiGianGD'],
    ];
    for (const [fields, path] of cases) {
      const res = await send('INIT', { MaThamChieu: 'REFB', SoTien: 1000, ...fields });
      expect([res.status, res.body.MaLoi]).toEqual([400, '01']);
      expect(res.body.MoTaLoi).toContain(path);
    }
    expect(sim.state().payments).toEqual([]);
  });

  it('refuses a reference with punctuation (MaLoi 01) unless refusePunctuation is off', async () => {
    for (const ref of ['H56-1', 'H56.1', 'H56/1', 'H56 1']) {
      const res = await send('INIT', { MaThamChieu: ref, SoTien: 1000 });
      expect([res.status, res.body.MaLoi]).toEqual([400, '01']);
      expect(res.body.MoTaLoi).toContain('body.MaThamChieu');
    }
    expect((await send('INIT', { MaThamChieu: 'H56_1', SoTien: 1000 })).body.MaLoi).toBe('00');
    await request(url, 'PUT', '/_sim/config', { refusePunctuation: false });
    expect((await send('INIT', { MaThamChieu: 'H56-1', SoTien: 1000 })).body.MaLoi).toBe('00');
    const bad = await request(url, 'PUT', '/_sim/config', { refusePunctuation: 'maybe' });
    expect(bad.status).toBe(400);
  });

  it('refuses a QUERY or GET_BILL that does not repeat the INIT’s ThoiGianGD', async () => {
    await send('INIT', { MaThamChieu: 'REFO', SoTien: 1000 });
    for (const kind of ['QUERY', 'GET_BILL'] as const) {
      const res = await send(kind, { MaThamChieu: 'REFO', ThoiGianGD: '20251124000510' });
      expect([res.status, res.body.MaLoi]).toEqual([400, '01']);
      expect(res.body.MoTaLoi).toContain('body.ThoiGianGD');
    }
    expect((await send('QUERY', { MaThamChieu: 'REFO' })).body.MaLoi).toBe('00');
  });

  it('answers pending to QUERY until the plan resolves it, then sends a signed callback', async () => {
    await send('INIT', { MaThamChieu: 'REFP', SoTien: 120000 });
    const states: number[] = [];
    for (let i = 0; i < 4; i++) {
      const q = await send('QUERY', { MaThamChieu: 'REFP' });
      expect(verifyMessage('QUERY_RESPONSE', q.body, SECRET)).toBe(true);
      states.push(q.body.TrangThaiGD);
    }
    expect(states).toEqual([3, 3, 1, 1]);
    await sim.settled();
    expect(receiver.received).toHaveLength(1);
    const cb = receiver.received[0]!;
    expect(cb).toEqual(
      expect.objectContaining({
        MaLoi: '00',
        MaThamChieu: 'REFP',
        SoTien: 120000,
        MaNganHang: expect.any(String),
      }),
    );
    expect(Object.keys(cb)).toEqual([
      'LoaiBanTin',
      'MaLoi',
      'MaDoiTac',
      'MaThamChieu',
      'SoTien',
      'MaTienTe',
      'MaGiaoDich',
      'MaNganHang',
      'ThoiGianGD',
      'ThongTinGiaoDich',
      'MaXacThuc',
    ]);
    expect(cb).toMatchObject({ LoaiBanTin: 'CONFIRM', MaDoiTac: PARTNER, MaTienTe: 'VND' });
    expect(verifyMessage('CALLBACK', cb, SECRET)).toBe(true);
    const bill = await send('GET_BILL', { MaThamChieu: 'REFP' });
    expect(bill.body).toEqual(
      expect.objectContaining({
        MaLoi: '00',
        SoTien: 120000,
        UrlBienLai: `https://thanhtoan.dichvucong.gov.vn/bien-lai/${String(cb.MaGiaoDich)}.pdf`,
      }),
    );
    expect(verifyMessage('GET_BILL_RESPONSE', bill.body, SECRET)).toBe(true);
    const state = (await request(url, 'GET', '/_sim/state')).body;
    expect(state.callbacks).toEqual([
      expect.objectContaining({ kind: 'result', status: 200, answerVerified: true }),
    ]);
    expect(state.config.secret).toBeUndefined();
  });

  it('keeps some payments pending for ever and fails others with MaLoi 24', async () => {
    await request(url, 'PUT', '/_sim/config', { outcomes: { pending: 1 } });
    await send('INIT', { MaThamChieu: 'REFW', SoTien: 1000 });
    for (let i = 0; i < 5; i++)
      expect((await send('QUERY', { MaThamChieu: 'REFW' })).body.TrangThaiGD).toBe(3);
    expect((await send('GET_BILL', { MaThamChieu: 'REFW' })).body.MaLoi).toBe('12');
    await request(url, 'PUT', '/_sim/config', { outcomes: { failed: 1 }, pendingPolls: { min: 0 } });
    await send('INIT', { MaThamChieu: 'REFF', SoTien: 1000 });
    expect((await send('QUERY', { MaThamChieu: 'REFF' })).body.TrangThaiGD).toBe(4);
    await sim.settled();
    expect(receiver.received).toEqual([expect.objectContaining({ MaThamChieu: 'REFF', MaLoi: '24' })]);
    expect((await send('QUERY', { MaThamChieu: 'REFnone' })).body.MaLoi).toBe('03');
  });

  it('leaves exactly the payments a citizen abandons pending for ever, abandoned before or after their INIT', async () => {
    await request(url, 'PUT', '/_sim/config', {
      outcomes: { success: 1 },
      pendingPolls: { min: 0, max: 0 },
      resolveAfterMs: { min: 20, max: 40 },
    });
    const before = await request(url, 'POST', '/_sim/payments/abandon', { MaThamChieu: 'REFA1' });
    expect(before.body).toEqual({ MaThamChieu: 'REFA1', TrangThaiGD: null });
    await send('INIT', { MaThamChieu: 'REFA1', SoTien: 1000 });
    await send('INIT', { MaThamChieu: 'REFA2', SoTien: 1000 });
    await send('INIT', { MaThamChieu: 'REFOK', SoTien: 1000 });
    const after = await request(url, 'POST', '/_sim/payments/abandon', { MaThamChieu: 'REFA2' });
    expect(after.body).toEqual({ MaThamChieu: 'REFA2', TrangThaiGD: 3 });
    await new Promise((r) => setTimeout(r, 100));
    await sim.settled();
    for (const ref of ['REFA1', 'REFA2']) {
      for (let i = 0; i < 3; i++)
        expect((await send('QUERY', { MaThamChieu: ref })).body.TrangThaiGD).toBe(3);
    }
    expect((await send('QUERY', { MaThamChieu: 'REFOK' })).body.TrangThaiGD).toBe(1);
    expect(receiver.received).toEqual([expect.objectContaining({ MaThamChieu: 'REFOK', MaLoi: '00' })]);
    // a settled payment cannot be abandoned; a body without a reference is refused
    const settled = await request(url, 'POST', '/_sim/payments/abandon', { MaThamChieu: 'REFOK' });
    expect([settled.status, settled.body.MaLoi]).toEqual([400, '01']);
    expect(settled.body.MoTaLoi).toMatch(/REFOK: already settled \(TrangThaiGD 1\)/);
    expect((await request(url, 'POST', '/_sim/payments/abandon', {})).status).toBe(400);
    // resolve still settles an abandoned payment (the citizen pays after all)
    await request(url, 'POST', '/_sim/payments/resolve', { MaThamChieu: 'REFA1', TrangThaiGD: 1 });
    expect((await send('QUERY', { MaThamChieu: 'REFA1' })).body.TrangThaiGD).toBe(1);
  });

  it('leaves no payment pending for ever by default', () => {
    expect(new PaymentPlatformSimulator().state().config.outcomes).toEqual({
      success: 8,
      failed: 1,
      pending: 0,
    });
  });

  it('resolves by itself after resolveAfterMs and sends the callback', async () => {
    await request(url, 'PUT', '/_sim/config', { resolveAfterMs: { min: 20, max: 40 } });
    await send('INIT', { MaThamChieu: 'REFT', SoTien: 1000 });
    await new Promise((r) => setTimeout(r, 100));
    await sim.settled();
    expect(receiver.received).toEqual([expect.objectContaining({ MaThamChieu: 'REFT', MaLoi: '00' })]);
  });

  it('sends duplicate callbacks at the fault rate, the same sequence for the same seed', async () => {
    const run = async (): Promise<string[]> => {
      await request(url, 'POST', '/_sim/reset');
      receiver.received.length = 0;
      await request(url, 'PUT', '/_sim/config', { pendingPolls: { min: 0, max: 0 } });
      await request(url, 'PUT', '/_sim/faults', { seed: 5, duplicateCallbacks: 0.5 });
      for (let i = 0; i < 10; i++) {
        await send('INIT', { MaThamChieu: `REF${i}`, SoTien: 1000 });
        await send('QUERY', { MaThamChieu: `REF${i}` });
      }
      await sim.settled();
      expect(receiver.received).toHaveLength(sim.state().callbacks.length);
      return sim.state().callbacks.map((c) => `${c.kind}:${String(c.body.MaThamChieu)}`);
    };
    const first = await run();
    expect(first.filter((c) => c.startsWith('result:'))).toHaveLength(10);
    expect(first.filter((c) => c.startsWith('duplicate:')).length).toBeGreaterThan(0);
    expect(await run()).toEqual(first);
  });

  it('sends a forged callback on demand and records the refusal', async () => {
    await send('INIT', { MaThamChieu: 'REFX', SoTien: 5000 });
    const forged = await request(url, 'POST', '/_sim/forge-callback', { MaThamChieu: 'REFX' });
    expect(forged.body).toEqual(expect.objectContaining({ kind: 'forged', status: 401 }));
    expect(receiver.received).toHaveLength(1);
    expect(verifyMessage('CALLBACK', receiver.received[0]!, SECRET)).toBe(false);
    expect(receiver.received[0]).toEqual(expect.objectContaining({ MaThamChieu: 'REFX', SoTien: 5000 }));
  });

  it('sends a result again while the receiver does not answer 2xx, up to callbackRetries', async () => {
    await request(url, 'PUT', '/_sim/config', { pendingPolls: { min: 0, max: 0 } });
    receiver.failNext.count = 1;
    await send('INIT', { MaThamChieu: 'REFR1', SoTien: 1000 });
    await send('QUERY', { MaThamChieu: 'REFR1' });
    await sim.settled();
    expect(sim.state().callbacks).toEqual([
      expect.objectContaining({ kind: 'result', attempts: 2, status: 200 }),
    ]);
    receiver.failNext.count = 5;
    await send('INIT', { MaThamChieu: 'REFR2', SoTien: 1000 });
    await send('QUERY', { MaThamChieu: 'REFR2' });
    await sim.settled();
    expect(sim.state().callbacks[1]).toEqual(expect.objectContaining({ attempts: 3, status: 500 }));
    expect(receiver.received.filter((c) => c.MaThamChieu === 'REFR2')).toHaveLength(3);
  });

  it('writes ThoiGianGD in 12-hour time without AM/PM at the fault rate, signed as written', async () => {
    await request(url, 'PUT', '/_sim/config', { pendingPolls: { min: 0, max: 0 } });
    await request(url, 'PUT', '/_sim/faults', { twelveHourTime: 1 });
    const before = Date.now();
    await send('INIT', { MaThamChieu: 'REFH', SoTien: 1000 });
    const q = await send('QUERY', { MaThamChieu: 'REFH' });
    await sim.settled();
    const cb = receiver.received[0]!;
    const written = [twelveHourPortalTime(before), twelveHourPortalTime(Date.now())];
    expect(written).toContain(cb.ThoiGianGD);
    expect(q.body.ThoiGianGD).toBe(cb.ThoiGianGD);
    expect(Number(String(cb.ThoiGianGD).slice(8, 10))).toBeGreaterThanOrEqual(1);
    expect(Number(String(cb.ThoiGianGD).slice(8, 10))).toBeLessThanOrEqual(12);
    expect(verifyMessage('CALLBACK', cb, SECRET)).toBe(true);
    expect(twelveHourPortalTime(Date.parse('2025-11-24T20:30:00+07:00'))).toBe('20251124083000');
    expect(twelveHourPortalTime(Date.parse('2025-11-24T00:10:00+07:00'))).toBe('20251124121000');
    expect(twelveHourPortalTime(Date.parse('2025-11-24T12:10:00+07:00'))).toBe('20251124121000');
    expect((await request(url, 'PUT', '/_sim/faults', { twelveHourTime: 2 })).status).toBe(400);
  });

  it('tampers with a payment behind the hub’s back, sending no callback', async () => {
    await request(url, 'PUT', '/_sim/config', { outcomes: { success: 1 }, pendingPolls: { min: 0, max: 0 } });
    await send('INIT', { MaThamChieu: 'REFZ', SoTien: 1000 });
    await send('QUERY', { MaThamChieu: 'REFZ' });
    await sim.settled();
    const sent = receiver.received.length;
    const tampered = await request(url, 'POST', '/_sim/tamper', {
      MaThamChieu: 'REFZ',
      set: { TrangThaiGD: 4, SoTien: 999 },
    });
    expect(tampered.status).toBe(200);
    const q = await send('QUERY', { MaThamChieu: 'REFZ' });
    expect(q.body).toMatchObject({ TrangThaiGD: 4, SoTien: 999 });
    expect(receiver.received).toHaveLength(sent);
    for (const bad of [
      { MaThamChieu: 'REFZ', set: { TrangThaiGD: 2 } },
      { MaThamChieu: 'REFZ', set: { MaLoi: '00' } },
      { MaThamChieu: 'REFZ', set: {} },
      { MaThamChieu: 'REFZ', set: { SoTien: -1 } },
      { MaThamChieu: 'REFZ' },
      { MaThamChieu: 'REFnone', set: { TrangThaiGD: 1 } },
      { set: { TrangThaiGD: 1 } },
    ]) {
      const res = await request(url, 'POST', '/_sim/tamper', bad);
      expect([res.status, res.body.MaLoi]).toEqual([400, '01']);
    }
    expect((await request(url, 'POST', '/_sim/tamper', { MaThamChieu: 'REFZ', delete: true })).status).toBe(
      200,
    );
    expect((await send('QUERY', { MaThamChieu: 'REFZ' })).body.MaLoi).toBe('03');
  });

  it('resolves a payment on demand', async () => {
    await request(url, 'PUT', '/_sim/config', { outcomes: { pending: 1 } });
    await send('INIT', { MaThamChieu: 'REFM', SoTien: 1000 });
    const resolved = await request(url, 'POST', '/_sim/payments/resolve', {
      MaThamChieu: 'REFM',
      TrangThaiGD: 1,
    });
    expect(resolved.body.TrangThaiGD).toBe(1);
    expect((await send('QUERY', { MaThamChieu: 'REFM' })).body.TrangThaiGD).toBe(1);
  });
});
