/**
 * The payment platform's wire format (`POST /api/v1/thanh-toan`), as the platform defines it. Only
 * the shapes live here; what the hub makes of them is in ../payment-mapping.ts.
 */

/** `MaLoi` of an answer or a callback. */
export const PAYMENT_CODE = {
  ok: '00',
  badInput: '01',
  badDigest: '02',
  unknownTransaction: '03',
  refReused: '04',
  noBill: '12',
  failed: '24',
} as const;

/** `TrangThaiGD` of a transaction. */
export const PAYMENT_STATUS = { success: 1, pending: 3, failed: 4 } as const;
export type PaymentStatusCode = (typeof PAYMENT_STATUS)[keyof typeof PAYMENT_STATUS];

export interface PaymentInitRequest {
  LoaiBanTin: 'INIT';
  MaDoiTac: string;
  MaThamChieu: string;
  /** Whole VND. */
  SoTien: number;
  /** `yyyyMMddHHmmss`, Vietnam time. */
  ThoiGianGD: string;
  /** Not signed. */
  NoiDungThanhToan?: string;
}

export interface PaymentQueryRequest {
  LoaiBanTin: 'QUERY' | 'GET_BILL';
  MaDoiTac: string;
  MaThamChieu: string;
  ThoiGianGD: string;
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
  SoTien: number;
  TrangThaiGD: number;
  /** Empty while pending. */
  ThoiGianGD: string;
  MaNganHang?: string;
}

export interface PaymentBillAnswer extends PaymentAnswer {
  MaThamChieu: string;
  MaGiaoDich: string;
  SoTien: number;
  SoBienLai: string;
  NgayBienLai: string;
  NoiDungThanhToan?: string;
}

/** The result the platform POSTs to the hub: `MaLoi` `00` paid, `24` failed. */
export interface PaymentCallback {
  MaLoi: string;
  MaThamChieu: string;
  SoTien: number | string;
  MaGiaoDich: string;
  MaNganHang: string;
  ThoiGianGD: string;
  MaXacThuc: string;
}
