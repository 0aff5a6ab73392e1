import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventValidator, type CivilRegistrationRequest, type CloudEvent } from '#lgsp/contracts';
import { type StoredEvent } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { IngestService } from '#lgsp/ingest';
import { evolveDossier, type DossierView } from '#lgsp/projections';
import { CivilRegistrySimulator } from '../../../../apps/simulators/src/index.js';
import { CircuitBreaker } from '../core/circuit-breaker.js';
import { captureClient, IngestSink } from '../core/event-sink.js';
import { InMemoryParkingStore } from '../core/parking/memory-parking-store.js';
import { InMemoryPendingWorkStore } from '../core/pending/memory-pending-work-store.js';
import type { PendingWorkStore } from '../core/pending/pending-work-store.js';
import { CivilRegistryClient } from './civil-registry-client.js';
import { CivilRegistryConnector, type CivilRegistryPendingPayload } from './civil-registry-connector.js';
import {
  CIVIL_REGISTRY_SOURCE,
  CIVIL_REGISTRY_TARGET,
  civilRegistryLinkCode,
} from './civil-registry-mapping.js';
import { CivilRegistryResultPoller } from './civil-registry-result-poller.js';

const PROVINCE = '51';
const COMMUNE = '21040';
const AGENCY = '000.00.51.H56';
const OSS_SOURCE = `/communes/${COMMUNE}/one-stop-shop`;
const HANDLER = { name: 'Trần Văn Bình', title: 'Công chức tư pháp' };
const SUPPLEMENT_REASON = 'Thiếu giấy chứng sinh, đề nghị bổ sung';
const REJECT_REASON = 'Hồ sơ không đủ điều kiện đăng ký';

const REGISTRATION: CivilRegistrationRequest = {
  registrationType: 'birth',
  person: { fullName: 'Nguyễn Minh Khang', dateOfBirth: '2025-11-20', sex: 'male' },
  placeOfBirth: 'Trạm y tế xã Bình Sơn',
  mother: { fullName: 'Lê Thị Hoà', idNumber: '051190001234' },
};

let dir: string;
let store: SqliteEventStore;
let ingest: IngestService;
let sink: IngestSink;
let sim: CivilRegistrySimulator;
let url: string;
/** The simulator's clock: the wall clock unless a test pins it. */
let simNow: number | undefined;
let counter = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'civil-registry-'));
  store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  ingest = new IngestService(store, new EventValidator());
  sink = new IngestSink(ingest, captureClient('capture.civil-registry'));
  sim = new CivilRegistrySimulator({ now: () => simNow ?? Date.now() });
  ({ url } = await sim.start());
});

afterAll(async () => {
  await sim.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  simNow = undefined;
  await control('POST', '/_sim/reset');
});

async function control(method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(res.status).toBe(200);
}

/** Seeds the registry's plans: every registration gets `outcome` after one processing poll. */
const plan = (outcome: 'done' | 'supplement' | 'rejected', polls = 1) =>
  control('PUT', '/_sim/config', {
    seed: 7,
    outcomes: { [outcome]: 1 },
    processingPolls: { min: polls, max: polls },
  });

/** A fresh dossier code per test (the store is shared). */
function newCode(): string {
  counter++;
  const tail = randomUUID().replace(/\D/g, '').slice(0, 2).padEnd(2, '0');
  return `${AGENCY}-251123-${String(counter).padStart(4, '0')}${tail}`;
}

const where = (code: string) => ({ dossierCode: code, provinceCode: PROVINCE, communeCode: COMMUNE });

async function post(code: string, type: string, data: Record<string, unknown>): Promise<void> {
  const event: CloudEvent = {
    specversion: '1.0',
    id: randomUUID(),
    source: OSS_SOURCE,
    type,
    time: new Date().toISOString(),
    data: { ...where(code), ...data },
  };
  await ingest.ingest(captureClient('test.one-stop-shop'), [event], true);
}

