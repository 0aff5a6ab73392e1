import { DomainError, type DossierSubmitted, type EventType } from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import {
  DOSSIER_STATUS_NAMES,
  DOSSIER_STATUS_NAMES_VI,
  dossierStatusLabel,
  evolveDossier,
  type DossierView,
} from '#lgsp/projections';
import { SUBMITTED_DATA, storedDossierEvent } from './dossier-events.testing.js';

const CODE = '000.00.15.H51-250701-0001';
const codes = { dossierCode: CODE, provinceCode: '51', communeCode: '21040' };

/** Builds the stored events of one dossier's stream: positions and versions count up from 1. */
function stream() {
  let version = 0;
  return (type: EventType | string, data: object, position = version + 1): StoredEvent => {
    version += 1;
    return storedDossierEvent(CODE, {
      position,
      version,
      type,
      data,
      time: `2025-07-0${Math.min(version, 9)}T08:00:00+07:00`,
      recordedAt: `2025-07-01T01:00:0${Math.min(version, 9)}.000Z`,
    });
  };
}

const submittedData: Omit<DossierSubmitted, 'dossierCode' | 'provinceCode' | 'communeCode'> = {
  ...SUBMITTED_DATA,
  fees: [
    { name: 'Lệ phí', amount: 8000 },
    { name: 'Phí bản sao', amount: 3000 },
  ],
};

/** Given the events so far, when one more arrives, then the view is… */
function given(...history: StoredEvent[]) {
  const before = history.reduce<DossierView | undefined>((view, e) => evolveDossier(view, e), undefined);
  return {
    before,
    when(event: StoredEvent) {
      const after = evolveDossier(before, event);
      return {
        then(expected: (view: DossierView) => void) {
          expected(after);
          return after;
        },
      };
    },
  };
}

