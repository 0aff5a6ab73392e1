// Issue 16, erasure under Law 91/2025: a request with its deadlines, approved (the subject's keys
// destroyed, every read shows [erased], a person.erased notice in the dossier's stream, the chain still
// verifies) or refused citing its legal basis; an exempt procedure cannot be approved. Every role tried.
import { randomInt, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dossierCode, getJson, post, submitted } from '../support/events.js';
import { eventually, runCli, startHubProcess, tempDir, type HubProcess } from '../support/hub-process.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const EXEMPT = '2.000001';
const EXEMPT_BASIS = 'Luật Hộ tịch 60/2014/QH13, Điều 13: sổ hộ tịch được lưu trữ vĩnh viễn';
const DAY = 24 * 3600_000;

interface Erasure {
  id: string;
  state: string;
  subject: string;
  subjectRef: string;
  requestedBy: string;
  requestedAt: string;
  deadlines: { acknowledgeBy: string; completeBy: string; thirdParties: boolean };
  exemptions: { procedure: string; basis: string }[];
  overdue: { acknowledge: boolean; complete: boolean };
  refusal?: { basis: string; note?: string };
  outcome?: { keysDestroyed: number; dossiers: number; notices: number };
}

/** A citizen ID no other test uses, and a name to go with it. */
const person = () => ({
  idNumber: `0511${String(randomInt(0, 100_000_000)).padStart(8, '0')}`,
  fullName: `Phạm Thị ${randomUUID().slice(0, 6)}`,
});

