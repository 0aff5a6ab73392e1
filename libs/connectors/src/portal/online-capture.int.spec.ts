import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminUnits, EventValidator, findRepoFile, type DossierSubmitted } from '#lgsp/contracts';
import { StoreUnavailableError } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { IngestService } from '#lgsp/ingest';
import { NationalPortalSimulator, parseFaultConfig, type OnlineSubmission } from '#lgsp/simulators';
import { ConnectorError } from '../core/errors.js';
import { captureClient, IngestSink, type EventSink } from '../core/event-sink.js';
import { vnTextToRfc3339 } from '../core/vn-time.js';
import {
  OnlineSubmissionCapture,
  PORTAL_ONLINE_CHECKPOINT,
  type CursorStore,
  type OnlineSubmissionCaptureOptions,
} from './online-capture.js';
import { PORTAL_SOURCE } from './online-submission-mapping.js';
import { PortalClient } from './portal-client.js';

const units = AdminUnits.load(findRepoFile('../shared/data/admin-units-2025.json'));
const NAME = 'Nguyễn Thị Hoà';
const ID = '051190001234';

let sim: NationalPortalSimulator;
let url: string;
let dir: string;
let store: SqliteEventStore;
let sink: IngestSink;
let stores = 0;

beforeAll(async () => {
  sim = new NationalPortalSimulator({ sessionTtlMs: 60_000 });
  ({ url } = await sim.start());
  dir = mkdtempSync(join(tmpdir(), 'portal-online-'));
});

