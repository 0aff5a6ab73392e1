import { EventValidator, type CivilRegistrationRequest } from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import type { DossierView } from '#lgsp/projections';
import { mappingFailure } from '../core/mapping.testing.js';
import {
  CIVIL_REGISTRY_SOURCE,
  civilRegistryResultEvents,
  toCivilRegistryRequest,
  type CivilRegistryCaptureContext,
} from './civil-registry-mapping.js';
import type { CivilRegistryResult } from './external/civil-registry-wire.js';

const CODE = '000.00.51.H56-251123-0001';
const LINK = CODE;
const SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';
const STATUS_CHANGED = 'vn.gov.lgsp.dossier.status-changed.v1';

const view = (overrides: Partial<DossierView> = {}): DossierView => ({
  dossierCode: CODE,
  provinceCode: '51',
  communeCode: '21040',
  receivedAt: '2025-11-23T02:15:00Z',
  payment: { state: 'none', amountDue: 0, amountPaid: 0, transactionIds: [] },
  transfers: 0,
  streamVersion: 2,
  eventCount: 2,
  firstPosition: 1,
  lastPosition: 2,
  lastEventType: STATUS_CHANGED,
  lastChangedAt: '2025-11-24T02:00:01Z',
  ...overrides,
});

const registration: CivilRegistrationRequest = {
  registrationType: 'birth',
  person: { fullName: 'Nguyễn Minh Khang'.normalize('NFD'), dateOfBirth: '2025-11-20', sex: 'male' },
  placeOfBirth: 'Trạm y tế xã Bình Sơn',
  mother: { fullName: 'Lê Thị Hoà', idNumber: '051190001234' },
  father: { fullName: 'Nguyễn Văn Đức' },
};

type Ev = Pick<StoredEvent, 'type' | 'data' | 'source'>;
const submitted = (civilRegistration?: CivilRegistrationRequest): Ev => ({
  type: SUBMITTED,
  source: '/communes/21040/one-stop-shop',
  // A submission names its applicant (v1 requires one; it is read at v2, see #lgsp/contracts upcast.ts).
  data: {
    dossierCode: CODE,
    applicant: { fullName: 'Lê Thị Hoà', idNumber: '051190001234' },
    ...(civilRegistration === undefined ? {} : { civilRegistration }),
  },
});
const status = (s: number, changedAt: string, source = '/communes/21040/one-stop-shop'): Ev => ({
  type: STATUS_CHANGED,
  source,
  data: { dossierCode: CODE, status: s, changedAt },
});

describe('toCivilRegistryRequest', () => {
  it('maps the civilRegistration to NhanDKHT: data a JSON string of nks*/me*/cha* fields, NFC, birth dd.MM.yyyy, receipt dd/MM/yyyy HH:mm:ss', () => {
    const request = toCivilRegistryRequest({
      // Received 2025-11-23T17:30Z: 24/11 00:30 in Vietnam.
      view: view({ receivedAt: '2025-11-23T17:30:00.250Z' }),
      events: [submitted(registration), status(2, '2025-11-23T03:00:00Z'), status(4, '2025-11-24T17:30:00Z')],
    });
    expect(request).toEqual({
      maDonVi: '21040',
      module: 'LTKS',
      maHoSoMCDT: CODE,
      ngayTiepNhan: '24/11/2025 00:30:00',
      data: expect.any(String),
      fileDinhKem: [],
    });
    expect(request).not.toHaveProperty('maHoSoLT');
    expect(JSON.parse(request!.data)).toEqual({
      nksHoTen: 'Nguyễn Minh Khang'.normalize('NFC'),
      nksNgaySinh: '20.11.2025',
      nksGioiTinh: 1,
      nksNoiSinh: 'Trạm y tế xã Bình Sơn',
      meHoTen: 'Lê Thị Hoà',
      meSoDDCN: '051190001234',
      chaHoTen: 'Nguyễn Văn Đức',
    });
  });

  it('writes a girl as 2, leaves absent parents out; without a receipt time takes processing, not a 4 captured from the registry', () => {
    const request = toCivilRegistryRequest({
      view: view({ receivedAt: undefined }),
      events: [
        submitted({
          registrationType: 'birth',
          person: { fullName: 'Lê Thị An', dateOfBirth: '2025-02-28', sex: 'female' },
        }),
        status(4, '2025-11-23T05:00:00Z'),
        status(4, '2025-12-01T05:00:00Z', CIVIL_REGISTRY_SOURCE),
      ],
    });
    expect(request?.ngayTiepNhan).toBe('23/11/2025 12:00:00');
    expect(JSON.parse(request!.data)).toEqual({
      nksHoTen: 'Lê Thị An',
      nksNgaySinh: '28.02.2025',
      nksGioiTinh: 2,
    });
  });

  it('leaves out a parent’s legacy 9-digit ID, which the registry does not take, but keeps the name', () => {
    const legacy = { ...registration, father: { fullName: 'Nguyễn Văn Đức', idNumber: '051190001' } };
    const request = toCivilRegistryRequest({
      view: view(),
      events: [submitted(legacy), status(4, '2025-11-23T05:00:00Z')],
    });
    const data = JSON.parse(request!.data) as Record<string, unknown>;
    expect(data.chaHoTen).toBe('Nguyễn Văn Đức');
    expect(data).not.toHaveProperty('chaSoDDCN');
    expect(data.meSoDDCN).toBe('051190001234');
  });

  it('is undefined for a dossier without civilRegistration', () => {
    expect(
      toCivilRegistryRequest({ view: view(), events: [submitted(), status(4, '2025-11-23T05:00:00Z')] }),
    ).toBe(undefined);
  });

  it('refuses an impossible birth date and a commune code the registry cannot take, as data errors', () => {
    const bad = { ...registration, person: { ...registration.person, dateOfBirth: '2025-02-30' } };
    const e1 = mappingFailure(() => toCivilRegistryRequest({ view: view(), events: [submitted(bad)] }));
    expect(e1).toMatchObject({ kind: 'data', code: 'mapping', target: 'civil-registry' });
    expect(e1.message).not.toContain('Khang');
    const e2 = mappingFailure(() =>
      toCivilRegistryRequest({ view: view({ communeCode: '51' }), events: [submitted(registration)] }),
    );
    expect(e2).toMatchObject({ kind: 'data', code: 'mapping' });
  });
});

