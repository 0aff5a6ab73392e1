import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANY_VERSION, type EventToAppend } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { ERASED, PersonalDataCodec, SealingEventStore, SqlSubjectKeyStore, copySubject } from './index.js';

/**
 * The embedded store's fast path: an exclusive key store whose new keys and links ride in the event
 * store's group commits (no transaction of their own), durable exactly with the events they seal.
 */

const code = (n: number) => `000.00.51.H56-251201-${String(n).padStart(4, '0')}`;

function submission(n: number, idNumber: string, fullName = 'Nguyễn Thị Hoà'): EventToAppend {
  return {
    stream: `dossier-${code(n)}`,
    expectedVersion: ANY_VERSION,
    source: '/communes/21040/one-stop-shop',
    id: `submitted-${n}`,
    type: 'vn.gov.lgsp.dossier.submitted.v1',
    extensions: {},
    provinceCode: '51',
    communeCode: '21040',
    data: { dossierCode: code(n), applicant: { fullName, idNumber } },
  };
}

describe('subject keys written by the event commits (embedded SQLite)', () => {
  let dir: string;
  let store: SqliteEventStore;
  let db: SqliteDatabase;
  let keys: SqlSubjectKeyStore;
  let sealing: SealingEventStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lgsp-companion-'));
    store = SqliteEventStore.open({ file: join(dir, 'events.db') });
    db = SqliteDatabase.over(store.database);
    keys = await SqlSubjectKeyStore.open(db, { exclusive: true });
    store.addCommitCompanion(keys.commitCompanion(store.database));
    sealing = new SealingEventStore(store, new PersonalDataCodec(keys));
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const count = async (sql: string, params: unknown[] = []) =>
    Number((await db.query<{ n: number }>(sql, params))[0]!.n);

  it('stores the key and the link with the events, one key per person however many appends ask at once', async () => {
    const id = '051190001234';
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, n) => sealing.append([submission(n, id)])),
    );
    expect(results.flat().every((r) => !r.duplicate)).toBe(true);
    const ref = keys.ref(id);
    expect(await count('SELECT COUNT(*) AS n FROM privacy_subject_keys WHERE ref = $1', [ref])).toBe(1);
    // The key's row holds its first stream; the other 19 dossiers are link rows.
    expect(await count('SELECT COUNT(*) AS n FROM privacy_subject_streams WHERE ref = $1', [ref])).toBe(19);
    expect(
      await count(
        'SELECT COUNT(*) AS n FROM privacy_subject_keys WHERE ref = $1 AND first_stream IS NOT NULL',
        [ref],
      ),
    ).toBe(1);
    expect(await keys.streams(ref)).toEqual(
      Array.from({ length: 20 }, (_, n) => `dossier-${code(n)}`).sort(),
    );
    // Read back by a store that knows nothing of this process's memory.
    const reader = new PersonalDataCodec(
      await SqlSubjectKeyStore.reader(SqliteDatabase.open(join(dir, 'events.db'))),
    );
    const events = await reader.revealEvents(await store.readAll({ limit: 100 }));
    expect(events.map((e) => (e.data as { applicant: { idNumber: string } }).applicant.idNumber)).toEqual(
      Array.from({ length: 20 }, () => id),
    );
  });

  it('keeps a key made for a refused append and writes it with a later commit', async () => {
    const first = submission(1, '079190000001');
    await sealing.append([first]);
    // Same stream, a stale expected version: refused, after its persons were sealed.
    const refused = { ...submission(2, '079190000002'), stream: first.stream, expectedVersion: 0 };
    await expect(sealing.append([refused])).rejects.toThrow();
    await sealing.append([submission(3, '079190000002')]);
    expect(
      await count('SELECT COUNT(*) AS n FROM privacy_subject_keys WHERE ref = $1', [
        keys.ref('079190000002'),
      ]),
    ).toBe(1);
    const [stored] = await sealing.readStream(`dossier-${code(3)}`);
    expect((stored?.data as { applicant: { fullName: string } }).applicant.fullName).toBe('Nguyễn Thị Hoà');
  });

  it('writes the keys queued for appends when another caller commits first, without a second live key', async () => {
    const id = '079190000009';
    const ref = keys.ref(id);
    // The key is made for an append, which is not committed yet; a working copy asks for it meanwhile.
    const sealed = new PersonalDataCodec(keys).seal([submission(9, id)], { withNextAppend: true });
    await sealed;
    await keys.sealingKeys([{ ref: keys.ref(copySubject(code(9))) }]);
    expect(await count('SELECT COUNT(*) AS n FROM privacy_subject_keys WHERE ref = $1', [ref])).toBe(1);
    await sealing.append([submission(10, id)]);
    expect(
      await count('SELECT COUNT(*) AS n FROM privacy_subject_keys WHERE ref = $1 AND destroyed_at IS NULL', [
        ref,
      ]),
    ).toBe(1);
  });

  it('after an erasure, seals new data under a new key and reads the old as erased', async () => {
    const id = '079190000077';
    await sealing.append([submission(1, id, 'Lê Văn Tám')]);
    await keys.destroy(keys.ref(id));
    await sealing.append([submission(2, id, 'Lê Văn Tám')]);
    const [before] = await sealing.readStream(`dossier-${code(1)}`);
    const [after] = await sealing.readStream(`dossier-${code(2)}`);
    expect((before?.data as { applicant: unknown }).applicant).toEqual({
      fullName: ERASED,
      idNumber: ERASED,
    });
    expect((after?.data as { applicant: unknown }).applicant).toEqual({
      fullName: 'Lê Văn Tám',
      idNumber: id,
    });
    expect(await count('SELECT COUNT(*) AS n FROM privacy_subject_keys WHERE ref = $1', [keys.ref(id)])).toBe(
      2,
    );
  });
});
