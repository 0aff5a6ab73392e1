import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { COMMUNE, PROVINCE, dossierCode, post, statusChanged, submitted } from '../support/events.js';
import { eventually, runCli, startHubProcess, tempDir, type HubProcess } from '../support/hub-process.js';
import { readTopics } from '../support/kafka-consumer.js';
import { sharedKafka } from '../support/kafka.js';
import { WebhookReceiver, signedHeaders } from '../support/webhook-receiver.js';

/**
 * Issue 19, event versions, with the hub as a process: a commune that keeps pushing
 * `dossier.submitted.v1` and one that pushes v2 (single, batch and binary modes); a province webhook
 * that never chose a version sees v1 exactly as before, a second one subscribed for v2 receives v2 for
 * the same events, old (redelivered) and new; the dossier view reads both; the catalogue is served to
 * every role; the v2 persons are sealed at rest and kept out of the logs.
 */

const V1 = 'vn.gov.lgsp.dossier.submitted.v1';
const V2 = 'vn.gov.lgsp.dossier.submitted.v2';
const PASSPORT = 'C7654321';
const CO_APPLICANT = 'Phạm Thị Thu';
const APPLICANT_V2 = 'Lê Văn Nam';
const LEGACY = '123456789';

/** A v2 submission of dossier `code`: an applicant with a citizen and a legacy ID, a co-applicant with a passport. */
function submittedV2(code: string): Record<string, unknown> {
  const v1 = submitted(code);
  const { applicant: _applicant, ...data } = v1.data as Record<string, unknown>;
  return {
    ...v1,
    type: V2,
    data: {
      ...data,
      persons: [
        {
          role: 'applicant',
          fullName: APPLICANT_V2,
          documents: [
            { kind: 'citizen-id', number: '051090004321' },
            { kind: 'legacy-id', number: LEGACY },
          ],
          dateOfBirth: '1990-03-14',
          phone: '0987654321',
        },
        { role: 'co-applicant', fullName: CO_APPLICANT, documents: [{ kind: 'passport', number: PASSPORT }] },
      ],
    },
  };
}

interface Delivery {
  type: string;
  dataschema?: string;
  lgspstream: string;
  lgspreplay?: string;
  data: Record<string, unknown>;
}

