import type { StoredEvent } from '#lgsp/event-store';
import { evolveDossier, type DossierView } from '#lgsp/projections';
import { ConnectorError } from '../core/errors.js';
import { signMessage, verifyMessage } from './digest.js';
import { parsePaymentCallback } from './payment-callback-handler.js';
import { openFeeRequests, isFeeDueEvent } from './payment-connector.js';
import {
  PAYMENT_FAILED_REASON,
  PAYMENT_SOURCE,
  callbackHttpResponse,
  dossierOfPaymentRef,
  feeRequests,
  paymentEventId,
  paymentReceipt,
  paymentRef,
  settledPaymentRefs,
  toPaymentEvent,
  type CallbackOutcome,
} from './payment-mapping.js';
import { PaymentStatusPoller } from './payment-status-poller.js';

const CODE = '000.00.51.H56-251123-0001';
const PLACE = { dossierCode: CODE, provinceCode: '51', communeCode: '21040' };
const REF1 = paymentRef(CODE, 1);
const REF2 = paymentRef(CODE, 2);

let position = 0;
function event(type: string, data: Record<string, unknown>): StoredEvent {
  position++;
  return {
    id: `e${position}`,
    source: '/test',
    type: `vn.gov.lgsp.${type}.v1`,
    data: { ...PLACE, ...data },
    extensions: {},
    position,
    stream: `dossier-${CODE}`,
    streamVersion: position,
    recordedAt: '2025-11-23T10:00:00Z',
    hash: '',
    prevHash: '',
  };
}

const submitted = (fees: number[]) =>
  event('dossier.submitted', {
    procedureCode: '1.001193',
    agencyCode: '000.00.51.H56',
    channel: 'online',
    applicant: { fullName: 'Nguyễn Văn A', idNumber: '051190001234' },
    receivedAt: '2025-11-23T08:00:00+07:00',
    fees: fees.map((amount, i) => ({ code: `LP0${i}`, name: 'Lệ phí', amount })),
  });
const status = (s: number, changedAt: string) =>
  event('dossier.status-changed', { status: s, changedAt, handler: { name: 'Cán bộ' } });
const completed = (ref: string) =>
  event('payment.completed', {
    paymentRef: ref,
    transactionId: 'GD1',
    amount: 50000,
    paidAt: '2025-11-23T10:00:00+07:00',
  });
const failed = (ref: string) =>
  event('payment.failed', { paymentRef: ref, failedAt: '2025-11-23T10:00:00+07:00', reason: 'x' });

function stateOf(events: StoredEvent[]) {
  let view: DossierView | undefined;
  for (const e of events) view = evolveDossier(view, e);
  return { dossier: CODE, view: view!, events };
}

describe('payment references', () => {
  it('numbers the fee requests of a dossier in letters and digits only, and finds the dossier back', () => {
    expect(paymentRef(CODE, 2)).toBe('000ZD00ZD51ZDH56ZH251123ZH0001ZT2');
    expect(REF1).toMatch(/^[0-9A-Za-z]{1,50}$/);
    expect(dossierOfPaymentRef(REF2)).toBe(CODE);
    expect(dossierOfPaymentRef(paymentRef(CODE, 12))).toBe(CODE);
    // What the escape must keep apart: a Z, an underscore, and a code that looks like an escape.
    for (const code of ['ZD-1', 'A_B.Z', 'H56ZT1', 'X', '1.001193.000.00.00.H56-250701-00012']) {
      expect(paymentRef(code, 3)).toMatch(/^[0-9A-Za-z]+$/);
      expect(dossierOfPaymentRef(paymentRef(code, 3))).toBe(code);
    }
    expect(dossierOfPaymentRef(CODE)).toBeUndefined();
    expect(dossierOfPaymentRef('000ZD00')).toBeUndefined();
    expect(dossierOfPaymentRef('ZT1')).toBeUndefined();
    expect(dossierOfPaymentRef('ABCZT0')).toBeUndefined();
    expect(dossierOfPaymentRef('ABCZT')).toBeUndefined();
    expect(dossierOfPaymentRef('ABZQCZT1')).toBeUndefined();
    expect(dossierOfPaymentRef('ABCZ')).toBeUndefined();
    expect(dossierOfPaymentRef(`${CODE}-TT1`)).toBeUndefined();
    expect(dossierOfPaymentRef(`${'A'.repeat(60)}ZT1`)).toBeUndefined();
  });
});

