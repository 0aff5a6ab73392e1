import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore, StoredEvent } from '#lgsp/event-store';
import { PostgresEventStore } from '#lgsp/event-store/postgres';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { PersonalDataCodec, SealingEventStore, SqlSubjectKeyStore, surrogateSubject } from '#lgsp/privacy';
import {
  expectedDossiers,
  NOT_ERASED_VALUE,
  type Mismatch,
  type TargetReconciler,
} from '#lgsp/reconciliation';
import { NationalPortalSimulator, OneStopShopSimulator } from '#lgsp/simulators';
import type { SqlDatabase } from '#lgsp/storage';
import { PostgresDatabase } from '#lgsp/storage/postgres';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { dropSchema, POSTGRES_URL } from '../../../test/support/postgres.js';
import { CivilRegistryConnector } from './civil-registry/civil-registry-connector.js';
import { CIVIL_REGISTRY_SOURCE } from './civil-registry/civil-registry-mapping.js';
import { CircuitBreaker } from './core/circuit-breaker.js';
import { PERSON_ERASED } from './core/erasure.js';
import { SqlParkingStore } from './core/parking/sql-parking-store.js';
import { SqlPendingWorkStore } from './core/pending/sql-pending-work-store.js';
import { OneStopShopClient } from './one-stop-shop/one-stop-shop-client.js';
import { OneStopShopReconciler } from './one-stop-shop/one-stop-shop-reconciler.js';
import { OneStopShopSyncConnector } from './one-stop-shop/one-stop-shop-sync-connector.js';
import { PaymentConnector } from './payments/payment-connector.js';
import type { PaymentClient } from './payments/payment-client.js';
import { PortalClient } from './portal/portal-client.js';
import { PortalReconciler } from './portal/portal-reconciler.js';
import { PortalSyncConnector } from './portal/portal-sync-connector.js';

const PROVINCE = '51';
const COMMUNE = '21040';
const AGENCY = '000.00.51.H56';
const NAME = 'Nguyễn Thị Hoà';
const ID = '051190001234';
const EMAIL = 'hoa@example.vn';
const PHONE = '0912345678';
const HANDLER = { name: 'Trần Văn Bình', title: 'Công chức tư pháp', department: 'Bộ phận một cửa' };

/** The hub's store on one backend: the events and the subject keys beside them, as runtime.ts has them. */
interface Backing {
  events: EventStore;
  keysDb: SqlDatabase;
  close(): Promise<void>;
}

const BACKINGS: readonly { name: string; open(): Promise<Backing> }[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'connectors-erasure-'));
      const events = SqliteEventStore.open({ file: join(dir, 'events.db') });
      return {
        events,
        keysDb: SqliteDatabase.over(events.database),
        async close() {
          await events.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const schema = `erasure_${randomBytes(6).toString('hex')}`;
      const events = await PostgresEventStore.open({ connectionString: POSTGRES_URL, schema, poolSize: 4 });
      const keysDb = PostgresDatabase.open({ connectionString: POSTGRES_URL, schema, poolSize: 2 });
      return {
        events,
        keysDb,
        async close() {
          await keysDb.close();
          await events.close();
          await dropSchema(schema);
        },
      };
    },
  },
];

let backing: Backing;
let keys: SqlSubjectKeyStore;
let store: EventStore;
let portal: NationalPortalSimulator;
let shop: OneStopShopSimulator;
let portalUrl: string;
let shopUrl: string;
let counter = 0;

beforeAll(async () => {
  portal = new NationalPortalSimulator();
  shop = new OneStopShopSimulator({ apiKey: 'oss-key' });
  portalUrl = (await portal.start()).url;
  shopUrl = (await shop.start()).url;
});

afterAll(async () => {
  await portal.stop();
  await shop.stop();
});

beforeEach(() => {
  portal.reset();
  shop.reset();
});

function newCode(): string {
  counter++;
  return `${AGENCY}-251123-${String(counter).padStart(4, '0')}${randomUUID().replace(/\D/g, '').slice(0, 2).padEnd(2, '0')}`;
}

const common = (code: string) => ({ dossierCode: code, provinceCode: PROVINCE, communeCode: COMMUNE });

