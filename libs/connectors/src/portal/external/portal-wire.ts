/**
 * Wire types of the national public-service portal (DVCQG) adapter API, as it answers them. Nothing
 * but the portal's own field names lives here; the hub's mapping is in ../portal-mapping.ts.
 */

/** A dossier of `DongBoHoSoMC`, and as `TraCuuHoSo` returns it. */
export interface PortalDossierRecord {
  MaHoSo: string;
  MaTTHC: string;
  TenTTHC: string;
  /** 1 in person, 2 online, 3 postal. */
  KenhThucHien: 1 | 2 | 3;
  ChuHoSo: string;
  SoGiayToChuHoSo?: string;
  /** LoaiDinhDanh 1 = 12-digit citizen ID, 2 = 9-digit legacy ID. */
  DinhDanhCHS: { LoaiDinhDanh: 1 | 2; SoDinhDanh: string }[];
  TrichYeuHoSo?: string;
  /** `yyyyMMddHHmmss`, Vietnam local time. */
  NgayTiepNhan: string;
  NgayHenTra?: string;
  NgayTra?: string;
  /** National status code 1–10. */
  TrangThaiHoSo: number;
  DanhSachLePhi: PortalFee[];
  DanhSachGiayToKetQua: Record<string, unknown>[];
  /** Province or commune code of the receiving unit. */
  MaDonVi?: string;
  /**
   * The procedure's field (sector): the portal refuses a record without it (optional here only for
   * reconciliation's expected records, which leave out what the catalogue would fill).
   */
  MaLinhVuc?: string;
  TenLinhVuc?: string;
  /** "1" citizen, "2" business, "3" state agency, "4" other. */
  LoaiDoiTuong: PortalCode;
  /** Mandatory for real integrators; its meaning is not public (a per-deployment code). */
  HinhThuc: PortalCode;
  /** Agency ID of the agency handling the dossier. */
  DonViXuLy: string;
  Email: string;
  SoDienThoai: string;
  /** 2024 schema: where it was submitted ("1" at the office, "2" online; unconfirmed codes). */
  NoiNopHoSo?: PortalCode;
  /** 2024 schema: `yyyyMMddHHmmss`, when the applicant submitted it. */
  NgayNopHoSo?: string;
  /** 2024 schema: `yyyyMMddHHmmss`, when it was rejected at intake (status 3). */
  NgayTuChoi?: string;
  /** 2024 schema: "1" when the applicant's account is verified with VNeID, else "0". */
  TaiKhoanDuocXacThucVoiVNeID?: PortalCode;
  /** 2024 schema: "1" when the fees can be paid online, else "0". */
  DuocThanhToanTrucTuyen?: PortalCode;
  DSKetNoiCSDL?: { MaCSDL: string }[];
  TaiLieuNop?: { MaThanhPhanHoSo?: string; TenTepDinhKem: string }[];
}

/** A code the real clients send as a string ("1"); the portal reads either. */
export type PortalCode = string;

export interface PortalFee {
  MaPhiLePhi?: string;
  TenPhiLePhi: string;
  /** Whole VND, sent as a string of digits as the real clients do ("50000"); a number is read too. */
  Gia: string | number;
  /** How it is collected: "1" in cash at the office, "2" online (unconfirmed codes). */
  HinhThucThu?: PortalCode;
  /** "1" a charge (phí), "2" a fee (lệ phí) (unconfirmed codes). */
  LoaiPhiLePhi?: PortalCode;
}

/** A progress record of `CapNhatTienDoHoSoMC`. */
export interface PortalProgressRecord {
  MaHoSo: string;
  /** At most 50 characters. */
  NguoiXuLy: string;
  ChucDanh?: string;
  /** `yyyyMMddHHmmss`, Vietnam local time. */
  ThoiDiemXuLy: string;
  PhongBanXuLy?: string;
  NoiDungXuLy?: string;
  TrangThai: number;
  /** 2024 schema: `yyyyMMddHHmmss`, when the step began. */
  NgayBatDau?: string;
  /** 2024 schema: `yyyyMMddHHmmss`, when the step had to end by the rules. */
  NgayKetThucTheoQuyDinh?: string;
}

/**
 * Every answer: `error_code` 0 on success, -1 for a refusal (business or validation), 401 for an
 * invalid or expired session (with HTTP 200). Real portals write `error_code` as a number or as a
 * string ("0", "-1"); the client reads both and hands on a number.
 */
export interface PortalAnswer {
  error_code: number;
  message?: string;
  session?: string;
  result?: unknown;
}

/** One item of the `result` of `DongBoHoSoMC`. */
export interface PortalSyncItem {
  MaHoSo: string;
  /** A number or a numeric string. */
  error_code: number | string;
  message?: string;
}

/** A procedure of the catalogue, as `LayThuTuc` answers it (the fields the hub reads). */
export interface PortalProcedureRecord {
  MATTHC: string;
  TENTTHC: string;
  LINHVUCTHUCHIEN?: { MALINHVUC: string; TENLINHVUC: string }[];
  /** Per channel (`KENH`), the time limits: `THOIGIANGIAIQUYET` in `DONVITINH` ("Ngày", "Ngày làm việc"). */
  CACHTHUCTHUCHIEN?: {
    KENH?: string | number;
    THOIGIAN?: { THOIGIANGIAIQUYET?: string | number; DONVITINH?: string }[];
  }[];
}

/** An agency of `LayDanhMucCoQuan`. */
export interface PortalAgencyRecord {
  MACOQUAN: string;
  TENCOQUAN: string;
}

/** "Already exists" arrives under these `error_code`s besides -1, with or without the message. */
export const PORTAL_EXISTS_CODES: readonly number[] = [3, -3];

export const PORTAL_OK = 0;
export const PORTAL_REFUSED = -1;
export const PORTAL_SESSION_INVALID = 401;
