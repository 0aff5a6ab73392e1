/**
 * Wire types of a province's one-stop-shop (một cửa điện tử) REST API, as it answers them. Nothing
 * but the shop's own field names lives here; the hub's mapping is in ../one-stop-shop-mapping.ts.
 */

/** National status code (1–10) → the one-stop-shop's status name. */
export const OSS_STATUS: Readonly<Record<number, string>> = {
  1: 'MOI_NOP',
  2: 'DA_TIEP_NHAN',
  3: 'TU_CHOI_TIEP_NHAN',
  4: 'DANG_XU_LY',
  5: 'YEU_CAU_BO_SUNG',
  6: 'CHO_NOP_PHI',
  7: 'CONG_DAN_RUT',
  8: 'DUNG_XU_LY',
  9: 'DA_XU_LY_XONG',
  10: 'DA_TRA_KET_QUA',
};

/** `kenh_nop`: in person, online, by post. */
export type OneStopShopChannel = 'TRUC_TIEP' | 'TRUC_TUYEN' | 'BUU_CHINH';

export interface OneStopShopFee {
  ten: string;
  /** Whole VND. */
  so_tien: number;
}

/** The body of `PUT /api/v1/ho-so/{ma_ho_so}`: the dossier's whole current state. */
export interface OneStopShopDossierBody {
  ma_thu_tuc: string;
  ten_thu_tuc: string;
  kenh_nop: OneStopShopChannel;
  ho_ten_nguoi_nop: string;
  /** 9 or 12 digits. */
  so_giay_to?: string;
  trich_yeu?: string;
  /** 5-digit commune code. */
  ma_don_vi: string;
  /** `dd/MM/yyyy HH:mm:ss`, Vietnam local time, like the other times. */
  ngay_nhan: string;
  ngay_hen_tra?: string;
  ngay_tra?: string;
  /** A status name such as `DANG_XU_LY`. */
  trang_thai: string;
  le_phi: OneStopShopFee[];
  /** The shop refuses (409) a `phien_ban` lower than the one it holds. */
  phien_ban?: number;
}

/** One entry of `POST /api/v1/ho-so/{ma_ho_so}/tien-do` `{danh_sach: [...]}`. */
export interface OneStopShopProgressEntry {
  can_bo: string;
  chuc_vu?: string;
  phong_ban?: string;
  thoi_gian: string;
  noi_dung?: string;
  trang_thai: string;
}

/** A dossier as `TraCuuHoSo` and `DanhSachHoSo` return it. */
export interface OneStopShopStoredDossier extends OneStopShopDossierBody {
  ma_ho_so: string;
  /** When the shop last stored it, `dd/MM/yyyy HH:mm:ss`. */
  ngay_cap_nhat: string;
  tien_do: OneStopShopProgressEntry[];
}

/** Every answer: `ma_loi` 0 on success, `"E<status>"` with that HTTP status on failure. */
export interface OneStopShopAnswer {
  ma_loi: number | string;
  thong_bao?: string;
  du_lieu?: unknown;
  trang?: number;
  so_luong?: number;
  tong_so?: number;
  tong_so_trang?: number;
}
