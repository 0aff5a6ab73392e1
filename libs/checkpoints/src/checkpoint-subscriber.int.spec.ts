import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { chainEvent, readWholeLog } from '#lgsp/event-store/testing';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { Subscriptions } from '#lgsp/subscriptions';
import {
  CHECKPOINTS_SUBSCRIBER,
  CheckpointCheck,
  CheckpointSubscriber,
  SqlCheckpointStore,
  generateSigningKey,
  readStoredCheckpoints,
  type SignedCheckpoint,
  type SigningKeyPair,
} from './index.js';

const run = promisify(execFile);

let dir: string;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lgsp-checkpoints-'));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** An events file with the checkpoint tables beside the events, as the embedded hub keeps them. */
async function hubStore() {
  const events = SqliteEventStore.open({ file: join(dir, 'events.db') });
  cleanups.push(() => events.close());
  const store = await SqlCheckpointStore.open(SqliteDatabase.over(events.database));
  return { events, store };
}

/** The subscriber on `events` under a clock the test moves, run by a Subscriptions manager. */
async function signing(every: number, everySeconds: number, now: { ms: number }, key?: SigningKeyPair) {
  const { events, store } = await hubStore();
  const signed: SignedCheckpoint[] = [];
  const subscriber = new CheckpointSubscriber({
    store,
    events,
    settings: { every, everySeconds },
    ...(key ? { key } : {}),
    clock: { now: () => now.ms },
    signed: (c) => signed.push(c),
  });
  const subscriptions = new Subscriptions({ store: events, pollIntervalMs: 20 });
  subscriptions.register(subscriber);
  await subscriptions.start();
  cleanups.push(async () => {
    await subscriber.stop();
    await subscriptions.stop();
  });
  return { events, store, subscriber, signed };
}

const append = (events: SqliteEventStore, from: number, count: number) =>
  events.append(Array.from({ length: count }, (_, i) => chainEvent(from + i)));

