import { randomUUID } from 'node:crypto';
import { dossierCode, getJson, statusChanged, submitted } from '../support/events.js';
import { eventually, runCli, startHubProcess, type HubProcess } from '../support/hub-process.js';
import { sharedKafka } from '../support/kafka.js';
import { distinctIds, produce, readTopics } from '../support/kafka-consumer.js';

/** A binary-mode Kafka record of a CloudEvent: ce_* headers, the data as the value. */
function binary(event: Record<string, unknown>): {
  key: string;
  value: string;
  headers: Record<string, string>;
} {
  const { data, ...attributes } = event;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(attributes)) {
    if (name !== 'datacontenttype') headers[`ce_${name}`] = String(value);
  }
  return { key: String((data as { dossierCode: string }).dossierCode), value: JSON.stringify(data), headers };
}

describe('commune systems produce CloudEvents to the Kafka ingest topic of the hub', () => {
  let hub: HubProcess;
  afterAll(async () => {
    await hub?.stop();
  });

  it('appends a valid event once even when produced twice, and dead-letters malformed, invalid and unbound messages', async () => {
    const kafka = await sharedKafka();
    const prefix = `e2eingest${randomUUID().slice(0, 6)}`;
    hub = await startHubProcess({
      env: { LGSP_KAFKA_BROKERS: kafka.brokers.join(','), LGSP_KAFKA_TOPIC_PREFIX: prefix },
    });
    const created = await runCli(
      [
        'clients',
        'create',
        '--name',
        'binh-son-kafka',
        '--communes',
        '21040',
        '--sources',
        '/communes/21040/*',
        '--json',
      ],
      { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken },
    );
    expect(created.code).toBe(0);

    const code = dossierCode();
    const valid = binary(submitted(code));
    const invalid = binary(statusChanged(code, 11));
    const unbound = binary(submitted(dossierCode(), { source: '/communes/99999/unknown-system' }));
    const malformed = {
      key: code,
      value: '{"dossierCode": ',
      headers: { ...valid.headers, ce_id: randomUUID() },
    };
    await produce(kafka.brokers, `${prefix}.ingest`, [valid, valid, malformed, invalid, unbound]);

    const stream = await eventually(async () => {
      const r = await getJson(`${hub.url}/v1/streams/dossier-${code}`, hub.adminToken);
      return r.status === 200 ? (r.body.events as { event: { id: string } }[]) : undefined;
    }, 60_000);
    // Dead letters are at least once too (a rebalance between the send and the commit repeats one):
    // read until three distinct events are there, and judge each by its first record.
    const dead = await readTopics(
      kafka.brokers,
      new RegExp(`^${prefix}\\.ingest\\.dlq$`),
      distinctIds(3),
      60_000,
    );

    expect(stream.map((e) => e.event.id)).toEqual([valid.headers.ce_id]);
    const byId = new Map([...dead].reverse().map((r) => [r.headers.ce_id, r]));
    expect([...byId.values()].map((r) => r.headers.lgsp_dlq_code).sort()).toEqual([
      'invalid',
      'malformed',
      'unauthenticated',
    ]);
    expect(byId.get(malformed.headers.ce_id)?.headers).toMatchObject({
      lgsp_dlq_code: 'malformed',
      lgsp_original_topic: `${prefix}.ingest`,
    });
    expect(byId.get(invalid.headers.ce_id)?.headers.lgsp_dlq_code).toBe('invalid');
    expect(JSON.parse(byId.get(invalid.headers.ce_id)?.headers.lgsp_dlq_errors ?? '[]')).toEqual(
      expect.arrayContaining([expect.objectContaining({ pointer: '/data/status' })]),
    );
    expect(byId.get(unbound.headers.ce_id)?.headers.lgsp_dlq_code).toBe('unauthenticated');
    for (const r of dead) {
      expect(r.headers.lgsp_dlq_reason).toEqual(expect.any(String));
      expect(r.headers.lgsp_original_partition).toMatch(/^[0-9]+$/);
      expect(r.headers.lgsp_original_offset).toMatch(/^[0-9]+$/);
    }

    const metrics = await (await fetch(`${hub.url}/metrics`)).text();
    expect(metrics).toMatch(/lgsp_kafka_ingest_messages_total\{outcome="appended",code=""\} 1/);
    expect(metrics).toMatch(/lgsp_kafka_ingest_messages_total\{outcome="duplicate",code=""\} 1/);
  });
});
