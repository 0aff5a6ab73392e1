import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventValidator, type CloudEvent } from '#lgsp/contracts';
import { type StoredEvent } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { IngestService } from '#lgsp/ingest';
import { SubscriptionRunner } from '#lgsp/subscriptions';
import { OneStopShopSimulator } from '#lgsp/simulators';
import { paymentCompleted, statusChanged, submitted } from '../../../../test/support/events.js';
import { CircuitBreaker } from '../core/circuit-breaker.js';
import { captureClient } from '../core/event-sink.js';
import { SqlParkingStore } from '../core/parking/sql-parking-store.js';
import type { OneStopShopProgressEntry, OneStopShopStoredDossier } from './external/one-stop-shop-wire.js';
import { OneStopShopClient } from './one-stop-shop-client.js';
import { ONE_STOP_SHOP_TARGET } from './one-stop-shop-mapping.js';
import { OneStopShopSyncConnector } from './one-stop-shop-sync-connector.js';
import { SqliteDatabase } from '#lgsp/storage/sqlite';

const RECEPTION = { name: 'Trần Văn Bình', title: 'Công chức', department: 'Bộ phận một cửa' };
const OFFICER = { name: 'Lê Thị Mai', title: 'Công chức tư pháp - hộ tịch', department: 'UBND xã Bình Sơn' };
const SIGNER = { name: 'Phạm Quốc Hùng', title: 'Phó Chủ tịch UBND xã' };
const LOCAL_TIME = /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2}$/;

let dir: string;
let store: SqliteEventStore;
let ingest: IngestService;
let sim: OneStopShopSimulator;
let url: string;
let counter = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oss-sync-'));
  store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  ingest = new IngestService(store, new EventValidator());
  sim = new OneStopShopSimulator({ apiKey: 'oss-key' });
  ({ url } = await sim.start());
});

