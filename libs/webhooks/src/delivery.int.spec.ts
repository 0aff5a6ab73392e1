import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { AdminUnits, eventSchemaId, exampleEvent } from '#lgsp/contracts';
import { SqlParkingStore } from '#lgsp/connectors';
import { ANY_VERSION, type EventToAppend, type StoredEvent } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { STATUS_CHANGED, SUBMITTED, statusChange } from '#lgsp/event-store/testing';
import { silentLogger, type Logger } from '#lgsp/observability';
import type { Client } from '#lgsp/security';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { Subscriptions } from '#lgsp/subscriptions';
import {
  CLOUDEVENTS_JSON,
  WebhookDelivery,
  type WebhookDeliverySettings,
  type WebhookObserver,
} from './delivery.js';
import { webhookTarget, type RequeuedDeliveries } from './model.js';
import { WebhookReplayTarget } from './replay-target.js';
import { WebhookSender } from './sender.js';
import { messageId } from './signing.js';
import { SqlWebhookStore } from './sql-webhook-store.js';
import { WebhookService, type WebhookServiceSettings } from './webhook-service.js';

const CREATED = '2026-12-01T00:00:00.000Z';
const admin: Client = {
  id: 'c-admin',
  name: 'ops',
  role: 'admin',
  communeCodes: [],
  sources: [],
  createdAt: CREATED,
};
const province = (code: string): Client => ({
  id: `c-${code}`,
  name: `so-tu-phap-${code}`,
  role: 'province',
  provinceCode: code,
  communeCodes: [],
  sources: [],
  createdAt: CREATED,
});
const commune: Client = {
  id: 'c-commune',
  name: 'xa-21040',
  role: 'commune',
  provinceCode: '51',
  communeCodes: ['21040'],
  sources: ['/communes/21040'],
  createdAt: CREATED,
};

/** One request a receiver got. */
interface Received {
  at: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  event: Record<string, unknown>;
}

interface Answer {
  status: number;
  headers?: Record<string, string>;
}

