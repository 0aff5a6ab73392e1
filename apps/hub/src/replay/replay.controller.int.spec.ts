import type { ReadAllOptions, StoredEvent } from '#lgsp/event-store';
import {
  SqlReplayStore,
  ReplayService,
  type ReplayPlan,
  type ReplayProgress,
  type ReplayTarget,
} from '#lgsp/replay';
import { SqlAuditLog } from '#lgsp/security';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { serveController } from '../http/controller.testing.js';
import { REPLAY } from '../http/tokens.js';
import { ReplayController } from './replay.controller.js';

const events: StoredEvent[] = ['D1', 'D2', 'D3'].map((d, i) => ({
  position: i + 1,
  stream: `dossier-${d}`,
  streamVersion: 1,
  recordedAt: '2026-11-23T08:00:00.000Z',
  hash: '',
  prevHash: '',
  id: `e${i}`,
  source: '/test',
  type: 'vn.gov.lgsp.dossier.submitted.v1',
  data: {},
  extensions: {},
}));

/** The fields of the answers (and problems) the specs read. */
interface Answer {
  plan?: ReplayPlan;
  replay?: ReplayProgress;
  replays?: ReplayProgress[];
  detail?: string;
  errors?: { pointer: string; message: string }[];
}

/** The controller alone in a Fastify app, with the replay service or none (a hub that does not run it). */
async function serve(replay: ReplayService | undefined) {
  const { url, close } = await serveController(
    ReplayController,
    replay ? [{ provide: REPLAY, useValue: replay }] : [],
  );
  const call = async (method: string, path: string, body?: unknown, token = 'ops-token') => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Answer };
  };
  return { call, close };
}

describe('/v1/admin/replays', () => {
  const sent: string[] = [];
  const target: ReplayTarget = {
    name: 'portal',
    unit: 'dossier',
    ratePerSecond: 1000,
    callsPerItem: 1,
    send: async (item) => {
      sent.push(item);
      return 'sent';
    },
  };
  let audit: SqlAuditLog;
  let service: ReplayService;
  const newService = async () => {
    const db = SqliteDatabase.open(':memory:');
    audit = await SqlAuditLog.open(db);
    return new ReplayService({
      store: await SqlReplayStore.open(db),
      targets: new Map([['portal', target]]),
      events: {
        head: async () => ({ position: events.length }),
        readAll: async (o: ReadAllOptions = {}) => events.filter((e) => e.position > (o.after ?? 0)),
      },
      audit,
      confirmAbove: 2,
      chunkSize: 10,
      pollMs: 10,
    });
  };
  let hub: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    service = await newService();
    service.start();
    hub = await serve(service);
  });
  afterAll(async () => {
    await hub.close();
    await service.stop();
  });

  it('plans, refuses an unconfirmed large run (409), runs, shows and lists it', async () => {
    const plan = await hub.call('POST', '/v1/admin/replays/plan', {
      target: 'portal',
      scope: { dossiers: ['D2'] },
    });
    expect(plan).toMatchObject({
      status: 200,
      body: { plan: { dossiers: ['D2'], confirmationRequired: false } },
    });
    expect(sent).toEqual([]);

    const refused = await hub.call('POST', '/v1/admin/replays', { target: 'portal' });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/3 dossiers .* send confirm: true/);

    const started = await hub.call('POST', '/v1/admin/replays', {
      target: 'portal',
      confirm: true,
      chunkSize: 2,
    });
    expect(started).toMatchObject({
      status: 201,
      body: { replay: { state: 'running', total: 3, chunkSize: 2 } },
    });
    const id = started.body.replay!.id;
    const end = Date.now() + 5000;
    while (
      (await hub.call('GET', `/v1/admin/replays/${id}`)).body.replay?.state === 'running' &&
      Date.now() < end
    )
      await new Promise((r) => setTimeout(r, 10));
    expect((await hub.call('GET', `/v1/admin/replays/${id}`)).body.replay).toMatchObject({
      state: 'completed',
      done: 3,
    });
    expect(sent).toEqual(['D1', 'D2', 'D3']);
    expect((await hub.call('GET', '/v1/admin/replays?limit=1')).body.replays?.map((r) => r.id)).toEqual([id]);
    expect((await hub.call('POST', `/v1/admin/replays/${id}/resume`, { note: 'again' })).status).toBe(409);
    // The refused run (409, not confirmed) leaves its entry too, with the reason.
    const entries = await audit.list({ limit: 10, action: 'replay.' });
    expect(entries.map((e) => [e.action, e.outcome.refused ?? false])).toEqual([
      ['replay.plan', false],
      ['replay.run', true],
      ['replay.run', false],
      ['replay.complete', false],
    ]);
    expect(entries[1]).toMatchObject({
      subject: 'portal',
      outcome: { refused: true, code: 'conflict', reason: expect.stringMatching(/send confirm: true/) },
    });
  });

  it('answers problems: bad scope and body (pointers), unknown target or id (404), role (403)', async () => {
    const bad = await hub.call('POST', '/v1/admin/replays/plan', {
      target: 'portal',
      scope: { from: 'yesterday' },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual([
      { pointer: '/scope/from', message: 'must be an RFC 3339 time with its offset' },
    ]);
    const chunk = await hub.call('POST', '/v1/admin/replays', { target: 'portal', chunkSize: 5000 });
    expect(chunk.status).toBe(422);
    expect(chunk.body.errors?.[0]?.pointer).toBe('/chunkSize');
    expect((await hub.call('POST', '/v1/admin/replays/plan', { target: 'kafka:erp' })).status).toBe(404);
    expect((await hub.call('GET', '/v1/admin/replays/nope')).status).toBe(404);
    expect((await hub.call('POST', '/v1/admin/replays/nope/pause', {})).status).toBe(404);
    expect((await hub.call('GET', '/v1/admin/replays', undefined, 'commune-token')).status).toBe(403);
  });

  it('answers 404 while the hub runs no replays', async () => {
    const none = await serve(undefined);
    try {
      expect((await none.call('GET', '/v1/admin/replays')).status).toBe(404);
    } finally {
      await none.close();
    }
  });
});
