import { createCipheriv, createDecipheriv, type KeyObject } from 'node:crypto';
import { PERSON_PREFIX, SEALED_PREFIX } from './model.js';
import { randomView } from './random.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** AES-256-GCM of `json` under `key`, a random IV, the kid authenticated: base64url(iv ‖ tag ‖ ciphertext). */
function encrypt(kid: string, key: KeyObject, json: string): string {
  const iv = randomView(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(kid, 'latin1'));
  const body = cipher.update(json, 'utf8');
  const end = cipher.final(); // empty: GCM is a stream mode
  const parts = end.length === 0 ? [iv, cipher.getAuthTag(), body] : [iv, cipher.getAuthTag(), body, end];
  return Buffer.concat(parts).toString('base64url');
}

/** The JSON sealed in `body` (see {@link encrypt}). @throws Error when altered or under another key. */
function decrypt(kid: string, key: KeyObject, body: string): unknown {
  const raw = Buffer.from(body, 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('a sealed value is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(kid, 'latin1'));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  const clear = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  return JSON.parse(clear.toString('utf8')) as unknown;
}

/** Seals one value (its JSON) under a subject key: `lgsp:pd1:<kid>:<body>`. */
export function seal(kid: string, key: KeyObject, value: unknown): string {
  return `${SEALED_PREFIX}${kid}:${encrypt(kid, key, JSON.stringify(value))}`;
}

/**
 * Bodies sealed before, by kid and the JSON they hold: a person sealed again with the same values under
 * the same key reuses the body (no AES-GCM operation). The output is then the same string twice, which
 * tells a reader of the stored events only that the person's values did not change between the two
 * (the kid, in clear, already links them); no IV is ever used with another plaintext.
 */
export interface SealedBodies {
  body(kid: string, json: string): string | undefined;
  sealed(kid: string, json: string, body: string): void;
}

/**
 * Seals a person's fields together, in one AES-GCM operation: `values` (field → value) is encrypted as
 * one JSON object, and each field gets `lgsp:pd2:<kid>:<field>:<body>`, the same body, naming the field
 * it reads. Each sealed string opens alone (a field copied elsewhere keeps its value), and none holds
 * anything in clear. With `bodies`, the same values sealed under the same kid before give the same body.
 */
export function sealPerson(
  kid: string,
  key: KeyObject,
  values: Readonly<Record<string, unknown>>,
  bodies?: SealedBodies,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field in values) {
    // The field ends at the next ':' when read back.
    if (field.length === 0 || field.includes(':'))
      throw new Error(`a personal field cannot be named ${JSON.stringify(field)}`);
  }
  const json = JSON.stringify(values);
  let body = bodies?.body(kid, json);
  if (body === undefined) {
    body = encrypt(kid, key, json);
    bodies?.sealed(kid, json, body);
  }
  for (const field in values) out[field] = `${PERSON_PREFIX}${kid}:${field}:${body}`;
  return out;
}

/** A sealed string taken apart: its kid, and for a `pd2` value the field it reads and its body. */
export interface SealedParts {
  kid: string;
  /** The field of a `pd2` value (the body holds the person's fields); undefined for `pd1`. */
  field?: string;
  body: string;
}

/** The parts of a sealed string, undefined when the string is not one. */
export function sealedParts(sealed: string): SealedParts | undefined {
  const person = sealed.startsWith(PERSON_PREFIX);
  if (!person && !sealed.startsWith(SEALED_PREFIX)) return undefined;
  const start = SEALED_PREFIX.length; // both prefixes have the same length
  const end = sealed.indexOf(':', start);
  if (end <= start) return undefined;
  const kid = sealed.slice(start, end);
  if (!person) return { kid, body: sealed.slice(end + 1) };
  const fieldEnd = sealed.indexOf(':', end + 1);
  if (fieldEnd <= end + 1) return undefined;
  return { kid, field: sealed.slice(end + 1, fieldEnd), body: sealed.slice(fieldEnd + 1) };
}

/** The kid of a sealed value, undefined when the string is not one. */
export function sealedKid(sealed: string): string | undefined {
  if (!sealed.startsWith(SEALED_PREFIX) && !sealed.startsWith(PERSON_PREFIX)) return undefined;
  const end = sealed.indexOf(':', SEALED_PREFIX.length);
  return end > SEALED_PREFIX.length ? sealed.slice(SEALED_PREFIX.length, end) : undefined;
}

/**
 * What the body of sealed parts holds: the value (`pd1`), or the person's fields (`pd2`, an object).
 * @throws Error when the body was altered, or sealed under another key.
 */
export function openBody(parts: SealedParts, key: KeyObject): unknown {
  const value = decrypt(parts.kid, key, parts.body);
  if (parts.field !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value)))
    throw new Error('a sealed person is not an object');
  return value;
}

/** The value of sealed parts from what their body holds (see {@link openBody}). */
export function valueOfBody(parts: SealedParts, opened: unknown): unknown {
  if (parts.field === undefined) return opened;
  const fields = opened as Record<string, unknown>;
  if (!Object.hasOwn(fields, parts.field)) throw new Error(`a sealed person has no field ${parts.field}`);
  return fields[parts.field];
}

/**
 * Opens a sealed value (`pd1` or `pd2`) with its subject key.
 * @throws Error when the value was altered, or sealed under another key.
 */
export function open(sealed: string, key: KeyObject): unknown {
  const parts = sealedParts(sealed);
  if (parts === undefined) throw new Error('not a sealed value');
  return valueOfBody(parts, openBody(parts, key));
}
