import { createServer, type AddressInfo } from 'node:net';
import { SignJWT, generateKeyPair } from 'jose';
import { DOMAIN_ERROR_CODES } from '#lgsp/contracts';
import { COMMUNE, dossierCode, statusChanged, submitted } from '../support/events.js';
import {
  createCommuneClient,
  eventually,
  runCli,
  startHubProcess,
  type HubProcess,
} from '../support/hub-process.js';
import { rawRequest, type RawRequest } from '../support/raw-http.js';

// Issue 19: `Accept-Language: vi` gives a Vietnamese title and detail for every error the API returns;
// English without it. Each case provokes its status twice, once per language, and compares.

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors: { pointer: string; message: string }[];
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Problem;
}

/** How to provoke one problem, given the extra request headers. */
type Provoke = (headers: Record<string, string>) => Promise<Answer>;

const TITLES: Record<number, [en: string, vi: string]> = {
  400: ['Malformed request', 'Yêu cầu không hợp lệ'],
  401: ['Authentication required', 'Cần xác thực'],
  403: ['Outside the client scope', 'Ngoài phạm vi của ứng dụng khách'],
  404: ['Not found', 'Không tìm thấy'],
  409: ['Expected version conflict', 'Xung đột phiên bản'],
  413: ['Request too large', 'Yêu cầu quá lớn'],
  415: ['Unsupported media type', 'Kiểu nội dung không được hỗ trợ'],
  417: ['Expectation Failed', 'Không đáp ứng được Expect'],
  422: ['Validation failed', 'Dữ liệu không hợp lệ'],
  429: ['Too many requests', 'Quá nhiều yêu cầu'],
  503: ['Service unavailable', 'Dịch vụ tạm thời không khả dụng'],
};

// Function words that show English left in a Vietnamese text.
const ENGLISH = /\b(the|must|is|are|not|and|with|cannot|does|has|only|this|of|be|an|no|send)\b/i;

async function fetchAnswer(url: string, init: RequestInit): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: Object.fromEntries(res.headers), body: JSON.parse(text) as Problem };
}

async function rawAnswer(url: string, request: RawRequest): Promise<Answer> {
  const res = await rawRequest(url, request);
  if (!res) throw new Error('no answer');
  return { status: res.status, headers: res.headers, body: JSON.parse(res.body) as Problem };
}

/** The problem types the cases below provoked. */
const provoked = new Set<string>();