/** A birth-registration dossier received, then taken into processing (status 4). */
async function birthDossier(code: string, registration: CivilRegistrationRequest | null = REGISTRATION) {
  await post(code, 'vn.gov.lgsp.dossier.submitted.v1', {
    procedureCode: '1.001193',
    procedureName: 'Đăng ký khai sinh',
    agencyCode: AGENCY,
    channel: 'online',
    applicant: { fullName: 'Lê Thị Hoà', idNumber: '051190001234' },
    receivedAt: '2025-11-23T16:59:30Z',
    ...(registration === null ? {} : { civilRegistration: registration }),
  });
  await post(code, 'vn.gov.lgsp.dossier.status-changed.v1', {
    status: 2,
    changedAt: '2025-11-23T17:05:00Z',
    handler: HANDLER,
  });
  await post(code, 'vn.gov.lgsp.dossier.status-changed.v1', {
    status: 4,
    changedAt: '2025-11-24T02:00:00Z',
    handler: HANDLER,
  });
}

const streamOf = (code: string): Promise<StoredEvent[]> => store.readStream(`dossier-${code}`);

async function logOf(codes: readonly string[]): Promise<StoredEvent[]> {
  const all = await store.readAll({ limit: 100_000 });
  return all.filter((e) => codes.some((c) => e.stream === `dossier-${c}`));
}

/** The captured events of a dossier as [type, status or registration number, note]. */
async function captured(code: string): Promise<[string, unknown, unknown][]> {
  return (await streamOf(code))
    .filter((e) => e.source === CIVIL_REGISTRY_SOURCE)
    .map((e) => {
      const d = e.data as { status?: number; registrationNumber?: string; note?: string };
      return [e.type.replace(/^vn\.gov\.lgsp\.|\.v1$/g, ''), d.status ?? d.registrationNumber, d.note];
    });
}

async function viewOf(code: string): Promise<DossierView> {
  let view: DossierView | undefined;
  for (const e of await streamOf(code)) view = evolveDossier(view, e);
  return view!;
}

function connector(pending: PendingWorkStore, parking = new InMemoryParkingStore()) {
  return new CivilRegistryConnector({
    events: store,
    client: new CivilRegistryClient({ baseUrl: url, timeoutMs: 2000 }),
    pending,
    parking,
    breaker: new CircuitBreaker(CIVIL_REGISTRY_TARGET, { coolDownMs: 200, failureThreshold: 5 }),
    retry: { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 4 },
    pollIntervalMs: 0,
  });
}

function poller(pending: PendingWorkStore, options: { backoffMs?: number; idleMs?: number } = {}) {
  return new CivilRegistryResultPoller({
    client: new CivilRegistryClient({ baseUrl: url, timeoutMs: 2000 }),
    pending,
    sink,
    events: store,
    pollIntervalMs: 0,
    batch: 10,
    idleMs: options.idleMs ?? 5,
    backoff: { initialDelayMs: options.backoffMs ?? 0, maxDelayMs: options.backoffMs ?? 0 },
  });
}

/** Polls until nothing is pending (at most `rounds` rounds); the rounds' totals. */
async function drain(p: CivilRegistryResultPoller, pending: PendingWorkStore, rounds = 30) {
  const total = { polled: 0, appended: 0, final: 0 };
  for (let i = 0; i < rounds && (await pending.count(CIVIL_REGISTRY_TARGET)) > 0; i++) {
    const r = await p.pollOnce();
    total.polled += r.polled;
    total.appended += r.appended;
    total.final += r.final;
  }
  return total;
}

const registrations = () => sim.state().registrations;

