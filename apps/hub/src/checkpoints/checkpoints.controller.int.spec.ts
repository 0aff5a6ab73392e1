import { CheckpointSigner, SqlCheckpointStore } from '#lgsp/checkpoints';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { serveController } from '../http/controller.testing.js';
import { CHECKPOINTS } from '../http/tokens.js';
import type { CheckpointReader } from './checkpoint-parts.js';
import { CheckpointsController } from './checkpoints.controller.js';

const serve = (reader: CheckpointReader | undefined) =>
  serveController(CheckpointsController, reader ? [{ provide: CHECKPOINTS, useValue: reader }] : []);

const get = async (url: string, token = 'ops-token') => {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('GET /v1/admin/checkpoints', () => {
  it('answers the public key and the checkpoints in position order, page by page', async () => {
    const store = await SqlCheckpointStore.open(SqliteDatabase.open(':memory:'));
    const pair = await store.signingKey();
    const signer = new CheckpointSigner(pair);
    const kept = [1, 2, 3].map((p) => signer.sign(p * 100, String(p).repeat(64), '2026-12-06T08:00:00.000Z'));
    for (const c of kept) await store.add(c);
    const hub = await serve({
      key: async () => pair,
      keys: async () => [pair],
      list: (after, limit) => store.list(after, limit),
    });
    try {
      const head = {
        format: 'lgsp-checkpoints/v1',
        algorithm: 'Ed25519',
        keyId: pair.keyId,
        publicKey: pair.publicKey,
      };
      expect(await get(`${hub.url}/v1/admin/checkpoints`)).toEqual({
        status: 200,
        body: { ...head, checkpoints: kept },
      });
      expect((await get(`${hub.url}/v1/admin/checkpoints?limit=2`)).body).toEqual({
        ...head,
        checkpoints: kept.slice(0, 2),
        next: 200,
      });
      expect((await get(`${hub.url}/v1/admin/checkpoints?limit=2&after=200`)).body).toEqual({
        ...head,
        checkpoints: kept.slice(2),
      });
      expect(JSON.stringify((await get(`${hub.url}/v1/admin/checkpoints`)).body)).not.toContain('PRIVATE');
    } finally {
      await hub.close();
    }
  });

  it('lists every key when the hub has signed with more than one', async () => {
    const keys = [
      { keyId: 'ed25519:old', publicKey: 'old pem' },
      { keyId: 'ed25519:new', publicKey: 'new pem' },
    ];
    const hub = await serve({ key: async () => keys[1]!, keys: async () => keys, list: async () => [] });
    try {
      expect((await get(`${hub.url}/v1/admin/checkpoints`)).body).toEqual({
        format: 'lgsp-checkpoints/v1',
        algorithm: 'Ed25519',
        keyId: 'ed25519:new',
        publicKey: 'new pem',
        keys,
        checkpoints: [],
      });
    } finally {
      await hub.close();
    }
  });

  it('refuses a commune client (403), no token (401) and a bad limit (400); 404 when the hub signs none', async () => {
    const hub = await serve({
      key: async () => ({ keyId: 'k', publicKey: 'p' }),
      keys: async () => [{ keyId: 'k', publicKey: 'p' }],
      list: async () => [],
    });
    try {
      expect((await get(`${hub.url}/v1/admin/checkpoints`, 'commune-token')).status).toBe(403);
      expect((await get(`${hub.url}/v1/admin/checkpoints`, 'nobody')).status).toBe(401);
      const bad = await get(`${hub.url}/v1/admin/checkpoints?limit=0`);
      expect([bad.status, bad.body.errors]).toEqual([
        400,
        [{ pointer: '/limit', message: 'must be an integer from 1 to 1000' }],
      ]);
    } finally {
      await hub.close();
    }
    const none = await serve(undefined);
    try {
      const r = await get(`${none.url}/v1/admin/checkpoints`);
      expect([r.status, r.body.detail]).toEqual([404, 'this hub signs no checkpoints']);
    } finally {
      await none.close();
    }
  });
});
