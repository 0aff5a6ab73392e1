import { parseFaultConfig, type SentCallback } from '#lgsp/simulators';
import { signMessage, verifyMessage } from './digest.js';
import { PAYMENT_SOURCE, PAYMENTS_TARGET } from './payment-mapping.js';
import {
  callbacks,
  common,
  connector,
  FEE,
  feeDue,
  handler,
  logs,
  newCode,
  outcomes,
  paymentEvents,
  pending,
  ref,
  SECRET,
  sim,
  simUrl,
  streamOf,
} from './payment-flow.testing.js';

describe('payments with the payment platform simulator', () => {
  it('captures a callback whose ThoiGianGD is in 12-hour time without AM/PM, read by when it came', async () => {
    sim.faults.configure(parseFaultConfig({ twelveHourTime: 1 }, Date.now()));
    try {
      const code = newCode();
      await feeDue(code);
      const { connector: c } = connector();
      await c.deliver(await streamOf(code));
      const [sent] = await callbacks(1);
      // Signed as written: the hub verified the digest over the 12-hour text and accepted it.
      expect(sent).toMatchObject({ kind: 'result', status: 200, answerVerified: true });
      const hour = Number(String(sent!.body.ThoiGianGD).slice(8, 10));
      expect(hour >= 1 && hour <= 12).toBe(true);
      const [event] = await paymentEvents(code);
      const paidAt = Date.parse((event!.data as { paidAt: string }).paidAt);
      expect(Math.abs(paidAt - Date.now())).toBeLessThan(5 * 60_000);
    } finally {
      sim.faults.reset();
    }
  });

  it('opens the fee due and captures the paid callback as payment.completed', async () => {
    const code = newCode();
    await feeDue(code);
    const { connector: c } = connector();

    const delivered = await c.deliver(await streamOf(code));
    expect(delivered.map((o) => o.status)).toEqual(['delivered']);
    expect(sim.state().payments).toEqual([
      expect.objectContaining({
        MaThamChieu: ref(code),
        MaDoiTac: 'H51',
        SoTien: FEE,
        ThoiGianKhoiTao: expect.stringMatching(/^\d{14}$/),
        ThongTinGiaoDich: `Thanh toán phí, lệ phí hồ sơ ${code}`,
        ThongTinBienLai: expect.objectContaining({
          MaHoSo: code,
          NoiDungThanhToan: `Thanh toán phí, lệ phí hồ sơ ${code}`,
          DSKhoanNop: expect.arrayContaining([expect.objectContaining({ SoTien: expect.any(String) })]),
        }),
      }),
    ]);

    const [sent] = await callbacks(1);
    // The platform checks the hub's answer: {MaLoi, MoTaLoi, MaDoiTac, MaThamChieu, ThoiGianGD} signed.
    expect(sent).toMatchObject({ kind: 'result', status: 200, answerVerified: true });
    expect(JSON.parse(sent!.response!)).toMatchObject({
      MaLoi: '00',
      MaDoiTac: 'H51',
      MaThamChieu: ref(code),
      ThoiGianGD: sent!.body.ThoiGianGD,
    });
    const payment = sim.state().payments[0]!;
    const events = await paymentEvents(code);
    expect(events).toEqual([
      expect.objectContaining({
        source: PAYMENT_SOURCE,
        type: 'vn.gov.lgsp.payment.completed.v1',
        id: `payment:${ref(code)}:${payment.MaGiaoDich}:completed`,
        data: {
          ...common(code),
          paymentRef: ref(code),
          transactionId: payment.MaGiaoDich,
          amount: FEE,
          paidAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$/),
          bankCode: payment.MaNganHang,
        },
      }),
    ]);
    expect(outcomes).toEqual([
      { outcome: 'accepted', dossier: code, ref: ref(code), eventId: events[0]!.id },
    ]);
    expect(await pending.count(PAYMENTS_TARGET)).toBe(0);
  });

  it('marks the callback of a payment a replay opened with causedbyreplay=<replay id>', async () => {
    const code = newCode();
    await feeDue(code);
    const { connector: c } = connector();
    expect((await c.replay(code, 'rp-pay'))?.status).toBe('delivered');
    expect(await pending.get(PAYMENTS_TARGET, ref(code))).toMatchObject({ replay: 'rp-pay' });
    await callbacks(1);
    const events = await paymentEvents(code);
    expect(events.map((e) => [e.type, e.extensions.causedbyreplay])).toEqual([
      ['vn.gov.lgsp.payment.completed.v1', 'rp-pay'],
    ]);
  });

  it('captures a failed payment as payment.failed', async () => {
    sim.configure({ outcomes: { failed: 1 } });
    const code = newCode();
    await feeDue(code);
    await connector().connector.deliver(await streamOf(code));
    await callbacks(1);

    expect((await paymentEvents(code)).map((e) => [e.type, e.data])).toEqual([
      [
        'vn.gov.lgsp.payment.failed.v1',
        {
          ...common(code),
          paymentRef: ref(code),
          failedAt: expect.stringMatching(/\+07:00$/),
          reason: 'Giao dịch thanh toán không thành công',
        },
      ],
    ]);
    expect(await pending.count(PAYMENTS_TARGET)).toBe(0);
  });

  it('opens nothing for a dossier without fees', async () => {
    const code = newCode();
    await feeDue(code, 0);
    const delivered = await connector().connector.deliver(await streamOf(code));

    expect(delivered.map((o) => o.status)).toEqual(['delivered']);
    expect(sim.calls().byOperation.INIT).toBeUndefined();
  });

  it('rejects a forged callback and appends nothing', async () => {
    sim.configure({ outcomes: { pending: 1 } });
    const code = newCode();
    await feeDue(code);
    await connector().connector.deliver(await streamOf(code));

    const res = await fetch(`${simUrl}/_sim/forge-callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ MaThamChieu: ref(code), MaLoi: '00' }),
    });
    const forged = (await res.json()) as SentCallback;

    expect(forged).toMatchObject({ kind: 'forged', status: 401 });
    const answer = JSON.parse(forged.response ?? '{}') as Record<string, unknown>;
    expect(answer).toEqual({
      MaLoi: '02',
      MoTaLoi: 'MaXacThuc không hợp lệ',
      MaDoiTac: forged.body.MaDoiTac,
      MaThamChieu: ref(code),
      ThoiGianGD: forged.body.ThoiGianGD,
      MaXacThuc: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(verifyMessage('CALLBACK_ANSWER', answer, SECRET)).toBe(true);
    expect(outcomes).toEqual([{ outcome: 'forged', ref: ref(code) }]);
    expect(await paymentEvents(code)).toEqual([]);
    expect(await pending.get(PAYMENTS_TARGET, ref(code))).toBeDefined();
    const warning = logs.find((l) => l.level === 'warn');
    expect(warning?.obj).toEqual({ target: PAYMENTS_TARGET });
    const logged = JSON.stringify(logs);
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain(String(forged.body.MaXacThuc));
  });

  it('appends nothing new for a duplicate callback, and answers both 200', async () => {
    sim.faults.configure(parseFaultConfig({ duplicateCallbacks: 1 }, Date.now()));
    const code = newCode();
    await feeDue(code);
    await connector().connector.deliver(await streamOf(code));

    const sent = await callbacks(2);
    expect(sent.map((c) => [c.kind, c.status])).toEqual([
      ['result', 200],
      ['duplicate', 200],
    ]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['accepted', 'duplicate']);
    expect(await paymentEvents(code)).toHaveLength(1);
  });

  it('answers unknown, invalid and untrusted callbacks without appending, and finds the commune in the stream', async () => {
    const code = newCode();
    await feeDue(code);
    const callback = (fields: Record<string, unknown>) =>
      signMessage(
        'CALLBACK',
        {
          LoaiBanTin: 'CONFIRM',
          MaLoi: '00',
          MaDoiTac: 'H51',
          MaThamChieu: ref(code),
          SoTien: FEE,
          MaTienTe: 'VND',
          MaGiaoDich: 'GD000000000042',
          MaNganHang: 'VCB',
          ThoiGianGD: '20251124090000',
          ThongTinGiaoDich: 'Thanh toán',
          ...fields,
        },
        SECRET,
      );

    expect(await handler.handle(callback({ MaThamChieu: ref('000.00.51.H56-251123-UNKNOWN') }))).toEqual({
      outcome: 'unknown-dossier',
      ref: ref('000.00.51.H56-251123-UNKNOWN'),
    });
    expect(await handler.handle('not json')).toMatchObject({ outcome: 'invalid', field: 'body' });
    expect(await handler.handle(callback({ MaLoi: '99' }))).toMatchObject({
      outcome: 'invalid',
      field: 'MaLoi',
    });
    expect(await handler.handle(callback({ ThoiGianGD: '20251324090000' }))).toMatchObject({
      outcome: 'invalid',
      field: 'ThoiGianGD',
    });
    expect(await handler.handle(callback({ MaThamChieu: code }))).toMatchObject({
      outcome: 'invalid',
      field: 'MaThamChieu',
    });
    expect(await handler.handle({ ...callback({}), SoTien: FEE * 10 })).toEqual({
      outcome: 'forged',
      ref: ref(code),
    });
    expect(await paymentEvents(code)).toEqual([]);

    // No pending item (e.g. a callback after a restart with another store): the stream tells the commune.
    const accepted = await handler.handle(callback({}));
    expect(accepted).toMatchObject({ outcome: 'accepted', dossier: code });
    expect((await paymentEvents(code)).map((e) => e.data)).toEqual([
      expect.objectContaining({
        ...common(code),
        transactionId: 'GD000000000042',
        paidAt: '2025-11-24T09:00:00+07:00',
      }),
    ]);
  });
});
