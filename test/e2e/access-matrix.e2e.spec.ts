import { randomUUID } from 'node:crypto';
import { dossierCode, statusChanged, submitted } from '../support/events.js';
import { eventually, startHubProcess, type HubProcess } from '../support/hub-process.js';

/**
 * Every route tried by every role, and the cross-scope cases a hostile client tried: writes into
 * another province's dossier, claiming another commune's (source, id), answers that tell what lies
 * outside the caller's scope.
 */
type Who = 'admin' | 'operator' | 'p51' | 'c51' | 'p79' | 'c79' | 'none' | 'bad';
const EVERYONE: Who[] = ['admin', 'operator', 'p51', 'c51', 'p79', 'c79', 'none', 'bad'];

interface Answer {
  status: number;
  contentType: string | null;
  body: Record<string, unknown>;
}

const C51 = { provinceCode: '51', communeCode: '21040' };
const C79 = { provinceCode: '79', communeCode: '25747' };

function at(event: Record<string, unknown>, commune: typeof C51): Record<string, unknown> {
  return {
    ...event,
    source: `/communes/${commune.communeCode}/one-stop-shop`,
    data: { ...(event.data as object), ...commune },
  };
}

/**
 * The statuses of a route by role: the admin and the operator, the province and commune clients of
 * 51 (where the dossier is) and of 79, and the callers without a valid token (401 unless given).
 */
const byScope = (operators: number, in51: number, in79: number, anonymous = 401): Record<Who, number> => ({
  admin: operators,
  operator: operators,
  p51: in51,
  c51: in51,
  p79: in79,
  c79: in79,
  none: anonymous,
  bad: anonymous,
});

/** A route for operators only: what the admin and the operator get (the same unless given), 403 for the rest. */
const operatorsOnly = (admin: number, operator = admin): Record<Who, number> => ({
  ...byScope(admin, 403, 403),
  operator,
});

