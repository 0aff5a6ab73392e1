import { createCipheriv, createDecipheriv, type KeyObject } from 'node:crypto';
import { SEALED_PREFIX } from './model.js';
import { randomView } from './random.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Seals one value (its JSON) under a subject key: AES-256-GCM, a random IV, the kid authenticated. */
export function seal(kid: string, key: KeyObject, value: unknown): string {
  const iv = randomView(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(kid, 'latin1'));
  const body = cipher.update(JSON.stringify(value), 'utf8');
  const end = cipher.final(); // empty: GCM is a stream mode
  const parts = end.length === 0 ? [iv, cipher.getAuthTag(), body] : [iv, cipher.getAuthTag(), body, end];
  return `${SEALED_PREFIX}${kid}:${Buffer.concat(parts).toString('base64url')}`;
}

/** The kid of a sealed value, undefined when the string is not one. */
export function sealedKid(sealed: string): string | undefined {
  if (!sealed.startsWith(SEALED_PREFIX)) return undefined;
  const end = sealed.indexOf(':', SEALED_PREFIX.length);
  return end > SEALED_PREFIX.length ? sealed.slice(SEALED_PREFIX.length, end) : undefined;
}

/**
 * Opens a sealed value with its subject key.
 * @throws Error when the value was altered, or sealed under another key.
 */
export function open(sealed: string, key: KeyObject): unknown {
  const kid = sealedKid(sealed);
  if (kid === undefined) throw new Error('not a sealed value');
  const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length + kid.length + 1), 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('a sealed value is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(kid));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  const clear = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  return JSON.parse(clear.toString('utf8')) as unknown;
}
