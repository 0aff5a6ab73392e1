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
}

export interface PortalFee {
  MaPhiLePhi?: string;
  TenPhiLePhi: string;
  /** Whole VND. */
  Gia: number;
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
}

/**
 * Every answer: `error_code` 0 on success, -1 for a refusal (business or validation), 401 for an
 * invalid or expired session (with HTTP 200).
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
  error_code: number;
  message?: string;
}

export const PORTAL_OK = 0;
export const PORTAL_REFUSED = -1;
export const PORTAL_SESSION_INVALID = 401;
