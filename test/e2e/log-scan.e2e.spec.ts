import { dossierCode, statusChanged, submitted } from '../support/events.js';
import { startHubProcess, type HubProcess } from '../support/hub-process.js';
import { rawRequest, type RawRequest, type RawResponse } from '../support/raw-http.js';

/**
 * Runs a hub process, sends a citizen's name, ID number and phone number and a client's token through
 * every error path the HTTP API has, and reads the whole log afterwards: none of them may appear, in
 * any spelling (NFC, NFD, JSON or percent escapes, grouped digits).
 */
const NAME = 'Trịnh Thị Ngọc Hoà';
const CITIZEN_ID = '079203004567';
const PHONE = '0912345678';
const PHONE_GROUPED = '091 234 5678';
const PHONE_INTERNATIONAL = '+84912345678';
const PERSONAL = `${NAME} ${CITIZEN_ID} ${PHONE}`;

const jsonEscaped = (text: string): string =>
  JSON.stringify(text).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

/** Every spelling of the personal data and the token that must not be in the log. */
function forbidden(token: string): string[] {
  const names = [NAME, NAME.normalize('NFD')];
  return [
    ...names,
    ...names.map(encodeURIComponent),
    ...names.map((n) => jsonEscaped(n).slice(1, -1)),
    ...names.map((n) => Buffer.from(n, 'utf8').toString('latin1')),
    'Trịnh',
    'Ngọc',
    CITIZEN_ID,
    PHONE,
    PHONE.slice(1),
    PHONE_GROUPED,
    PHONE_INTERNATIONAL,
    encodeURIComponent(PHONE_INTERNATIONAL),
    token,
    token.slice('lgsp_'.length),
    encodeURIComponent(token),
  ];
}

