import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dossierCode, getJson, post, statusChanged, submitted } from '../support/events.js';
import { eventually, runCli, startHubProcess, type HubProcess } from '../support/hub-process.js';
import { securedKafka, type SecuredKafkaBroker } from '../support/kafka.js';
import { produce, readTopics } from '../support/kafka-consumer.js';

/**
 * Issue 18, a secured Kafka cluster: the hub reaches the development broker's SASL_SSL listener
 * (SCRAM-SHA-512, the password from a file) and relays, ingests and replays through it; over the SSL
 * listener it presents its client certificate. A wrong password and an unknown CA fail readiness with a
 * problem naming the cause, and the password is in no line the hub writes.
 */
describe('the hub on a secured Kafka cluster', () => {
  let broker: SecuredKafkaBroker;
  let password: string;
  const hubs: HubProcess[] = [];
  const file = (name: string) => join(broker.certsDir, name);

  beforeAll(async () => {
    broker = await securedKafka();
    password = readFileSync(file('sasl.password'), 'utf8').trim();
  }, 120_000);

  afterAll(async () => {
    await Promise.all(hubs.map((hub) => hub.stop()));
    await broker?.stop();
  }, 120_000);

  async function start(env: Record<string, string>): Promise<HubProcess> {
    const hub = await startHubProcess({
      env: { LGSP_KAFKA_TOPIC_PREFIX: `e2esec${randomUUID().slice(0, 6)}`, ...env },
    });
    hubs.push(hub);
    return hub;
  }

  const sasl = (overrides: Record<string, string> = {}) => ({
    LGSP_KAFKA_BROKERS: broker.saslSsl.join(','),
    LGSP_KAFKA_TLS: 'true',
    LGSP_KAFKA_TLS_CA_FILE: file('ca.crt'),
    LGSP_KAFKA_SASL_MECHANISM: 'scram-sha-512',
    LGSP_KAFKA_SASL_USERNAME: broker.username,
    LGSP_KAFKA_SASL_PASSWORD_FILE: file('sasl.password'),
    ...overrides,
  });

  /** Reads the topic (over the PLAINTEXT listener) once it exists, until it holds `count` records. */
  const readTopic = (topic: string, count: number) =>
    eventually(async () => {
      const records = await readTopics(
        broker.brokers,
        new RegExp(`^${topic.replace(/\./g, '\\.')}$`),
        (r) => r.length >= count,
        10_000,
      );
      return records.length >= count ? records : undefined;
    }, 60_000);

  /** The readiness answer once the first Kafka check is in (the hub listens after it). */
  const readiness = async (hub: HubProcess) => {
    const response = await fetch(`${hub.url}/health/ready`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('relays, ingests and replays over SASL_SSL with SCRAM-SHA-512, the password read from a file', async () => {
    const prefix = `e2esec${randomUUID().slice(0, 6)}`;
    const hub = await start(sasl({ LGSP_KAFKA_TOPIC_PREFIX: prefix }));
    expect(await readiness(hub)).toMatchObject({
      status: 200,
      body: { status: 'ready', kafka: 'connected' },
    });
    const cli = { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken };
    for (const args of [
      ['clients', 'create', '--name', 'so-51', '--province', '51'],
      ['clients', 'create', '--name', 'binh-son', '--communes', '21040', '--sources', '/communes/21040/*'],
    ]) {
      const created = await runCli([...args, '--json'], cli);
      expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
    }

    // Relay: HTTP ingest, then the province topic (read back over the PLAINTEXT listener).
    const code = dossierCode();
    const events = [submitted(code), statusChanged(code, 2)];
    for (const event of events) expect((await post(hub.url, hub.adminToken, event)).status).toBe(201);
    const relayed = await readTopic(`${prefix}.events.province.51`, 2);
    expect(relayed.map((r) => r.headers.ce_id)).toEqual(events.map((e) => e.id));

    // Kafka ingest: a commune system produces to the ingest topic; the hub consumes it over SASL_SSL.
    const produced = submitted(dossierCode());
    const { data, datacontenttype: _type, ...attributes } = produced;
    await produce(broker.brokers, `${prefix}.ingest`, [
      {
        key: String((data as { dossierCode: string }).dossierCode),
        value: JSON.stringify(data),
        headers: {
          'content-type': 'application/json',
          ...Object.fromEntries(Object.entries(attributes).map(([k, v]) => [`ce_${k}`, String(v)])),
        },
      },
    ]);
    const stream = `dossier-${(data as { dossierCode: string }).dossierCode}`;
    await eventually(async () => {
      const r = await getJson(`${hub.url}/v1/streams/${stream}`, hub.adminToken);
      return r.status === 200 ? true : undefined;
    }, 60_000);

    // Replay to the province's consumer: its replay topic receives the province's events.
    const run = await runCli(['replay', 'run', '--target', 'kafka:so-51', '--yes', '--json'], cli);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).replay).toMatchObject({ state: 'completed', total: 3, failed: 0 });
    const replayed = await readTopic(`${prefix}.replay.so-51`, 3);
    expect(replayed.map((r) => r.headers.ce_id).sort()).toEqual(
      [...events.map((e) => e.id), produced.id].sort(),
    );

    expect(hub.output()).toContain(`"passwordFrom":"${file('sasl.password')}"`);
    expect(hub.output()).not.toContain(password);
  }, 180_000);

  it('presents its client certificate on the SSL listener (mutual TLS)', async () => {
    const hub = await start({
      LGSP_KAFKA_BROKERS: broker.ssl.join(','),
      LGSP_KAFKA_TLS: 'true',
      LGSP_KAFKA_TLS_CA_FILE: file('ca.crt'),
      LGSP_KAFKA_TLS_CERT_FILE: file('client.crt'),
      LGSP_KAFKA_TLS_KEY_FILE: file('client.key'),
    });
    expect(await readiness(hub)).toMatchObject({ status: 200, body: { kafka: 'connected' } });
  });

  it('is not ready with a wrong password, and says it is the authentication', async () => {
    const wrong = `wrong-${randomUUID()}`;
    const hub = await start(sasl({ LGSP_KAFKA_SASL_PASSWORD_FILE: '', LGSP_KAFKA_SASL_PASSWORD: wrong }));
    const { status, body } = await readiness(hub);
    expect(status).toBe(503);
    expect(body.detail).toMatch(
      /^Kafka refused the connection \(authentication\): .*SASL authentication failed/,
    );
    expect(hub.output()).toMatch(/Kafka refused the connection/);
    expect(hub.output()).not.toContain(wrong);
  });

  it('is not ready when the broker’s certificate is signed by a CA it does not trust, and says so', async () => {
    const hub = await start(sasl({ LGSP_KAFKA_TLS_CA_FILE: file('untrusted-ca.crt') }));
    const { status, body } = await readiness(hub);
    expect(status).toBe(503);
    expect(body.detail).toMatch(
      /^Kafka refused the connection \(certificate\): .*the broker's TLS certificate is not trusted/,
    );
  });
});
