import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { itVersionsItsTables, postgresSchema, sqliteFile, type BackendData } from '#lgsp/storage/testing';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { FileKeyWrapper, PRIVACY_COMPONENT, SqlSubjectKeyStore, open, seal } from './index.js';
import { SUBJECT_KEY_SCHEMA } from './sql-subject-key-store.js';

describe('SqlSubjectKeyStore', () => {
  itVersionsItsTables(
    'records its tables once in schema_version',
    (db) => SqlSubjectKeyStore.open(db),
    PRIVACY_COMPONENT,
    2,
  );

  describe.each([sqliteFile, postgresSchema])('on $name', (backend) => {
    let data: BackendData;
    beforeEach(async () => {
      data = await backend.create();
    });
    afterEach(() => data.close());

    it('stores keys wrapped by the master key, and refuses another master key or none with a clear error', async () => {
      const wrapper = new FileKeyWrapper(randomBytes(32));
      const db = await data.connect();
      const store = await SqlSubjectKeyStore.open(db, { wrapper });
      const ref = store.ref('051190001234');
      const { kid, key } = (await store.sealingKeys([{ ref }])).get(ref)!;
      const [row] = await db.query<{ key_material: string; wrapped_by: string }>(
        'SELECT key_material, wrapped_by FROM privacy_subject_keys WHERE kid = $1',
        [kid],
      );
      expect(row!.wrapped_by).toBe(wrapper.id);
      expect(row!.key_material).not.toContain(key.export().toString('base64'));
      const sealed = seal(kid, key, 'Nguyễn Thị Hoà');
      const again = await SqlSubjectKeyStore.open(await data.connect(), { wrapper, cacheMs: 0 });
      expect(open(sealed, (await again.openingKeys([kid])).get(kid)!)).toBe('Nguyễn Thị Hoà');
      const wrong = new FileKeyWrapper(randomBytes(32));
      const other = await SqlSubjectKeyStore.open(await data.connect(), { wrapper: wrong });
      await expect(other.openingKeys([kid])).rejects.toThrow(
        `a subject key is wrapped by ${wrapper.id}, which is not the configured master key`,
      );
      const none = await SqlSubjectKeyStore.open(await data.connect());
      await expect(none.sealingKeys([{ ref }])).rejects.toThrow('which is not the configured master key');
    });

    it('migrates the tables of the first version: its keys, destroyed keys and links read as before', async () => {
      const db = await data.connect();
      await db.migrate(PRIVACY_COMPONENT, SUBJECT_KEY_SCHEMA.migrations.slice(0, 1));
      const material = randomBytes(32).toString('base64');
      await db.run(
        `INSERT INTO privacy_subject_keys (kid, ref, key_material, wrapped_by, created_at, destroyed_at)
         VALUES ('kid-old', 'ref-a', NULL, NULL, '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z'),
                ('kid-live', 'ref-a', $1, NULL, '2026-02-02T00:00:00Z', NULL)`,
        [material],
      );
      await db.run(
        `INSERT INTO privacy_subject_streams (ref, stream) VALUES ('ref-a', 'dossier-A'), ('ref-a', 'dossier-B')`,
      );
      const store = await SqlSubjectKeyStore.open(db);
      expect(await store.state('ref-a')).toEqual({
        ref: 'ref-a',
        keys: 2,
        destroyed: 1,
        destroyedAt: '2026-02-01T00:00:00Z',
      });
      expect((await store.sealingKeys([{ ref: 'ref-a', stream: 'dossier-C' }])).get('ref-a')!.kid).toBe(
        'kid-live',
      );
      expect(await store.streams('ref-a')).toEqual(['dossier-A', 'dossier-B', 'dossier-C']);
      expect(await store.subjectsIn('dossier-B')).toEqual(['ref-a']);
      // One live key per subject, still: a second is refused by the index.
      await expect(
        (async () =>
          db.run(
            `INSERT INTO privacy_subject_keys (kid, ref, key_material, wrapped_by, created_at)
           VALUES ('kid-second', 'ref-a', $1, NULL, '2026-03-01T00:00:00Z')`,
            [material],
          ))(),
      ).rejects.toThrow(/unique|duplicate/i);
      const state = await store.destroy('ref-a');
      expect(state).toMatchObject({ keys: 2, destroyed: 2 });
    });

    it('makes kids that sort by creation time, and records the first stream of a key in its row', async () => {
      let now = Date.parse('2026-12-06T10:00:00Z');
      const db = await data.connect();
      const store = await SqlSubjectKeyStore.open(db, { clock: { now: () => now } });
      const kids: string[] = [];
      for (const subject of ['z', 'y', 'x', 'w']) {
        const ref = store.ref(subject);
        kids.push((await store.sealingKeys([{ ref, stream: `dossier-${subject}` }])).get(ref)!.kid);
        now += 1;
      }
      expect([...kids].sort()).toEqual(kids);
      expect(new Set(kids).size).toBe(4);
      expect(await store.streams(store.ref('x'))).toEqual(['dossier-x']);
      expect(await store.subjectsIn('dossier-w')).toEqual([store.ref('w')]);
    });

    it('trusts a key it read for cacheMs: a destroy elsewhere shows here once that time has passed', async () => {
      let now = Date.UTC(2026, 11, 6);
      const clock = { now: () => now };
      const here = await SqlSubjectKeyStore.open(await data.connect(), { cacheMs: 5000, clock });
      const there = await SqlSubjectKeyStore.open(await data.connect());
      const ref = here.ref('051190001234');
      const { kid } = (await here.sealingKeys([{ ref }])).get(ref)!;
      await there.destroy(ref);
      now += 4999;
      expect((await here.openingKeys([kid])).get(kid)).not.toBeNull();
      now += 1;
      expect((await here.openingKeys([kid])).get(kid)).toBeNull();
      // Destroyed here: forgotten at once, whatever the cache.
      const next = (await here.sealingKeys([{ ref }])).get(ref)!;
      expect((await here.openingKeys([next.kid])).get(next.kid)).not.toBeNull();
      await here.destroy(ref);
      expect((await here.openingKeys([next.kid])).get(next.kid)).toBeNull();
    });
  });

  describe('on SQLite', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'lgsp-keys-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const fileBytes = (file: string): string =>
      [file, `${file}-wal`]
        .filter((f) => existsSync(f))
        .map((f) => readFileSync(f).toString('latin1'))
        .join('');

    it('leaves no byte of a destroyed key in the database file or its write-ahead log', async () => {
      const file = join(dir, 'events.db');
      const db = SqliteDatabase.open(file);
      const store = await SqlSubjectKeyStore.open(db);
      const refs = Array.from({ length: 50 }, (_, i) => store.ref(`05119000${String(i).padStart(4, '0')}`));
      await store.sealingKeys(refs.map((ref) => ({ ref, stream: 'dossier-A' })));
      const materials = await db.query<{ key_material: string }>(
        'SELECT key_material FROM privacy_subject_keys WHERE ref = $1',
        [refs[7]],
      );
      const material = materials[0]!.key_material;
      // The key's page in the database file itself, not only in the log.
      await db.query('PRAGMA wal_checkpoint(TRUNCATE)');
      expect(fileBytes(file)).toContain(material);
      await store.destroy(refs[7]!);
      expect(fileBytes(file)).not.toContain(material);
      // The others are still there, and the connection keeps overwriting what it frees.
      expect(
        (
          await db.query<{ n: number }>(
            'SELECT COUNT(*) AS n FROM privacy_subject_keys WHERE key_material IS NOT NULL',
          )
        )[0]!.n,
      ).toBe(49);
      expect((await db.query<{ secure_delete: number }>('PRAGMA secure_delete'))[0]!.secure_delete).toBe(1);
      await db.close();
    });

    it('with durableWithNextCommit, commits new keys without their own fsync and restores the connection', async () => {
      const file = join(dir, 'events.db');
      const db = SqliteDatabase.open(file);
      const store = await SqlSubjectKeyStore.open(db, { durableWithNextCommit: true });
      const refs = ['a', 'b', 'c'].map((s) => store.ref(s));
      const keys = await store.sealingKeys(refs.map((ref) => ({ ref, stream: 'dossier-A' })));
      expect((await db.query<{ synchronous: number }>('PRAGMA synchronous'))[0]!.synchronous).toBe(2);
      expect(db.connection.isTransaction).toBe(false);
      const reader = await SqlSubjectKeyStore.open(SqliteDatabase.open(file));
      const kids = [...keys.values()].map((k) => k.kid);
      expect([...(await reader.openingKeys(kids)).values()].every((k) => k !== null)).toBe(true);
      expect(await reader.subjectsIn('dossier-A')).toEqual([...refs].sort());
      // A failure inside rolls back what it wrote and leaves no transaction open.
      await db.run('DROP TABLE privacy_subject_streams');
      await expect(store.sealingKeys([{ ref: store.ref('d'), stream: 'dossier-B' }])).rejects.toThrow();
      expect(db.connection.isTransaction).toBe(false);
      expect((await db.query<{ synchronous: number }>('PRAGMA synchronous'))[0]!.synchronous).toBe(2);
      expect(await reader.state(store.ref('d'))).toBeUndefined();
      await db.close();
    });

    it('reads the keys of a read-only copy of the store without writing to it', async () => {
      const file = join(dir, 'events.db');
      const db = SqliteDatabase.open(file);
      const store = await SqlSubjectKeyStore.open(db);
      const ref = store.ref('051190001234');
      const { kid, key } = (await store.sealingKeys([{ ref, stream: 'dossier-A' }])).get(ref)!;
      const sealed = seal(kid, key, 'Nguyễn Thị Hoà');
      await db.query('PRAGMA wal_checkpoint(TRUNCATE)');
      const copy = join(dir, 'copy.db');
      copyFileSync(file, copy);
      await db.close();
      const readOnly = SqliteDatabase.over(new DatabaseSync(copy, { readOnly: true }));
      const reader = await SqlSubjectKeyStore.reader(readOnly);
      expect(reader.ref('051190001234')).toBe(ref);
      expect(open(sealed, (await reader.openingKeys([kid])).get(kid)!)).toBe('Nguyễn Thị Hoà');
      expect(await reader.streams(ref)).toEqual(['dossier-A']);
      readOnly.connection.close();
      const empty = SqliteDatabase.open(join(dir, 'empty.db'));
      await expect(SqlSubjectKeyStore.reader(empty)).rejects.toThrow();
      await empty.close();
    });
  });
});