describe('CheckpointSubscriber', () => {
  it('signs the record at every N-th position, whatever the batches, with the hash stored there', async () => {
    const now = { ms: Date.parse('2026-12-06T08:00:00.000Z') };
    const { events, store, signed } = await signing(10, 3600, now);
    let n = 0;
    for (const size of [3, 9, 1, 17, 4, 6]) {
      await append(events, n, size);
      n += size;
    }
    // 40 events: checkpoints at 10, 20, 30 and 40.
    await eventually(async () => (await store.latest())?.position === 40);
    const log = await readWholeLog(events);
    expect(signed.map((c) => [c.position, c.chainHash])).toEqual(
      [10, 20, 30, 40].map((p) => [p, log[p - 1]!.hash]),
    );
    expect(await store.list(0, 100)).toEqual(signed);
    expect(signed[0]!.signedAt).toBe('2026-12-06T08:00:00.000Z');
  });

  it('signs the head once events after the last checkpoint waited M seconds, and not on a quiet log', async () => {
    const now = { ms: Date.parse('2026-12-06T08:00:00.000Z') };
    const { events, store, subscriber } = await signing(1000, 60, now);
    expect(await subscriber.tick()).toBeUndefined();
    await append(events, 0, 5);
    // Seen waiting from 08:00:00.
    expect(await subscriber.tick()).toBeUndefined();
    now.ms += 59_999;
    expect(await subscriber.tick()).toBeUndefined();
    now.ms += 1;
    const first = await subscriber.tick();
    expect(first).toMatchObject({ position: 5, signedAt: '2026-12-06T08:01:00.000Z' });
    expect(first?.chainHash).toBe((await events.readAll({ after: 4 }))[0]!.hash);
    now.ms += 120_000;
    // Nothing new since position 5: a quiet log gets no checkpoint.
    expect(await subscriber.tick()).toBeUndefined();
    await append(events, 5, 2);
    expect(await subscriber.tick()).toBeUndefined();
    now.ms += 59_000;
    expect(await subscriber.tick()).toBeUndefined();
    now.ms += 1_000;
    expect(await subscriber.tick()).toMatchObject({ position: 7, signedAt: '2026-12-06T08:04:00.000Z' });
    expect((await store.list(0, 10)).map((c) => c.position)).toEqual([5, 7]);
  });

  it('goes on from the last checkpoint kept after a restart, with the same key', async () => {
    const now = { ms: Date.parse('2026-12-06T08:00:00.000Z') };
    const first = await signing(5, 3600, now);
    await append(first.events, 0, 7);
    await eventually(async () => (await first.store.latest())?.position === 5);
    const key = await first.subscriber.key();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();

    const again = await signing(5, 3600, now);
    expect(await again.subscriber.key()).toEqual(key);
    await append(again.events, 7, 4);
    await eventually(async () => (await again.store.latest())?.position === 10);
    expect((await again.store.list(0, 10)).map((c) => [c.position, c.keyId])).toEqual([
      [5, key.keyId],
      [10, key.keyId],
    ]);
  });

  it('saves its place in the log without an fsync of its own; taken back (a power loss), it reads the batches again and signs nothing twice', async () => {
    const now = { ms: Date.parse('2026-12-06T08:00:00.000Z') };
    const first = await signing(5, 3600, now);
    const saves: unknown[] = [];
    const save = first.events.checkpoints.save.bind(first.events.checkpoints);
    first.events.checkpoints.save = async (name, position, options) => {
      saves.push(options);
      return save(name, position, options);
    };
    await append(first.events, 0, 12);
    await eventually(async () => (await first.store.latest())?.position === 10);
    await eventually(async () => (await first.events.checkpoints.load(CHECKPOINTS_SUBSCRIBER)) === 12);
    expect(saves.length).toBeGreaterThan(0);
    expect(saves.every((o) => JSON.stringify(o) === '{"withNextCommit":true}')).toBe(true);
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();

    const { events } = await hubStore();
    await events.checkpoints.save(CHECKPOINTS_SUBSCRIBER, 3);
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    const again = await signing(5, 3600, now);
    await append(again.events, 12, 4);
    await eventually(async () => (await again.store.latest())?.position === 15);
    await eventually(async () => (await again.events.checkpoints.load(CHECKPOINTS_SUBSCRIBER)) === 16);
    const log = await readWholeLog(again.events);
    expect((await again.store.list(0, 10)).map((c) => [c.position, c.chainHash])).toEqual(
      [5, 10, 15].map((p) => [p, log[p - 1]!.hash]),
    );
  });

  it('signs with a key from a file after the store’s own, and every checkpoint checks under the key it names', async () => {
    const now = { ms: Date.parse('2026-12-06T08:00:00.000Z') };
    const first = await signing(5, 3600, now);
    await append(first.events, 0, 5);
    await eventually(async () => (await first.store.latest())?.position === 5);
    const own = await first.subscriber.key();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();

    const file = generateSigningKey();
    const again = await signing(5, 3600, now, file);
    expect(await again.subscriber.key()).toEqual({ keyId: file.keyId, publicKey: file.publicKey });
    await append(again.events, 5, 5);
    await eventually(async () => (await again.store.latest())?.position === 10);
    expect((await again.store.list(0, 10)).map((c) => c.keyId)).toEqual([own.keyId, file.keyId]);
    const exported = await readStoredCheckpoints(SqliteDatabase.over(again.events.database));
    expect(exported).toMatchObject({
      keyId: file.keyId,
      keys: [{ keyId: own.keyId }, { keyId: file.keyId }],
    });
    const check = new CheckpointCheck(exported!);
    for (const e of await readWholeLog(again.events)) check.observe(e);
    expect(check.verdict(10)).toMatchObject({ ok: true, checked: 2 });
  });

  it('signs with the time rule only where it runs the subscriber (holds the lease)', async () => {
    const wallClock = {
      get ms() {
        return Date.now();
      },
    };
    const { events, store, subscriber } = await signing(1000, 1, wallClock);
    let held = false;
    subscriber.start(() => held);
    await append(events, 0, 3);
    await new Promise((r) => setTimeout(r, 2_300));
    expect(await store.latest()).toBeUndefined();
    held = true;
    await eventually(async () => (await store.latest())?.position === 3);
  });

  it('makes signatures that OpenSSL verifies with the exported PEM public key', async () => {
    const { stdout } = await run('openssl', ['version']);
    expect(stdout).toMatch(/^OpenSSL 3\./);
    const now = { ms: Date.parse('2026-12-06T08:00:00.000Z') };
    const { events, store, subscriber } = await signing(4, 3600, now);
    await append(events, 0, 8);
    await eventually(async () => (await store.latest())?.position === 8);
    const { publicKey } = await subscriber.key();
    writeFileSync(join(dir, 'pub.pem'), publicKey);
    const openssl = async (c: SignedCheckpoint) => {
      writeFileSync(join(dir, 'msg.bin'), Buffer.from(c.message, 'base64'));
      writeFileSync(join(dir, 'sig.bin'), Buffer.from(c.signature, 'base64'));
      const args = ['pkeyutl', '-verify', '-pubin', '-inkey', join(dir, 'pub.pem'), '-rawin'];
      return run('openssl', [...args, '-in', join(dir, 'msg.bin'), '-sigfile', join(dir, 'sig.bin')]);
    };
    for (const c of await store.list(0, 10)) {
      expect((await openssl(c)).stdout).toBe('Signature Verified Successfully\n');
      expect(Buffer.from(c.message, 'base64').toString()).toBe(
        `lgsp-checkpoint:v1:${c.position}:${c.chainHash}:${c.signedAt}`,
      );
    }
    const [c4] = await store.list(0, 1);
    const forged = {
      ...c4!,
      message: Buffer.from(`lgsp-checkpoint:v1:4:${'0'.repeat(64)}:${c4!.signedAt}`).toString('base64'),
    };
    await expect(openssl(forged)).rejects.toMatchObject({
      stdout: expect.stringContaining('Signature Verification Failure'),
    });
  });
});
