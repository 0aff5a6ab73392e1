import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getJson, post, statusChanged, submitted } from '../support/events.js';
import { eventually, runCli, startHubProcess, tempDir, type HubProcess } from '../support/hub-process.js';
import { sharedKafka, type KafkaBroker } from '../support/kafka.js';
import { readTopics, type ReadRecord } from '../support/kafka-consumer.js';
import { connectorsConfig, startSimulators, type SimName } from '../support/simulators-process.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Issue 16 acceptance, with the hub, the simulators, Kafka and a webhook receiver as processes: once
 * a person is erased, no API answer, log line, view, replayed Kafka record, webhook delivery or
 * redelivery, nor the portal's and one-stop-shop's copies hold their name or citizen ID; the
 * person.erased notice reached the webhook, the Kafka topic and the connectors; `lgsp verify` still
 * passes; the erasure is in the audit log. Another person's data is untouched.
 */

const ERASED_NAME = 'Phạm Thị Thuỳ Dương';
const ERASED_ID = '079305012345';
const ERASED_PHONE = '0987654321';
const KEPT_NAME = 'Đỗ Văn Khải';
const KEPT_ID = '051188009876';
const PERSON_ERASED = 'vn.gov.lgsp.person.erased.v1';
const P51 = { provinceCode: '51', communeCode: '21040' };

/** Every spelling of the erased person's data a leak could take. */
const SECRETS = [
  ERASED_NAME.normalize('NFC'),
  ERASED_NAME.normalize('NFD'),
  JSON.stringify(ERASED_NAME).slice(1, -1),
  JSON.stringify(ERASED_NAME)
    .slice(1, -1)
    .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  ERASED_ID,
  ERASED_PHONE,
];

const leaks = (text: string): string[] => SECRETS.filter((s) => text.includes(s));

const code = (n: number) => `000.00.51.H56-251201-${String(300_000 + n)}`;

function applicantEvent(dossier: string, fullName: string, idNumber: string, phone?: string) {
  const event = submitted(dossier);
  Object.assign(event.data as object, P51, {
    applicant: { fullName, idNumber, ...(phone ? { phone } : {}) },
  });
  return event;
}

