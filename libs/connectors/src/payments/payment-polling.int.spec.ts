import { parseFaultConfig } from '#lgsp/simulators';
import { ManualClock } from '../core/clock.js';
import type { EventSink } from '../core/event-sink.js';
import { SqlPendingWorkStore } from '../core/pending/sql-pending-work-store.js';
import type { PendingPayment } from './payment-connector.js';
import { PAYMENTS_TARGET } from './payment-mapping.js';
import {
  callbacks,
  changeStatus,
  client,
  connector,
  FEE,
  feeDue,
  logs,
  newCode,
  paymentEvents,
  pending,
  poller,
  ref,
  refuseCallbacks,
  sim,
  simUrl,
  streamOf,
  waitFor,
  feeOpenedWithoutCallbacks,
} from './payment-flow.testing.js';
import { SqliteDatabase } from '#lgsp/storage/sqlite';

describe('payments with the payment platform simulator: polling and recovery', () => {
  it('polls a payment without callback until final, with a growing delay', async () => {
    sim.configure({ pendingPolls: { min: 2, max: 2 }, resolveAfterMs: null });
    const clock = new ManualClock(Date.now());
    // the callback that the final QUERY triggers is lost
    const code = await feeOpenedWithoutCallbacks(clock, {});
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

  it('marks the result polled for a payment a replay opened with causedbyreplay=<replay id>', async () => {
    sim.configure({ pendingPolls: { min: 0, max: 0 }, resolveAfterMs: null });
    refuseCallbacks();
    const code = newCode();
    await feeDue(code);
    expect((await connector({ pollDelayMs: 0 }).connector.replay(code, 'rp-poll'))?.status).toBe('delivered');
    expect(await poller().pollOnce()).toMatchObject({ polled: 1, appended: 1, final: 1 });
    expect((await paymentEvents(code)).map((e) => [e.type, e.extensions.causedbyreplay])).toEqual([
      ['vn.gov.lgsp.payment.completed.v1', 'rp-poll'],
    ]);
    await sim.settled();
  });

  it('keeps polling a payment pending again and again, at most maxPollDelayMs apart, until it fails', async () => {
    sim.configure({ outcomes: { pending: 1 }, resolveAfterMs: null });
    const clock = new ManualClock(Date.now());
    const code = await feeOpenedWithoutCallbacks(clock);
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
    const clock = new ManualClock(Date.now());
    const code = await feeOpenedWithoutCallbacks(clock);
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
    const clock = new ManualClock(Date.now());
    const code = await feeOpenedWithoutCallbacks(clock);
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
    refuseCallbacks();
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
      expect.objectContaining({
        MaThamChieu: ref(code),
        SoTien: FEE,
        ThongTinGiaoDich: expect.any(String),
        ThongTinBienLai: expect.objectContaining({ MaHoSo: code }),
      }),
    ]);
    clock.skew(100);
    expect(await p.pollOnce()).toEqual({ polled: 1, appended: 1, final: 1, stillPending: 0 });
    await sim.settled();
  });

  it('resumes from the pending store after a restart of the poller', async () => {
    sim.configure({ pendingPolls: { min: 1, max: 1 }, resolveAfterMs: null });
    const code = await feeOpenedWithoutCallbacks(undefined);

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
    const otherStore = await SqlPendingWorkStore.open(SqliteDatabase.open(':memory:'));
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
    await connector({
      pending: await SqlPendingWorkStore.open(SqliteDatabase.open(':memory:')),
    }).connector.deliver(batch);
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
    await client().init({
      ref: ref(code),
      amount: 1,
      requestedAt: '20251124000509',
      receipt: { MaHoSo: code },
    });
    const { connector: c, parking } = connector();

    const delivered = await c.deliver(await streamOf(code));

    expect(delivered.map((o) => o.status)).toEqual(['parked']);
    expect(await parking.get(PAYMENTS_TARGET, code)).toMatchObject({ kind: 'data', attempts: 1 });
    expect(await pending.count(PAYMENTS_TARGET)).toBe(0);
  });
});
