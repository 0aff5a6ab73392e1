import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * `MaXacThuc` of the payment platform: SHA-256, lowercase hex, of the message's fields in the order
 * of {@link DIGEST_FIELDS}, each as its string form (a missing field is the empty string), followed
 * by the shared secret, all joined with `|`:
 *
 *     sha256hex(f1 + "|" + f2 + "|" + … + "|" + fn + "|" + secret)
 *
 * For a callback: `sha256hex("00|REF-1|50000|GD000000000001|VCB|20250701083000|secret")`.
 */
export function paymentDigest(fields: readonly (string | number | undefined)[], secret: string): string {
  const text = [...fields.map((f) => (f === undefined ? '' : String(f))), secret].join('|');
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Field order of `MaXacThuc` per message, requests and answers. */
export const DIGEST_FIELDS = {
  INIT: ['LoaiBanTin', 'MaDoiTac', 'MaThamChieu', 'SoTien', 'ThoiGianGD'],
  QUERY: ['LoaiBanTin', 'MaDoiTac', 'MaThamChieu', 'ThoiGianGD'],
  GET_BILL: ['LoaiBanTin', 'MaDoiTac', 'MaThamChieu', 'ThoiGianGD'],
  INIT_RESPONSE: ['MaLoi', 'MaThamChieu', 'MaGiaoDich', 'UrlThanhToan'],
  QUERY_RESPONSE: ['MaLoi', 'MaThamChieu', 'MaGiaoDich', 'SoTien', 'TrangThaiGD', 'ThoiGianGD'],
  GET_BILL_RESPONSE: ['MaLoi', 'MaThamChieu', 'MaGiaoDich', 'SoTien', 'SoBienLai', 'NgayBienLai'],
  CALLBACK: ['MaLoi', 'MaThamChieu', 'SoTien', 'MaGiaoDich', 'MaNganHang', 'ThoiGianGD'],
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
