import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, type GenerateKeyPairResult } from 'jose';
import { dossierCode, post, submitted } from '../support/events.js';
import {
  createCommuneClient,
  runCli,
  startHubProcess,
  tempDir,
  type HubProcess,
} from '../support/hub-process.js';

interface Answer {
  status: number;
  contentType: string | null;
  body: Record<string, unknown>;
}

const call = async (hub: HubProcess, token: string, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${hub.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  } as Answer;
};

/** Starts a hub with `auth` in its configuration file. */
const hubWith = (auth: Record<string, unknown>): Promise<HubProcess> => {
  const dir = tempDir('lgsp-creds-');
  const config = join(dir, 'hub.json');
  writeFileSync(config, JSON.stringify({ auth }));
  return startHubProcess({ dataDir: join(dir, 'data'), env: { LGSP_CONFIG: config } });
};

const cli = (hub: HubProcess, args: string[]) =>
  runCli([...args, '--json'], { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An event of Xã Bình Sơn (51), or of a commune of Hồ Chí Minh City (79). */
const C79 = { provinceCode: '79', communeCode: '25747' };
const in79 = (event: Record<string, unknown>) => ({
  ...event,
  source: `/communes/${C79.communeCode}/one-stop-shop`,
  data: { ...(event.data as object), ...C79 },
});

describe('credentials: JWTs of the province identity provider, token rotation and revocation', () => {
  const ISSUER = 'https://sso.quangngai.example/realms/lgsp';
  const AUDIENCE = 'lgsp-hub';
  let idp: Server;
  let hub: HubProcess;
  let key: GenerateKeyPairResult;
  let stranger: GenerateKeyPairResult;
  /** Every JWT the tests sent, to look for in the hub's output. */
  const sent: string[] = [];

  interface Jwt {
    roles?: string[];
    claims?: Record<string, unknown>;
    iss?: string;
    aud?: string;
    /** Seconds from now. */
    exp?: number;
    signer?: GenerateKeyPairResult;
    kid?: string;
  }
  const jwt = async ({
    roles = [],
    claims = {},
    iss = ISSUER,
    aud = AUDIENCE,
    exp = 300,
    signer,
    kid,
  }: Jwt) => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ roles, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: kid ?? 'idp-1', typ: 'JWT' })
      .setIssuer(iss)
      .setAudience(aud)
      .setSubject(`user-${sent.length}`)
      .setIssuedAt(now - 5)
      .setExpirationTime(now + exp)
      .sign((signer ?? key).privateKey);
    sent.push(token);
    return token;
  };

  beforeAll(async () => {
    key = await generateKeyPair('ES256');
    stranger = await generateKeyPair('ES256');
    const jwks = JSON.stringify({
      keys: [{ ...(await exportJWK(key.publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' }],
    });
    idp = createServer((req, res) => {
      if (req.url === '/realms/lgsp/certs')
        res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
    hub = await hubWith({
      rotationOverlapSeconds: 2,
      jwt: {
        issuer: ISSUER,
        audience: AUDIENCE,
        jwksUrl: `http://127.0.0.1:${(idp.address() as AddressInfo).port}/realms/lgsp/certs`,
        algorithms: ['ES256'],
        roleMap: {
          'lgsp-operator': 'operator',
          'so-thong-tin-51': 'province',
          'so-thong-tin-79': 'province',
        },
        provinceClaim: 'province_code',
      },
    });
  });

  afterAll(async () => {
    await hub?.stop();
    idp?.closeAllConnections();
    await new Promise((r) => idp?.close(r));
  });

  it('accepts an operator JWT with the mapped role: it lists clients but may not create one', async () => {
    const operator = await jwt({ roles: ['offline_access', 'lgsp-operator'] });
    const listed = await call(hub, operator, 'GET', '/v1/admin/clients');
    expect(listed.status).toBe(200);
    expect(listed.body).toHaveProperty('clients');
    expect((await call(hub, operator, 'GET', '/v1/admin/subscriptions')).status).toBe(200);
    const create = await call(hub, operator, 'POST', '/v1/admin/clients', { name: 'x', province: '51' });
    expect(create.status).toBe(403);
    expect(create.body.detail).toMatch(/is operator$/);
  });

  it('accepts a province JWT: it reads and writes only its own province', async () => {
    const code51 = dossierCode();
    const code79 = dossierCode();
    expect((await post(hub.url, hub.adminToken, submitted(code51))).status).toBe(201);
    expect((await post(hub.url, hub.adminToken, in79(submitted(code79)))).status).toBe(201);

    const province51 = await jwt({ roles: ['so-thong-tin-51'], claims: { province_code: '51' } });
    const events = await call(hub, province51, 'GET', '/v1/events?limit=1000');
    expect(events.status).toBe(200);
    const seen = (
      events.body.events as { event: { data: { provinceCode: string; dossierCode: string } } }[]
    ).map((e) => e.event.data);
    expect(seen.map((d) => d.dossierCode)).toContain(code51);
    expect(seen.map((d) => d.dossierCode)).not.toContain(code79);
    expect(new Set(seen.map((d) => d.provinceCode))).toEqual(new Set(['51']));
    expect((await call(hub, province51, 'GET', '/v1/events?province=79')).status).toBe(403);
    expect((await call(hub, province51, 'GET', `/v1/dossiers/${code79}`)).status).toBe(404);
    expect((await call(hub, province51, 'GET', '/v1/admin/clients')).status).toBe(403);
    expect((await post(hub.url, province51, submitted(dossierCode()))).status).toBe(201);
    expect((await post(hub.url, province51, in79(submitted(dossierCode())))).status).toBe(403);

    const province79 = await jwt({ roles: ['so-thong-tin-79'], claims: { province_code: '79' } });
    const other = await call(hub, province79, 'GET', '/v1/events?limit=1000');
    const codes79 = (other.body.events as { event: { data: { dossierCode: string } } }[]).map(
      (e) => e.event.data.dossierCode,
    );
    expect(codes79).toContain(code79);
    expect(codes79).not.toContain(code51);
  });

  it('refuses with 401 an expired JWT, a wrong audience, a wrong issuer, an unknown key and a forged signature', async () => {
    const operator = { roles: ['lgsp-operator'] };
    const cases: [string, string, string][] = [
      ['expired', await jwt({ ...operator, exp: -60 }), 'the token has expired'],
      ['wrong audience', await jwt({ ...operator, aud: 'another-app' }), 'the token is not valid'],
      [
        'wrong issuer',
        await jwt({ ...operator, iss: 'https://sso.example/realms/other' }),
        'the token is not valid',
      ],
      ['unknown key', await jwt({ ...operator, signer: stranger, kid: 'idp-2' }), 'the token is not valid'],
      ['forged', await jwt({ ...operator, signer: stranger }), 'the token is not valid'],
    ];
    for (const [what, token, detail] of cases) {
      const answer = await call(hub, token, 'GET', '/v1/admin/clients');
      expect([what, answer.status, answer.contentType, answer.body.detail, answer.body.errors]).toEqual([
        what,
        401,
        expect.stringMatching(/^application\/problem\+json/),
        detail,
        [],
      ]);
    }
  });

  it('refuses with 403 a valid JWT whose roles map to nothing, or a province role without its province', async () => {
    const unmapped = await call(hub, await jwt({ roles: ['offline_access'] }), 'GET', '/v1/events');
    expect([unmapped.status, unmapped.body.detail]).toEqual([
      403,
      "the token's roles give no role in the hub",
    ]);
    const noProvince = await call(hub, await jwt({ roles: ['so-thong-tin-51'] }), 'GET', '/v1/events');
    expect(noProvince.status).toBe(403);
  });

  it('rotates a token: the new one works at once, the previous one until the overlap ends', async () => {
    const first = await createCommuneClient(hub, 'rotating', '21040');
    expect((await call(hub, first, 'GET', '/v1/events?limit=1')).status).toBe(200);
    const rotated = await cli(hub, ['clients', 'rotate-token', 'rotating']);
    expect(rotated.code).toBe(0);
    const {
      token: second,
      client,
      previousTokenExpiresAt,
    } = JSON.parse(rotated.stdout) as {
      token: string;
      client: { id: string; tokenIssuedAt: string };
      previousTokenExpiresAt: string;
    };
    expect(second).toMatch(/^lgsp_/);
    expect(Date.parse(previousTokenExpiresAt) - Date.parse(client.tokenIssuedAt)).toBe(2000);
    expect((await call(hub, second, 'GET', '/v1/events?limit=1')).status).toBe(200);
    expect((await call(hub, first, 'GET', '/v1/events?limit=1')).status).toBe(200);

    await sleep(Math.max(0, Date.parse(previousTokenExpiresAt) - Date.now()) + 100);
    const old = await call(hub, first, 'GET', '/v1/events?limit=1');
    expect([old.status, old.body.detail]).toEqual([401, 'the token has expired']);
    expect((await call(hub, second, 'GET', '/v1/events?limit=1')).status).toBe(200);

    const audit = await call(
      hub,
      hub.adminToken,
      'GET',
      `/v1/admin/audit?action=client.rotate-token&subject=client:${client.id}`,
    );
    expect(audit.body.entries).toEqual([
      expect.objectContaining({
        actor: 'bootstrap-admin',
        action: 'client.rotate-token',
        scope: { client: 'rotating' },
        outcome: { tokenIssuedAt: client.tokenIssuedAt, previousTokenExpiresAt },
      }),
    ]);
    expect(hub.output()).not.toContain(second);
  });

  it('revokes a client: every token of it refused at once with 401, and recorded', async () => {
    const first = await createCommuneClient(hub, 'revoked', '21040');
    const { token: second } = JSON.parse((await cli(hub, ['clients', 'rotate-token', 'revoked'])).stdout) as {
      token: string;
    };
    for (const token of [first, second])
      expect((await call(hub, token, 'GET', '/v1/events?limit=1')).status).toBe(200);

    const revoked = await cli(hub, ['clients', 'revoke', 'revoked', '--yes']);
    expect(revoked.code).toBe(0);
    const { client } = JSON.parse(revoked.stdout) as { client: { id: string; revokedAt: string } };
    expect(client.revokedAt).toEqual(expect.any(String));
    for (const token of [first, second]) {
      const answer = await call(hub, token, 'POST', '/v1/events', undefined);
      expect([answer.status, answer.body.detail]).toEqual([401, 'the token is not valid']);
      expect((await call(hub, token, 'GET', '/v1/events?limit=1')).status).toBe(401);
    }

    const again = await cli(hub, ['clients', 'rotate-token', 'revoked']);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('client revoked is revoked; create a new client');
    const listed = JSON.parse((await cli(hub, ['clients', 'list'])).stdout) as {
      name: string;
      revokedAt?: string;
    }[];
    expect(listed.find((c) => c.name === 'revoked')?.revokedAt).toBe(client.revokedAt);
    const audit = await call(
      hub,
      hub.adminToken,
      'GET',
      `/v1/admin/audit?action=client.revoke&subject=client:${client.id}`,
    );
    expect(audit.body.entries).toEqual([
      expect.objectContaining({
        actor: 'bootstrap-admin',
        subject: `client:${client.id}`,
        outcome: { revokedAt: client.revokedAt },
      }),
    ]);
  });

  it('writes nothing of any JWT or token it refused or accepted to its output', () => {
    const output = hub.output();
    expect(sent.length).toBeGreaterThan(8);
    for (const token of sent) {
      expect(output).not.toContain(token);
      expect(output).not.toContain(token.split('.')[2]);
    }
  });
});

describe('credentials: client tokens expire after auth.tokenTtlSeconds', () => {
  let hub: HubProcess;
  beforeAll(async () => {
    hub = await hubWith({ tokenTtlSeconds: 2, rotationOverlapSeconds: 60 });
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('refuses a token older than the TTL with 401 saying it expired; a rotated one counts from its rotation', async () => {
    const first = await createCommuneClient(hub, 'short-lived', '21040');
    const issued = Date.now();
    expect((await call(hub, first, 'GET', '/v1/events?limit=1')).status).toBe(200);
    await sleep(Math.max(0, issued + 2300 - Date.now()));
    const expired = await call(hub, first, 'GET', '/v1/events?limit=1');
    expect(expired).toEqual({
      status: 401,
      contentType: expect.stringMatching(/^application\/problem\+json/),
      body: {
        type: 'https://lgsp-hub.vn/problems/unauthenticated',
        title: 'Authentication required',
        status: 401,
        detail: 'the token has expired',
        errors: [],
        instance: '/v1/events',
      },
    });

    const rotated = await cli(hub, ['clients', 'rotate-token', 'short-lived']);
    const { token: second } = JSON.parse(rotated.stdout) as { token: string };
    expect((await call(hub, second, 'GET', '/v1/events?limit=1')).status).toBe(200);
    // The previous token is in its 60 s overlap, but older than the TTL.
    expect((await call(hub, first, 'GET', '/v1/events?limit=1')).status).toBe(401);
    // The bootstrap admin token does not expire.
    expect((await call(hub, hub.adminToken, 'GET', '/v1/admin/clients')).status).toBe(200);
  });
});
