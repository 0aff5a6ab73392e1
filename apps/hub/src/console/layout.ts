import { html, type Html } from './html.js';
import type { Lang, MessageKey, Translate } from './i18n.js';
import { CSRF_FIELD } from './sessions.js';

/** What every page of a signed-in operator needs to be drawn. */
export interface PageContext {
  lang: Lang;
  t: Translate;
  /** The path of the page (without the query), for the navigation and the language switch. */
  path: string;
  /** The query of the page, kept by the language switch. */
  query: URLSearchParams;
  /** Absent on the login page. */
  user?: { name: string; role: string; csrf: string };
}

const NAV: readonly [string, MessageKey][] = [
  ['/console', 'nav.overview'],
  ['/console/dossiers', 'nav.dossier'],
  ['/console/mismatches', 'nav.mismatches'],
  ['/console/parked', 'nav.parked'],
  ['/console/webhooks', 'nav.webhooks'],
  ['/console/audit', 'nav.audit'],
  ['/console/clients', 'nav.clients'],
];

/** The hidden CSRF field of the signed-in operator's session. */
export function csrfField(ctx: PageContext): Html {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${ctx.user?.csrf ?? ''}" />`;
}

function section(path: string): string {
  // A replay is started from a reconciliation's findings.
  if (path.startsWith('/console/replays')) return '/console/mismatches';
  const match = NAV.filter(([href]) => href !== '/console').find(
    ([href]) => path === href || path.startsWith(`${href}/`),
  );
  return match ? match[0] : '/console';
}

/** A whole page: header with navigation, language switch and log-out, then `body` under `title`. */
export function layout(ctx: PageContext, title: string, body: Html | Html[]): Html {
  const { t } = ctx;
  const other = t('lang.otherCode');
  const switchQuery = new URLSearchParams(ctx.query);
  switchQuery.set('lang', other);
  const current = section(ctx.path);
  const user = ctx.user;
  return html`<!doctype html>
    <html lang="${ctx.lang}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · ${t('app')}</title>
        <link rel="stylesheet" href="/console/assets/console.css" />
        <link rel="icon" href="data:," />
        <script src="/console/assets/htmx.min.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">${t('skip')}</a>
        <header class="top">
          <p class="brand">${t('app')}</p>
          ${
            user
              ? html`<nav aria-label="${t('nav.label')}">
                  <ul>
                    ${NAV.map(
                      ([href, key]) =>
                        html`<li>
                          <a href="${href}" ${current === href ? html` aria-current="page"` : ''}
                            >${t(key)}</a
                          >
                        </li>`,
                    )}
                  </ul>
                </nav>`
              : ''
          }
          <div class="session">
            <a href="${ctx.path}?${switchQuery.toString()}" hreflang="${other}" lang="${other}"
              >${t('lang.other')}</a
            >
            ${
              user
                ? html`<span>${t('signedInAs', { name: user.name, role: user.role })}</span>
                    <form method="post" action="/console/logout">
                      ${csrfField(ctx)}<button type="submit">${t('logout')}</button>
                    </form>`
                : ''
            }
          </div>
        </header>
        <main id="main">
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`;
}

/** A date and time as operators in Viet Nam read it. */
export function when(ctx: PageContext, iso: string | undefined | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(ctx.lang === 'vi' ? 'vi-VN' : 'en-GB', { timeZone: 'Asia/Ho_Chi_Minh' });
}

export function num(ctx: PageContext, n: number): string {
  return n.toLocaleString(ctx.lang === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: 1 });
}

/** A JSON value in a cell (mismatch values, audit scopes), whole: no two long values look alike. */
export function value(v: unknown): Html {
  return html`<code>${v === undefined ? '—' : JSON.stringify(v)}</code>`;
}
