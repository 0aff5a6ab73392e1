import { hash, randomBytes } from 'node:crypto';

const PREFIX = 'lgsp_';

/** A new bearer token: 256 random bits, printed once and stored only as a hash. */
export function generateToken(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

/**
 * Tokens are high-entropy random values, so a single SHA-256 is enough to make a stolen table
 * useless (a slow password hash protects guessable secrets, which these are not).
 */
export function hashToken(token: string): string {
  return hash('sha256', token, 'hex');
}

/** Reads the token from an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match?.[1];
}

/**
 * True for a token shaped as a compact JWS (three base64url parts, the first one a JSON object):
 * the hub's own tokens never are (`lgsp_` and base64url, without dots).
 */
export function looksLikeJwt(token: string): boolean {
  return /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}
