import { sqlMigration } from '#lgsp/storage';
import { BACKENDS, itVersionsItsTables, type BackendData } from '#lgsp/storage/testing';
import {
  CHECKPOINT_EXPORT_FORMAT,
  CHECKPOINTS_COMPONENT,
  CheckpointSigner,
  SqlCheckpointStore,
  generateSigningKey,
  readStoredCheckpoints,
} from './index.js';

const HASH = (n: number) => n.toString(16).padStart(64, '0');
const AT = '2026-12-06T08:00:00.000Z';

describe.each(BACKENDS)('SqlCheckpointStore on $name', (backend) => {
  let data: BackendData;
  let store: SqlCheckpointStore;

  beforeEach(async () => {
    data = await backend.create();
    store = await SqlCheckpointStore.open(await data.connect());
  });

  afterEach(async () => {
    await data.close();
  });

  it('makes the signing key once: every connection and every concurrent caller gets the same pair', async () => {
    const other = await SqlCheckpointStore.open(await data.connect());
    const keys = await Promise.all([store.signingKey(), other.signingKey(), store.signingKey()]);
    expect(new Set(keys.map((k) => k.keyId)).size).toBe(1);
    expect(keys[0]!.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(await other.signingKey()).toEqual(keys[0]);
    expect(await store.keys()).toEqual([
      {
        keyId: keys[0]!.keyId,
        algorithm: 'Ed25519',
        publicKey: keys[0]!.publicKey,
        createdAt: expect.any(String),
      },
    ]);
    expect(JSON.stringify(await store.keys())).not.toContain('PRIVATE');
  });

  it('records the public half of a key from a file, once, and still makes its own pair when asked', async () => {
    const file = generateSigningKey();
    const other = await SqlCheckpointStore.open(await data.connect());
    await Promise.all([
      store.addPublicKey(file.keyId, file.publicKey),
      other.addPublicKey(file.keyId, file.publicKey),
    ]);
    expect((await store.keys()).map((k) => k.keyId)).toEqual([file.keyId]);
    const own = await store.signingKey();
    expect(own.keyId).not.toBe(file.keyId);
    expect(await other.signingKey()).toEqual(own);
    const next = generateSigningKey();
    await other.addPublicKey(next.keyId, next.publicKey);
    expect((await store.keys()).map((k) => k.keyId)).toEqual([file.keyId, own.keyId, next.keyId]);
    expect(JSON.stringify(await store.keys())).not.toContain('PRIVATE');
  });

  it('keeps one checkpoint per position, lists them in order after a position, and knows the latest', async () => {
    const signer = new CheckpointSigner(await store.signingKey());
    expect(await store.latest()).toBeUndefined();
    const c = [5, 10, 15].map((p) => signer.sign(p, HASH(p), AT));
    for (const x of [c[1]!, c[0]!, c[2]!]) expect(await store.add(x)).toBe(true);
    expect(await store.add(signer.sign(10, HASH(99), AT))).toBe(false);
    expect(await store.latest()).toEqual(c[2]);
    expect(await store.list(0, 100)).toEqual(c);
    expect(await store.list(5, 1)).toEqual([c[1]]);
    expect(await store.list(15, 100)).toEqual([]);
    // Positions are 64-bit like the events'.
    const far = signer.sign(2 ** 40, HASH(1), AT);
    await store.add(far);
    expect(await store.latest()).toEqual(far);
  });

  it('reads what the store keeps as an export, public key only; nothing before the tables or the key exist', async () => {
    const fresh = await backend.create();
    try {
      const db = await fresh.connect();
      await db.migrate('other', [
        sqlMigration(1, 'another table', () => 'CREATE TABLE other_table (x INTEGER)'),
      ]);
      expect(await readStoredCheckpoints(db)).toBeUndefined();
      const empty = await SqlCheckpointStore.open(db);
      expect(await readStoredCheckpoints(db)).toBeUndefined();
      const signer = new CheckpointSigner(await empty.signingKey());
      const added = Array.from({ length: 1_205 }, (_, i) => signer.sign(i + 1, HASH(i + 1), AT));
      for (const c of added) await empty.add(c);
      const exported = await readStoredCheckpoints(db);
      expect(exported).toEqual({
        format: CHECKPOINT_EXPORT_FORMAT,
        algorithm: 'Ed25519',
        keyId: signer.keyId,
        publicKey: signer.publicKey,
        checkpoints: added,
      });
      expect(JSON.stringify(exported)).not.toContain('PRIVATE');
      const file = generateSigningKey();
      await empty.addPublicKey(file.keyId, file.publicKey);
      expect(await readStoredCheckpoints(db)).toMatchObject({
        keyId: file.keyId,
        keys: [
          { keyId: signer.keyId, publicKey: signer.publicKey },
          { keyId: file.keyId, publicKey: file.publicKey },
        ],
      });
    } finally {
      await fresh.close();
    }
  });
});

describe('SqlCheckpointStore tables', () => {
  itVersionsItsTables(
    'records its schema version once',
    (db) => SqlCheckpointStore.open(db),
    CHECKPOINTS_COMPONENT,
  );
});
