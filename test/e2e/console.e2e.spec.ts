import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import { dossierCode, post, statusChanged, submitted } from '../support/events.js';
import {
  createCommuneClient,
  eventually,
  REPO_ROOT,
  startHubProcess,
  tempDir,
  type HubProcess,
} from '../support/hub-process.js';
import { connectorsConfig, startSimulators, type SimulatorsProcess } from '../support/simulators-process.js';
import { sendJson } from '../support/sim-http.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Issue 17 acceptance for the console: in Vietnamese and in English an operator signs in, finds a
 * dossier and each system's state, runs a reconciliation that finds mismatches injected into the
 * portal simulator behind the hub's back, previews and runs the replay, and sees the mismatches gone.
 * Every screen is saved as a screenshot (test-results/console) and checked with axe (no serious or
 * critical WCAG 2.1 A/AA violation). Then the security rules, over plain HTTP.
 */

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(REPO_ROOT, 'test-results/console');
const DOSSIERS = 24;
const code = (i: number): string => `000.00.51.H56-251206-${String(700_000 + i)}`;

const getJson = async <T>(url: string, token: string): Promise<T> => {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return (await res.json()) as T;
};

/** The serious and critical WCAG 2.1 A/AA violations axe finds on the page, as `rule: target` lines. */
async function axeViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  // axe ran its WCAG rules on the page (a page it could not analyse would pass nothing).
  expect(result.passes.length).toBeGreaterThan(10);
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')}`));
}

