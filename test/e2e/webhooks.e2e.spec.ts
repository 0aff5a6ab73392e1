import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { dossierCode, statusChanged, submitted } from '../support/events.js';
import { eventually, runCli, startHubProcess, tempDir, type HubProcess } from '../support/hub-process.js';
import {
  WebhookReceiver,
  signedHeaders,
  type ReceivedDelivery,
  type Responder,
} from '../support/webhook-receiver.js';

/**
 * Issue 15 acceptance with the hub as a process, driven over HTTP and the lgsp CLI the way a province
 * system and an operator would: signatures verified with the `standardwebhooks` library (rotation
 * included), parking and disabling on short schedules, every route by every role, target safety under
 * the default configuration, bad input, replay and redelivery to one webhook only, and logs without
 * secrets or personal data.
 */

const C51 = { provinceCode: '51', communeCode: '21040' };
const C79 = { provinceCode: '79', communeCode: '25747' };
const SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';

/** The event as the commune's one-stop shop of `commune` sends it. */
function at(event: Record<string, unknown>, commune: typeof C51): Record<string, unknown> {
  return {
    ...event,
    source: `/communes/${commune.communeCode}/one-stop-shop`,
    data: { ...(event.data as object), ...commune },
  };
}

interface Answer {
  status: number;
  contentType: string | null;
  text: string;
  body: Record<string, unknown>;
}

interface View {
  id: string;
  url: string;
  description?: string;
  filter: { types?: string[]; provinces?: string[]; communes?: string[] };
  ratePerSecond: number;
  state: 'active' | 'disabled';
  disabledReason?: string;
  province?: string;
  updatedAt: string;
  previousSecretExpiresAt?: string;
  checkpoint: number;
  pending: number;
  parked: number;
}

interface Attempt {
  position: number;
  messageId: string;
  attempt: number;
  status?: number;
  durationMs: number;
  response?: string;
  error?: string;
  outcome: string;
}