describe('erasure of a data subject', () => {
  let hub: HubProcess;
  let receiver: WebhookReceiver;
  let webhookId: string;
  const tokens = new Map<string, string | undefined>();

  const call = async (who: string, method: string, path: string, body?: unknown) => {
    const token = tokens.get(who);
    const res = await fetch(`${hub.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };

  const cli = (args: string[], who = 'operator') =>
    runCli(args, { LGSP_URL: hub.url, LGSP_TOKEN: tokens.get(who) ?? '' });

  /** Submits a dossier whose applicant is `p` as the commune client; returns its code. */
  const dossierOf = async (p: { idNumber: string; fullName: string }, procedureCode = '1.001193') => {
    const code = dossierCode();
    const event = submitted(code);
    const data = event.data as Record<string, unknown>;
    data.applicant = { ...p, phone: '0912345678' };
    data.procedureCode = procedureCode;
    const r = await post(hub.url, tokens.get('commune'), event);
    expect(r.status).toBe(201);
    return code;
  };

  beforeAll(async () => {
    const dir = tempDir('lgsp-erasure-');
    const config = join(dir, 'hub.json');
    writeFileSync(
      config,
      JSON.stringify({ privacy: { erasure: { exemptProcedures: { [EXEMPT]: EXEMPT_BASIS } } } }),
    );
    hub = await startHubProcess({ env: { LGSP_CONFIG: config, LGSP_WEBHOOKS_ALLOW_INSECURE: 'true' } });
    tokens.set('admin', hub.adminToken);
    tokens.set('anonymous', undefined);
    for (const [who, body] of [
      ['operator', { role: 'operator' }],
      ['province', { province: '51' }],
      ['commune', { communes: ['21040'] }],
    ] as const) {
      const res = await call('admin', 'POST', '/v1/admin/clients', {
        name: `erasure-${who}-${randomUUID().slice(0, 6)}`,
        ...body,
      });
      expect(res.status).toBe(201);
      tokens.set(who, res.body.token as string);
    }
    // A subscriber holding copies: a webhook for every event.
    receiver = await WebhookReceiver.start();
    const created = await call('admin', 'POST', '/v1/webhooks', { url: receiver.url });
    expect(created.status).toBe(201);
    webhookId = (created.body.webhook as { id: string }).id;
  }, 60_000);

  afterAll(async () => {
    await hub?.stop();
    await receiver?.down();
  });

  it('lets admin and operator in; province and commune clients get 403, no token 401; refused attempts are audited', async () => {
    const routes: [string, string, unknown][] = [
      ['POST', '/v1/admin/erasures', { subjectId: '051190000999' }],
      ['GET', '/v1/admin/erasures', undefined],
      ['GET', '/v1/admin/erasures/er_nope', undefined],
      ['POST', '/v1/admin/erasures/er_nope/approve', {}],
      ['POST', '/v1/admin/erasures/er_nope/refuse', { basis: 'Luật 91/2025' }],
    ];
    const statuses: Record<string, number[]> = {};
    for (const who of ['admin', 'operator', 'province', 'commune', 'anonymous']) {
      statuses[who] = [];
      for (const [method, path, body] of routes)
        statuses[who].push((await call(who, method, path, body)).status);
    }
    expect(statuses).toEqual({
      admin: [201, 200, 404, 404, 404],
      operator: [201, 200, 404, 404, 404],
      province: [403, 403, 403, 403, 403],
      commune: [403, 403, 403, 403, 403],
      anonymous: [401, 401, 401, 401, 401],
    });
    const list = await call('operator', 'GET', '/v1/admin/erasures?limit=1');
    expect((list.body.erasures as Erasure[]).length).toBe(1);
    expect(list.body.next).toEqual(expect.any(String));
    // The refused attempts of admin and operator are audited as such; the 403s and 401s by the request audit.
    const audit = await call('admin', 'GET', '/v1/admin/audit?action=erasure.&limit=1000');
    const refused = (
      audit.body.entries as { action: string; outcome: { refused?: boolean; code?: string } }[]
    )
      .filter((e) => e.outcome.refused === true)
      .map((e) => `${e.action} ${e.outcome.code}`);
    expect(refused).toEqual([
      'erasure.approve not-found',
      'erasure.refuse not-found',
      'erasure.approve not-found',
      'erasure.refuse not-found',
    ]);
  });

  it('requests, approves: every read and a webhook redelivery show [erased], person.erased reaches the stream and the subscriber, verify passes, all audited', async () => {
    const p = person();
    const code = await dossierOf(p);
    const before = await getJson(`${hub.url}/v1/streams/dossier-${code}`, hub.adminToken);
    expect(JSON.stringify(before.body)).toContain(p.fullName);

    const requested = await cli(['erasure', 'request', p.idNumber, '--note', 'đơn ngày 4/12', '--json']);
    expect([requested.code, requested.stderr]).toEqual([0, '']);
    const erasure = (JSON.parse(requested.stdout) as { erasure: Erasure }).erasure;
    expect(erasure).toMatchObject({
      id: expect.stringMatching(/^er_/),
      state: 'requested',
      subject: `*********${p.idNumber.slice(-3)}`,
      subjectRef: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      requestedBy: expect.stringMatching(/^erasure-operator-/),
      exemptions: [],
      overdue: { acknowledge: false, complete: false },
    });
    const requestedAt = Date.parse(erasure.requestedAt);
    const ackBy = Date.parse(erasure.deadlines.acknowledgeBy);
    // Two working days: at least two days ahead, at most two plus a weekend (and the rest of today).
    expect(ackBy - requestedAt).toBeGreaterThan(2 * DAY - DAY);
    expect(ackBy - requestedAt).toBeLessThan(5 * DAY);
    // Webhooks run in this hub: third parties hold copies, 30 days.
    expect(erasure.deadlines.thirdParties).toBe(true);
    expect(Date.parse(erasure.deadlines.completeBy) - requestedAt).toBe(30 * DAY);
    expect(requested.stdout).not.toContain(p.idNumber);

    const human = await cli(['erasure', 'show', erasure.id]);
    expect(human.stdout).toMatch(/state: +requested\n/);
    expect(human.stdout).toContain(`answer by:    ${erasure.deadlines.acknowledgeBy}`);

    const approved = await call('admin', 'POST', `/v1/admin/erasures/${erasure.id}/approve`, {});
    expect(approved.status).toBe(200);
    expect(approved.body.erasure).toMatchObject({
      state: 'erased',
      decidedBy: 'bootstrap-admin',
      outcome: { keysDestroyed: 1, dossiers: 1, notices: 1 },
    });
    const again = await call('operator', 'POST', `/v1/admin/erasures/${erasure.id}/approve`, {});
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain('erased already');

    const view = await getJson(`${hub.url}/v1/dossiers/${code}`, hub.adminToken);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ applicant: { fullName: '[erased]' } });
    const stream = await getJson(`${hub.url}/v1/streams/dossier-${code}`, hub.adminToken);
    const events = (
      stream.body.events as { event: { type: string; id: string; data: Record<string, unknown> } }[]
    ).map((e) => e.event);
    expect(events[0]!.data.applicant).toEqual({
      fullName: '[erased]',
      idNumber: '[erased]',
      phone: '[erased]',
    });
    expect(events[1]).toMatchObject({
      type: 'vn.gov.lgsp.person.erased.v1',
      id: `erasure/${erasure.id}/${code}`,
      data: {
        dossierCode: code,
        provinceCode: '51',
        communeCode: '21040',
        subjectRef: erasure.subjectRef,
        roles: ['applicant'],
        reason: 'request',
        erasureId: erasure.id,
      },
    });
    const log = await getJson(`${hub.url}/v1/events?limit=1000`, hub.adminToken);
    for (const text of [JSON.stringify(view.body), JSON.stringify(stream.body), JSON.stringify(log.body)]) {
      expect(text).not.toContain(p.fullName);
      expect(text).not.toContain(p.idNumber);
    }

    // The subscriber got the notice, and a redelivery of the dossier's first event shows the fields erased.
    const notice = await eventually(async () =>
      receiver.received.find(
        (d) => d.event.type === 'vn.gov.lgsp.person.erased.v1' && d.event.data.dossierCode === code,
      ),
    );
    expect(notice.event.data).toMatchObject({ subjectRef: erasure.subjectRef, roles: ['applicant'] });
    const first = (stream.body.events as { position: number }[])[0]!.position;
    const redeliver = await call('operator', 'POST', `/v1/webhooks/${webhookId}/redeliver`, {
      fromPosition: first,
    });
    expect(redeliver.status).toBe(202);
    const redelivered = await eventually(async () => {
      const copies = receiver.received.filter((d) => d.event.id === events[0]!.id);
      return copies.length >= 2 ? copies.at(-1) : undefined;
    });
    expect(redelivered.event.data.applicant).toEqual({
      fullName: '[erased]',
      idNumber: '[erased]',
      phone: '[erased]',
    });
    expect(redelivered.body).not.toContain(p.fullName);
    expect(redelivered.body).not.toContain(p.idNumber);

    const verified = await runCli(['verify', '--data-dir', hub.dataDir, '--json'], {});
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true });

    const audit = await call('admin', 'GET', `/v1/admin/audit?subject=erasure:${erasure.id}&limit=100`);
    const entries = audit.body.entries as { action: string; actor: string; scope: Record<string, unknown> }[];
    expect(entries.map((e) => e.action)).toEqual(['erasure.request', 'erasure.approve', 'erasure.approve']);
    expect(entries[0]!.scope).toEqual({ subjectRef: erasure.subjectRef, subject: erasure.subject });
    const whole = await call('admin', 'GET', '/v1/admin/audit?limit=1000');
    expect(JSON.stringify(whole.body)).not.toContain(p.idNumber);
    expect(hub.output()).not.toContain(p.idNumber);
    expect(hub.output()).not.toContain(p.fullName);
  }, 60_000);

  it('records a refusal with its legal basis; a decided request cannot be refused again', async () => {
    const p = person();
    await dossierOf(p);
    const { body } = await call('operator', 'POST', '/v1/admin/erasures', { subjectId: p.idNumber });
    const { id } = body.erasure as Erasure;
    const noBasis = await call('operator', 'POST', `/v1/admin/erasures/${id}/refuse`, { basis: '' });
    expect(noBasis.status).toBe(422);
    expect(noBasis.body.errors).toEqual([{ pointer: '/basis', message: expect.any(String) }]);

    const refused = await cli([
      'erasure',
      'refuse',
      id,
      '--basis',
      'Luật 91/2025 Điều 14 khoản 2',
      '--note',
      'hồ sơ đang xử lý',
    ]);
    expect([refused.code, refused.stderr]).toEqual([0, '']);
    expect(refused.stdout).toMatch(/state: +refused: Luật 91\/2025 Điều 14 khoản 2\n/);
    const shown = await call('admin', 'GET', `/v1/admin/erasures/${id}`);
    expect(shown.body.erasure).toMatchObject({
      state: 'refused',
      refusal: { basis: 'Luật 91/2025 Điều 14 khoản 2', note: 'hồ sơ đang xử lý' },
    });
    expect((await call('admin', 'POST', `/v1/admin/erasures/${id}/refuse`, { basis: 'x' })).status).toBe(409);
    const audit = await call('admin', 'GET', `/v1/admin/audit?subject=erasure:${id}&limit=100`);
    expect(audit.body.entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'erasure.refuse',
          outcome: { state: 'refused', basis: 'Luật 91/2025 Điều 14 khoản 2' },
        }),
      ]),
    );
  });

  it('lists the exemption of a kept procedure and refuses approval citing its basis; the data stays', async () => {
    const p = person();
    const code = await dossierOf(p, EXEMPT);
    const { body } = await call('operator', 'POST', '/v1/admin/erasures', { subjectId: p.idNumber });
    const erasure = body.erasure as Erasure;
    expect(erasure.exemptions).toEqual([{ procedure: EXEMPT, basis: EXEMPT_BASIS }]);
    const approve = await call('operator', 'POST', `/v1/admin/erasures/${erasure.id}/approve`, {});
    expect(approve.status).toBe(409);
    expect(approve.body.detail).toContain(EXEMPT_BASIS);
    expect(approve.body.detail).toContain('refuse it citing that basis');
    const stream = await getJson(`${hub.url}/v1/streams/dossier-${code}`, hub.adminToken);
    expect(JSON.stringify(stream.body)).toContain(p.fullName);
    expect((await call('admin', 'GET', `/v1/admin/erasures/${erasure.id}`)).body.erasure).toMatchObject({
      state: 'requested',
    });
  });

  it('refuses a subject that is not a citizen ID or a surrogate (422, not repeated), and person.erased from a client', async () => {
    for (const subjectId of ['Nguyễn Văn An', '05119000123', 'dossier:X:cousin']) {
      const res = await call('operator', 'POST', '/v1/admin/erasures', { subjectId });
      expect(res.status).toBe(422);
      expect(res.body.errors).toEqual([{ pointer: '/subjectId', message: expect.any(String) }]);
      expect(JSON.stringify(res.body)).not.toContain(subjectId);
    }
    const surrogate = await call('operator', 'POST', '/v1/admin/erasures', {
      subjectId: 'dossier:000.00.51.H56-251123-0001:applicant',
    });
    expect(surrogate.status).toBe(201);

    const code = dossierCode();
    const notice = {
      specversion: '1.0',
      id: randomUUID(),
      source: '/communes/21040/one-stop-shop',
      type: 'vn.gov.lgsp.person.erased.v1',
      data: {
        dossierCode: code,
        provinceCode: '51',
        communeCode: '21040',
        subjectRef: 'q4Z1kS0yq1m2Vh3Zp0aX9nQfL7cR2tW8uE5yB6dN4oI',
        roles: ['applicant'],
        erasedAt: '2026-01-15T10:00:00+07:00',
        reason: 'request',
      },
    };
    for (const who of ['commune', 'admin']) {
      const r = await post(hub.url, tokens.get(who), notice);
      expect(r.status).toBe(422);
      expect(r.body.errors).toEqual([
        {
          pointer: '/type',
          message: 'vn.gov.lgsp.person.erased.v1 is emitted by the hub only: clients cannot send it',
        },
      ]);
    }
    expect(
      (await getJson(`${hub.url}/v1/streams/dossier-${code}`, hub.adminToken)).body.events ?? [],
    ).toEqual([]);
  });

  it('answers a clear problem when personal data is not sealed', async () => {
    const plain = await startHubProcess({ env: { LGSP_PRIVACY_ENABLED: 'false' } });
    try {
      const res = await fetch(`${plain.url}/v1/admin/erasures`, {
        method: 'POST',
        headers: { authorization: `Bearer ${plain.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ subjectId: '051190000123' }),
      });
      expect(res.status).toBe(409);
      expect(((await res.json()) as { detail: string }).detail).toBe(
        'personal data is not sealed (privacy.enabled is false): erasure is not possible',
      );
    } finally {
      await plain.stop();
    }
  }, 30_000);
});