describe('the web console', () => {
  let sims: SimulatorsProcess;
  let hub: HubProcess;
  let browser: Browser;
  let operatorToken: string;
  let communeToken: string;
  let provinceToken: string;
  let receiver: WebhookReceiver;
  let webhookId: string;

  const createClient = async (body: Record<string, unknown>): Promise<string> => {
    const res = await fetch(`${hub.url}/v1/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { token: string }).token;
  };

  beforeAll(async () => {
    // The project's own script: installs Debian's chromium when it is missing, fails when it cannot.
    execFileSync(join(REPO_ROOT, 'scripts/install-chromium.sh'), { stdio: 'inherit' });
    mkdirSync(SHOTS, { recursive: true });
    sims = await startSimulators();
    const dataDir = tempDir('lgsp-console-e2e-');
    const config = connectorsConfig(dataDir, sims.urls, { replay: { confirmAbove: 1000, chunkSize: 10 } });
    hub = await startHubProcess({
      dataDir,
      env: { LGSP_CONFIG: config, LGSP_CONNECTORS: 'all', LGSP_WEBHOOKS_ALLOW_INSECURE: 'true' },
    });
    communeToken = await createCommuneClient(hub, 'console-e2e-commune');
    provinceToken = await createClient({ name: 'console-e2e-province', province: '51', role: 'province' });
    operatorToken = await createClient({ name: 'console-e2e-operator', role: 'operator' });
    receiver = await WebhookReceiver.start();
    const hook = await fetch(`${hub.url}/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, description: 'console e2e' }),
    });
    expect(hook.status).toBe(201);
    webhookId = ((await hook.json()) as { webhook: { id: string } }).webhook.id;

    const events: Record<string, unknown>[] = [];
    // The first dossiers of each language's run come with a W3C trace context (CloudEvents
    // distributed-tracing extension), which the dossier screen shows.
    const traced = (i: number) =>
      i < 4 ? { traceparent: `00-${(0xabc0 + i).toString(16).padStart(32, '0')}-00f067aa0ba902b7-01` } : {};
    for (let i = 0; i < DOSSIERS; i++)
      events.push(submitted(code(i), traced(i)), statusChanged(code(i), 2), statusChanged(code(i), 4));
    const r = await post(hub.url, communeToken, events, 'application/cloudevents-batch+json');
    expect(r.status).toBe(201);
    await eventually(async () => {
      const { subscriptions } = await getJson<{ subscriptions: { lagEvents: number }[] }>(
        `${hub.url}/v1/admin/subscriptions`,
        hub.adminToken,
      );
      return subscriptions.every((s) => s.lagEvents === 0) ? true : undefined;
    }, 120_000);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
    await receiver?.down();
    sims?.child.kill('SIGTERM');
  });

  const texts = {
    vi: {
      signIn: 'Đăng nhập',
      search: 'Tìm',
      runReconciliation: 'Chạy đối soát',
      preview: 'Xem trước phát lại',
      confirm: 'Xác nhận và chạy phát lại',
      again: 'Đối soát lại portal',
      none: 'Không có sai lệch.',
      overview: 'Tổng quan',
      logout: 'Đăng xuất',
    },
    en: {
      signIn: 'Sign in',
      search: 'Search',
      runReconciliation: 'Run a reconciliation',
      preview: 'Preview the replay',
      confirm: 'Confirm and run the replay',
      again: 'Reconcile portal again',
      none: 'No mismatches.',
      overview: 'Overview',
      logout: 'Log out',
    },
  } as const;

  for (const [index, lang] of (['vi', 'en'] as const).entries()) {
    it(`lets an operator find a dossier, reconcile, preview and run the replay, in ${lang}`, async () => {
      const say = texts[lang];
      const context = await browser.newContext({ viewport: { width: 1200, height: 860 } });
      const page = await context.newPage();
      const violations: Record<string, string[]> = {};
      // Script errors and content-security-policy refusals show as console errors.
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      const screen = async (name: string) => {
        await page.screenshot({ path: join(SHOTS, `${lang}-${name}.png`), fullPage: true });
        violations[name] = await axeViolations(page);
      };
      // Two dossiers of this language's run, tampered with in the portal behind the hub's back.
      const stale = code(index * 2);
      const dropped = code(index * 2 + 1);
      const portal = sims.urls['national-portal'];
      await sendJson(portal, 'POST', '/_sim/tamper', { dossier: stale, set: { TrangThaiHoSo: 2 } });
      await sendJson(portal, 'POST', '/_sim/tamper', { dossier: dropped, delete: true });

      await page.goto(`${hub.url}/console${lang === 'en' ? '?lang=en' : ''}`);
      expect(page.url()).toBe(`${hub.url}/console/login`);
      expect(await page.getAttribute('html', 'lang')).toBe(lang);
      await screen('login');
      await page
        .getByLabel(lang === 'vi' ? 'Mã truy cập' : 'Operator or administrator token', { exact: false })
        .fill(operatorToken);
      await page.getByRole('button', { name: say.signIn }).click();
      await page.waitForURL(`${hub.url}/console`);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(say.overview);
      await screen('overview');
      // htmx is served by the hub and runs under the policy.
      expect(await page.evaluate(() => typeof (globalThis as { htmx?: unknown }).htmx)).toBe('object');

      // The dossier, and each system's state.
      await page.goto(`${hub.url}/console/dossiers`);
      await page.locator('#code').fill(stale);
      await page.getByRole('button', { name: say.search, exact: true }).click();
      await page.waitForURL(/\/console\/dossiers\?code=/);
      const targets = await page
        .locator('#sync-table tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-target')));
      expect(targets).toEqual(expect.arrayContaining(['portal', 'one-stop-shop']));
      const dossier = await getJson<{ sync?: { target: string; lastPosition: number | null }[] }>(
        `${hub.url}/v1/dossiers/${encodeURIComponent(stale)}`,
        hub.adminToken,
      );
      if (dossier.sync !== undefined) {
        // The hub reports sync positions: the table shows the portal's.
        const portalRow = page.locator('#sync-table tr[data-target="portal"] td').nth(1);
        const position = dossier.sync.find((s) => s.target === 'portal')?.lastPosition;
        expect(position).toEqual(expect.any(Number));
        await expect(portalRow.textContent()).resolves.toBe(String(position));
      }
      // Its trace id: the one stored with its events.
      const { events: stored } = await getJson<{ events: { event: { traceparent?: string } }[] }>(
        `${hub.url}/v1/streams/dossier-${encodeURIComponent(stale)}`,
        hub.adminToken,
      );
      const traceIds = [...new Set(stored.map((e) => e.event.traceparent?.split('-')[1]).filter(Boolean))];
      expect(traceIds.length).toBeGreaterThan(0);
      await expect(page.locator('code.trace').allTextContents()).resolves.toEqual(traceIds);
      await screen('dossier');

      // A reconciliation of the portal finds the two injected mismatches.
      await page.goto(`${hub.url}/console/mismatches`);
      await page.locator('#target').selectOption('portal');
      await screen('mismatches');
      await page.getByRole('button', { name: say.runReconciliation }).click();
      await page.waitForURL(/\/console\/mismatches\/rc-/);
      // Polled until done, then the page reloads with the findings.
      await page.locator('#run-mismatches').waitFor({ timeout: 60_000 });
      const found = await page.locator('#run-mismatches tbody tr td:first-child').allTextContents();
      expect([...new Set(found)].sort()).toEqual([stale, dropped].sort());
      await screen('reconciliation');

      // The replay's preview (dry run) lists those dossiers only; confirmed, it runs to completion.
      await page.getByRole('button', { name: say.preview }).click();
      await expect(page.locator('ul.codes li').allTextContents()).resolves.toEqual(
        expect.arrayContaining([stale, dropped]),
      );
      expect(await page.locator('ul.codes li').count()).toBe(2);
      await screen('replay-plan');
      // The portal answers slowly now, so the replay page first shows it running, then htmx's
      // polling shows its progress until it completes.
      await sendJson(portal, 'PUT', '/_sim/faults', { latency: 1500 });
      await page.getByRole('button', { name: say.confirm }).click();
      await page.waitForURL(/\/console\/replays\//);
      expect(await page.locator('#replay-status').getAttribute('data-state')).toBe('running');
      await page.locator('#replay-status[data-state="completed"]').waitFor({ timeout: 60_000 });
      await expect(page.locator('#replay-status').textContent()).resolves.toContain('2');
      await sendJson(portal, 'PUT', '/_sim/faults', {});
      await screen('replay');

      // Reconciled again: the mismatches are gone.
      await page.getByRole('button', { name: say.again }).click();
      await page.waitForURL(/\/console\/mismatches\/rc-/);
      await page.locator('#run-mismatches').waitFor({ timeout: 60_000 });
      await expect(page.locator('#run-mismatches').textContent()).resolves.toBe(say.none);
      await page.goto(`${hub.url}/console/dossiers?code=${encodeURIComponent(stale)}`);
      await expect(page.locator('#dossier-mismatches').textContent()).resolves.toBe(say.none);

      for (const name of ['parked', 'webhooks', 'audit', 'clients']) {
        await page.goto(`${hub.url}/console/${name}`);
        expect(await page.getAttribute('html', 'lang')).toBe(lang);
        await screen(name);
      }
      await page.getByRole('button', { name: say.logout }).click();
      await page.waitForURL(`${hub.url}/console/login`);
      await page.goto(`${hub.url}/console/clients`);
      expect(page.url()).toBe(`${hub.url}/console/login`);

      expect(errors).toEqual([]);
      expect(Object.fromEntries(Object.entries(violations).filter(([, v]) => v.length > 0))).toEqual({});
      await context.close();
    }, 300_000);
  }

  it('lets an operator skip a parked dossier, see its history, and rotate, disable and enable a webhook', async () => {
    // A dossier code the portal refuses: a data error, parked at once.
    const poison = `${dossierCode()}X`;
    expect((await post(hub.url, communeToken, submitted(poison))).status).toBe(201);
    await eventually(async () => {
      const { parked } = await getJson<{ parked: { dossier: string }[] }>(
        `${hub.url}/v1/admin/parked?target=portal`,
        hub.adminToken,
      );
      return parked.some((p) => p.dossier === poison) ? true : undefined;
    }, 30_000);

    const context = await browser.newContext({ viewport: { width: 1200, height: 860 } });
    const page = await context.newPage();
    const violations: Record<string, string[]> = {};
    const screen = async (name: string) => {
      await page.screenshot({ path: join(SHOTS, `en-${name}.png`), fullPage: true });
      violations[name] = await axeViolations(page);
    };
    await page.goto(`${hub.url}/console/login?lang=en`);
    await page.locator('#token').fill(operatorToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${hub.url}/console`);

    await page.goto(`${hub.url}/console/parked`);
    // Parked at the portal (perhaps at other systems too, which refuse the code as well).
    const atPortal = () =>
      page
        .locator('tbody tr')
        .filter({ has: page.locator('td:first-child', { hasText: /^portal$/ }) })
        .filter({ hasText: poison });
    const row = atPortal();
    await expect(row.count()).resolves.toBe(1);
    await screen('parked-list');
    await row.getByRole('textbox').fill('code refused by the portal');
    await row.getByRole('button', { name: 'Skip' }).click();
    await expect(page.locator('.notice').textContent()).resolves.toContain(`Skipped ${poison} at portal`);
    await expect(atPortal().count()).resolves.toBe(0);
    await page.goto(`${hub.url}/console/parked/history?target=portal&dossier=${encodeURIComponent(poison)}`);
    const actions = await page.locator('tbody tr td:nth-child(2)').allTextContents();
    expect(actions).toEqual(['parked', 'skipped']);
    await expect(page.locator('tbody').textContent()).resolves.toContain('code refused by the portal');
    await screen('parking-history');
    const { parked } = await getJson<{ parked: { dossier: string }[] }>(
      `${hub.url}/v1/admin/parked?target=portal`,
      hub.adminToken,
    );
    expect(parked.map((p) => p.dossier)).not.toContain(poison);

    await page.goto(`${hub.url}/console/webhooks`);
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const secret = await page.locator('code.secret').textContent();
    expect(secret).toMatch(/^whsec_/);
    await screen('webhooks');
    await page.getByRole('button', { name: 'Disable' }).click();
    await expect(page.locator('.notice').textContent()).resolves.toContain(`Webhook ${webhookId}: disabled.`);
    const disabled = await getJson<{ webhook: { state: string } }>(
      `${hub.url}/v1/webhooks/${webhookId}`,
      hub.adminToken,
    );
    expect(disabled.webhook.state).toBe('disabled');
    await page.getByRole('button', { name: 'Enable' }).click();
    await expect(page.locator('.notice').textContent()).resolves.toContain(`Webhook ${webhookId}: active.`);
    await page.getByRole('link', { name: 'Attempts' }).click();
    await page.waitForURL(/\/attempts$/);
    expect(await page.locator('tbody tr').count()).toBeGreaterThan(0);
    await screen('webhook-attempts');
    // The audit log shows the console's actions.
    await page.goto(`${hub.url}/console/audit?after=0`);
    const { entries } = await getJson<{ entries: { actor: string; subject: string }[] }>(
      `${hub.url}/v1/admin/audit?limit=1000`,
      hub.adminToken,
    );
    for (const subject of [
      '/console/parked/skip',
      '/console/webhooks/:id/rotate',
      '/console/webhooks/:id/disable',
    ]) {
      expect(entries.some((e) => e.actor === 'console-e2e-operator' && e.subject === subject)).toBe(true);
    }
    expect(Object.fromEntries(Object.entries(violations).filter(([, v]) => v.length > 0))).toEqual({});
    await context.close();
  }, 120_000);

  describe('security', () => {
    /** A fresh login form: its CSRF cookie and hidden field. */
    const loginForm = async () => {
      const res = await fetch(`${hub.url}/console/login`);
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('lgsp_console_login='));
      const field = /name="_csrf" value="([^"]+)"/.exec(await res.text())?.[1];
      if (!cookie || !field) throw new Error('no login CSRF token');
      return { cookie: cookie.split(';')[0]!, csrf: field };
    };
    const form = (body: Record<string, string>) => new URLSearchParams(body).toString();
    const postForm = (path: string, cookie: string, body: Record<string, string>) =>
      fetch(`${hub.url}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: form(body),
      });
    const login = async (token: string) => {
      const { cookie, csrf } = await loginForm();
      return postForm('/console/login', cookie, { _csrf: csrf, token });
    };
    /** A signed-in operator's session cookie and CSRF token. */
    const session = async () => {
      const res = await login(operatorToken);
      expect(res.status).toBe(303);
      const cookie = res.headers
        .getSetCookie()
        .find((c) => c.startsWith('lgsp_console='))!
        .split(';')[0]!;
      const page = await (await fetch(`${hub.url}/console/mismatches`, { headers: { cookie } })).text();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
      if (!csrf) throw new Error('no CSRF token in the page');
      return { cookie, csrf };
    };
    const runs = async () =>
      (await getJson<{ runs: unknown[] }>(`${hub.url}/v1/admin/reconciliations`, hub.adminToken)).runs.length;

    it('refuses commune and province tokens, and a wrong one, without a session', async () => {
      for (const [token, status] of [
        [communeToken, 403],
        [provinceToken, 403],
        ['not-a-token', 401],
      ] as const) {
        const res = await login(token);
        expect({ token: token.slice(0, 6), status: res.status }).toEqual({
          token: token.slice(0, 6),
          status,
        });
        expect(res.headers.getSetCookie().some((c) => c.startsWith('lgsp_console='))).toBe(false);
      }
      // An admin may sign in too.
      expect((await login(hub.adminToken)).status).toBe(303);
    });

    it('gives a session cookie that is HttpOnly, SameSite=Strict, for /console only', async () => {
      const res = await login(operatorToken);
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('lgsp_console='))!;
      expect(cookie).toMatch(/; HttpOnly/);
      expect(cookie).toMatch(/; SameSite=Strict/);
      expect(cookie).toMatch(/; Path=\/console(;|$)/);
      // A cookie of the browser session; the hub ends the session itself after 30 idle minutes.
      expect(cookie).not.toMatch(/; (Max-Age|Expires)=/);
      // Plain HTTP here: Secure is set only over TLS.
      expect(cookie).not.toMatch(/; Secure/);
    });

    it('changes nothing for a form posted without its CSRF token, or with another one', async () => {
      const { cookie, csrf } = await session();
      const before = await runs();
      const forged: Record<string, string>[] = [
        { target: 'portal' },
        { target: 'portal', _csrf: 'x'.repeat(csrf.length) },
      ];
      for (const body of forged) {
        const res = await postForm('/console/mismatches', cookie, body);
        expect(res.status).toBe(403);
      }
      const other = await session();
      expect(
        (await postForm('/console/mismatches', cookie, { target: 'portal', _csrf: other.csrf })).status,
      ).toBe(403);
      expect(await runs()).toBe(before);
      // Logging out needs it too: the session survives a forged log-out.
      expect((await postForm('/console/logout', cookie, {})).status).toBe(403);
      expect(
        (await fetch(`${hub.url}/console/clients`, { headers: { cookie }, redirect: 'manual' })).status,
      ).toBe(200);
      // The login form has its own.
      const { cookie: loginCookie } = await loginForm();
      expect((await postForm('/console/login', loginCookie, { token: operatorToken })).status).toBe(403);
      // With the token, the form acts, and the audit log records the console's action.
      const ok = await postForm('/console/mismatches', cookie, { target: 'portal', _csrf: csrf });
      expect(ok.status).toBe(303);
      expect(await runs()).toBe(before + 1);
      const { entries } = await getJson<{ entries: { actor: string; action: string; subject: string }[] }>(
        `${hub.url}/v1/admin/audit?subject=/console/mismatches&limit=1000`,
        hub.adminToken,
      );
      expect(
        entries.filter((e) => e.actor === 'console-e2e-operator' && e.action === 'http.post').length,
      ).toBeGreaterThan(0);
    });

    it('answers bad input with its status and changes nothing', async () => {
      const { cookie, csrf } = await session();
      const before = await runs();
      const bad = await postForm('/console/mismatches', cookie, { target: 'nowhere', _csrf: csrf });
      expect(bad.status).toBe(422);
      const page = await bad.text();
      expect(page).toContain('nowhere');
      // The service's detail and its pointer's message in the page language (Vietnamese by default).
      expect(page).toContain('không xác định');
      expect(page).toContain('phải là một trong');
      expect(page).not.toContain('unknown reconciliation target');
      expect((await postForm('/console/mismatches', cookie, { _csrf: csrf })).status).toBe(422);
      expect(await runs()).toBe(before);
      const missing = await fetch(`${hub.url}/console/mismatches/rc-missing`, { headers: { cookie } });
      expect(missing.status).toBe(404);
      const plan = await postForm('/console/replays/plan', cookie, {
        target: 'portal',
        run: 'rc-missing',
        _csrf: csrf,
      });
      expect(plan.status).toBe(404);
    });

    it('refuses a forged, a logged-out and a revoked session, and a bearer token', async () => {
      const forged = await fetch(`${hub.url}/console`, {
        headers: { cookie: 'lgsp_console=forged-session-id' },
        redirect: 'manual',
      });
      expect(forged.status).toBe(303);
      expect(forged.headers.get('location')).toBe('/console/login');
      const bearer = await fetch(`${hub.url}/console`, {
        headers: { authorization: `Bearer ${operatorToken}` },
        redirect: 'manual',
      });
      expect(bearer.status).toBe(303);
      // A form with a forged session: 401, nothing started.
      const before = await runs();
      expect(
        (await postForm('/console/mismatches', 'lgsp_console=forged', { target: 'portal', _csrf: 'x' }))
          .status,
      ).toBe(401);
      // A commune's or a province's bearer token is no way in either.
      for (const token of [communeToken, provinceToken]) {
        const res = await fetch(`${hub.url}/console/mismatches`, {
          method: 'POST',
          redirect: 'manual',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'target=portal',
        });
        expect(res.status).toBe(401);
      }
      expect(await runs()).toBe(before);

      const { cookie, csrf } = await session();
      expect((await postForm('/console/logout', cookie, { _csrf: csrf })).status).toBe(303);
      const after = await fetch(`${hub.url}/console`, { headers: { cookie }, redirect: 'manual' });
      expect(after.status).toBe(303);

      // The session's operator revoked: the session ends at once.
      const doomed = await createClient({ name: 'console-e2e-revoked', role: 'operator' });
      const res = await login(doomed);
      const doomedCookie = res.headers
        .getSetCookie()
        .find((c) => c.startsWith('lgsp_console='))!
        .split(';')[0]!;
      expect(
        (await fetch(`${hub.url}/console`, { headers: { cookie: doomedCookie }, redirect: 'manual' })).status,
      ).toBe(200);
      const revoked = await fetch(`${hub.url}/v1/admin/clients/console-e2e-revoked/revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${hub.adminToken}` },
      });
      expect(revoked.status).toBe(200);
      await eventually(async () => {
        const r = await fetch(`${hub.url}/console`, {
          headers: { cookie: doomedCookie },
          redirect: 'manual',
        });
        return r.status === 303 ? true : undefined;
      }, 15_000);
      // The console's cookie is no credential for the JSON API.
      const { cookie: live } = await session();
      expect((await fetch(`${hub.url}/v1/admin/clients`, { headers: { cookie: live } })).status).toBe(401);
    });

    it('sets a content security policy without inline scripts on every page', async () => {
      const { cookie } = await session();
      for (const path of [
        '/console/login',
        '/console',
        '/console/dossiers?code=x',
        '/console/mismatches',
        '/console/audit',
      ]) {
        const res = await fetch(`${hub.url}${path}`, { headers: { cookie }, redirect: 'manual' });
        const csp = res.headers.get('content-security-policy') ?? '';
        expect({ path, csp }).toEqual({ path, csp: expect.stringContaining("script-src 'self'") });
        expect(csp).toContain("default-src 'self'");
        expect(csp).toContain("frame-ancestors 'none'");
        expect(csp).not.toContain('unsafe-inline');
        const body = await res.text();
        expect(body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
        expect(body).not.toMatch(/\sstyle=/);
      }
    });
  });
});
