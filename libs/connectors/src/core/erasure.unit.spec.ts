import { isDossierViewEvent } from '#lgsp/projections';
import { ERASED } from '#lgsp/privacy';
import { dossierRecordChecks, MismatchBatcher, NOT_ERASED_VALUE, TEXT } from '#lgsp/reconciliation';
import { registrationErased, toCivilRegistryRequest } from '../civil-registry/civil-registry-mapping.js';
import {
  oneStopShopErasedFields,
  oneStopShopFacts,
  toOneStopShopDossier,
} from '../one-stop-shop/one-stop-shop-mapping.js';
import {
  DEFAULT_PORTAL_DOSSIER_DEFAULTS,
  portalErasedFields,
  portalFacts,
  toPortalDossier,
} from '../portal/portal-mapping.js';
import { isErased, isPersonErased, PERSON_ERASED, unlessErased } from './erasure.js';
import { birthSubmission, DOSSIER_CODE, submittedView } from './mapping.testing.js';

const SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';
const STATUS_CHANGED = 'vn.gov.lgsp.dossier.status-changed.v1';

/** A submission's events as read after the applicant's key was destroyed. */
const erasedEvents = (applicant: Record<string, unknown>, extra: Record<string, unknown> = {}) => [
  {
    type: SUBMITTED,
    source: '/communes/21040/one-stop-shop',
    data: {
      dossierCode: DOSSIER_CODE,
      provinceCode: '51',
      communeCode: '21040',
      ...birthSubmission({ applicant, summary: 'Đăng ký khai sinh cho con', ...extra }),
      sector: { code: 'G09-TP01', name: 'Hộ tịch' },
    },
  },
];
const ALL_ERASED = { fullName: ERASED, idNumber: ERASED, email: ERASED, phone: ERASED };
const erasedView = () => submittedView({ status: 4, applicant: { fullName: ERASED } });

describe('erasure helpers', () => {
  it('know the erased value and the person.erased event, which is not a dossier view event', () => {
    expect(isErased(ERASED)).toBe(true);
    expect(isErased('Nguyễn Thị Hoà')).toBe(false);
    expect(isErased(undefined)).toBe(false);
    expect(unlessErased(ERASED)).toBeUndefined();
    expect(unlessErased('051190001234')).toBe('051190001234');
    expect(isPersonErased({ type: PERSON_ERASED })).toBe(true);
    expect(isDossierViewEvent({ type: PERSON_ERASED })).toBe(false);
  });
});

describe('the portal mapping of an erased applicant', () => {
  it('sends the name as [erased], leaves the ID out and puts the office contact for the e-mail and phone', () => {
    const facts = portalFacts(erasedEvents(ALL_ERASED));
    const record = toPortalDossier(erasedView(), facts);
    expect(record).toMatchObject({
      ChuHoSo: ERASED,
      DinhDanhCHS: [],
      Email: DEFAULT_PORTAL_DOSSIER_DEFAULTS.email,
      SoDienThoai: DEFAULT_PORTAL_DOSSIER_DEFAULTS.phone,
      TrichYeuHoSo: 'Đăng ký khai sinh cho con',
      TrangThaiHoSo: 4,
    });
    expect(record).not.toHaveProperty('SoGiayToChuHoSo');
    expect(JSON.stringify(record)).not.toMatch(/\[erased\].*\[erased\]/);
    expect(portalErasedFields(erasedView(), facts)).toEqual([
      'ChuHoSo',
      'SoGiayToChuHoSo',
      'DinhDanhCHS',
      'Email',
      'SoDienThoai',
    ]);
  });

  it('takes the configured office contact, and the placeholder when the deployment configured none, never parking', () => {
    const facts = portalFacts(erasedEvents(ALL_ERASED));
    const office = { email: 'motcua@quangngai.gov.vn', phone: '02553822222' };
    expect(toPortalDossier(erasedView(), facts, { defaults: office })).toMatchObject({
      Email: office.email,
      SoDienThoai: office.phone,
    });
    // A deployment without default contacts refuses a dossier with none, but not an erased one.
    expect(() =>
      toPortalDossier(erasedView(), portalFacts(erasedEvents({ fullName: 'A' })), { defaults: {} }),
    ).toThrow(/Email is required/);
    expect(toPortalDossier(erasedView(), facts, { defaults: {} })).toMatchObject({
      Email: DEFAULT_PORTAL_DOSSIER_DEFAULTS.email,
      SoDienThoai: DEFAULT_PORTAL_DOSSIER_DEFAULTS.phone,
    });
  });

  it('names no erased field for a dossier nobody erased', () => {
    const facts = portalFacts(
      erasedEvents({ fullName: 'Nguyễn Thị Hoà', idNumber: '051190001234', email: 'hoa@example.vn' }),
    );
    expect(portalErasedFields(submittedView(), facts)).toEqual([]);
    expect(toPortalDossier(submittedView(), facts)).toMatchObject({
      SoGiayToChuHoSo: '051190001234',
      Email: 'hoa@example.vn',
    });
  });
});

