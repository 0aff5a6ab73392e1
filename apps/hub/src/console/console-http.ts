import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fastifyCookie } from '@fastify/cookie';
import { DomainError } from '#lgsp/contracts';
import type { Client, ClientService } from '#lgsp/security';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_LANG, isLang, translator, type Lang, type MessageKey } from './i18n.js';
import type { PageContext } from './layout.js';
import { LANG_COOKIE, SESSION_COOKIE, type ConsoleSession, type ConsoleSessions } from './sessions.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The console session the request's cookie names, when it is live and its operator still valid. */
    consoleSession?: ConsoleSession;
  }
}

/** The console's paths: authenticated by the session cookie, not by a bearer token. */
export const CONSOLE_PATH = /^\/console(\/|\?|$)/;

/**
 * Self only, no inline script or style: htmx and the stylesheet are files the hub serves. Forms post
 * only to the hub; no page may be framed.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

const ADMIN_ROLES = new Set(['admin', 'operator']);

/** Whether a client may use the console: operators and admins only. */
export function mayUseConsole(client: Pick<Client, 'role' | 'revokedAt'>): boolean {
  return ADMIN_ROLES.has(client.role) && client.revokedAt === undefined;
}

export function cookies(req: FastifyRequest): Record<string, string> {
  const header = req.headers.cookie;
  return header ? fastifyCookie.parse(header) : {};
}

/**
 * The request guard's console part: the client of the request's live session, authenticated again
 * with its token on each request (so a revoked or rotated-out token ends the session at once), or
 * undefined. Sets `req.consoleSession`.
 */
export function consoleClient(
  sessions: ConsoleSessions,
  clients: Pick<ClientService, 'authenticate'>,
): (req: FastifyRequest) => Promise<Client | undefined> {
  return async (req) => {
    const id = cookies(req)[SESSION_COOKIE];
    if (!id) return undefined;
    const session = sessions.get(id);
    if (!session) return undefined;
    let client: Client | undefined;
    try {
      client = await clients.authenticate(session.token);
    } catch {
      client = undefined;
    }
    if (!client || !mayUseConsole(client)) {
      sessions.destroy(id);
      return undefined;
    }
    req.consoleSession = session;
    return client;
  };
}

/** A cookie of the console: HttpOnly, SameSite=Strict, Secure when the request came over TLS. */
export function consoleCookie(
  req: FastifyRequest,
  name: string,
  value: string,
  /** Without `maxAgeSeconds`, a cookie of the browser session (gone when the browser closes). */
  options: { path?: string; maxAgeSeconds?: number },
): string {
  return fastifyCookie.serialize(name, value, {
    httpOnly: true,
    sameSite: 'strict',
    secure: req.protocol === 'https',
    path: options.path ?? '/console',
    ...(options.maxAgeSeconds === undefined ? {} : { maxAge: options.maxAgeSeconds }),
  });
}

/** The page language: `?lang=` (remembered in a cookie), else the cookie, else Vietnamese. */
export function pageLang(req: FastifyRequest, reply: FastifyReply): Lang {
  const asked = (req.query as Record<string, unknown> | undefined)?.lang;
  if (isLang(asked)) {
    appendCookie(reply, consoleCookie(req, LANG_COOKIE, asked, { maxAgeSeconds: 365 * 24 * 3600 }));
    return asked;
  }
  const kept = cookies(req)[LANG_COOKIE];
  return isLang(kept) ? kept : DEFAULT_LANG;
}

/** Adds a Set-Cookie header (Fastify appends each one given for set-cookie). */
export function appendCookie(reply: FastifyReply, cookie: string): void {
  void reply.header('set-cookie', cookie);
}

/**
 * What the console needs of the HTTP server: its forms' bodies (`application/x-www-form-urlencoded`,
 * console paths only) and its pages' security headers.
 */
export function registerConsoleHttp(
  fastify: FastifyInstance,
  /** Routes that take the raw body whatever its type (ingest: the CloudEvents binding decides). */
  rawBody: (req: FastifyRequest) => boolean,
): void {
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer' },
    (req, body: Buffer, done) => {
      if (rawBody(req)) return done(null, body);
      if (!CONSOLE_PATH.test(req.url)) {
        return done(new DomainError('unsupported-media-type', 'send application/json'));
      }
      done(null, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
    },
  );
  fastify.addHook('onSend', async (req, reply, payload) => {
    if (!CONSOLE_PATH.test(req.url)) return payload;
    void reply.header('content-security-policy', CONSOLE_CSP);
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'no-referrer');
    void reply.header('x-frame-options', 'DENY');
    if (!req.url.startsWith('/console/assets/')) void reply.header('cache-control', 'no-store');
    return payload;
  });
}

/** The repository (or installed package) root: the nearest folder up with the hub's package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'lgsp-hub')
      return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('lgsp-hub package.json not found above the console module');
    dir = up;
  }
}

/** The console's two static files, read once: htmx from node_modules, and the console's stylesheet. */
export function consoleAssets(): { htmx: Buffer; css: Buffer } {
  const require = createRequire(import.meta.url);
  const htmx = readFileSync(require.resolve('htmx.org/dist/htmx.min.js'));
  const css = readFileSync(join(packageRoot(), 'apps/hub/src/console/console.css'));
  return { htmx, css };
}

/** What every page needs of the request: its language, path, query and the signed-in operator. */
export function pageContext(req: FastifyRequest, reply: FastifyReply): PageContext {
  const lang = pageLang(req, reply);
  const url = new URL(req.url, 'http://console.invalid');
  const query = new URLSearchParams(url.searchParams);
  query.delete('lang');
  const t = translator(lang);
  const client = req.client;
  const session = req.consoleSession;
  return {
    lang,
    t,
    path: url.pathname,
    query,
    ...(client && session && mayUseConsole(client)
      ? { user: { name: client.name, role: t(`role.${client.role}` as MessageKey), csrf: session.csrf } }
      : {}),
  };
}
