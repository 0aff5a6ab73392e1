// Issue 16, the audit log complete: every route of the operator API (everything under /v1/admin and
// /v1/webhooks, as the hub maps them at start-up) leaves an audit entry when called, answered or
// refused, with who, what, scope, when and outcome; and the log is hash-chained.
import { createCommuneClient, runCli, startHubProcess, type HubProcess } from '../support/hub-process.js';

interface Entry {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  scope: { path: string };
  outcome: { status: number; refused?: boolean };
  hash?: string;
}

/**
 * The operator routes the hub mapped, from its start-up log (NestJS's "Mapped" lines, logged at debug):
 * `[METHOD, /pattern/:param]`.
 */
function mappedOperatorRoutes(output: string): [string, string][] {
  const routes: [string, string][] = [];
  for (const m of output.matchAll(/Mapped \{([^,]+), ([A-Z]+)\} route/g)) {
    const [, path, method] = m;
    if (path!.startsWith('/v1/admin') || path!.startsWith('/v1/webhooks')) routes.push([method!, path!]);
  }
  return routes;
}

describe('the audit log of the operator API', () => {
  let hub: HubProcess;
  let commune: string;
  beforeAll(async () => {
    hub = await startHubProcess({ env: { LGSP_WEBHOOKS_ALLOW_INSECURE: 'true', LGSP_LOG_LEVEL: 'debug' } });
    commune = await createCommuneClient(hub, 'audit-walk-commune');
  });
  afterAll(async () => {
    await hub?.stop();
  });

  const call = async (method: string, path: string, token: string | undefined) => {
    const res = await fetch(`${hub.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(method === 'GET' || method === 'DELETE' ? {} : { 'content-type': 'application/json' }),
      },
      ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }),
    });
    await res.arrayBuffer();
    return res.status;
  };

  const entries = async (): Promise<Entry[]> => {
    const all: Entry[] = [];
    let after = 0;
    for (;;) {
      const res = await fetch(`${hub.url}/v1/admin/audit?limit=1000&after=${after}`, {
        headers: { authorization: `Bearer ${hub.adminToken}` },
      });
      const page = (await res.json()) as { entries: Entry[]; next?: number };
      all.push(...page.entries);
      if (page.next === undefined) return all;
      after = page.next;
    }
  };

  it('walks every operator route as an admin, a commune client and no one: each call leaves its entry', async () => {
    const routes = mappedOperatorRoutes(hub.output());
    // The hub maps the clients, subscriptions, parked, reconciliation, replay, audit, erasure and webhook
    // routes.
    expect(routes.length).toBeGreaterThanOrEqual(25);
    expect(routes).toEqual(
      expect.arrayContaining([
        ['POST', '/v1/webhooks'],
        ['GET', '/v1/admin/audit'],
        ['GET', '/v1/admin/privacy/affected'],
        ['POST', '/v1/admin/erasures'],
        ['GET', '/v1/admin/erasures'],
        ['GET', '/v1/admin/erasures/:id'],
        ['POST', '/v1/admin/erasures/:id/approve'],
        ['POST', '/v1/admin/erasures/:id/refuse'],
      ]),
    );

    const calls: { method: string; route: string; path: string; actor: string; status: number }[] = [];
    for (const [method, route] of routes) {
      const path = route.replace(/:[a-zA-Z]+/g, 'nope');
      for (const [actor, token] of [
        ['bootstrap-admin', hub.adminToken],
        ['audit-walk-commune', commune],
        ['anonymous', undefined],
      ] as const) {
        calls.push({ method, route, path, actor, status: await call(method, path, token) });
      }
    }
    // Refused attempts are recorded too: the commune client is refused everywhere, no token is 401.
    expect(calls.filter((c) => c.actor === 'audit-walk-commune').every((c) => c.status === 403)).toBe(true);
    expect(calls.filter((c) => c.actor === 'anonymous').every((c) => c.status === 401)).toBe(true);

    const log = (await entries()).filter((e) => e.action.startsWith('http.'));
    for (const c of calls) {
      const found = log.find(
        (e) =>
          e.action === `http.${c.method.toLowerCase()}` &&
          e.subject === c.route &&
          e.actor === c.actor &&
          e.scope.path === c.path &&
          e.outcome.status === c.status,
      );
      expect([c.method, c.route, c.actor, found === undefined ? 'missing' : 'recorded']).toEqual([
        c.method,
        c.route,
        c.actor,
        'recorded',
      ]);
      if (c.status >= 400) expect(found?.outcome.refused).toBe(true);
    }
    // Every entry is chained to the one before it, and the chain holds.
    expect(log.every((e) => /^[0-9a-f]{64}$/.test(e.hash ?? ''))).toBe(true);
    const verified = await runCli(['audit', 'verify', '--json'], {
      LGSP_URL: hub.url,
      LGSP_TOKEN: hub.adminToken,
    });
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toEqual({ ok: true, entries: expect.any(Number) });
    expect((JSON.parse(verified.stdout) as { entries: number }).entries).toBeGreaterThanOrEqual(calls.length);
  }, 120_000);
});