describe('the log of a hub that refused personal data on every error path', () => {
  let hub: HubProcess;
  let token: string;
  let otherToken: string;
  /** Refusals that reached the router, each of which writes one "request rejected" line. */
  let routed = 0;

  /** Sends a request the hub must refuse with `status`; `parser`: Node's HTTP parser refuses it. */
  const send = async (
    what: string,
    request: RawRequest,
    status: number,
    parser = false,
  ): Promise<RawResponse> => {
    const res = await rawRequest(hub.url, request);
    expect({ what, status: res?.status }).toEqual({ what, status });
    expect(res?.headers['content-type']).toMatch(/^application\/problem\+json/);
    if (!parser) routed++;
    return res as RawResponse;
  };
  const auth = (t: string): [string, string] => ['authorization', `Bearer ${t}`];
  const ingest = (body: unknown, contentType = 'application/cloudevents+json'): RawRequest => ({
    method: 'POST',
    target: '/v1/events',
    headers: [['content-type', contentType], auth(token)],
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const get = (target: string, t = token, extra: [string, string | Buffer][] = []): RawRequest => ({
    method: 'GET',
    target,
    headers: [auth(t), ...extra],
  });
  const admin = (target: string, body: string): RawRequest => ({
    method: 'POST',
    target,
    headers: [['content-type', 'application/json'], auth(hub.adminToken)],
    body,
  });

  beforeAll(async () => {
    hub = await startHubProcess();
    const create = async (name: string): Promise<string> => {
      const res = await fetch(`${hub.url}/v1/admin/clients`, {
        method: 'POST',
        headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, communes: ['21040'] }),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { token: string }).token;
    };
    token = await create('log-scan');
    otherToken = await create('log-scan-other');
  });

  afterAll(async () => {
    await hub.stop();
  });

  it('writes none of them, in any spelling, to the log', async () => {
    // An accepted event carrying them logs nothing of them either.
    const code = `A-${CITIZEN_ID}`;
    const accepted = submitted(code, { subject: PERSONAL });
    Object.assign(accepted.data as object, {
      applicant: { fullName: NAME, idNumber: CITIZEN_ID },
      summary: PERSONAL,
    });
    expect((await rawRequest(hub.url, ingest(accepted)))?.status).toBe(201);

    // Unknown type, unknown members (as value and as name), a 422 on the applicant, a 409.
    await send('unknown type', ingest(submitted(dossierCode(), { type: `vn.gov.${PERSONAL}` })), 422);
    const unknownMember = submitted(dossierCode(), { [NAME]: CITIZEN_ID });
    Object.assign(unknownMember.data as object, { [`${NAME} ${PHONE}`]: PERSONAL });
    await send('unknown member', ingest(unknownMember), 422);
    const badApplicant = submitted(dossierCode());
    Object.assign(badApplicant.data as object, {
      applicant: { fullName: NAME, idNumber: PHONE },
      summary: PERSONAL.repeat(200),
    });
    await send('422 on the applicant', ingest(badApplicant), 422);
    await send('409', ingest(statusChanged(code, 2, { expectedversion: 7, subject: PERSONAL })), 409);
    const batch = 'application/cloudevents-batch+json';
    await send(
      'batch with a bad event',
      ingest([accepted, { ...accepted, id: PERSONAL, source: `/communes/${NAME}` }], batch),
      422,
    );
    const outOfScope = submitted(dossierCode(), { subject: PERSONAL });
    Object.assign(outOfScope.data as object, { communeCode: '21025', summary: PERSONAL });
    await send('batch out of scope', ingest([outOfScope], batch), 403);

    // JSON the parser refuses, its pointer holding the name.
    const event = JSON.stringify(submitted(dossierCode()));
    const refusedJson: [what: string, firstMembers: string, status: number][] = [
      ['repeated member', `"${NAME}":1,"${NAME}":2,`, 400],
      ['lone surrogate', `"${NAME}\\ud800":"${PHONE}",`, 400],
      ['too deep', `"${NAME}":${'['.repeat(100)}${']'.repeat(100)},`, 413],
      ['too long', `"${NAME}":"${PERSONAL.repeat(3000)}",`, 413],
      ['unsafe integer', `"${NAME}":9${CITIZEN_ID}${CITIZEN_ID},`, 400],
    ];
    for (const [what, firstMembers, status] of refusedJson)
      await send(what, ingest(event.replace('"data":{', `"data":{${firstMembers}`)), status);
    await send(
      'not UTF-8',
      ingest(Buffer.concat([Buffer.from(`{"id":"${PERSONAL}`), Buffer.from([0xff]), Buffer.from('"}')])),
      400,
    );

    // Binary mode: attributes in headers, raw or percent-encoded, repeated.
    const binary = (headers: [string, string | Buffer][], body = '{}'): RawRequest => ({
      method: 'POST',
      target: '/v1/events',
      headers: [
        ['content-type', 'application/json'],
        auth(token),
        ['ce-specversion', '1.0'],
        ['ce-source', '/communes/21040/x'],
        ...headers,
      ],
      body,
    });
    await send(
      'binary, percent-encoded',
      binary([
        ['ce-id', encodeURIComponent(PERSONAL)],
        ['ce-type', encodeURIComponent(PERSONAL)],
        ['ce-subject', encodeURIComponent(PERSONAL)],
      ]),
      422,
    );
    await send(
      'binary, raw bytes',
      binary([
        ['ce-id', '1'],
        ['ce-type', 'x'],
        ['ce-subject', Buffer.from(PERSONAL, 'utf8')],
      ]),
      400,
    );
    await send(
      'binary, repeated',
      binary([
        ['ce-id', encodeURIComponent(NAME)],
        ['ce-id', CITIZEN_ID],
        ['ce-type', 'x'],
      ]),
      400,
    );
    await send(
      'binary, bad percent-encoding',
      binary([
        ['ce-id', `${CITIZEN_ID}%E1`],
        ['ce-type', 'x'],
      ]),
      400,
    );

    // Path parameters, query strings, headers, tokens.
    const personalPath = encodeURIComponent(PERSONAL);
    await send('stream path', get(`/v1/streams/dossier-${personalPath}`), 404);
    await send('dossier path', get(`/v1/dossiers/${personalPath}?from=${PHONE}`), 404);
    await send('unknown route', get(`/v1/${personalPath}/${PHONE}?token=${otherToken}`), 404);
    await send('malformed path', get(`/v1/streams/${personalPath}%ED%A0%80`), 400);
    await send(
      'query values',
      get(`/v1/events?type=${personalPath}&province=${PHONE}&after=${CITIZEN_ID}${CITIZEN_ID}`),
      400,
    );
    await send(
      'query names',
      get(`/v1/events?${personalPath}=1&after=x${PHONE}&access_token=${otherToken}`),
      400,
    );
    await send(
      'token in the query of a refused read',
      get(`/v1/streams/x?token=${otherToken}&limit=${PHONE}`),
      400,
    );
    await send(
      'last-event-id',
      get('/v1/events', token, [['last-event-id', Buffer.from(PERSONAL, 'utf8')]]),
      400,
    );
    await send('bad token', get(`/v1/events?access_token=${otherToken}`, PHONE), 401);
    await send(
      'repeated authorization',
      { ...get('/v1/events'), headers: [auth(otherToken), auth(`${CITIZEN_ID}`)] },
      400,
    );
    await send(
      'header bytes',
      {
        ...get('/v1/events'),
        headers: [auth(token), [`x-${CITIZEN_ID}`, Buffer.from(`${PHONE}\u0000${NAME}`, 'utf8')]],
      },
      400,
      true,
    );
    await send('out-of-scope province', get(`/v1/events?province=79&type=${personalPath}`), 403);

    // Operator bodies.
    await send(
      'client body',
      admin(
        '/v1/admin/clients',
        JSON.stringify({ name: NAME, province: PHONE, communes: [CITIZEN_ID], [NAME]: PERSONAL }),
      ),
      422,
    );
    await send(
      'replay body',
      admin(
        '/v1/admin/replays/plan',
        JSON.stringify({ target: PERSONAL, scope: { dossiers: [CITIZEN_ID] } }),
      ),
      404,
    );
    await send(
      'reconciliation body',
      admin('/v1/admin/reconciliations', JSON.stringify({ target: PERSONAL })),
      422,
    );
    await send(
      'parked path',
      admin(`/v1/admin/parked/${personalPath}/${PHONE}/retry`, JSON.stringify({ note: PERSONAL })),
      404,
    );
    await send('admin body, bad JSON', admin('/v1/admin/clients', `{"name":"${PERSONAL}",`), 400);
    await send(
      'payment callback',
      {
        ...admin('/v1/callbacks/payments', JSON.stringify({ MaThamChieu: PERSONAL, HoTen: NAME })),
        headers: [['content-type', 'application/json']],
      },
      404,
    );

    const exitCode = await hub.stop();
    expect(exitCode).toBe(0);
    const log = hub.output();
    const lines = log.split('\n').filter((l) => l.startsWith('{'));
    // Every routed refusal was logged, so the scan below covers each path.
    expect(lines.filter((l) => l.includes('"msg":"request rejected"')).length).toBe(routed);
    for (const text of forbidden(otherToken)) {
      expect({ text, found: log.includes(text) }).toEqual({ text, found: false });
    }
  });
});
