import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANY_VERSION, type EventStore, type EventToAppend, type StoredEvent } from '#lgsp/event-store';
import { PostgresEventStore } from '#lgsp/event-store/postgres';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import type { SqlDatabase } from '#lgsp/storage';
import { PostgresDatabase } from '#lgsp/storage/postgres';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { POSTGRES_URL, dropSchema } from '../../../../test/support/postgres.js';
import { PersonalDataCodec } from '../personal-data-codec.js';
import { SealingEventStore } from '../sealing-event-store.js';
import { SqlSubjectKeyStore } from '../sql-subject-key-store.js';
import { AffectedSubjects, type AffectedQuery, type AffectedTarget } from './affected-subjects.js';

const SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';
const STATUS_CHANGED = 'vn.gov.lgsp.dossier.status-changed.v1';

interface Backend {
  name: string;
  open(): Promise<{ events: EventStore; db: SqlDatabase; close(): Promise<void> }>;
}

const BACKENDS: Backend[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'lgsp-affected-'));
      const file = join(dir, 'events.db');
      const events = SqliteEventStore.open({ file });
      const db = SqliteDatabase.open(file);
      return {
        events,
        db,
        async close() {
          await db.close();
          await events.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const schema = `affected_${randomBytes(6).toString('hex')}`;
      const events = await PostgresEventStore.open({ connectionString: POSTGRES_URL, schema, poolSize: 4 });
      const db = PostgresDatabase.open({ connectionString: POSTGRES_URL, schema, poolSize: 4 });
      return {
        events,
        db,
        async close() {
          await db.close();
          await events.close();
          await dropSchema(schema);
        },
      };
    },
  },
];

const PEOPLE = {
  an: { fullName: 'Nguyễn Văn An', idNumber: '051190000001' },
  binh: { fullName: 'Trần Thị Bình', idNumber: '079190000002' },
  cam: { fullName: 'Lê Văn Cầm', idNumber: '051190000003' },
  dung: { fullName: 'Phạm Thị Dung', idNumber: '051190000004' },
};

const place = { '51': '21040', '79': '26734' } as const;

function submitted(code: string, province: '51' | '79', applicant: object, mother?: object): EventToAppend {
  return {
    stream: `dossier-${code}`,
    expectedVersion: ANY_VERSION,
    id: `sub-${code}`,
    source: `/communes/${place[province]}`,
    type: SUBMITTED,
    data: {
      dossierCode: code,
      applicant,
      ...(mother === undefined ? {} : { civilRegistration: { person: { fullName: 'Bé' }, mother } }),
    },
    extensions: {},
    provinceCode: province,
    communeCode: place[province],
  };
}

function statusChanged(code: string, province: '51' | '79', status: number): EventToAppend {
  return {
    stream: `dossier-${code}`,
    expectedVersion: ANY_VERSION,
    id: `st-${code}-${status}`,
    source: `/communes/${place[province]}`,
    type: STATUS_CHANGED,
    data: { dossierCode: code, status },
    extensions: {},
    provinceCode: province,
    communeCode: place[province],
  };
}

const tick = () => new Promise((r) => setTimeout(r, 25));

