import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The console's session cookie: HttpOnly, SameSite=Strict, path /console (Secure over TLS). */
export const SESSION_COOKIE = 'lgsp_console';
/** The login form's CSRF token, before there is a session (double submit: cookie and hidden field). */
export const LOGIN_CSRF_COOKIE = 'lgsp_console_login';
/** The language chosen (`vi` or `en`). */
export const LANG_COOKIE = 'lgsp_lang';
/** The hidden field every console form carries. */
export const CSRF_FIELD = '_csrf';

export interface ConsoleSession {
  /** The cookie's value; the map holds only its digest. */
  readonly id: string;
  /** This session's CSRF token, written into every form and checked on every POST. */
  readonly csrf: string;
  /** The operator's token, kept in this process's memory only, authenticated again on each request. */
  readonly token: string;
  /** Milliseconds since the epoch; the session is refused from then on, and dropped. */
  expiresAt: number;
}

export interface ConsoleSessionOptions {
  /** A session unused this long expires (each request moves its end forward). */
  idleMs: number;
  /** Most sessions kept at once; the oldest is dropped beyond it. @defaultValue 10000 */
  maxSessions?: number;
  now?: () => number;
}

const digest = (id: string): string => createHash('sha256').update(id).digest('base64url');

/**
 * The console's sessions, in this process's memory: a random id in the cookie, looked up by its
 * digest. Logging out or expiring removes the session; a forged or old cookie finds nothing. Several
 * hub replicas behind a load balancer need sticky sessions for the console.
 */
export class ConsoleSessions {
  private readonly byDigest = new Map<string, ConsoleSession>();
  private readonly now: () => number;
  private readonly maxSessions: number;

  constructor(private readonly options: ConsoleSessionOptions) {
    this.now = options.now ?? Date.now;
    this.maxSessions = options.maxSessions ?? 10_000;
  }

  create(token: string): ConsoleSession {
    const session: ConsoleSession = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      token,
      expiresAt: this.now() + this.options.idleMs,
    };
    if (this.byDigest.size >= this.maxSessions) {
      const oldest = this.byDigest.keys().next().value;
      if (oldest !== undefined) this.byDigest.delete(oldest);
    }
    this.byDigest.set(digest(session.id), session);
    return session;
  }

  /** The live session of a cookie value, its expiry moved forward; undefined (and dropped) once expired. */
  get(id: string): ConsoleSession | undefined {
    const key = digest(id);
    const session = this.byDigest.get(key);
    if (session === undefined) return undefined;
    const now = this.now();
    if (now >= session.expiresAt) {
      this.byDigest.delete(key);
      return undefined;
    }
    session.expiresAt = now + this.options.idleMs;
    return session;
  }

  destroy(id: string): void {
    this.byDigest.delete(digest(id));
  }

  get size(): number {
    return this.byDigest.size;
  }
}

/** Whether a form's CSRF field is the expected token (compared in constant time). */
export function csrfMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length === 0) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A fresh random token (the login form's CSRF token). */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}