afterAll(async () => {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

// The simulator's dossier codes restart with each reset, so each test gets a store of its own.
beforeEach(() => {
  sim.reset();
  store = SqliteEventStore.open({ file: join(dir, `events-${++stores}.db`) });
  sink = new IngestSink(
    new IngestService(store, new EventValidator({ adminUnits: units })),
    captureClient('capture.portal-online'),
  );
});

afterEach(() => store.close());

const client = () => new PortalClient({ baseUrl: url, username: 'lgsp', password: 'lgsp', timeoutMs: 2000 });

function capture(overrides: Partial<OnlineSubmissionCaptureOptions> = {}): OnlineSubmissionCapture {
  return new OnlineSubmissionCapture({
    client: client(),
    sink,
    cursor: store.checkpoints,
    adminUnits: units,
    pollIntervalMs: 20,
    pageSize: 10,
    ...overrides,
  });
}

/** Citizens submit online: `POST /_sim/online-submissions`, over HTTP like the portal's own front end. */
async function submit(inputs: Record<string, unknown>[]): Promise<OnlineSubmission[]> {
  const response = await fetch(new URL('/_sim/online-submissions', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(inputs),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as OnlineSubmission[];
}

const citizen = (i: number, overrides: Record<string, unknown> = {}) => ({
  MaTTHC: '1.001193',
  TenTTHC: 'Đăng ký khai sinh',
  ChuHoSo: NAME,
  DinhDanhCHS: [{ LoaiDinhDanh: 1, SoDinhDanh: ID }],
  TrichYeuHoSo: `Đăng ký khai sinh cho con thứ ${i}`,
  MaDonVi: '21040',
  ...overrides,
});

const submitMany = (n: number) => submit(Array.from({ length: n }, (_, i) => citizen(i + 1)));

async function captured(): Promise<{ id: string; source: string; data: DossierSubmitted }[]> {
  const events = await store.readAll({ types: ['vn.gov.lgsp.dossier.submitted.v1'], limit: 10_000 });
  return events.map((e) => ({ id: e.id, source: e.source, data: e.data as DossierSubmitted }));
}

const feedCalls = () => sim.calls().byOperation.LayDanhSachHoSoTrucTuyen ?? 0;

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A logger that keeps each warning as [object, message] and drops the rest. */
const warningLogger = () => {
  const warnings: [object, string][] = [];
  const logger = {
    debug: () => undefined,
    info: () => undefined,
    error: () => undefined,
    warn: (o: object, m: string) => warnings.push([o, m]),
  };
  return { logger, warnings };
};

describe('OnlineSubmissionCapture with the portal simulator', () => {
  it('captures many submissions across pages, in feed order, then moves the cursor', async () => {
    const sent = await submitMany(25);
    const c = capture();

    expect(await c.pollOnce()).toEqual({ fetched: 25, appended: 25, duplicates: 0, refused: [] });

    const events = await captured();
    expect(events.map((e) => e.data.dossierCode)).toEqual(sent.map((s) => s.MaHoSo));
    expect(new Set(events.map((e) => e.source))).toEqual(new Set([PORTAL_SOURCE]));
    expect(events[0]?.data).toEqual({
      dossierCode: sent[0]?.MaHoSo,
      procedureCode: '1.001193',
      procedureName: 'Đăng ký khai sinh',
      agencyCode: '000.00.00.G22',
      provinceCode: '51',
      communeCode: '21040',
      channel: 'online',
      applicant: { fullName: NAME, idNumber: ID },
      receivedAt: vnTextToRfc3339(sent[0]!.NgayTiepNhan, 'portal'),
      summary: 'Đăng ký khai sinh cho con thứ 1',
      // The portal's own facts: the field from its catalogue, the applicant's type, the submission time.
      sector: { code: 'G09-TP01', name: 'Hộ tịch' },
      applicantType: 'citizen',
      submittedAt: vnTextToRfc3339(sent[0]!.NgayTiepNhan, 'portal'),
    });
    const stored = await store.readStream(`dossier-${sent[0]?.MaHoSo}`);
    expect(stored.map((e) => [e.provinceCode, e.communeCode])).toEqual([['51', '21040']]);
    expect(await store.checkpoints.load(PORTAL_ONLINE_CHECKPOINT)).toBe(25);
    // Pages of 10, 10 and 5: the short page ends the round.
    expect(feedCalls()).toBe(3);

    expect(await c.pollOnce()).toEqual({ fetched: 0, appended: 0, duplicates: 0, refused: [] });
    expect(await captured()).toHaveLength(25);
  });

  it('captures submissions coded with 5 random digits (out-of-province agencies), with the applicant’s contact', async () => {
    sim.setDialect({ randomSuffix: true });
    const sent = await submit([
      citizen(1, { Email: 'hoa@example.vn', SoDienThoai: '0912345678' }),
      citizen(2),
    ]);
    for (const s of sent) expect(s.MaHoSo).toMatch(/^000\.00\.00\.G22-\d{6}-\d{5}$/);
    expect(await capture().pollOnce()).toEqual({ fetched: 2, appended: 2, duplicates: 0, refused: [] });
    const events = await captured();
    expect(events.map((e) => e.data.dossierCode)).toEqual(sent.map((s) => s.MaHoSo));
    expect(events[0]?.data.applicant).toEqual({
      fullName: NAME,
      idNumber: ID,
      email: 'hoa@example.vn',
      phone: '0912345678',
    });
    expect(events[1]?.data.applicant).toEqual({ fullName: NAME, idNumber: ID });
  });

  it('stores the names of an NFD feed in NFC and the times as RFC 3339 with +07:00', async () => {
    const [sent] = await submit([citizen(1, { ChuHoSo: 'Trần Thị Ngọc Ánh', TenTTHC: 'Đăng ký kết hôn' })]);
    sim.faults.configure(parseFaultConfig({ nfd: 1, operations: ['LayDanhSachHoSoTrucTuyen'] }, Date.now()));
    const raw = await client().listOnlineSubmissions(0, 10);
    expect(raw.submissions[0]?.ChuHoSo).toBe('Trần Thị Ngọc Ánh'.normalize('NFD'));

    expect((await capture().pollOnce()).appended).toBe(1);

    const [event] = await captured();
    expect(event?.data.applicant.fullName).toBe('Trần Thị Ngọc Ánh'.normalize('NFC'));
    expect(event?.data.procedureName).toBe('Đăng ký kết hôn'.normalize('NFC'));
    expect(event?.data.receivedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$/);
    expect(event?.data.receivedAt).toBe(vnTextToRfc3339(sent!.NgayTiepNhan, 'portal'));
  });

  it('a second capture over the same store resumes from the cursor and appends nothing twice', async () => {
    await submitMany(12);
    expect((await capture().pollOnce()).appended).toBe(12);
    await submitMany(5);

    const second = capture({ pageSize: 100 });
    expect(await second.pollOnce()).toEqual({ fetched: 5, appended: 5, duplicates: 0, refused: [] });

    const codes = (await captured()).map((e) => e.data.dossierCode);
    expect(codes).toHaveLength(17);
    expect(new Set(codes).size).toBe(17);
    expect(await store.checkpoints.load(PORTAL_ONLINE_CHECKPOINT)).toBe(17);
  });

  it('a crash between the append and the cursor save appends nothing new on the next round', async () => {
    await submitMany(8);
    let failSaves = 1;
    const cursor: CursorStore = {
      load: (name) => store.checkpoints.load(name),
      save: async (name, value) => {
        if (failSaves-- > 0) throw new StoreUnavailableError('the checkpoint write failed');
        await store.checkpoints.save(name, value);
      },
    };
    const c = capture({ cursor });

    await expect(c.pollOnce()).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(await captured()).toHaveLength(8);
    expect(await store.checkpoints.load(PORTAL_ONLINE_CHECKPOINT)).toBe(0);

    expect(await c.pollOnce()).toEqual({ fetched: 8, appended: 0, duplicates: 8, refused: [] });
    expect(await captured()).toHaveLength(8);
    expect(await store.checkpoints.load(PORTAL_ONLINE_CHECKPOINT)).toBe(8);
  });

  it('a store that cannot take a page stops the round with the cursor unmoved', async () => {
    await submitMany(3);
    let failAppends = 1;
    const flaky: EventSink = {
      append: (events) => {
        if (failAppends-- > 0) return Promise.reject(new StoreUnavailableError('the store is shutting down'));
        return sink.append(events);
      },
    };
    const c = capture({ sink: flaky });

    await expect(c.pollOnce()).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(await store.checkpoints.load(PORTAL_ONLINE_CHECKPOINT)).toBe(0);
    expect(await c.pollOnce()).toEqual({ fetched: 3, appended: 3, duplicates: 0, refused: [] });
  });

  it('an outage of the portal stops the round without moving the cursor; nothing is lost', async () => {
    await submitMany(6);
    sim.faults.configure(parseFaultConfig({ outage: { forMs: 60_000 } }, Date.now()));
    const c = capture();

    const error = await c.pollOnce().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).retriable).toBe(true);
    expect(await store.checkpoints.load(PORTAL_ONLINE_CHECKPOINT)).toBe(0);
    expect(await captured()).toHaveLength(0);

    sim.faults.reset();
    expect((await c.pollOnce()).appended).toBe(6);
  });

  it('under a high error rate, repeated rounds capture every submission exactly once', async () => {
    const sent = await submitMany(40);
    sim.faults.configure(parseFaultConfig({ seed: 7, errorRate: 0.5 }, Date.now()));
    const c = capture({ pageSize: 5 });

    let failures = 0;
    for (
      let round = 0;
      round < 200 && (await store.checkpoints.load(PORTAL_ONLINE_CHECKPOINT)) < 40;
      round++
    ) {
      await c.pollOnce().catch((e: unknown) => {
        expect(e).toBeInstanceOf(ConnectorError);
        failures++;
      });
    }

    expect(failures).toBeGreaterThan(0);
    expect(sim.calls().rejected.error).toBeGreaterThan(0);
    expect((await captured()).map((e) => e.data.dossierCode)).toEqual(sent.map((s) => s.MaHoSo));
  });

  it('refuses what cannot become a valid event, reports it without personal data, and moves on', async () => {
    const { logger, warnings } = warningLogger();
    const sent = await submit([
      citizen(1),
      citizen(2, { MaDonVi: undefined }),
      citizen(3, { MaDonVi: '51' }),
      citizen(4, { MaDonVi: '99999' }),
      citizen(5, { DinhDanhCHS: undefined, SoGiayToChuHoSo: `CMND ${ID.slice(0, 9)}x` }),
      // The portal takes 250 characters, the hub's events 200: the ingest refuses it.
      citizen(6, { ChuHoSo: `${NAME} ${'A'.repeat(220)}` }),
      citizen(7),
    ]);
    const c = capture({ logger });

    const outcome = await c.pollOnce();

    expect(outcome).toMatchObject({ fetched: 7, appended: 2, duplicates: 0 });
    expect(outcome.refused.map((r) => [r.position, r.dossierCode, r.reason])).toEqual([
      [2, sent[1]?.MaHoSo, 'no-unit'],
      [3, sent[2]?.MaHoSo, 'province-only'],
      [4, sent[3]?.MaHoSo, 'unknown-unit'],
      [5, sent[4]?.MaHoSo, 'id-number'],
      [6, sent[5]?.MaHoSo, 'invalid'],
    ]);
    expect(outcome.refused[4]?.detail).toContain('/data/applicant/fullName');
    expect(outcome.refused[0]?.refusedAt).toMatch(/\+07:00$/);
    expect(c.refused()).toEqual(outcome.refused);
    expect((await captured()).map((e) => e.data.dossierCode)).toEqual([sent[0]?.MaHoSo, sent[6]?.MaHoSo]);
    expect(await store.checkpoints.load(PORTAL_ONLINE_CHECKPOINT)).toBe(7);

    expect(warnings).toHaveLength(5);
    const logged = JSON.stringify(warnings);
    for (const r of outcome.refused) expect(logged).toContain(r.dossierCode);
    expect(logged).not.toContain(ID);
    expect(logged).not.toContain(ID.slice(0, 9));
    expect(logged).not.toContain(NAME);

    expect(await c.pollOnce()).toEqual({ fetched: 0, appended: 0, duplicates: 0, refused: [] });
  });

  it('keeps only the last refused submissions in memory', async () => {
    await submit([1, 2, 3, 4].map((i) => citizen(i, { MaDonVi: '51' })));
    const c = capture({ keepRefused: 2 });
    expect((await c.pollOnce()).refused).toHaveLength(4);
    expect(c.refused().map((r) => r.position)).toEqual([3, 4]);
  });

  it('start() polls until stop(), retrying failed rounds, and stop() waits for the round', async () => {
    const { logger, warnings } = warningLogger();
    sim.faults.configure(
      parseFaultConfig({ errorRate: 1, operations: ['LayDanhSachHoSoTrucTuyen'] }, Date.now()),
    );
    await submitMany(3);
    const c = capture({ logger });

    c.start();
    await until(() => feedCalls() >= 3);
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]).toMatchObject([{ retriable: true, code: 'unavailable' }, expect.any(String)]);
    expect(await captured()).toHaveLength(0);

    sim.faults.reset();
    await until(async () => (await store.checkpoints.load(PORTAL_ONLINE_CHECKPOINT)) === 3);
    await submitMany(2);
    await until(async () => (await captured()).length === 5);

    await c.stop();
    const calls = feedCalls();
    await submitMany(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(feedCalls()).toBe(calls);
    expect(await captured()).toHaveLength(5);
  });

  it('stop() during a slow portal call ends the round without moving the cursor', async () => {
    await submitMany(2);
    sim.faults.configure(parseFaultConfig({ latency: 1000 }, Date.now()));
    const c = capture();
    c.start();
    await until(() => feedCalls() >= 1);
    const started = Date.now();
    await c.stop();
    expect(Date.now() - started).toBeLessThan(900);
    expect(await store.checkpoints.load(PORTAL_ONLINE_CHECKPOINT)).toBe(0);
    sim.faults.reset();
    expect((await c.pollOnce()).appended).toBe(2);
  });
});