const context = (overrides: Partial<CivilRegistryCaptureContext> = {}): CivilRegistryCaptureContext => ({
  dossierCode: CODE,
  provinceCode: '51',
  communeCode: '21040',
  registrationType: 'birth',
  person: { fullName: 'Nguyễn Minh Khang', dateOfBirth: '2025-11-20', sex: 'male' },
  supplementRequested: false,
  dossierStatus: 4,
  ...overrides,
});

const result = (overrides: Partial<CivilRegistryResult> = {}): CivilRegistryResult => ({
  maHoSoMCDT: CODE,
  maHoSoLT: 'LT251124000001',
  module: 'LTKS',
  trangThai: 1,
  moTaTrangThai: 'Đã tiếp nhận',
  ngayTiepNhan: '24/11/2025 09:00:00',
  ngayCapNhat: '2025-11-24T09:30:00+07:00',
  ...overrides,
});

const done = (overrides: Partial<CivilRegistryResult> = {}) =>
  result({
    trangThai: 4,
    soDangKy: '125',
    quyenSo: '01/2025',
    trangSo: '125',
    ngayDangKy: '25/11/2025',
    ngayCapNhat: '2025-11-25T14:45:10+07:00',
    soDinhDanh: '051225000123',
    ketQuaXuLy: { giayKhaiSinh: 'JVBERi0xLjQK' },
    ...overrides,
  });

const validator = new EventValidator();

