/**
 * The payment platform's wire format (`POST /api/v1/thanh-toan`), as the platform defines it. Only
 * the shapes live here; what the hub makes of them is in ../payment-mapping.ts. Where each field and
 * value comes from is in the README (section "Payment platform").
 */

/** `MaLoi` of an answer, a callback or the hub's answer to a callback. */
export const PAYMENT_CODE = {
  ok: '00',
  badInput: '01',
  /** A `MaXacThuc` that does not verify (the hub's choice of code; unconfirmed). */
  badDigest: '02',
  unknownTransaction: '03',
  refReused: '04',
  noBill: '12',
  failed: '24',
  /** "Other errors" (both integrators). */
  other: '99',
} as const;

/** `TrangThaiGD` of a transaction: 1 success, 3 pending, 4 failed (both integrators). */
export const PAYMENT_STATUS = { success: 1, pending: 3, failed: 4 } as const;
export type PaymentStatusCode = (typeof PAYMENT_STATUS)[keyof typeof PAYMENT_STATUS];

/**
 * The fixed values of a request, as both integrators send them. `PhienBan` "1.0.6",
 * `LoaiHinhThanhToan` "PAY", `NgonNgu` "vi-VN", `MaTienTe` "VND" (both); `MaKenhThanhToan` "1",
 * `MaThietBi` "1", `MaNganHang` "PAYMENT" (one: the provincial code base). All configurable.
 */
export interface PaymentDialect {
  PhienBan: string;
  LoaiHinhThanhToan: string;
  MaKenhThanhToan: string;
  MaThietBi: string;
  NgonNgu: string;
  MaTienTe: string;
  MaNganHang: string;
}

export const DEFAULT_PAYMENT_DIALECT: PaymentDialect = {
  PhienBan: '1.0.6',
  LoaiHinhThanhToan: 'PAY',
  MaKenhThanhToan: '1',
  MaThietBi: '1',
  NgonNgu: 'vi-VN',
  MaTienTe: 'VND',
  MaNganHang: 'PAYMENT',
};

/** One fee of `ThongTinBienLai.PhiLePhi`. */
export interface PaymentFeeLine {
  LoaiPhiLePhi: string;
  MaPhiLePhi: string;
  TenPhiLePhi: string;
  /** Whole VND, as a string (both integrators). */
  SoTien: string;
}

/** What the receipt shows (`ThongTinBienLai` of INIT). */
export interface PaymentReceiptInfo {
  MaTTHC: string;
  MaDVC: string;
  MaDonVi: string;
  MaHoSo: string;
  /** Beneficiary account, its bank and its holder. */
  TKThuHuong: string;
  MaNHThuHuong: string;
  TenTKThuHuong: string;
  /** The payer. Personal data: sent to the platform, never logged. */
  HoTenNguoiNop: string;
  NoiDungThanhToan: string;
  PhiLePhi: PaymentFeeLine[];
  DSKhoanNop: { NoiDung: string; SoTien: string }[];
}

export interface PaymentInitRequest extends PaymentDialect {
  LoaiBanTin: 'INIT';
  MaDoiTac: string;
  MaThamChieu: string;
  /** Whole VND, as a string (both integrators). */
  SoTien: string;
  ThongTinGiaoDich: string;
  /** `yyyyMMddHHmmss`, Vietnam time. */
  ThoiGianGD: string;
  Ip: string;
  ThongTinBienLai: PaymentReceiptInfo;
  MaXacThuc: string;
}

export interface PaymentQueryRequest {
  LoaiBanTin: 'QUERY' | 'GET_BILL';
  PhienBan: string;
  MaDoiTac: string;
  MaThamChieu: string;
  /** The `ThoiGianGD` of the INIT, as it was sent. */
  ThoiGianGD: string;
  MaXacThuc: string;
}

/** Every answer: `MaLoi` and `MoTaLoi`, then the fields of its kind (signed when `MaLoi` is `00`). */
export interface PaymentAnswer {
  MaLoi: string;
  MoTaLoi?: string;
  MaXacThuc?: string;
  [field: string]: unknown;
}

export interface PaymentInitAnswer extends PaymentAnswer {
  MaThamChieu: string;
  MaGiaoDich: string;
  UrlThanhToan: string;
}

export interface PaymentQueryAnswer extends PaymentAnswer {
  MaThamChieu: string;
  MaGiaoDich: string;
  SoTien: number | string;
  /** 1, 3 or 4; a string in the provincial code base's reading. */
  TrangThaiGD: number | string;
  /** Empty while pending. */
  ThoiGianGD: string;
  MaNganHang?: string;
}

export interface PaymentBillAnswer extends PaymentAnswer {
  MaThamChieu: string;
  MaGiaoDich: string;
  SoTien: number | string;
  SoBienLai: string;
  /** Where the receipt (a PDF) is served. */
  UrlBienLai: string;
}

/** The result the platform POSTs to the hub: `MaLoi` `00` paid, `24` failed. */
export interface PaymentCallback {
  LoaiBanTin: string;
  MaLoi: string;
  MaDoiTac: string;
  MaThamChieu: string;
  SoTien: number | string;
  MaTienTe: string;
  MaGiaoDich: string;
  MaNganHang: string;
  ThoiGianGD: string;
  ThongTinGiaoDich: string;
  MaXacThuc: string;
}

/** The hub's answer to a callback (signed over `MaLoi, MaDoiTac, MaThamChieu, ThoiGianGD`). */
export interface PaymentCallbackAnswer {
  MaLoi: string;
  MoTaLoi: string;
  MaDoiTac: string;
  MaThamChieu: string;
  ThoiGianGD: string;
  MaXacThuc: string;
}
