import type { DossierView } from '#lgsp/projections';
import {
  DOSSIER_CODE,
  describeVnTimeMapping,
  mappingFailure,
  submittedView,
} from '../core/mapping.testing.js';
import { OSS_STATUS } from './external/one-stop-shop-wire.js';
import {
  OSS_DEFAULT_PROGRESS_NOTE,
  OSS_MAX_CHARS,
  oneStopShopFacts,
  toOneStopShopDossier,
  toOneStopShopProgress,
  toOneStopShopTime,
  type OneStopShopState,
} from './one-stop-shop-mapping.js';

const CODE = DOSSIER_CODE;
const view = submittedView;
const HANDLER = { name: 'Trần Văn Bình', title: 'Công chức tư pháp', department: 'Bộ phận một cửa' };

const submittedEvent = (data: Record<string, unknown> = {}) => ({
  type: 'vn.gov.lgsp.dossier.submitted.v1',
  data: {
    dossierCode: CODE,
    applicant: { fullName: 'Nguyễn Thị Hoà', idNumber: '051190001234' },
    summary: 'Đăng ký khai sinh cho con',
    fees: [{ code: 'LP01', name: 'Lệ phí hộ tịch', amount: 50000 }],
    ...data,
  },
});

const statusEvent = (status: number, changedAt: string, extra: Record<string, unknown> = {}) => ({
  type: 'vn.gov.lgsp.dossier.status-changed.v1',
  data: { dossierCode: CODE, status, changedAt, handler: HANDLER, ...extra },
});

const state = (
  v: Partial<DossierView> = {},
  events: OneStopShopState['events'] = [submittedEvent()],
): OneStopShopState => ({ dossier: CODE, view: view(v), events });

describeVnTimeMapping('toOneStopShopTime', {
  map: (t) => toOneStopShopTime(t),
  format: (local) => {
    const [y, mo, d, time] = local.split(/[- ]/);
    return `${d}/${mo}/${y} ${time}`;
  },
  refuse: (bad) => toOneStopShopTime(bad, 'ngay_nhan', CODE),
  target: 'one-stop-shop',
  mentions: ['ngay_nhan', CODE],
});

