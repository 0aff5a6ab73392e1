import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): a secret `whsec_<base64 of 24–64
 * random bytes>`, and `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, one
 * signature per secret in force, separated by spaces. Verifiable with the `standardwebhooks` libraries.
 */
export const SECRET_PREFIX = 'whsec_';

/** A new secret: 32 random bytes, `whsec_`-prefixed base64. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** The key bytes of a `whsec_` secret. */
export function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new TypeError('a webhook secret starts with whsec_');
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/**
 * The key of a `whsec_` secret prepared once for HMAC (a KeyObject signs several times faster than
 * the raw bytes, which Node prepares again at each call).
 */
export function signingKey(secret: string): KeyObject {
  return createSecretKey(secretKey(secret));
}

/** `v1,<signature>` of one message under one key. */
export function signV1(
  key: Buffer | KeyObject,
  messageId: string,
  timestamp: number,
  body: string | Buffer,
): string {
  const mac = createHmac('sha256', key).update(`${messageId}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/** The `webhook-signature` header: one `v1` signature per key, space-separated. */
export function signatureHeader(
  keys: readonly (Buffer | KeyObject)[],
  messageId: string,
  timestamp: number,
  body: string | Buffer,
): string {
  return keys.map((k) => signV1(k, messageId, timestamp, body)).join(' ');
}

/** True when one of the header's `v1` signatures is the message's under `key` (constant time). */
export function verifySignature(
  key: Buffer,
  header: string,
  messageId: string,
  timestamp: number,
  body: string | Buffer,
): boolean {
  const expected = Buffer.from(signV1(key, messageId, timestamp, body));
  return header
    .split(' ')
    .map((s) => Buffer.from(s))
    .some((given) => given.length === expected.length && timingSafeEqual(given, expected));
}

/** The `webhook-id` of an event's deliveries to one webhook: the same for every try and redelivery. */
export function messageId(webhookId: string, position: number): string {
  return `msg_${webhookId.replace(/^wh_/, '')}_${position}`;
}
