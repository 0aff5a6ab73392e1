import { AdminUnits, EventValidator, findRepoFile, normalizeNfc } from '#lgsp/contracts';
import type { PortalOnlineSubmission } from './external/portal-online-wire.js';
import { PORTAL_SOURCE, submittedEventId, toSubmittedEvent } from './online-submission-mapping.js';

const units = AdminUnits.load(findRepoFile('../shared/data/admin-units-2025.json'));
const validator = new EventValidator({ adminUnits: units });

const submission = (overrides: Partial<PortalOnlineSubmission> = {}): PortalOnlineSubmission => ({
  ViTri: 7,
  MaHoSo: '000.00.00.G22-251123-0007',
  MaTTHC: '1.001193',
  TenTTHC: 'Đăng ký khai sinh',
  KenhThucHien: 2,
  ChuHoSo: 'Nguyễn Thị Hoà',
  DinhDanhCHS: [{ LoaiDinhDanh: 1, SoDinhDanh: '051190001234' }],
  TrichYeuHoSo: 'Đăng ký khai sinh cho con',
  NgayTiepNhan: '20251123235930',
  TrangThaiHoSo: 1,
  MaDonVi: '21040',
  ...overrides,
});

function event(s: PortalOnlineSubmission) {
  const mapped = toSubmittedEvent(s, units);
  if (!('event' in mapped)) throw new Error(`refused: ${mapped.refusal.detail}`);
  return mapped.event;
}

function refusal(s: PortalOnlineSubmission) {
  const mapped = toSubmittedEvent(s, units);
  if (!('refusal' in mapped)) throw new Error('expected a refusal');
  return mapped.refusal;
}