describe('CivilRegistryConnector and CivilRegistryResultPoller with the civil-registry simulator', () => {
  it('registers a birth when processing starts and captures the certificate: registered, then finished', async () => {
    await plan('done');
    const code = newCode();
    await birthDossier(code);
    const pending = new InMemoryPendingWorkStore();

    const outcomes = await connector(pending).deliver(await logOf([code]));

    expect(outcomes.map((o) => o.status)).toEqual(['delivered']);
    expect(registrations()).toEqual([
      expect.objectContaining({
        maLienThong: civilRegistryLinkCode(code),
        maHoSoMotCua: code,
        loaiDangKy: 'KHAI_SINH',
        maDonViDangKy: COMMUNE,
        ngayDangKy: '24/11/2025',
        thongTin: {
          hoTen: 'Nguyễn Minh Khang',
          ngaySinh: '20/11/2025',
          gioiTinh: 1,
          noiSinh: 'Trạm y tế xã Bình Sơn',
          hoTenMe: 'Lê Thị Hoà',
          soDinhDanhMe: '051190001234',
        },
      }),
    ]);
    const item = await pending.get(CIVIL_REGISTRY_TARGET, civilRegistryLinkCode(code));
    expect(item).toMatchObject({ dossier: code, attempts: 0 });
    expect(item!.payload).toMatchObject({ lastStatus: 1, person: REGISTRATION.person, communeCode: COMMUNE });

    const p = poller(pending);
    expect(await drain(p, pending)).toEqual({ polled: 3, appended: 2, final: 1 });
    const certificate = registrations()[0]!;
    expect(await captured(code)).toEqual([
      ['civil-status.registered', certificate.soGiayChungNhan, undefined],
      ['dossier.status-changed', 9, undefined],
    ]);
    const [registered] = (await streamOf(code)).filter(
      (e) => e.type === 'vn.gov.lgsp.civil-status.registered.v1',
    );
    expect(registered!.data).toEqual({
      ...where(code),
      registrationType: 'birth',
      registrationNumber: certificate.soGiayChungNhan,
      registeredAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$/),
      person: { ...REGISTRATION.person, idNumber: certificate.soDinhDanhCaNhan },
    });
    expect(JSON.stringify(await streamOf(code))).not.toContain('JVBERi0');
    expect(await viewOf(code)).toMatchObject({
      status: 9,
      civilStatus: { registrationType: 'birth', registrationNumber: certificate.soGiayChungNhan },
    });
    expect(await pending.count(CIVIL_REGISTRY_TARGET)).toBe(0);
    expect(await p.pollOnce()).toEqual({ polled: 0, appended: 0, final: 0 });
  });

  it('asks for documents on a supplement (5, with the reason), resumes processing (4), then registers', async () => {
    await plan('supplement');
    const code = newCode();
    await birthDossier(code);
    const pending = new InMemoryPendingWorkStore();
    await connector(pending).deliver(await logOf([code]));

    expect(await drain(poller(pending), pending)).toEqual({ polled: 4, appended: 4, final: 1 });

    expect(await captured(code)).toEqual([
      ['dossier.status-changed', 5, SUPPLEMENT_REASON],
      ['dossier.status-changed', 4, undefined],
      ['civil-status.registered', registrations()[0]!.soGiayChungNhan, undefined],
      ['dossier.status-changed', 9, undefined],
    ]);
    const statuses = (await streamOf(code)).map(
      (e) => (e.data as { previousStatus?: number }).previousStatus,
    );
    expect(statuses.slice(-4)).toEqual([4, 5, undefined, 4]);
  });

  it('rejects the dossier (3, with the reason) when the registry refuses', async () => {
    await plan('rejected', 2);
    const code = newCode();
    await birthDossier(code);
    const pending = new InMemoryPendingWorkStore();
    await connector(pending).deliver(await logOf([code]));

    expect(await drain(poller(pending), pending)).toEqual({ polled: 4, appended: 1, final: 1 });

    expect(await captured(code)).toEqual([['dossier.status-changed', 3, REJECT_REASON]]);
    expect((await viewOf(code)).status).toBe(3);
    expect((await viewOf(code)).civilStatus).toBeUndefined();
  });

  it.each([
    ['12 AM', Date.parse('2025-11-25T00:30:15+07:00'), '2025-11-25T00:30:15+07:00'],
    ['12 PM', Date.parse('2025-11-25T12:30:15+07:00'), '2025-11-25T12:30:15+07:00'],
    ['an afternoon hour', Date.parse('2025-11-25T21:05:00+07:00'), '2025-11-25T21:05:00+07:00'],
  ])(
    'reads the certificate time at %s from the registry’s 12-hour format',
    async (_when, at, registeredAt) => {
      await plan('done');
      simNow = at;
      const code = newCode();
      await birthDossier(code);
      const pending = new InMemoryPendingWorkStore();
      await connector(pending).deliver(await logOf([code]));
      await drain(poller(pending), pending);

      const events = (await streamOf(code)).filter((e) => e.source === CIVIL_REGISTRY_SOURCE);
      expect(
        events.map((e) => (e.data as { registeredAt?: string; changedAt?: string }).registeredAt),
      ).toEqual([registeredAt, undefined]);
      expect((events[1]!.data as { changedAt: string }).changedAt).toBe(registeredAt);
    },
  );

  it('turns the registry’s NFD text into NFC', async () => {
    await plan('supplement');
    await control('PUT', '/_sim/faults', { nfd: 1 });
    const code = newCode();
    await birthDossier(code);
    const pending = new InMemoryPendingWorkStore();
    await connector(pending).deliver(await logOf([code]));
    expect(registrations()[0]!.thongTin.hoTen).toBe('Nguyễn Minh Khang'.normalize('NFD'));

    await drain(poller(pending), pending);

    const note = (await captured(code))[0]![2] as string;
    expect(note).toBe(SUPPLEMENT_REASON.normalize('NFC'));
    expect(note).not.toBe(SUPPLEMENT_REASON.normalize('NFD'));
    const registered = (await streamOf(code)).find(
      (e) => e.type === 'vn.gov.lgsp.civil-status.registered.v1',
    )!;
    expect((registered.data as { person: { fullName: string } }).person.fullName).toBe(
      'Nguyễn Minh Khang'.normalize('NFC'),
    );
  });

  it('appends nothing when the same results are polled again', async () => {
    await plan('supplement');
    const code = newCode();
    await birthDossier(code);
    const pending = new InMemoryPendingWorkStore();
    await connector(pending).deliver(await logOf([code]));
    const first = await pending.get(CIVIL_REGISTRY_TARGET, civilRegistryLinkCode(code));
    await drain(poller(pending), pending);
    const before = (await streamOf(code)).length;

    // The same registration polled again from the start, as a second poller with a stale item would.
    await pending.schedule({ ...first!, dueAt: 0 });
    expect(await drain(poller(pending), pending)).toEqual({ polled: 1, appended: 0, final: 1 });
    expect((await streamOf(code)).length).toBe(before);
  });

  it('resumes with a new poller over the same pending store after a crash between append and update', async () => {
    await plan('supplement', 2);
    const code = newCode();
    await birthDossier(code);
    const pending = new InMemoryPendingWorkStore();
    await connector(pending).deliver(await logOf([code]));
    const key = civilRegistryLinkCode(code);
    await poller(pending).pollOnce(); // 1: received

    // The process dies after appending the result of the next poll (2: documents requested), before
    // the item is updated: the store refuses every update, as a dead process makes none.
    const dying: PendingWorkStore = {
      ...bind(pending),
      reschedule: () => Promise.reject(new Error('process killed')),
      complete: () => Promise.reject(new Error('process killed')),
    };
    await expect(poller(dying).pollOnce()).rejects.toThrow('process killed');
    expect((await pending.get(CIVIL_REGISTRY_TARGET, key))!.payload).toMatchObject({
      lastStatus: 1,
      supplementRequested: false,
    } satisfies Partial<CivilRegistryPendingPayload>);
    expect(await captured(code)).toEqual([['dossier.status-changed', 5, SUPPLEMENT_REASON]]);

    // The restarted poller learns of the supplement from the log, so the next 3 still resumes processing.

    const restarted = poller(pending);
    await drain(restarted, pending);

    expect(await captured(code)).toEqual([
      ['dossier.status-changed', 5, SUPPLEMENT_REASON],
      ['dossier.status-changed', 4, undefined],
      ['civil-status.registered', registrations()[0]!.soGiayChungNhan, undefined],
      ['dossier.status-changed', 9, undefined],
    ]);
    expect(await pending.count(CIVIL_REGISTRY_TARGET)).toBe(0);
  });

  it('loses nothing through an outage and a high error rate: the loop keeps polling with backoff', async () => {
    await plan('supplement', 2);
    const codes = [newCode(), newCode(), newCode()];
    const pending = new InMemoryPendingWorkStore();
    for (const code of codes) await birthDossier(code);
    await connector(pending).deliver(await logOf(codes));

    await control('PUT', '/_sim/faults', { seed: 3, outage: { forMs: 300 }, operations: ['TraCuuKetQua'] });
    const p = poller(pending, { backoffMs: 20 });
    const round = await p.pollOnce();
    expect(round).toEqual({ polled: 3, appended: 0, final: 0 });
    for (const code of codes) {
      const item = await pending.get(CIVIL_REGISTRY_TARGET, civilRegistryLinkCode(code));
      expect(item!.payload).toMatchObject({ failures: 1, lastStatus: 1 });
      expect(item!.dueAt).toBeGreaterThan(Date.now());
    }

    await control('PUT', '/_sim/faults', { seed: 3, errorRate: 0.5, operations: ['TraCuuKetQua'] });
    p.start();
    const deadline = Date.now() + 10_000;
    while ((await pending.count(CIVIL_REGISTRY_TARGET)) > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await p.stop();

    expect(sim.calls().rejected.error).toBeGreaterThan(0);
    for (const code of codes) {
      expect(
        (await captured(code)).map(([type, status]) => (type === 'dossier.status-changed' ? status : type)),
      ).toEqual([5, 4, 'civil-status.registered', 9]);
    }
  });

  it('registers again, with the same code, a registration the registry acknowledged and lost', async () => {
    await plan('done');
    await control('PUT', '/_sim/faults', { dropWrites: 1, operations: ['DangKyHoTich'] });
    const code = newCode();
    await birthDossier(code);
    const pending = new InMemoryPendingWorkStore();
    await connector(pending).deliver(await logOf([code]));
    expect(registrations()).toEqual([]);
    await control('PUT', '/_sim/faults', {});

    await drain(poller(pending), pending);

    expect(registrations().map((r) => r.maLienThong)).toEqual([civilRegistryLinkCode(code)]);
    expect((await captured(code)).map(([type]) => type)).toEqual([
      'civil-status.registered',
      'dossier.status-changed',
    ]);
  });

  it('calls nothing for a dossier without civilRegistration', async () => {
    const code = newCode();
    await birthDossier(code, null);
    const pending = new InMemoryPendingWorkStore();

    expect((await connector(pending).deliver(await logOf([code]))).map((o) => o.status)).toEqual([
      'delivered',
    ]);

    expect(sim.calls().total).toBe(0);
    expect(await pending.count(CIVIL_REGISTRY_TARGET)).toBe(0);
  });

  it('registers nothing a second time when the connector is replayed over the whole log', async () => {
    await plan('supplement');
    const codes = [newCode(), newCode()];
    const pending = new InMemoryPendingWorkStore();
    for (const code of codes) await birthDossier(code);
    await connector(pending).deliver(await logOf(codes));
    await drain(poller(pending), pending);
    const state = registrations();
    const calls = sim.calls().byOperation.DangKyHoTich;
    expect(state).toHaveLength(2);
    expect(calls).toBe(2);

    // A new connector with its own (empty) pending store: once with the whole log in one batch, once
    // event by event (each dossier's state then lags the log, which holds the captured results).
    const log = await logOf(codes);
    const fresh = new InMemoryPendingWorkStore();
    await connector(fresh).deliver(log);
    for (const event of log) await connector(fresh).deliver([event]);

    expect(sim.calls().byOperation.DangKyHoTich).toBe(calls);
    expect(registrations()).toEqual(state);
    expect(await fresh.count(CIVIL_REGISTRY_TARGET)).toBe(0);
  });

  it('registers again, in a replay, a finished registration the registry lost; a replay of one it holds changes nothing', async () => {
    await plan('done');
    const [lost, held] = [newCode(), newCode()];
    const pending = new InMemoryPendingWorkStore();
    for (const code of [lost, held]) await birthDossier(code);
    const c = connector(pending);
    await c.deliver(await logOf([lost, held]));
    await drain(poller(pending), pending);
    const before = registrations();
    expect(before).toHaveLength(2);
    const registered = (await captured(lost)).length;

    // The registry loses one registration (reconciliation: "missing civil record").
    await control('POST', '/_sim/reset');
    await plan('done');
    const calls = () => sim.calls().byOperation.DangKyHoTich ?? 0;
    // Live delivery does not send a dossier whose result is in the log…
    await c.deliver(await logOf([lost]));
    expect(calls()).toBe(0);
    // …an operator's replay does, marked as a replay, and polls it to its end again.
    const outcome = await c.replay(lost, 'rp-civil');
    expect(outcome?.status).toBe('delivered');
    expect(calls()).toBe(1);
    expect(registrations().map((r) => r.maHoSoMotCua)).toEqual([lost]);
    expect(await pending.count(CIVIL_REGISTRY_TARGET)).toBe(1);
    await drain(poller(pending), pending);
    expect(registrations()[0]?.trangThai).toBe(4);
    // The same results polled again append nothing new.
    expect(await captured(lost)).toHaveLength(registered);

    // A replay of a registration the registry holds: "đã tồn tại", no new polling.
    await c.replay(lost, 'rp-civil-2');
    expect(calls()).toBe(2);
    expect(await pending.count(CIVIL_REGISTRY_TARGET)).toBe(0);
    expect(registrations()).toHaveLength(1);
  });

  it('answers an existing registration as a success when the registration is sent again', async () => {
    await plan('done');
    const code = newCode();
    await birthDossier(code);
    await connector(new InMemoryPendingWorkStore()).deliver(await logOf([code]));
    // Another hub instance, without the pending item, sends the same dossier state again.
    const other = new InMemoryPendingWorkStore();
    const outcomes = await connector(other).deliver(await logOf([code]));

    expect(outcomes.map((o) => o.status)).toEqual(['delivered']);
    expect(sim.calls().byOperation.DangKyHoTich).toBe(2);
    expect(registrations()).toHaveLength(1);
    expect(await other.count(CIVIL_REGISTRY_TARGET)).toBe(1);
  });
});

