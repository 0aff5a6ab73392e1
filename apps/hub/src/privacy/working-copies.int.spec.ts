import { SqlPendingWorkStore } from '#lgsp/connectors';
import { createLogger } from '#lgsp/observability';
import {
  copySubject,
  ERASED,
  isSealed,
  PersonalDataCodec,
  SqlSubjectKeyStore,
  WorkingCopies,
} from '#lgsp/privacy';
import { SqlReconciliationStore, type Mismatch, type ReconciliationRun } from '#lgsp/reconciliation';
import { readJson, type SqlDatabase } from '#lgsp/storage';
import { postgresSchema, sqliteFile, type Backend, type BackendData } from '#lgsp/storage/testing';
import { SealedPendingWork } from './sealed-pending-work.js';
import { SealedReconciliationStore } from './sealed-reconciliation-store.js';

const NAME = 'Trịnh Thị Ngọc Hoà';
const CITIZEN_ID = '079203004567';
const DOSSIER = '000.00.51.H56-251123-000123';
const OTHER = '000.00.51.H56-251123-000124';
const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);

interface Harness {
  data: BackendData;
  db: SqlDatabase;
  keys: SqlSubjectKeyStore;
  copies: WorkingCopies;
  lines: string[];
}

async function harness(backend: Backend): Promise<Harness> {
  const data = await backend.create();
  const db = await data.connect();
  const keys = await SqlSubjectKeyStore.open(db, { cacheMs: 0 });
  return { data, db, keys, copies: new WorkingCopies(new PersonalDataCodec(keys)), lines: [] };
}

/** Raw text of a column of every row: what a copy of the store holds. */
async function raw(db: SqlDatabase, sql: string): Promise<string> {
  return JSON.stringify(await db.query(sql));
}

const erase = (h: Harness, dossier: string) => h.keys.destroy(h.keys.ref(copySubject(dossier)));

describe.each([sqliteFile, postgresSchema])('working copies on $name', (backend) => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness(backend);
  });
  afterEach(async () => {
    await h.data.close();
  });

  describe('SealedPendingWork', () => {
    const logger = () =>
      createLogger({ level: 'info', destination: { write: (line: string) => void h.lines.push(line) } });
    const payload = { person: { fullName: NAME, idNumber: CITIZEN_ID }, lastStatus: 1 };
    const item = (key: string, dossier = DOSSIER) => ({
      target: 'civil-registry',
      key,
      dossier,
      payload,
      dueAt: T0,
      createdAt: '2026-11-23T15:00:00+07:00',
    });

    it('stores the payload as one sealed string and reads it in clear, after a reschedule too', async () => {
      const pending = new SealedPendingWork(await SqlPendingWorkStore.open(h.db), h.copies, logger());
      expect(await pending.schedule(item(DOSSIER))).toBe(true);
      const [row] = await h.db.query<{ payload: unknown }>('SELECT payload FROM connector_pending');
      const stored = readJson(h.db.dialect, row?.payload);
      expect(isSealed(stored)).toBe(true);
      expect(await pending.get('civil-registry', DOSSIER)).toMatchObject({ payload, attempts: 0 });
      expect(await pending.due('civil-registry', T0, 10)).toMatchObject([{ key: DOSSIER, payload }]);

      await pending.reschedule('civil-registry', DOSSIER, T0 + 1000, 1, { ...payload, lastStatus: 3 });
      await pending.reschedule('civil-registry', DOSSIER, T0 + 2000, 2);
      expect(await pending.get('civil-registry', DOSSIER)).toMatchObject({
        payload: { ...payload, lastStatus: 3 },
        attempts: 2,
        dueAt: T0 + 2000,
      });
      const text = await raw(h.db, 'SELECT * FROM connector_pending');
      expect([text.includes(NAME), text.includes(CITIZEN_ID)]).toEqual([false, false]);
    });

    it('drops the due work of an erased dossier with a line naming no person, and keeps the others', async () => {
      const pending = new SealedPendingWork(await SqlPendingWorkStore.open(h.db), h.copies, logger());
      await pending.schedule(item('LT-1'));
      await pending.schedule(item('LT-2', OTHER));
      await erase(h, DOSSIER);

      expect(await pending.get('civil-registry', 'LT-1')).toMatchObject({ payload: ERASED });
      expect((await pending.due('civil-registry', T0, 10)).map((i) => [i.key, i.payload])).toEqual([
        ['LT-2', payload],
      ]);
      expect(await pending.get('civil-registry', 'LT-1')).toBeUndefined();
      expect(await pending.count('civil-registry')).toBe(1);
      const dropped = h.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(dropped).toEqual([
        expect.objectContaining({
          level: 'warn',
          target: 'civil-registry',
          dossier: DOSSIER,
          msg: 'pending work dropped: a person of the dossier was erased',
        }),
      ]);
      expect(h.lines.join('\n')).not.toContain(NAME);
    });
  });

  describe('SealedReconciliationStore', () => {
    const run: ReconciliationRun = {
      id: 'rc-1',
      target: 'portal',
      scope: {},
      state: 'running',
      by: 'ops',
      startedAt: '2026-11-23T07:00:00.000Z',
      progress: { expected: 0, scanned: 0, compared: 0 },
      mismatches: { total: 0, dossiers: 0, byCategory: {} },
    };
    const mismatch = (dossier: string, expected: unknown, actual: unknown): Mismatch => ({
      dossier,
      system: 'portal',
      field: 'ChuHoSo',
      expected,
      actual,
      category: 'wrong-field',
      detectedAt: '2026-11-23T07:00:01.000Z',
    });

    it('stores what a mismatch compares sealed, reads it in clear, and as erased once the key is gone', async () => {
      const store = new SealedReconciliationStore(await SqlReconciliationStore.open(h.db), h.copies);
      await store.create(run);
      await store.addMismatches('rc-1', [
        mismatch(DOSSIER, NAME, `${NAME} X`),
        mismatch(OTHER, { SoGiayToChuHoSo: CITIZEN_ID }, null),
      ]);
      const text = await raw(h.db, 'SELECT * FROM reconciliation_mismatches');
      expect([text.includes(NAME), text.includes(CITIZEN_ID)]).toEqual([false, false]);
      expect((await store.mismatches('rc-1', { limit: 10 })).map((m) => [m.expected, m.actual])).toEqual([
        [NAME, `${NAME} X`],
        [{ SoGiayToChuHoSo: CITIZEN_ID }, null],
      ]);

      await erase(h, DOSSIER);
      expect(
        (await store.mismatches('rc-1', { limit: 10 })).map((m) => [m.dossier, m.expected, m.actual]),
      ).toEqual([
        [DOSSIER, ERASED, ERASED],
        [OTHER, { SoGiayToChuHoSo: CITIZEN_ID }, null],
      ]);
    });
  });
});