describe('toOneStopShopDossier', () => {
  it('maps every field of a submitted dossier, with its stream version as phien_ban', () => {
    expect(toOneStopShopDossier(state({ streamVersion: 3 }))).toEqual({
      ma_thu_tuc: '1.001193',
      ten_thu_tuc: 'Đăng ký khai sinh',
      kenh_nop: 'TRUC_TUYEN',
      ho_ten_nguoi_nop: 'Nguyễn Thị Hoà',
      so_giay_to: '051190001234',
      trich_yeu: 'Đăng ký khai sinh cho con',
      ma_don_vi: '21040',
      ngay_nhan: '23/11/2025 09:15:00',
      ngay_hen_tra: '26/11/2025 17:00:00',
      trang_thai: 'MOI_NOP',
      le_phi: [{ ten: 'Lệ phí hộ tịch', so_tien: 50000 }],
      phien_ban: 3,
    });
  });

  it('names each channel as the shop does', () => {
    expect(toOneStopShopDossier(state({ channel: 'in-person' })).kenh_nop).toBe('TRUC_TIEP');
    expect(toOneStopShopDossier(state({ channel: 'online' })).kenh_nop).toBe('TRUC_TUYEN');
    expect(toOneStopShopDossier(state({ channel: 'postal' })).kenh_nop).toBe('BUU_CHINH');
  });

  it('names every national status 1–10', () => {
    const names = Array.from(
      { length: 10 },
      (_, i) => toOneStopShopDossier(state({ status: i + 1 })).trang_thai,
    );
    expect(names).toEqual([
      'MOI_NOP',
      'DA_TIEP_NHAN',
      'TU_CHOI_TIEP_NHAN',
      'DANG_XU_LY',
      'YEU_CAU_BO_SUNG',
      'CHO_NOP_PHI',
      'CONG_DAN_RUT',
      'DUNG_XU_LY',
      'DA_XU_LY_XONG',
      'DA_TRA_KET_QUA',
    ]);
  });

  it('refuses a status outside 1–10 as a mapping error', () => {
    for (const status of [0, 11, 2.5]) {
      expect(mappingFailure(() => toOneStopShopDossier(state({ status })))).toMatchObject({
        kind: 'data',
        code: 'mapping',
        message: expect.stringContaining(`status ${status} is not 1–10`),
      });
    }
  });

  it('writes texts that arrive decomposed (NFD) in NFC', () => {
    const nfd = (s: string) => s.normalize('NFD');
    const body = toOneStopShopDossier(
      state({ applicant: { fullName: nfd('Nguyễn Thị Hoà') }, procedureName: nfd('Đăng ký khai sinh') }, [
        submittedEvent({
          summary: nfd('Trích yếu hồ sơ'),
          fees: [{ name: nfd('Lệ phí hộ tịch'), amount: 8000 }],
        }),
      ]),
    );
    expect(body.ho_ten_nguoi_nop).toBe('Nguyễn Thị Hoà'.normalize('NFC'));
    expect(body.ho_ten_nguoi_nop).not.toBe(nfd('Nguyễn Thị Hoà'));
    expect(body.ten_thu_tuc).toBe('Đăng ký khai sinh'.normalize('NFC'));
    expect(body.trich_yeu).toBe('Trích yếu hồ sơ'.normalize('NFC'));
    expect(body.le_phi).toEqual([{ ten: 'Lệ phí hộ tịch'.normalize('NFC'), so_tien: 8000 }]);
  });

  it('cuts texts to the shop’s limits in UTF-16 units, after NFC, without splitting a surrogate pair', () => {
    const body = toOneStopShopDossier(
      state({ applicant: { fullName: 'Hoà'.repeat(100) }, procedureName: 'T'.repeat(600) }, [
        submittedEvent({
          summary: `${'ệ'.normalize('NFD').repeat(999)}𠀀x`,
          fees: [{ name: 'P'.repeat(300), amount: 1 }],
        }),
      ]),
    );
    expect(body.ho_ten_nguoi_nop).toHaveLength(OSS_MAX_CHARS.ho_ten_nguoi_nop);
    expect(body.ten_thu_tuc).toHaveLength(500);
    expect(body.le_phi[0]?.ten).toHaveLength(250);
    // 999 composed characters fit; the astral character (2 units) would make 1001, so it is dropped whole.
    expect(body.trich_yeu).toBe('ệ'.normalize('NFC').repeat(999));
  });

  it('leaves texts within the limits whole', () => {
    const name = 'N'.repeat(250);
    expect(toOneStopShopDossier(state({ applicant: { fullName: name } })).ho_ten_nguoi_nop).toBe(name);
  });

  it('takes the citizen ID from the submission, 9 or 12 digits, and leaves out what is absent', () => {
    expect(
      toOneStopShopDossier(
        state({}, [submittedEvent({ applicant: { fullName: 'A', idNumber: '123456789' } })]),
      ).so_giay_to,
    ).toBe('123456789');
    const bare = toOneStopShopDossier(
      state({ dueAt: undefined }, [
        submittedEvent({ applicant: { fullName: 'A', idNumber: '' }, summary: undefined, fees: undefined }),
      ]),
    );
    expect(bare).not.toHaveProperty('so_giay_to');
    expect(bare).not.toHaveProperty('trich_yeu');
    expect(bare).not.toHaveProperty('ngay_hen_tra');
    expect(bare).not.toHaveProperty('ngay_tra');
    expect(bare.le_phi).toEqual([]);
  });

  it('sets ngay_tra to when the result was last returned, only while the status is 10', () => {
    const events = [
      submittedEvent(),
      statusEvent(10, '2025-11-25T09:30:00Z'),
      statusEvent(4, '2025-11-25T10:00:00Z'),
      statusEvent(10, '2025-11-26T01:00:00Z'),
    ];
    expect(toOneStopShopDossier(state({ status: 10 }, events)).ngay_tra).toBe('26/11/2025 08:00:00');
    expect(toOneStopShopDossier(state({ status: 4 }, events.slice(0, 3)))).not.toHaveProperty('ngay_tra');
  });

  it.each([
    ['ma_thu_tuc', { procedureCode: undefined }],
    ['ten_thu_tuc', { procedureName: undefined }],
    ['ten_thu_tuc', { procedureName: '' }],
    ['kenh_nop', { channel: undefined }],
    ['ho_ten_nguoi_nop', { applicant: undefined }],
    ['ngay_nhan', { receivedAt: undefined }],
  ] as const)('refuses a dossier without %s as a mapping error', (field, overrides) => {
    const err = mappingFailure(() => toOneStopShopDossier(state(overrides)));
    expect(err).toMatchObject({ kind: 'data', code: 'mapping', target: 'one-stop-shop' });
    expect(err.message).toContain(field);
    expect(err.message).toContain(CODE);
  });

  it('refuses a time that is not RFC 3339 without echoing personal data', () => {
    const err = mappingFailure(() => toOneStopShopDossier(state({ dueAt: '26/11/2025' })));
    expect(err.message).toContain('ngay_hen_tra');
    expect(err.message).not.toContain('Hoà');
    expect(err.message).not.toContain('051190001234');
  });
});