/** Provokes the problem in English (no header) and in Vietnamese, and checks both. */
async function expectBothLanguages(
  status: number,
  provoke: Provoke,
  acceptLanguage = 'vi',
): Promise<Problem> {
  const [titleEn, titleVi] = TITLES[status]!;
  const en = await provoke({});
  expect([en.status, en.body.status, en.body.title]).toEqual([status, status, titleEn]);
  expect(en.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(en.headers['content-language']).toBe('en');
  expect(en.headers['vary']).toMatch(/accept-language/i);

  const vi = await provoke({ 'accept-language': acceptLanguage });
  expect([vi.status, vi.body.status, vi.body.title, vi.body.type]).toEqual([
    status,
    status,
    titleVi,
    en.body.type,
  ]);
  expect(vi.headers['content-language']).toBe('vi');
  expect(vi.headers['vary']).toMatch(/accept-language/i);
  expect(vi.body.detail).not.toBe(en.body.detail);
  expect(vi.body.detail).not.toMatch(ENGLISH);
  expect(vi.body.errors.map((e) => e.pointer)).toEqual(en.body.errors.map((e) => e.pointer));
  vi.body.errors.forEach((e, i) => expect(e.message).not.toBe(en.body.errors[i]!.message));
  provoked.add(vi.body.type);
  return vi.body;
}

const post =
  (url: string, token: string | undefined, body: unknown, contentType: string) =>
  (headers: Record<string, string>) =>
    fetchAnswer(`${url}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

describe('problems in Vietnamese (Accept-Language: vi) and English', () => {
  let hub: HubProcess;
  let token: string;
  let slow: string;

  beforeAll(async () => {
    hub = await startHubProcess({ env: {} });
    token = await createCommuneClient(hub, 'vi-c1', COMMUNE);
    const created = await runCli(
      [
        'clients',
        'create',
        '--name',
        'vi-slow',
        '--communes',
        COMMUNE,
        '--rate-limit',
        '0.01',
        '--burst',
        '1',
        '--json',
      ],
      { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken },
    );
    slow = (JSON.parse(created.stdout) as { token: string }).token;
    const base = await post(hub.url, token, submitted('VI-BASE-0001'), 'application/cloudevents+json')({});
    expect(base.status).toBe(201);
  });

  afterAll(async () => {
    await hub.stop();
  });

  const structured = 'application/cloudevents+json';

  it('400: malformed JSON, and a request Node refuses to parse', async () => {
    await expectBothLanguages(400, post(hub.url, token, '{"specversion": "1.0", "id": ', structured));
    await expectBothLanguages(400, (headers) =>
      rawAnswer(hub.url, {
        method: 'GET',
        target: '/v1/events',
        head:
          'GET /v1/events HTTP/1.1\r\n' +
          Object.entries(headers)
            .map(([n, v]) => `${n}: ${v}\r\n`)
            .join('') +
          'connection: close\r\n\r\n',
      }),
    );
  });

  it('401: no token, and a token that is not valid', async () => {
    await expectBothLanguages(401, post(hub.url, undefined, submitted(dossierCode()), structured));
    await expectBothLanguages(
      401,
      post(hub.url, 'lgsp_not-a-real-token', submitted(dossierCode()), structured),
    );
  });

  it('403: an event of another commune', async () => {
    const other = submitted(dossierCode());
    Object.assign(other.data as object, { communeCode: '21025' });
    const vi = await expectBothLanguages(403, post(hub.url, token, other, structured));
    expect(vi.detail).toBe('1 sự kiện nằm ngoài phạm vi của ứng dụng khách');
  });

  it('404: an unknown dossier, and a route the hub does not serve', async () => {
    const get = (path: string) => (headers: Record<string, string>) =>
      fetchAnswer(`${hub.url}${path}`, {
        headers: { authorization: `Bearer ${hub.adminToken}`, ...headers },
      });
    const vi = await expectBothLanguages(404, get('/v1/dossiers/VI-NOPE-0001'));
    expect(vi.detail).toBe('hồ sơ không xác định hoặc nằm ngoài phạm vi của bạn');
    await expectBothLanguages(404, get('/v1/nowhere'));
  });

  it('409: an expected-version conflict, keeping the versions it names', async () => {
    const vi = await expectBothLanguages(
      409,
      post(hub.url, token, statusChanged('VI-BASE-0001', 2, { expectedversion: 5 }), structured),
    );
    expect(vi.detail).toContain('dossier-VI-BASE-0001');
  });

  it('413: a body over the limit, and a batch of too many events', async () => {
    const big = submitted(dossierCode());
    Object.assign(big.data as object, { summary: 'x'.repeat(2_000_000) });
    await expectBothLanguages(413, post(hub.url, token, big, structured));
    const many = Array.from({ length: 1001 }, () => statusChanged('VI-BASE-0001', 2));
    await expectBothLanguages(413, post(hub.url, token, many, 'application/cloudevents-batch+json'));
  });

  it('415: a media type the hub does not take', async () => {
    await expectBothLanguages(415, post(hub.url, token, 'hello', 'text/plain'));
  });

  it('417: an expectation other than 100-continue', async () => {
    const event = JSON.stringify(statusChanged(dossierCode(), 2));
    await expectBothLanguages(417, (headers) =>
      rawAnswer(hub.url, {
        method: 'POST',
        target: '/v1/events',
        headers: [
          ['content-type', structured],
          ['authorization', `Bearer ${token}`],
          ['expect', 'x-continue'],
          ...Object.entries(headers),
        ],
        body: event,
      }),
    );
  });

  it('422: schema violations, each issue message in Vietnamese', async () => {
    const invalid = [submitted(dossierCode()), statusChanged(dossierCode(), 11)];
    Object.assign((invalid[0]!.data as { applicant: object }).applicant, { idNumber: '12345' });
    delete (invalid[1]!.data as Record<string, unknown>)['changedAt'];
    const vi = await expectBothLanguages(
      422,
      post(hub.url, token, invalid, 'application/cloudevents-batch+json'),
    );
    expect(vi.detail).toMatch(/^[0-9]+ lỗi vi phạm lược đồ$/);
    expect(vi.errors).toContainEqual({ pointer: '/1/data/changedAt', message: 'là bắt buộc' });
  });

  it('429: a client over its rate limit', async () => {
    const read = (headers: Record<string, string>) =>
      fetchAnswer(`${hub.url}/v1/events?limit=1`, {
        headers: { authorization: `Bearer ${slow}`, ...headers },
      });
    expect(
      (await fetch(`${hub.url}/v1/events?limit=1`, { headers: { authorization: `Bearer ${slow}` } })).status,
    ).toBe(200);
    await expectBothLanguages(429, read);
  });

  it('names the dossier status in Vietnamese and English in GET /v1/dossiers/{code}, beside the code', async () => {
    const changed = await post(hub.url, token, statusChanged('VI-BASE-0001', 4), structured)({});
    expect(changed.status).toBe(201);
    const view = await eventually(async () => {
      const res = await fetch(`${hub.url}/v1/dossiers/VI-BASE-0001`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await res.json()) as Record<string, unknown>;
      return body['status'] === 4 ? body : undefined;
    });
    expect(view).toMatchObject({
      status: 4,
      statusName: 'in processing',
      statusLabel: { vi: 'Đang xử lý', en: 'in processing' },
    });
  });

  it('chooses by q-values: vi-VN and a list that prefers Vietnamese, English when English weighs more', async () => {
    const provoke = post(hub.url, undefined, submitted(dossierCode()), structured);
    await expectBothLanguages(401, provoke, 'vi-VN');
    await expectBothLanguages(401, provoke, 'en;q=0.5, vi-VN;q=0.9, fr');
    const en = await provoke({ 'accept-language': 'vi;q=0.4, en;q=0.8' });
    expect([en.body.title, en.headers['content-language']]).toEqual(['Authentication required', 'en']);
  });
});

describe('problems in Vietnamese: 503 when the identity provider cannot be reached', () => {
  let hub: HubProcess;

  beforeAll(async () => {
    // A port that was free a moment ago: nothing answers there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    hub = await startHubProcess({
      env: {
        LGSP_JWT_ISSUER: 'https://sso.example/realms/lgsp',
        LGSP_JWT_AUDIENCE: 'lgsp-hub',
        LGSP_JWT_JWKS_URL: `http://127.0.0.1:${port}/certs`,
      },
    });
  });

  afterAll(async () => {
    await hub.stop();
  });

  it('503: the key set cannot be read', async () => {
    const key = await generateKeyPair('ES256');
    const now = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({ roles: [] })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'JWT' })
      .setIssuer('https://sso.example/realms/lgsp')
      .setAudience('lgsp-hub')
      .setSubject('u1')
      .setExpirationTime(now + 300)
      .sign(key.privateKey);
    const vi = await expectBothLanguages(503, (headers) =>
      fetchAnswer(`${hub.url}/v1/events?limit=1`, {
        headers: { authorization: `Bearer ${jwt}`, ...headers },
      }),
    );
    expect(vi.detail).toBe('không đọc được bộ khóa của nhà cung cấp định danh');
  });
});

describe('problems in Vietnamese: coverage', () => {
  it('provoked every domain error code the API maps to a status (a 500 is covered by the unit tests)', () => {
    const types = DOMAIN_ERROR_CODES.map((code) => `https://lgsp-hub.vn/problems/${code}`);
    expect(types.filter((t) => !provoked.has(t))).toEqual([]);
  });
});
