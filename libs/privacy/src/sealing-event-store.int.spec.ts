import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ANY_VERSION,
  verifyRecords,
  type ChainSource,
  type EventStore,
  type EventToAppend,
} from '#lgsp/event-store';
import { PostgresEventStore, openPostgresChainSource } from '#lgsp/event-store/postgres';
import { SqliteEventStore, openSqliteChainSource } from '#lgsp/event-store/sqlite';
import type { SqlDatabase } from '#lgsp/storage';
import { PostgresDatabase } from '#lgsp/storage/postgres';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { POSTGRES_URL, dropSchema, queryIn } from '../../../test/support/postgres.js';
import { ERASED, PersonalDataCodec, SealingEventStore, SqlSubjectKeyStore } from './index.js';

const MOTHER = '051190001234';
const FATHER = '051085004321';
const CLEAR = ['Nguyễn Thị Hoà', 'Trần Văn Dũng', 'Trần Minh Khang', MOTHER, FATHER, 'hoa@example.vn'];

const code = (n: number) => `000.00.51.H56-251123-${String(n).padStart(4, '0')}`;

/** A birth registration submitted in dossier `n`, then its status change. */
function dossier(n: number): EventToAppend[] {
  const base = {
    stream: `dossier-${code(n)}`,
    expectedVersion: ANY_VERSION,
    source: '/communes/21040/one-stop-shop',
    extensions: {},
    provinceCode: '51',
    communeCode: '21040',
  } as const;
  return [
    {
      ...base,
      id: `submitted-${n}`,
      type: 'vn.gov.lgsp.dossier.submitted.v1',
      data: {
        dossierCode: code(n),
        applicant: { fullName: 'Nguyễn Thị Hoà', idNumber: MOTHER, email: 'hoa@example.vn' },
        civilRegistration: {
          registrationType: 'birth',
          person: { fullName: 'Trần Minh Khang', dateOfBirth: '2025-11-20', sex: 'male' },
          mother: { fullName: 'Nguyễn Thị Hoà', idNumber: MOTHER },
          father: { fullName: 'Trần Văn Dũng', idNumber: FATHER },
        },
      },
    },
    {
      ...base,
      id: `status-${n}`,
      type: 'vn.gov.lgsp.dossier.status-changed.v1',
      data: { dossierCode: code(n), status: 2 },
    },
  ];
}

const LEGACY = '123456789';
const PASSPORT = 'C7654321';
const CLEAR_V2 = [...CLEAR, 'Lê Văn Nam', 'Phạm Thị Thu', LEGACY, PASSPORT, '1990-03-14', '0912345678'];

/** A marriage registration in v2 (`persons`), dossier `n`: the applicant, a co-applicant with a legacy ID, one with a passport. */
function dossierV2(n: number): EventToAppend {
  return {
    stream: `dossier-${code(n)}`,
    expectedVersion: ANY_VERSION,
    source: '/communes/21040/one-stop-shop',
    extensions: {},
    provinceCode: '51',
    communeCode: '21040',
    id: `submitted-v2-${n}`,
    type: 'vn.gov.lgsp.dossier.submitted.v2',
    data: {
      dossierCode: code(n),
      summary: 'Đăng ký kết hôn của bà Nguyễn Thị Hoà',
      persons: [
        {
          role: 'applicant',
          fullName: 'Nguyễn Thị Hoà',
          documents: [
            { kind: 'citizen-id', number: MOTHER },
            { kind: 'vneid', number: MOTHER, level: 2 },
          ],
          dateOfBirth: '1990-03-14',
          phone: '0912345678',
          email: 'hoa@example.vn',
        },
        { role: 'co-applicant', fullName: 'Lê Văn Nam', documents: [{ kind: 'legacy-id', number: LEGACY }] },
        {
          role: 'co-applicant',
          fullName: 'Phạm Thị Thu',
          documents: [{ kind: 'passport', number: PASSPORT }],
        },
      ],
    },
  };
}