afterAll(async () => {
  await sim.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => sim.reset());

/** A fresh dossier code the shop accepts (`…-yyMMdd-` and 4 to 6 digits), never shared by two tests. */
function newCode(): string {
  counter++;
  const salt = String(randomUUID().replace(/\D/g, '')).slice(0, 2).padEnd(2, '0');
  return `000.00.51.H56-251123-${String(counter).padStart(4, '0')}${salt}`;
}

const client = captureClient('test.one-stop-shop');

/** Appends events through the hub's ingest (NFC, schema validation), as the hub would. */
async function post(events: readonly Record<string, unknown>[]): Promise<void> {
  for (const e of events) await ingest.ingest(client, [e as unknown as CloudEvent], true);
}

const withData = (event: Record<string, unknown>, data: Record<string, unknown>) => ({
  ...event,
  data: { ...(event.data as Record<string, unknown>), ...data },
});

const submit = (code: string, data: Record<string, unknown> = {}) => withData(submitted(code), data);

const move = (
  code: string,
  status: number,
  changedAt: string,
  handler: Record<string, unknown> | undefined,
  extra: Record<string, unknown> = {},
) => {
  const event = withData(statusChanged(code, status), { changedAt, ...extra });
  const data = event.data as Record<string, unknown>;
  if (handler === undefined) delete data.handler;
  else data.handler = handler;
  return { ...event, time: changedAt };
};

interface Lifecycle {
  name: string;
  events: (code: string) => Record<string, unknown>[];
  /** What the shop must hold: the dossier without `ngay_cap_nhat`, and its progress. */
  expected: (code: string) => Omit<OneStopShopStoredDossier, 'ngay_cap_nhat'>;
}

const progress = (
  handler: { name: string; title?: string; department?: string },
  thoi_gian: string,
  trang_thai: string,
  noi_dung: string,
): OneStopShopProgressEntry => ({
  can_bo: handler.name,
  ...(handler.title === undefined ? {} : { chuc_vu: handler.title }),
  ...(handler.department === undefined ? {} : { phong_ban: handler.department }),
  thoi_gian,
  noi_dung,
  trang_thai,
});

/** Lifecycles with every channel, both ID lengths, notes, fees, a payment and times in UTC and +07:00. */
const LIFECYCLES: Lifecycle[] = [
  {
    name: 'completed in person, fee paid, result returned',
    events: (code) => [
      submit(code, {
        applicant: { fullName: 'Nguyễn Thị Hoà'.normalize('NFD'), idNumber: '051190001234' },
        summary: 'Đăng ký khai sinh cho con',
        fees: [
          { code: 'LP01', name: 'Lệ phí hộ tịch', amount: 8000 },
          { name: 'Phí sao y', amount: 2000 },
        ],
      }),
      move(code, 2, '2025-11-23T09:20:00+07:00', RECEPTION),
      move(code, 4, '2025-11-23T03:00:00Z', OFFICER),
      move(code, 6, '2025-11-24T08:00:00+07:00', OFFICER),
      paymentCompleted(code, 10000),
      move(code, 9, '2025-11-24T17:30:00Z', SIGNER),
      move(code, 10, '2025-11-25T08:05:00+07:00', RECEPTION),
    ],
    expected: (code) => ({
      ma_ho_so: code,
      ma_thu_tuc: '1.001193',
      ten_thu_tuc: 'Đăng ký khai sinh',
      kenh_nop: 'TRUC_TIEP',
      ho_ten_nguoi_nop: 'Nguyễn Thị Hoà'.normalize('NFC'),
      so_giay_to: '051190001234',
      trich_yeu: 'Đăng ký khai sinh cho con',
      ma_don_vi: '21040',
      ngay_nhan: '23/11/2025 09:15:00',
      ngay_hen_tra: '26/11/2025 17:00:00',
      ngay_tra: '25/11/2025 08:05:00',
      trang_thai: 'DA_TRA_KET_QUA',
      le_phi: [
        { ten: 'Lệ phí hộ tịch', so_tien: 8000 },
        { ten: 'Phí sao y', so_tien: 2000 },
      ],
      phien_ban: 7,
      tien_do: [
        progress(RECEPTION, '23/11/2025 09:20:00', 'DA_TIEP_NHAN', 'Đã tiếp nhận hồ sơ'),
        progress(OFFICER, '23/11/2025 10:00:00', 'DANG_XU_LY', 'Hồ sơ đang được xử lý'),
        progress(OFFICER, '24/11/2025 08:00:00', 'CHO_NOP_PHI', 'Chờ công dân nộp phí, lệ phí'),
        progress(SIGNER, '25/11/2025 00:30:00', 'DA_XU_LY_XONG', 'Đã xử lý xong hồ sơ'),
        progress(RECEPTION, '25/11/2025 08:05:00', 'DA_TRA_KET_QUA', 'Đã trả kết quả cho công dân'),
      ],
    }),
  },
  {
    name: 'rejected at intake, online, legacy 9-digit ID, no fee nor summary',
    events: (code) => [
      submit(code, {
        channel: 'online',
        applicant: { fullName: 'Đặng Văn Út', idNumber: '212345678' },
        receivedAt: '2025-11-23T16:59:59Z',
        fees: [],
      }),
      move(code, 3, '2025-11-23T17:10:00Z', RECEPTION, { note: 'Hồ sơ thiếu giấy chứng sinh' }),
    ],
    expected: (code) => ({
      ma_ho_so: code,
      ma_thu_tuc: '1.001193',
      ten_thu_tuc: 'Đăng ký khai sinh',
      kenh_nop: 'TRUC_TUYEN',
      ho_ten_nguoi_nop: 'Đặng Văn Út',
      so_giay_to: '212345678',
      ma_don_vi: '21040',
      ngay_nhan: '23/11/2025 23:59:59',
      ngay_hen_tra: '26/11/2025 17:00:00',
      trang_thai: 'TU_CHOI_TIEP_NHAN',
      le_phi: [],
      phien_ban: 2,
      tien_do: [
        progress(RECEPTION, '24/11/2025 00:10:00', 'TU_CHOI_TIEP_NHAN', 'Hồ sơ thiếu giấy chứng sinh'),
      ],
    }),
  },
  {
    name: 'by post, documents requested and supplied, a handlerless change, postponed due date',
    events: (code) => [
      submit(code, { channel: 'postal', procedureName: 'Đăng ký kết hôn', procedureCode: '1.000894' }),
      move(code, 2, '2025-11-23T10:00:00+07:00', RECEPTION),
      move(code, 4, '2025-11-23T11:00:00+07:00', undefined),
      move(code, 5, '2025-11-24T09:00:00+07:00', OFFICER, { note: 'Bổ sung bản sao giấy tờ tuỳ thân' }),
      move(code, 4, '2025-11-25T09:00:00+07:00', OFFICER, {
        note: 'Công dân đã bổ sung hồ sơ',
        dueAt: '2025-11-28T17:00:00+07:00',
      }),
      move(code, 9, '2025-11-27T15:00:00+07:00', SIGNER),
    ],
    expected: (code) => ({
      ma_ho_so: code,
      ma_thu_tuc: '1.000894',
      ten_thu_tuc: 'Đăng ký kết hôn',
      kenh_nop: 'BUU_CHINH',
      ho_ten_nguoi_nop: 'Nguyễn Thị Hoà',
      so_giay_to: '051190001234',
      ma_don_vi: '21040',
      ngay_nhan: '23/11/2025 09:15:00',
      ngay_hen_tra: '28/11/2025 17:00:00',
      trang_thai: 'DA_XU_LY_XONG',
      le_phi: [{ ten: 'Lệ phí', so_tien: 50000 }],
      phien_ban: 6,
      tien_do: [
        progress(RECEPTION, '23/11/2025 10:00:00', 'DA_TIEP_NHAN', 'Đã tiếp nhận hồ sơ'),
        progress(OFFICER, '24/11/2025 09:00:00', 'YEU_CAU_BO_SUNG', 'Bổ sung bản sao giấy tờ tuỳ thân'),
        progress(OFFICER, '25/11/2025 09:00:00', 'DANG_XU_LY', 'Công dân đã bổ sung hồ sơ'),
        progress(SIGNER, '27/11/2025 15:00:00', 'DA_XU_LY_XONG', 'Đã xử lý xong hồ sơ'),
      ],
    }),
  },
  {
    name: 'withdrawn by the citizen after intake',
    events: (code) => [
      submit(code, { channel: 'online' }),
      move(code, 2, '2025-11-23T09:30:00+07:00', RECEPTION),
      move(code, 7, '2025-11-23T14:00:00+07:00', RECEPTION, { note: 'Công dân xin rút hồ sơ' }),
    ],
    expected: (code) => ({
      ma_ho_so: code,
      ma_thu_tuc: '1.001193',
      ten_thu_tuc: 'Đăng ký khai sinh',
      kenh_nop: 'TRUC_TUYEN',
      ho_ten_nguoi_nop: 'Nguyễn Thị Hoà',
      so_giay_to: '051190001234',
      ma_don_vi: '21040',
      ngay_nhan: '23/11/2025 09:15:00',
      ngay_hen_tra: '26/11/2025 17:00:00',
      trang_thai: 'CONG_DAN_RUT',
      le_phi: [{ ten: 'Lệ phí', so_tien: 50000 }],
      phien_ban: 3,
      tien_do: [
        progress(RECEPTION, '23/11/2025 09:30:00', 'DA_TIEP_NHAN', 'Đã tiếp nhận hồ sơ'),
        progress(RECEPTION, '23/11/2025 14:00:00', 'CONG_DAN_RUT', 'Công dân xin rút hồ sơ'),
      ],
    }),
  },
];

const lifecycleOf = (i: number): Lifecycle => LIFECYCLES[i % LIFECYCLES.length]!;

/** Dossier `i` (its code and lifecycle), with its events posted through ingest. */
async function dossiers(count: number): Promise<{ code: string; lifecycle: Lifecycle }[]> {
  const out = Array.from({ length: count }, (_, i) => ({ code: newCode(), lifecycle: lifecycleOf(i) }));
  for (const d of out) await post(d.lifecycle.events(d.code));
  return out;
}

const expectedOf = (ds: readonly { code: string; lifecycle: Lifecycle }[]) =>
  ds.map((d) => ({ ...d.lifecycle.expected(d.code), ngay_cap_nhat: expect.stringMatching(LOCAL_TIME) }));

interface ShopState {
  dossiers: OneStopShopStoredDossier[];
  history: Record<string, { ngay: string; trang_thai: string; phien_ban?: number }[]>;
}

/** The shop's whole state over HTTP (`GET /_sim/state`). */
async function shopState(): Promise<ShopState> {
  const res = await fetch(`${url}/_sim/state`);
  return (await res.json()) as ShopState;
}

/** The stored dossiers of `codes`, in that order. */
async function shopDossiers(codes: readonly string[]): Promise<OneStopShopStoredDossier[]> {
  const { dossiers: all } = await shopState();
  return codes.flatMap((c) => all.filter((d) => d.ma_ho_so === c));
}

async function setFaults(faults: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${url}/_sim/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  expect(res.status).toBe(200);
}

async function calls(): Promise<{
  byOperation: Record<string, number>;
  byDossier: Record<string, Record<string, number>>;
  rejected: Record<string, number>;
}> {
  return (await (await fetch(`${url}/_sim/calls`)).json()) as Awaited<ReturnType<typeof calls>>;
}

async function eventsOf(codes: readonly string[], from: SqliteEventStore = store): Promise<StoredEvent[]> {
  const all = await from.readAll({ limit: 100_000 });
  return all.filter((e) => codes.some((c) => e.stream === `dossier-${c}`));
}

function connector(options: { maxAttempts?: number; events?: SqliteEventStore; batchSize?: number } = {}): {
  connector: OneStopShopSyncConnector;
  parking: SqlParkingStore;
} {
  const parking = new SqlParkingStore(SqliteDatabase.open(':memory:'));
  return {
    connector: new OneStopShopSyncConnector({
      events: options.events ?? store,
      client: new OneStopShopClient({ baseUrl: url, apiKey: 'oss-key', timeoutMs: 2000 }),
      parking,
      breaker: new CircuitBreaker(ONE_STOP_SHOP_TARGET, { coolDownMs: 200, failureThreshold: 5 }),
      retry: { initialDelayMs: 10, maxDelayMs: 100, maxAttempts: options.maxAttempts ?? 6 },
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    }),
    parking,
  };
}

describe('OneStopShopSyncConnector with the one-stop-shop simulator', () => {
  it('is the subscriber connector.one-stop-shop of target one-stop-shop', () => {
    const { connector: c } = connector();
    expect([c.name, c.target]).toEqual(['connector.one-stop-shop', 'one-stop-shop']);
  });

  it('makes the shop hold each dossier and its progress exactly as the log says, field by field', async () => {
    const ds = await dossiers(LIFECYCLES.length);
    const { connector: c, parking } = connector();

    const outcomes = await c.deliver(await eventsOf(ds.map((d) => d.code)));

    expect(outcomes.map((o) => [o.dossier, o.status])).toEqual(ds.map((d) => [d.code, 'delivered']));
    expect(await shopDossiers(ds.map((d) => d.code))).toEqual(expectedOf(ds));
    expect(await parking.list({ limit: 10 })).toEqual([]);
  });

  it('folds a dossier whose whole stream is in the batch without reading it again, and reads it otherwise', async () => {
    const ds = await dossiers(LIFECYCLES.length);
    const codes = ds.map((d) => d.code);
    const log = await eventsOf(codes);
    const reads: string[] = [];
    const readStream = store.readStream.bind(store);
    const spy = jest.spyOn(store, 'readStream').mockImplementation((stream, options) => {
      reads.push(stream);
      return readStream(stream, options);
    });
    try {
      const { connector: whole } = connector();
      await whole.deliver(log);
      expect(reads).toEqual([]);
      expect(await shopDossiers(codes)).toEqual(expectedOf(ds));

      // A batch without the first event of a dossier (its submission came in an earlier batch), and one
      // with a gap: each dossier's state is read from its stream, and the shop holds the same.
      sim.reset();
      const { connector: later } = connector();
      const [firstCode] = codes;
      const withoutFirst = log.filter((e) => !(e.stream === `dossier-${firstCode}` && e.streamVersion === 1));
      const gap = log.filter((e) => e.stream !== `dossier-${firstCode}` && e.streamVersion !== 2);
      await later.deliver(withoutFirst);
      await later.deliver(gap);
      expect(reads).toContain(`dossier-${firstCode}`);
      // Read: the first dossier, and each other whose batch has a gap (an event after the missing v2).
      const gapped = codes.filter(
        (c) => c !== firstCode && log.some((e) => e.stream === `dossier-${c}` && e.streamVersion > 2),
      );
      expect(gapped.length).toBeGreaterThan(0);
      expect(new Set(reads)).toEqual(new Set([`dossier-${firstCode}`, ...gapped.map((c) => `dossier-${c}`)]));
      expect(await shopDossiers(codes)).toEqual(expectedOf(ds));
    } finally {
      spy.mockRestore();
    }
  });

  it('writes each state in version order, and replaying the whole log changes nothing nor duplicates', async () => {
    const ds = await dossiers(LIFECYCLES.length);
    const codes = ds.map((d) => d.code);
    const log = await eventsOf(codes);
    const { connector: c } = connector();
    // One event per batch, as a subscriber that has just caught up delivers them.
    for (const e of log) await c.deliver([e]);
    const first = await shopState();
    for (const d of ds) {
      const versions = first.history[d.code]?.map((h) => h.phien_ban);
      const n = d.lifecycle.expected(d.code).phien_ban!;
      expect(versions).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    }

    // A replay by a fresh connector, event by event (older states: the shop answers 409, keeps its
    // newer one) and then as one batch (the same latest state again).
    const { connector: again, parking } = connector();
    for (const e of log) await again.deliver([e]);
    await again.deliver(log);

    const after = await shopState();
    expect(await shopDossiers(codes)).toEqual(expectedOf(ds));
    expect(after.dossiers.filter((d) => codes.includes(d.ma_ho_so))).toHaveLength(codes.length);
    for (const d of ds) {
      const n = d.lifecycle.expected(d.code).phien_ban!;
      const versions = after.history[d.code]?.map((h) => h.phien_ban) ?? [];
      expect(versions.slice(0, n)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      // Only the latest state was written again (once in the per-event replay, once as a batch).
      expect(versions.slice(n)).toEqual([n, n]);
    }
    expect(await parking.list({ limit: 10 })).toEqual([]);
  });

  it('converges through a 30% error rate, an outage and a rate limit, run as a subscriber', async () => {
    const own = SqliteEventStore.open({ file: join(dir, `runner-${randomUUID()}.db`) });
    const ownIngest = new IngestService(own, new EventValidator());
    try {
      await setFaults({
        seed: 42,
        errorRate: 0.3,
        outage: { forMs: 1200, afterMs: 200 },
        rateLimit: { perSecond: 40, burst: 5 },
      });
      const { connector: c, parking } = connector({ maxAttempts: 20, events: own, batchSize: 7 });
      const runner = new SubscriptionRunner(own, c, { pollIntervalMs: 20 });
      runner.start();
      const ds = Array.from({ length: 12 }, (_, i) => ({ code: newCode(), lifecycle: lifecycleOf(i) }));
      for (const d of ds) {
        for (const e of d.lifecycle.events(d.code)) {
          await ownIngest.ingest(client, [e as unknown as CloudEvent], true);
        }
      }
      const head = (await own.head()).position;
      const deadline = Date.now() + 60_000;
      while ((runner.checkpoint ?? 0) < head && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await runner.stop();

      const seen = await calls();
      expect(seen.rejected.error).toBeGreaterThan(0);
      expect(seen.rejected.outage).toBeGreaterThan(0);
      expect(seen.rejected['rate-limit']).toBeGreaterThan(0);
      await setFaults({});
      expect(await own.checkpoints.load('connector.one-stop-shop')).toBe(head);
      expect(await parking.list({ limit: 100 })).toEqual([]);
      expect(await shopDossiers(ds.map((d) => d.code))).toEqual(expectedOf(ds));
      const { history } = await shopState();
      for (const d of ds) {
        const versions = (history[d.code] ?? []).map((h) => h.phien_ban ?? -1);
        expect(versions).toEqual([...versions].sort((a, b) => a - b));
        expect(versions.at(-1)).toBe(d.lifecycle.expected(d.code).phien_ban);
      }
    } finally {
      await own.close();
    }
  });

  it('parks only a dossier the shop refuses or the hub cannot map; the others flow', async () => {
    const good = await dossiers(2);
    // The event schema takes any number of leading digits; the shop takes one or two.
    const refused = newCode();
    await post([submit(refused, { procedureCode: '100.001193' })]);
    const unmappable = newCode(); // a status change with no submission yet: nothing to map
    await post([move(unmappable, 2, '2025-11-23T10:00:00+07:00', RECEPTION)]);
    const more = await dossiers(1);
    const { connector: c, parking } = connector();
    const all = [...good, ...more].map((d) => d.code);

    const outcomes = await c.deliver(await eventsOf([...all, refused, unmappable]));

    expect(Object.fromEntries(outcomes.map((o) => [o.dossier, o.status]))).toEqual({
      ...Object.fromEntries(all.map((code) => [code, 'delivered'])),
      [refused]: 'parked',
      [unmappable]: 'parked',
    });
    expect(await shopDossiers([...all, refused, unmappable])).toEqual(expectedOf([...good, ...more]));
    expect(await parking.list({ target: 'one-stop-shop', limit: 10 })).toHaveLength(2);
    const parked = await parking.get('one-stop-shop', refused);
    expect(parked).toMatchObject({
      kind: 'data',
      attempts: 1,
      reason: expect.stringMatching(/refused the request with 400.*ma_thu_tuc/),
    });
    expect(parked?.reason).not.toContain('Hoà');
    expect(parked?.reason).not.toContain('051190001234');
    expect(await parking.get('one-stop-shop', unmappable)).toMatchObject({
      kind: 'data',
      lastError: expect.stringMatching(/^mapping: .*ma_thu_tuc/),
    });

    // A later event of the refused dossier waits behind its parking: nothing is sent for it.
    const before = (await calls()).byDossier[refused]?.CapNhatHoSo ?? 0;
    const seen = (await eventsOf([refused])).length;
    await post([move(refused, 2, '2025-11-23T09:20:00+07:00', RECEPTION)]);
    const later = (await eventsOf([refused])).slice(seen);
    expect(await c.deliver(later)).toEqual([expect.objectContaining({ dossier: refused, status: 'parked' })]);
    expect((await calls()).byDossier[refused]?.CapNhatHoSo ?? 0).toBe(before);
  });

  it('delivers a parked dossier once its data is corrected and an operator retries it', async () => {
    const code = newCode();
    await post([submit(code, { procedureCode: '100.001193' })]);
    const { connector: c, parking } = connector();
    expect((await c.deliver(await eventsOf([code])))[0]?.status).toBe('parked');

    // The one-stop-shop corrects the procedure code by submitting the dossier again, then it moves on.
    const lifecycle = LIFECYCLES[3]!;
    const [corrected, ...rest] = lifecycle.events(code);
    await post([{ ...corrected!, id: randomUUID() }, ...rest]);
    expect(await shopDossiers([code])).toEqual([]);

    await parking.retry('one-stop-shop', code, {
      by: 'operator',
      at: new Date().toISOString(),
      note: 'fixed',
    });
    expect(await c.redeliver(code)).toMatchObject({ dossier: code, status: 'delivered' });

    expect(await shopDossiers([code])).toEqual([
      {
        ...lifecycle.expected(code),
        phien_ban: 4, // the refused submission, the corrected one and two status changes
        ngay_cap_nhat: expect.stringMatching(LOCAL_TIME),
      },
    ]);
    expect((await parking.history('one-stop-shop', code)).map((h) => h.action)).toEqual([
      'parked',
      'retried',
    ]);
  });

  it('parks a dossier as retriable once the gate’s attempts are spent while the shop is down', async () => {
    const [d] = await dossiers(1);
    await setFaults({ errorRate: 1 });
    const { connector: c, parking } = connector({ maxAttempts: 3 });

    await expect(c.handle(await eventsOf([d!.code]), { checkpoint: 0 })).resolves.toBeUndefined();

    expect(await parking.get('one-stop-shop', d!.code)).toMatchObject({ kind: 'retriable', attempts: 3 });
    await setFaults({});
    await parking.retry('one-stop-shop', d!.code, { by: 'operator', at: new Date().toISOString() });
    expect(await c.redeliver(d!.code)).toMatchObject({ status: 'delivered' });
    expect(await shopDossiers([d!.code])).toEqual(expectedOf([d!]));
  });

  it('sends the whole state again when the shop loses the dossier it has just accepted', async () => {
    const [d] = await dossiers(1);
    await setFaults({ dropWrites: 1, operations: ['CapNhatHoSo'] });
    const { connector: c, parking } = connector({ maxAttempts: 3 });

    expect((await c.deliver(await eventsOf([d!.code])))[0]?.status).toBe('parked');
    expect(await parking.get('one-stop-shop', d!.code)).toMatchObject({ kind: 'retriable', attempts: 3 });
    expect((await calls()).byDossier[d!.code]).toMatchObject({ CapNhatHoSo: 3, ThemTienDo: 3 });

    await setFaults({});
    await parking.retry('one-stop-shop', d!.code, { by: 'operator', at: new Date().toISOString() });
    expect(await c.redeliver(d!.code)).toMatchObject({ status: 'delivered' });
    expect(await shopDossiers([d!.code])).toEqual(expectedOf([d!]));
  });
});