describe('fee requests', () => {
  it('makes the n-th change to status 6 the request TT<n>, timed at the change in Vietnam time', () => {
    const events = [
      submitted([30000, 20000]),
      status(4, '2025-11-23T02:00:00Z'),
      status(6, '2025-11-23T17:05:09Z'),
      status(4, '2025-11-24T02:00:00Z'),
      status(6, '2025-11-24T09:30:00+07:00'),
    ];
    expect(feeRequests(CODE, events)).toEqual([
      { ref: REF1, attempt: 1, requestedAt: '20251124000509', position: events[2]!.position },
      { ref: REF2, attempt: 2, requestedAt: '20251124093000', position: events[4]!.position },
    ]);
    expect(events.map(isFeeDueEvent)).toEqual([false, false, true, false, true]);
  });

  it('opens only the requests without a final event, none once paid in full or with no fee', () => {
    const base = [submitted([50000]), status(6, '2025-11-23T17:05:09Z')];
    expect(openFeeRequests(stateOf(base)).map((r) => r.attempt)).toEqual([1]);

    const retried = [...base, failed(REF1), status(6, '2025-11-24T01:00:00Z')];
    expect(openFeeRequests(stateOf(retried)).map((r) => r.attempt)).toEqual([2]);

    // The state sent is older than the stream: the final event read since counts.
    const paid = [...base, completed(REF1)];
    expect(openFeeRequests(stateOf(base), stateOf(paid))).toEqual([]);
    expect(openFeeRequests(stateOf([...paid, status(6, '2025-11-25T01:00:00Z')]))).toEqual([]);

    expect(openFeeRequests(stateOf([submitted([]), status(6, '2025-11-23T17:05:09Z')]))).toEqual([]);
  });

  it('refuses as a data error a reference the platform would not take', () => {
    const long = 'A'.repeat(48);
    const events = [submitted([50000]), status(6, '2025-11-23T17:05:09Z')];
    const state = { ...stateOf(events), dossier: long };
    expect(() => openFeeRequests(state)).toThrow(ConnectorError);
    try {
      openFeeRequests(state);
    } catch (e) {
      expect((e as ConnectorError).kind).toBe('data');
    }
  });

  it('lists the references already settled', () => {
    expect(settledPaymentRefs([completed('AZT1'), failed('AZT2'), status(6, 'x')])).toEqual(
      new Set(['AZT1', 'AZT2']),
    );
  });
});

describe('the receipt of an INIT (ThongTinBienLai)', () => {
  it('names the procedure, the agency, the dossier, the payer and each fee, amounts as strings', () => {
    const events = [submitted([30000, 20000, 0]), status(6, '2025-11-23T17:05:09Z')];
    const { view } = stateOf(events);
    const beneficiary = { account: '3711', bankCode: 'VCB', holder: 'UBND xã' };
    expect(paymentReceipt(CODE, view, events, 'Thanh toán', beneficiary)).toEqual({
      MaTTHC: '1.001193',
      MaDVC: '1.001193.01',
      MaDonVi: '000.00.51.H56',
      MaHoSo: CODE,
      TKThuHuong: '3711',
      MaNHThuHuong: 'VCB',
      TenTKThuHuong: 'UBND xã',
      HoTenNguoiNop: 'Nguyễn Văn A',
      NoiDungThanhToan: 'Thanh toán',
      PhiLePhi: [
        { LoaiPhiLePhi: 'Phi', MaPhiLePhi: 'LP00', TenPhiLePhi: 'Lệ phí', SoTien: '30000' },
        { LoaiPhiLePhi: 'Phi', MaPhiLePhi: 'LP01', TenPhiLePhi: 'Lệ phí', SoTien: '20000' },
      ],
      DSKhoanNop: [
        { NoiDung: 'Lệ phí', SoTien: '30000' },
        { NoiDung: 'Lệ phí', SoTien: '20000' },
      ],
    });
    // Without the submission's fee list: one line for the amount due; no beneficiary: empty.
    const bare = paymentReceipt(CODE, { ...view, procedureCode: undefined }, [], 'Thanh toán');
    expect(bare).toMatchObject({ MaTTHC: '', MaDVC: '', TKThuHuong: '', PhiLePhi: [] });
    expect(bare.DSKhoanNop).toEqual([{ NoiDung: 'Thanh toán', SoTien: '50000' }]);
  });
});

