import { COMMUNE, dossierCode, getJson, post, statusChanged, submitted } from '../support/events.js';
import { runCli, startHubProcess, type HubProcess, createCommuneClient } from '../support/hub-process.js';
import { rawRequest, type RawRequest } from '../support/raw-http.js';

type ProblemBody = {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors: { pointer: string; message: string }[];
};

describe('bad input gets a problem document and changes nothing', () => {
  let hub: HubProcess;
  let token: string;
  let provinceToken: string;

  const head = async (): Promise<number> =>
    (await getJson(`${hub.url}/v1/events?limit=1`, hub.adminToken)).body.head as number;

  const expectProblem = (
    res: { status: number; contentType: string | null; body: unknown },
    status: number,
  ): ProblemBody => {
    expect(res.status).toBe(status);
    expect(res.contentType).toMatch(/^application\/problem\+json/);
    const body = res.body as ProblemBody;
    expect(body.status).toBe(status);
    expect(typeof body.title).toBe('string');
    expect(typeof body.detail).toBe('string');
    expect(Array.isArray(body.errors)).toBe(true);
    return body;
  };

  beforeAll(async () => {
    hub = await startHubProcess({ env: {} });
    const env = { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken };
    token = await createCommuneClient(hub, 'c1', COMMUNE);
    provinceToken = (
      JSON.parse(
        (await runCli(['clients', 'create', '--name', 'p79', '--province', '79', '--json'], env)).stdout,
      ) as { token: string }
    ).token;
    // One accepted event, so the store is not empty and the 409 case has a stream.
    expect((await post(hub.url, token, submitted('BASE-0001'))).status).toBe(201);
  });

  afterAll(async () => {
    await hub.stop();
  });

  it('returns each status with a problem body, and the global position does not move', async () => {
    const before = await head();

    expectProblem(
      await post(hub.url, token, '{"specversion": "1.0", "id": ', 'application/cloudevents+json'),
      400,
    );
    expectProblem(await post(hub.url, undefined, submitted(dossierCode())), 401);
    expectProblem(await post(hub.url, 'lgsp_not-a-real-token', submitted(dossierCode())), 401);

    const otherCommune = submitted(dossierCode());
    Object.assign(otherCommune.data as object, { communeCode: '21025' });
    const forbidden = expectProblem(await post(hub.url, token, otherCommune), 403);
    expect(forbidden.errors[0]!.pointer).toBe('/data/communeCode');
    expectProblem(await post(hub.url, provinceToken, submitted(dossierCode())), 403);
    // A batch with one event out of scope is refused whole.
    const mixed = [submitted(dossierCode()), otherCommune];
    const mixedProblem = expectProblem(
      await post(hub.url, token, mixed, 'application/cloudevents-batch+json'),
      403,
    );
    expect(mixedProblem.errors.map((e) => e.pointer)).toEqual(['/1/data/communeCode']);

    const conflict = expectProblem(
      await post(hub.url, token, statusChanged('BASE-0001', 2, { expectedversion: 5 })),
      409,
    );
    expect(conflict.detail).toContain('version 1');

    const big = submitted(dossierCode());
    Object.assign(big.data as object, { summary: 'x'.repeat(2_000_000) });
    expectProblem(await post(hub.url, token, big), 413);
    const tooMany = Array.from({ length: 1001 }, () => statusChanged('BASE-0001', 2));
    expectProblem(await post(hub.url, token, tooMany, 'application/cloudevents-batch+json'), 413);

    expectProblem(await post(hub.url, token, 'hello', 'text/plain'), 415);
    // application/json without ce-* headers is neither structured nor binary mode.
    expectProblem(await post(hub.url, token, submitted(dossierCode()), 'application/json'), 415);

    const invalid = [
      submitted(dossierCode()),
      statusChanged(dossierCode(), 11),
      submitted(dossierCode(), { time: '2025-11-23T09:15:00' }),
    ];
    Object.assign((invalid[0]!.data as { applicant: object }).applicant, { idNumber: '12345' });
    const schema = expectProblem(
      await post(hub.url, token, invalid, 'application/cloudevents-batch+json'),
      422,
    );
    const pointers = schema.errors.map((e) => e.pointer);
    expect(pointers).toContain('/0/data/applicant/idNumber');
    expect(pointers).toContain('/1/data/status');
    expect(pointers).toContain('/2/time');

    expect(await head()).toBe(before);
  });

  it('answers hostile JSON, headers and broken HTTP with 4xx problems, and appends none of it', async () => {
    const before = await head();
    const raw = async (request: RawRequest, status: number): Promise<ProblemBody> => {
      const res = await rawRequest(hub.url, request);
      return expectProblem(
        {
          status: res?.status ?? 0,
          contentType: res?.headers['content-type'] ?? null,
          body: JSON.parse(res?.body ?? '{}'),
        },
        status,
      );
    };
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const event = JSON.stringify(statusChanged(dossierCode(), 2));
    const withMember = (member: string): string => event.replace('"data":{', `${member},"data":{`);
    const structured = (body: string): RawRequest => ({
      method: 'POST',
      target: '/v1/events',
      headers: [
        ['content-type', 'application/cloudevents+json'],
        ['authorization', `Bearer ${token}`],
      ],
      body,
    });

    // 5,000 levels in data, in an extension attribute and in an operator body answered 500.
    expect(
      (await raw(structured(event.replace('"status":2', `"status":${deep}`)), 413)).errors[0]!.pointer,
    ).toMatch(/^\/data\/status\/0\/0/);
    expect((await raw(structured(withMember(`"myext":${deep}`)), 413)).errors[0]!.pointer).toMatch(
      /^\/myext\/0/,
    );
    const adminBody: RawRequest = {
      method: 'POST',
      target: '/v1/admin/clients',
      headers: [
        ['content-type', 'application/json'],
        ['authorization', `Bearer ${hub.adminToken}`],
      ],
      body: `{"name":${deep}}`,
    };
    expect((await raw(adminBody, 413)).errors[0]!.pointer).toMatch(/^\/name\/0/);
    // A 700 KB id was stored; a lone surrogate made distinct ids duplicates of each other; 1e400 was stored as null.
    expect(
      (await raw(structured(event.replace(/"id":"[^"]+"/, `"id":"${'x'.repeat(2000)}"`)), 422)).errors,
    ).toEqual([{ pointer: '/id', message: 'must be at most 1024 characters' }]);
    expect((await raw(structured(event.replace(/"id":"[^"]+"/, '"id":"a\\ud800"')), 400)).errors).toEqual([
      { pointer: '/id', message: 'holds a lone UTF-16 surrogate' },
    ]);
    expect((await raw(structured(withMember('"\\udc00":1')), 400)).errors[0]!.pointer).toBe('/\udc00');
    expect(
      (await raw(structured(event.replace('"status":2', '"status":1e400')), 400)).errors[0]!.pointer,
    ).toBe('/data/status');
    // A repeated ce-id was stored as "first, second"; a repeated Authorization kept the first.
    const binary: RawRequest = {
      method: 'POST',
      target: '/v1/events',
      headers: [
        ['content-type', 'application/json'],
        ['authorization', `Bearer ${token}`],
        ['ce-specversion', '1.0'],
        ['ce-id', 'first'],
        ['ce-id', 'second'],
        ['ce-source', '/communes/21040/x'],
        ['ce-type', 'vn.gov.lgsp.dossier.status-changed.v1'],
      ],
      body: JSON.stringify(statusChanged(dossierCode(), 2).data),
    };
    expect((await raw(binary, 400)).errors).toEqual([{ pointer: '/id', message: 'is repeated' }]);
    const doubled = {
      ...structured(event),
      headers: [['authorization', `Bearer ${token}`] as const, ...structured(event).headers!],
    };
    expect((await raw(doubled, 400)).detail).toContain('authorization');
    // Refused by the HTTP layer before routing: answered as problems too.
    await raw({ ...structured(event), contentLength: event.length + 50 }, 400);
    await raw({ ...structured(event), headers: [...structured(event).headers!, ['x-a', 'a\u0000b']] }, 400);
    await raw(
      { method: 'GET', target: '/v1/streams/%ED%A0%80', headers: [['authorization', `Bearer ${token}`]] },
      400,
    );
    await raw(
      { method: 'GET', target: '/v1/no-such-route', headers: [['authorization', `Bearer ${token}`]] },
      404,
    );
    await raw(
      { method: 'GET', target: '/v1/events', head: 'GET /v1/events HTTP/1.1\r\nconnection: close\r\n\r\n' },
      400,
    );
    await raw(
      { ...structured(event), headers: [...structured(event).headers!, ['expect', 'x-continue']] },
      417,
    );

    expect(await head()).toBe(before);
  });

  it('answers an operator body that is JSON but not an object with 400, on every operator route', async () => {
    const routes = [
      '/v1/admin/clients',
      '/v1/admin/reconciliations',
      '/v1/admin/replays/plan',
      '/v1/admin/replays',
      '/v1/admin/replays/1/pause',
      '/v1/admin/replays/1/resume',
      '/v1/admin/replays/1/cancel',
      '/v1/admin/parked/portal/X/retry',
      '/v1/callbacks/payments',
    ];
    for (const route of routes) {
      for (const body of ['null', '[]', '1', '"x"', 'true']) {
        const res = await fetch(`${hub.url}${route}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
          body,
        });
        expectProblem(
          { status: res.status, contentType: res.headers.get('content-type'), body: await res.json() },
          400,
        );
      }
    }
  });
});
