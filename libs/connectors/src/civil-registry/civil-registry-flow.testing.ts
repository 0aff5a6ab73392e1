import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventValidator, type CivilRegistrationRequest, type CloudEvent } from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { IngestService } from '#lgsp/ingest';
import { evolveDossier, type DossierView } from '#lgsp/projections';
import { CivilRegistrySimulator, InterlinkedServicesSimulator } from '#lgsp/simulators';
import { CircuitBreaker } from '../core/circuit-breaker.js';
import { captureClient, IngestSink } from '../core/event-sink.js';
import { birthSubmission } from '../core/mapping.testing.js';
import { SqlParkingStore } from '../core/parking/sql-parking-store.js';
import type { PendingWorkStore } from '../core/pending/pending-work-store.js';
import { SqlPendingWorkStore } from '../core/pending/sql-pending-work-store.js';
import { CivilRegistryClient } from './civil-registry-client.js';
import { CivilRegistryConnector, type DvcltStatusCodes } from './civil-registry-connector.js';
import { CIVIL_REGISTRY_SOURCE, CIVIL_REGISTRY_TARGET } from './civil-registry-mapping.js';
import { CivilRegistryResultPoller } from './civil-registry-result-poller.js';
import { DvcltClient } from './dvclt-client.js';
import { SqliteDatabase } from '#lgsp/storage/sqlite';

/**
 * The set-up shared by the civil-registry connector's specs (not part of the library's API): one
 * event store, ingest and civil-registry simulator per spec file, reset before each test, and the
 * helpers that write a birth dossier's log and read back what was captured.
 */
export const PROVINCE = '51';
export const COMMUNE = '21040';
export const AGENCY = '000.00.51.H56';
export const OSS_SOURCE = `/communes/${COMMUNE}/one-stop-shop`;
export const HANDLER = { name: 'Trần Văn Bình', title: 'Công chức tư pháp' };
export const SUPPLEMENT_REASON = 'Thiếu giấy chứng sinh, đề nghị bổ sung';
export const REJECT_REASON = 'Hồ sơ không đủ điều kiện đăng ký';

export const REGISTRATION: CivilRegistrationRequest = {
  registrationType: 'birth',
  person: { fullName: 'Nguyễn Minh Khang', dateOfBirth: '2025-11-20', sex: 'male' },
  placeOfBirth: 'Trạm y tế xã Bình Sơn',
  mother: { fullName: 'Lê Thị Hoà', idNumber: '051190001234' },
};

export let dir: string;
export let store: SqliteEventStore;
export let ingest: IngestService;
export let sink: IngestSink;
export let sim: CivilRegistrySimulator;
export let url: string;
/** The interlinked-services portal (DVCLT) beside the registry. */
export let dvcltSim: InterlinkedServicesSimulator;
export let dvcltUrl: string;
/** The simulator's clock: the wall clock unless a test pins it. */
export let simNow: number | undefined;
export let counter = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'civil-registry-'));
  store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  ingest = new IngestService(store, new EventValidator());
  sink = new IngestSink(ingest, captureClient('capture.civil-registry'));
  sim = new CivilRegistrySimulator({ clock: { now: () => simNow ?? Date.now() } });
  ({ url } = await sim.start());
  dvcltSim = new InterlinkedServicesSimulator();
  dvcltUrl = (await dvcltSim.start()).url;
});

afterAll(async () => {
  await sim.stop();
  await dvcltSim.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  simNow = undefined;
  await control('POST', '/_sim/reset');
  dvcltSim.reset();
});

export async function control(method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(res.status).toBe(200);
}

/** Seeds the registry's plans: every registration gets `outcome` after one processing poll. */
export const plan = (outcome: 'done' | 'supplement' | 'rejected', polls = 1) =>
  control('PUT', '/_sim/config', {
    seed: 7,
    outcomes: { [outcome]: 1 },
    processingPolls: { min: polls, max: polls },
  });

/** A fresh dossier code per test (the store is shared). */
export function newCode(): string {
  counter++;
  const tail = randomUUID().replace(/\D/g, '').slice(0, 2).padEnd(2, '0');
  return `${AGENCY}-251123-${String(counter).padStart(4, '0')}${tail}`;
}

export const where = (code: string) => ({ dossierCode: code, provinceCode: PROVINCE, communeCode: COMMUNE });