describe('access: every route by every role, and nothing across scopes', () => {
  let hub: HubProcess;
  const tokens = new Map<Who, string | undefined>();
  /** A dossier of Bình Sơn (51), with the birth registration's child in it. */
  const code51 = dossierCode();

  const call = async (who: Who, method: string, path: string, body?: unknown, contentType?: string) => {
    const token = tokens.get(who);
    const res = await fetch(`${hub.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': contentType ?? 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = { text };
    }
    return { status: res.status, contentType: res.headers.get('content-type'), body: parsed } as Answer;
  };
  const ingest = (who: Who, event: unknown) =>
    call(who, 'POST', '/v1/events', event, 'application/cloudevents+json');
  const head = async () => (await call('admin', 'GET', '/v1/events?limit=1')).body.head as number;

  beforeAll(async () => {
    hub = await startHubProcess();
    tokens.set('admin', hub.adminToken);
    tokens.set('none', undefined);
    tokens.set('bad', `lgsp_${randomUUID()}`);
    const create = async (who: Who, body: Record<string, unknown>) => {
      const res = await call('admin', 'POST', '/v1/admin/clients', {
        name: `${who}-${randomUUID().slice(0, 6)}`,
        ...body,
      });
      expect(res.status).toBe(201);
      tokens.set(who, res.body.token as string);
    };
    await create('operator', { role: 'operator' });
    await create('p51', { province: '51' });
    await create('p79', { province: '79' });
    await create('c51', { communes: ['21040'] });
    await create('c79', { communes: ['25747'] });
    const first = await ingest('c51', at(submitted(code51), C51));
    expect([first.status, first.body]).toEqual([201, expect.anything()]);
    await eventually(async () =>
      (await call('admin', 'GET', `/v1/dossiers/${code51}`)).status === 200 ? true : undefined,
    );
  });

  afterAll(async () => {
    await hub.stop();
  });

  const matrix: [string, string, unknown, Partial<Record<Who, number>>][] = [
    ['GET', `/v1/streams/dossier-{code51}`, undefined, byScope(200, 200, 404)],
    ['GET', `/v1/dossiers/{code51}`, undefined, byScope(200, 200, 404)],
    ['GET', '/v1/events?limit=5', undefined, byScope(200, 200, 200)],
    ['GET', '/v1/events?province=51', undefined, byScope(200, 200, 403)],
    ['GET', '/v1/schemas', undefined, byScope(200, 200, 200)],
    ['GET', '/v1/schemas/vn.gov.lgsp.dossier.submitted.v2', undefined, byScope(200, 200, 200)],
    ['GET', '/v1/schemas/vn.gov.lgsp.nothing.v1', undefined, byScope(404, 404, 404)],
    ['GET', '/v1/admin/clients', undefined, operatorsOnly(200)],
    [
      'POST',
      '/v1/admin/clients',
      { name: 'x', communes: ['21040'] },
      { operator: 403, p51: 403, c51: 403, p79: 403, c79: 403, none: 401, bad: 401 },
    ],
    ['PATCH', '/v1/admin/clients/nobody', { rateLimit: null }, operatorsOnly(404, 403)],
    ['POST', '/v1/admin/clients/nobody/rotate-token', {}, operatorsOnly(404, 403)],
    ['POST', '/v1/admin/clients/nobody/revoke', {}, operatorsOnly(404, 403)],
    ['GET', '/v1/admin/subscriptions', undefined, operatorsOnly(200)],
    ['GET', '/v1/admin/parked', undefined, operatorsOnly(200)],
    ['POST', '/v1/admin/parked/portal/{code51}/retry', {}, operatorsOnly(404)],
    ['POST', '/v1/admin/parked/portal/{code51}/skip', {}, operatorsOnly(404)],
    ['GET', '/v1/admin/parked/portal/{code51}/history', undefined, operatorsOnly(404)],
    ['POST', '/v1/admin/reconciliations', { target: 'portal' }, operatorsOnly(404)],
    ['GET', '/v1/admin/reconciliations', undefined, operatorsOnly(200)],
    ['GET', '/v1/admin/reconciliations/nope', undefined, operatorsOnly(404)],
    ['POST', '/v1/admin/replays/plan', { target: 'portal' }, operatorsOnly(404)],
    ['POST', '/v1/admin/replays', { target: 'portal' }, operatorsOnly(404)],
    ['GET', '/v1/admin/replays', undefined, operatorsOnly(200)],
    ['GET', '/v1/admin/replays/nope', undefined, operatorsOnly(404)],
    ...(['pause', 'resume', 'cancel'] as const).map(
      (action): [string, string, unknown, Partial<Record<Who, number>>] => [
        'POST',
        `/v1/admin/replays/nope/${action}`,
        {},
        operatorsOnly(404),
      ],
    ),
    ['GET', '/v1/admin/audit', undefined, operatorsOnly(200)],
    ['GET', '/v1/admin/checkpoints', undefined, operatorsOnly(200)],
    ['GET', '/health/live', undefined, byScope(200, 200, 200, 200)],
    ['GET', '/health/ready', undefined, byScope(200, 200, 200, 200)],
    ['GET', '/metrics', undefined, byScope(200, 200, 200, 200)],
  ];

  it.each(matrix)('%s %s answers each role as it may', async (method, template, body, expected) => {
    const path = template.replace('{code51}', code51);
    for (const who of EVERYONE) {
      const want = expected[who];
      if (want === undefined) continue;
      const res = await call(who, method, path, body);
      expect([who, res.status]).toEqual([who, want]);
      if (res.status >= 400)
        expect([who, res.contentType]).toEqual([who, expect.stringMatching(/^application\/problem\+json/)]);
    }
  });

  it('checks the role before the body: a client without the role gets 403 whatever it sends, never a 422', async () => {
    const routes: [string, string][] = [
      ['POST', '/v1/admin/clients'],
      ['PATCH', '/v1/admin/clients/nobody'],
      ['POST', '/v1/admin/reconciliations'],
      ['POST', '/v1/admin/replays/plan'],
      ['POST', '/v1/admin/replays'],
      ['POST', '/v1/admin/replays/nope/pause'],
      ['POST', `/v1/admin/parked/portal/${code51}/retry`],
    ];
    for (const [method, path] of routes) {
      for (const who of ['p51', 'c51', 'p79', 'c79'] as const) {
        for (const body of [{ bogus: 1 }, { target: 7, scope: [] }, {}]) {
          expect([method, path, who, (await call(who, method, path, body)).status]).toEqual([
            method,
            path,
            who,
            403,
          ]);
        }
      }
      expect((await call('operator', method, path, { bogus: 1 })).status).toBe(
        path.startsWith('/v1/admin/clients') ? 403 : 422,
      );
    }
  });

  it('POST /v1/events: each role writes only inside its scope', async () => {
    const outcome = async (who: Who, commune: typeof C51) =>
      (await ingest(who, at(submitted(dossierCode()), commune))).status;
    expect(await outcome('admin', C79)).toBe(201);
    expect(await outcome('operator', C51)).toBe(403);
    expect(await outcome('p51', C51)).toBe(201);
    expect(await outcome('p51', C79)).toBe(403);
    expect(await outcome('c51', C51)).toBe(201);
    expect(await outcome('c51', C79)).toBe(403);
    expect(await outcome('p79', C79)).toBe(201);
    expect(await outcome('c79', C51)).toBe(403);
    expect(await outcome('none', C51)).toBe(401);
    expect(await outcome('bad', C51)).toBe(401);
  });

  it("refuses a status change and a second submission naming the writer's own commune in another province's dossier; the owner keeps its dossier", async () => {
    const before = await head();
    const viewBefore = (await call('c51', 'GET', `/v1/dossiers/${code51}`)).body;
    for (const who of ['c79', 'p79'] as const) {
      for (const event of [at(statusChanged(code51, 10), C79), at(submitted(code51), C79)]) {
        for (const expectedversion of [undefined, 0, 1, 2]) {
          const res = await ingest(
            who,
            expectedversion === undefined ? event : { ...event, id: randomUUID(), expectedversion },
          );
          expect([who, res.status]).toEqual([who, 403]);
          // Nothing about the dossier: not its commune, province, version or existence beyond the refusal.
          expect(JSON.stringify(res.body)).not.toMatch(/21040|version \d|"51"/);
        }
      }
      const read = await call(who, 'GET', `/v1/streams/dossier-${code51}`);
      expect(read.status).toBe(404);
      const missing = await call(who, 'GET', `/v1/streams/dossier-${dossierCode()}`);
      expect({ ...read.body, instance: undefined }).toEqual({ ...missing.body, instance: undefined });
      const events = (await call(who, 'GET', '/v1/events?limit=1000')).body.events as {
        event: { data: { dossierCode: string } };
      }[];
      expect(events.filter((e) => e.event.data.dossierCode === code51)).toEqual([]);
    }
    expect(await head()).toBe(before);
    expect((await call('c51', 'GET', `/v1/dossiers/${code51}`)).body).toEqual(viewBefore);
    const stream = (await call('c51', 'GET', `/v1/streams/dossier-${code51}`)).body;
    expect(stream.version).toBe(1);
  });

  it("refuses a (source, id) squatted under another commune's source, so the real event is stored when it comes", async () => {
    const code = dossierCode();
    const real = at(submitted(code), C51);
    const squat = { ...at(submitted(dossierCode()), C79), id: real.id, source: real.source };
    const refused = await ingest('c79', squat);
    expect(refused.status).toBe(403);
    expect((refused.body.errors as { pointer: string }[]).map((e) => e.pointer)).toEqual(['/source']);
    const stored = await ingest('c51', real);
    expect(stored.status).toBe(201);
    expect((stored.body.results as { duplicate: boolean }[])[0]!.duplicate).toBe(false);
  });

  it('answers a 409 with the version only to the dossier owner, and a duplicate of a transferred dossier without its place', async () => {
    const code = dossierCode();
    const first = at(submitted(code), C51);
    expect((await ingest('c51', first)).status).toBe(201);
    const conflict = await ingest('c51', { ...at(statusChanged(code, 2), C51), expectedversion: 5 });
    expect(conflict.status).toBe(409);
    expect(conflict.body.detail).toMatch(/at version 1, expected 5/);
    const transfer = at(
      {
        specversion: '1.0',
        id: randomUUID(),
        type: 'vn.gov.lgsp.dossier.transferred.v1',
        data: {
          dossierCode: code,
          fromAgencyCode: '000.00.51.H56',
          toAgencyCode: '000.00.79.H29',
          transferredAt: '2025-11-24T09:00:00+07:00',
          toProvinceCode: '79',
          toCommuneCode: '25747',
        },
      },
      C51,
    );
    expect((await ingest('c51', transfer)).status).toBe(201);
    const again = await ingest('c51', first);
    expect(again.status).toBe(200);
    expect(again.body.results).toEqual([{ id: first.id, source: first.source, duplicate: true }]);
    expect((await ingest('c51', at(statusChanged(code, 4), C51))).status).toBe(403);
    expect((await ingest('c79', at(statusChanged(code, 4), C79))).status).toBe(201);
    expect((await call('c79', 'GET', `/v1/streams/dossier-${code}`)).status).toBe(200);
    expect((await call('c51', 'GET', `/v1/streams/dossier-${code}`)).status).toBe(404);
    await eventually(async () =>
      (await call('c79', 'GET', `/v1/dossiers/${code}`)).status === 200 ? true : undefined,
    );
    expect((await call('c51', 'GET', `/v1/dossiers/${code}`)).status).toBe(404);
  });
});
