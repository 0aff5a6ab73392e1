import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatVn } from '#lgsp/connectors';
import { request } from '../../../../test/support/sim-http.js';
import { signMessage, verifyMessage } from '#lgsp/connectors';
import { PaymentPlatformSimulator } from './payment-platform.js';

const SECRET = 'test-secret';
const at = (): string => formatVn(Date.now(), 'portal');

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
      res.end(JSON.stringify({ accepted: valid }));
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
  const send = (kind: 'INIT' | 'QUERY' | 'GET_BILL', fields: Record<string, unknown>, secret = SECRET) =>
    request(
      url,
      'POST',
      '/api/v1/thanh-toan',
      signMessage(kind, { LoaiBanTin: kind, MaDoiTac: '000.00.00.H56', ThoiGianGD: at(), ...fields }, secret),
    );

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
    const forged = await send('INIT', { MaThamChieu: 'REF-1', SoTien: 50000 }, 'wrong');
    expect(forged.status).toBe(400);
    expect(forged.body).toEqual({ MaLoi: '02', MoTaLoi: expect.any(String) });
    const init = await send('INIT', { MaThamChieu: 'REF-1', SoTien: 50000 });
    expect(init.body.MaLoi).toBe('00');
    expect(verifyMessage('INIT_RESPONSE', init.body, SECRET)).toBe(true);
    expect(verifyMessage('INIT_RESPONSE', init.body, 'wrong')).toBe(false);
    const again = await send('INIT', { MaThamChieu: 'REF-1', SoTien: 50000 });
    expect(again.body.MaGiaoDich).toBe(init.body.MaGiaoDich);
    const otherAmount = await send('INIT', { MaThamChieu: 'REF-1', SoTien: 60000 });
    expect(otherAmount.body.MaLoi).toBe('04');
    const bad = await send('INIT', { MaThamChieu: 'REF-2', SoTien: -5 });
    expect(bad.status).toBe(400);
    expect(bad.body.MaLoi).toBe('01');
  });

  it('answers pending to QUERY until the plan resolves it, then sends a signed callback', async () => {
    await send('INIT', { MaThamChieu: 'REF-P', SoTien: 120000 });
    const states: number[] = [];
    for (let i = 0; i < 4; i++) {
      const q = await send('QUERY', { MaThamChieu: 'REF-P' });
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
        MaThamChieu: 'REF-P',
        SoTien: 120000,
        MaNganHang: expect.any(String),
      }),
    );
    expect(Object.keys(cb).sort()).toEqual(
      ['MaGiaoDich', 'MaLoi', 'MaNganHang', 'MaThamChieu', 'MaXacThuc', 'SoTien', 'ThoiGianGD'].sort(),
    );
    expect(verifyMessage('CALLBACK', cb, SECRET)).toBe(true);
    const bill = await send('GET_BILL', { MaThamChieu: 'REF-P' });
    expect(bill.body).toEqual(expect.objectContaining({ MaLoi: '00', SoTien: 120000 }));
    expect(verifyMessage('GET_BILL_RESPONSE', bill.body, SECRET)).toBe(true);
    const state = (await request(url, 'GET', '/_sim/state')).body;
    expect(state.callbacks).toEqual([expect.objectContaining({ kind: 'result', status: 200 })]);
    expect(state.config.secret).toBeUndefined();
  });

  it('keeps some payments pending for ever and fails others with MaLoi 24', async () => {
    await request(url, 'PUT', '/_sim/config', { outcomes: { pending: 1 } });
    await send('INIT', { MaThamChieu: 'REF-W', SoTien: 1000 });
    for (let i = 0; i < 5; i++)
      expect((await send('QUERY', { MaThamChieu: 'REF-W' })).body.TrangThaiGD).toBe(3);
    expect((await send('GET_BILL', { MaThamChieu: 'REF-W' })).body.MaLoi).toBe('12');
    await request(url, 'PUT', '/_sim/config', { outcomes: { failed: 1 }, pendingPolls: { min: 0 } });
    await send('INIT', { MaThamChieu: 'REF-F', SoTien: 1000 });
    expect((await send('QUERY', { MaThamChieu: 'REF-F' })).body.TrangThaiGD).toBe(4);
    await sim.settled();
    expect(receiver.received).toEqual([expect.objectContaining({ MaThamChieu: 'REF-F', MaLoi: '24' })]);
    expect((await send('QUERY', { MaThamChieu: 'REF-none' })).body.MaLoi).toBe('03');
  });

  it('resolves by itself after resolveAfterMs and sends the callback', async () => {
    await request(url, 'PUT', '/_sim/config', { resolveAfterMs: { min: 20, max: 40 } });
    await send('INIT', { MaThamChieu: 'REF-T', SoTien: 1000 });
    await new Promise((r) => setTimeout(r, 100));
    await sim.settled();
    expect(receiver.received).toEqual([expect.objectContaining({ MaThamChieu: 'REF-T', MaLoi: '00' })]);
  });

  it('sends duplicate callbacks at the fault rate, the same sequence for the same seed', async () => {
    const run = async (): Promise<string[]> => {
      await request(url, 'POST', '/_sim/reset');
      receiver.received.length = 0;
      await request(url, 'PUT', '/_sim/config', { pendingPolls: { min: 0, max: 0 } });
      await request(url, 'PUT', '/_sim/faults', { seed: 5, duplicateCallbacks: 0.5 });
      for (let i = 0; i < 10; i++) {
        await send('INIT', { MaThamChieu: `REF-${i}`, SoTien: 1000 });
        await send('QUERY', { MaThamChieu: `REF-${i}` });
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
    await send('INIT', { MaThamChieu: 'REF-X', SoTien: 5000 });
    const forged = await request(url, 'POST', '/_sim/forge-callback', { MaThamChieu: 'REF-X' });
    expect(forged.body).toEqual(expect.objectContaining({ kind: 'forged', status: 401 }));
    expect(receiver.received).toHaveLength(1);
    expect(verifyMessage('CALLBACK', receiver.received[0]!, SECRET)).toBe(false);
    expect(receiver.received[0]).toEqual(expect.objectContaining({ MaThamChieu: 'REF-X', SoTien: 5000 }));
  });

  it('sends a result again while the receiver does not answer 2xx, up to callbackRetries', async () => {
    await request(url, 'PUT', '/_sim/config', { pendingPolls: { min: 0, max: 0 } });
    receiver.failNext.count = 1;
    await send('INIT', { MaThamChieu: 'REF-R1', SoTien: 1000 });
    await send('QUERY', { MaThamChieu: 'REF-R1' });
    await sim.settled();
    expect(sim.state().callbacks).toEqual([
      expect.objectContaining({ kind: 'result', attempts: 2, status: 200 }),
    ]);
    receiver.failNext.count = 5;
    await send('INIT', { MaThamChieu: 'REF-R2', SoTien: 1000 });
    await send('QUERY', { MaThamChieu: 'REF-R2' });
    await sim.settled();
    expect(sim.state().callbacks[1]).toEqual(expect.objectContaining({ attempts: 3, status: 500 }));
    expect(receiver.received.filter((c) => c.MaThamChieu === 'REF-R2')).toHaveLength(3);
  });

  it('resolves a payment on demand', async () => {
    await request(url, 'PUT', '/_sim/config', { outcomes: { pending: 1 } });
    await send('INIT', { MaThamChieu: 'REF-M', SoTien: 1000 });
    const resolved = await request(url, 'POST', '/_sim/payments/resolve', {
      MaThamChieu: 'REF-M',
      TrangThaiGD: 1,
    });
    expect(resolved.body.TrangThaiGD).toBe(1);
    expect((await send('QUERY', { MaThamChieu: 'REF-M' })).body.TrangThaiGD).toBe(1);
  });
});