describe('the one-stop-shop mapping of an erased applicant', () => {
  it('sends the name as [erased] and leaves the ID out', () => {
    const events = erasedEvents({ fullName: ERASED, idNumber: ERASED });
    const facts = oneStopShopFacts(events);
    const body = toOneStopShopDossier({ dossier: DOSSIER_CODE, view: erasedView(), events }, facts);
    expect(body.ho_ten_nguoi_nop).toBe(ERASED);
    expect(body).not.toHaveProperty('so_giay_to');
    expect(body.trich_yeu).toBe('Đăng ký khai sinh cho con');
    expect(oneStopShopErasedFields(erasedView(), facts)).toEqual(['ho_ten_nguoi_nop', 'so_giay_to']);
  });
});

describe('the civil-registry mapping of an erased registration', () => {
  const registration = {
    registrationType: 'birth',
    person: { fullName: ERASED, dateOfBirth: ERASED, sex: 'male' },
    placeOfBirth: ERASED,
    mother: { fullName: 'Lê Thị Hoà', idNumber: '051190001234' },
  };
  const events = (civilRegistration: unknown) => [
    ...erasedEvents({ fullName: 'Lê Thị Hoà' }, { civilRegistration }),
    {
      type: STATUS_CHANGED,
      source: '/communes/21040/one-stop-shop',
      data: { dossierCode: DOSSIER_CODE, status: 4, changedAt: '2025-11-24T02:00:00Z' },
    },
  ];

  it('maps without failing (for DVCLT codes and reconciliation), and tells that the registration was erased', () => {
    const request = toCivilRegistryRequest({ view: submittedView(), events: events(registration) });
    expect(JSON.parse(request!.data)).toMatchObject({
      nksHoTen: ERASED,
      nksNgaySinh: ERASED,
      nksNoiSinh: ERASED,
    });
    expect(registrationErased(events(registration))).toBe(true);
  });

  it('an erased parent ID is left out; a registration nobody erased is not erased', () => {
    const mother = { fullName: ERASED, idNumber: ERASED };
    const partly = {
      ...registration,
      person: { fullName: 'Khang', dateOfBirth: '2025-11-20', sex: 'male' },
      mother,
    };
    const data = JSON.parse(toCivilRegistryRequest({ view: submittedView(), events: events(partly) })!.data);
    expect(data).not.toHaveProperty('meSoDDCN');
    expect(registrationErased(events(partly))).toBe(true);
    const whole = { ...partly, placeOfBirth: 'Quảng Ngãi', mother: { fullName: 'Lê Thị Hoà' } };
    expect(registrationErased(events(whole))).toBe(false);
  });
});

describe('dossierRecordChecks with erased fields', () => {
  const expected = new Map([
    [DOSSIER_CODE, { dossier: DOSSIER_CODE, view: submittedView({ status: 4 }), events: [] }],
  ]);
  const checks = (erasedFields?: () => string[]) =>
    dossierRecordChecks(
      {
        code: 'code',
        unit: 'unit',
        status: 'status',
        rules: { name: TEXT, id: TEXT, note: TEXT },
        expectedRecord: () => ({ code: DOSSIER_CODE, name: ERASED, note: 'a' }),
        ...(erasedFields === undefined ? {} : { erasedFields }),
      },
      expected,
      {},
    );
  const run = (erasedFields: (() => string[]) | undefined, actual: Record<string, unknown>) => {
    const out = new MismatchBatcher('portal', { now: () => 0 });
    checks(erasedFields).check({ code: DOSSIER_CODE, ...actual }, out);
    return [...out.take(true)].flat().map((m) => [m.field, m.category, m.actual]);
  };

  it('finds nothing when the system holds the erased record', () => {
    expect(run(() => ['name', 'id'], { name: ERASED, note: 'a' })).toEqual([]);
  });

  it('reports a system still holding the person as not-erased-in-target, never copying its value', () => {
    expect(run(() => ['name', 'id'], { name: 'Nguyễn Thị Hoà', id: '051190001234', note: 'b' })).toEqual([
      ['name', 'not-erased-in-target', NOT_ERASED_VALUE],
      ['id', 'not-erased-in-target', NOT_ERASED_VALUE],
      ['note', 'wrong-field', 'b'],
    ]);
    // An erased field the system lost is an ordinary difference; without erased fields, the old rule.
    expect(run(() => ['name'], { note: 'a' })).toEqual([['name', 'wrong-field', null]]);
    expect(run(undefined, { name: 'X', note: 'a' })).toEqual([['name', 'wrong-field', 'X']]);
  });
});