describe('toSubmittedEvent', () => {
  it('maps a submission to a valid dossier.submitted event of the portal', () => {
    const e = event(submission());
    expect(e).toEqual({
      specversion: '1.0',
      id: submittedEventId('000.00.00.G22-251123-0007'),
      source: PORTAL_SOURCE,
      type: 'vn.gov.lgsp.dossier.submitted.v1',
      time: '2025-11-23T23:59:30+07:00',
      subject: '000.00.00.G22-251123-0007',
      datacontenttype: 'application/json',
      data: {
        dossierCode: '000.00.00.G22-251123-0007',
        procedureCode: '1.001193',
        procedureName: 'Đăng ký khai sinh',
        agencyCode: '000.00.00.G22',
        provinceCode: '51',
        communeCode: '21040',
        channel: 'online',
        applicant: { fullName: 'Nguyễn Thị Hoà', idNumber: '051190001234' },
        receivedAt: '2025-11-23T23:59:30+07:00',
        summary: 'Đăng ký khai sinh cho con',
      },
    });
    expect(validator.validate([normalizeNfc(e)])).toEqual([]);
  });

  it('keeps the portal’s own facts (field, applicant type and contact, submission time, VNeID) in a valid event', () => {
    const e = event(
      submission({
        MaHoSo: '000.00.01.H01-251123-48213',
        MaLinhVuc: 'G09-TP01',
        TenLinhVuc: 'Hộ tịch'.normalize('NFD'),
        LoaiDoiTuong: 2,
        Email: 'hoa@example.vn',
        SoDienThoai: '0912345678',
        NgayNopHoSo: '20251123220000',
        TaiKhoanDuocXacThucVoiVNeID: '1',
      }),
    );
    expect(e.data).toMatchObject({
      dossierCode: '000.00.01.H01-251123-48213',
      agencyCode: '000.00.01.H01',
      sector: { code: 'G09-TP01', name: 'Hộ tịch'.normalize('NFC') },
      applicantType: 'business',
      applicant: {
        fullName: 'Nguyễn Thị Hoà',
        idNumber: '051190001234',
        email: 'hoa@example.vn',
        phone: '0912345678',
      },
      submittedAt: '2025-11-23T22:00:00+07:00',
      identityVerified: true,
    });
    expect(validator.validate([normalizeNfc(e)])).toEqual([]);
  });

  it('leaves out a fact of the portal the event could not hold, and still captures the submission', () => {
    const e = event(
      submission({
        MaLinhVuc: 'G09-TP01', // no TenLinhVuc
        LoaiDoiTuong: '9',
        Email: 'not an address',
        SoDienThoai: '12-34',
        NgayNopHoSo: '2025-11-23',
        TaiKhoanDuocXacThucVoiVNeID: 'yes',
      }),
    );
    for (const key of ['sector', 'applicantType', 'submittedAt', 'identityVerified']) {
      expect(e.data).not.toHaveProperty(key);
    }
    expect(e.data.applicant).toEqual({ fullName: 'Nguyễn Thị Hoà', idNumber: '051190001234' });
    expect(validator.validate([normalizeNfc(e)])).toEqual([]);
  });

  it('derives the id from MaHoSo only, so the same submission read again is the same event', () => {
    const a = event(submission());
    const b = event(submission({ ViTri: 99, TrichYeuHoSo: 'khác' }));
    expect(b.id).toBe(a.id);
    expect(event(submission({ MaHoSo: '000.00.00.G22-251123-0008' })).id).not.toBe(a.id);
  });

  it('turns NFD texts into NFC', () => {
    const e = event(
      submission({
        ChuHoSo: 'Nguyễn Thị Hoà'.normalize('NFD'),
        TenTTHC: 'Đăng ký khai sinh'.normalize('NFD'),
        TrichYeuHoSo: 'Đăng ký khai sinh cho con'.normalize('NFD'),
      }),
    );
    expect(e.data.applicant.fullName).toBe('Nguyễn Thị Hoà'.normalize('NFC'));
    expect(e.data.applicant.fullName).not.toBe('Nguyễn Thị Hoà'.normalize('NFD'));
    expect(e.data.procedureName).toBe('Đăng ký khai sinh'.normalize('NFC'));
    expect(e.data.summary).toBe('Đăng ký khai sinh cho con'.normalize('NFC'));
  });

  it('writes NgayTiepNhan (Vietnam local) as RFC 3339 with +07:00, across a day boundary in UTC', () => {
    expect(event(submission({ NgayTiepNhan: '20250701063000' })).data.receivedAt).toBe(
      '2025-07-01T06:30:00+07:00',
    );
    expect(Date.parse(event(submission({ NgayTiepNhan: '20250701063000' })).data.receivedAt)).toBe(
      Date.parse('2025-06-30T23:30:00Z'),
    );
  });

  it('takes the province of the commune from the administrative units, and accepts codes as numbers', () => {
    const e = event(submission({ MaDonVi: '00004', MaTTHC: '1.000894.H56' }));
    expect(e.data).toMatchObject({ provinceCode: '01', communeCode: '00004', procedureCode: '1.000894.H56' });
    expect(event(submission({ MaDonVi: 21040 })).data.communeCode).toBe('21040');
    expect(event(submission({ NgayTiepNhan: 20251123235930 })).data.receivedAt).toBe(
      '2025-11-23T23:59:30+07:00',
    );
  });

  it('takes the ID from DinhDanhCHS (12 or 9 digits by kind), else from SoGiayToChuHoSo', () => {
    expect(
      event(submission({ DinhDanhCHS: [{ LoaiDinhDanh: '2', SoDinhDanh: '123456789' }] })).data.applicant
        .idNumber,
    ).toBe('123456789');
    expect(
      event(submission({ DinhDanhCHS: [], SoGiayToChuHoSo: ' 051190001234 ' })).data.applicant.idNumber,
    ).toBe('051190001234');
    expect(
      event(submission({ DinhDanhCHS: undefined, SoGiayToChuHoSo: '123456789' })).data.applicant.idNumber,
    ).toBe('123456789');
  });

  it('omits the optional texts when blank', () => {
    const e = event(submission({ TenTTHC: '  ', TrichYeuHoSo: undefined }));
    expect(e.data).not.toHaveProperty('procedureName');
    expect(e.data).not.toHaveProperty('summary');
  });

  it.each([
    ['no MaHoSo', { MaHoSo: undefined }, 'dossier-code'],
    ['a MaHoSo without agency prefix', { MaHoSo: 'HS-0001' }, 'dossier-code'],
    ['no MaDonVi', { MaDonVi: undefined }, 'no-unit'],
    ['a province-only MaDonVi', { MaDonVi: '51' }, 'province-only'],
    ['an unknown commune', { MaDonVi: '99999' }, 'unknown-unit'],
    ['a MaDonVi that is no code', { MaDonVi: 'Bình Sơn' }, 'unknown-unit'],
    ['no MaTTHC', { MaTTHC: '' }, 'missing-field'],
    ['no ChuHoSo', { ChuHoSo: ' ' }, 'missing-field'],
    [
      'a 9-digit number as a 12-digit ID',
      { DinhDanhCHS: [{ LoaiDinhDanh: 1, SoDinhDanh: '123456789' }] },
      'id-number',
    ],
    [
      'a 12-digit number as a legacy ID',
      { DinhDanhCHS: [{ LoaiDinhDanh: 2, SoDinhDanh: '051190001234' }] },
      'id-number',
    ],
    [
      'an ID kind other than 1 or 2',
      { DinhDanhCHS: [{ LoaiDinhDanh: 3, SoDinhDanh: '051190001234' }] },
      'id-number',
    ],
    [
      'an ID that lost its leading zero as a number',
      { DinhDanhCHS: [{ LoaiDinhDanh: 1, SoDinhDanh: 51190001234 }] },
      'id-number',
    ],
    ['no ID at all', { DinhDanhCHS: [], SoGiayToChuHoSo: undefined }, 'id-number'],
    ['a paper number that is no ID', { DinhDanhCHS: [], SoGiayToChuHoSo: 'CMND-12' }, 'id-number'],
    ['no NgayTiepNhan', { NgayTiepNhan: undefined }, 'received-at'],
    ['an impossible NgayTiepNhan', { NgayTiepNhan: '20250231083000' }, 'received-at'],
    ['a NgayTiepNhan in another format', { NgayTiepNhan: '01/07/2025 08:30:00' }, 'received-at'],
  ] as const)('refuses %s', (_what, overrides, reason) => {
    expect(refusal(submission(overrides as Partial<PortalOnlineSubmission>)).reason).toBe(reason);
  });

  it('never puts the name or the ID number in a refusal', () => {
    const details = [
      { DinhDanhCHS: [{ LoaiDinhDanh: 1, SoDinhDanh: '05119000123' }] },
      { DinhDanhCHS: [], SoGiayToChuHoSo: '05119000' },
      { MaDonVi: '99999' },
      { NgayTiepNhan: 'Nguyễn Thị Hoà' },
    ].map((o) => refusal(submission(o as Partial<PortalOnlineSubmission>)).detail);
    for (const d of details) {
      expect(d).not.toMatch(/05119000|Nguyễn/);
    }
  });
});
