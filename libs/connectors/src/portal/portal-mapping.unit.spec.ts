import type { DossierView } from '#lgsp/projections';
import {
  DOSSIER_CODE,
  describeVnTimeMapping,
  mappingFailure,
  submittedView,
} from '../core/mapping.testing.js';
import {
  portalFacts,
  toPortalDossier,
  toPortalProgress,
  toPortalTime,
  type PortalFacts,
} from './portal-mapping.js';

const CODE = DOSSIER_CODE;
const view = submittedView;

const facts = (overrides: Partial<PortalFacts> = {}): PortalFacts => ({
  applicantIdNumber: '051190001234',
  summary: 'Đăng ký khai sinh cho con',
  fees: [{ code: 'LP01', name: 'Lệ phí', amount: 50000 }],
  progress: [],
  ...overrides,
});

describeVnTimeMapping('toPortalTime', {
  map: (t) => toPortalTime(t),
  format: (local) => local.replace(/[- :]/g, ''),
  refuse: (bad) => toPortalTime(bad, 'NgayTiepNhan'),
  target: 'portal',
  mentions: ['NgayTiepNhan'],
});

describe('toPortalDossier', () => {
  it('maps the projected state to the DongBoHoSoMC fields', () => {
    expect(toPortalDossier(view({ status: 4 }), facts())).toEqual({
      MaHoSo: CODE,
      MaTTHC: '1.001193',
      TenTTHC: 'Đăng ký khai sinh',
      KenhThucHien: 2,
      ChuHoSo: 'Nguyễn Thị Hoà',
      SoGiayToChuHoSo: '051190001234',
      DinhDanhCHS: [{ LoaiDinhDanh: 1, SoDinhDanh: '051190001234' }],
      TrichYeuHoSo: 'Đăng ký khai sinh cho con',
      NgayTiepNhan: '20251123091500',
      NgayHenTra: '20251126170000',
      TrangThaiHoSo: 4,
      DanhSachLePhi: [{ MaPhiLePhi: 'LP01', TenPhiLePhi: 'Lệ phí', Gia: 50000 }],
      DanhSachGiayToKetQua: [],
      MaDonVi: '21040',
    });
  });

  it('maps the channels to 1/2/3 and a dossier without a status change to 1', () => {
    const channel = (c: DossierView['channel']) =>
      toPortalDossier(view({ channel: c }), facts()).KenhThucHien;
    expect([channel('in-person'), channel('online'), channel('postal')]).toEqual([1, 2, 3]);
    expect(toPortalDossier(view(), facts()).TrangThaiHoSo).toBe(1);
  });

  it('writes a 9-digit legacy ID as LoaiDinhDanh 2 and leaves the ID fields out when unknown', () => {
    expect(toPortalDossier(view(), facts({ applicantIdNumber: '123456789' })).DinhDanhCHS).toEqual([
      { LoaiDinhDanh: 2, SoDinhDanh: '123456789' },
    ]);
    const { applicantIdNumber: _id, summary: _s, ...bare } = facts();
    const record = toPortalDossier(view({ dueAt: undefined }), bare);
    expect(record.DinhDanhCHS).toEqual([]);
    expect(record).not.toHaveProperty('SoGiayToChuHoSo');
    expect(record).not.toHaveProperty('TrichYeuHoSo');
    expect(record).not.toHaveProperty('NgayHenTra');
  });

  it('sends text in NFC whatever form it arrived in', () => {
    const nfd = (s: string) => s.normalize('NFD');
    const record = toPortalDossier(
      view({ applicant: { fullName: nfd('Trần Thị Ngọc Ánh') }, procedureName: nfd('Đăng ký kết hôn') }),
      facts({ summary: nfd('Hồ sơ kết hôn'), fees: [{ name: nfd('Lệ phí hộ tịch'), amount: 0 }] }),
    );
    expect(record.ChuHoSo).toBe('Trần Thị Ngọc Ánh'.normalize('NFC'));
    expect(record.ChuHoSo.length).toBe(17);
    expect(record.TenTTHC).toBe('Đăng ký kết hôn'.normalize('NFC'));
    expect(record.TrichYeuHoSo).toBe('Hồ sơ kết hôn'.normalize('NFC'));
    expect(record.DanhSachLePhi[0]?.TenPhiLePhi).toBe('Lệ phí hộ tịch'.normalize('NFC'));
  });

  it('cuts a summary to the portal’s 1,000 characters', () => {
    const record = toPortalDossier(view(), facts({ summary: 'ồ'.repeat(1200) }));
    expect([...(record.TrichYeuHoSo ?? '')].length).toBe(1000);
  });

  it('sets NgayTra only once the result is returned (status 10)', () => {
    const returned = facts({ returnedAt: '2025-11-25T17:30:00Z' });
    expect(toPortalDossier(view({ status: 10 }), returned).NgayTra).toBe('20251126003000');
    expect(toPortalDossier(view({ status: 9 }), returned)).not.toHaveProperty('NgayTra');
  });

  it.each([
    ['procedureCode', 'MaTTHC'],
    ['procedureName', 'TenTTHC'],
    ['channel', 'KenhThucHien'],
    ['applicant', 'ChuHoSo'],
    ['receivedAt', 'NgayTiepNhan'],
  ] as const)('is a mapping error when %s (%s) is missing', (field, portalField) => {
    const v = view();
    delete v[field];
    const err = mappingFailure(() => toPortalDossier(v, facts()));
    expect(err).toMatchObject({ kind: 'data', code: 'mapping', target: 'portal' });
    expect(err.message).toContain(portalField);
    expect(err.message).toContain(CODE);
  });

  it('never puts the citizen ID in an error message', () => {
    const err = mappingFailure(() => toPortalDossier(view({ receivedAt: 'yesterday' }), facts()));
    expect(err.message).not.toContain('051190001234');
  });
});