export async function post(code: string, type: string, data: Record<string, unknown>): Promise<void> {
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
export async function birthDossier(
  code: string,
  registration: CivilRegistrationRequest | null = REGISTRATION,
) {
  await post(
    code,
    'vn.gov.lgsp.dossier.submitted.v1',
    birthSubmission({
      agencyCode: AGENCY,
      applicant: { fullName: 'Lê Thị Hoà', idNumber: '051190001234' },
      receivedAt: '2025-11-23T16:59:30Z',
      ...(registration === null ? {} : { civilRegistration: registration }),
    }),
  );
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

export const streamOf = (code: string): Promise<StoredEvent[]> => store.readStream(`dossier-${code}`);

export async function logOf(codes: readonly string[]): Promise<StoredEvent[]> {
  const all = await store.readAll({ limit: 100_000 });
  return all.filter((e) => codes.some((c) => e.stream === `dossier-${c}`));
}

/** The captured events of a dossier as [type, status or registration number, note]. */
export async function captured(code: string): Promise<[string, unknown, unknown][]> {
  return (await streamOf(code))
    .filter((e) => e.source === CIVIL_REGISTRY_SOURCE)
    .map((e) => {
      const d = e.data as { status?: number; registrationNumber?: string; note?: string };
      return [e.type.replace(/^vn\.gov\.lgsp\.|\.v1$/g, ''), d.status ?? d.registrationNumber, d.note];
    });
}

export async function viewOf(code: string): Promise<DossierView> {
  let view: DossierView | undefined;
  for (const e of await streamOf(code)) view = evolveDossier(view, e);
  return view!;
}

/** A new pending-work store in an in-memory database. */
export const openPending = (): Promise<SqlPendingWorkStore> =>
  SqlPendingWorkStore.open(SqliteDatabase.open(':memory:'));

/** A new birth dossier (see {@link birthDossier}) that the connector has registered. */
export async function registeredBirth(): Promise<{ code: string; pending: SqlPendingWorkStore }> {
  const code = newCode();
  await birthDossier(code);
  const pending = await openPending();
  await connector(pending).deliver(await logOf([code]));
  return { code, pending };
}

export function connector(
  pending: PendingWorkStore,
  parking = new SqlParkingStore(SqliteDatabase.open(':memory:')),
  statuses: Partial<DvcltStatusCodes> = {},
) {
  return new CivilRegistryConnector({
    events: store,
    client: new CivilRegistryClient({ baseUrl: url, timeoutMs: 2000 }),
    dvclt: { ...dvclt(), statuses },
    pending,
    parking,
    breaker: new CircuitBreaker(CIVIL_REGISTRY_TARGET, { coolDownMs: 200, failureThreshold: 5 }),
    retry: { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 4 },
    pollIntervalMs: 0,
  });
}

export function poller(pending: PendingWorkStore, options: { backoffMs?: number; idleMs?: number } = {}) {
  return new CivilRegistryResultPoller({
    client: new CivilRegistryClient({ baseUrl: url, timeoutMs: 2000 }),
    dvclt: dvclt(),
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
export async function drain(p: CivilRegistryResultPoller, pending: PendingWorkStore, rounds = 30) {
  const total = { polled: 0, appended: 0, final: 0 };
  for (let i = 0; i < rounds && (await pending.count(CIVIL_REGISTRY_TARGET)) > 0; i++) {
    const r = await p.pollOnce();
    total.polled += r.polled;
    total.appended += r.appended;
    total.final += r.final;
  }
  return total;
}

export const registrations = () => sim.state().registrations;

/** The DVCLT reporting of the specs' connector and poller. */
export const dvclt = () => ({ client: new DvcltClient({ baseUrl: dvcltUrl, timeoutMs: 2000 }) });

/** The statuses DVCLT received for a dossier, in order. */
export const dvcltStatuses = (code: string): number[] =>
  dvcltSim
    .state()
    .dossiers.find((d) => d.maHoSoMCDT === code)
    ?.trangThai.map((t) => t.trangThai) ?? [];

/** The store's methods bound to it, to build a wrapper that overrides some. */
export function bind(store: PendingWorkStore): PendingWorkStore {
  return {
    schedule: store.schedule.bind(store),
    due: store.due.bind(store),
    reschedule: store.reschedule.bind(store),
    complete: store.complete.bind(store),
    get: store.get.bind(store),
    count: store.count.bind(store),
  };
}

/** Pins the simulator's clock at `at` (epoch ms) for the rest of the test; `undefined`: the wall clock. */
export function pinSimClock(at: number | undefined): void {
  simNow = at;
}