describe.each(BACKENDS)('who was affected, on $name', (backend) => {
  let opened: Awaited<ReturnType<Backend['open']>>;
  let keys: SqlSubjectKeyStore;
  let service: AffectedSubjects;
  let t0: number;
  let tMid: number;
  let tEnd: number;
  let statusAt: StoredEvent;
  const ref = (id: string) => keys.ref(id);
  let child: string;
  let store: SealingEventStore;

  beforeAll(async () => {
    opened = await backend.open();
    keys = await SqlSubjectKeyStore.open(opened.db, { cacheMs: 0 });
    child = keys.ref('dossier:A-2:person');
    const codec = new PersonalDataCodec(keys);
    store = new SealingEventStore(opened.events, codec);
    // A small page, so that the scans turn pages.
    service = new AffectedSubjects({ events: opened.events, codec, pageSize: 2, keyBatch: 2 });

    await store.append([statusChanged('OLD-1', '51', 2)]);
    await tick();
    t0 = Date.now();
    await tick();
    await store.append([
      submitted('A-1', '51', PEOPLE.an),
      submitted('B-1', '79', PEOPLE.binh),
      statusChanged('B-1', '79', 2),
    ]);
    await tick();
    tMid = Date.now();
    await tick();
    await store.append([submitted('A-2', '51', PEOPLE.cam, PEOPLE.dung), statusChanged('A-1', '51', 4)]);
    await tick();
    tEnd = Date.now();
    await tick();
    await store.append([submitted('A-3', '51', { fullName: 'Sau cửa sổ', idNumber: '051190000009' })]);
    statusAt = (await opened.events.readStream('dossier-A-1')).at(-1)!;
    // Cầm is erased: his key destroyed.
    await keys.destroy(ref(PEOPLE.cam.idNumber));
  });

  afterAll(async () => {
    await opened?.close();
  });

  const find = (q: Partial<AffectedQuery> & { window: AffectedQuery['window'] }) =>
    service.find({ limit: 100, ...q });

  it('lists the subjects of the window with their roles, dossiers, times and fields; the erased one is absent', async () => {
    const report = await find({ window: { from: t0, to: tEnd } });
    expect(report.erasedOmitted).toBe(true);
    expect(report.total).toBe(4);
    const byRef = new Map(report.subjects.map((s) => [s.subjectRef, s]));
    expect(new Set(byRef.keys())).toEqual(
      new Set([ref(PEOPLE.an.idNumber), ref(PEOPLE.binh.idNumber), ref(PEOPLE.dung.idNumber), child]),
    );
    // The child has no ID: a surrogate subject, known by its place in the dossier.
    expect(byRef.get(child)).toMatchObject({
      roles: ['person'],
      dossiers: ['A-2'],
      fields: { fullName: 'Bé' },
    });
    expect(byRef.get(ref(PEOPLE.an.idNumber))).toEqual({
      subjectRef: ref(PEOPLE.an.idNumber),
      roles: ['applicant'],
      dossiers: ['A-1'],
      firstSeen: expect.any(String),
      lastSeen: expect.any(String),
      fields: PEOPLE.an,
    });
    expect(byRef.get(ref(PEOPLE.dung.idNumber))).toMatchObject({ roles: ['mother'], dossiers: ['A-2'] });
    // Nothing of the erased subject: not its ref, not its name, not its ID.
    const text = JSON.stringify(report);
    expect(text).not.toContain(ref(PEOPLE.cam.idNumber));
    expect(text).not.toContain(PEOPLE.cam.fullName);
    expect(text).not.toContain(PEOPLE.cam.idNumber);
    expect(text).not.toContain('[erased]');
    // Outside the window: the dossier after `to`.
    expect(text).not.toContain('Sau cửa sổ');
    for (const s of report.subjects) {
      expect(Date.parse(s.firstSeen)).toBeGreaterThanOrEqual(t0);
      expect(Date.parse(s.lastSeen)).toBeLessThan(tEnd);
    }
    // The scan starts at the window's first event (the binary search skips the one before it).
    expect(report.scanned.fromPosition).toBe(2);
    expect(report.scanned.throughPosition).toBe(6);
  });

  it('narrows to a province, a commune and a later window', async () => {
    const inProvince = await find({ window: { from: t0, to: tEnd }, provinces: ['51'] });
    expect(inProvince.subjects.map((s) => s.subjectRef).sort()).toEqual(
      [ref(PEOPLE.an.idNumber), ref(PEOPLE.dung.idNumber), child].sort(),
    );
    const inCommune = await find({ window: { from: t0, to: tEnd }, communes: ['26734'] });
    expect(inCommune.subjects.map((s) => s.fields)).toEqual([PEOPLE.binh]);
    const later = await find({ window: { from: tMid, to: tEnd }, provinces: ['51'] });
    expect(later.subjects.map((s) => s.subjectRef).sort()).toEqual([ref(PEOPLE.dung.idNumber), child].sort());
    const none = await find({ window: { from: tEnd, to: tEnd + 1 } });
    expect(none).toMatchObject({ subjects: [], total: 0 });
  });

  it('pages the subjects by reference', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await find({ window: { from: t0, to: tEnd }, limit: 2, ...(after ? { after } : {}) });
      expect(page.total).toBe(4);
      seen.push(...page.subjects.map((s) => s.subjectRef));
      after = page.next;
      pages++;
    } while (after !== undefined);
    expect(pages).toBe(2);
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(4);
  });

  it('for a connector, the dossiers it sent: their persons, up to its checkpoint', async () => {
    let checkpoint = statusAt.position;
    const connector: AffectedTarget = {
      name: 'civil-registry',
      sends: 'dossier',
      types: [STATUS_CHANGED],
      takes: (e) => (e.data as { status?: number }).status === 4,
      through: () => Promise.resolve(checkpoint),
    };
    // The status change to 4 of A-1 carries no personal field: the dossier it sent names An.
    const sent = await find({ window: { from: tMid, to: tEnd }, target: connector });
    expect(sent.subjects).toEqual([
      expect.objectContaining({ subjectRef: ref(PEOPLE.an.idNumber), fields: PEOPLE.an, dossiers: ['A-1'] }),
    ]);
    expect(Date.parse(sent.subjects[0]!.firstSeen)).toBeGreaterThanOrEqual(tMid);
    checkpoint = statusAt.position - 1;
    expect((await find({ window: { from: tMid, to: tEnd }, target: connector })).total).toBe(0);
  });

  it('for a subscriber of events, the events it took up to its mark', async () => {
    const head = (await opened.events.head()).position;
    let through = head;
    const webhook: AffectedTarget = {
      name: 'webhook:wh_test',
      sends: 'event',
      takes: (e) => e.provinceCode === '79',
      through: () => Promise.resolve(through),
    };
    expect(
      (await find({ window: { from: t0, to: tEnd }, target: webhook })).subjects.map((s) => s.fields),
    ).toEqual([PEOPLE.binh]);
    through = 1;
    expect((await find({ window: { from: t0, to: tEnd }, target: webhook })).total).toBe(0);
  });

  it('names every person of a v2 submission, each under their own key, with the ID from their documents', async () => {
    const from = Date.now();
    await tick();
    await store.append([
      {
        ...submitted('V2-1', '51', {}),
        type: 'vn.gov.lgsp.dossier.submitted.v2',
        data: {
          dossierCode: 'V2-1',
          persons: [
            {
              role: 'applicant',
              fullName: 'Võ Thị Em',
              documents: [
                { kind: 'passport', number: 'C7654321' },
                { kind: 'citizen-id', number: '051190000010' },
              ],
            },
            {
              role: 'co-applicant',
              fullName: 'Đỗ Văn Phú',
              documents: [{ kind: 'passport', number: 'B1234567' }],
            },
          ],
        },
      },
    ]);
    await tick();
    const report = await find({ window: { from, to: Date.now() } });
    const byRef = new Map(report.subjects.map((s) => [s.subjectRef, s]));
    expect(byRef.get(ref('051190000010'))).toMatchObject({
      roles: ['applicant'],
      dossiers: ['V2-1'],
      fields: { fullName: 'Võ Thị Em', idNumber: '051190000010' },
    });
    expect(byRef.get(ref('dossier:V2-1:co-applicant-1'))).toMatchObject({
      roles: ['co-applicant'],
      fields: { fullName: 'Đỗ Văn Phú', documents: [{ kind: 'passport', number: 'B1234567' }] },
    });
    expect(report.total).toBe(2);
  });
});
