import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * `MaXacThuc` of the payment platform: SHA-256, lowercase hex, of the UTF-8 text made of the
 * message's fields in the order of {@link DIGEST_FIELDS}, each as its string form (a missing field is
 * the empty string), then the shared secret, all joined with `|`:
 *
 *     sha256hex(f1 + "|" + f2 + "|" + … + "|" + fn + "|" + secret)
 *
 * The secret is appended after one more `|`, not concatenated to the last field (both public
 * integrators build `…|{ThoiGianGD}|{secret}` for QUERY/GET_BILL and `…|{Ip}|{secret}` for INIT, and
 * print the digest with `x2`, lowercase). A field is signed as it is written in the message: a
 * `ThoiGianGD` in 12-hour time is verified as it came, never re-formatted first.
 */
export function paymentDigest(fields: readonly (string | number | undefined)[], secret: string): string {
  const text = [...fields.map((f) => (f === undefined ? '' : String(f))), secret].join('|');
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Field order of `MaXacThuc` per message. INIT, QUERY, GET_BILL and CALLBACK are the platform's (both
 * public integrators agree, see README); QUERY and GET_BILL sign the `ThoiGianGD` of the original
 * INIT. CALLBACK_ANSWER (the hub's answer to a callback) signs its own fields in the order they are
 * listed, `MoTaLoi` left out as free text: unconfirmed. The `*_RESPONSE` orders (the platform's
 * answers to INIT/QUERY/GET_BILL) have no public trace: the simulator and the connector agree on them.
 */
export const DIGEST_FIELDS = {
  INIT: [
    'LoaiBanTin',
    'PhienBan',
    'MaDoiTac',
    'MaThamChieu',
    'SoTien',
    'LoaiHinhThanhToan',
    'MaKenhThanhToan',
    'MaThietBi',
    'NgonNgu',
    'MaTienTe',
    'MaNganHang',
    'ThongTinGiaoDich',
    'ThoiGianGD',
    'Ip',
  ],
  QUERY: ['LoaiBanTin', 'PhienBan', 'MaDoiTac', 'MaThamChieu', 'ThoiGianGD'],
  GET_BILL: ['LoaiBanTin', 'PhienBan', 'MaDoiTac', 'MaThamChieu', 'ThoiGianGD'],
  CALLBACK: [
    'LoaiBanTin',
    'MaLoi',
    'MaDoiTac',
    'MaThamChieu',
    'SoTien',
    'MaTienTe',
    'MaGiaoDich',
    'MaNganHang',
    'ThoiGianGD',
    'ThongTinGiaoDich',
  ],
  CALLBACK_ANSWER: ['MaLoi', 'MaDoiTac', 'MaThamChieu', 'ThoiGianGD'],
  INIT_RESPONSE: ['MaLoi', 'MaThamChieu', 'MaGiaoDich', 'UrlThanhToan'],
  QUERY_RESPONSE: ['MaLoi', 'MaThamChieu', 'MaGiaoDich', 'SoTien', 'TrangThaiGD', 'ThoiGianGD'],
  GET_BILL_RESPONSE: ['MaLoi', 'MaThamChieu', 'MaGiaoDich', 'SoTien', 'SoBienLai', 'UrlBienLai'],
} as const;

export type DigestMessage = keyof typeof DIGEST_FIELDS;

/** The digest of `message` read in the field order of `kind`. */
export function messageDigest(kind: DigestMessage, message: Record<string, unknown>, secret: string): string {
  return paymentDigest(
    DIGEST_FIELDS[kind].map((f) => {
      const v = message[f];
      return typeof v === 'string' || typeof v === 'number' ? v : undefined;
    }),
    secret,
  );
}

/** `message` with its `MaXacThuc` set. */
export function signMessage<T extends Record<string, unknown>>(
  kind: DigestMessage,
  message: T,
  secret: string,
): T & { MaXacThuc: string } {
  return { ...message, MaXacThuc: messageDigest(kind, message, secret) };
}

/** Whether `message.MaXacThuc` is the digest of `message` (constant-time comparison). */
export function verifyMessage(
  kind: DigestMessage,
  message: Record<string, unknown>,
  secret: string,
): boolean {
  const given = message.MaXacThuc;
  if (typeof given !== 'string' || !/^[0-9a-fA-F]{64}$/.test(given)) return false;
  const expected = Buffer.from(messageDigest(kind, message, secret), 'hex');
  return timingSafeEqual(expected, Buffer.from(given.toLowerCase(), 'hex'));
}