describe('payment events', () => {
  const result = {
    outcome: 'completed' as const,
    ref: REF1,
    transactionId: 'GD000000000001',
    amount: 50000,
    at: '20251124000509',
    bankCode: 'VCB',
  };

  it('maps a completed payment with its time as RFC 3339 +07:00', () => {
    expect(toPaymentEvent(result, PLACE)).toEqual({
      ok: true,
      event: {
        specversion: '1.0',
        id: `payment:${REF1}:GD000000000001:completed`,
        source: PAYMENT_SOURCE,
        type: 'vn.gov.lgsp.payment.completed.v1',
        time: '2025-11-24T00:05:09+07:00',
        datacontenttype: 'application/json',
        data: {
          ...PLACE,
          paymentRef: REF1,
          transactionId: 'GD000000000001',
          amount: 50000,
          paidAt: '2025-11-24T00:05:09+07:00',
          bankCode: 'VCB',
        },
      },
    });
  });

  it('maps a failed payment', () => {
    const mapped = toPaymentEvent({ ...result, outcome: 'failed' }, PLACE);
    expect(mapped).toMatchObject({
      ok: true,
      event: {
        id: `payment:${REF1}:GD000000000001:failed`,
        type: 'vn.gov.lgsp.payment.failed.v1',
        data: {
          ...PLACE,
          paymentRef: REF1,
          failedAt: '2025-11-24T00:05:09+07:00',
          reason: PAYMENT_FAILED_REASON,
        },
      },
    });
  });

  it('names ThoiGianGD when it is not a real time', () => {
    expect(toPaymentEvent({ ...result, at: '20251331000000' }, PLACE)).toEqual({
      ok: false,
      field: 'ThoiGianGD',
      message: expect.any(String),
    });
  });

  it('reads a ThoiGianGD written in 12-hour time without AM/PM by when it arrived', () => {
    // Paid at 20:30 Vietnam time, written "08" by the defect; the hub got it at 20:31.
    const pm = toPaymentEvent({ ...result, at: '20251124083000' }, PLACE, {
      receivedAtMs: Date.parse('2025-11-24T20:31:00+07:00'),
      requestedAt: '20251124202500',
    });
    expect(pm).toMatchObject({ ok: true, event: { time: '2025-11-24T20:30:00+07:00' } });
    // The same text arriving in the morning is the morning.
    const am = toPaymentEvent({ ...result, at: '20251124083000' }, PLACE, {
      receivedAtMs: Date.parse('2025-11-24T08:31:00+07:00'),
    });
    expect(am).toMatchObject({ ok: true, event: { time: '2025-11-24T08:30:00+07:00' } });
    // "12" is noon or, from the defect, midnight: 00:10 written "12:10", got at 00:11.
    const midnight = toPaymentEvent({ ...result, at: '20251124121000' }, PLACE, {
      receivedAtMs: Date.parse('2025-11-24T00:11:00+07:00'),
    });
    expect(midnight).toMatchObject({ ok: true, event: { time: '2025-11-24T00:10:00+07:00' } });
    // A 24-hour time past 12 has one reading; no reading that fits falls back to the text as 24-hour.
    const late = toPaymentEvent({ ...result, at: '20251124203000' }, PLACE, {
      receivedAtMs: Date.parse('2025-11-24T20:31:00+07:00'),
    });
    expect(late).toMatchObject({ ok: true, event: { time: '2025-11-24T20:30:00+07:00' } });
    const skewed = toPaymentEvent({ ...result, at: '20251124083000' }, PLACE, {
      receivedAtMs: Date.parse('2025-11-24T07:00:00+07:00'),
    });
    expect(skewed).toMatchObject({ ok: true, event: { time: '2025-11-24T08:30:00+07:00' } });
    // A result older than 12 hours (a late redelivery) cannot be told apart: read as written.
    const old = toPaymentEvent({ ...result, at: '20251124083000' }, PLACE, {
      receivedAtMs: Date.parse('2025-11-26T23:00:00+07:00'),
    });
    expect(old).toMatchObject({ ok: true, event: { time: '2025-11-24T08:30:00+07:00' } });
    // The id does not depend on the time: a callback and a poll of one result make one event.
    expect(pm.ok && am.ok && pm.event.id === am.event.id).toBe(true);
  });

  it('derives the id from the reference, the transaction and the outcome only', () => {
    const id = paymentEventId(result);
    expect(paymentEventId({ ...result })).toBe(id);
    expect(paymentEventId({ ...result, outcome: 'failed' })).not.toBe(id);
    expect(paymentEventId({ ...result, transactionId: 'GD2' })).not.toBe(id);
    expect(paymentEventId({ ...result, ref: REF2 })).not.toBe(id);
  });
});