async function append(
  code: string,
  type: string,
  data: Record<string, unknown>,
  source = `/communes/${COMMUNE}/one-stop-shop`,
): Promise<void> {
  await store.append([
    {
      stream: `dossier-${code}`,
      expectedVersion: 'any',
      id: randomUUID(),
      source,
      type,
      time: new Date().toISOString(),
      data,
      extensions: {},
      provinceCode: PROVINCE,
      communeCode: COMMUNE,
    },
  ]);
}

/** A dossier of the applicant, received and in processing, through the sealing store. */
async function submit(code: string, extra: Record<string, unknown> = {}): Promise<void> {
  await append(code, 'vn.gov.lgsp.dossier.submitted.v1', {
    ...common(code),
    procedureCode: '1.001193',
    procedureName: 'Đăng ký khai sinh',
    sector: { code: 'G09-TP01', name: 'Hộ tịch' },
    agencyCode: AGENCY,
    channel: 'online',
    applicant: { fullName: NAME, idNumber: ID, email: EMAIL, phone: PHONE },
    receivedAt: '2025-11-23T09:00:00Z',
    dueAt: '2025-11-26T10:00:00Z',
    summary: 'Đăng ký khai sinh cho con',
    fees: [{ code: 'LP01', name: 'Lệ phí hộ tịch', amount: 50000 }],
    ...extra,
  });
  await append(code, 'vn.gov.lgsp.dossier.status-changed.v1', {
    ...common(code),
    status: 4,
    changedAt: '2025-11-24T02:00:00Z',
    handler: HANDLER,
  });
}

/** Destroys a subject's key (the applicant's), then appends the hub's notice, as the erasure workflow does. */
async function erase(codes: readonly string[], subject = ID, role = 'applicant'): Promise<void> {
  const ref = keys.ref(subject);
  await keys.destroy(ref);
  for (const code of codes) {
    await append(code, PERSON_ERASED, {
      ...common(code),
      subjectRef: ref,
      roles: [role],
      erasedAt: '2025-12-01T03:00:00Z',
      reason: 'request',
    });
  }
}

async function eventsOf(codes: readonly string[], after = 0): Promise<StoredEvent[]> {
  const all = await store.readAll({ after, limit: 100_000 });
  return all.filter((e) => codes.some((c) => e.stream === `dossier-${c}`));
}

/** The simulator's whole state as `GET /_sim/state` serves it (current records and history). */
async function simState(url: string): Promise<string> {
  return (await fetch(`${url}/_sim/state`)).text();
}

function breaker(target: string): CircuitBreaker {
  return new CircuitBreaker(target, { coolDownMs: 200, failureThreshold: 5 });
}

const retry = { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 3 };

function portalConnector(parking: SqlParkingStore): PortalSyncConnector {
  return new PortalSyncConnector({
    events: store,
    client: new PortalClient({ baseUrl: portalUrl, username: 'lgsp', password: 'lgsp', timeoutMs: 2000 }),
    parking,
    breaker: breaker('portal'),
    retry,
  });
}

function shopClient(): OneStopShopClient {
  return new OneStopShopClient({ baseUrl: shopUrl, apiKey: 'oss-key', timeoutMs: 2000 });
}

function shopConnector(parking: SqlParkingStore): OneStopShopSyncConnector {
  return new OneStopShopSyncConnector({
    events: store,
    client: shopClient(),
    parking,
    breaker: breaker('one-stop-shop'),
    retry,
  });
}

async function reconcile(reconciler: TargetReconciler, codes: readonly string[]): Promise<Mismatch[]> {
  const { dossiers } = await expectedDossiers(store, { dossiers: [...codes] });
  const out: Mismatch[] = [];
  const context = { scanned: () => undefined, compared: () => undefined, clock: { now: () => Date.now() } };
  for await (const batch of reconciler.reconcile(dossiers, { dossiers: [...codes] }, context))
    out.push(...batch);
  return out;
}

const lines = (mismatches: readonly Mismatch[]) =>
  mismatches.map((m) => [m.dossier, m.field, m.category, m.actual]).sort();

