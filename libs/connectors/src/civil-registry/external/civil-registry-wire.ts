/**
 * Wire types of the Ministry of Justice civil-registry API (hộ tịch), as it answers them. Nothing but
 * the registry's own field names lives here; the hub's mapping is in ../civil-registry-mapping.ts.
 */

/** The birth details (`thongTin`) of a `KHAI_SINH` registration. Dates are `dd/MM/yyyy`. */
export interface CivilRegistryBirthInfo {
  hoTen: string;
  ngaySinh: string;
  /** 1 male, 2 female. */
  gioiTinh: 1 | 2;
  noiSinh?: string;
  hoTenMe?: string;
  /** 12-digit citizen ID. */
  soDinhDanhMe?: string;
  hoTenCha?: string;
  soDinhDanhCha?: string;
}

/** The body of `DangKyHoTich` (`POST /api/v1/hotich/dang-ky`). */
export interface CivilRegistryRequest {
  /** The interlinked code: the registration's key in the registry, at most 50 of `[0-9A-Za-z.-_]`. */
  maLienThong: string;
  /** The one-stop-shop dossier code. */
  maHoSoMotCua: string;
  loaiDangKy: 'KHAI_SINH';
  /** 5-digit commune code. */
  maDonViDangKy: string;
  /** `dd/MM/yyyy`. */
  ngayDangKy: string;
  thongTin: CivilRegistryBirthInfo;
}

/** The `data` of a `DangKyHoTich` acceptance. */
export interface CivilRegistryReceipt {
  maLienThong: string;
  trangThai: number;
  /** `yyyyMMddHHmmss`, Vietnam local time. */
  thoiGianTiepNhan: string;
}

/** A registration as `TraCuuKetQua` (and, without the result fields, `DanhSachDangKy`) shows it. */
export interface CivilRegistryResult {
  maLienThong: string;
  maHoSoMotCua: string;
  loaiDangKy: string;
  /** 1 received, 2 supplement needed, 3 processing, 4 done, 6 rejected. */
  trangThai: number;
  moTaTrangThai?: string;
  /** `yyyyMMddHHmmss`. */
  thoiGianTiepNhan?: string;
  /** `2025-07-01T08:30:00+07:00`. */
  thoiGianCapNhat?: string;
  /** The reason, with status 2 and 6. */
  lyDo?: string;
  /** Once done: the certificate number. */
  soGiayChungNhan?: string;
  /** Once a birth is done: the child's personal ID number. */
  soDinhDanhCaNhan?: string;
  /** Once done: `01/07/2025 08:30:00 PM` (12-hour). */
  ngayCapGiayChungNhan?: string;
  /** Once done: the certificate as a base64 PDF. Never copied into an event. */
  fileGiayChungNhan?: string;
}

/** Every answer: `code` "0" success, "1" a business refusal (HTTP 200), "400" bad input (HTTP 400). */
export interface CivilRegistryAnswer {
  code: string;
  message?: string;
  data?: unknown;
  /** `DanhSachDangKy` only. */
  tongSo?: number;
}

export const CIVIL_REGISTRY_OK = '0';
export const CIVIL_REGISTRY_REFUSED = '1';

/** The registry's statuses (`trangThai`). */
export const CIVIL_REGISTRY_STATUS = {
  received: 1,
  supplementNeeded: 2,
  processing: 3,
  done: 4,
  rejected: 6,
} as const;
