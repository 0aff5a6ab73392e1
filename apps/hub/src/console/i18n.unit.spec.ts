import { fileURLToPath } from 'node:url';
import { DomainError } from '#lgsp/contracts';
import type { Logger } from '#lgsp/observability';
import { INTERRUPTED } from '#lgsp/reconciliation';
import { scanMessages } from '../../../../test/i18n/message-sites.js';
import { ConsoleFilter } from './console.filter.js';
import { CATALOGUE, LANGS, serviceMessage, translator } from './i18n.js';

describe('console message catalogue', () => {
  it('has the same keys in every language', () => {
    const keys = (lang: (typeof LANGS)[number]) => Object.keys(CATALOGUE[lang]).sort();
    for (const lang of LANGS) expect(keys(lang)).toEqual(keys('vi'));
  });

  it('has no empty text, and the same placeholders in every language', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]).sort();
    for (const lang of LANGS) {
      for (const [key, text] of Object.entries(CATALOGUE[lang])) {
        expect({ lang, key, empty: text.trim().length === 0 }).toEqual({ lang, key, empty: false });
        const vi = CATALOGUE.vi[key as keyof typeof CATALOGUE.vi];
        expect({ lang, key, placeholders: placeholders(text) }).toEqual({
          lang,
          key,
          placeholders: placeholders(vi),
        });
      }
    }
  });

  it('fills placeholders', () => {
    expect(translator('en')('run.summary', { total: 3, dossiers: 2 })).toBe('3 mismatches in 2 dossiers.');
    expect(translator('vi')('run.summary', { total: 3, dossiers: 2 })).toBe('3 sai lệch ở 2 hồ sơ.');
  });
});

describe("the console's service messages in Vietnamese", () => {
  // What a console page can show of a service: the problems of the console's own routes and of the
  // services it calls (reconciliation, replay, webhooks, parking, clients, audit), and the runs' errors.
  const root = fileURLToPath(new URL('../../../../', import.meta.url));
  const shown = scanMessages(root, [
    'apps/hub/src/console',
    'libs/reconciliation/src',
    'libs/replay/src',
    'libs/webhooks/src',
    'libs/connectors/src/core',
    'libs/security/src',
  ]);

  it('has Vietnamese for every error a console page can show', () => {
    expect(shown.sites.length).toBeGreaterThan(50);
    const english = shown.sites
      .map((s) => s.shape.replaceAll('{}', 'X'))
      .filter((text) => serviceMessage('vi', text) === text);
    expect([...new Set(english)]).toEqual([]);
    expect(serviceMessage('vi', INTERRUPTED)).toBe('bị gián đoạn do khởi động lại');
  });

  it('shows a service message as it is in English, and a text it does not know as it came', () => {
    expect(serviceMessage('en', 'no replay r-1')).toBe('no replay r-1');
    expect(serviceMessage('vi', 'no replay r-1')).toBe('không có lần phát lại r-1');
    expect(serviceMessage('vi', 'HTTP 502 from the portal gateway')).toBe('HTTP 502 from the portal gateway');
  });

  it('renders a domain error as a page in Vietnamese by default', () => {
    // No language cookie nor `?lang=` (both go through @fastify/cookie, which the unit tier cannot load):
    // the default, Vietnamese. The English page is the console e2e's.
    const page = () => {
      let body = '';
      const reply = {
        code: () => reply,
        type: () => reply,
        header: () => reply,
        send: (value: string) => {
          body = value;
          return reply;
        },
      };
      const req = {
        url: '/console/replays/r-9',
        method: 'GET',
        query: {},
        headers: {},
      };
      const host = { switchToHttp: () => ({ getRequest: () => req, getResponse: () => reply }) };
      const logger = { error: () => undefined } as unknown as Logger;
      new ConsoleFilter(logger).catch(new DomainError('not-found', 'no replay r-9'), host as never);
      return body;
    };
    const body = page();
    expect(body).toContain('không có lần phát lại r-9');
    expect(body).not.toContain('no replay r-9');
  });
});
