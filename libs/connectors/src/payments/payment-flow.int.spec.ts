import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventValidator } from '#lgsp/contracts';
import { type StoredEvent } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { IngestService } from '#lgsp/ingest';

import { type Logger } from '#lgsp/observability';
import {
  PaymentPlatformSimulator,
  parseFaultConfig,
  type SentCallback,
} from '../../../../apps/simulators/src/index.js';
import { CircuitBreaker } from '../core/circuit-breaker.js';
import { ManualClock, type Clock } from '../core/clock.js';
import { IngestSink, captureClient, type EventSink } from '../core/event-sink.js';
import { InMemoryParkingStore } from '../core/parking/memory-parking-store.js';
import { InMemoryPendingWorkStore } from '../core/pending/memory-pending-work-store.js';
import { signMessage } from './digest.js';
import { PaymentCallbackHandler } from './payment-callback-handler.js';
import { PaymentClient } from './payment-client.js';
import { PaymentConnector, type PendingPayment } from './payment-connector.js';
import {
  PAYMENT_SOURCE,
  PAYMENTS_TARGET,
  callbackHttpResponse,
  type CallbackOutcome,
} from './payment-mapping.js';
import { PaymentStatusPoller } from './payment-status-poller.js';

const SECRET = 'flow-spec-secret';
const PROVINCE = '51';
const COMMUNE = '21040';
const AGENCY = '000.00.51.H56';
const FEE = 50000;

let dir: string;
let store: SqliteEventStore;
let sink: IngestSink;
let sim: PaymentPlatformSimulator;
let simUrl: string;
let hub: Server;
let counter = 0;

/** Per test: the hub's pending store, callback handler, whether it answers callbacks, what it logged. */
let pending: InMemoryPendingWorkStore;
let handler: PaymentCallbackHandler;
let accepting: boolean;
let outcomes: CallbackOutcome[];
let logs: { level: string; obj: object; msg: string }[];

