/**
 * Wire types of the Ministry of Justice civil-registry exchange (hộ tịch) and of the interlinked-
 * services portal (DVCLT), as integrators call them. Nothing but the systems' own field names lives
 * here; the hub's mapping is in ../civil-registry-mapping.ts. Sources and confidence: README.md,
 * "Civil registry".
 */

/** The registry's modules: birth (khai sinh), death (khai tử), marriage (kết hôn). */
export const CIVIL_REGISTRY_MODULES = ['LTKS', 'LTKT', 'LTKH'] as const;
export type CivilRegistryModule = (typeof CIVIL_REGISTRY_MODULES)[number];

/**
 * The person fields of a birth registration (`module` LTKS), sent as the JSON string `data`.
 * Person dates are `dd.MM.yyyy`.
 */
export interface CivilRegistryBirthData {
  nksHoTen: string;
  /** `dd.MM.yyyy`. */
  nksNgaySinh: string;
  /** 1 male, 2 female. */
  nksGioiTinh: 1 | 2;
  nksNoiSinh?: string;
  meHoTen?: string;
  /** The mother's 12-digit personal ID (số định danh cá nhân). */
  meSoDDCN?: string;
  chaHoTen?: string;
  chaSoDDCN?: string;
}

/** One attachment of `fileDinhKem`: a name and either a link or the base64 content. */
export interface CivilRegistryAttachment {
  tenTep: string;
  duongDan?: string;
  noiDung?: string;
}

/** The body of `NhanDKHT` (the registry receives a civil-status dossier). */
export interface CivilRegistryRequest {
  /** The registering unit. */
  maDonVi: string;
  module: CivilRegistryModule;
  /** The interlinked code issued by DVCLT. */
  maHoSoLT: string;
  /** The one-stop-shop dossier code: the key of `LayKetQua`. */
  maHoSoMCDT: string;
  /** `dd/MM/yyyy HH:mm:ss`, Vietnam local time. */
  ngayTiepNhan: string;
  /** {@link CivilRegistryBirthData} (for LTKS) as a JSON string. */
  data: string;
  fileDinhKem: CivilRegistryAttachment[];
}

/** The answer of every call: `status` "1" success, "0" a refusal with `errorCode`/`errorDescription`. */
export interface CivilRegistryAnswer {
  status: string;
  statusDescription?: string;
  errorCode?: string;
  errorDescription?: string;
  /** `LayKetQua`: the results; `DanhSachHoSo`: a page. */
  value?: unknown;
  /** `DanhSachHoSo` only: how many dossiers the registry holds. */
  tongSo?: number;
}

/** The body of `LayKetQua`: the results of several dossiers of one province and module at once. */
export interface CivilRegistryResultQuery {
  maDinhDanhHoSo: string[];
  /** 2-digit province code. */
  maTinh: string;
  module: CivilRegistryModule;
}

/** A dossier as `LayKetQua` (and, without the result files, `DanhSachHoSo`) shows it. */
export interface CivilRegistryResult {
  maHoSoMCDT: string;
  maHoSoLT?: string;
  module?: string;
  maDonVi?: string;
  /** 1 received, 2 supplement needed, 3 processing, 4 done, 6 rejected. */
  trangThai: number;
  moTaTrangThai?: string;
  /** `dd/MM/yyyy HH:mm:ss`. */
  ngayTiepNhan?: string;
  /** The last change, `2025-07-01T08:30:00+07:00`. */
  ngayCapNhat?: string;
  /** The reason, with status 2 and 6. */
  lyDo?: string;
  /** Once done: the registration number, book and page. */
  soDangKy?: string;
  quyenSo?: string;
  trangSo?: string;
  /** Once done: `dd/MM/yyyy`. */
  ngayDangKy?: string;
  /** Once a birth is done: the child's personal ID number. */
  soDinhDanh?: string;
  /** Once done: the certificate as base64 (`giayKhaiSinh` for a birth). Never copied into an event. */
  ketQuaXuLy?: Record<string, unknown>;
  /** `DanhSachHoSo` only: the person fields as received. */
  data?: Record<string, unknown>;
}

export const CIVIL_REGISTRY_OK = '1';
export const CIVIL_REGISTRY_REFUSED = '0';
/** The `errorCode` of a `NhanDKHT` for a `maHoSoMCDT` the registry holds already. */
export const CIVIL_REGISTRY_EXISTS = 'DA_TON_TAI';

/** The registry's statuses (`trangThai`). */
export const CIVIL_REGISTRY_STATUS = {
  received: 1,
  supplementNeeded: 2,
  processing: 3,
  done: 4,
  rejected: 6,
} as const;

/** The body of DVCLT's `CapMaHoSoLT`: the province asks for the interlinked code of a dossier. */
export interface DvcltCodeRequest {
  maHoSoMCDT: string;
  maDonVi: string;
  /** The national procedure code, e.g. `1.001193`. */
  maTTHC: string;
  module: CivilRegistryModule;
}

/** The body of DVCLT's `CapNhatTrangThai`: a status report of an interlinked dossier. */
export interface DvcltStatusReport {
  maHoSoLT: string;
  /** One of {@link DVCLT_STATUSES}. */
  trangThai: number;
  /** The reporting body; the province's civil-status office reports as 5. */
  coQuanXuLy: number;
  /** `yyyyMMddHHmmss`. */
  thoiGian: string;
  ghiChu?: string;
}

/** DVCLT's status codes as the reporting code uses them: 1, 2, 3, 7 (sent to the ministry), 4, 5, 6. */
export const DVCLT_STATUSES = [1, 2, 3, 4, 5, 6, 7] as const;
