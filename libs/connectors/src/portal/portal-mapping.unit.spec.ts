import type { DossierView } from '#lgsp/projections';
import {
  DOSSIER_CODE,
  describeVnTimeMapping,
  mappingFailure,
  submittedView,
} from '../core/mapping.testing.js';
import {
  DEFAULT_PORTAL_DOSSIER_DEFAULTS,
  dueFromCatalogue,
  needsCatalogue,
  portalFacts,
  toPortalDossier,
  toPortalProgress,
  toPortalTime,
  type PortalFacts,
  type PortalProcedure,
} from './portal-mapping.js';

const CODE = DOSSIER_CODE;
const view = submittedView;

const facts = (overrides: Partial<PortalFacts> = {}): PortalFacts => ({
  applicantIdNumber: '051190001234',
  summary: 'Đăng ký khai sinh cho con',
  fees: [{ code: 'LP01', name: 'Lệ phí', amount: 50000 }],
  progress: [],
  sector: { code: 'G09-TP01', name: 'Hộ tịch' },
  ...overrides,
});

const BIRTH: PortalProcedure = {
  code: '1.001193',
  name: 'Đăng ký khai sinh',
  sectors: [{ code: 'G09-TP01', name: 'Hộ tịch' }],
  timeLimit: { days: 3, working: true },
};

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
      DanhSachLePhi: [{ MaPhiLePhi: 'LP01', TenPhiLePhi: 'Lệ phí', Gia: '50000' }],
      DanhSachGiayToKetQua: [],
      MaDonVi: '21040',
      MaLinhVuc: 'G09-TP01',
      TenLinhVuc: 'Hộ tịch',
      LoaiDoiTuong: '1',
      HinhThuc: '0',
      DonViXuLy: view().agencyCode,
      Email: DEFAULT_PORTAL_DOSSIER_DEFAULTS.email,
      SoDienThoai: DEFAULT_PORTAL_DOSSIER_DEFAULTS.phone,
      NoiNopHoSo: '2',
      NgayNopHoSo: '20251123091500',
    });
  });

  it('maps the submission’s own facts: applicant type and contact, the 2024 schema’s fields', () => {
    const record = toPortalDossier(
      view({ status: 3, currentAgencyCode: '000.00.52.H56' }),
      facts({
        applicantType: 'business',
        email: 'hoa@example.vn',
        phone: '0912345678',
        submittedAt: '2025-11-22T20:00:00Z',
        identityVerified: true,
        onlinePayment: false,
        connectedDatabases: ['CSDLQGDC'],
        documents: [{ code: 'TP1', name: 'Tờ khai' }, { name: 'Giấy chứng sinh' }],
        feeDetails: [{ kind: 'fee', collection: 'online' }],
        rejectedAt: '2025-11-23T03:00:00Z',
      }),
      { defaults: { hinhThuc: '1' } },
    );
    expect(record).toMatchObject({
      LoaiDoiTuong: '2',
      HinhThuc: '1',
      Email: 'hoa@example.vn',
      SoDienThoai: '0912345678',
      DonViXuLy: '000.00.52.H56',
      NgayNopHoSo: '20251123030000',
      NgayTuChoi: '20251123100000',
      TaiKhoanDuocXacThucVoiVNeID: '1',
      DuocThanhToanTrucTuyen: '0',
      DSKetNoiCSDL: [{ MaCSDL: 'CSDLQGDC' }],
      TaiLieuNop: [
        { MaThanhPhanHoSo: 'TP1', TenTepDinhKem: 'Tờ khai' },
        { TenTepDinhKem: 'Giấy chứng sinh' },
      ],
      DanhSachLePhi: [
        { MaPhiLePhi: 'LP01', TenPhiLePhi: 'Lệ phí', Gia: '50000', HinhThucThu: '2', LoaiPhiLePhi: '2' },
      ],
    });
    // NgayTuChoi only while the dossier is rejected at intake (3).
    expect(
      toPortalDossier(view({ status: 4 }), facts({ rejectedAt: '2025-11-23T03:00:00Z' })),
    ).not.toHaveProperty('NgayTuChoi');
  });

  it.each([
    ['citizen', '1'],
    ['business', '2'],
    ['agency', '3'],
    ['other', '4'],
  ] as const)('writes applicant type %s as LoaiDoiTuong %s', (type, code) => {
    expect(toPortalDossier(view(), facts({ applicantType: type })).LoaiDoiTuong).toBe(code);
  });

  it('fills TenTTHC, MaLinhVuc, TenLinhVuc and NgayHenTra from the catalogue when the events lack them', () => {
    const bare = view({ procedureName: undefined, dueAt: undefined });
    const { sector: _sector, ...noSector } = facts();
    expect(needsCatalogue(bare, noSector)).toBe(true);
    expect(needsCatalogue(view(), facts())).toBe(false);
    // Received Sunday 23 November 09:15: three working days later is Wednesday 26 November.
    expect(toPortalDossier(bare, noSector, { procedure: BIRTH })).toMatchObject({
      TenTTHC: 'Đăng ký khai sinh',
      MaLinhVuc: 'G09-TP01',
      TenLinhVuc: 'Hộ tịch',
      NgayHenTra: '20251126091500',
    });
    // What the events carry wins over the catalogue.
    expect(
      toPortalDossier(view({ procedureName: 'Khai sinh' }), facts(), {
        procedure: { ...BIRTH, sectors: [{ code: 'X', name: 'Khác' }] },
      }),
    ).toMatchObject({ TenTTHC: 'Khai sinh', MaLinhVuc: 'G09-TP01', NgayHenTra: '20251126170000' });
  });

  it('counts working days over a weekend, and calendar days when the limit says so', () => {
    const friday = '2025-11-21T08:00:00+07:00';
    expect(dueFromCatalogue(friday, { ...BIRTH, timeLimit: { days: 1, working: true } })).toBe(
      '2025-11-24T01:00:00.000Z',
    );
    expect(dueFromCatalogue(friday, { ...BIRTH, timeLimit: { days: 1, working: false } })).toBe(
      '2025-11-22T01:00:00.000Z',
    );
    expect(dueFromCatalogue(friday, { ...BIRTH, timeLimit: undefined })).toBeUndefined();
    expect(dueFromCatalogue(friday, undefined)).toBeUndefined();
  });

  it.each([
    ['TenTTHC', { procedureName: undefined }, {}],
    ['MaLinhVuc', {}, { sector: undefined }],
    ['NgayHenTra', { dueAt: undefined }, {}],
  ] as const)(
    'is a mapping error naming %s when neither the events nor the catalogue have it',
    (field, v, f) => {
      const err = mappingFailure(() => toPortalDossier(view(v), { ...facts(), ...f }));
      expect(err).toMatchObject({ kind: 'data', code: 'mapping', target: 'portal' });
      expect(err.message).toContain(field);
      expect(err.message).toContain('catalogue');
      // Reconciliation leaves the field out instead.
      expect(toPortalDossier(view(v), { ...facts(), ...f }, { lenient: true })).not.toHaveProperty(field);
    },
  );

  it('is a mapping error when there is no contact and no default one', () => {
    const noEmail = mappingFailure(() =>
      toPortalDossier(view(), facts(), { defaults: { phone: '0912345678' } }),
    );
    expect(noEmail.message).toContain('Email');
    const noPhone = mappingFailure(() =>
      toPortalDossier(view(), facts({ email: 'hoa@example.vn' }), { defaults: {} }),
    );
    expect(noPhone.message).toContain('SoDienThoai');
    // Personal data stays out of the message.
    expect(noPhone.message).not.toContain('hoa@example.vn');
    expect(
      toPortalDossier(view(), facts({ email: 'a@b.vn', phone: '0912345678' }), { defaults: {} }),
    ).toMatchObject({
      Email: 'a@b.vn',
      SoDienThoai: '0912345678',
      LoaiDoiTuong: '1',
      HinhThuc: '0',
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
    const record = toPortalDossier(view(), bare);
    expect(record.DinhDanhCHS).toEqual([]);
    expect(record).not.toHaveProperty('SoGiayToChuHoSo');
    expect(record).not.toHaveProperty('TrichYeuHoSo');
  });

  it('writes every citizen and legacy ID of a v2 applicant in DinhDanhCHS, the first as SoGiayToChuHoSo', () => {
    const record = toPortalDossier(
      view(),
      facts({ applicantIdNumber: '051190001234', applicantIds: ['051190001234', '123456789'] }),
    );
    expect(record.SoGiayToChuHoSo).toBe('051190001234');
    expect(record.DinhDanhCHS).toEqual([
      { LoaiDinhDanh: 1, SoDinhDanh: '051190001234' },
      { LoaiDinhDanh: 2, SoDinhDanh: '123456789' },
    ]);
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
    // Each step began with the change before it (NgayBatDau).
    expect(toPortalProgress(CODE, f)).toEqual([
      {
        MaHoSo: CODE,
        NguoiXuLy: 'Lê Văn Tám',
        ChucDanh: 'Công chức tư pháp',
        ThoiDiemXuLy: '20251123100000',
        NoiDungXuLy: 'Thụ lý',
        TrangThai: 4,
        NgayBatDau: '20251123092000',
      },
      {
        MaHoSo: CODE,
        NguoiXuLy: 'Lê Văn Tám',
        PhongBanXuLy: 'Bộ phận một cửa',
        ThoiDiemXuLy: '20251125000500',
        TrangThai: 10,
        NgayBatDau: '20251123100000',
      },
    ]);
  });

  it('takes a step’s start and statutory end from the change when it carries them', () => {
    const f = portalFacts([
      { ...submitted, data: { ...submitted.data, receivedAt: '2025-11-23T01:00:00Z' } },
      {
        type: 'vn.gov.lgsp.dossier.status-changed.v1',
        data: {
          dossierCode: CODE,
          status: 4,
          changedAt: '2025-11-23T03:00:00Z',
          handler: { name: 'Lê Văn Tám' },
          stepStartedAt: '2025-11-23T02:00:00Z',
          stepDueAt: '2025-11-25T10:00:00Z',
        },
      },
      changed(9, '2025-11-24T03:00:00Z', { name: 'Lê Văn Tám' }),
    ]);
    expect(toPortalProgress(CODE, f).map((r) => [r.NgayBatDau, r.NgayKetThucTheoQuyDinh])).toEqual([
      ['20251123090000', '20251125170000'],
      ['20251123100000', undefined],
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
