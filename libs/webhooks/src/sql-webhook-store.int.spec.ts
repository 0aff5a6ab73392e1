import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { BACKENDS, type BackendData } from '#lgsp/storage/testing';
import type { DeliveryAttempt, DeliveryRow, WebhookRecord } from './model.js';
import { WEBHOOKS_COMPONENT } from './model.js';
import { SqlWebhookStore } from './sql-webhook-store.js';

const AT = '2026-12-06T08:00:00.000Z';

function webhook(id: string, overrides: Partial<WebhookRecord> = {}): WebhookRecord {
  return {
    id,
    url: 'https://province.example/hooks',
    filter: {},
    ratePerSecond: 50,
    state: 'active',
    createdBy: 'ops',
    createdAt: AT,
    updatedAt: AT,
    secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0',
    cursor: overrides.cursor ?? 0,
    deliveredThrough: overrides.cursor ?? 0,
    revision: 1,
    ...overrides,
  };
}

/** A queued delivery of `position` on `stream` (recorded at second `position` of the day). */
function row(
  webhookId: string,
  position: number,
  stream = 'dossier-A',
): Omit<DeliveryRow, 'state' | 'attempts'> {
  return {
    webhookId,
    position,
    stream,
    recordedAt: `2026-12-06T08:00:${String(position % 60).padStart(2, '0')}.000Z`,
    nextAt: 0,
  };
}

/** The stream and time a failed try writes with its row (created when it is not in the table yet). */
const where = { stream: 'dossier-A', recordedAt: '2026-12-06T08:00:00.000Z' };

function attempt(
  webhookId: string,
  position: number,
  overrides: Partial<DeliveryAttempt> = {},
): Omit<DeliveryAttempt, 'seq'> {
  return {
    webhookId,
    position,
    messageId: `msg_${position}`,
    attempt: 1,
    at: AT,
    status: 500,
    durationMs: 12,
    response: 'oops',
    error: 'answered 500',
    outcome: 'retry',
    nextAt: '2026-12-06T08:00:05.000Z',
    ...overrides,
  };
}

const ID_A = 'wh_0000000000aaaaaaaaaaaaaaaa';
const ID_B = 'wh_0000000000bbbbbbbbbbbbbbbb';
const ID_C = 'wh_0000000000cccccccccccccccc';

