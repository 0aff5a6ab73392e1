import { PaymentPlatformSimulator, parseFaultConfig } from '#lgsp/simulators';
import { ConnectorError } from '../core/errors.js';
import { PaymentClient } from './payment-client.js';
import { paymentRef } from './payment-mapping.js';

const SECRET = 'client-spec-secret';
const REF = paymentRef('000.00.51.H56-251123-0001', 1);

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

const init = {
  ref: REF,
  amount: 50000,
  requestedAt: '20251124000509',
  description: 'Lệ phí hộ tịch',
  receipt: { MaHoSo: '000.00.51.H56-251123-0001' },
};
const LOOKUP = { ref: REF, requestedAt: init.requestedAt };

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
        ThongTinGiaoDich: init.description,
        ThoiGianKhoiTao: init.requestedAt,
        ThongTinBienLai: expect.objectContaining({
          NoiDungThanhToan: init.description,
          DSKhoanNop: [{ NoiDung: init.description, SoTien: '50000' }],
        }),
      }),
    ]);
  });

  it('sends a reference of letters and digits, which the platform takes; a punctuated one is refused', async () => {
    expect(REF).toMatch(/^[0-9A-Za-z]+$/);
    const err = await rejection(client().init({ ...init, ref: '000.00.51.H56-251123-0001-TT1' }));
    expect([err.kind, err.status]).toEqual(['data', 400]);
    expect(err.message).toContain('MaLoi 01');
    expect(err.message).toContain('MaThamChieu');
  });

  it('is refused as data when QUERY does not repeat the INIT’s ThoiGianGD', async () => {
    await client().init(init);
    const err = await rejection(client().query({ ref: REF, requestedAt: '20251124000510' }));
    expect([err.kind, err.status]).toEqual(['data', 400]);
    expect(err.message).toContain('ThoiGianGD');
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

    expect(await c.query(LOOKUP)).toEqual({
      ref: REF,
      transactionId: 'GD000000000001',
      amount: 50000,
      status: 3,
      at: '',
      bankCode: expect.any(String),
    });
    const final = await c.query(LOOKUP);
    expect(final).toMatchObject({ status: 1, at: expect.stringMatching(/^\d{14}$/) });
    expect(await c.query({ ...LOOKUP, ref: paymentRef('000.00.51.H56-251123-9999', 1) })).toBeUndefined();
  });

  it('gets the bill once paid, none before', async () => {
    sim.configure({ pendingPolls: { min: 1, max: 1 } });
    const c = client();
    await c.init(init);
    expect(await c.getBill(LOOKUP)).toBeUndefined();
    await c.query(LOOKUP);
    await c.query(LOOKUP);

    expect(await c.getBill(LOOKUP)).toEqual({
      ref: REF,
      transactionId: 'GD000000000001',
      amount: 50000,
      receiptNumber: 'BL000000000001',
      receiptUrl: 'https://thanhtoan.dichvucong.gov.vn/bien-lai/GD000000000001.pdf',
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
    const errQuery = await rejection(c.query(LOOKUP));

    expect([errInit.kind, errInit.message]).toEqual(['retriable', expect.stringContaining('MaXacThuc')]);
    expect(errQuery.kind).toBe('retriable');
  });

  it('calls MaLoi 99 ("other errors") and an unknown code retriable, not the dossier’s fault', async () => {
    for (const MaLoi of ['99', '77']) {
      const answering: typeof fetch = async () =>
        new Response(JSON.stringify({ MaLoi, MoTaLoi: 'Lỗi khác' }), {
          status: 200,
          headers: { 'content-type': 'application/json' },
        });
      const err = await rejection(client({ fetch: answering }).init(init));
      expect([err.kind, err.message]).toEqual(['retriable', expect.stringContaining(`MaLoi ${MaLoi}`)]);
    }
  });

  it('classifies an outage, a rate limit and an unreachable platform as retriable', async () => {
    sim.faults.configure(parseFaultConfig({ outage: { forMs: 5000 } }, Date.now()));
    const outage = await rejection(client().init(init));
    expect([outage.kind, outage.code, outage.status]).toEqual(['retriable', 'unavailable', 503]);

    sim.faults.configure(parseFaultConfig({ rateLimit: { perSecond: 0.5, burst: 1 } }, Date.now()));
    await client().query(LOOKUP);
    const limited = await rejection(client().query(LOOKUP));
    expect([limited.kind, limited.code]).toEqual(['retriable', 'rate-limited']);
    expect(limited.retryAfterMs).toBeGreaterThan(0);

    const down = await rejection(client({ baseUrl: 'http://127.0.0.1:1' }).query(LOOKUP));
    expect([down.kind, down.code]).toEqual(['retriable', 'network']);
  });
});
