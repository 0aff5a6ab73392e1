import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANY_VERSION, type EventToAppend } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import type { Client } from '#lgsp/security';
import { type ConsumedMessage, type KafkaClient, type KafkaConsumer, KafkaTopics } from '#lgsp/kafka';
import { silentLogger, type Logger } from '#lgsp/observability';

/** Topics of their own for one test, so that tests sharing a broker never see each other's records. */
export function uniqueTopics(): KafkaTopics {
  return new KafkaTopics({ prefix: `it-${randomUUID().slice(0, 8)}.lgsp` });
}

export const uniqueGroup = (what: string): string => `it-${what}-${randomUUID().slice(0, 8)}`;

/** Polls `check` every 20 ms until it holds; fails with `what` after `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Reads a topic from the beginning in a consumer group of its own, keeping every record in the order
 * each partition delivered it.
 */
export class TopicReader {
  readonly records: ConsumedMessage[] = [];
  /** Set when the client library gave up on the consumer. */
  failure: unknown;
  private readonly consumer: KafkaConsumer;

  constructor(client: KafkaClient, topic: string) {
    this.consumer = client.consumer({ groupId: uniqueGroup('reader'), topic });
  }

  async start(): Promise<this> {
    await this.consumer.start(
      async (message) => {
        this.records.push(message);
        return { kind: 'done' };
      },
      (error) => {
        this.failure = error;
      },
    );
    return this;
  }

  stop(): Promise<void> {
    return this.consumer.stop();
  }
}

/** Header values of a consumed record as text. */
export function textHeaders(message: ConsumedMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.map(String).join(',') : String(value);
  }
  return out;
}

/** A logger that keeps warnings and errors, to print when a test fails (and stays quiet otherwise). */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (obj: object, msg: string) =>
    lines.push(`${level} ${msg} ${JSON.stringify(obj)}`);
  return { ...silentLogger, warn: keep('warn'), error: keep('error'), lines };
}

/** Two provinces the Kafka specs spread their dossiers over (one commune each). */
export const TEST_PROVINCES = [
  { provinceCode: '51', communeCode: '21040' },
  { provinceCode: '01', communeCode: '00004' },
] as const;

/** A status change (to 2) of `dossierCode` in `place`, event id `evt-<seq>`, its traceparent from `seq`. */
export function statusChangedEvent(
  seq: number,
  dossierCode: string,
  place: { provinceCode: string; communeCode: string },
): EventToAppend {
  const { provinceCode, communeCode } = place;
  return {
    stream: `dossier-${dossierCode}`,
    expectedVersion: ANY_VERSION,
    id: `evt-${seq}`,
    source: `/communes/${communeCode}/one-stop-shop`,
    type: 'vn.gov.lgsp.dossier.status-changed.v1',
    time: '2025-07-01T09:15:00+07:00',
    datacontenttype: 'application/json',
    data: { dossierCode, provinceCode, communeCode, status: 2, changedAt: '2025-07-01T09:15:00+07:00' },
    extensions: { traceparent: `00-${'0'.repeat(16)}${String(seq).padStart(16, '0')}-00f067aa0ba902b7-01` },
    provinceCode,
    communeCode,
  };
}

/** A registered client as the client store gives it. */
export const testClient = (name: string, role: Client['role'], codes: Partial<Client> = {}): Client => ({
  id: `id-${name}`,
  name,
  role,
  communeCodes: [],
  sources: [],
  createdAt: '2025-01-01T00:00:00Z',
  ...codes,
});

/**
 * A fresh SQLite event store in a temporary folder for each test of the file, and the test's cleanups
 * (relays, consumers): after each test the cleanups run in parallel (each consumer may wait for its
 * fetch in flight), then the store is closed and its folder removed.
 */
export function storePerTest(
  prefix: string,
  timeoutMs: number,
): { readonly store: SqliteEventStore; readonly cleanups: (() => Promise<void>)[] } {
  let dir = '';
  let store: SqliteEventStore | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  });
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup().catch(() => undefined)));
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  }, timeoutMs);
  return {
    get store(): SqliteEventStore {
      if (store === undefined) throw new Error('the store exists only inside a test');
      return store;
    },
    cleanups,
  };
}