describe.each(BACKENDS)('SqlWebhookStore on $name', (backend) => {
  let data: BackendData;
  let store: SqlWebhookStore;

  beforeEach(async () => {
    data = await backend.create();
    store = await SqlWebhookStore.open(await data.connect());
  });

  afterEach(async () => {
    await data.close();
  });

  it('versions its tables as webhooks, and another connection sees what one wrote', async () => {
    await store.create(webhook(ID_A));
    const db = await data.connect();
    const again = await SqlWebhookStore.open(db);
    expect(await again.get(ID_A)).toMatchObject({ id: ID_A });
    expect(await db.versions()).toEqual([{ component: WEBHOOKS_COMPONENT, version: 2 }]);
  });

  it('creates and reads a webhook back as it was, optional fields included or absent', async () => {
    const full = webhook(ID_A, {
      description: 'Sở Tư pháp',
      filter: { types: ['vn.gov.lgsp.dossier.submitted.v1'], provinces: ['01'], communes: ['00004'] },
      eventVersions: { 'dossier.submitted': 2 },
      ratePerSecond: 2.5,
      province: '01',
      previousSecret: 'whsec_b2xkLW9sZC1vbGQtb2xkLW9sZC1vbGQtb2xk',
      previousSecretExpiresAt: '2026-12-07T08:00:00.000Z',
      secretRotatedAt: AT,
      failingSince: AT,
      cursor: 17,
      redeliverThrough: 12,
      redeliverMark: 'redeliver:ops',
      revision: 3,
    });
    await store.create(full);
    await store.create(webhook(ID_B));

    expect(await store.get(ID_A)).toEqual(full);
    expect(await store.get(ID_B)).toEqual(webhook(ID_B));
    expect(await store.get('wh_nothing')).toBeUndefined();
    expect((await store.all()).map((w) => w.id)).toEqual([ID_A, ID_B]);
    expect(await store.revisions()).toEqual(
      new Map([
        [ID_A, 3],
        [ID_B, 1],
      ]),
    );
    // Back to version 1 of every family: nothing stored.
    expect(await store.update(ID_A, { eventVersions: {} })).not.toHaveProperty('eventVersions');
    expect((await store.update(ID_B, { eventVersions: { 'dossier.submitted': 2 } }))?.eventVersions).toEqual({
      'dossier.submitted': 2,
    });
  });

  it('lists in id order, by pages, and only a province’s own webhooks when asked', async () => {
    await store.create(webhook(ID_C, { province: '01' }));
    await store.create(webhook(ID_A, { province: '01' }));
    await store.create(webhook(ID_B));

    expect((await store.list({ limit: 10 })).map((w) => w.id)).toEqual([ID_A, ID_B, ID_C]);
    expect((await store.list({ limit: 2 })).map((w) => w.id)).toEqual([ID_A, ID_B]);
    expect((await store.list({ limit: 2, after: ID_B })).map((w) => w.id)).toEqual([ID_C]);
    expect((await store.list({ limit: 10, province: '01' })).map((w) => w.id)).toEqual([ID_A, ID_C]);
    expect((await store.list({ limit: 1, province: '01', after: ID_A })).map((w) => w.id)).toEqual([ID_C]);
    expect(await store.list({ limit: 10, province: '08' })).toEqual([]);
  });

  it('updates the given fields only, clears those set to null, and raises the revision', async () => {
    await store.create(
      webhook(ID_A, { description: 'old', disabledReason: 'x', disabledAt: AT, state: 'disabled' }),
    );
    const updated = await store.update(ID_A, {
      url: 'https://other.example/h',
      description: null,
      filter: { provinces: ['08'] },
      ratePerSecond: 7,
      state: 'active',
      disabledReason: null,
      disabledAt: null,
      updatedAt: '2026-12-06T09:00:00.000Z',
    });

    expect(updated).toEqual({
      ...webhook(ID_A),
      url: 'https://other.example/h',
      filter: { provinces: ['08'] },
      ratePerSecond: 7,
      updatedAt: '2026-12-06T09:00:00.000Z',
      revision: 2,
    });
    expect(await store.get(ID_A)).toEqual(updated);
    expect((await store.update(ID_A, {}))?.revision).toBe(3);
    expect(await store.update('wh_nothing', { url: 'https://x.example' })).toBeUndefined();
  });

  it('queues rows with a compare-and-set of each cursor: a cursor moved meanwhile wins, its rows are not queued', async () => {
    await store.create(webhook(ID_A, { cursor: 10 }));
    await store.create(webhook(ID_B, { cursor: 10 }));
    // A redelivery rewound B while the page was read.
    expect(await store.rewind(ID_B, 4, AT, 'redeliver:ops')).toBe(true);

    const moved = await store.enqueue(
      [row(ID_A, 11), row(ID_A, 12, 'dossier-B'), row(ID_B, 11), row(ID_B, 12)],
      [
        { id: ID_A, from: 10, to: 12 },
        { id: ID_B, from: 10, to: 12 },
      ],
      12,
    );

    expect(moved).toEqual(new Set([ID_A]));
    expect((await store.get(ID_A))?.cursor).toBe(12);
    expect((await store.get(ID_B))?.cursor).toBe(4);
    expect((await store.outstanding(ID_A)).map((r) => [r.position, r.stream, r.state, r.attempts])).toEqual([
      [11, 'dossier-A', 'pending', 0],
      [12, 'dossier-B', 'pending', 0],
    ]);
    expect(await store.outstanding(ID_B)).toEqual([]);
    expect(await store.loadCursor()).toBe(12);
  });

  it('keeps the queueing cursor at 0 until the first page, and moves it only when given', async () => {
    await store.create(webhook(ID_A));
    expect(await store.loadCursor()).toBe(0);
    await store.enqueue([], [{ id: ID_A, from: 0, to: 5 }], 5);
    await store.enqueue([], [{ id: ID_A, from: 5, to: 9 }]);
    expect(await store.loadCursor()).toBe(5);
    expect((await store.get(ID_A))?.cursor).toBe(9);
  });

  it('queues an event already waiting once, as it is (enqueue and requeue)', async () => {
    await store.create(webhook(ID_A));
    await store.enqueue([row(ID_A, 1), row(ID_A, 2)], [{ id: ID_A, from: 0, to: 2 }]);
    await store.record([
      {
        webhookId: ID_A,
        position: 1,
        result: { delivered: false, state: 'pending', attempts: 2, nextAt: 99, ...where },
      },
    ]);

    const added = await store.requeue(ID_A, [
      { ...row(ID_A, 1), replay: 'r1' },
      { ...row(ID_A, 3), replay: 'r1' },
    ]);

    // The row inserted is answered, with the revision the requeue raised the webhook to; the one the
    // table held already as waiting (the delivery decides whether it is really waiting still).
    expect(added).toEqual({
      webhookId: ID_A,
      rows: [{ ...row(ID_A, 3), state: 'pending', attempts: 0, replay: 'r1' }],
      waiting: [{ ...row(ID_A, 1), state: 'pending', attempts: 0, replay: 'r1' }],
      revision: 2,
    });
    expect(await store.outstanding(ID_A)).toEqual([
      { ...row(ID_A, 1), state: 'pending', attempts: 2, nextAt: 99 },
      { ...row(ID_A, 2), state: 'pending', attempts: 0 },
      { ...row(ID_A, 3), state: 'pending', attempts: 0, replay: 'r1' },
    ]);
    expect((await store.get(ID_A))?.revision).toBe(2);
    // A re-enqueue of a waiting row after a rewind leaves it as it is too.
    await store.rewind(ID_A, 0, AT, 'redeliver:ops');
    await store.enqueue([row(ID_A, 1)], [{ id: ID_A, from: 0, to: 3 }]);
    expect((await store.outstanding(ID_A))[0]).toMatchObject({ position: 1, attempts: 2 });
  });

  it('queues more rows than one INSERT holds', async () => {
    await store.create(webhook(ID_A));
    const many = Array.from({ length: 1203 }, (_, i) => row(ID_A, i + 1, `dossier-${i % 7}`));
    await store.enqueue(many, [{ id: ID_A, from: 0, to: 1203 }]);
    expect(await store.outstanding(ID_A)).toHaveLength(1203);
    expect((await store.requeue(ID_A, many)).rows).toEqual([]);
  });

  it('rewinds only backwards, marks what it had passed for redelivery, and raises the revision', async () => {
    await store.create(webhook(ID_A, { cursor: 10 }));
    expect(await store.rewind(ID_A, 20, '2026-12-06T10:00:00.000Z', 'redeliver:a')).toBe(true);
    const unmoved = await store.get(ID_A);
    expect(unmoved).toMatchObject({ cursor: 10, revision: 2, updatedAt: '2026-12-06T10:00:00.000Z' });
    expect(unmoved).not.toHaveProperty('redeliverThrough');
    expect(unmoved).not.toHaveProperty('redeliverMark');

    expect(await store.rewind(ID_A, 3, AT, 'redeliver:b')).toBe(true);
    expect(await store.get(ID_A)).toMatchObject({
      cursor: 3,
      revision: 3,
      redeliverThrough: 10,
      redeliverMark: 'redeliver:b',
    });
    // Rewound again before the cursor got back: everything up to 10 still counts as redelivered.
    await store.enqueue([], [{ id: ID_A, from: 3, to: 6 }]);
    expect(await store.rewind(ID_A, 1, AT, 'redeliver:c')).toBe(true);
    expect(await store.get(ID_A)).toMatchObject({
      cursor: 1,
      redeliverThrough: 10,
      redeliverMark: 'redeliver:c',
    });
    await store.enqueue([], [{ id: ID_A, from: 1, to: 15 }]);
    expect(await store.rewind(ID_A, 12, AT, 'redeliver:d')).toBe(true);
    expect(await store.get(ID_A)).toMatchObject({
      cursor: 12,
      redeliverThrough: 15,
      redeliverMark: 'redeliver:d',
    });
    expect(await store.rewind('wh_nothing', 3, AT, 'redeliver:e')).toBe(false);
  });

  it('gives the outstanding deliveries in log order, of one webhook only', async () => {
    await store.create(webhook(ID_A));
    await store.create(webhook(ID_B));
    await store.enqueue(
      [row(ID_A, 9, 'dossier-Z'), row(ID_A, 2, 'dossier-Y'), row(ID_A, 5), row(ID_B, 1)],
      [
        { id: ID_A, from: 0, to: 9 },
        { id: ID_B, from: 0, to: 9 },
      ],
    );
    expect((await store.outstanding(ID_A)).map((r) => r.position)).toEqual([2, 5, 9]);
    expect((await store.outstanding(ID_B)).map((r) => r.position)).toEqual([1]);
  });

  it('tells the progress: pending, parked streams, and the oldest delivery not behind a parking', async () => {
    await store.create(webhook(ID_A));
    expect(await store.progress(ID_A)).toEqual({ pending: 0, parked: 0 });
    await store.enqueue(
      [
        row(ID_A, 1),
        row(ID_A, 2, 'dossier-B'),
        row(ID_A, 3),
        row(ID_A, 4, 'dossier-C'),
        row(ID_A, 5, 'dossier-B'),
      ],
      [{ id: ID_A, from: 0, to: 5 }],
    );
    expect(await store.progress(ID_A)).toEqual({
      pending: 5,
      parked: 0,
      oldest: { position: 1, recordedAt: row(ID_A, 1).recordedAt },
    });

    // A parks at 1 (3 waits behind it); B parks at 2 (5 waits); C's 4 is the oldest one flowing.
    await store.record([
      {
        webhookId: ID_A,
        position: 1,
        result: { delivered: false, state: 'parked', attempts: 8, nextAt: 0, ...where },
      },
      {
        webhookId: ID_A,
        position: 2,
        result: { delivered: false, state: 'parked', attempts: 8, nextAt: 0, ...where },
      },
    ]);
    expect(await store.progress(ID_A)).toEqual({
      pending: 3,
      parked: 2,
      oldest: { position: 4, recordedAt: row(ID_A, 4).recordedAt },
    });

    await store.record([{ webhookId: ID_A, position: 4, result: { delivered: true, persisted: true } }]);
    expect(await store.progress(ID_A)).toEqual({ pending: 2, parked: 2 });
  });

  it('records outcomes with their attempt lines and the webhooks’ changes in one go', async () => {
    await store.create(webhook(ID_A));
    await store.create(webhook(ID_B));
    await store.enqueue(
      [row(ID_A, 1), row(ID_A, 2), row(ID_B, 1)],
      [
        { id: ID_A, from: 0, to: 2 },
        { id: ID_B, from: 0, to: 2 },
      ],
    );

    await store.record(
      [
        {
          webhookId: ID_A,
          position: 1,
          result: { delivered: true, persisted: true },
          attempt: attempt(ID_A, 1, { status: 204, outcome: 'delivered', attempt: 2 }),
        },
        {
          webhookId: ID_A,
          position: 2,
          result: { delivered: false, state: 'pending', attempts: 1, nextAt: 1234, ...where },
          attempt: attempt(ID_A, 2),
        },
        {
          webhookId: ID_B,
          position: 1,
          result: { delivered: false, state: 'pending', attempts: 1, nextAt: 0, ...where },
          attempt: attempt(ID_B, 1, { status: 410, outcome: 'disabled' }),
        },
      ],
      new Map([
        [ID_A, { failingSince: AT }],
        [ID_B, { state: 'disabled' as const, disabledReason: 'gone', disabledAt: AT, updatedAt: AT }],
      ]),
    );

    expect(await store.outstanding(ID_A)).toEqual([
      { ...row(ID_A, 2), state: 'pending', attempts: 1, nextAt: 1234 },
    ]);
    expect(await store.get(ID_A)).toMatchObject({ failingSince: AT, revision: 2 });
    expect(await store.get(ID_B)).toMatchObject({
      state: 'disabled',
      disabledReason: 'gone',
      disabledAt: AT,
    });
    const lines = await store.attempts(ID_A, { limit: 10 });
    expect(lines.map(({ seq: _, ...a }) => a)).toEqual([
      { ...attempt(ID_A, 1, { status: 204, outcome: 'delivered', attempt: 2 }) },
      attempt(ID_A, 2),
    ]);
    expect(lines[0]!.seq).toBeLessThan(lines[1]!.seq);
    // An attempt with no answer keeps no status nor response.
    await store.record([
      {
        webhookId: ID_A,
        position: 2,
        result: { delivered: false, state: 'pending', attempts: 2, nextAt: 5, ...where },
        attempt: {
          ...attempt(ID_A, 2),
          status: undefined,
          response: undefined,
          nextAt: undefined,
          error: 'ECONNREFUSED',
        },
      },
    ]);
    const [last] = await store.attempts(ID_A, { limit: 1, after: lines[1]!.seq });
    expect(last).not.toHaveProperty('status');
    expect(last).not.toHaveProperty('response');
    expect(last).not.toHaveProperty('nextAt');
    expect(last?.error).toBe('ECONNREFUSED');
    expect(await store.get(ID_A)).toMatchObject({ failingSince: AT, revision: 2 });
  });

  it('writes no attempt line for a webhook deleted while its try was in flight', async () => {
    await store.create(webhook(ID_A));
    await store.create(webhook(ID_B));
    await store.enqueue(
      [row(ID_A, 1), row(ID_B, 1)],
      [
        { id: ID_A, from: 0, to: 1 },
        { id: ID_B, from: 0, to: 1 },
      ],
    );
    await store.delete(ID_A);

    await store.record(
      [
        {
          webhookId: ID_A,
          position: 1,
          result: { delivered: true, persisted: true },
          attempt: attempt(ID_A, 1),
        },
        {
          webhookId: ID_B,
          position: 1,
          result: { delivered: true, persisted: true },
          attempt: attempt(ID_B, 1),
        },
      ],
      new Map([[ID_A, { failingSince: null }]]),
    );

    expect(await store.attempts(ID_A, { limit: 10 })).toEqual([]);
    expect(await store.get(ID_A)).toBeUndefined();
    expect((await store.attempts(ID_B, { limit: 10 })).map((a) => a.position)).toEqual([1]);
  });

  it('writes nothing of a record when part of it fails', async () => {
    await store.create(webhook(ID_A));
    await store.enqueue([row(ID_A, 1)], [{ id: ID_A, from: 0, to: 1 }]);
    const broken = { ...attempt(ID_A, 1), outcome: null } as unknown as Omit<DeliveryAttempt, 'seq'>;
    await expect(
      store.record([
        { webhookId: ID_A, position: 1, result: { delivered: true, persisted: true }, attempt: broken },
      ]),
    ).rejects.toThrow();
    expect(await store.outstanding(ID_A)).toHaveLength(1);
    expect(await store.attempts(ID_A, { limit: 10 })).toEqual([]);
  });

  it('resolves a parked stream: retry makes it due now with no failed attempt, skip drops through a position', async () => {
    await store.create(webhook(ID_A));
    await store.enqueue(
      [row(ID_A, 1), row(ID_A, 2), row(ID_A, 3), row(ID_A, 4, 'dossier-B')],
      [{ id: ID_A, from: 0, to: 4 }],
    );
    await store.record([
      {
        webhookId: ID_A,
        position: 1,
        result: { delivered: false, state: 'parked', attempts: 8, nextAt: 7, ...where },
      },
      {
        webhookId: ID_A,
        position: 4,
        result: { delivered: false, state: 'parked', attempts: 8, nextAt: 7, ...where },
      },
    ]);

    expect(await store.resolveParked(ID_A, 'dossier-A', 'retry', Number.MAX_SAFE_INTEGER, 555)).toBe(1);
    expect((await store.outstanding(ID_A)).map((r) => [r.position, r.state, r.attempts, r.nextAt])).toEqual([
      [1, 'pending', 0, 555],
      [2, 'pending', 0, 0],
      [3, 'pending', 0, 0],
      [4, 'parked', 8, 7],
    ]);
    expect((await store.get(ID_A))?.revision).toBe(2);

    expect(await store.resolveParked(ID_A, 'dossier-A', 'skip', 2, 0)).toBe(2);
    expect(await store.resolveParked(ID_A, 'dossier-B', 'skip', 4, 0)).toBe(1);
    expect((await store.outstanding(ID_A)).map((r) => r.position)).toEqual([3]);
    expect((await store.get(ID_A))?.revision).toBe(4);
  });

  it('pages the attempts log and filters it by position', async () => {
    await store.create(webhook(ID_A));
    await store.create(webhook(ID_B));
    await store.enqueue([row(ID_A, 1), row(ID_A, 2)], [{ id: ID_A, from: 0, to: 2 }]);
    for (let i = 1; i <= 3; i++) {
      await store.record([
        {
          webhookId: ID_A,
          position: 1,
          result: { delivered: false, state: 'pending', attempts: i, nextAt: 0, ...where },
          attempt: attempt(ID_A, 1, { attempt: i }),
        },
        {
          webhookId: ID_A,
          position: 2,
          result: { delivered: false, state: 'pending', attempts: i, nextAt: 0, ...where },
          attempt: attempt(ID_A, 2, { attempt: i }),
        },
      ]);
    }
    await store.record([
      {
        webhookId: ID_B,
        position: 1,
        result: { delivered: true, persisted: true },
        attempt: attempt(ID_B, 1),
      },
    ]);

    const all = await store.attempts(ID_A, { limit: 100 });
    expect(all.map((a) => [a.position, a.attempt])).toEqual([
      [1, 1],
      [2, 1],
      [1, 2],
      [2, 2],
      [1, 3],
      [2, 3],
    ]);
    const first = await store.attempts(ID_A, { limit: 4 });
    const rest = await store.attempts(ID_A, { limit: 4, after: first.at(-1)!.seq });
    expect([...first, ...rest]).toEqual(all);
    expect(rest).toHaveLength(2);
    const ofTwo = await store.attempts(ID_A, { limit: 100, position: 2 });
    expect(ofTwo.map((a) => [a.position, a.attempt])).toEqual([
      [2, 1],
      [2, 2],
      [2, 3],
    ]);
    expect(await store.attempts(ID_A, { limit: 1, position: 2, after: ofTwo[0]!.seq })).toEqual([ofTwo[1]]);
  });

  it('prunes attempt lines older than the retention, oldest first, a bounded stretch per call', async () => {
    await store.create(webhook(ID_A));
    await store.enqueue([row(ID_A, 1)], [{ id: ID_A, from: 0, to: 1 }]);
    const at = (day: number) => `2026-12-0${day}T00:00:00.000Z`;
    for (const day of [1, 1, 1, 2, 3]) {
      await store.record([
        {
          webhookId: ID_A,
          position: 1,
          result: { delivered: false, state: 'pending', attempts: 1, nextAt: 0, ...where },
          attempt: attempt(ID_A, 1, { at: at(day) }),
        },
      ]);
    }
    expect(await store.pruneAttempts(at(2), 2)).toBe(2);
    expect(await store.pruneAttempts(at(2), 2)).toBe(1);
    expect(await store.pruneAttempts(at(2), 2)).toBe(0);
    expect((await store.attempts(ID_A, { limit: 10 })).map((a) => a.at)).toEqual([at(2), at(3)]);
  });

  it('deletes a webhook with its queue and attempts, leaving the others', async () => {
    await store.create(webhook(ID_A));
    await store.create(webhook(ID_B));
    await store.enqueue(
      [row(ID_A, 1), row(ID_A, 2), row(ID_B, 1)],
      [
        { id: ID_A, from: 0, to: 2 },
        { id: ID_B, from: 0, to: 2 },
      ],
    );
    await store.record([
      {
        webhookId: ID_A,
        position: 1,
        result: { delivered: true, persisted: true },
        attempt: attempt(ID_A, 1),
      },
      {
        webhookId: ID_B,
        position: 1,
        result: { delivered: true, persisted: true },
        attempt: attempt(ID_B, 1),
      },
    ]);

    expect(await store.delete(ID_A)).toBe(true);
    expect(await store.delete(ID_A)).toBe(false);
    expect(await store.get(ID_A)).toBeUndefined();
    expect(await store.outstanding(ID_A)).toEqual([]);
    expect(await store.attempts(ID_A, { limit: 10 })).toEqual([]);
    expect(await store.progress(ID_A)).toEqual({ pending: 0, parked: 0 });
    expect(await store.get(ID_B)).toBeDefined();
    expect(await store.attempts(ID_B, { limit: 10 })).toHaveLength(1);
  });
});