const logger: Logger = {
  debug: () => undefined,
  info: (obj, msg) => logs.push({ level: 'info', obj, msg }),
  warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }),
  error: (obj, msg) => logs.push({ level: 'error', obj, msg }),
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'payment-flow-'));
  store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  sink = new IngestSink(new IngestService(store, new EventValidator()), captureClient('capture.payments'));
  // The hub's callback route, as the lead wires it: handler, then the outcome's HTTP answer.
  hub = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    req.on('end', () => {
      void (async () => {
        if (!accepting) {
          res.writeHead(503).end();
          return;
        }
        const outcome = await handler.handle(JSON.parse(raw) as unknown);
        outcomes.push(outcome);
        const answer = callbackHttpResponse(outcome);
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
      })();
    });
  });
  await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
  const hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}/callbacks/payments`;
  sim = new PaymentPlatformSimulator({
    config: { secret: SECRET, callbackUrl: hubUrl, callbackRetries: 0, callbackRetryDelayMs: 10 },
  });
  ({ url: simUrl } = await sim.start());
});

afterAll(async () => {
  await sim.stop();
  await new Promise((resolve) => hub.close(resolve));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  sim.reset();
  sim.configure({
    outcomes: { success: 1 },
    pendingPolls: { min: 0, max: 0 },
    resolveAfterMs: { min: 5, max: 5 },
  });
  accepting = true;
  outcomes = [];
  logs = [];
  pending = new InMemoryPendingWorkStore();
  handler = new PaymentCallbackHandler({ secret: SECRET, sink, pending, events: store, logger });
});

/** A fresh dossier code per test: the simulator's transaction numbers restart at each reset. */
function newCode(): string {
  counter++;
  return `${AGENCY}-251123-${String(counter).padStart(4, '0')}${randomUUID().replace(/\D/g, '').slice(0, 2).padEnd(2, '0')}`;
}

const common = (code: string) => ({ dossierCode: code, provinceCode: PROVINCE, communeCode: COMMUNE });

async function append(code: string, type: string, data: Record<string, unknown>): Promise<void> {
  await store.append([
    {
      stream: `dossier-${code}`,
      expectedVersion: 'any',
      id: randomUUID(),
      source: `/communes/${COMMUNE}/one-stop-shop`,
      type,
      time: new Date().toISOString(),
      data: { ...common(code), ...data },
      extensions: {},
      provinceCode: PROVINCE,
      communeCode: COMMUNE,
    },
  ]);
}

const changeStatus = (code: string, status: number, changedAt: string) =>
  append(code, 'vn.gov.lgsp.dossier.status-changed.v1', {
    status,
    changedAt,
    handler: { name: 'Trần Văn Bình' },
  });

/** A dossier with a fee, up to "fee due" (status 6 at 2025-11-24 00:05:09 Vietnam time). */
async function feeDue(code: string, fee = FEE): Promise<void> {
  await append(code, 'vn.gov.lgsp.dossier.submitted.v1', {
    procedureCode: '1.001193',
    procedureName: 'Đăng ký khai sinh',
    agencyCode: AGENCY,
    channel: 'online',
    applicant: { fullName: 'Nguyễn Thị Hoà', idNumber: '051190001234' },
    receivedAt: '2025-11-23T08:00:00+07:00',
    fees: fee > 0 ? [{ code: 'LP01', name: 'Lệ phí hộ tịch', amount: fee }] : [],
  });
  await changeStatus(code, 4, '2025-11-23T02:00:00Z');
  await changeStatus(code, 6, '2025-11-23T17:05:09Z');
}

const streamOf = (code: string): Promise<StoredEvent[]> => store.readStream(`dossier-${code}`);
const paymentEvents = async (code: string) =>
  (await streamOf(code)).filter((e) => e.type.startsWith('vn.gov.lgsp.payment.'));

function connector(
  options: { clock?: Clock; pending?: InMemoryPendingWorkStore; pollDelayMs?: number } = {},
) {
  const parking = new InMemoryParkingStore();
  const c = new PaymentConnector({
    events: store,
    parking,
    breaker: new CircuitBreaker(PAYMENTS_TARGET, { coolDownMs: 200, failureThreshold: 5 }),
    retry: { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 3 },
    client: client(),
    pending: options.pending ?? pending,
    pollDelayMs: options.pollDelayMs ?? 1000,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  return { connector: c, parking };
}

const client = () =>
  new PaymentClient({ baseUrl: simUrl, partnerCode: 'H51', secret: SECRET, timeoutMs: 2000 });

function poller(clock?: Clock, pollIntervalMs = 100, to: EventSink = sink) {
  return new PaymentStatusPoller({
    client: client(),
    pending,
    sink: to,
    pollIntervalMs,
    maxPollDelayMs: 1000,
    batch: 10,
    logger,
    ...(clock === undefined ? {} : { clock }),
  });
}

async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The callbacks sent so far, once `n` of them have been answered. */
async function callbacks(n: number): Promise<SentCallback[]> {
  await waitFor(`${n} callback(s)`, () => {
    const sent = sim.state().callbacks;
    return sent.length >= n && sent.every((c) => c.status !== undefined || c.error !== undefined);
  });
  await sim.settled();
  return sim.state().callbacks;
}

const ref = (code: string, n = 1) => `${code}-TT${n}`;

describe('payments with the payment platform simulator', () => {
  it('opens the fee due and captures the paid callback as payment.completed', async () => {
    const code = newCode();
    await feeDue(code);
    const { connector: c } = connector();

    const delivered = await c.deliver(await streamOf(code));
    expect(delivered.map((o) => o.status)).toEqual(['delivered']);
    expect(sim.state().payments).toEqual([
      expect.objectContaining({
        MaThamChieu: ref(code),
        MaDoiTac: 'H51',
        SoTien: FEE,
        ThoiGianKhoiTao: expect.any(String),
        NoiDungThanhToan: `Thanh toán phí, lệ phí hồ sơ ${code}`,
      }),
    ]);

    const [sent] = await callbacks(1);
    expect(sent).toMatchObject({ kind: 'result', status: 200 });
    const payment = sim.state().payments[0]!;
    const events = await paymentEvents(code);
    expect(events).toEqual([
      expect.objectContaining({
        source: PAYMENT_SOURCE,
        type: 'vn.gov.lgsp.payment.completed.v1',
        id: `payment:${ref(code)}:${payment.MaGiaoDich}:completed`,
        data: {
          ...common(code),
          paymentRef: ref(code),
          transactionId: payment.MaGiaoDich,
          amount: FEE,
          paidAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$/),
          bankCode: payment.MaNganHang,
        },
      }),
    ]);
    expect(outcomes).toEqual([
      { outcome: 'accepted', dossier: code, ref: ref(code), eventId: events[0]!.id },
    ]);
    expect(await pending.count(PAYMENTS_TARGET)).toBe(0);
  });

  it('captures a failed payment as payment.failed', async () => {
    sim.configure({ outcomes: { failed: 1 } });
    const code = newCode();
    await feeDue(code);
    await connector().connector.deliver(await streamOf(code));
    await callbacks(1);

    expect((await paymentEvents(code)).map((e) => [e.type, e.data])).toEqual([
      [
        'vn.gov.lgsp.payment.failed.v1',
        {
          ...common(code),
          paymentRef: ref(code),
          failedAt: expect.stringMatching(/\+07:00$/),
          reason: 'Giao dịch thanh toán không thành công',
        },
      ],
    ]);
    expect(await pending.count(PAYMENTS_TARGET)).toBe(0);
  });

  it('opens nothing for a dossier without fees', async () => {
    const code = newCode();
    await feeDue(code, 0);
    const delivered = await connector().connector.deliver(await streamOf(code));

    expect(delivered.map((o) => o.status)).toEqual(['delivered']);
    expect(sim.calls().byOperation.INIT).toBeUndefined();
  });

  it('rejects a forged callback and appends nothing', async () => {
    sim.configure({ outcomes: { pending: 1 } });
    const code = newCode();
    await feeDue(code);
    await connector().connector.deliver(await streamOf(code));

    const res = await fetch(`${simUrl}/_sim/forge-callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ MaThamChieu: ref(code), MaLoi: '00' }),
    });
    const forged = (await res.json()) as SentCallback;

    expect(forged).toMatchObject({ kind: 'forged', status: 401 });
    expect(JSON.parse(forged.response ?? '{}')).toEqual({ MaLoi: '02', MoTaLoi: 'MaXacThuc không hợp lệ' });
    expect(outcomes).toEqual([{ outcome: 'forged', ref: ref(code) }]);
    expect(await paymentEvents(code)).toEqual([]);
    expect(await pending.get(PAYMENTS_TARGET, ref(code))).toBeDefined();
    const warning = logs.find((l) => l.level === 'warn');
    expect(warning?.obj).toEqual({ target: PAYMENTS_TARGET });
    const logged = JSON.stringify(logs);
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain(String(forged.body.MaXacThuc));
  });

  it('appends nothing new for a duplicate callback, and answers both 200', async () => {
    sim.faults.configure(parseFaultConfig({ duplicateCallbacks: 1 }, Date.now()));
    const code = newCode();
    await feeDue(code);
    await connector().connector.deliver(await streamOf(code));

    const sent = await callbacks(2);
    expect(sent.map((c) => [c.kind, c.status])).toEqual([
      ['result', 200],
      ['duplicate', 200],
    ]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['accepted', 'duplicate']);
    expect(await paymentEvents(code)).toHaveLength(1);
  });

  it('answers unknown, invalid and untrusted callbacks without appending, and finds the commune in the stream', async () => {
    const code = newCode();
    await feeDue(code);
    const callback = (fields: Record<string, unknown>) =>
      signMessage(
        'CALLBACK',
        {
          MaLoi: '00',
          MaThamChieu: ref(code),
          SoTien: FEE,
          MaGiaoDich: 'GD000000000042',
          MaNganHang: 'VCB',
          ThoiGianGD: '20251124090000',
          ...fields,
        },
        SECRET,
      );

    expect(await handler.handle(callback({ MaThamChieu: ref('000.00.51.H56-251123-UNKNOWN') }))).toEqual({
      outcome: 'unknown-dossier',
      ref: ref('000.00.51.H56-251123-UNKNOWN'),
    });
    expect(await handler.handle('not json')).toMatchObject({ outcome: 'invalid', field: 'body' });
    expect(await handler.handle(callback({ MaLoi: '99' }))).toMatchObject({
      outcome: 'invalid',
      field: 'MaLoi',
    });
    expect(await handler.handle(callback({ ThoiGianGD: '20251324090000' }))).toMatchObject({
      outcome: 'invalid',
      field: 'ThoiGianGD',
    });
    expect(await handler.handle(callback({ MaThamChieu: code }))).toMatchObject({
      outcome: 'invalid',
      field: 'MaThamChieu',
    });
    expect(await handler.handle({ ...callback({}), SoTien: FEE * 10 })).toEqual({
      outcome: 'forged',
      ref: ref(code),
    });
    expect(await paymentEvents(code)).toEqual([]);

    // No pending item (e.g. a callback after a restart with another store): the stream tells the commune.
    const accepted = await handler.handle(callback({}));
    expect(accepted).toMatchObject({ outcome: 'accepted', dossier: code });
    expect((await paymentEvents(code)).map((e) => e.data)).toEqual([
      expect.objectContaining({
        ...common(code),
        transactionId: 'GD000000000042',
        paidAt: '2025-11-24T09:00:00+07:00',
      }),
    ]);
  });

  it('polls a payment without callback until final, with a growing delay', async () => {
    sim.configure({ pendingPolls: { min: 2, max: 2 }, resolveAfterMs: null });
    accepting = false; // the callback that the final QUERY triggers is lost
    const clock = new ManualClock(Date.now());
    const code = newCode();
    await feeDue(code);
    await connector({ clock }).connector.deliver(await streamOf(code));
    const p = poller(clock);

    expect(await p.pollOnce()).toEqual({ polled: 0, appended: 0, final: 0, stillPending: 0 });
    clock.skew(1000);
    expect(await p.pollOnce()).toEqual({ polled: 1, appended: 0, final: 0, stillPending: 1 });
    expect(await pending.get(PAYMENTS_TARGET, ref(code))).toMatchObject({
      attempts: 1,
      dueAt: clock.now() + 100,
    });
    clock.skew(100);
    expect(await p.pollOnce()).toEqual({ polled: 1, appended: 0, final: 0, stillPending: 1 });
    expect(await pending.get(PAYMENTS_TARGET, ref(code))).toMatchObject({
      attempts: 2,
      dueAt: clock.now() + 200,
    });
    clock.skew(200);
    expect(await p.pollOnce()).toEqual({ polled: 1, appended: 1, final: 1, stillPending: 0 });

    expect((await paymentEvents(code)).map((e) => e.type)).toEqual(['vn.gov.lgsp.payment.completed.v1']);
    expect(await pending.count(PAYMENTS_TARGET)).toBe(0);
    expect(sim.state().payments[0]).toMatchObject({ TrangThaiGD: 1, SoLanTruyVan: 3 });
    await sim.settled();
  });

  it('keeps polling a payment pending again and again, at most maxPollDelayMs apart, until it fails', async () => {
    sim.configure({ outcomes: { pending: 1 }, resolveAfterMs: null });
    accepting = false;
    const clock = new ManualClock(Date.now());
    const code = newCode();
    await feeDue(code);
    await connector({ clock, pollDelayMs: 0 }).connector.deliver(await streamOf(code));
    const p = poller(clock);

    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      expect(await p.pollOnce()).toMatchObject({ polled: 1, stillPending: 1 });
      const item = await pending.get(PAYMENTS_TARGET, ref(code));
      delays.push(item!.dueAt - clock.now());
      clock.skew(item!.dueAt - clock.now());
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);

    const resolved = await fetch(`${simUrl}/_sim/payments/resolve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ MaThamChieu: ref(code), TrangThaiGD: 4 }),
    });
    expect(resolved.status).toBe(200);
    expect(await p.pollOnce()).toEqual({ polled: 1, appended: 1, final: 1, stillPending: 0 });
    expect((await paymentEvents(code)).map((e) => e.type)).toEqual(['vn.gov.lgsp.payment.failed.v1']);
    await sim.settled();
  });

  it('never drops an item while the platform is down, and catches up after', async () => {
    sim.configure({ resolveAfterMs: null });
    accepting = false;
    const clock = new ManualClock(Date.now());
    const code = newCode();
    await feeDue(code);
    await connector({ clock, pollDelayMs: 0 }).connector.deliver(await streamOf(code));
    const p = poller(clock);

    sim.faults.configure(parseFaultConfig({ outage: { forMs: 60_000 } }, Date.now()));
    expect(await p.pollOnce()).toEqual({ polled: 1, appended: 0, final: 0, stillPending: 1 });
    expect(await pending.get(PAYMENTS_TARGET, ref(code))).toMatchObject({ attempts: 1 });
    expect(logs.find((l) => l.msg === 'payment poll failed, will retry')?.obj).toMatchObject({
      code: 'unavailable',
      kind: 'retriable',
    });

    sim.faults.reset();
    clock.skew(100);
    expect(await p.pollOnce()).toEqual({ polled: 1, appended: 1, final: 1, stillPending: 0 });
    await sim.settled();
  });

  it('completes an item only once its event is appended: a store failure keeps it pending', async () => {
    sim.configure({ resolveAfterMs: null });
    accepting = false;
    const clock = new ManualClock(Date.now());
    const code = newCode();
    await feeDue(code);
    await connector({ clock, pollDelayMs: 0 }).connector.deliver(await streamOf(code));
    const down: EventSink = {
      append: () => Promise.reject(new Error('event store unavailable')),
    };

    expect(await poller(clock, 100, down).pollOnce()).toEqual({
      polled: 1,
      appended: 0,
      final: 0,
      stillPending: 1,
    });
    expect(await pending.get(PAYMENTS_TARGET, ref(code))).toMatchObject({ attempts: 1 });
    expect(await paymentEvents(code)).toEqual([]);

    clock.skew(100);
    expect(await poller(clock).pollOnce()).toEqual({ polled: 1, appended: 1, final: 1, stillPending: 0 });
    expect(await paymentEvents(code)).toHaveLength(1);
    await sim.settled();
  });

  it('opens again with the same INIT a transaction the platform lost', async () => {
    sim.configure({ resolveAfterMs: null });
    accepting = false;
    const clock = new ManualClock(Date.now());
    const code = newCode();
    await feeDue(code);
    sim.faults.configure(parseFaultConfig({ dropWrites: 1, operations: ['INIT'] }, Date.now()));
    await connector({ clock, pollDelayMs: 0 }).connector.deliver(await streamOf(code));
    expect(sim.state().payments).toEqual([]);
    sim.faults.reset();
    const p = poller(clock);

    expect(await p.pollOnce()).toMatchObject({ polled: 1, stillPending: 1 });
    expect(sim.state().payments).toEqual([
      expect.objectContaining({ MaThamChieu: ref(code), SoTien: FEE, NoiDungThanhToan: expect.any(String) }),
    ]);
    clock.skew(100);
    expect(await p.pollOnce()).toEqual({ polled: 1, appended: 1, final: 1, stillPending: 0 });
    await sim.settled();
  });

  it('resumes from the pending store after a restart of the poller', async () => {
    sim.configure({ pendingPolls: { min: 1, max: 1 }, resolveAfterMs: null });
    accepting = false;
    const code = newCode();
    await feeDue(code);
    await connector({ pollDelayMs: 0 }).connector.deliver(await streamOf(code));

    const before = poller(undefined, 20);
    expect(await before.pollOnce()).toMatchObject({ polled: 1, stillPending: 1 });
    await before.stop();

    const after = poller(undefined, 20);
    after.start();
    await waitFor('the payment event', async () => (await paymentEvents(code)).length > 0);
    await after.stop();

    expect((await paymentEvents(code)).map((e) => e.type)).toEqual(['vn.gov.lgsp.payment.completed.v1']);
    expect(await pending.count(PAYMENTS_TARGET)).toBe(0);
    expect(sim.calls().byOperation.QUERY).toBe(2);
    await sim.settled();
  });

  it('creates no second transaction when the log is replayed', async () => {
    sim.configure({ outcomes: { pending: 1 }, resolveAfterMs: null });
    const code = newCode();
    await feeDue(code);
    const batch = await streamOf(code);

    await connector().connector.deliver(batch);
    const otherStore = new InMemoryPendingWorkStore();
    await connector({ pending: otherStore }).connector.deliver(batch);

    expect(sim.calls().byOperation.INIT).toBe(2);
    expect(sim.state().payments).toHaveLength(1);
    const first = (await pending.get(PAYMENTS_TARGET, ref(code)))?.payload as PendingPayment;
    const second = (await otherStore.get(PAYMENTS_TARGET, ref(code)))?.payload as PendingPayment;
    expect(second).toEqual(first);
    expect(first).toMatchObject({
      dossier: code,
      amount: FEE,
      transactionId: sim.state().payments[0]!.MaGiaoDich,
    });

    // Once the result is in the log, a replay of the old batch sends nothing at all.
    await fetch(`${simUrl}/_sim/payments/resolve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ MaThamChieu: ref(code), TrangThaiGD: 1 }),
    });
    await callbacks(1);
    expect(await paymentEvents(code)).toHaveLength(1);
    await connector({ pending: new InMemoryPendingWorkStore() }).connector.deliver(batch);
    expect(sim.calls().byOperation.INIT).toBe(2);
    expect(sim.state().payments).toHaveLength(1);
  });

  it('opens a second fee request as TT2 after the first failed', async () => {
    sim.configure({ outcomes: { failed: 1 } });
    const code = newCode();
    await feeDue(code);
    await connector().connector.deliver(await streamOf(code));
    await callbacks(1);
    sim.configure({ outcomes: { success: 1 } });
    await changeStatus(code, 6, '2025-11-24T03:00:00Z');

    await connector().connector.deliver(await streamOf(code));
    await callbacks(2);

    expect(sim.state().payments.map((p) => [p.MaThamChieu, p.TrangThaiGD])).toEqual([
      [ref(code, 1), 4],
      [ref(code, 2), 1],
    ]);
    expect(
      (await paymentEvents(code)).map((e) => [e.type, (e.data as { paymentRef: string }).paymentRef]),
    ).toEqual([
      ['vn.gov.lgsp.payment.failed.v1', ref(code, 1)],
      ['vn.gov.lgsp.payment.completed.v1', ref(code, 2)],
    ]);
  });

  it('parks the dossier when its reference was used with another amount (MaLoi 04)', async () => {
    sim.configure({ outcomes: { pending: 1 } });
    const code = newCode();
    await feeDue(code);
    await client().init({ ref: ref(code), amount: 1, requestedAt: '20251124000509' });
    const { connector: c, parking } = connector();

    const delivered = await c.deliver(await streamOf(code));

    expect(delivered.map((o) => o.status)).toEqual(['parked']);
    expect(await parking.get(PAYMENTS_TARGET, code)).toMatchObject({ kind: 'data', attempts: 1 });
    expect(await pending.count(PAYMENTS_TARGET)).toBe(0);
  });
});