describe('erasure of a person, searched in every output', () => {
  let sims: { urls: Record<SimName, string>; child: ChildProcess };
  let broker: KafkaBroker;
  let hub: HubProcess;
  let receiver: WebhookReceiver;
  let prefix: string;
  let webhookId: string;
  let cli: Record<string, string>;
  const erasedDossiers = [code(1), code(2)];
  const keptDossier = code(3);
  /** Until the erasure, the receiver refuses the second dossier's deliveries (they wait in memory). */
  let holdSecond = true;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${hub.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${hub.adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, text, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };

  const lagZero = () =>
    eventually(async () => {
      const subs = await getJson(`${hub.url}/v1/admin/subscriptions`, hub.adminToken);
      const list = subs.body.subscriptions as { lagEvents: number }[];
      return list.length > 0 && list.every((s) => s.lagEvents === 0) ? true : undefined;
    }, 60_000);

  const topicRecords = (pattern: RegExp, done: (r: readonly ReadRecord[]) => boolean) =>
    readTopics(broker.brokers, pattern, done, 30_000);

  beforeAll(async () => {
    [sims, broker] = await Promise.all([startSimulators(), sharedKafka()]);
    receiver = await WebhookReceiver.start((d) =>
      holdSecond && d.event.lgspstream === `dossier-${erasedDossiers[1]}`
        ? { status: 503, headers: { 'retry-after': '1' } }
        : 204,
    );
    const dataDir = tempDir('lgsp-privacy-e2e-');
    prefix = `e2e-${randomUUID().slice(0, 8)}.lgsp`;
    hub = await startHubProcess({
      dataDir,
      env: {
        LGSP_CONFIG: connectorsConfig(dataDir, sims.urls),
        LGSP_CONNECTORS: 'all',
        LGSP_KAFKA_BROKERS: broker.brokers.join(','),
        LGSP_KAFKA_TOPIC_PREFIX: prefix,
        LGSP_WEBHOOKS_ALLOW_INSECURE: 'true',
      },
    });
    cli = { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken };
    const created = await api('POST', '/v1/webhooks', { url: receiver.url, description: 'province 51' });
    expect(created.status).toBe(201);
    webhookId = (created.body.webhook as { id: string }).id;
    const client = await runCli(['clients', 'create', '--name', 'so-51', '--province', '51', '--json'], cli);
    expect({ code: client.code, stderr: client.stderr }).toEqual({ code: 0, stderr: '' });

    for (const [i, dossier] of erasedDossiers.entries()) {
      expect(
        (await post(hub.url, hub.adminToken, applicantEvent(dossier, ERASED_NAME, ERASED_ID, ERASED_PHONE)))
          .status,
      ).toBe(201);
      const status = statusChanged(dossier, 2 + i);
      Object.assign(status.data as object, P51);
      expect((await post(hub.url, hub.adminToken, status)).status).toBe(201);
    }
    expect(
      (await post(hub.url, hub.adminToken, applicantEvent(keptDossier, KEPT_NAME, KEPT_ID))).status,
    ).toBe(201);
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
    await receiver?.down();
    sims?.child.kill('SIGTERM');
  });

  it('shows the person everywhere before, and nowhere after the erasure', async () => {
    // Before: the outputs carry the person, so the searches below can find a leak.
    await eventually(
      async () =>
        receiver.acknowledged.some((d) => d.event.lgspstream === `dossier-${erasedDossiers[0]}`)
          ? true
          : undefined,
      30_000,
    );
    expect(leaks(JSON.stringify(receiver.acknowledged.map((d) => d.event)))).toContain(ERASED_ID);
    const relayPattern = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.events\\.province\\.51$`);
    const relayed = await eventually(async () => {
      const records = await topicRecords(relayPattern, (r) => r.length >= 5);
      return records.length >= 5 ? records : undefined;
    }, 60_000);
    expect(leaks(relayed.map((r) => r.value).join('\n'))).toContain(ERASED_ID);
    await eventually(
      async () =>
        receiver.received.some((d) => d.event.lgspstream === `dossier-${erasedDossiers[1]}`)
          ? true
          : undefined,
      30_000,
    );
    await lagZero();
    const portalBefore = await (await fetch(`${sims.urls['national-portal']}/_sim/state`)).text();
    expect(leaks(portalBefore)).toContain(ERASED_ID);

    // The erasure: requested, then approved.
    const requested = await api('POST', '/v1/admin/erasures', {
      subjectId: ERASED_ID,
      note: 'citizen request',
    });
    expect(requested.status).toBe(201);
    expect(leaks(requested.text)).toEqual([]);
    const erasure = requested.body.erasure as { id: string; state: string };
    expect(erasure.state).toBe('requested');
    const mark = receiver.received.length;
    const approved = await api('POST', `/v1/admin/erasures/${erasure.id}/approve`);
    expect({ status: approved.status, leaks: leaks(approved.text) }).toEqual({ status: 200, leaks: [] });
    expect((approved.body.erasure as { state: string }).state).toBe('erased');
    holdSecond = false;

    // The notice reaches the webhook, for both dossiers, and the held delivery goes out erased.
    await eventually(async () => {
      const notices = receiver.acknowledged.filter((d) => d.event.type === PERSON_ERASED);
      return notices.length >= 2 ? notices : undefined;
    }, 60_000);
    await lagZero();
    const after = receiver.received.slice(mark);
    const held = after.filter(
      (d) => d.event.lgspstream === `dossier-${erasedDossiers[1]}` && d.event.type !== PERSON_ERASED,
    );
    expect(held.length).toBeGreaterThan(0);
    expect(leaks(after.map((d) => d.body).join('\n'))).toEqual([]);
    expect(JSON.stringify(held.map((d) => d.event.data))).toContain('[erased]');

    // Reads: views, streams, the global log, the erasure itself, the audit log.
    const reads = [
      ...erasedDossiers.flatMap((d) => [`/v1/dossiers/${d}`, `/v1/streams/dossier-${d}`]),
      '/v1/events?limit=1000',
      `/v1/admin/erasures/${erasure.id}`,
      '/v1/admin/erasures',
      '/v1/admin/audit?limit=1000',
      `/v1/webhooks/${webhookId}/attempts`,
      '/v1/admin/subscriptions',
    ];
    for (const path of reads) {
      const r = await api('GET', path);
      expect({ path, status: r.status, leaks: leaks(r.text) }).toEqual({ path, status: 200, leaks: [] });
    }
    const view = await api('GET', `/v1/dossiers/${erasedDossiers[0]}`);
    expect(view.text).toContain('[erased]');
    const kept = await api('GET', `/v1/dossiers/${keptDossier}`);
    expect(kept.text).toContain(KEPT_NAME);
    const stream = await api('GET', `/v1/streams/dossier-${erasedDossiers[0]}`);
    expect(stream.text).toContain(PERSON_ERASED);

    // A redelivery of the whole log to the webhook sends it erased.
    const redeliverMark = receiver.received.length;
    const redeliver = await api('POST', `/v1/webhooks/${webhookId}/redeliver`, { fromPosition: 1 });
    expect(redeliver.status).toBe(202);
    const redelivered = await eventually(async () => {
      const got = receiver.acknowledged.filter((d) => d.event.lgspreplay !== undefined);
      return got.length >= 7 ? got : undefined;
    }, 60_000);
    expect(receiver.received.length).toBeGreaterThan(redeliverMark);
    expect(leaks(redelivered.map((d) => d.body).join('\n'))).toEqual([]);

    // Kafka: the relay published the notices; a replay to province 51's consumer re-publishes erased.
    const notices = await topicRecords(
      relayPattern,
      (r) => r.filter((x) => x.headers['ce_type'] === PERSON_ERASED).length >= 2,
    );
    expect(
      notices
        .filter((r) => r.headers['ce_type'] === PERSON_ERASED)
        .map((r) => r.key)
        .sort(),
    ).toEqual([...erasedDossiers].sort());
    const run = await runCli(['replay', 'run', '--target', 'kafka:so-51', '--yes', '--json'], cli);
    expect({ code: run.code, leaks: leaks(run.stdout + run.stderr) }).toEqual({ code: 0, leaks: [] });
    const replayPattern = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.replay\\.so-51$`);
    const replayed = await topicRecords(replayPattern, (r) => r.length >= 7);
    expect(replayed.length).toBe(7);
    expect(leaks(replayed.map((r) => `${r.value} ${JSON.stringify(r.headers)}`).join('\n'))).toEqual([]);
    expect(replayed.map((r) => r.value).join('\n')).toContain(KEPT_NAME);

    // The connectors sent the dossiers again, erased: the portal's and the one-stop-shop's copies.
    await eventually(async () => {
      const portal = await (await fetch(`${sims.urls['national-portal']}/_sim/state`)).text();
      const shop = await (await fetch(`${sims.urls['one-stop-shop']}/_sim/state`)).text();
      return leaks(portal).length === 0 && leaks(shop).length === 0 ? true : undefined;
    }, 60_000);

    // The log still verifies; the audit log holds the erasure; nothing of the person in the hub's log.
    const verify = await runCli(['verify'], { LGSP_DATA_DIR: hub.dataDir });
    expect({ code: verify.code, leaks: leaks(verify.stdout + verify.stderr) }).toEqual({
      code: 0,
      leaks: [],
    });
    const audit = await api('GET', '/v1/admin/audit?limit=1000');
    const actions = (audit.body.entries as { action: string }[]).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['erasure.request', 'erasure.approve']));
    expect(leaks(hub.output())).toEqual([]);
    // At rest: no file of the data folder holds the person (sealed, then the key destroyed).
    for (const file of readdirSync(hub.dataDir)) {
      if (!/\.db/.test(file)) continue;
      const raw = readFileSync(join(hub.dataDir, file));
      expect({ file, leaks: SECRETS.filter((s) => raw.includes(Buffer.from(s))) }).toEqual({
        file,
        leaks: [],
      });
    }
  }, 300_000);
});