/** A webhook endpoint on 127.0.0.1 that records every request and answers as `answer` says (204 by default). */
class Receiver {
  readonly received: Received[] = [];
  answer: (r: Received) => Answer = () => ({ status: 204 });
  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<Receiver> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const receiver = new Receiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const r: Received = { at: Date.now(), headers: req.headers, body, event: JSON.parse(body) };
        receiver.received.push(r);
        const a = receiver.answer(r);
        res.writeHead(a.status, a.headers).end(a.status >= 300 ? 'no' : undefined);
      });
    });
    return receiver;
  }

  /** Positions received, in arrival order, of one stream when given. */
  positions(stream?: string): number[] {
    return this.received
      .filter((r) => stream === undefined || r.event['lgspstream'] === `dossier-${stream}`)
      .map((r) => r.event['lgspposition'] as number);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function verifies(r: Received, secret: string): boolean {
  try {
    new Webhook(secret).verify(r.body, {
      'webhook-id': String(r.headers['webhook-id']),
      'webhook-timestamp': String(r.headers['webhook-timestamp']),
      'webhook-signature': String(r.headers['webhook-signature']),
    });
    return true;
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lgsp-webhooks-'));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function receiver(): Promise<Receiver> {
  const r = await Receiver.start();
  cleanups.push(() => r.close());
  return r;
}

let seq = 0;

/** The hub's webhook parts on one SQLite file of events and one SQLite database of state, started. */
async function hub(
  settings: Partial<WebhookDeliverySettings> = {},
  serviceSettings: Partial<WebhookServiceSettings> = {},
  clock?: { now(): number },
  observer?: WebhookObserver,
  /**
   * As with privacy on: the log stores `secret: 'sealed:<v>'`; the delivery's subscriber reads it as
   * stored and opens the pages it takes (`opened` counts them), everything else reads it opened.
   */
  layered?: { opened: number[] },
) {
  const stored = SqliteEventStore.open({ file: join(dir, 'events.db') });
  const openData = (e: StoredEvent): StoredEvent => {
    const data = e.data as { secret?: unknown };
    return typeof data.secret === 'string' && data.secret.startsWith('sealed:')
      ? { ...e, data: { ...data, secret: data.secret.slice('sealed:'.length) } }
      : e;
  };
  const events: SqliteEventStore = layered
    ? Object.assign(Object.create(stored) as SqliteEventStore, {
        readAll: async (o?: Parameters<SqliteEventStore['readAll']>[0]) =>
          (await stored.readAll(o)).map(openData),
      })
    : stored;
  const db = SqliteDatabase.open(':memory:');
  const store = await SqlWebhookStore.open(db);
  const parking = await SqlParkingStore.open(db);
  const errors: string[] = [];
  const logger: Logger = { ...silentLogger, error: (_, msg) => errors.push(msg) };
  const startDelivery = async () => {
    const delivery = new WebhookDelivery({
      store,
      events,
      parking,
      logger,
      sender: new WebhookSender({ allowInsecureTargets: true, timeoutMs: 2000 }),
      settings: { retryDelaysMs: [50, 100, 200], pollMs: 50, jitter: 0, ...settings },
      ...(clock ? { clock } : {}),
      ...(observer ? { observer } : {}),
      ...(layered
        ? {
            open: async (page: readonly StoredEvent[]) => {
              layered.opened.push(page.length);
              return page.map(openData);
            },
          }
        : {}),
    });
    const subscriptions = new Subscriptions({
      store: events,
      pollIntervalMs: 50,
      retry: { initialDelayMs: 5, maxDelayMs: 20 },
    });
    subscriptions.register(delivery, layered ? { store: stored } : {});
    await subscriptions.start();
    delivery.start();
    return {
      delivery,
      stop: async () => {
        await subscriptions.stop();
        await delivery.stop();
      },
    };
  };
  let running: Awaited<ReturnType<typeof startDelivery>> | undefined = await startDelivery();
  const service = new WebhookService({
    store,
    events,
    units: AdminUnits.sample(),
    settings: {
      allowInsecureTargets: true,
      secretOverlapSeconds: 86_400,
      defaultRatePerSecond: 1000,
      maxRatePerSecond: 1000,
      ...serviceSettings,
    },
    changed: () => running?.delivery.poke(),
  });
  cleanups.unshift(async () => {
    await running?.stop();
    stored.close();
    await db.close();
  });

  /** Stops the delivery (as a process stops), then starts another on the same data. */
  async function restart(between: () => Promise<void> = async () => undefined): Promise<void> {
    await running?.stop();
    running = undefined;
    await between();
    running = await startDelivery();
  }

  /** Appends one event of dossier `dossier` and returns its position. */
  async function append(dossier: string, overrides: Partial<EventToAppend> = {}): Promise<number> {
    seq += 1;
    const [result] = await events.append([
      statusChange(seq, {
        stream: `dossier-${dossier}`,
        data: { dossierCode: dossier, n: seq },
        ...overrides,
      }),
    ]);
    return result!.position;
  }

  return {
    errors,
    events,
    store,
    parking,
    service,
    append,
    restart,
    get delivery(): WebhookDelivery {
      return running!.delivery;
    },
  };
}

describe('WebhookDelivery', () => {
  it('posts each event as a signed structured CloudEvent that standardwebhooks verifies', async () => {
    const h = await hub();
    const r = await receiver();
    const { webhook, secret } = await h.service.create(admin, { url: r.url });
    const a1 = await h.append('A');
    const b1 = await h.append('B', { type: SUBMITTED, extensions: { lgspchannel: 'portal' } });
    const a2 = await h.append('A');

    await eventually(() => r.received.length === 3);
    expect(r.positions('A')).toEqual([a1, a2]);
    expect(r.positions('B')).toEqual([b1]);
    for (const got of r.received) {
      expect(verifies(got, secret)).toBe(true);
      expect(got.headers['content-type']).toBe(CLOUDEVENTS_JSON);
      expect(got.headers['webhook-id']).toBe(messageId(webhook.id, got.event['lgspposition'] as number));
      expect(Math.abs(Number(got.headers['webhook-timestamp']) - got.at / 1000)).toBeLessThan(5);
    }
    const [first] = (await h.events.readAll({ after: b1 - 1, limit: 1 })) as [
      Awaited<ReturnType<typeof h.events.readAll>>[number],
    ];
    expect(r.received.find((x) => x.event['lgspposition'] === b1)?.event).toEqual({
      lgspchannel: 'portal',
      specversion: '1.0',
      id: first.id,
      source: '/communes/21040',
      type: SUBMITTED,
      lgspposition: b1,
      lgspstream: 'dossier-B',
      lgspstreamversion: 1,
      data: first.data,
    });
    expect(r.received.find((x) => x.event['lgspposition'] === a2)?.event).toMatchObject({
      lgspstream: 'dossier-A',
      lgspstreamversion: 2,
    });
    await eventually(async () => (await h.service.get(admin, webhook.id)).checkpoint === a2);
    expect(await h.service.get(admin, webhook.id)).toMatchObject({
      checkpoint: a2,
      lag: { events: 0, seconds: 0 },
      pending: 0,
      parked: 0,
    });
    // Attempt lines are written by the outcome writer shortly after the answers.
    await eventually(
      async () => (await h.service.attempts(admin, webhook.id, { limit: 10 })).attempts.length >= 3,
    );
    const { attempts } = await h.service.attempts(admin, webhook.id, { limit: 10 });
    expect(attempts.map((a) => [a.position, a.attempt, a.status, a.outcome])).toEqual(
      expect.arrayContaining([
        [a1, 1, 204, 'delivered'],
        [b1, 1, 204, 'delivered'],
        [a2, 1, 204, 'delivered'],
      ]),
    );
  });

  it('does not wait out a wall clock stepped back while a retry is pending', async () => {
    // The process's wall clock: two hours back 100 ms after the first try failed (its retry then
    // scheduled), as an NTP step would.
    let offset = 0;
    const h = await hub({ retryDelaysMs: [400, 400] }, {}, { now: () => Date.now() + offset });
    const r = await receiver();
    await h.service.create(admin, { url: r.url });
    r.answer = () => {
      if (r.received.length > 1) return { status: 200 };
      setTimeout(() => (offset = -2 * 3_600_000), 100);
      return { status: 503 };
    };
    const a1 = await h.append('A');
    await eventually(() => r.received.length === 2);
    expect(r.positions('A')).toEqual([a1, a1]);
    // Retried after its delay, not two hours later.
    expect(r.received[1]!.at - r.received[0]!.at).toBeLessThan(2000);
  });

  it('keeps each dossier in order through a retry while other dossiers flow, with the same webhook-id', async () => {
    const h = await hub({ retryDelaysMs: [400, 400] });
    const r = await receiver();
    const { webhook, secret } = await h.service.create(admin, { url: r.url });
    let failed = false;
    r.answer = (got) => {
      if (got.event['lgspstream'] === 'dossier-A' && !failed) {
        failed = true;
        return { status: 500 };
      }
      return { status: 200 };
    };
    const a1 = await h.append('A');
    const b1 = await h.append('B');
    const a2 = await h.append('A');
    const b2 = await h.append('B');
    const a3 = await h.append('A');
    const b3 = await h.append('B');

    await eventually(() => r.received.length === 7);
    expect(r.positions('A')).toEqual([a1, a1, a2, a3]);
    expect(r.positions('B')).toEqual([b1, b2, b3]);
    const retryIndex = r.received.findIndex((x, i) => i > 0 && x.event['lgspposition'] === a1);
    const lastB = r.received.findIndex((x) => x.event['lgspposition'] === b3);
    expect(lastB).toBeLessThan(retryIndex);
    const tries = r.received.filter((x) => x.event['lgspposition'] === a1);
    expect(tries[1]!.headers['webhook-id']).toBe(tries[0]!.headers['webhook-id']);
    expect(tries[1]!.body).toBe(tries[0]!.body);
    expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(390);
    expect(tries.every((x) => verifies(x, secret))).toBe(true);

    await eventually(
      async () =>
        (await h.service.attempts(admin, webhook.id, { limit: 10, position: a1 })).attempts.length === 2,
    );
    const { attempts } = await h.service.attempts(admin, webhook.id, { limit: 10, position: a1 });
    expect(attempts.map((a) => [a.attempt, a.status, a.outcome])).toEqual([
      [1, 500, 'retry'],
      [2, 200, 'delivered'],
    ]);
    expect(attempts[0]!.nextAt).toBeDefined();
    expect(attempts[0]!.error).toBe('answered 500');
    await eventually(async () => (await h.service.get(admin, webhook.id)).failingSince === undefined);
  });

  it('honours the Retry-After of a 429', async () => {
    const h = await hub({ retryDelaysMs: [50, 50] });
    const r = await receiver();
    await h.service.create(admin, { url: r.url });
    r.answer = () =>
      r.received.length === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 204 };
    const a1 = await h.append('A');

    await eventually(() => r.received.length === 2);
    expect(r.positions()).toEqual([a1, a1]);
    expect(r.received[1]!.at - r.received[0]!.at).toBeGreaterThanOrEqual(995);
  });

  it('parks a dossier whose schedule is spent; its later events wait, others flow; retry sends them in order, skip drops them', async () => {
    const h = await hub({ retryDelaysMs: [30, 30] });
    const r = await receiver();
    const { webhook } = await h.service.create(admin, { url: r.url });
    const target = webhookTarget(webhook.id);
    let failA = true;
    r.answer = (got) => ({ status: failA && got.event['lgspstream'] === 'dossier-A' ? 503 : 204 });

    const a1 = await h.append('A');
    const a2 = await h.append('A');
    const b1 = await h.append('B');
    await eventually(async () => (await h.parking.isParked(target, 'A')) && r.positions('B').length === 1);
    const [parked] = await h.parking.list({ target, limit: 10 });
    expect(parked).toMatchObject({ target, dossier: 'A', firstPosition: a1, attempts: 3 });
    const a3 = await h.append('A');
    const b2 = await h.append('B');
    await eventually(() => r.positions('B').length === 2);
    await eventually(async () => (await h.parking.get(target, 'A'))?.lastPosition === a3);
    expect(r.positions('A')).toEqual([a1, a1, a1]);
    expect(r.positions('B')).toEqual([b1, b2]);
    // The delivered-through mark is written by the outcome writer shortly after the answers.
    await eventually(async () => (await h.service.get(admin, webhook.id)).checkpoint === b2);
    expect(await h.service.get(admin, webhook.id)).toMatchObject({
      parked: 1,
      pending: 2,
      // The events held behind a parking count as handled: the checkpoint is not held back by them.
      checkpoint: b2,
    });
    const log = await h.service.attempts(admin, webhook.id, { limit: 10, position: a1 });
    expect(log.attempts.map((a) => a.outcome)).toEqual(['retry', 'retry', 'parked']);

    failA = false;
    await h.parking.retry(target, 'A', { by: 'ops', at: new Date().toISOString() });
    expect(await h.service.retryParked(webhook.id, 'A')).toBe(1);
    await eventually(() => r.positions('A').length === 6);
    expect(r.positions('A')).toEqual([a1, a1, a1, a1, a2, a3]);
    await eventually(async () => (await h.service.get(admin, webhook.id)).pending === 0);

    failA = true;
    const a4 = await h.append('A');
    await eventually(async () => h.parking.isParked(target, 'A'));
    const a5 = await h.append('A');
    await eventually(async () => (await h.parking.get(target, 'A'))?.lastPosition === a5);
    // The held delivery is kept in the table by the outcome writer, shortly after it was queued.
    await eventually(async () => (await h.store.outstanding(webhook.id)).length === 2);
    failA = false;
    await h.parking.skip(target, 'A', { by: 'ops', at: new Date().toISOString() });
    expect(await h.service.skipParked(webhook.id, 'A', a5)).toBe(2);
    const a6 = await h.append('A');
    await eventually(() => r.positions('A').includes(a6));
    await sleep(100);
    expect(r.positions('A').filter((p) => p > a3)).toEqual([a4, a4, a4, a6]);
    expect(await h.service.get(admin, webhook.id)).toMatchObject({ pending: 0, parked: 0, checkpoint: a6 });
  });

  it('is disabled at once by a 410, and catches up from its checkpoint when enabled', async () => {
    const h = await hub();
    const r = await receiver();
    const { webhook } = await h.service.create(admin, { url: r.url });
    let gone = true;
    r.answer = () => ({ status: gone ? 410 : 204 });

    const a1 = await h.append('A');
    await eventually(async () => (await h.service.get(admin, webhook.id)).state === 'disabled');
    const disabled = await h.service.get(admin, webhook.id);
    expect(disabled.disabledReason).toMatch(/410/);
    expect(disabled.disabledAt).toBeDefined();
    const a2 = await h.append('A');
    const b1 = await h.append('B');
    await sleep(200);
    expect(r.positions()).toEqual([a1]);
    const { attempts } = await h.service.attempts(admin, webhook.id, { limit: 10 });
    expect(attempts.map((a) => [a.position, a.status, a.outcome])).toEqual([[a1, 410, 'disabled']]);

    gone = false;
    const enabled = await h.service.enable(admin, webhook.id);
    expect(enabled).toMatchObject({ state: 'active', checkpoint: a1 - 1 });
    expect(enabled).not.toHaveProperty('disabledReason');
    await eventually(() => r.received.length === 4);
    expect(r.positions('A')).toEqual([a1, a1, a2]);
    expect(r.positions('B')).toEqual([b1]);
    const a3 = await h.append('A');
    await eventually(() => r.positions('A').includes(a3));
    await eventually(async () => (await h.service.get(admin, webhook.id)).checkpoint === a3);
  });

  it('is disabled when every try fails for disableAfterMs', async () => {
    const h = await hub({ retryDelaysMs: Array<number>(20).fill(40), disableAfterMs: 300 });
    const r = await receiver();
    const { webhook } = await h.service.create(admin, { url: r.url });
    r.answer = () => ({ status: 500 });

    const a1 = await h.append('A');
    await eventually(async () => (await h.service.get(admin, webhook.id)).state === 'disabled');
    const view = await h.service.get(admin, webhook.id);
    expect(view.disabledReason).toMatch(/failed every try since/);
    expect(view.failingSince).toBeDefined();
    const { attempts } = await h.service.attempts(admin, webhook.id, { limit: 100 });
    expect(attempts.at(-1)?.outcome).toBe('disabled');
    expect(attempts.slice(0, -1).every((a) => a.outcome === 'retry')).toBe(true);
    expect(r.received.length).toBe(attempts.length);
    const tries = r.received.length;
    await sleep(150);
    expect(r.received.length).toBe(tries);

    r.answer = () => ({ status: 204 });
    await h.service.enable(admin, webhook.id);
    await eventually(() => r.received.length === tries + 1);
    expect(r.positions().at(-1)).toBe(a1);
    await eventually(async () => (await h.service.get(admin, webhook.id)).failingSince === undefined);
  });

  it('signs with both secrets after a rotation until the overlap ends, then with the new one only', async () => {
    const h = await hub({}, { secretOverlapSeconds: 1 });
    const r = await receiver();
    const { webhook, secret: old } = await h.service.create(admin, { url: r.url });
    await h.append('A');
    await eventually(() => r.received.length === 1);
    expect(verifies(r.received[0]!, old)).toBe(true);

    const rotated = await h.service.rotateSecret(admin, webhook.id);
    expect(rotated.secret).not.toBe(old);
    expect(rotated.webhook.previousSecretExpiresAt).toBeDefined();
    expect(rotated.webhook.secretRotatedAt).toBeDefined();
    await sleep(100);
    await h.append('A');
    await eventually(() => r.received.length === 2);
    const during = r.received[1]!;
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifies(during, old)).toBe(true);
    expect(verifies(during, rotated.secret)).toBe(true);

    await sleep(Date.parse(rotated.webhook.previousSecretExpiresAt!) - Date.now() + 50);
    await h.append('A');
    await eventually(() => r.received.length === 3);
    const after = r.received[2]!;
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verifies(after, rotated.secret)).toBe(true);
    expect(verifies(after, old)).toBe(false);
    expect(await h.service.get(admin, webhook.id)).not.toHaveProperty('previousSecretExpiresAt');
  });

  it('redelivers from a position with the same webhook-ids, marked lgspreplay; a replay marks its bodies too', async () => {
    const h = await hub();
    const r = await receiver();
    const { webhook, secret } = await h.service.create(admin, { url: r.url });
    const a1 = await h.append('A');
    const b1 = await h.append('B');
    const a2 = await h.append('A');
    await eventually(() => r.received.length === 3);
    await eventually(async () => (await h.service.get(admin, webhook.id)).checkpoint === a2);
    const firstTime = new Map(r.received.map((x) => [x.event['lgspposition'] as number, x]));

    await expect(h.service.redeliver(admin, webhook.id, a2 + 2)).rejects.toMatchObject({ code: 'invalid' });
    await expect(h.service.redeliver(admin, webhook.id, 0)).rejects.toMatchObject({ code: 'invalid' });
    const view = await h.service.redeliver(admin, webhook.id, b1);
    expect(view.checkpoint).toBe(b1 - 1);
    await eventually(() => r.received.length === 5);
    const again = r.received.slice(3);
    expect(again.map((x) => x.event['lgspposition']).sort()).toEqual([b1, a2].sort());
    for (const x of again) {
      const before = firstTime.get(x.event['lgspposition'] as number)!;
      expect(before.event).not.toHaveProperty('lgspreplay');
      expect(x.headers['webhook-id']).toBe(before.headers['webhook-id']);
      expect(x.event).toEqual({ ...before.event, lgspreplay: 'redeliver:ops' });
      expect(verifies(x, secret)).toBe(true);
    }
    // Events after the redelivered range are first deliveries: no mark.
    const a3 = await h.append('A');
    await eventually(() => r.positions('A').includes(a3));
    expect(r.received.at(-1)!.event).not.toHaveProperty('lgspreplay');
    expect(r.positions('A')).toEqual([a1, a2, a2, a3]);

    const replay = new WebhookReplayTarget((await h.store.get(webhook.id))!, h.store, h.events, () =>
      h.delivery.poke(),
    );
    expect(await replay.sendBatch([String(a1), '999999'], 'replay-7')).toEqual(['sent', 'failed']);
    await eventually(() => r.received.length === 7);
    const replayed = r.received[6]!;
    expect(replayed.event).toMatchObject({ lgspposition: a1, lgspreplay: 'replay-7' });
    expect(replayed.headers['webhook-id']).toBe(firstTime.get(a1)!.headers['webhook-id']);
    expect(verifies(replayed, secret)).toBe(true);
  });

  it("takes a replay's queued chunks in without reading the webhook's queue again, unless the webhook changed meanwhile", async () => {
    const h = await hub();
    const r = await receiver();
    const { webhook } = await h.service.create(admin, { url: r.url });
    const dossiers = ['A', 'B', 'C'];
    const positions: number[] = [];
    for (let i = 0; i < 30; i++) positions.push(await h.append(dossiers[i % 3]!));
    await eventually(() => r.received.length === 30);

    const outstanding = jest.spyOn(h.store, 'outstanding');
    const replay = new WebhookReplayTarget((await h.store.get(webhook.id))!, h.store, h.events, (q) =>
      q === undefined ? h.delivery.poke() : void h.delivery.requeued(q),
    );
    for (let i = 0; i < 30; i += 10)
      expect(await replay.sendBatch(positions.slice(i, i + 10).map(String), 'replay-9')).toEqual(
        Array<string>(10).fill('sent'),
      );
    await eventually(() => r.received.length === 60);
    // Three chunks queued, none made the delivery read the queue back from the table.
    expect(outstanding).not.toHaveBeenCalled();
    outstanding.mockRestore();
    const again = r.received.slice(30);
    expect(again.every((x) => x.event['lgspreplay'] === 'replay-9')).toBe(true);
    for (const d of dossiers)
      expect(
        again.filter((x) => x.event['lgspstream'] === `dossier-${d}`).map((x) => x.event['lgspposition']),
      ).toEqual(positions.filter((_, i) => dossiers[i % 3] === d));
    await eventually(async () => (await h.store.outstanding(webhook.id)).length === 0);

    // The webhook changed between a requeue and its handover: the sync reloads it from the table, and
    // the late handover (an older revision) adds nothing, so nothing is sent twice.
    const told: RequeuedDeliveries[] = [];
    const late = new WebhookReplayTarget((await h.store.get(webhook.id))!, h.store, h.events, (q) => {
      if (q !== undefined) told.push(q);
    });
    await late.sendBatch(positions.slice(0, 5).map(String), 'replay-10');
    await h.service.update(admin, webhook.id, { ratePerSecond: 500 });
    await eventually(() => r.received.length === 65);
    await h.delivery.requeued(told[0]!);
    await sleep(200);
    expect(r.received).toHaveLength(65);
    expect(r.received.slice(60).map((x) => x.event['lgspreplay'])).toEqual(Array(5).fill('replay-10'));
  });

  it("a replay asking again for an event just delivered from the table (its row's removal not written yet) sends it again", async () => {
    const h = await hub();
    const r = await receiver();
    const { webhook, secret } = await h.service.create(admin, { url: r.url });
    const p = await h.append('A');
    await eventually(() => r.received.length === 1);
    const replay = async () =>
      new WebhookReplayTarget((await h.store.get(webhook.id))!, h.store, h.events, (q) =>
        q === undefined ? h.delivery.poke() : void h.delivery.requeued(q),
      );
    // The outcome writer held: the first replay's delivery is made, its row's removal not yet written.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const record = h.store.record.bind(h.store);
    const writes = jest.spyOn(h.store, 'record').mockImplementation(async (...args) => {
      await held;
      return record(...args);
    });
    expect(await (await replay()).sendBatch([String(p)], 'replay-a')).toEqual(['sent']);
    await eventually(() => r.received.length === 2);
    expect(await (await replay()).sendBatch([String(p)], 'replay-b')).toEqual(['sent']);
    release();
    await eventually(() => r.received.length === 3);
    writes.mockRestore();
    expect(r.received.map((x) => x.event['lgspreplay'])).toEqual([undefined, 'replay-a', 'replay-b']);
    expect(r.received.every((x) => x.headers['webhook-id'] === r.received[0]!.headers['webhook-id'])).toBe(
      true,
    );
    expect(verifies(r.received[2]!, secret)).toBe(true);
    // Delivered, its row goes from the table, and nothing more is sent.
    await eventually(async () => (await h.store.outstanding(webhook.id)).length === 0);
    await sleep(300);
    expect(r.received).toHaveLength(3);
  });

  it('a replay of an event the endpoint still holds in memory sends it once, and its checkpoint reaches the end', async () => {
    const h = await hub();
    const r = await receiver();
    // Two tries a second: the events appended at once wait in memory for their turn.
    const { webhook } = await h.service.create(admin, { url: r.url, ratePerSecond: 2 });
    const positions: number[] = [];
    for (let i = 0; i < 4; i++) positions.push(await h.append('D'));
    await eventually(() => r.received.length >= 1);
    const replay = new WebhookReplayTarget((await h.store.get(webhook.id))!, h.store, h.events, (q) =>
      q === undefined ? h.delivery.poke() : void h.delivery.requeued(q),
    );
    expect(await replay.sendBatch(positions.slice(1).map(String), 'replay-11')).toEqual([
      'sent',
      'sent',
      'sent',
    ]);
    await eventually(() => r.received.length === 4, 8000);
    await sleep(700);
    // Each waiting event went out once (the replay found it queued already), in order.
    expect(r.positions('D')).toEqual(positions);
    await eventually(async () => (await h.store.outstanding(webhook.id)).length === 0);
    await eventually(async () => (await h.service.get(admin, webhook.id)).checkpoint === positions.at(-1));
  });

  it('resumes after a restart: its queue where it was (same webhook-ids), and the events appended meanwhile', async () => {
    const h = await hub({ retryDelaysMs: [300, 300] });
    const r = await receiver();
    const { webhook } = await h.service.create(admin, { url: r.url });
    const c1 = await h.append('C');
    await eventually(() => r.received.length === 1);
    let down = true;
    r.answer = () => ({ status: down ? 503 : 204 });
    const a1 = await h.append('A');
    const b1 = await h.append('B');
    await eventually(() => r.received.length === 3);

    let a2 = 0;
    await h.restart(async () => {
      a2 = await h.append('A');
      down = false;
    });
    await eventually(() => r.received.length === 6);
    expect(r.positions('A')).toEqual([a1, a1, a2]);
    expect(r.positions('B')).toEqual([b1, b1]);
    expect(r.positions('C')).toEqual([c1]);
    const tries = r.received.filter((x) => x.event['lgspposition'] === a1);
    expect(tries[1]!.headers['webhook-id']).toBe(tries[0]!.headers['webhook-id']);
    await eventually(
      async () =>
        (await h.service.attempts(admin, webhook.id, { limit: 10, position: a1 })).attempts.length === 2,
    );
    const { attempts } = await h.service.attempts(admin, webhook.id, { limit: 10, position: a1 });
    expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'retry'],
      [2, 'delivered'],
    ]);
    await eventually(async () => (await h.service.get(admin, webhook.id)).pending === 0);
    expect((await h.service.get(admin, webhook.id)).checkpoint).toBe(a2);
  });

  it('applies a new rate at once, to the tries waiting for the old one too', async () => {
    const h = await hub();
    const r = await receiver();
    const { webhook } = await h.service.create(admin, { url: r.url, ratePerSecond: 0.5 });
    await sleep(100);
    for (const d of ['A', 'B', 'C']) await h.append(d);
    await eventually(() => r.received.length === 1);
    await sleep(200);
    expect(r.received).toHaveLength(1);

    await h.service.update(admin, webhook.id, { ratePerSecond: 1000 });
    const changed = Date.now();
    await eventually(() => r.received.length === 3);
    // Without the new bucket the waiting tries would fail and come back a second later.
    expect(Date.now() - changed).toBeLessThan(900);
    expect(h.errors).toEqual([]);
  });

  it('takes a redirect for a failure and does not follow it', async () => {
    const h = await hub({ retryDelaysMs: [100] });
    const r = await receiver();
    const { webhook } = await h.service.create(admin, { url: r.url });
    r.answer = () =>
      r.received.length === 1
        ? { status: 307, headers: { location: `${r.url}/elsewhere` } }
        : { status: 204 };
    const a1 = await h.append('A');

    await eventually(() => r.received.length === 2);
    expect(r.positions()).toEqual([a1, a1]);
    const { attempts } = await h.service.attempts(admin, webhook.id, { limit: 10 });
    expect(attempts[0]).toMatchObject({ status: 307, outcome: 'retry' });
    expect(attempts[0]!.error).toMatch(/redirect/);
  });

  it('queues at most maxQueued per endpoint, and its cursor catches up as the queue drains', async () => {
    const h = await hub({ retryDelaysMs: [150, 150], maxQueued: 2 });
    const r = await receiver();
    const { webhook } = await h.service.create(admin, { url: r.url });
    let down = true;
    r.answer = () => ({ status: down ? 503 : 204 });
    const positions: number[] = [];
    for (const d of ['A', 'B']) {
      positions.push(await h.append(d));
      await eventually(async () => (await h.store.outstanding(webhook.id)).length === positions.length);
    }
    for (const d of ['C', 'D', 'E']) positions.push(await h.append(d));
    await sleep(200);
    expect((await h.store.outstanding(webhook.id)).map((d) => d.position)).toEqual(positions.slice(0, 2));
    expect((await h.store.get(webhook.id))?.cursor).toBe(positions[1]);
    down = false;
    await eventually(() => new Set(r.positions()).size === 5);
    expect([...new Set(r.positions())].sort((x, y) => x - y)).toEqual(positions);
    await eventually(async () => (await h.service.get(admin, webhook.id)).checkpoint === positions.at(-1));
  });

  it('deleting a webhook while a delivery to it is in flight leaves nothing of it behind', async () => {
    const h = await hub();
    const r = await receiver();
    const { webhook } = await h.service.create(admin, { url: r.url });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = http.createServer((req, res) => {
      req.resume();
      void held.then(() => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      release();
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    });
    await h.service.update(admin, webhook.id, {
      url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/hooks`,
    });
    await sleep(100);
    let inFlight = false;
    slow.on('request', () => (inFlight = true));
    await h.append('A');
    await eventually(() => inFlight);

    await h.service.delete(admin, webhook.id);
    release();
    await sleep(200);
    expect(await h.store.get(webhook.id)).toBeUndefined();
    expect(await h.store.attempts(webhook.id, { limit: 10 })).toEqual([]);
    expect(await h.store.outstanding(webhook.id)).toEqual([]);
    expect(r.received).toEqual([]);
  });

  it('reading the log as stored, opens only the pages a webhook takes, and delivers them opened', async () => {
    const opened: number[] = [];
    const h = await hub({}, {}, undefined, undefined, { opened });
    const secret = (v: string) => ({ data: { dossierCode: 'A', secret: `sealed:${v}` } });
    // No webhook: the pages pass by unopened.
    const before = await h.append('A', secret('before'));
    await eventually(async () => (await h.store.loadCursor()) === before);
    expect(opened).toEqual([]);
    const r = await receiver();
    const { webhook } = await h.service.create(admin, { url: r.url });
    const a = await h.append('A', secret('one'));
    const b = await h.append('B', { data: { dossierCode: 'B', secret: 'sealed:two' } });
    await eventually(() => r.received.length === 2);
    expect(opened.length).toBeGreaterThan(0);
    expect(
      r.received.map((x) => [x.event['lgspposition'], (x.event['data'] as { secret: string }).secret]),
    ).toEqual(
      expect.arrayContaining([
        [a, 'one'],
        [b, 'two'],
      ]),
    );
    // A redelivery reads its events again, opened (none was kept sealed).
    await eventually(async () => (await h.service.get(admin, webhook.id)).checkpoint === b);
    await h.service.redeliver(admin, webhook.id, a);
    await eventually(() => r.received.length === 4);
    for (const x of r.received) expect(JSON.stringify(x.event)).not.toContain('sealed:');
  });

  it('sends a filtered webhook only matching events, and a province’s webhook only its province’s', async () => {
    const h = await hub();
    const filtered = await receiver();
    const own = await receiver();
    await h.service.create(admin, { url: filtered.url, filter: { types: [SUBMITTED], provinces: ['51'] } });
    const hanoi = await h.service.create(province('01'), { url: own.url });
    expect(hanoi.webhook).toMatchObject({ province: '01', filter: { provinces: ['01'] } });

    const in01 = { provinceCode: '01', communeCode: '00004', source: '/communes/00004' };
    const submitted51 = await h.append('S51', { type: SUBMITTED });
    await h.append('C51', { type: STATUS_CHANGED });
    const submitted01 = await h.append('S01', { type: SUBMITTED, ...in01 });
    const changed01 = await h.append('C01', { type: STATUS_CHANGED, ...in01 });
    await eventually(() => filtered.received.length === 1 && own.received.length === 2);
    await sleep(150);
    expect(filtered.positions()).toEqual([submitted51]);
    expect(own.positions().sort()).toEqual([submitted01, changed01].sort());

    // Even with its stored filter widened behind the service's back, it gets only its province.
    await h.store.update(hanoi.webhook.id, { filter: {} });
    await sleep(150);
    await h.append('X51', { type: SUBMITTED });
    const later01 = await h.append('X01', { type: SUBMITTED, ...in01 });
    await eventually(() => own.received.length === 3 && filtered.received.length === 2);
    await sleep(150);
    expect(own.positions().at(-1)).toBe(later01);
    expect(own.received).toHaveLength(3);
  });
});

describe('WebhookService scope', () => {
  const url = 'http://127.0.0.1:9/hooks';

  it('pins a province client’s webhook to its province and refuses a filter reaching outside it', async () => {
    const { service } = await hub();
    const p01 = province('01');

    const plain = await service.create(p01, { url });
    expect(plain.webhook).toMatchObject({
      province: '01',
      filter: { provinces: ['01'] },
      createdBy: p01.name,
    });
    const communes = await service.create(p01, { url, filter: { communes: ['00004'], provinces: ['01'] } });
    expect(communes.webhook.filter).toEqual({ communes: ['00004'], provinces: ['01'] });

    await expect(service.create(p01, { url, filter: { provinces: ['08'] } })).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(service.create(p01, { url, filter: { communes: ['00691'] } })).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(
      service.update(p01, plain.webhook.id, { filter: { provinces: ['08'] } }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    const byAdmin = await service.create(admin, { url, filter: { provinces: ['08'] } });
    expect(byAdmin.webhook).not.toHaveProperty('province');
    expect(byAdmin.webhook.filter).toEqual({ provinces: ['08'] });
  });

  it('hides another province’s and an admin’s webhooks from a province client (not-found)', async () => {
    const { service } = await hub();
    const p01 = province('01');
    const mine = await service.create(p01, { url });
    const theirs = await service.create(province('08'), { url });
    const admins = await service.create(admin, { url });

    for (const id of [theirs.webhook.id, admins.webhook.id]) {
      await expect(service.get(p01, id)).rejects.toMatchObject({ code: 'not-found' });
      await expect(service.update(p01, id, { description: 'x' })).rejects.toMatchObject({
        code: 'not-found',
      });
      await expect(service.delete(p01, id)).rejects.toMatchObject({ code: 'not-found' });
      await expect(service.rotateSecret(p01, id)).rejects.toMatchObject({ code: 'not-found' });
      await expect(service.redeliver(p01, id, 1)).rejects.toMatchObject({ code: 'not-found' });
      await expect(service.attempts(p01, id, { limit: 1 })).rejects.toMatchObject({ code: 'not-found' });
    }
    await expect(service.get(p01, 'wh_nothing')).rejects.toMatchObject({ code: 'not-found' });
    expect((await service.list(p01, { limit: 10 })).webhooks.map((w) => w.id)).toEqual([mine.webhook.id]);
    expect((await service.list(admin, { limit: 10 })).webhooks).toHaveLength(3);
    const firstPage = await service.list(admin, { limit: 2 });
    expect(firstPage.webhooks).toHaveLength(2);
    expect(firstPage.next).toBe(firstPage.webhooks[1]!.id);
    expect((await service.list(admin, { limit: 2, after: firstPage.next! })).webhooks).toHaveLength(1);
    expect(await service.get(admin, theirs.webhook.id)).toMatchObject({ province: '08' });
    await service.delete(p01, mine.webhook.id);
    await expect(service.get(admin, mine.webhook.id)).rejects.toMatchObject({ code: 'not-found' });
  });

  it('refuses commune clients', async () => {
    const { service } = await hub();
    const { webhook } = await service.create(admin, { url });
    await expect(service.create(commune, { url })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(service.list(commune, { limit: 10 })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(service.get(commune, webhook.id)).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('refuses unknown types, provinces and communes, and bad rates, as invalid', async () => {
    const { service } = await hub();
    for (const filter of [
      { types: ['vn.gov.lgsp.nothing.v1'] },
      { provinces: ['99'] },
      { communes: ['99999'] },
    ])
      await expect(service.create(admin, { url, filter })).rejects.toMatchObject({ code: 'invalid' });
    await expect(
      service.create(province('01'), { url, filter: { provinces: ['99'] } }),
    ).rejects.toMatchObject({
      code: 'invalid',
    });
    await expect(service.create(admin, { url, ratePerSecond: 0 })).rejects.toMatchObject({ code: 'invalid' });
    await expect(service.create(admin, { url, ratePerSecond: 5000 })).rejects.toMatchObject({
      code: 'invalid',
    });
  });

  it('refuses loopback, private and link-local targets unless insecure targets are allowed', async () => {
    const { service } = await hub({}, { allowInsecureTargets: false });
    for (const target of ['https://127.0.0.1/h', 'https://10.0.0.1/h', 'https://169.254.169.254/latest', url])
      await expect(service.create(admin, { url: target })).rejects.toMatchObject({ code: 'invalid' });
    const { webhook } = await service.create(admin, { url: 'https://8.8.8.8/hooks' });
    await expect(service.update(admin, webhook.id, { url: 'https://10.0.0.1/h' })).rejects.toMatchObject({
      code: 'invalid',
    });
    expect((await service.get(admin, webhook.id)).url).toBe('https://8.8.8.8/hooks');
  });
});

const V1 = 'vn.gov.lgsp.dossier.submitted.v1';
const V2 = 'vn.gov.lgsp.dossier.submitted.v2';

/** A `dossier.submitted` of dossier `code` at `type`'s version, as the log stores it (id `n`). */
function submission(type: typeof V1 | typeof V2, code: string, n: string, data?: unknown): EventToAppend {
  const example = exampleEvent(type);
  return {
    stream: `dossier-${code}`,
    expectedVersion: ANY_VERSION,
    id: `submission-${n}`,
    source: '/communes/21040/one-stop-shop',
    type,
    data: data ?? { ...example.data, dossierCode: code },
    extensions: {},
    provinceCode: '51',
    communeCode: '21040',
  };
}

describe('WebhookDelivery and event versions', () => {
  it('sends a v1 subscriber what it always got, and a v2 subscriber v2 for the same events, old and new', async () => {
    const h = await hub();
    // Stored before either webhook existed: redelivered to both below.
    const [old] = await h.events.append([submission(V1, 'OLD', 'old')]);
    const v1 = await receiver();
    const v2 = await receiver();
    const p51 = province('51');
    const one = await h.service.create(p51, { url: v1.url });
    const two = await h.service.create(p51, {
      url: v2.url,
      // A filter type names every version of its family.
      filter: { types: [V1] },
      eventVersions: { 'dossier.submitted': 2 },
    });
    expect(one.webhook.eventVersions).toEqual({ 'dossier.submitted': 1 });
    expect(two.webhook.eventVersions).toEqual({ 'dossier.submitted': 2 });

    const [fromV1Producer] = await h.events.append([submission(V1, 'A', 'a')]);
    const [fromV2Producer] = await h.events.append([submission(V2, 'B', 'b')]);
    const status = await h.append('A');
    await eventually(() => v1.received.length === 3 && v2.received.length === 2);

    const storedV1 = submission(V1, 'A', 'a').data as { applicant: unknown };
    const byPosition = (r: Receiver, p: number) =>
      r.received.find((x) => x.event['lgspposition'] === p)!.event;
    // The v1 subscriber: its v1 events exactly as stored, the v2 one downcast.
    expect(byPosition(v1, fromV1Producer!.position)).toMatchObject({ type: V1, data: storedV1 });
    expect(byPosition(v1, fromV1Producer!.position)).not.toHaveProperty('dataschema');
    expect(byPosition(v1, fromV2Producer!.position)).toMatchObject({
      type: V1,
      dataschema: eventSchemaId(V1),
      data: {
        dossierCode: 'B',
        applicant: { fullName: 'Nguyễn Thị Đào', idNumber: '051190000123', phone: '0912345678' },
      },
    });
    expect(byPosition(v1, fromV2Producer!.position)['data']).not.toHaveProperty('persons');
    expect(byPosition(v1, status)).toMatchObject({ type: STATUS_CHANGED });
    // The v2 subscriber: both as v2.
    expect(byPosition(v2, fromV1Producer!.position)).toMatchObject({
      type: V2,
      dataschema: eventSchemaId(V2),
      data: {
        dossierCode: 'A',
        persons: [
          {
            role: 'applicant',
            fullName: 'Nguyễn Thị Đào',
            documents: [{ kind: 'citizen-id', number: '051190000123' }],
          },
        ],
      },
    });
    expect(byPosition(v2, fromV2Producer!.position)).toMatchObject({
      type: V2,
      data: submission(V2, 'B', 'b').data as object,
    });
    for (const got of v1.received) expect(verifies(got, one.secret)).toBe(true);
    for (const got of v2.received) expect(verifies(got, two.secret)).toBe(true);

    // Old events sent again (a redelivery, as a replay): each at its subscriber's version.
    await h.service.redeliver(admin, one.webhook.id, old!.position);
    await h.service.redeliver(admin, two.webhook.id, old!.position);
    await eventually(() => v1.positions('OLD').length === 1 && v2.positions('OLD').length === 1);
    expect(v1.received.find((x) => x.event['lgspstream'] === 'dossier-OLD')!.event).toMatchObject({
      type: V1,
      lgspreplay: 'redeliver:ops',
    });
    expect(v2.received.find((x) => x.event['lgspstream'] === 'dossier-OLD')!.event).toMatchObject({
      type: V2,
      lgspreplay: 'redeliver:ops',
      data: { dossierCode: 'OLD', persons: [{ role: 'applicant' }] },
    });

    // A replay run of the old event to the v2 webhook only (`lgsp replay run --target webhook:<id>`).
    const replay = new WebhookReplayTarget((await h.store.get(two.webhook.id))!, h.store, h.events, () =>
      h.delivery.poke(),
    );
    expect(await replay.sendBatch([String(old!.position)], 'replay-v2')).toEqual(['sent']);
    await eventually(() => v2.positions('OLD').length === 2);
    expect(v2.received.at(-1)!.event).toMatchObject({ type: V2, lgspreplay: 'replay-v2' });
    expect(v1.positions('OLD')).toHaveLength(1);

    // Back to v1 for every family: `{}`.
    const updated = await h.service.update(p51, two.webhook.id, { eventVersions: {} });
    expect(updated.eventVersions).toEqual({ 'dossier.submitted': 1 });
    await expect(
      h.service.update(p51, two.webhook.id, { eventVersions: { 'dossier.submitted': 5 } }),
    ).rejects.toMatchObject({
      code: 'invalid',
      issues: [{ pointer: '/eventVersions/dossier.submitted', message: 'must be one of the versions 1, 2' }],
    });
  });

  it('parks, counts and reports an event it cannot convert, for that webhook only; the endpoint goes on', async () => {
    const unreadable: [string, number, string][] = [];
    const h = await hub({}, {}, undefined, {
      attempted: () => undefined,
      disabled: () => undefined,
      unreadable: (id, event, err) => unreadable.push([id, event.position, err.message]),
    });
    const v1 = await receiver();
    const v2 = await receiver();
    const one = await h.service.create(admin, { url: v1.url });
    const two = await h.service.create(admin, { url: v2.url, eventVersions: { 'dossier.submitted': 2 } });

    // An upcaster bug as seen from the outside: a stored v1 event it cannot read (no applicant).
    const broken = { ...(submission(V1, 'E', 'e').data as Record<string, unknown>) };
    delete broken['applicant'];
    const [bad] = await h.events.append([submission(V1, 'E', 'e', broken)]);
    const behind = await h.append('E');
    // A v2 applicant with a passport only: v1 has no place for them.
    const passportOnly = structuredClone(submission(V2, 'P', 'p').data) as {
      persons: { documents: unknown }[];
    };
    passportOnly.persons[0]!.documents = [{ kind: 'passport', number: 'B7654321' }];
    const [foreigner] = await h.events.append([submission(V2, 'P', 'p', passportOnly)]);
    const [fine] = await h.events.append([submission(V1, 'F', 'f')]);

    await eventually(() => v2.positions('F').length === 1 && v1.positions('F').length === 1);
    await eventually(async () => (await h.parking.list({ limit: 10 })).length === 2);
    const parked = await h.parking.list({ limit: 10 });
    expect(parked.map((p) => [p.target, p.dossier, p.firstPosition, p.kind]).sort()).toEqual(
      [
        [webhookTarget(two.webhook.id), 'E', bad!.position, 'data'],
        [webhookTarget(one.webhook.id), 'P', foreigner!.position, 'data'],
      ].sort(),
    );
    const reason = parked.find((p) => p.dossier === 'E')!.reason;
    expect(reason).toContain(`the event at position ${bad!.position} cannot be sent at the version`);
    expect(reason).toContain(`cannot be read as ${V2}: applicant must be an object`);
    expect(unreadable.map(([id, position]) => [id, position]).sort()).toEqual(
      [
        [two.webhook.id, bad!.position],
        [one.webhook.id, foreigner!.position],
      ].sort(),
    );
    // The v2 webhook got neither the broken event nor the one held behind it; the v1 webhook got both.
    expect(v2.positions('E')).toEqual([]);
    expect(v1.positions('E')).toEqual([bad!.position, behind]);
    expect(v1.positions('P')).toEqual([]);
    expect(v2.positions('P')).toEqual([foreigner!.position]);
    expect(v2.positions('F')).toEqual([fine!.position]);
    // Parked at once, and the endpoint is not said to be failing.
    const view = await h.service.get(admin, two.webhook.id);
    expect(view).toMatchObject({ parked: 1 });
    expect(view.failingSince).toBeUndefined();
    await eventually(
      async () => (await h.service.attempts(admin, two.webhook.id, { limit: 10 })).attempts.length >= 3,
    );
    const attempts = (await h.service.attempts(admin, two.webhook.id, { limit: 10 })).attempts;
    expect(attempts.find((a) => a.position === bad!.position)).toMatchObject({
      attempt: 1,
      outcome: 'parked',
    });
  });
});