describe('portalFacts and toPortalProgress', () => {
  const submitted = {
    type: 'vn.gov.lgsp.dossier.submitted.v1',
    data: {
      dossierCode: CODE,
      applicant: { fullName: 'Nguyễn Thị Hoà', idNumber: '051190001234' },
      summary: 'Khai sinh',
      fees: [{ name: 'Lệ phí', amount: 50000 }],
    },
  };
  const changed = (status: number, changedAt: string, handler?: object, note?: string) => ({
    type: 'vn.gov.lgsp.dossier.status-changed.v1',
    data: {
      dossierCode: CODE,
      status,
      changedAt,
      ...(handler ? { handler } : {}),
      ...(note ? { note } : {}),
    },
  });

  it('collects the ID, summary, fees, the return time and the handled status changes', () => {
    const f = portalFacts([
      submitted,
      changed(2, '2025-11-23T02:20:00Z'),
      changed(4, '2025-11-23T03:00:00Z', { name: 'Lê Văn Tám', title: 'Công chức tư pháp' }, 'Thụ lý'),
      changed(10, '2025-11-24T17:05:00Z', { name: 'Lê Văn Tám', department: 'Bộ phận một cửa' }),
    ]);
    expect(f).toMatchObject({
      applicantIdNumber: '051190001234',
      summary: 'Khai sinh',
      fees: [{ name: 'Lệ phí', amount: 50000 }],
      returnedAt: '2025-11-24T17:05:00Z',
    });
    expect(toPortalProgress(CODE, f)).toEqual([
      {
        MaHoSo: CODE,
        NguoiXuLy: 'Lê Văn Tám',
        ChucDanh: 'Công chức tư pháp',
        ThoiDiemXuLy: '20251123100000',
        NoiDungXuLy: 'Thụ lý',
        TrangThai: 4,
      },
      {
        MaHoSo: CODE,
        NguoiXuLy: 'Lê Văn Tám',
        PhongBanXuLy: 'Bộ phận một cửa',
        ThoiDiemXuLy: '20251125000500',
        TrangThai: 10,
      },
    ]);
  });

  it('forgets the return time when the dossier leaves status 10, and cuts a handler to 50 characters', () => {
    const f = portalFacts([
      submitted,
      changed(10, '2025-11-24T10:00:00Z'),
      changed(4, '2025-11-24T11:00:00Z', { name: 'X'.repeat(60) }),
    ]);
    expect(f.returnedAt).toBeUndefined();
    expect(toPortalProgress(CODE, f)[0]?.NguoiXuLy).toBe('X'.repeat(50));
  });
});