async function tamper(url: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${url}/_sim/tamper`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

describe.each(BACKINGS)('on $name', ({ open }) => {
  beforeAll(async () => {
    backing = await open();
    keys = await SqlSubjectKeyStore.open(backing.keysDb);
    store = new SealingEventStore(backing.events, new PersonalDataCodec(keys));
  });

  afterAll(async () => {
    await backing.close();
  });

  describe('person.erased: the dossier-sync connectors overwrite the targets’ copies', () => {
    it('the portal holds the dossier without the name, ID, e-mail and phone once person.erased is delivered', async () => {
      const codes = [newCode(), newCode()];
      for (const code of codes) await submit(code);
      const parking = new SqlParkingStore(SqliteDatabase.open(':memory:'));
      const c = portalConnector(parking);
      expect((await c.deliver(await eventsOf(codes))).map((o) => o.status)).toEqual([
        'delivered',
        'delivered',
      ]);
      const before = await simState(portalUrl);
      for (const personal of [NAME, ID, EMAIL, PHONE]) expect(before).toContain(personal);
      const head = (await store.head()).position;

      await erase(codes);
      const erasedEvents = await eventsOf(codes, head);
      expect(erasedEvents.map((e) => e.type)).toEqual([PERSON_ERASED, PERSON_ERASED]);
      expect((await c.deliver(erasedEvents)).map((o) => o.status)).toEqual(['delivered', 'delivered']);

      const after = await simState(portalUrl);
      // Neither the records nor the portal's history of writes keep a trace of the person.
      for (const personal of [NAME, NAME.normalize('NFD'), ID, EMAIL, PHONE])
        expect(after).not.toContain(personal);
      const dossiers = (JSON.parse(after) as { dossiers: Record<string, unknown>[] }).dossiers;
      expect(dossiers.map((d) => d.MaHoSo).sort()).toEqual([...codes].sort());
      for (const d of dossiers) {
        expect(d).toMatchObject({
          ChuHoSo: '[erased]',
          DinhDanhCHS: [],
          Email: 'no-reply@lgsp-hub.invalid',
          SoDienThoai: '0000000000',
          MaTTHC: '1.001193',
          TrangThaiHoSo: 4,
          // The summary is the applicant's data too (it names them, in commune software).
          TrichYeuHoSo: '[erased]',
          DonViXuLy: AGENCY,
          TienDo: [expect.objectContaining({ NguoiXuLy: HANDLER.name, TrangThai: 4 })],
        });
        expect(d).not.toHaveProperty('SoGiayToChuHoSo');
      }
      const history = (JSON.parse(after) as { history: Record<string, unknown[]> }).history;
      expect(history[codes[0]!]).toHaveLength(2);
      expect(await parking.list({ limit: 10 })).toEqual([]);
    });

    it('the one-stop-shop holds the dossier without the name and ID; its version is kept, so the shop takes it', async () => {
      const code = newCode();
      await submit(code);
      const parking = new SqlParkingStore(SqliteDatabase.open(':memory:'));
      const c = shopConnector(parking);
      await c.deliver(await eventsOf([code]));
      expect(await simState(shopUrl)).toContain(ID);
      const head = (await store.head()).position;

      await erase([code]);
      expect((await c.deliver(await eventsOf([code], head))).map((o) => o.status)).toEqual(['delivered']);

      const after = await simState(shopUrl);
      for (const personal of [NAME, ID]) expect(after).not.toContain(personal);
      const [d] = (JSON.parse(after) as { dossiers: Record<string, unknown>[] }).dossiers;
      expect(d).toMatchObject({
        ma_ho_so: code,
        ho_ten_nguoi_nop: '[erased]',
        ma_thu_tuc: '1.001193',
        trang_thai: 'DANG_XU_LY',
        phien_ban: 2,
        trich_yeu: '[erased]',
        tien_do: [expect.objectContaining({ can_bo: HANDLER.name })],
      });
      expect(d).not.toHaveProperty('so_giay_to');
      expect(await parking.list({ limit: 10 })).toEqual([]);
    });

    it('a replay after an erasure sends the erased state and parks nothing (a target that never had the dossier gets it erased)', async () => {
      const code = newCode();
      await submit(code);
      await erase([code]);
      const parking = new SqlParkingStore(SqliteDatabase.open(':memory:'));
      expect((await portalConnector(parking).replay(code, 'replay-1'))?.status).toBe('delivered');
      expect((await shopConnector(parking).replay(code, 'replay-1'))?.status).toBe('delivered');
      for (const url of [portalUrl, shopUrl]) {
        const state = await simState(url);
        expect(state).toContain(code);
        for (const personal of [NAME, ID, EMAIL, PHONE]) expect(state).not.toContain(personal);
      }
      expect(await parking.list({ limit: 10 })).toEqual([]);
    });
  });

  describe('person.erased: reconciliation after an erasure', () => {
    it('finds nothing when the targets hold the erased dossier, and a target still holding the person is not-erased-in-target, its value withheld', async () => {
      const [kept, stale] = [newCode(), newCode()];
      for (const code of [kept, stale]) await submit(code);
      const parking = new SqlParkingStore(SqliteDatabase.open(':memory:'));
      const p = portalConnector(parking);
      const s = shopConnector(parking);
      await p.deliver(await eventsOf([kept, stale]));
      await s.deliver(await eventsOf([kept, stale]));
      const head = (await store.head()).position;
      await erase([kept, stale]);
      // Only `kept` gets its person.erased delivered; `stale` still holds the person in both targets.
      await p.deliver(await eventsOf([kept], head));
      await s.deliver(await eventsOf([kept], head));

      const portalClient = new PortalClient({
        baseUrl: portalUrl,
        username: 'lgsp',
        password: 'lgsp',
        timeoutMs: 2000,
      });
      const onPortal = await reconcile(new PortalReconciler({ client: portalClient }), [kept, stale]);
      expect(lines(onPortal)).toEqual(
        [
          [stale, 'ChuHoSo', 'not-erased-in-target', NOT_ERASED_VALUE],
          [stale, 'DinhDanhCHS', 'not-erased-in-target', NOT_ERASED_VALUE],
          [stale, 'Email', 'not-erased-in-target', NOT_ERASED_VALUE],
          [stale, 'SoDienThoai', 'not-erased-in-target', NOT_ERASED_VALUE],
          [stale, 'SoGiayToChuHoSo', 'not-erased-in-target', NOT_ERASED_VALUE],
          [stale, 'TrichYeuHoSo', 'not-erased-in-target', NOT_ERASED_VALUE],
        ].sort(),
      );
      const onShop = await reconcile(new OneStopShopReconciler({ client: shopClient() }), [kept, stale]);
      expect(lines(onShop)).toEqual(
        [
          [stale, 'ho_ten_nguoi_nop', 'not-erased-in-target', NOT_ERASED_VALUE],
          [stale, 'so_giay_to', 'not-erased-in-target', NOT_ERASED_VALUE],
          [stale, 'trich_yeu', 'not-erased-in-target', NOT_ERASED_VALUE],
        ].sort(),
      );
      // A finding never copies the person's data.
      for (const personal of [NAME, ID, EMAIL, PHONE]) {
        expect(JSON.stringify([...onPortal, ...onShop])).not.toContain(personal);
      }

      // Another difference of an erased dossier is still an ordinary one.
      await tamper(shopUrl, { dossier: kept, set: { ten_thu_tuc: 'sửa tay' } });
      expect(lines(await reconcile(new OneStopShopReconciler({ client: shopClient() }), [kept]))).toEqual([
        [kept, 'ten_thu_tuc', 'wrong-field', 'sửa tay'],
      ]);
    });
  });

  describe('person.erased: the civil registry and payments ignore it', () => {
    it('causes no call to the civil registry, DVCLT or the payment platform, and parks nothing', async () => {
      const code = newCode();
      await submit(code);
      const head = (await store.head()).position;
      await erase([code]);
      const calls: string[] = [];
      const refuse = (name: string) => () => {
        calls.push(name);
        return Promise.reject(new Error(`${name} must not be called`));
      };
      const parking = new SqlParkingStore(SqliteDatabase.open(':memory:'));
      const pending = await SqlPendingWorkStore.open(SqliteDatabase.open(':memory:'));
      const registry = new CivilRegistryConnector({
        events: store,
        client: { receive: refuse('NhanDKHT') },
        dvclt: { client: { issueCode: refuse('CapMaHoSoLT'), report: refuse('report') } },
        pending,
        parking,
        breaker: breaker('civil-registry'),
        retry,
      });
      const payments = new PaymentConnector({
        events: store,
        client: { init: refuse('INIT') } as unknown as PaymentClient,
        pending,
        parking,
        breaker: breaker('payments'),
        retry,
      });
      const erased = await eventsOf([code], head);
      expect(erased.map((e) => e.type)).toEqual([PERSON_ERASED]);
      expect(registry.filter.types).toContain(PERSON_ERASED);
      expect(await registry.deliver(erased)).toEqual([]);
      expect(await payments.deliver(erased)).toEqual([]);
      expect(calls).toEqual([]);
      expect(await parking.list({ limit: 10 })).toEqual([]);
    });

    const BIRTH = {
      registrationType: 'birth',
      person: { fullName: 'Nguyễn Minh Khang', dateOfBirth: '2025-11-20', sex: 'male' },
      placeOfBirth: 'Bệnh viện Đa khoa Quảng Ngãi',
      mother: { fullName: NAME, idNumber: ID },
    };

    /** A birth dossier of the applicant (the mother), received then taken into processing. */
    async function birthDossier(code: string, beforeProcessing: () => Promise<void> = async () => {}) {
      await append(code, 'vn.gov.lgsp.dossier.submitted.v1', {
        ...common(code),
        procedureCode: '1.001193',
        procedureName: 'Đăng ký khai sinh',
        agencyCode: AGENCY,
        channel: 'online',
        applicant: { fullName: NAME, idNumber: ID },
        receivedAt: '2025-11-23T09:00:00Z',
        civilRegistration: BIRTH,
      });
      await beforeProcessing();
      await append(code, 'vn.gov.lgsp.dossier.status-changed.v1', {
        ...common(code),
        status: 4,
        changedAt: '2025-11-24T02:00:00Z',
        handler: HANDLER,
      });
    }

    /** A civil-registry connector whose registry and DVCLT record any call and refuse it. */
    async function registryConnector(calls: string[], parking: SqlParkingStore) {
      const refuse = (name: string) => () => {
        calls.push(name);
        return Promise.reject(new Error(`${name} must not be called`));
      };
      return new CivilRegistryConnector({
        events: store,
        client: { receive: refuse('NhanDKHT') },
        dvclt: { client: { issueCode: refuse('CapMaHoSoLT'), report: refuse('report') } },
        pending: await SqlPendingWorkStore.open(SqliteDatabase.open(':memory:')),
        parking,
        breaker: breaker('civil-registry'),
        retry,
      });
    }

    it('parks, without a call, a birth registration whose child was erased before it was sent', async () => {
      const code = newCode();
      await birthDossier(code, () => erase([code], surrogateSubject(code, 'person'), 'person'));
      const calls: string[] = [];
      const parking = new SqlParkingStore(SqliteDatabase.open(':memory:'));
      const outcomes = await (await registryConnector(calls, parking)).deliver(await eventsOf([code]));
      expect(outcomes.map((o) => o.status)).toEqual(['parked']);
      const parked = await parking.get('civil-registry', code);
      expect(parked).toMatchObject({
        kind: 'data',
        reason: expect.stringMatching(/personal data was erased/),
      });
      expect(JSON.stringify(parked)).not.toContain(BIRTH.person.fullName);
      expect(calls).toEqual([]);
    });

    it('sends nothing for a registered birth whose mother was erased, on person.erased or a replay', async () => {
      const code = newCode();
      await birthDossier(code);
      // The registry's result, captured: the registration is held there.
      await append(
        code,
        'vn.gov.lgsp.dossier.status-changed.v1',
        { ...common(code), status: 9, changedAt: '2025-11-25T02:00:00Z' },
        CIVIL_REGISTRY_SOURCE,
      );
      const head = (await store.head()).position;
      await erase([code]);
      const calls: string[] = [];
      const parking = new SqlParkingStore(SqliteDatabase.open(':memory:'));
      const connector = await registryConnector(calls, parking);
      expect(await connector.deliver(await eventsOf([code], head))).toEqual([]);
      expect((await connector.replay(code, 'replay-erased'))?.status).toBe('delivered');
      expect(calls).toEqual([]);
      expect(await parking.list({ limit: 10 })).toEqual([]);
    });
  });
});