describe('callbacks', () => {
  const signed = signMessage(
    'CALLBACK',
    {
      LoaiBanTin: 'CONFIRM',
      MaLoi: '00',
      MaDoiTac: 'H51',
      MaThamChieu: REF1,
      SoTien: 50000,
      MaTienTe: 'VND',
      MaGiaoDich: 'GD1',
      MaNganHang: 'VCB',
      ThoiGianGD: '20251124000509',
      ThongTinGiaoDich: 'Thanh toán',
    },
    'k',
  );

  it('reads a callback and names the first wrong field', () => {
    expect(parsePaymentCallback(signed)).toMatchObject({
      maLoi: '00',
      result: {
        outcome: 'completed',
        ref: REF1,
        transactionId: 'GD1',
        amount: 50000,
        bankCode: 'VCB',
      },
    });
    expect(parsePaymentCallback({ ...signed, SoTien: '50000' })).toMatchObject({ result: { amount: 50000 } });
    expect(parsePaymentCallback([])).toMatchObject({ field: 'body' });
    expect(parsePaymentCallback({ ...signed, MaThamChieu: 7 })).toMatchObject({ field: 'MaThamChieu' });
    expect(parsePaymentCallback({ ...signed, SoTien: -1 })).toMatchObject({ field: 'SoTien' });
    expect(parsePaymentCallback({ ...signed, MaXacThuc: undefined })).toMatchObject({ field: 'MaXacThuc' });
    expect(parsePaymentCallback({ ...signed, MaDoiTac: '' })).toMatchObject({ field: 'MaDoiTac' });
    expect(parsePaymentCallback({ ...signed, LoaiBanTin: 1 })).toMatchObject({ field: 'LoaiBanTin' });
    expect(parsePaymentCallback({ ...signed, MaTienTe: 704 })).toMatchObject({ field: 'MaTienTe' });
    expect(parsePaymentCallback({ ...signed, ThongTinGiaoDich: [] })).toMatchObject({
      field: 'ThongTinGiaoDich',
    });
  });

  it('answers each outcome with its HTTP status in the platform’s dialect, signed', () => {
    const echo = { MaDoiTac: 'H51', MaThamChieu: REF1, ThoiGianGD: '20251124000509' };
    const cases: [CallbackOutcome, number, string][] = [
      [{ outcome: 'accepted', dossier: CODE, ref: 'R', eventId: 'i' }, 200, '00'],
      [{ outcome: 'duplicate', dossier: CODE, ref: 'R', eventId: 'i' }, 200, '00'],
      [{ outcome: 'forged', ref: 'R' }, 401, '02'],
      [{ outcome: 'invalid', field: 'SoTien', message: 'bad' }, 400, '99'],
      [{ outcome: 'unknown-dossier', ref: 'R' }, 404, '99'],
    ];
    for (const [outcome, status, maLoi] of cases) {
      const response = callbackHttpResponse(outcome, 'k', echo);
      expect(response.status).toBe(status);
      expect(Object.keys(response.body)).toEqual([
        'MaLoi',
        'MoTaLoi',
        'MaDoiTac',
        'MaThamChieu',
        'ThoiGianGD',
        'MaXacThuc',
      ]);
      expect(response.body).toMatchObject({ MaLoi: maLoi, ...echo });
      expect(verifyMessage('CALLBACK_ANSWER', { ...response.body }, 'k')).toBe(true);
    }
    expect(
      callbackHttpResponse({ outcome: 'invalid', field: 'SoTien', message: 'bad' }, 'k').body,
    ).toMatchObject({ MoTaLoi: 'SoTien: bad', MaDoiTac: '', MaThamChieu: '', ThoiGianGD: '' });
  });
});

describe('poll delays', () => {
  it('grow from the interval, doubling, up to the cap', () => {
    const poller = new PaymentStatusPoller({
      client: {} as never,
      pending: {} as never,
      sink: {} as never,
      pollIntervalMs: 100,
      maxPollDelayMs: 1000,
    });
    expect([1, 2, 3, 4, 5, 20].map((n) => poller.delayAfter(n))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});