async function call(
  hub: HubProcess,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<Answer> {
  const res = await fetch(`${hub.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': contentType } : {}),
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
  return { status: res.status, contentType: res.headers.get('content-type'), text, body: parsed };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Verifies a delivery with the `standardwebhooks` library; the parsed body, or the thrown error. */
function verify(secret: string, d: ReceivedDelivery): unknown {
  return new Webhook(secret).verify(d.body, signedHeaders(d));
}

const verifies = (secret: string, d: ReceivedDelivery): boolean => {
  try {
    verify(secret, d);
    return true;
  } catch {
    return false;
  }
};

/** The stream versions of a dossier's acknowledged deliveries, in arrival order. */
const versionsOf = (r: WebhookReceiver, dossier: string): number[] =>
  r.acknowledged.filter((d) => d.event.data.dossierCode === dossier).map((d) => d.event.lgspstreamversion);

describe('webhooks, with the hub as a process', () => {
  let hub: HubProcess;
  const tokens: Record<string, string> = {};
  const receivers: WebhookReceiver[] = [];
  const cli = () => ({ LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken });

  const api = (who: string | undefined, method: string, path: string, body?: unknown) =>
    call(hub, who === undefined ? undefined : tokens[who], method, path, body);
  const ingest = async (events: Record<string, unknown>[], who = 'c51') => {
    const res = await call(
      hub,
      tokens[who],
      'POST',
      '/v1/events',
      events,
      'application/cloudevents-batch+json',
    );
    expect({ status: res.status, problem: res.status === 201 ? undefined : res.text }).toEqual({
      status: 201,
      problem: undefined,
    });
  };
  const head = async () => (await api('admin', 'GET', '/v1/events?limit=1')).body.head as number;
  const receiver = async (respond?: Responder) => {
    const r = await WebhookReceiver.start(respond);
    receivers.push(r);
    return r;
  };
  const create = async (who: string, body: Record<string, unknown>) => {
    const res = await api(who, 'POST', '/v1/webhooks', body);
    expect([res.status, res.text]).toEqual([201, expect.any(String)]);
    return res.body as unknown as { webhook: View; secret: string };
  };
  const show = async (id: string) => (await api('admin', 'GET', `/v1/webhooks/${id}`)).body.webhook as View;
  /** Waits until the webhook has nothing pending and its checkpoint is at the log's head. */
  const drained = async (id: string, timeoutMs = 15_000) => {
    await eventually(async () => {
      const h = await head();
      const w = await show(id);
      return w.pending === 0 && w.checkpoint >= h ? true : undefined;
    }, timeoutMs);
  };
  const attempts = async (id: string) => {
    const res = await api('admin', 'GET', `/v1/webhooks/${id}/attempts?limit=1000`);
    expect(res.status).toBe(200);
    return res.body.attempts as Attempt[];
  };

  beforeAll(async () => {
    const dir = tempDir('lgsp-webhooks-e2e-');
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        webhooks: {
          retryDelaysSeconds: [0.2, 0.4, 0.8],
          jitter: 0,
          disableAfterSeconds: 3,
          secretOverlapSeconds: 3,
          pollMs: 100,
        },
      }),
    );
    hub = await startHubProcess({
      env: { LGSP_WEBHOOKS_ALLOW_INSECURE: 'true', LGSP_CONFIG: config },
    });
    tokens.admin = hub.adminToken;
    const client = async (who: string, body: Record<string, unknown>) => {
      const res = await api('admin', 'POST', '/v1/admin/clients', {
        name: `${who}-${randomUUID().slice(0, 6)}`,
        ...body,
      });
      expect(res.status).toBe(201);
      tokens[who] = res.body.token as string;
    };
    await client('operator', { role: 'operator' });
    await client('p51', { province: '51' });
    await client('p79', { province: '79' });
    await client('c51', { communes: [C51.communeCode] });
    await client('c79', { communes: [C79.communeCode] });
  });

  afterAll(async () => {
    await hub?.stop();
    for (const r of receivers) await r.down();
  });

  it('signs every delivery so that standardwebhooks verifies it, with both secrets during a rotation and only the new one after', async () => {
    const r = await receiver();
    const { webhook, secret } = await create('admin', {
      url: r.url,
      filter: { communes: [C51.communeCode] },
    });
    expect(secret).toMatch(/^whsec_/);
    const code = dossierCode();
    await ingest([
      at(submitted(code), C51),
      at(statusChanged(code, 2), C51),
      at(statusChanged(code, 4), C51),
    ]);
    await eventually(async () => (r.acknowledged.length >= 3 ? true : undefined));
    expect(versionsOf(r, code)).toEqual([1, 2, 3]);
    for (const d of r.received) {
      const parsed = verify(secret, d) as Record<string, unknown>;
      expect(parsed.lgspposition).toBe(d.event.lgspposition);
      expect(d.contentType).toMatch(/^application\/cloudevents\+json/);
      expect(d.id).toMatch(/^msg_/);
      expect(d.event).toMatchObject({
        specversion: '1.0',
        lgspposition: expect.any(Number),
        lgspstream: `dossier-${code}`,
        lgspstreamversion: expect.any(Number),
        data: expect.objectContaining({ dossierCode: code }),
      });
    }

    const rotated = await api('admin', 'POST', `/v1/webhooks/${webhook.id}/rotate-secret`, {});
    expect(rotated.status).toBe(200);
    const secret2 = rotated.body.secret as string;
    expect(secret2).toMatch(/^whsec_/);
    expect(secret2).not.toBe(secret);
    expect((rotated.body.webhook as View).previousSecretExpiresAt).toEqual(expect.any(String));
    const before = r.received.length;
    await ingest([at(statusChanged(code, 5), C51), at(statusChanged(code, 6), C51)]);
    await eventually(async () => (r.acknowledged.length >= 5 ? true : undefined));
    const during = r.received.slice(before);
    expect(during.length).toBeGreaterThanOrEqual(2);
    for (const d of during) {
      expect(d.signature.split(' ')).toHaveLength(2);
      expect([verifies(secret, d), verifies(secret2, d)]).toEqual([true, true]);
    }

    // The overlap is 3 s: after it only the new secret signs.
    await eventually(async () => ((await show(webhook.id)).previousSecretExpiresAt ? undefined : true), 6000);
    const after = r.received.length;
    await ingest([at(statusChanged(code, 10), C51)]);
    await eventually(async () => (r.acknowledged.length >= 6 ? true : undefined));
    for (const d of r.received.slice(after)) {
      expect(d.signature.split(' ')).toHaveLength(1);
      expect([verifies(secret, d), verifies(secret2, d)]).toEqual([false, true]);
    }
    expect(versionsOf(r, code)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await api('admin', 'DELETE', `/v1/webhooks/${webhook.id}`)).status).toBe(204);
  });

  it('parks a dossier its receiver always refuses, for that webhook only; retry delivers the held events in order, skip drops them', async () => {
    const poison = dossierCode();
    const skipped = dossierCode();
    const others = [dossierCode(), dossierCode(), dossierCode()];
    let fixed = false;
    const r = await receiver((d) =>
      !fixed && [poison, skipped].includes(d.event.data.dossierCode as string) ? 500 : 204,
    );
    const bystander = await receiver();
    const { webhook } = await create('admin', { url: r.url, filter: { communes: [C51.communeCode] } });
    const { webhook: other } = await create('admin', {
      url: bystander.url,
      filter: { communes: [C51.communeCode] },
    });
    const target = `webhook:${webhook.id}`;
    await ingest([
      at(submitted(poison), C51),
      at(submitted(skipped), C51),
      ...others.map((c) => at(submitted(c), C51)),
      at(statusChanged(poison, 2), C51),
      at(statusChanged(skipped, 2), C51),
    ]);
    const parkedList = async () =>
      (await api('admin', 'GET', `/v1/admin/parked?target=${encodeURIComponent(target)}`)).body.parked as {
        dossier: string;
        target: string;
      }[];
    await eventually(async () => ((await parkedList()).length === 2 ? true : undefined), 15_000);
    expect((await parkedList()).map((p) => [p.target, p.dossier]).sort()).toEqual(
      [
        [target, poison],
        [target, skipped],
      ].sort(),
    );
    // The second webhook is not concerned by this endpoint's parking.
    expect((await api('admin', 'GET', `/v1/admin/parked?target=webhook:${other.id}`)).body.parked).toEqual(
      [],
    );
    expect((await show(webhook.id)).parked).toBe(2);

    // Later events of the parked dossiers wait; other dossiers flow.
    await ingest([
      at(statusChanged(poison, 4), C51),
      at(statusChanged(skipped, 4), C51),
      ...others.map((c) => at(statusChanged(c, 2), C51)),
    ]);
    await eventually(async () => (others.every((c) => versionsOf(r, c).length === 2) ? true : undefined));
    for (const c of others) expect(versionsOf(r, c)).toEqual([1, 2]);
    await sleep(800);
    const refusedVersions = r.received
      .filter((d) => d.event.data.dossierCode === poison)
      .map((d) => d.event.lgspstreamversion);
    expect(new Set(refusedVersions)).toEqual(new Set([1]));
    expect(refusedVersions).toHaveLength(4); // the first try and the three retries
    for (const c of [poison, skipped, ...others])
      expect(versionsOf(bystander, c)).toEqual(c === poison || c === skipped ? [1, 2, 3] : [1, 2]);

    // Fixed: the retry sends the dossier's held events, in order.
    fixed = true;
    const retried = await runCli(['parked', 'retry', target, poison], cli());
    expect([retried.code, retried.stderr]).toEqual([0, '']);
    await eventually(async () => (versionsOf(r, poison).length === 3 ? true : undefined));
    expect(versionsOf(r, poison)).toEqual([1, 2, 3]);

    // Skipped: its held events are dropped for this webhook, and its next event flows.
    const skip = await api('admin', 'POST', `/v1/admin/parked/${target}/${skipped}/skip`, {});
    expect(skip.status).toBe(200);
    expect(await parkedList()).toEqual([]);
    await ingest([at(statusChanged(skipped, 5), C51)]);
    await eventually(async () => (versionsOf(r, skipped).length > 0 ? true : undefined));
    await drained(webhook.id);
    expect(versionsOf(r, skipped)).toEqual([4]);
    expect((await show(webhook.id)).parked).toBe(0);
    for (const id of [webhook.id, other.id])
      expect((await api('admin', 'DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
  });

  it('disables a webhook at once on 410', async () => {
    const r = await receiver(() => 410);
    const { webhook } = await create('admin', { url: r.url, filter: { communes: [C51.communeCode] } });
    // One dossier: its second event waits for the first, which is refused with 410.
    const code = dossierCode();
    await ingest([at(submitted(code), C51), at(statusChanged(code, 2), C51)]);
    const w = await eventually(async () => {
      const v = await show(webhook.id);
      return v.state === 'disabled' ? v : undefined;
    });
    expect(w.disabledReason).toMatch(/410/);
    expect(w).toHaveProperty('disabledAt');
    // No retry, and nothing more is sent while disabled.
    await ingest([at(submitted(dossierCode()), C51)]);
    await sleep(1000);
    expect((await show(webhook.id)).state).toBe('disabled');
    expect(r.received).toHaveLength(1);
    const log = await attempts(webhook.id);
    expect(log.map((a) => [a.status, a.outcome])).toEqual([[410, 'disabled']]);
    expect((await api('admin', 'DELETE', `/v1/webhooks/${webhook.id}`)).status).toBe(204);
  });

  it('disables after the configured period of continuous failure; enable catches up in per-dossier order; the attempts log tells it all', async () => {
    let down = true;
    const answer = `down for maintenance ${'x'.repeat(2000)}`;
    const r = await receiver(() => (down ? { status: 503, body: answer } : 204));
    const { webhook } = await create('admin', { url: r.url, filter: { communes: [C51.communeCode] } });
    // New dossiers keep failing: each parks after its schedule (1.4 s), the endpoint fails on.
    const failing: string[] = [];
    const disabled = await eventually(async () => {
      const v = await show(webhook.id);
      if (v.state === 'disabled') return v;
      const c = dossierCode();
      failing.push(c);
      await ingest([at(submitted(c), C51)]);
      await sleep(300);
      return undefined;
    }, 15_000);
    expect(disabled.disabledReason).toMatch(/failed every try since/);
    const seenWhileDisabled = r.received.length;

    // Appended while disabled: nothing is sent.
    const later = [dossierCode(), dossierCode(), dossierCode()];
    await ingest(later.flatMap((c) => [at(submitted(c), C51), at(statusChanged(c, 2), C51)]));
    await ingest(later.map((c) => at(statusChanged(c, 4), C51)));
    await sleep(800);
    expect(r.received.length).toBe(seenWhileDisabled);

    down = false;
    const enabled = await api('admin', 'POST', `/v1/webhooks/${webhook.id}/enable`, {});
    expect(enabled.status).toBe(200);
    expect((enabled.body.webhook as View).state).toBe('active');
    await eventually(async () => (later.every((c) => versionsOf(r, c).length === 3) ? true : undefined));
    for (const c of later) expect(versionsOf(r, c)).toEqual([1, 2, 3]);

    // The attempt lines are written by the outcome writer shortly (50 ms) after the answers.
    const log = await eventually(async () => {
      const lines = await attempts(webhook.id);
      return lines.some((a) => a.outcome === 'delivered') ? lines : undefined;
    });
    const outcomes = new Set(log.map((a) => a.outcome));
    expect(outcomes).toEqual(new Set(['retry', 'parked', 'disabled', 'delivered']));
    for (const a of log) {
      expect(a.durationMs).toEqual(expect.any(Number));
      expect(a.messageId).toMatch(/^msg_/);
      if (a.outcome === 'delivered') expect(a.status).toBe(204);
      else {
        expect(a.status).toBe(503);
        expect(a.response).toBe(answer.slice(0, 1024));
      }
    }
    expect((await api('admin', 'DELETE', `/v1/webhooks/${webhook.id}`)).status).toBe(204);
  });

  describe('access: every route by every role', () => {
    const ROUTES = (id: string): [string, string, unknown][] => [
      ['GET', `/v1/webhooks/${id}`, undefined],
      ['PATCH', `/v1/webhooks/${id}`, { description: 'changed' }],
      ['POST', `/v1/webhooks/${id}/rotate-secret`, {}],
      ['POST', `/v1/webhooks/${id}/disable`, {}],
      ['POST', `/v1/webhooks/${id}/enable`, {}],
      ['GET', `/v1/webhooks/${id}/attempts`, undefined],
      ['POST', `/v1/webhooks/${id}/redeliver`, { fromPosition: 1 }],
      ['DELETE', `/v1/webhooks/${id}`, undefined],
    ];

    it('lets admin, operator and a province client (on its own webhook) use every route', async () => {
      const r = await receiver();
      for (const who of ['admin', 'operator', 'p51']) {
        const created = await api(who, 'POST', '/v1/webhooks', {
          url: r.url,
          description: `by ${who}`,
          filter: { types: [SUBMITTED] },
        });
        expect([who, created.status]).toEqual([who, 201]);
        const id = (created.body.webhook as View).id;
        const listed = await api(who, 'GET', '/v1/webhooks');
        expect([who, listed.status]).toEqual([who, 200]);
        expect((listed.body.webhooks as View[]).map((w) => w.id)).toContain(id);
        const expected = [200, 200, 200, 200, 200, 200, 202, 204];
        const got = [];
        for (const [method, path, body] of ROUTES(id)) got.push((await api(who, method, path, body)).status);
        expect([who, got]).toEqual([who, expected]);
        expect((await api('admin', 'GET', `/v1/webhooks/${id}`)).status).toBe(404);
      }
    });

    it("answers 404 to a province client on another province's or an admin's webhook, without revealing it, and changes nothing", async () => {
      const secretPath = `/hook/${randomUUID()}`;
      const url79 = `http://127.0.0.1:9/${secretPath}`;
      const urlAdmin = `http://127.0.0.1:9/admin${secretPath}`;
      const w79 = (await create('p79', { url: url79 })).webhook;
      const wAdmin = (await create('admin', { url: urlAdmin })).webhook;
      expect(w79.province).toBe('79');
      const before = [await show(w79.id), await show(wAdmin.id)];
      for (const w of [w79, wAdmin]) {
        for (const [method, path, body] of ROUTES(w.id)) {
          const res = await api('p51', method, path, body);
          expect([method, path, res.status]).toEqual([method, path, 404]);
          expect(res.contentType).toMatch(/^application\/problem\+json/);
          expect(res.text).not.toContain(secretPath);
          expect(res.text).not.toContain('127.0.0.1');
        }
      }
      const listed = await api('p51', 'GET', '/v1/webhooks');
      expect((listed.body.webhooks as View[]).map((w) => w.id)).not.toEqual(expect.arrayContaining([w79.id]));
      expect((listed.body.webhooks as View[]).map((w) => w.id)).not.toContain(wAdmin.id);
      expect(listed.text).not.toContain(secretPath);
      const after = [await show(w79.id), await show(wAdmin.id)];
      expect(after.map((w) => [w.url, w.updatedAt, w.state, w.description])).toEqual(
        before.map((w) => [w.url, w.updatedAt, w.state, w.description]),
      );
      for (const w of [w79, wAdmin])
        expect((await api('admin', 'DELETE', `/v1/webhooks/${w.id}`)).status).toBe(204);
    });

    it('refuses (403) a province client subscribing outside its province or widening its filter, and creates or changes nothing', async () => {
      const count = async () =>
        ((await api('admin', 'GET', '/v1/webhooks?limit=1000')).body.webhooks as View[]).length;
      const n = await count();
      const url = 'http://127.0.0.1:9/hook';
      for (const filter of [
        { provinces: ['79'] },
        { provinces: ['51', '79'] },
        { communes: [C79.communeCode] },
        { communes: [C51.communeCode, C79.communeCode] },
        { provinces: ['51'], communes: [C79.communeCode] },
      ]) {
        const res = await api('p51', 'POST', '/v1/webhooks', { url, filter });
        expect([filter, res.status]).toEqual([filter, 403]);
        expect(res.contentType).toMatch(/^application\/problem\+json/);
      }
      expect(await count()).toBe(n);
      const own = (await create('p51', { url })).webhook;
      const before = await show(own.id);
      for (const filter of [
        { provinces: ['79'] },
        { provinces: ['51', '79'] },
        { communes: [C79.communeCode] },
      ]) {
        const res = await api('p51', 'PATCH', `/v1/webhooks/${own.id}`, { filter });
        expect([filter, res.status]).toEqual([filter, 403]);
      }
      // An empty filter would mean "everything": it is pinned to the province again.
      const emptied = await api('p51', 'PATCH', `/v1/webhooks/${own.id}`, { filter: {} });
      expect(emptied.status).toBe(200);
      expect((emptied.body.webhook as View).filter.provinces).toEqual(['51']);
      const after = await show(own.id);
      expect(after.filter).toEqual(before.filter);
      expect((await api('admin', 'DELETE', `/v1/webhooks/${own.id}`)).status).toBe(204);
    });

    it('refuses a commune client (403) and a caller without a token (401) on every route', async () => {
      const w = (await create('admin', { url: 'http://127.0.0.1:9/hook' })).webhook;
      const all: [string, string, unknown][] = [
        ['POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook' }],
        ['GET', '/v1/webhooks', undefined],
        ...ROUTES(w.id),
      ];
      for (const [who, status] of [
        ['c51', 403],
        ['c79', 403],
        [undefined, 401],
      ] as const) {
        for (const [method, path, body] of all) {
          const res = await api(who, method, path, body);
          expect([who, method, path, res.status]).toEqual([who, method, path, status]);
          expect(res.contentType).toMatch(/^application\/problem\+json/);
        }
      }
      const bad = await call(hub, `lgsp_${randomUUID()}`, 'GET', '/v1/webhooks');
      expect(bad.status).toBe(401);
      expect((await show(w.id)).state).toBe('active');
      expect((await api('admin', 'DELETE', `/v1/webhooks/${w.id}`)).status).toBe(204);
    });

    it("pins a province client's webhook without a filter to its province: it never receives another province's events", async () => {
      const r = await receiver();
      const { webhook } = await create('p51', { url: r.url });
      expect(webhook.filter.provinces).toEqual(['51']);
      expect(webhook.province).toBe('51');
      const in51 = [dossierCode(), dossierCode()];
      const in79 = [dossierCode(), dossierCode()];
      await ingest(
        in51.flatMap((c) => [at(submitted(c), C51), at(statusChanged(c, 2), C51)]),
        'c51',
      );
      await ingest(
        in79.flatMap((c) => [at(submitted(c), C79), at(statusChanged(c, 2), C79)]),
        'c79',
      );
      await ingest(
        in51.map((c) => at(statusChanged(c, 4), C51)),
        'c51',
      );
      await drained(webhook.id);
      for (const c of in51) expect(versionsOf(r, c)).toEqual([1, 2, 3]);
      expect(r.received.filter((d) => d.event.data.provinceCode !== '51')).toEqual([]);
      expect(r.received.filter((d) => in79.includes(d.event.data.dossierCode as string))).toEqual([]);
      expect((await api('p51', 'DELETE', `/v1/webhooks/${webhook.id}`)).status).toBe(204);
    });
  });

  describe('bad input', () => {
    const problem = (res: Answer, what: unknown) => {
      expect([what, res.status >= 400 && res.status < 500, res.status]).toEqual([
        what,
        true,
        expect.any(Number),
      ]);
      expect([what, res.contentType]).toEqual([what, expect.stringMatching(/^application\/problem\+json/)]);
      expect(res.body).toMatchObject({
        type: expect.any(String),
        title: expect.any(String),
        status: res.status,
      });
    };
    const url = 'http://127.0.0.1:9/hook';
    const huge = 'x'.repeat(100_000);

    it('answers every malformed POST with a 4xx problem and creates nothing', async () => {
      const count = async () =>
        ((await api('admin', 'GET', '/v1/webhooks?limit=1000')).body.webhooks as View[]).length;
      const n = await count();
      const bodies: unknown[] = [
        {},
        { url: 7 },
        { url: null },
        { url: ['http://127.0.0.1:9/hook'] },
        { url: '' },
        { url: 'not a url' },
        { url: `http://127.0.0.1:9/${huge}` },
        { url, unknown: 1 },
        { url, secret: 'whsec_AAAA' },
        { url, description: 7 },
        { url, description: huge },
        { url, filter: 'everything' },
        { url, filter: [] },
        { url, filter: { dossiers: ['x'] } },
        { url, filter: { types: 'vn.gov.lgsp.dossier.submitted.v1' } },
        { url, filter: { types: ['no.such.type'] } },
        { url, filter: { provinces: [51] } },
        { url, filter: { provinces: ['99'] } },
        { url, filter: { communes: [''] } },
        { url, filter: { communes: Array.from({ length: 1000 }, () => '21040') } },
        { url, filter: { provinces: [huge] } },
        { url, ratePerSecond: 0 },
        { url, ratePerSecond: -1 },
        { url, ratePerSecond: 1e9 },
        { url, ratePerSecond: 'NaN' },
        { url, ratePerSecond: '10' },
        [],
        'just a string',
        null,
      ];
      for (const body of bodies) problem(await api('admin', 'POST', '/v1/webhooks', body), body);
      for (const raw of [
        `{"url":"${url}","ratePerSecond":NaN}`,
        `{"url":"${url}","ratePerSecond":1e999}`,
        `{"url":"${url}"`,
        '',
      ]) {
        problem(await call(hub, hub.adminToken, 'POST', '/v1/webhooks', raw), raw);
      }
      expect(await count()).toBe(n);
    });

    it('answers every malformed PATCH and redelivery with a 4xx problem and changes nothing', async () => {
      const { webhook } = await create('admin', { url, description: 'kept', filter: { types: [SUBMITTED] } });
      const before = await show(webhook.id);
      const patches: unknown[] = [
        { url: 7 },
        { url: 'ftp://example.com/x' },
        { description: huge },
        { filter: { unknown: ['x'] } },
        { filter: { communes: '21040' } },
        { filter: { provinces: ['99'] } },
        { ratePerSecond: 0 },
        { ratePerSecond: 1e9 },
        { ratePerSecond: null },
        { state: 'disabled' },
        { id: 'wh_00000000000000000000000000' },
        [],
      ];
      for (const body of patches)
        problem(await api('admin', 'PATCH', `/v1/webhooks/${webhook.id}`, body), body);
      problem(
        await call(hub, hub.adminToken, 'PATCH', `/v1/webhooks/${webhook.id}`, '{"ratePerSecond":NaN}'),
        'NaN',
      );
      const h = await head();
      for (const body of [
        {},
        { fromPosition: 0 },
        { fromPosition: -1 },
        { fromPosition: 1.5 },
        { fromPosition: '1' },
        { fromPosition: h + 2 },
        { fromPosition: Number.MAX_SAFE_INTEGER },
        { fromPosition: 1, extra: true },
      ])
        problem(await api('admin', 'POST', `/v1/webhooks/${webhook.id}/redeliver`, body), body);
      for (const query of ['limit=0', 'limit=x', 'after=-1', 'position=abc'])
        problem(await api('admin', 'GET', `/v1/webhooks/${webhook.id}/attempts?${query}`), query);
      problem(await api('admin', 'POST', `/v1/webhooks/${webhook.id}/disable`, { reason: 7 }), 'reason');
      problem(await api('admin', 'GET', '/v1/webhooks/not-an-id'), 'not-an-id');
      const after = await show(webhook.id);
      expect({ ...after, lag: undefined, checkpoint: undefined }).toEqual({
        ...before,
        lag: undefined,
        checkpoint: undefined,
      });
      expect((await api('admin', 'DELETE', `/v1/webhooks/${webhook.id}`)).status).toBe(204);
    });
  });

  it('replays to one webhook only, with the webhook-ids of the first delivery; redeliver resends from a position', async () => {
    const ra = await receiver();
    const rb = await receiver();
    const filter = { communes: [C51.communeCode] };
    const a = (await create('admin', { url: ra.url, filter })).webhook;
    const b = (await create('admin', { url: rb.url, filter })).webhook;
    const x = dossierCode();
    const y = dossierCode();
    await ingest([at(submitted(x), C51), at(submitted(y), C51), at(statusChanged(x, 2), C51)]);
    await ingest([at(statusChanged(y, 2), C51), at(statusChanged(x, 4), C51)]);
    await drained(a.id);
    await drained(b.id);
    expect([versionsOf(ra, x), versionsOf(ra, y)]).toEqual([
      [1, 2, 3],
      [1, 2],
    ]);
    const firstIds = new Map(ra.received.map((d) => [d.event.lgspposition, d.id]));
    const bSeen = rb.received.length;
    // Every try B received has its attempt line (written shortly after the answer) before counting.
    await eventually(async () => ((await attempts(b.id)).length === bSeen ? true : undefined));
    const bAttempts = (await attempts(b.id)).length;
    const headBefore = await head();
    const subscriptionsBefore = (await api('admin', 'GET', '/v1/admin/subscriptions')).body.subscriptions as {
      name: string;
    }[];

    const seenA = ra.received.length;
    const run = await runCli(
      ['replay', 'run', '--target', `webhook:${a.id}`, '--dossiers', x, '--yes', '--json'],
      cli(),
    );
    expect([run.code, run.stderr]).toEqual([0, expect.stringMatching(/completed: 3\/3/)]);
    const replayId = (JSON.parse(run.stdout) as { replay: { id: string; state: string } }).replay.id;
    await eventually(async () => (ra.received.length >= seenA + 3 ? true : undefined));
    await drained(a.id);
    const replayed = ra.received.slice(seenA);
    expect(replayed.map((d) => [d.event.data.dossierCode, d.event.lgspstreamversion])).toEqual([
      [x, 1],
      [x, 2],
      [x, 3],
    ]);
    for (const d of replayed) {
      expect(d.event.lgspreplay).toBe(replayId);
      expect(d.id).toBe(firstIds.get(d.event.lgspposition));
    }
    await sleep(500);
    expect(rb.received.length).toBe(bSeen);
    expect((await attempts(b.id)).length).toBe(bAttempts);
    expect(await head()).toBe(headBefore);
    expect(
      ((await api('admin', 'GET', '/v1/admin/subscriptions')).body.subscriptions as { name: string }[]).map(
        (s) => s.name,
      ),
    ).toEqual(subscriptionsBefore.map((s) => s.name));

    // Redelivery from y's second event: every later event of A's filter, with the same webhook-ids.
    const from = ra.received.find((d) => d.event.data.dossierCode === y && d.event.lgspstreamversion === 2)!
      .event.lgspposition;
    const seen = ra.received.length;
    const redelivered = await api('admin', 'POST', `/v1/webhooks/${a.id}/redeliver`, { fromPosition: from });
    expect(redelivered.status).toBe(202);
    expect(redelivered.body.fromPosition).toBe(from);
    const expected = [...firstIds.keys()].filter((p) => p >= from).sort((p, q) => p - q);
    await eventually(async () => (ra.received.length >= seen + expected.length ? true : undefined));
    await drained(a.id);
    const again = ra.received.slice(seen);
    expect(again.map((d) => d.event.lgspposition).sort((p, q) => p - q)).toEqual(expected);
    for (const d of again) expect(d.id).toBe(firstIds.get(d.event.lgspposition));
    expect(rb.received.length).toBe(bSeen);
    for (const w of [a, b]) expect((await api('admin', 'DELETE', `/v1/webhooks/${w.id}`)).status).toBe(204);
    // The contract marks redeliveries too (`lgspreplay` on replays/redeliveries).
    expect(again.map((d) => d.event.lgspreplay)).toEqual(again.map(() => expect.any(String)));
  });

  it('lgsp webhooks: create, list, show, rotate-secret, disable, enable, attempts, redeliver, delete against the hub', async () => {
    const r = await receiver();
    const lgsp = async (args: string[]) => {
      const res = await runCli(['webhooks', ...args], cli());
      return {
        ...res,
        json: res.stdout.trim().startsWith('{') ? (JSON.parse(res.stdout) as Record<string, unknown>) : {},
      };
    };
    const created = await lgsp([
      'create',
      r.url,
      '--description',
      'Sở Tư pháp Quảng Ngãi',
      '--communes',
      C51.communeCode,
      '--rate',
      '20',
    ]);
    expect([created.code, created.stderr]).toEqual([0, '']);
    expect(created.stdout).toMatch(/secret \(shown only once, store it now\): whsec_/);
    const id = /webhook:\s+(wh_[0-9a-z]{26})/.exec(created.stdout)?.[1];
    expect(id).toEqual(expect.any(String));
    const secret = /(whsec_\S+)/.exec(created.stdout)![1]!;
    const shown = await lgsp(['show', id!, '--json']);
    expect(shown.code).toBe(0);
    expect(shown.json.webhook).toMatchObject({
      id,
      url: r.url,
      description: 'Sở Tư pháp Quảng Ngãi',
      filter: { communes: [C51.communeCode] },
      ratePerSecond: 20,
      state: 'active',
    });
    const text = await lgsp(['show', id!]);
    expect(text.stdout).toContain('communes 21040');
    expect(text.stdout).not.toContain('whsec_');
    const listed = await lgsp(['list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(id);
    const listedJson = await lgsp(['list', '--json']);
    expect((listedJson.json.webhooks as View[]).map((w) => w.id)).toContain(id);

    const code = dossierCode();
    await ingest([at(submitted(code), C51)]);
    await eventually(async () => (r.acknowledged.length >= 1 ? true : undefined));
    expect(verifies(secret, r.received[0]!)).toBe(true);

    const rotated = await lgsp(['rotate-secret', id!]);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/secret \(shown only once, store it now\): whsec_/);
    expect(rotated.stdout).toMatch(/previous secret keeps signing until/);
    const disabled = await lgsp(['disable', id!, '--reason', 'maintenance window']);
    expect([disabled.code, disabled.stdout.trim()]).toEqual([
      0,
      `webhook ${id} disabled: maintenance window`,
    ]);
    expect((await show(id!)).state).toBe('disabled');
    await ingest([at(statusChanged(code, 2), C51)]);
    const enabled = await lgsp(['enable', id!]);
    expect(enabled.code).toBe(0);
    expect(enabled.stdout).toMatch(new RegExp(`webhook ${id} active; \\d+ events to catch up`));
    await eventually(async () => (versionsOf(r, code).length === 2 ? true : undefined));
    // The attempt lines are written shortly (50 ms) after the answers.
    await eventually(async () => ((await attempts(id!)).length === 2 ? true : undefined));

    const log = await lgsp(['attempts', id!]);
    expect(log.code).toBe(0);
    expect(log.stdout).toMatch(/SEQ\s+AT\s+POSITION/);
    expect(log.stdout).toContain('delivered');
    const logJson = await lgsp(['attempts', id!, '--json']);
    expect((logJson.json.attempts as Attempt[]).map((a) => a.outcome)).toEqual(['delivered', 'delivered']);

    const position = r.received[0]!.event.lgspposition;
    const redelivered = await lgsp(['redeliver', id!, '--from', String(position)]);
    expect(redelivered.code).toBe(0);
    expect(redelivered.stdout).toContain(`from position ${position}`);
    await eventually(async () => (versionsOf(r, code).length === 4 ? true : undefined));
    expect(r.received.slice(2).map((d) => d.id)).toEqual(r.received.slice(0, 2).map((d) => d.id));

    const refused = await lgsp(['delete', id!]);
    expect(refused.code).toBe(2);
    expect((await show(id!)).id).toBe(id);
    const deleted = await lgsp(['delete', id!, '--yes']);
    expect([deleted.code, deleted.stdout.trim()]).toEqual([0, `deleted webhook ${id}`]);
    expect((await api('admin', 'GET', `/v1/webhooks/${id}`)).status).toBe(404);
    const gone = await lgsp(['show', id!]);
    expect(gone.code).not.toBe(0);
  });

  it("never wrote a secret or the applicants' personal data to the hub's output", () => {
    const out = hub.output();
    expect(out.length).toBeGreaterThan(0);
    expect(out).not.toContain('whsec_');
    expect(out).not.toContain('Nguyễn Thị Hoà');
    expect(out).not.toContain('051190001234');
    expect(out).not.toContain('Trần Văn Bình');
  });
});

