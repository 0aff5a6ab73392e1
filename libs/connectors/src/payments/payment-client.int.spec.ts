import { PaymentPlatformSimulator, parseFaultConfig } from '#lgsp/simulators';
import { ConnectorError } from '../core/errors.js';
import { PaymentClient } from './payment-client.js';

const SECRET = 'client-spec-secret';
const REF = '000.00.51.H56-251123-0001-TT1';

let sim: PaymentPlatformSimulator;
let url: string;

beforeAll(async () => {
  sim = new PaymentPlatformSimulator({ config: { secret: SECRET } });
  ({ url } = await sim.start());
});

afterAll(async () => {
  await sim.stop();
});

beforeEach(() => {
  sim.reset();
  sim.configure({ outcomes: { success: 1 }, pendingPolls: { min: 0, max: 0 }, resolveAfterMs: null });
});

const client = (options: Partial<ConstructorParameters<typeof PaymentClient>[0]> = {}) =>
  new PaymentClient({ baseUrl: url, partnerCode: 'H51', secret: SECRET, timeoutMs: 2000, ...options });

const init = { ref: REF, amount: 50000, requestedAt: '20251124000509', description: 'Lệ phí hộ tịch' };

async function rejection(promise: Promise<unknown>): Promise<ConnectorError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectorError);
  return err as ConnectorError;
}

describe('PaymentClient with the payment platform simulator', () => {
  it('opens one transaction for a repeated identical INIT', async () => {
    const first = await client().init(init);
    const again = await client().init(init);

    expect(first).toEqual({
      ref: REF,
      transactionId: 'GD000000000001',
      paymentUrl: 'https://thanhtoan.dichvucong.gov.vn/pay/GD000000000001',
    });
    expect(again).toEqual(first);
    expect(sim.state().payments).toEqual([
      expect.objectContaining({
        MaThamChieu: REF,
        MaDoiTac: 'H51',
        SoTien: 50000,
        NoiDungThanhToan: init.description,
      }),
    ]);
  });

  it('refuses as data the same reference with another amount (MaLoi 04)', async () => {
    await client().init(init);
    const err = await rejection(client().init({ ...init, amount: 60000 }));
    expect([err.kind, err.code, err.message]).toEqual([
      'data',
      'rejected',
      expect.stringContaining('MaLoi 04'),
    ]);
  });

  it('is refused as data when its digest is not the platform’s (MaLoi 02)', async () => {
    const err = await rejection(client({ secret: 'another-secret' }).init(init));
    expect([err.kind, err.status]).toEqual(['data', 400]);
    expect(err.message).toContain('MaLoi 02');
  });

  it('queries pending then final, and answers undefined for an unknown reference', async () => {
    sim.configure({ pendingPolls: { min: 1, max: 1 } });
    const c = client();
    await c.init(init);

    expect(await c.query(REF)).toEqual({
      ref: REF,
      transactionId: 'GD000000000001',
      amount: 50000,
      status: 3,
      at: '',
      bankCode: expect.any(String),
    });
    const final = await c.query(REF);
    expect(final).toMatchObject({ status: 1, at: expect.stringMatching(/^\d{14}$/) });
    expect(await c.query('000.00.51.H56-251123-9999-TT1')).toBeUndefined();
  });

  it('gets the bill once paid, none before', async () => {
    sim.configure({ pendingPolls: { min: 1, max: 1 } });
    const c = client();
    await c.init(init);
    expect(await c.getBill(REF)).toBeUndefined();
    await c.query(REF);
    await c.query(REF);

    expect(await c.getBill(REF)).toEqual({
      ref: REF,
      transactionId: 'GD000000000001',
      amount: 50000,
      receiptNumber: 'BL000000000001',
      receiptDate: expect.stringMatching(/^\d{14}$/),
      description: init.description,
    });
  });

  it('takes nothing from an answer whose MaXacThuc does not verify, and calls it retriable', async () => {
    // A proxy on the way changes the transaction of a genuine answer.
    const tampering: typeof fetch = async (input, options) => {
      const res = await fetch(input, options);
      const body = (await res.json()) as Record<string, unknown>;
      return new Response(JSON.stringify({ ...body, MaGiaoDich: 'GD999999999999' }), {
        status: res.status,
        headers: { 'content-type': 'application/json' },
      });
    };
    const c = client({ fetch: tampering });
    const errInit = await rejection(c.init(init));
    const errQuery = await rejection(c.query(REF));

    expect([errInit.kind, errInit.message]).toEqual(['retriable', expect.stringContaining('MaXacThuc')]);
    expect(errQuery.kind).toBe('retriable');
  });

  it('classifies an outage, a rate limit and an unreachable platform as retriable', async () => {
    sim.faults.configure(parseFaultConfig({ outage: { forMs: 5000 } }, Date.now()));
    const outage = await rejection(client().init(init));
    expect([outage.kind, outage.code, outage.status]).toEqual(['retriable', 'unavailable', 503]);

    sim.faults.configure(parseFaultConfig({ rateLimit: { perSecond: 0.5, burst: 1 } }, Date.now()));
    await client().query(REF);
    const limited = await rejection(client().query(REF));
    expect([limited.kind, limited.code]).toEqual(['retriable', 'rate-limited']);
    expect(limited.retryAfterMs).toBeGreaterThan(0);

    const down = await rejection(client({ baseUrl: 'http://127.0.0.1:1' }).query(REF));
    expect([down.kind, down.code]).toEqual(['retriable', 'network']);
  });
});