describe('toOneStopShopProgress', () => {
  it('makes one entry per status change with a handler, in order, with the status name and local time', () => {
    const events = [
      submittedEvent(),
      statusEvent(2, '2025-11-23T17:05:00Z'),
      statusEvent(4, '2025-11-24T02:00:00+07:00', { handler: { name: 'Lê Văn C' } }),
      statusEvent(5, '2025-11-24T03:00:00Z', { note: 'Bổ sung giấy chứng sinh' }),
    ];
    expect(toOneStopShopProgress(state({ status: 5 }, events))).toEqual([
      {
        can_bo: HANDLER.name,
        chuc_vu: HANDLER.title,
        phong_ban: HANDLER.department,
        thoi_gian: '24/11/2025 00:05:00',
        noi_dung: 'Đã tiếp nhận hồ sơ',
        trang_thai: 'DA_TIEP_NHAN',
      },
      {
        can_bo: 'Lê Văn C',
        thoi_gian: '24/11/2025 02:00:00',
        noi_dung: 'Hồ sơ đang được xử lý',
        trang_thai: 'DANG_XU_LY',
      },
      {
        can_bo: HANDLER.name,
        chuc_vu: HANDLER.title,
        phong_ban: HANDLER.department,
        thoi_gian: '24/11/2025 10:00:00',
        noi_dung: 'Bổ sung giấy chứng sinh',
        trang_thai: 'YEU_CAU_BO_SUNG',
      },
    ]);
  });

  it('has a default note and a name for every status', () => {
    const events = Array.from({ length: 10 }, (_, i) => statusEvent(i + 1, '2025-11-24T02:00:00Z'));
    const entries = toOneStopShopProgress(state({}, events));
    expect(entries.map((e) => e.trang_thai)).toEqual(Object.values(OSS_STATUS));
    expect(entries.map((e) => e.noi_dung)).toEqual(Object.values(OSS_DEFAULT_PROGRESS_NOTE));
    expect(new Set(entries.map((e) => e.noi_dung)).size).toBe(10);
  });

  it('skips a status change without a handler, since the shop requires can_bo', () => {
    const events = [submittedEvent(), statusEvent(2, '2025-11-23T17:05:00Z', { handler: undefined })];
    expect(oneStopShopFacts(events).progress).toEqual([]);
    expect(toOneStopShopProgress(state({ status: 2 }, events))).toEqual([]);
  });

  it('writes handler texts in NFC, cut to the shop’s limits', () => {
    const long = (s: string, n: number) => s.normalize('NFD').repeat(n);
    const [entry] = toOneStopShopProgress(
      state({}, [
        statusEvent(4, '2025-11-24T02:00:00Z', {
          handler: { name: long('Bình', 60), title: long('Chức', 80), department: long('Phòng', 80) },
          note: long('Nội dung', 300),
        }),
      ]),
    );
    expect(entry?.can_bo).toHaveLength(OSS_MAX_CHARS.can_bo);
    expect(entry?.can_bo).toBe('Bình'.repeat(25));
    expect(entry?.chuc_vu).toHaveLength(250);
    expect(entry?.phong_ban).toHaveLength(250);
    expect(entry?.noi_dung).toHaveLength(2000);
    expect(entry?.noi_dung?.startsWith('Nội dung'.normalize('NFC'))).toBe(true);
  });

  it('refuses a progress time that is not RFC 3339 or a status outside 1–10', () => {
    expect(
      mappingFailure(() => toOneStopShopProgress(state({}, [statusEvent(2, 'yesterday')]))).message,
    ).toContain('thoi_gian');
    expect(
      mappingFailure(() => toOneStopShopProgress(state({}, [statusEvent(12, '2025-11-24T02:00:00Z')])))
        .message,
    ).toContain('status 12');
  });
});