describe('webhook targets under the default configuration', () => {
  let hub: HubProcess;

  beforeAll(async () => {
    hub = await startHubProcess();
  });

  afterAll(async () => {
    await hub?.stop();
  });

  it.each([
    ['http://127.0.0.1/x'],
    ['https://127.0.0.1/x'],
    ['https://10.0.0.1/x'],
    ['https://169.254.169.254/latest/meta-data'],
    ['https://[::1]/x'],
    ['https://localhost/x'],
    ['http://example.com/x'],
    ['ftp://example.com/x'],
    ['https://operator:S3cr3t-Pa55word@example.com/x'],
  ])('refuses %s with a 422 pointing at /url, and creates nothing', async (url) => {
    const res = await call(hub, hub.adminToken, 'POST', '/v1/webhooks', { url });
    expect(res.status).toBe(422);
    expect(res.contentType).toMatch(/^application\/problem\+json/);
    expect((res.body.errors as { pointer: string }[]).map((e) => e.pointer)).toContain('/url');
    expect(res.text).not.toContain('S3cr3t-Pa55word');
    const list = await call(hub, hub.adminToken, 'GET', '/v1/webhooks');
    expect(list.body.webhooks).toEqual([]);
  });

  it('refuses the same targets on PATCH, and logs no password', async () => {
    // A public https target is accepted at creation without being called.
    const created = await call(hub, hub.adminToken, 'POST', '/v1/webhooks', {
      url: 'https://93.184.215.14/x',
    });
    expect(created.status).toBe(201);
    const id = (created.body.webhook as View).id;
    for (const url of ['https://10.0.0.1/x', 'https://user:S3cr3t-Pa55word@93.184.215.14/x']) {
      const res = await call(hub, hub.adminToken, 'PATCH', `/v1/webhooks/${id}`, { url });
      expect(res.status).toBe(422);
      expect(res.text).not.toContain('S3cr3t-Pa55word');
    }
    const shown = await call(hub, hub.adminToken, 'GET', `/v1/webhooks/${id}`);
    expect((shown.body.webhook as View).url).toBe('https://93.184.215.14/x');
    expect((await call(hub, hub.adminToken, 'DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
    expect(hub.output()).not.toContain('S3cr3t-Pa55word');
    expect(hub.output()).not.toContain('whsec_');
  });
});
