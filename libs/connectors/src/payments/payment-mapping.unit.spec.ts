import type { StoredEvent } from '#lgsp/event-store';
import { evolveDossier, type DossierView } from '#lgsp/projections';
import { ConnectorError } from '../core/errors.js';
import { signMessage } from './digest.js';
import { parsePaymentCallback } from './payment-callback-handler.js';
import { openFeeRequests, isFeeDueEvent } from './payment-connector.js';
import {
  PAYMENT_FAILED_REASON,
  PAYMENT_SOURCE,
  callbackHttpResponse,
  dossierOfPaymentRef,
  feeRequests,
  paymentEventId,
  paymentRef,
  settledPaymentRefs,
  toPaymentEvent,
  type CallbackOutcome,
} from './payment-mapping.js';
import { PaymentStatusPoller } from './payment-status-poller.js';

const CODE = '000.00.51.H56-251123-0001';
const PLACE = { dossierCode: CODE, provinceCode: '51', communeCode: '21040' };

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
  it('numbers the fee requests of a dossier and finds the dossier back', () => {
    expect(paymentRef(CODE, 2)).toBe(`${CODE}-TT2`);
    expect(dossierOfPaymentRef(`${CODE}-TT2`)).toBe(CODE);
    expect(dossierOfPaymentRef(`${CODE}-TT12`)).toBe(CODE);
    expect(dossierOfPaymentRef(CODE)).toBeUndefined();
    expect(dossierOfPaymentRef('-TT1')).toBeUndefined();
    expect(dossierOfPaymentRef(`${CODE}-TT0`)).toBeUndefined();
    expect(dossierOfPaymentRef(`${'A'.repeat(60)}-TT1`)).toBeUndefined();
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
      { ref: `${CODE}-TT1`, attempt: 1, requestedAt: '20251124000509', position: events[2]!.position },
      { ref: `${CODE}-TT2`, attempt: 2, requestedAt: '20251124093000', position: events[4]!.position },
    ]);
    expect(events.map(isFeeDueEvent)).toEqual([false, false, true, false, true]);
  });

  it('opens only the requests without a final event, none once paid in full or with no fee', () => {
    const base = [submitted([50000]), status(6, '2025-11-23T17:05:09Z')];
    expect(openFeeRequests(stateOf(base)).map((r) => r.attempt)).toEqual([1]);

    const retried = [...base, failed(`${CODE}-TT1`), status(6, '2025-11-24T01:00:00Z')];
    expect(openFeeRequests(stateOf(retried)).map((r) => r.attempt)).toEqual([2]);

    // The state sent is older than the stream: the final event read since counts.
    const paid = [...base, completed(`${CODE}-TT1`)];
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
    expect(settledPaymentRefs([completed('A-TT1'), failed('A-TT2'), status(6, 'x')])).toEqual(
      new Set(['A-TT1', 'A-TT2']),
    );
  });
});

describe('payment events', () => {
  const result = {
    outcome: 'completed' as const,
    ref: `${CODE}-TT1`,
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
        id: `payment:${CODE}-TT1:GD000000000001:completed`,
        source: PAYMENT_SOURCE,
        type: 'vn.gov.lgsp.payment.completed.v1',
        time: '2025-11-24T00:05:09+07:00',
        datacontenttype: 'application/json',
        data: {
          ...PLACE,
          paymentRef: `${CODE}-TT1`,
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
        id: `payment:${CODE}-TT1:GD000000000001:failed`,
        type: 'vn.gov.lgsp.payment.failed.v1',
        data: {
          ...PLACE,
          paymentRef: `${CODE}-TT1`,
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

  it('derives the id from the reference, the transaction and the outcome only', () => {
    const id = paymentEventId(result);
    expect(paymentEventId({ ...result })).toBe(id);
    expect(paymentEventId({ ...result, outcome: 'failed' })).not.toBe(id);
    expect(paymentEventId({ ...result, transactionId: 'GD2' })).not.toBe(id);
    expect(paymentEventId({ ...result, ref: `${CODE}-TT2` })).not.toBe(id);
  });
});

describe('callbacks', () => {
  const signed = signMessage(
    'CALLBACK',
    {
      MaLoi: '00',
      MaThamChieu: `${CODE}-TT1`,
      SoTien: 50000,
      MaGiaoDich: 'GD1',
      MaNganHang: 'VCB',
      ThoiGianGD: '20251124000509',
    },
    'k',
  );

  it('reads a callback and names the first wrong field', () => {
    expect(parsePaymentCallback(signed)).toMatchObject({
      maLoi: '00',
      result: {
        outcome: 'completed',
        ref: `${CODE}-TT1`,
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
  });

  it('answers each outcome with its HTTP status in the platform’s dialect', () => {
    const cases: [CallbackOutcome, number, string][] = [
      [{ outcome: 'accepted', dossier: CODE, ref: 'R', eventId: 'i' }, 200, '00'],
      [{ outcome: 'duplicate', dossier: CODE, ref: 'R', eventId: 'i' }, 200, '00'],
      [{ outcome: 'forged', ref: 'R' }, 401, '02'],
      [{ outcome: 'invalid', field: 'SoTien', message: 'bad' }, 400, '01'],
      [{ outcome: 'unknown-dossier', ref: 'R' }, 404, '03'],
    ];
    for (const [outcome, status, maLoi] of cases) {
      const response = callbackHttpResponse(outcome);
      expect([response.status, response.body.MaLoi]).toEqual([status, maLoi]);
    }
    expect(callbackHttpResponse({ outcome: 'invalid', field: 'SoTien', message: 'bad' }).body.MoTaLoi).toBe(
      'SoTien: bad',
    );
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