describe('SqlWebhookStore on SQLite, the queueing cursor alone', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lgsp-webhook-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A store on its own file, and the statements its connection executes (not prepared) from now on. */
  async function watched(): Promise<{ db: SqliteDatabase; store: SqlWebhookStore; prepared: string[] }> {
    const db = SqliteDatabase.open(join(dir, `${Math.random().toString(36).slice(2)}.db`));
    const store = await SqlWebhookStore.open(db);
    await store.create(webhook(ID_A));
    const prepared: string[] = [];
    const exec = db.connection.exec.bind(db.connection);
    jest.spyOn(db.connection, 'exec').mockImplementation((sql: string) => {
      prepared.push(sql);
      exec(sql);
    });
    return { db, store, prepared };
  }

  it('is committed without an fsync of its own, and read back after the connection is gone', async () => {
    const { db, store, prepared } = await watched();
    expect(await store.enqueue([], [], 7)).toEqual(new Set());
    expect(prepared).toContain('PRAGMA synchronous = NORMAL');
    // The connection's own level is back, and no transaction is left open.
    expect((await db.query<{ synchronous: number }>('PRAGMA synchronous'))[0]!.synchronous).toBe(2);
    expect(db.connection.isTransaction).toBe(false);
    const file = db.connection.location()!;
    await db.close();
    const again = SqliteDatabase.open(file);
    expect(await (await SqlWebhookStore.open(again)).loadCursor()).toBe(7);
    await again.close();
  });

  it('moving a webhook’s cursor too, the page is committed with its fsync', async () => {
    const { db, store, prepared } = await watched();
    expect(await store.enqueue([], [{ id: ID_A, from: 0, to: 7 }], 7)).toEqual(new Set([ID_A]));
    expect(prepared).not.toContain('PRAGMA synchronous = NORMAL');
    expect(await store.loadCursor()).toBe(7);
    await db.close();
  });
});