describe('event versions, with the hub as a process', () => {
  let hub: HubProcess;
  const tokens: Record<string, string> = {};
  const receivers: WebhookReceiver[] = [];

  const call = async (who: string | undefined, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${hub.url}${path}`, {
      method,
      headers: {
        ...(who === undefined ? {} : { authorization: `Bearer ${tokens[who]}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        'accept-language': 'vi',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };

  beforeAll(async () => {
    hub = await startHubProcess({ env: { LGSP_WEBHOOKS_ALLOW_INSECURE: 'true' } });
    tokens.admin = hub.adminToken;
    for (const [who, body] of [
      ['operator', { role: 'operator' }],
      ['p51', { province: PROVINCE }],
      ['c51', { communes: [COMMUNE] }],
    ] as const) {
      const res = await call('admin', 'POST', '/v1/admin/clients', {
        name: `${who}-${randomUUID().slice(0, 6)}`,
        ...body,
      });
      expect(res.status).toBe(201);
      tokens[who] = res.body.token as string;
    }
  });

  afterAll(async () => {
    await hub?.stop();
    for (const r of receivers) await r.down();
  });

  it('serves the catalogue with its versions to every role, and refuses an unauthenticated client', async () => {
    for (const who of ['admin', 'operator', 'p51', 'c51']) {
      const res = await call(who, 'GET', '/v1/schemas');
      expect([who, res.status]).toEqual([who, 200]);
      const submittedEntry = (
        res.body.events as { name: string; newest: number; versions: { type: string }[] }[]
      ).find((e) => e.name === 'dossier.submitted');
      expect(submittedEntry).toMatchObject({ newest: 2, versions: [{ type: V1 }, { type: V2 }] });
      const one = await call(who, 'GET', `/v1/schemas/${V2}`);
      expect([who, one.status, (one.body.schema as { $id: string }).$id]).toEqual([
        who,
        200,
        'https://schemas.lgsp-hub.vn/events/dossier.submitted/v2.json',
      ]);
    }
    expect((await call(undefined, 'GET', '/v1/schemas')).status).toBe(401);
    expect((await call(undefined, 'GET', `/v1/schemas/${V2}`)).status).toBe(401);
    const unknown = await call('c51', 'GET', '/v1/schemas/vn.gov.lgsp.dossier.submitted.v9');
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toBe('không có loại sự kiện nào mang tên này trong danh mục');
    const cli = await runCli(['schemas', 'list'], { LGSP_URL: hub.url, LGSP_TOKEN: tokens.c51! });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/dossier\.submitted\s+v2 \(newest\)/);
  });

  it('sends a v1 subscriber what it always got and a v2 subscriber v2, for the same events old and new', async () => {
    // Pushed before any webhook exists, by a commune that keeps sending v1.
    const old = dossierCode();
    expect((await post(hub.url, tokens.c51, submitted(old))).status).toBe(201);
    const oldPosition = (await call('admin', 'GET', '/v1/events?limit=1000')).body.head as number;

    const asV1 = await WebhookReceiver.start();
    const asV2 = await WebhookReceiver.start();
    receivers.push(asV1, asV2);
    const one = await call('p51', 'POST', '/v1/webhooks', { url: asV1.url, filter: { types: [V1] } });
    const two = await call('p51', 'POST', '/v1/webhooks', {
      url: asV2.url,
      filter: { types: [V1] },
      eventVersions: { 'dossier.submitted': 2 },
    });
    expect([one.status, two.status]).toEqual([201, 201]);
    const webhookOne = one.body.webhook as { id: string; eventVersions: unknown };
    const webhookTwo = two.body.webhook as { id: string; eventVersions: unknown };
    expect(webhookOne.eventVersions).toEqual({ 'dossier.submitted': 1 });
    expect(webhookTwo.eventVersions).toEqual({ 'dossier.submitted': 2 });
    const bad = await call('p51', 'POST', '/v1/webhooks', {
      url: asV2.url,
      eventVersions: { 'dossier.submitted': 7 },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual([
      { pointer: '/eventVersions/dossier.submitted', message: 'phải là một trong các phiên bản 1, 2' },
    ]);
    // Hostile shapes of eventVersions: each a 422 naming the member, never a 5xx.
    for (const eventVersions of [
      [],
      'dossier.submitted=2',
      { 'dossier.submitted': '2' },
      { 'dossier.submitted': { v: 2 } },
      { 'dossier.submitted': 2.5 },
      { ['x'.repeat(5000)]: 2 },
      { 'payment.completed': 1 },
    ]) {
      const res = await call('p51', 'POST', '/v1/webhooks', { url: asV2.url, eventVersions });
      expect([JSON.stringify(eventVersions).slice(0, 40), res.status]).toEqual([
        JSON.stringify(eventVersions).slice(0, 40),
        422,
      ]);
    }

    // New events: v1 single (structured), v2 in a batch, v2 in binary mode.
    const [fromV1, inBatch, inBinary] = [dossierCode(), dossierCode(), dossierCode()];
    expect((await post(hub.url, tokens.c51, submitted(fromV1))).status).toBe(201);
    const batch = await post(
      hub.url,
      tokens.c51,
      [submittedV2(inBatch), statusChanged(inBatch, 2)],
      'application/cloudevents-batch+json',
    );
    expect([batch.status, JSON.stringify(batch.body)]).toEqual([201, expect.any(String)]);
    const binary = submittedV2(inBinary);
    const binaryRes = await post(hub.url, tokens.c51, JSON.stringify(binary.data), 'application/json', {
      'ce-specversion': '1.0',
      'ce-id': String(binary.id),
      'ce-source': String(binary.source),
      'ce-type': V2,
      'ce-time': String(binary.time),
    });
    expect(binaryRes.status).toBe(201);

    await eventually(
      async () => (asV1.acknowledged.length >= 3 && asV2.acknowledged.length >= 3 ? true : undefined),
      20_000,
    );
    const got = (r: WebhookReceiver, code: string) =>
      r.acknowledged
        .map((d) => d.event as unknown as Delivery)
        .find((e) => e.lgspstream === `dossier-${code}`)!;
    // The v1 subscriber: v1 exactly as sent, v2 downcast.
    const v1Sent = submitted(fromV1).data as Record<string, unknown>;
    expect(got(asV1, fromV1)).toMatchObject({ type: V1, data: { applicant: v1Sent.applicant } });
    expect(got(asV1, fromV1).dataschema).toBeUndefined();
    for (const code of [inBatch, inBinary]) {
      expect(got(asV1, code)).toMatchObject({
        type: V1,
        dataschema: 'https://schemas.lgsp-hub.vn/events/dossier.submitted/v1.json',
        data: { applicant: { fullName: APPLICANT_V2, idNumber: '051090004321', phone: '0987654321' } },
      });
      expect(got(asV1, code).data).not.toHaveProperty('persons');
    }
    // The v2 subscriber: the v1 event upcast, the v2 ones as sent.
    expect(got(asV2, fromV1)).toMatchObject({
      type: V2,
      data: {
        persons: [
          {
            role: 'applicant',
            fullName: 'Nguyễn Thị Hoà',
            documents: [{ kind: 'citizen-id', number: '051190001234' }],
          },
        ],
      },
    });
    expect(got(asV2, inBatch)).toMatchObject({ type: V2, data: submittedV2(inBatch).data as object });
    const secret = two.body.secret as string;
    for (const d of asV2.received)
      expect(() => new Webhook(secret).verify(d.body, signedHeaders(d))).not.toThrow();

    // Old events sent again to each: the v1 one as v2 to the v2 subscriber.
    for (const id of [webhookOne.id, webhookTwo.id]) {
      expect(
        (await call('admin', 'POST', `/v1/webhooks/${id}/redeliver`, { fromPosition: oldPosition })).status,
      ).toBe(202);
    }
    await eventually(async () => (got(asV1, old) && got(asV2, old) ? true : undefined), 20_000);
    expect(got(asV1, old)).toMatchObject({ type: V1, lgspreplay: expect.any(String) });
    expect(got(asV2, old)).toMatchObject({ type: V2, data: { persons: [{ role: 'applicant' }] } });

    // The dossier view reads v1 and v2 alike.
    await eventually(async () => {
      const view = await call('c51', 'GET', `/v1/dossiers/${inBatch}`);
      return view.status === 200 && view.body.status === 2 ? view : undefined;
    });
    const view = await call('c51', 'GET', `/v1/dossiers/${inBatch}`);
    expect(view.body).toMatchObject({ applicant: { fullName: APPLICANT_V2 }, coApplicants: 1 });
    // The log holds each event at the version it was sent in.
    const stream = await call('c51', 'GET', `/v1/streams/dossier-${inBatch}`);
    expect((stream.body.events as { event: { type: string } }[])[0]!.event.type).toBe(V2);
  });

  it('keeps every person of a v2 event sealed at rest and out of the logs', async () => {
    const code = dossierCode();
    expect((await post(hub.url, tokens.c51, submittedV2(code))).status).toBe(201);
    const read = await call('c51', 'GET', `/v1/streams/dossier-${code}`);
    expect(JSON.stringify(read.body)).toContain(CO_APPLICANT);
    const files = readdirSync(hub.dataDir, { recursive: true, withFileTypes: true }).filter((f) =>
      f.isFile(),
    );
    const raw = files.map((f) => readFileSync(join(f.parentPath, f.name)).toString('utf8')).join('\n');
    for (const clear of [
      APPLICANT_V2,
      CO_APPLICANT,
      PASSPORT,
      LEGACY,
      '051090004321',
      '0987654321',
      '1990-03-14',
    ]) {
      expect([clear, raw.includes(clear)]).toEqual([clear, false]);
      expect([clear, hub.output().includes(clear)]).toEqual([clear, false]);
    }
  });
});

describe('event versions on the Kafka province topics, with the hub as a process', () => {
  let hub: HubProcess | undefined;
  afterAll(async () => {
    await hub?.stop();
  });

  it('sends one province topic v1 (the default) and another the v2 its configuration names', async () => {
    const kafka = await sharedKafka();
    const topicPrefix = `e2ev${Math.random().toString(36).slice(2, 8)}`;
    const dir = tempDir('lgsp-versions-kafka-');
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({ kafka: { relay: { eventVersions: { '79': { 'dossier.submitted': 2 } } } } }),
    );
    hub = await startHubProcess({
      env: {
        LGSP_KAFKA_BROKERS: kafka.brokers.join(','),
        LGSP_KAFKA_TOPIC_PREFIX: topicPrefix,
        LGSP_CONFIG: config,
      },
    });
    const in51 = dossierCode();
    const in79 = dossierCode();
    const at79 = submitted(in79);
    Object.assign(at79.data as object, { provinceCode: '79', communeCode: '25747' });
    expect((await post(hub.url, hub.adminToken, submitted(in51))).status).toBe(201);
    expect((await post(hub.url, hub.adminToken, at79)).status).toBe(201);
    // The relay at the head: the topics exist.
    await eventually(async () => {
      const subs = await fetch(`${hub!.url}/v1/admin/subscriptions`, {
        headers: { authorization: `Bearer ${hub!.adminToken}` },
      }).then((r) => r.json() as Promise<{ subscriptions: { name: string; lagEvents: number }[] }>);
      return subs.subscriptions.find((x) => x.name === 'relay.kafka')?.lagEvents === 0 ? true : undefined;
    }, 30_000);
    const records = await readTopics(
      kafka.brokers,
      new RegExp(`^${topicPrefix}\\.events\\.province\\.`),
      (r) => r.length >= 2,
      60_000,
    );
    const of = (code: string) => records.find((r) => r.key === code)!;
    expect([of(in51).topic, of(in51).headers.ce_type]).toEqual([`${topicPrefix}.events.province.51`, V1]);
    expect(JSON.parse(of(in51).value)).toMatchObject({ applicant: { fullName: 'Nguyễn Thị Hoà' } });
    expect([of(in79).topic, of(in79).headers.ce_type, of(in79).headers.ce_dataschema]).toEqual([
      `${topicPrefix}.events.province.79`,
      V2,
      'https://schemas.lgsp-hub.vn/events/dossier.submitted/v2.json',
    ]);
    expect(JSON.parse(of(in79).value)).toMatchObject({
      persons: [{ role: 'applicant', documents: [{ kind: 'citizen-id', number: '051190001234' }] }],
    });
  });
});