describe('evolveDossier', () => {
  it('reads a v2 submission as a v1 one, the applicant by name, counting the co-applicants', () => {
    const { applicant, ...rest } = submittedData;
    const v2Data = {
      ...rest,
      persons: [
        {
          role: 'co-applicant',
          fullName: 'Lê Văn Nam',
          documents: [{ kind: 'passport', number: 'C1234567' }],
        },
        {
          role: 'applicant',
          fullName: applicant.fullName,
          documents: [{ kind: 'citizen-id', number: applicant.idNumber }],
        },
      ],
    };
    const fromV1 = evolveDossier(undefined, stream()('vn.gov.lgsp.dossier.submitted.v1', submittedData));
    const fromV2 = evolveDossier(undefined, stream()('vn.gov.lgsp.dossier.submitted.v2', v2Data));
    expect(fromV2).toEqual({
      ...fromV1,
      coApplicants: 1,
      lastEventType: 'vn.gov.lgsp.dossier.submitted.v2',
    });
    expect(fromV2.applicant).toEqual({ fullName: 'Nguyễn Thị Hoà' });
  });

  it('throws a clear error for a v1 submission it cannot read at v2', () => {
    expect(() =>
      evolveDossier(undefined, stream()('vn.gov.lgsp.dossier.submitted.v1', { procedureCode: '1.001193' })),
    ).toThrow('event vn.gov.lgsp.dossier.submitted.v1 cannot be read as vn.gov.lgsp.dossier.submitted.v2');
  });

  it('creates the view from a submission, keeping the applicant by name only', () => {
    const e = stream();
    given()
      .when(e('vn.gov.lgsp.dossier.submitted.v1', submittedData))
      .then((view) => {
        expect(view).toEqual({
          ...codes,
          procedureCode: '1.001193',
          procedureName: 'Đăng ký khai sinh',
          agencyCode: '000.00.15.H51',
          currentAgencyCode: '000.00.15.H51',
          channel: 'online',
          applicant: { fullName: 'Nguyễn Thị Hoà' },
          receivedAt: '2025-07-01T08:00:00+07:00',
          dueAt: '2025-07-04T17:00:00+07:00',
          payment: { state: 'none', amountDue: 11000, amountPaid: 0, transactionIds: [] },
          transfers: 0,
          streamVersion: 1,
          eventCount: 1,
          firstPosition: 1,
          lastPosition: 1,
          lastEventType: 'vn.gov.lgsp.dossier.submitted.v1',
          lastChangedAt: '2025-07-01T01:00:01.000Z',
          lastEventTime: '2025-07-01T08:00:00+07:00',
        });
        expect(JSON.stringify(view)).not.toContain('051190001234');
      });
  });

  it('sets the status code and its name, and a new due date when given', () => {
    const e = stream();
    given(e('vn.gov.lgsp.dossier.submitted.v1', submittedData))
      .when(
        e('vn.gov.lgsp.dossier.status-changed.v1', {
          status: 5,
          changedAt: '2025-07-02T09:00:00+07:00',
          dueAt: '2025-07-10T17:00:00+07:00',
        }),
      )
      .then((view) => {
        expect(view).toMatchObject({
          status: 5,
          statusName: 'documents requested',
          dueAt: '2025-07-10T17:00:00+07:00',
        });
        expect(view).toMatchObject({ streamVersion: 2, eventCount: 2, firstPosition: 1, lastPosition: 2 });
        expect(view.payment.state).toBe('none');
      });
  });

  it('names every national status code and leaves an unknown code unnamed', () => {
    expect(Object.keys(DOSSIER_STATUS_NAMES).map(Number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const e = stream();
    given(e('vn.gov.lgsp.dossier.status-changed.v1', { status: 9, changedAt: '2025-07-02T09:00:00+07:00' }))
      .when(
        e('vn.gov.lgsp.dossier.status-changed.v1', { status: 11, changedAt: '2025-07-02T10:00:00+07:00' }),
      )
      .then((view) => {
        expect(view.status).toBe(11);
        expect(view).not.toHaveProperty('statusName');
      });
  });

  it('creates the view from a status change of a dossier never seen, and completes it on submission', () => {
    const e = stream();
    const first = given()
      .when(
        e('vn.gov.lgsp.dossier.status-changed.v1', { status: 2, changedAt: '2025-07-01T09:00:00+07:00' }, 10),
      )
      .then((view) => {
        expect(view).toMatchObject({
          ...codes,
          status: 2,
          statusName: 'received',
          eventCount: 1,
          firstPosition: 10,
        });
        expect(view.payment).toEqual({ state: 'none', amountDue: 0, amountPaid: 0, transactionIds: [] });
        expect(view).not.toHaveProperty('procedureCode');
      });
    expect(evolveDossier(first, e('vn.gov.lgsp.dossier.submitted.v1', submittedData, 11))).toMatchObject({
      status: 2,
      procedureCode: '1.001193',
      eventCount: 2,
      firstPosition: 10,
      lastPosition: 11,
    });
  });

  describe('payment', () => {
    const e = stream();
    const submitted = e('vn.gov.lgsp.dossier.submitted.v1', submittedData);
    const feeDue = e('vn.gov.lgsp.dossier.status-changed.v1', {
      status: 6,
      changedAt: '2025-07-02T09:00:00+07:00',
    });
    const paid = (position: number, transactionId: string, amount = 11000) =>
      e(
        'vn.gov.lgsp.payment.completed.v1',
        {
          paymentRef: 'PR-1',
          transactionId,
          amount,
          paidAt: '2025-07-02T10:00:00+07:00',
          bankCode: 'VCB',
        },
        position,
      );
    const failed = (position: number) =>
      e(
        'vn.gov.lgsp.payment.failed.v1',
        { paymentRef: 'PR-1', failedAt: '2025-07-02T10:00:00+07:00', reason: 'insufficient funds' },
        position,
      );

    it('is due once the status is 6 (fee due)', () => {
      given(submitted)
        .when(feeDue)
        .then((view) =>
          expect(view.payment).toEqual({ state: 'due', amountDue: 11000, amountPaid: 0, transactionIds: [] }),
        );
    });

    it('is paid after a completed payment, which adds its amount', () => {
      given(submitted, feeDue)
        .when(paid(3, 'TX-1'))
        .then((view) =>
          expect(view.payment).toEqual({
            state: 'paid',
            amountDue: 11000,
            amountPaid: 11000,
            paymentRef: 'PR-1',
            transactionId: 'TX-1',
            transactionIds: ['TX-1'],
            paidAt: '2025-07-02T10:00:00+07:00',
          }),
        );
    });

    it('adds distinct transactions but counts a repeated transaction once', () => {
      given(submitted, feeDue, paid(3, 'TX-1', 8000), paid(4, 'TX-2', 3000))
        .when(paid(5, 'TX-1', 8000))
        .then((view) => {
          expect(view.payment.amountPaid).toBe(11000);
          expect(view.payment.transactionIds).toEqual(['TX-1', 'TX-2']);
          expect(view.eventCount).toBe(5);
        });
    });

    it('fails with the reason, and a later completion clears the failure', () => {
      const afterFailure = given(submitted, feeDue)
        .when(failed(3))
        .then((view) =>
          expect(view.payment).toMatchObject({ state: 'failed', failureReason: 'insufficient funds' }),
        );
      const afterPayment = evolveDossier(afterFailure, paid(4, 'TX-1'));
      expect(afterPayment.payment.state).toBe('paid');
      expect(afterPayment.payment).not.toHaveProperty('failureReason');
    });

    it('stays paid when a failure or another fee-due status arrives later', () => {
      given(submitted, feeDue, paid(3, 'TX-1'))
        .when(failed(4))
        .then((view) => expect(view.payment).toMatchObject({ state: 'paid', amountPaid: 11000 }));
      given(submitted, feeDue, paid(3, 'TX-1'))
        .when(
          e(
            'vn.gov.lgsp.dossier.status-changed.v1',
            { status: 6, changedAt: '2025-07-03T09:00:00+07:00' },
            4,
          ),
        )
        .then((view) => expect(view.payment.state).toBe('paid'));
    });
  });

  it('counts transfers and follows the current agency', () => {
    const e = stream();
    const transfer = (position: number, to: string) =>
      e(
        'vn.gov.lgsp.dossier.transferred.v1',
        { fromAgencyCode: 'X', toAgencyCode: to, transferredAt: '2025-07-02T09:00:00+07:00' },
        position,
      );
    given(e('vn.gov.lgsp.dossier.submitted.v1', submittedData), transfer(2, '000.00.00.H51'))
      .when(transfer(3, '000.00.16.H51'))
      .then((view) => {
        expect(view).toMatchObject({
          transfers: 2,
          agencyCode: '000.00.15.H51',
          currentAgencyCode: '000.00.16.H51',
        });
      });
  });

  it('hands the dossier to the commune a transfer names', () => {
    const e = stream();
    given(e('vn.gov.lgsp.dossier.submitted.v1', submittedData))
      .when(
        e('vn.gov.lgsp.dossier.transferred.v1', {
          fromAgencyCode: 'X',
          toAgencyCode: '000.00.00.H56',
          transferredAt: '2025-07-02T09:00:00+07:00',
          toProvinceCode: '79',
          toCommuneCode: '26734',
        }),
      )
      .then((view) => {
        expect(view).toMatchObject({ provinceCode: '79', communeCode: '26734', transfers: 1 });
      });
  });

  it('records a civil-status registration without the registered person', () => {
    const e = stream();
    given(e('vn.gov.lgsp.dossier.submitted.v1', submittedData))
      .when(
        e('vn.gov.lgsp.civil-status.registered.v1', {
          registrationType: 'birth',
          registrationNumber: '123/2025',
          registeredAt: '2025-07-03T10:00:00+07:00',
          person: {
            fullName: 'Trần Minh Khôi',
            dateOfBirth: '2025-06-20',
            sex: 'male',
            idNumber: '051225000001',
          },
        }),
      )
      .then((view) => {
        expect(view.civilStatus).toEqual({
          registrationType: 'birth',
          registrationNumber: '123/2025',
          registeredAt: '2025-07-03T10:00:00+07:00',
        });
        expect(JSON.stringify(view)).not.toContain('051225000001');
        expect(JSON.stringify(view)).not.toContain('Trần Minh Khôi');
      });
  });

  it('returns the same view for an event at or before the last applied position (redelivery)', () => {
    const e = stream();
    const submitted = e('vn.gov.lgsp.dossier.submitted.v1', submittedData);
    const payment = e('vn.gov.lgsp.payment.completed.v1', {
      paymentRef: 'PR-1',
      transactionId: 'TX-1',
      amount: 11000,
      paidAt: '2025-07-02T10:00:00+07:00',
    });
    const { before } = given(submitted, payment);
    expect(evolveDossier(before, payment)).toBe(before);
    expect(evolveDossier(before, submitted)).toBe(before);
    expect(before).toMatchObject({ eventCount: 2, payment: { amountPaid: 11000 } });
  });

  it('does not modify the view it is given', () => {
    const e = stream();
    const view = evolveDossier(undefined, e('vn.gov.lgsp.dossier.submitted.v1', submittedData));
    const snapshot = structuredClone(view);
    evolveDossier(
      view,
      e('vn.gov.lgsp.payment.completed.v1', {
        paymentRef: 'PR-1',
        transactionId: 'TX-1',
        amount: 11000,
        paidAt: '2025-07-02T10:00:00+07:00',
      }),
    );
    expect(view).toEqual(snapshot);
  });

  it('rejects an event type the view does not understand', () => {
    const e = stream();
    expect(() => evolveDossier(undefined, e('vn.gov.lgsp.unknown.v1', {}))).toThrow(DomainError);
  });
});

describe('dossierStatusLabel', () => {
  it('names every national status code 1–10 in Vietnamese and English', () => {
    for (let code = 1; code <= 10; code++) {
      expect(dossierStatusLabel(code)).toEqual({
        vi: DOSSIER_STATUS_NAMES_VI[code],
        en: DOSSIER_STATUS_NAMES[code],
      });
    }
    expect(dossierStatusLabel(4)).toEqual({ vi: 'Đang xử lý', en: 'in processing' });
    expect(dossierStatusLabel(10)).toEqual({ vi: 'Đã trả kết quả', en: 'result returned' });
  });

  it('names nothing outside the national list, nor an absent status', () => {
    expect(dossierStatusLabel(0)).toBeUndefined();
    expect(dossierStatusLabel(11)).toBeUndefined();
    expect(dossierStatusLabel(undefined)).toBeUndefined();
  });
});