describe('civilRegistryResultEvents', () => {
  it('captures nothing for 1 (received) and for 3 (processing) with no supplement before', () => {
    expect(civilRegistryResultEvents(result(), context())).toEqual({ events: [], status: 1, final: false });
    expect(civilRegistryResultEvents(result({ trangThai: 3 }), context())).toEqual({
      events: [],
      status: 3,
      final: false,
    });
  });

  it('turns 2 into status 5 with the reason as note, NFC, and 3 after it into status 4', () => {
    const asked = civilRegistryResultEvents(
      result({ trangThai: 2, lyDo: 'Thiếu giấy chứng sinh'.normalize('NFD') }),
      context(),
    );
    expect(asked).toEqual({
      status: 2,
      final: false,
      events: [
        {
          specversion: '1.0',
          id: `${LINK}/2/status-changed`,
          source: '/national/civil-registry',
          type: STATUS_CHANGED,
          time: '2025-11-24T09:30:00+07:00',
          datacontenttype: 'application/json',
          data: {
            dossierCode: CODE,
            provinceCode: '51',
            communeCode: '21040',
            status: 5,
            previousStatus: 4,
            changedAt: '2025-11-24T09:30:00+07:00',
            note: 'Thiếu giấy chứng sinh'.normalize('NFC'),
          },
        },
      ],
    });
    const resumed = civilRegistryResultEvents(
      result({ trangThai: 3, ngayCapNhat: '2025-11-26T08:00:00+07:00' }),
      context({ supplementRequested: true, dossierStatus: 5 }),
    );
    expect(resumed.events.map((e) => [e.id, e.data])).toEqual([
      [
        `${LINK}/3/status-changed`,
        {
          dossierCode: CODE,
          provinceCode: '51',
          communeCode: '21040',
          status: 4,
          previousStatus: 5,
          changedAt: '2025-11-26T08:00:00+07:00',
        },
      ],
    ]);
    expect(validator.validate([...asked.events, ...resumed.events])).toEqual([]);
  });

  it('turns 4 into civil-status.registered (the day of ngayDangKy) then status 9 (at ngayCapNhat), no file', () => {
    const capture = civilRegistryResultEvents(done(), context());
    expect(capture.final).toBe(true);
    expect(capture.events.map((e) => [e.type, e.id])).toEqual([
      ['vn.gov.lgsp.civil-status.registered.v1', `${LINK}/4/registered/125`],
      [STATUS_CHANGED, `${LINK}/4/status-changed`],
    ]);
    expect(capture.events[0]!.data).toEqual({
      dossierCode: CODE,
      provinceCode: '51',
      communeCode: '21040',
      registrationType: 'birth',
      registrationNumber: '125',
      registeredAt: '2025-11-25T00:00:00+07:00',
      person: {
        fullName: 'Nguyễn Minh Khang',
        dateOfBirth: '2025-11-20',
        sex: 'male',
        idNumber: '051225000123',
      },
    });
    expect(capture.events[1]!.data).toMatchObject({
      status: 9,
      previousStatus: 4,
      changedAt: '2025-11-25T14:45:10+07:00',
    });
    expect(JSON.stringify(capture.events)).not.toContain('JVBERi0');
    expect(validator.validate(capture.events)).toEqual([]);
  });

  it.each([
    ['01/01/2026', '2026-01-01T00:00:00+07:00'],
    ['29/02/2028', '2028-02-29T00:00:00+07:00'],
    [' 25/11/2025 ', '2025-11-25T00:00:00+07:00'],
  ])('reads the registration day %s as %s', (text, rfc3339) => {
    const registered = civilRegistryResultEvents(done({ ngayDangKy: text }), context()).events[0]!;
    expect((registered.data as { registeredAt: string }).registeredAt).toBe(rfc3339);
  });

  it('resumes processing before the registration when 4 follows a 2 without a 3 seen', () => {
    const capture = civilRegistryResultEvents(
      done(),
      context({ supplementRequested: true, dossierStatus: 5 }),
    );
    expect(capture.events.map((e) => [e.id, (e.data as { status?: number }).status])).toEqual([
      [`${LINK}/3/status-changed`, 4],
      [`${LINK}/4/registered/125`, undefined],
      [`${LINK}/4/status-changed`, 9],
    ]);
  });

  it('turns 6 into status 3 with the reason, final', () => {
    const capture = civilRegistryResultEvents(
      result({ trangThai: 6, lyDo: 'Hồ sơ không đủ điều kiện' }),
      context(),
    );
    expect(capture.final).toBe(true);
    expect(capture.events.map((e) => [e.id, e.data])).toEqual([
      [
        `${LINK}/6/status-changed`,
        expect.objectContaining({ status: 3, previousStatus: 4, note: 'Hồ sơ không đủ điều kiện' }),
      ],
    ]);
  });

  it('gives the same ids when the same result is captured again', () => {
    const ids = (r: CivilRegistryResult) => civilRegistryResultEvents(r, context()).events.map((e) => e.id);
    expect(ids(done({ ngayCapNhat: '2025-11-25T15:00:00+07:00' }))).toEqual(ids(done()));
  });

  it.each([
    ['a registration day in the person-date form', done({ ngayDangKy: '25.11.2025' })],
    ['an impossible registration day', done({ ngayDangKy: '30/02/2025' })],
    ['a registration day with a time', done({ ngayDangKy: '25/11/2025 14:45:10' })],
    ['an impossible update time', result({ trangThai: 2, ngayCapNhat: '2025-02-30T08:00:00+07:00' })],
    ['a done result without an update time', done({ ngayCapNhat: undefined })],
    ['a missing registration number', done({ soDangKy: '' })],
    ['a personal ID that is not one', done({ soDinhDanh: '12AB' })],
    ['an unknown status', result({ trangThai: 5 })],
  ])('refuses %s as a data error naming no person', (_what, r) => {
    const e = mappingFailure(() => civilRegistryResultEvents(r, context()));
    expect(e).toMatchObject({ kind: 'data', code: 'mapping', target: 'civil-registry' });
    expect(e.message).toContain(LINK);
    expect(e.message).not.toContain('Khang');
  });
});
