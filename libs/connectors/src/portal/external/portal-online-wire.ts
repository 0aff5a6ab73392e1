/**
 * Wire types of the portal's feed of online submissions (`LayDanhSachHoSoTrucTuyen`). The portal
 * passes them on as the citizen sent them and writes codes as numbers or numeric strings, so every
 * field is typed loosely here and checked by ../online-submission-mapping.ts.
 */

/** One dossier a citizen submitted on the portal, with its position in the feed. */
export interface PortalOnlineSubmission {
  /** Position in the feed: 1, 2, 3… The request's `ViTri` returns the submissions after it. */
  ViTri: number;
  MaHoSo?: unknown;
  MaTTHC?: unknown;
  TenTTHC?: unknown;
  KenhThucHien?: unknown;
  ChuHoSo?: unknown;
  SoGiayToChuHoSo?: unknown;
  /** LoaiDinhDanh 1 = 12-digit citizen ID, 2 = 9-digit legacy ID. */
  DinhDanhCHS?: unknown;
  TrichYeuHoSo?: unknown;
  /** `yyyyMMddHHmmss`, Vietnam local time. */
  NgayTiepNhan?: unknown;
  TrangThaiHoSo?: unknown;
  /** 5-digit commune or 2-digit province code of the receiving unit. */
  MaDonVi?: unknown;
  [field: string]: unknown;
}

/** One page of the feed. */
export interface PortalOnlinePage {
  /** In feed order. */
  submissions: PortalOnlineSubmission[];
  /** `ViTriCuoi`: the position of the page's last submission, or the cursor sent when the page is empty. */
  last: number;
}
