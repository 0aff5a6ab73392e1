import { randomBytes } from 'node:crypto';
import { COMMUNE, dossierCode, submitted } from '../support/events.js';
import { runCli, startHubProcess, type HubProcess } from '../support/hub-process.js';

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function call(
  url: string,
  token: string | undefined,
  init: { method?: string; body?: unknown; contentType?: string } = {},
): Promise<Answer> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(init.body === undefined ? {} : { 'content-type': init.contentType ?? 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** Runs `n` calls of `fn`, `concurrency` at a time, and resolves with every answer. */
async function flood<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) out.push(await fn(next++));
    }),
  );
  return out;
}

const count = (answers: Answer[], status: number) => answers.filter((a) => a.status === status).length;

/** A 429 as the hub promises it: a problem, Retry-After in seconds, the draft's RateLimit fields. */
function expectRateLimited(a: Answer, policy: string, quota: number): void {
  expect(a.status).toBe(429);
  expect(a.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(a.body).toMatchObject({ type: 'https://lgsp-hub.vn/problems/rate-limited', status: 429 });
  expect(a.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
  expect(a.headers.get('ratelimit-policy')).toMatch(new RegExp(`^"${policy}";q=${quota};w=[1-9][0-9]*$`));
  expect(a.headers.get('ratelimit')).toMatch(new RegExp(`^"${policy}";r=0;t=[1-9][0-9]*$`));
  expect(Number(a.headers.get('retry-after'))).toBeGreaterThanOrEqual(
    Number(/t=([0-9]+)/.exec(a.headers.get('ratelimit') ?? '')?.[1]),
  );
}

describe('rate limits (default configuration)', () => {
  let hub: HubProcess;
  let env: Record<string, string>;
  const tokens: Record<string, string> = {};

  const create = async (name: string, ...args: string[]): Promise<string> => {
    const created = await runCli(['clients', 'create', '--name', name, ...args, '--json'], env);
    if (created.code !== 0) throw new Error(`lgsp clients create failed: ${created.stderr}`);
    return (JSON.parse(created.stdout) as { token: string }).token;
  };
  const head = async (): Promise<number> =>
    (await call(`${hub.url}/v1/events?limit=1`, hub.adminToken)).body.head as number;

  beforeAll(async () => {
    hub = await startHubProcess();
    env = { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken };
    tokens.reader = await create('reader', '--communes', COMMUNE, '--rate-limit', '20');
    tokens.writer = await create('writer', '--communes', COMMUNE, '--rate-limit', '20');
    tokens.quiet = await create('quiet', '--communes', COMMUNE);
    tokens.patched = await create('patched', '--communes', COMMUNE);
    tokens.commune = await create('commune', '--communes', COMMUNE);
    tokens.province = await create('province', '--province', '51');
    tokens.operator = await create('operator', '--role', 'operator');
  });

  afterAll(async () => {
    await hub.stop();
  });

  it('answers 429 to a client flooding reads and to one flooding writes, while another client is served', async () => {
    const before = await head();
    const started = Date.now();
    const [reads, writes, quiet] = await Promise.all([
      flood(300, 10, () => call(`${hub.url}/v1/events?limit=1`, tokens.reader)),
      flood(300, 10, () =>
        call(`${hub.url}/v1/events`, tokens.writer, {
          method: 'POST',
          body: submitted(dossierCode()),
          contentType: 'application/cloudevents+json',
        }),
      ),
      flood(60, 1, (i) =>
        i % 2 === 0
          ? call(`${hub.url}/v1/events?limit=1`, tokens.quiet)
          : call(`${hub.url}/v1/events`, tokens.quiet, {
              method: 'POST',
              body: submitted(dossierCode()),
              contentType: 'application/cloudevents+json',
            }),
      ),
    ]);
    const seconds = (Date.now() - started) / 1000;

    // A bucket of 20 refilled at 20/s lets through at most 20 + 20 per second of the flood.
    for (const answers of [reads, writes]) {
      const served = answers.length - count(answers, 429);
      expect(served).toBeLessThanOrEqual(20 + Math.ceil(20 * seconds) + 1);
      expect(count(answers, 429)).toBeGreaterThan(0);
      for (const a of answers.filter((x) => x.status === 429)) expectRateLimited(a, 'client', 20);
    }
    expect(count(reads, 200)).toBe(reads.length - count(reads, 429));
    expect(count(writes, 201)).toBe(writes.length - count(writes, 429));
    // The quiet client was served every time, and told of its own (default) limit.
    expect(quiet.map((a) => a.status)).toEqual(quiet.map((_, i) => (i % 2 === 0 ? 200 : 201)));
    expect(quiet[0]?.headers.get('ratelimit-policy')).toBe('"client";q=2000;w=2');
    expect(quiet[0]?.headers.get('ratelimit')).toMatch(/^"client";r=[0-9]+;t=1$/);
    // Nothing refused was appended.
    expect(await head()).toBe(before + count(writes, 201) + 30);
  });

  it('holds a refusal half a second to a second before answering it, so a flooding connection sends at most two requests a second', async () => {
    const slow = await create('held', '--communes', COMMUNE, '--rate-limit', '1', '--burst', '1');
    expect((await call(`${hub.url}/v1/events?limit=1`, slow)).status).toBe(200);
    const started = performance.now();
    const refused = await call(`${hub.url}/v1/events?limit=1`, slow);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(performance.now() - started).toBeGreaterThanOrEqual(450);
  });

  it('applies a limit an admin sets with PATCH at once, and the default again when it is removed', async () => {
    const ok = await flood(30, 5, () => call(`${hub.url}/v1/events?limit=1`, tokens.patched));
    expect(ok.map((a) => a.status)).toEqual(ok.map(() => 200));

    const lowered = await runCli(
      ['clients', 'update', 'patched', '--rate-limit', '0.5', '--burst', '2'],
      env,
    );
    expect(lowered.code).toBe(0);
    expect(lowered.stdout).toContain('rate limit 0.5/s, burst 2');
    const after = [];
    for (let i = 0; i < 3; i++) after.push(await call(`${hub.url}/v1/events?limit=1`, tokens.patched));
    expect(after.map((a) => a.status)).toEqual([200, 200, 429]);
    expectRateLimited(after[2]!, 'client', 2);
    expect(after[2]!.headers.get('retry-after')).toBe('2');

    const reset = await call(`${hub.url}/v1/admin/clients/patched`, hub.adminToken, {
      method: 'PATCH',
      body: { rateLimit: null },
    });
    expect(reset.status).toBe(200);
    expect(reset.body).not.toHaveProperty('rateLimit');
    await new Promise((r) => setTimeout(r, 50));
    expect((await call(`${hub.url}/v1/events?limit=1`, tokens.patched)).status).toBe(200);

    const audit = await call(`${hub.url}/v1/admin/audit?action=client.`, hub.adminToken);
    expect(audit.body.entries).toEqual([
      expect.objectContaining({
        actor: 'bootstrap-admin',
        action: 'client.update',
        scope: { client: 'patched', rateLimit: { ratePerSecond: 0.5, burst: 2 } },
        outcome: { rateLimit: { ratePerSecond: 0.5, burst: 2 } },
      }),
      expect.objectContaining({ action: 'client.update', outcome: { rateLimit: null } }),
    ]);
  });

  it('lets only an admin set a rate limit, on creation or by PATCH, for a client that exists', async () => {
    const limit = { ratePerSecond: 5, burst: 10 };
    const patch = (token: string | undefined, ref = 'commune', body: unknown = { rateLimit: limit }) =>
      call(`${hub.url}/v1/admin/clients/${encodeURIComponent(ref)}`, token, { method: 'PATCH', body });
    const createWith = (token: string | undefined, name: string) =>
      call(`${hub.url}/v1/admin/clients`, token, {
        method: 'POST',
        body: { name, communes: [COMMUNE], rateLimit: limit },
      });
    const bad = `lgsp_${randomBytes(32).toString('base64url')}`;
    const roles: [string, string | undefined, number][] = [
      ['operator', tokens.operator, 403],
      ['province', tokens.province, 403],
      ['commune', tokens.commune, 403],
      ['no token', undefined, 401],
      ['bad token', bad, 401],
    ];
    for (const [who, token, status] of roles) {
      const patched = await patch(token);
      expect([who, patched.status]).toEqual([who, status]);
      expect(patched.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect([who, (await patch(token, 'nobody')).status]).toEqual([who, status]);
      expect([who, (await createWith(token, `by-${who}`)).status]).toEqual([who, status]);
    }

    const byAdmin = await patch(hub.adminToken);
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body).toMatchObject({ name: 'commune', role: 'commune', rateLimit: limit });
    expect(byAdmin.body).not.toHaveProperty('token');
    const byId = await patch(hub.adminToken, byAdmin.body.id as string, { rateLimit: null });
    expect(byId.status).toBe(200);
    expect(byId.body).not.toHaveProperty('rateLimit');
    expect((await patch(hub.adminToken, 'nobody')).status).toBe(404);

    const refused = await patch(hub.adminToken, 'commune', { rateLimit: { ratePerSecond: 0, burst: 0.5 } });
    expect(refused.status).toBe(422);
    expect((refused.body.errors as { pointer: string }[]).map((e) => e.pointer).sort()).toEqual([
      '/rateLimit/burst',
      '/rateLimit/ratePerSecond',
    ]);
    const extra = await patch(hub.adminToken, 'commune', { rateLimit: { ...limit, window: 60 } });
    expect(extra.status).toBe(422);
    expect(extra.body.errors).toEqual([
      { pointer: '/rateLimit/window', message: 'a rate limit has ratePerSecond and burst only' },
    ]);
    expect((await patch(hub.adminToken, 'commune', {})).status).toBe(422);
    expect((await patch(hub.adminToken, 'commune', { rateLimit: limit, role: 'admin' })).status).toBe(422);

    const created = await createWith(hub.adminToken, 'by-admin');
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'by-admin', rateLimit: limit });
    const listed = await call(`${hub.url}/v1/admin/clients`, tokens.operator);
    expect(
      (listed.body.clients as { name: string; rateLimit?: unknown }[]).find((c) => c.name === 'by-admin'),
    ).toMatchObject({ rateLimit: limit });
  });

  it('throttles token guessing from one address, leaving known clients and health probes alone', async () => {
    const started = Date.now();
    const guesses = await flood(600, 10, () =>
      call(`${hub.url}/v1/events?limit=1`, `lgsp_${randomBytes(32).toString('base64url')}`),
    );
    const seconds = (Date.now() - started) / 1000;
    const unauthenticated = count(guesses, 401);
    // The address's bucket: 200 at once, refilled at 100/s.
    expect(unauthenticated).toBeGreaterThanOrEqual(200);
    expect(unauthenticated).toBeLessThanOrEqual(200 + Math.ceil(100 * seconds) + 1);
    expect(count(guesses, 429)).toBe(600 - unauthenticated);
    expect(count(guesses, 429)).toBeGreaterThan(0);
    for (const a of guesses.filter((x) => x.status === 429)) expectRateLimited(a, 'address', 200);
    expect(guesses.find((a) => a.status === 401)?.headers.get('ratelimit-policy')).toBe(
      '"address";q=200;w=2',
    );
    // No token at all counts against the same bucket (refilled meanwhile: the refusals above were held).
    const noToken = await flood(400, 50, () => call(`${hub.url}/v1/events?limit=1`, undefined));
    expect(count(noToken, 429)).toBeGreaterThan(0);

    // Known tokens count against their own client, not the address; probes against nothing.
    expect((await call(`${hub.url}/v1/events?limit=1`, tokens.quiet)).status).toBe(200);
    expect((await call(`${hub.url}/v1/admin/subscriptions`, hub.adminToken)).status).toBe(200);
    for (const probe of ['/health/live', '/health/ready']) {
      const answers = await flood(50, 10, () => call(`${hub.url}${probe}`, undefined));
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
      expect(answers[0]?.headers.get('ratelimit')).toBeNull();
    }
    const metrics = await (await fetch(`${hub.url}/metrics`)).text();
    expect(metrics).toMatch(/^lgsp_http_rate_limited_total\{limit="address"\} [1-9][0-9]*$/m);
    expect(metrics).toMatch(/^lgsp_http_rate_limited_total\{limit="client"\} [1-9][0-9]*$/m);
  });
});
