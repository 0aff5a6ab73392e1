// The example subscriber against a real broker: binary-mode CloudEvents produced with kafkajs to a
// province topic end up in view.json once each, also across a restart that reads the topic again.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import { Kafka, Partitioners, logLevel, type Message } from 'kafkajs';
import { sharedKafka } from '../../../test/support/kafka.js';
import { loadSubscriberConfig, type SubscriberConfig } from './config.js';
import type { ProvinceViewJson } from './province-view.js';
import { kafkaTransport, ProvinceSubscriberModule } from './province-subscriber.module.js';

const SLOW = 120_000;
const SOURCE = '/communes/21040/one-stop-shop';
const run = randomUUID().slice(0, 8);
const DOSSIER_A = `000.00.15.H55-250701-${run}`;
const DOSSIER_B = `000.00.15.H55-250702-${run}`;

/** A message as the hub's relay publishes it (schemas/asyncapi.yaml, province topics). */
function relayed(
  dossierCode: string,
  position: number,
  streamVersion: number,
  type: string,
  data: Record<string, unknown>,
  id = `${run}-${position}`,
): Message {
  return {
    key: dossierCode,
    value: JSON.stringify({ dossierCode, provinceCode: '51', communeCode: '21040', ...data }),
    headers: {
      ce_specversion: '1.0',
      ce_id: id,
      ce_source: SOURCE,
      ce_type: `vn.gov.lgsp.${type}.v1`,
      ce_time: '2025-07-01T09:15:00+07:00',
      'content-type': 'application/json',
      lgsp_position: String(position),
      lgsp_stream: `dossier-${dossierCode}`,
      lgsp_stream_version: String(streamVersion),
    },
  };
}

async function waitFor<T>(what: string, read: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('province-subscriber', () => {
  let brokers: string[];
  let kafka: Kafka;
  let dataDir: string;
  let config: SubscriberConfig;
  let app: INestMicroservice | undefined;

  const start = async (groupId: string): Promise<INestMicroservice> => {
    const settings = { ...config, groupId };
    const started = await NestFactory.createMicroservice(ProvinceSubscriberModule.forRoot(settings), {
      ...kafkaTransport(settings),
      logger: ['error'],
    });
    await started.listen();
    return started;
  };

  const readView = (): ProvinceViewJson | undefined => {
    const file = join(dataDir, 'view.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ProvinceViewJson) : undefined;
  };

  beforeAll(async () => {
    brokers = (await sharedKafka()).brokers;
    dataDir = mkdtempSync(join(tmpdir(), 'province-subscriber-'));
    config = loadSubscriberConfig({
      PROVINCE: '51',
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_TOPIC_PREFIX: `lgsp-it-${run}`,
      DATA_DIR: dataDir,
    });
    kafka = new Kafka({ clientId: 'province-subscriber-test', brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: config.topic, numPartitions: 6 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
  }, SLOW);

  afterAll(async () => {
    await app?.close();
    if (kafka !== undefined) {
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [config.topic] }).catch(() => undefined);
      await admin.disconnect();
    }
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  }, SLOW);

  it(
    'applies each event once, drops duplicates and unreadable messages, and keeps its view across a restart',
    async () => {
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const submittedA = relayed(DOSSIER_A, 101, 1, 'dossier.submitted', { procedureCode: '1.001193' });
      const unreadable = relayed(DOSSIER_B, 0, 0, 'dossier.submitted', {});
      delete (unreadable.headers as Record<string, string>)['ce_id'];
      await producer.send({
        topic: config.topic,
        acks: -1,
        messages: [
          submittedA,
          relayed(DOSSIER_B, 102, 1, 'dossier.submitted', { procedureCode: '1.001193' }),
          relayed(DOSSIER_A, 103, 2, 'dossier.status-changed', {
            status: 2,
            changedAt: '2025-07-01T09:00:00+07:00',
          }),
          submittedA, // the relay restarted and sent it again
          unreadable,
          relayed(DOSSIER_A, 104, 3, 'dossier.status-changed', {
            status: 4,
            changedAt: '2025-07-01T09:15:00+07:00',
          }),
        ],
      });
      await producer.disconnect();

      app = await start(`${config.groupId}-${run}`);
      const view = await waitFor('the first view', () => {
        const current = readView();
        const { applied = 0, duplicates = 0, rejected = 0 } = current?.totals ?? {};
        return applied + duplicates + rejected === 6 ? current : undefined;
      });
      expect(view.totals).toEqual({ applied: 4, duplicates: 1, rejected: 1 });
      expect(view.dossiers[DOSSIER_A]).toMatchObject({
        status: 4,
        lastPosition: 104,
        streamVersion: 3,
        eventCount: 3,
        lastEventType: 'vn.gov.lgsp.dossier.status-changed.v1',
      });
      expect(view.dossiers[DOSSIER_B]).toMatchObject({ status: null, lastPosition: 102, eventCount: 1 });

      // A restart in a new consumer group reads the whole topic again: the saved view drops it all.
      await app.close();
      app = await start(`${config.groupId}-${run}-again`);
      const again = await waitFor('the view after the restart', () => {
        const current = readView();
        return current !== undefined && current.totals.duplicates + current.totals.rejected === 8
          ? current
          : undefined;
      });
      expect(again.totals).toEqual({ applied: 4, duplicates: 6, rejected: 2 });
      expect(again.dossiers).toEqual(view.dossiers);
    },
    SLOW,
  );
});