interface Backend {
  name: string;
  /** The event store below, the database of its keys, what its raw bytes hold, and its chain as `lgsp verify` reads it. */
  open(): Promise<{
    inner: EventStore;
    db: SqlDatabase;
    raw(): Promise<string>;
    chain(): Promise<ChainSource>;
    close(): Promise<void>;
  }>;
}

const BACKENDS: Backend[] = [
  {
    name: 'SQLite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'lgsp-sealing-'));
      const file = join(dir, 'events.db');
      const inner = SqliteEventStore.open({ file });
      return {
        inner,
        db: SqliteDatabase.over(inner.database),
        raw: async () =>
          [file, `${file}-wal`]
            .filter((f) => existsSync(f))
            .map((f) => readFileSync(f).toString('utf8'))
            .join(''),
        chain: async () => openSqliteChainSource(file),
        async close() {
          await inner.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const schema = `sealing_${randomBytes(6).toString('hex')}`;
      const inner = await PostgresEventStore.open({ connectionString: POSTGRES_URL, schema, poolSize: 2 });
      return {
        inner,
        db: PostgresDatabase.over(inner.database, schema),
        raw: async () => JSON.stringify(await queryIn(schema, 'SELECT * FROM events')),
        chain: () => openPostgresChainSource({ connectionString: POSTGRES_URL, schema }),
        async close() {
          await inner.close();
          await dropSchema(schema);
        },
      };
    },
  },
];

describe.each(BACKENDS)('SealingEventStore over the $name event store', (backend) => {
  let parts: Awaited<ReturnType<Backend['open']>>;
  let keys: SqlSubjectKeyStore;
  let store: SealingEventStore;

  beforeEach(async () => {
    parts = await backend.open();
    keys = await SqlSubjectKeyStore.open(parts.db, { durableWithNextCommit: parts.db.dialect === 'sqlite' });
    store = new SealingEventStore(parts.inner, new PersonalDataCodec(keys));
  });
  afterEach(() => parts.close());

  async function verified(): Promise<number> {
    const source = await parts.chain();
    try {
      const verdict = await verifyRecords(source.records());
      expect(verdict.ok).toBe(true);
      return verdict.events;
    } finally {
      await source.close();
    }
  }

  it('stores sealed values only, reads clear text, and after a destroy reads [erased] with the chain intact', async () => {
    await store.append([...dossier(1), ...dossier(2)]);
    await store.append(dossier(3));

    const all = await store.readAll();
    expect(all).toHaveLength(6);
    expect(all[0]!.data).toEqual(dossier(1)[0]!.data);
    expect(await store.readStream(`dossier-${code(2)}`)).toEqual(all.slice(2, 4));
    const raw = await parts.raw();
    for (const clear of CLEAR) expect(raw).not.toContain(clear);
    expect(raw).toContain('lgsp:pd2:');
    expect(JSON.stringify(await parts.inner.readAll())).not.toMatch(/Nguyễn|Trần|051190001234|051085004321/);
    // Events without persons are stored and read as they came.
    expect(all[1]!.data).toEqual(dossier(1)[1]!.data);
    expect(await verified()).toBe(6);

    await keys.destroy(keys.ref(MOTHER));
    const after = await store.readAll();
    const submitted = after[4]!.data as {
      applicant: Record<string, string>;
      civilRegistration: {
        mother: Record<string, string>;
        father: Record<string, string>;
        person: Record<string, string>;
      };
    };
    expect(submitted.applicant).toEqual({ fullName: ERASED, idNumber: ERASED, email: ERASED });
    expect(submitted.civilRegistration.mother).toEqual({ fullName: ERASED, idNumber: ERASED });
    expect(submitted.civilRegistration.father).toEqual({ fullName: 'Trần Văn Dũng', idNumber: FATHER });
    expect(submitted.civilRegistration.person.fullName).toBe('Trần Minh Khang');
    expect(JSON.stringify(after)).not.toContain(MOTHER);
    // Hashes are of what is stored: unchanged by the destroy, and the chain still verifies.
    expect(after.map((e) => e.hash)).toEqual(all.map((e) => e.hash));
    expect(await verified()).toBe(6);

    // New data of the erased mother gets a new key and reads clear; the old stays erased.
    await store.append(dossier(4));
    const [fresh] = await store.readStream(`dossier-${code(4)}`);
    expect((fresh!.data as typeof submitted).applicant.idNumber).toBe(MOTHER);
    expect(
      ((await store.readStream(`dossier-${code(1)}`))[0]!.data as typeof submitted).applicant.idNumber,
    ).toBe(ERASED);
    expect(await keys.state(keys.ref(MOTHER))).toMatchObject({ keys: 2, destroyed: 1 });
    expect(await keys.streams(keys.ref(MOTHER))).toEqual([1, 2, 3, 4].map((n) => `dossier-${code(n)}`));
    expect(await verified()).toBe(8);
  });

  it('seals every person of a v2 list under their own key, and erases each alone', async () => {
    await store.append([dossierV2(1), dossierV2(2)]);
    const raw = await parts.raw();
    for (const clear of CLEAR_V2) expect(raw).not.toContain(clear);
    expect(JSON.stringify(await parts.inner.readAll())).not.toMatch(
      /Nguyễn|Lê Văn|Phạm|051190001234|123456789|C7654321/,
    );
    const [first] = await store.readAll();
    expect(first!.data).toEqual(dossierV2(1).data);
    // The roles stay clear (they say whose the sealed values are); everything else of a person is sealed.
    const stored = (await parts.inner.readAll())[0]!.data as { persons: Record<string, unknown>[] };
    expect(stored.persons.map((p) => p['role'])).toEqual(['applicant', 'co-applicant', 'co-applicant']);
    for (const p of stored.persons) expect(String(p['documents'])).toMatch(/^lgsp:pd2:/);
    expect(await keys.streams(keys.ref(LEGACY))).toEqual([1, 2].map((n) => `dossier-${code(n)}`));
    expect(await keys.streams(keys.ref(`dossier:${code(1)}:co-applicant-2`))).toEqual([`dossier-${code(1)}`]);
    expect(await verified()).toBe(2);

    await keys.destroy(keys.ref(LEGACY));
    const after = (await store.readAll()).map(
      (e) => e.data as { persons: Record<string, unknown>[]; summary: string },
    );
    for (const data of after) {
      expect(data.persons[1]).toEqual({ role: 'co-applicant', fullName: ERASED, documents: ERASED });
      expect(data.persons[0]!['fullName']).toBe('Nguyễn Thị Hoà');
      expect(data.persons[2]!['documents']).toEqual([{ kind: 'passport', number: PASSPORT }]);
      expect(data.summary).toBe('Đăng ký kết hôn của bà Nguyễn Thị Hoà');
    }
    expect(JSON.stringify(after)).not.toContain(LEGACY);
    await keys.destroy(keys.ref(MOTHER));
    const [applicantGone] = await store.readAll();
    const data = applicantGone!.data as { persons: Record<string, unknown>[]; summary: string };
    expect(data.persons[0]).toEqual({
      role: 'applicant',
      fullName: ERASED,
      documents: ERASED,
      dateOfBirth: ERASED,
      phone: ERASED,
      email: ERASED,
    });
    // The summary names the applicant: sealed under the applicant's key.
    expect(data.summary).toBe(ERASED);
    expect(await verified()).toBe(2);
  });

  it('answers a duplicate as the store below does, and stores it once', async () => {
    const first = await store.append(dossier(1));
    const again = await store.append(dossier(1));
    expect(again.map((r) => r.duplicate)).toEqual([true, true]);
    expect(again.map((r) => r.position)).toEqual(first.map((r) => r.position));
    expect(await store.readAll()).toHaveLength(2);
    expect(await store.findStored([{ source: '/communes/21040/one-stop-shop', id: 'submitted-1' }])).toEqual([
      { ...first[0], duplicate: true },
    ]);
  });
});