describe('failures the hub must survive', () => {
  /** A logger that keeps every entry, to check what reaches the logs. */
  const recorder = () => {
    const entries: { level: string; obj: object; msg: string }[] = [];
    const at = (level: string) => (obj: object, msg: string) => void entries.push({ level, obj, msg });
    return {
      entries,
      logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    };
  };

  it('parks a dossier the registry refuses (400) as a data error, without polling anything', async () => {
    await plan('done');
    const code = newCode();
    await birthDossier(code, {
      ...REGISTRATION,
      person: { ...REGISTRATION.person, fullName: 'Nguyễn '.repeat(20) },
    });
    const pending = new InMemoryPendingWorkStore();
    const parking = new InMemoryParkingStore();

    expect((await connector(pending, parking).deliver(await logOf([code]))).map((o) => o.status)).toEqual([
      'parked',
    ]);

    const [parked] = await parking.list({ limit: 10 });
    expect(parked).toMatchObject({ target: CIVIL_REGISTRY_TARGET, dossier: code, kind: 'data', attempts: 1 });
    expect(parked!.lastError).toContain('400');
    expect(JSON.stringify(parked)).not.toContain('Nguyễn');
    expect(await pending.count(CIVIL_REGISTRY_TARGET)).toBe(0);
  });

  it('logs a malformed date from the registry as a data error, keeps the item and captures it once fixed', async () => {
    await plan('done');
    const code = newCode();
    await birthDossier(code);
    const pending = new InMemoryPendingWorkStore();
    await connector(pending).deliver(await logOf([code]));
    const real = new CivilRegistryClient({ baseUrl: url, timeoutMs: 2000 });
    let garbled = 0;
    // The registry's first certificate time comes in 24-hour form, as a faulty release might send it.
    const client: Pick<CivilRegistryClient, 'result' | 'register'> = {
      register: (r) => real.register(r),
      result: async (key) => {
        const result = await real.result(key);
        if (result?.trangThai !== 4 || garbled++ > 0) return result;
        return { ...result, ngayCapGiayChungNhan: '25/11/2025 14:45:10' };
      },
    };
    const { entries, logger } = recorder();
    const p = new CivilRegistryResultPoller({
      client,
      pending,
      sink,
      events: store,
      pollIntervalMs: 0,
      backoff: { initialDelayMs: 0, maxDelayMs: 0 },
      logger,
    });

    expect(await p.pollOnce()).toEqual({ polled: 1, appended: 0, final: 0 });
    expect(await p.pollOnce()).toEqual({ polled: 1, appended: 0, final: 0 });
    expect(await p.pollOnce()).toEqual({ polled: 1, appended: 0, final: 0 });
    const failed = entries.find((e) => e.level === 'error');
    expect(failed?.obj).toMatchObject({ dossier: code, code: 'mapping', kind: 'data', failures: 1 });
    expect((await pending.get(CIVIL_REGISTRY_TARGET, civilRegistryLinkCode(code)))!.payload).toMatchObject({
      failures: 1,
    });

    expect(await p.pollOnce()).toEqual({ polled: 1, appended: 2, final: 1 });
    expect((await captured(code)).map(([type]) => type)).toEqual([
      'civil-status.registered',
      'dossier.status-changed',
    ]);
    const logged = JSON.stringify(entries);
    for (const personal of ['Khang', 'Hoà', '051190001234', registrations()[0]!.soDinhDanhCaNhan!]) {
      expect(logged).not.toContain(personal);
    }
  });

  it('stop() lets the round under way finish: the item is updated, not left half-polled', async () => {
    await plan('supplement');
    const code = newCode();
    await birthDossier(code);
    const pending = new InMemoryPendingWorkStore();
    await connector(pending).deliver(await logOf([code]));
    await poller(pending).pollOnce(); // 1: received
    await control('PUT', '/_sim/faults', { latency: 300, operations: ['TraCuuKetQua'] });
    const p = poller(pending, { idleMs: 10_000 });

    p.start();
    await new Promise((r) => setTimeout(r, 100));
    await p.stop();

    expect(await captured(code)).toEqual([['dossier.status-changed', 5, SUPPLEMENT_REASON]]);
    const item = await pending.get(CIVIL_REGISTRY_TARGET, civilRegistryLinkCode(code));
    expect(item).toMatchObject({
      attempts: 2,
      payload: { lastStatus: 2, supplementRequested: true, failures: 0 },
    });
  });
});

/** The store's methods bound to it, to build a wrapper that overrides some. */
function bind(store: PendingWorkStore): PendingWorkStore {
  return {
    schedule: store.schedule.bind(store),
    due: store.due.bind(store),
    reschedule: store.reschedule.bind(store),
    complete: store.complete.bind(store),
    get: store.get.bind(store),
    count: store.count.bind(store),
  };
}
