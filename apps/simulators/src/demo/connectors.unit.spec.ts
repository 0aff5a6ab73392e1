import { paymentRef as platformRef } from '#lgsp/connectors';
import { AdminUnits, type CloudEvent, type Commune } from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import { evolveDossier, type DossierView } from '#lgsp/projections';
import { BIRTH_REGISTRATION } from './catalogue.js';
import type { AppendOutcome, DemoHub, DossierSnapshot } from './hub-client.js';
import {
  CIVIL_REGISTRY_SOURCE,
  DEFAULT_MIX,
  FEE_DEADLINE_NOTE,
  PAYMENT_SOURCE,
  STATUS,
  type AwaitStep,
  type Mix,
} from './planner.js';
import type { PaymentSandbox } from './payment-sandbox.js';
import { DemoRunner, GivenClient, RunStats, type RunOptions } from './runner.js';
import { externalOutcome, waitForOutcome } from './waiting.js';

const units = AdminUnits.sample();
const communes: Commune[] = units.provinces().flatMap((p) => units.communesOf(p.code));
const NO_VARIATION: Mix = {
  ...DEFAULT_MIX,
  rejected: 0,
  supplemented: 0,
  withdrawn: 0,
  paymentRetried: 0,
  paymentAbandoned: 0,
};

/** What the external systems do through the hub's connectors, one call per read of a dossier's view. */
type ExternalSystems = (hub: FakeHub, dossierCode: string, stream: readonly StoredEvent[]) => void;

/**
 * The hub as the demo sees it: appends with the expected-version check, and the dossier view folded
 * by the hub's own `evolveDossier`. `capture` appends an event as a connector would. A read returns
 * the view as it was before the external systems acted on that read: the view lags the log.
 */
class FakeHub implements DemoHub {
  readonly streams = new Map<string, StoredEvent[]>();
  private readonly views = new Map<string, DossierView>();
  private position = 0;
  reads = 0;
  conflicts = 0;
  /** The most lifecycles seen waiting at once. */
  maxWaiting = 0;
  stats: RunStats | undefined;

  constructor(private readonly systems: ExternalSystems) {}

  createClient(): Promise<string> {
    return Promise.resolve('client-token');
  }

  append(_token: string, events: readonly CloudEvent[]): Promise<AppendOutcome> {
    for (const [i, e] of events.entries()) {
      const code = (e.data as { dossierCode: string }).dossierCode;
      if ((this.streams.get(code)?.length ?? 0) !== Number(e['expectedversion']) - i) {
        this.conflicts++;
        return Promise.resolve({ kind: 'conflict', problem: undefined });
      }
    }
    for (const e of events) this.store(e.type, e.source, e.data as { dossierCode: string }, e.time);
    return Promise.resolve({ kind: 'appended', status: 201, duplicates: 0 });
  }

  /** An event from an external system, appended without an expected version. */
  capture(type: string, source: string, data: { dossierCode: string } & Record<string, unknown>): void {
    this.store(`vn.gov.lgsp.${type}.v1`, source, data, '2025-11-23T10:00:00+07:00');
  }

  dossier(_token: string, dossierCode: string): Promise<DossierSnapshot | undefined> {
    this.reads++;
    this.maxWaiting = Math.max(this.maxWaiting, this.stats?.waiting ?? 0);
    const view = this.views.get(dossierCode);
    this.systems(this, dossierCode, this.streams.get(dossierCode) ?? []);
    return Promise.resolve(view === undefined ? undefined : structuredClone(view));
  }

  types(code: string): string[] {
    return (this.streams.get(code) ?? []).map((e) => {
      const status = (e.data as { status?: number }).status;
      return status === undefined ? e.type.split('.').slice(3, -1).join('.') : String(status);
    });
  }

  private store(type: string, source: string, data: { dossierCode: string }, time: string | undefined): void {
    const stream = this.streams.get(data.dossierCode) ?? [];
    const event = {
      id: `e${++this.position}`,
      source,
      type,
      ...(time === undefined ? {} : { time }),
      data,
      extensions: {},
      position: this.position,
      stream: `dossier-${data.dossierCode}`,
      streamVersion: stream.length + 1,
      recordedAt: new Date().toISOString(),
      hash: '',
      prevHash: '',
    } as StoredEvent;
    stream.push(event);
    this.streams.set(data.dossierCode, stream);
    this.views.set(data.dossierCode, evolveDossier(this.views.get(data.dossierCode), event));
  }
}

const where = (stream: readonly StoredEvent[]) => {
  const d = stream[0]?.data as { dossierCode: string; provinceCode: string; communeCode: string };
  return { dossierCode: d.dossierCode, provinceCode: d.provinceCode, communeCode: d.communeCode };
};
const lastStatus = (stream: readonly StoredEvent[]): number | undefined =>
  stream
    .flatMap((e) =>
      (e.data as { status?: number }).status === undefined ? [] : [(e.data as { status: number }).status],
    )
    .at(-1);

/**
 * The payment platform: `polls` reads after each fee request, the n-th payment of a dossier ends as
 * `outcomes[n-1]` (`never`: it stays pending).
 */
function payments(outcomes: ('paid' | 'failed' | 'never')[], polls = 2): ExternalSystems {
  const seen = new Map<string, number>();
  return (hub, code, stream) => {
    const last = stream.at(-1);
    if (last === undefined || (last.data as { status?: number }).status !== STATUS.feeDue) return;
    const reads = (seen.get(`${code}@${stream.length}`) ?? 0) + 1;
    seen.set(`${code}@${stream.length}`, reads);
    if (reads < polls) return;
    const n = stream.filter((e) => (e.data as { status?: number }).status === STATUS.feeDue).length;
    const outcome = outcomes[Math.min(n, outcomes.length) - 1];
    const paymentRef = platformRef(code, n);
    if (outcome === 'paid') {
      hub.capture('payment.completed', PAYMENT_SOURCE, {
        ...where(stream),
        paymentRef,
        transactionId: `T${n}`,
        amount: 1000,
        paidAt: '2025-11-23T10:00:00+07:00',
        bankCode: 'VCB',
      });
    } else if (outcome === 'failed') {
      hub.capture('payment.failed', PAYMENT_SOURCE, {
        ...where(stream),
        paymentRef,
        failedAt: '2025-11-23T10:00:00+07:00',
        reason: 'Tài khoản không đủ số dư',
      });
    }
  };
}

/**
 * The civil registry: once a birth dossier is in processing, each read moves it one step along
 * `plan` (statuses the hub appends, and `registered` for civil-status.registered).
 */
function registry(plan: (number | 'registered')[]): ExternalSystems {
  const done = new Map<string, number>();
  return (hub, code, stream) => {
    if (!stream.some((e) => (e.data as { status?: number }).status === STATUS.processing)) return;
    const step = done.get(code) ?? 0;
    const next = plan[step];
    if (next === undefined) return;
    done.set(code, step + 1);
    if (next === 'registered') {
      hub.capture('civil-status.registered', CIVIL_REGISTRY_SOURCE, {
        ...where(stream),
        registrationType: 'birth',
        registrationNumber: '42/2025',
        registeredAt: '2025-11-23T10:00:00+07:00',
        person: {
          fullName: 'Nguyễn Văn An',
          sex: 'male',
          dateOfBirth: '2025-11-01',
          idNumber: '001225000001',
        },
      });
    } else {
      hub.capture('dossier.status-changed', CIVIL_REGISTRY_SOURCE, {
        ...where(stream),
        status: next,
        previousStatus: lastStatus(stream) ?? STATUS.processing,
        changedAt: '2025-11-23T10:00:00+07:00',
        handler: { name: 'Hệ thống hộ tịch' },
      });
    }
  };
}

function options(overrides: Partial<RunOptions>): RunOptions {
  return {
    count: 1,
    durationMs: Infinity,
    rate: 0,
    eventRate: 0,
    concurrency: 4,
    stepDelayMs: 0,
    mode: 'structured',
    batchSize: 10,
    mix: NO_VARIATION,
    seed: 'connectors',
    connectors: true,
    paymentAttempts: 3,
    waitTimeoutMs: 2000,
    pollMs: 1,
    paymentDeadlineMs: 30,
    ...overrides,
  };
}

/** A runner of `options` whose hub is `systems`, and a seed whose lifecycles all satisfy `fits`. */
function runner(
  systems: ExternalSystems,
  overrides: Partial<RunOptions>,
  fits: (r: DemoRunner) => boolean,
  payments?: PaymentSandbox,
) {
  const hub = new FakeHub(systems);
  for (let s = 0; s < 500; s++) {
    const stats = new RunStats();
    const r = new DemoRunner(
      hub,
      new GivenClient('t'),
      communes,
      options({ ...overrides, seed: `s${s}` }),
      stats,
      payments,
    );
    if (fits(r)) {
      hub.stats = stats;
      return { hub, runner: r, stats };
    }
  }
  throw new Error('no seed fits');
}

const withFee = (r: DemoRunner, count = 1): boolean =>
  Array.from({ length: count }, (_, i) => r.plan(i)).every((p) => p.fees.length > 0);
const birth = (r: DemoRunner): boolean => r.plan(0).procedure.code === BIRTH_REGISTRATION;

describe('demo with connectors: payments', () => {
  const nonBirth = { mix: { ...NO_VARIATION, birth: 0 } };

  it('waits until the payment is paid, then finishes and returns the dossier', async () => {
    const { hub, runner: r, stats } = runner(payments(['paid'], 3), nonBirth, withFee);
    await r.run();
    const [record] = r.dossiers;
    expect(record).toMatchObject({ finalStatus: STATUS.returned, outcomes: ['paid'] });
    expect(hub.types(record?.dossierCode ?? '')).toEqual([
      'dossier.submitted',
      '2',
      '4',
      '6',
      'payment.completed',
      '9',
      '10',
    ]);
    expect(record?.events).toBe(7);
    expect(stats).toMatchObject({ completed: 1, failed: 0, stalled: 0, waiting: 0 });
    expect(stats.outcomes.get('paid')).toBe(1);
  });

  it('requests the fee again after each failed payment and goes on once one is paid', async () => {
    const { hub, runner: r } = runner(payments(['failed', 'failed', 'paid']), nonBirth, withFee);
    await r.run();
    const [record] = r.dossiers;
    expect(record).toMatchObject({
      finalStatus: STATUS.returned,
      outcomes: ['payment-failed', 'payment-failed', 'paid'],
    });
    expect(hub.types(record?.dossierCode ?? '')).toEqual([
      'dossier.submitted',
      '2',
      '4',
      '6',
      'payment.failed',
      '6',
      'payment.failed',
      '6',
      'payment.completed',
      '9',
      '10',
    ]);
  });

  it('stops processing (8) once every fee request failed', async () => {
    const {
      hub,
      runner: r,
      stats,
    } = runner(payments(['failed']), { ...nonBirth, paymentAttempts: 2 }, withFee);
    await r.run();
    const [record] = r.dossiers;
    expect(record).toMatchObject({
      finalStatus: STATUS.stopped,
      outcomes: ['payment-failed', 'payment-failed'],
    });
    expect(hub.types(record?.dossierCode ?? '')).toEqual([
      'dossier.submitted',
      '2',
      '4',
      '6',
      'payment.failed',
      '6',
      'payment.failed',
      '8',
    ]);
    expect(stats.finalStatuses.get(STATUS.stopped)).toBe(1);
  });

  it('reports a payment that never resolves as stalled, in the stats and the progress line, and goes on', async () => {
    const {
      hub,
      runner: r,
      stats,
    } = runner(payments(['never']), { ...nonBirth, count: 2, waitTimeoutMs: 60, pollMs: 5 }, (x) =>
      withFee(x, 2),
    );
    await r.run();
    expect(stats).toMatchObject({ completed: 0, failed: 0, stalled: 2, waiting: 0 });
    expect(stats.stalledList).toHaveLength(2);
    for (const s of stats.stalledList) {
      expect(s).toMatchObject({
        waitingFor: 'payment',
        reason: 'timeout',
        status: STATUS.feeDue,
        paymentState: 'due',
      });
      expect(s.waitedMs).toBeGreaterThanOrEqual(60);
      expect(hub.types(s.dossierCode).at(-1)).toBe('6');
    }
    expect(r.dossiers.every((d) => d.stalled?.waitingFor === 'payment')).toBe(true);
    expect(stats.progressLine(2, true)).toMatch(/0 waiting on external systems · 2 stalled$/);
  });

  it('does not hold a concurrency slot while waiting: other lifecycles start meanwhile', async () => {
    const {
      hub,
      runner: r,
      stats,
    } = runner(payments(['paid'], 20), { ...nonBirth, count: 4, concurrency: 1 }, (x) => withFee(x, 4));
    await r.run();
    expect(stats.completed).toBe(4);
    expect(hub.maxWaiting).toBeGreaterThan(1);
  });

  it('ends waits at once as interrupted when the run is stopped', async () => {
    const { runner: r, stats } = runner(payments(['never']), { ...nonBirth, waitTimeoutMs: 60_000 }, withFee);
    const running = r.run();
    while (stats.waiting === 0) await new Promise((res) => setTimeout(res, 1));
    r.stop();
    await running;
    expect(stats.stalledList).toEqual([
      expect.objectContaining({ reason: 'interrupted', waitingFor: 'payment' }),
    ]);
  });

  it('plays lifecycles without fees or that end before a fee without waiting', async () => {
    const { hub, runner: r } = runner(payments(['never']), nonBirth, (x) => x.plan(0).fees.length === 0);
    await r.run();
    expect(r.dossiers[0]).toMatchObject({ finalStatus: STATUS.returned, outcomes: [] });
    expect(hub.reads).toBe(0);
  });
});

describe('demo with connectors: abandoned payments', () => {
  const abandoning = { mix: { ...NO_VARIATION, birth: 0, paymentAbandoned: 1 } };

  /** The payment platform simulator's sandbox: the references the demo abandoned, and when. */
  class Platform implements PaymentSandbox {
    readonly abandoned: string[] = [];
    /** Events in the fake hub at each abandon: the fee request must come after. */
    readonly eventsBefore: number[] = [];
    hub: FakeHub | undefined;
    abandon(ref: string): Promise<void> {
      this.abandoned.push(ref);
      this.eventsBefore.push([...(this.hub?.streams.values() ?? [])].reduce((n, st) => n + st.length, 0));
      return Promise.resolve();
    }
  }
  /** `systems`, except that a payment the demo abandoned stays pending, as the simulator leaves it. */
  const honouring =
    (platform: Platform, systems: ExternalSystems): ExternalSystems =>
    (hub, code, stream) => {
      const n = stream.filter((e) => (e.data as { status?: number }).status === STATUS.feeDue).length;
      if (!platform.abandoned.includes(platformRef(code, n))) systems(hub, code, stream);
    };
  const abandonedPlan = (r: DemoRunner, i = 0): boolean => r.plan(i).variation === 'payment-abandoned';

  it('tells the platform before the fee request, waits out the deadline, then stops processing (8): counted, not stalled', async () => {
    const platform = new Platform();
    const {
      hub,
      runner: r,
      stats,
    } = runner(honouring(platform, payments(['paid'])), abandoning, abandonedPlan, platform);
    platform.hub = hub;
    const started = Date.now();
    await r.run();
    const [record] = r.dossiers;
    const code = record?.dossierCode ?? '';
    expect(Date.now() - started).toBeGreaterThanOrEqual(30);
    expect(platform.abandoned).toEqual([platformRef(code, 1)]);
    expect(platform.eventsBefore).toEqual([3]);
    expect(record).toMatchObject({ finalStatus: STATUS.stopped, outcomes: ['payment-abandoned'], events: 5 });
    expect(record?.stalled).toBeUndefined();
    expect(hub.types(code)).toEqual(['dossier.submitted', '2', '4', '6', '8']);
    expect(hub.streams.get(code)?.at(-1)?.data).toMatchObject({
      status: STATUS.stopped,
      previousStatus: STATUS.feeDue,
      note: FEE_DEADLINE_NOTE,
    });
    expect(stats).toMatchObject({ completed: 1, failed: 0, stalled: 0, waiting: 0 });
    expect(stats.variations.get('payment-abandoned')).toBe(1);
    expect(stats.outcomes.get('payment-abandoned')).toBe(1);
    expect(stats.finalStatuses.get(STATUS.stopped)).toBe(1);
  });

  it('still reports a payment no system decides as stalled, beside the abandoned ones', async () => {
    const platform = new Platform();
    const mixed = { mix: { ...NO_VARIATION, birth: 0, paymentAbandoned: 0.5 } };
    const fits = (x: DemoRunner) =>
      withFee(x, 4) &&
      [0, 1, 2, 3].some((i) => abandonedPlan(x, i)) &&
      [0, 1, 2, 3].some((i) => !abandonedPlan(x, i));
    const { runner: r, stats } = runner(
      honouring(platform, payments(['never'])),
      { ...mixed, count: 4, waitTimeoutMs: 60, pollMs: 5 },
      fits,
      platform,
    );
    await r.run();
    const abandoned = [0, 1, 2, 3].filter((i) => abandonedPlan(r, i)).length;
    expect(stats).toMatchObject({ completed: abandoned, failed: 0, stalled: 4 - abandoned });
    expect(stats.outcomes.get('payment-abandoned')).toBe(abandoned);
    expect(stats.stalledList.every((x) => x.variation === 'completed' && x.waitingFor === 'payment')).toBe(
      true,
    );
    expect(platform.abandoned).toHaveLength(abandoned);
  });

  it('fails the lifecycle when the platform settles a payment its citizen abandoned', async () => {
    const platform = new Platform();
    const { runner: r, stats } = runner(payments(['paid']), abandoning, abandonedPlan, platform);
    await r.run();
    expect(stats).toMatchObject({ completed: 0, failed: 1, stalled: 0 });
    expect(stats.failures[0]).toMatch(/settled payment [0-9A-Za-z]+ \(paid\) that its citizen abandoned/);
  });

  it('fails the lifecycle when there is no payment platform to tell', async () => {
    const { runner: r, stats } = runner(payments(['paid']), abandoning, abandonedPlan);
    await r.run();
    expect(stats.failures[0]).toMatch(/no payment platform to abandon a payment on/);
  });
});

describe('demo with connectors: birth registrations', () => {
  const births = { mix: { ...NO_VARIATION, birth: 1 } };

  it('waits through the registry asking for documents until it finishes the dossier, then returns it', async () => {
    const { hub, runner: r, stats } = runner(registry([5, 4, 'registered', 9]), births, birth);
    await r.run();
    const [record] = r.dossiers;
    expect(record).toMatchObject({ finalStatus: STATUS.returned, outcomes: ['registry-finished'] });
    expect(hub.types(record?.dossierCode ?? '')).toEqual([
      'dossier.submitted',
      '2',
      '4',
      '5',
      '4',
      'civil-status.registered',
      '9',
      '10',
    ]);
    expect(stats.births).toBe(1);
  });

  it('reads the view again when the registry appended after the view the demo waited on', async () => {
    // status 9 first: the view that shows it does not hold the registration appended right after
    const { hub, runner: r } = runner(registry([9, 'registered']), births, birth);
    await r.run();
    const [record] = r.dossiers;
    expect(record?.finalStatus).toBe(STATUS.returned);
    expect(hub.conflicts).toBe(1);
    expect(hub.types(record?.dossierCode ?? '')).toEqual([
      'dossier.submitted',
      '2',
      '4',
      '9',
      'civil-status.registered',
      '10',
    ]);
  });

  it('stops when the registry rejects the registration', async () => {
    const { hub, runner: r, stats } = runner(registry([3]), births, birth);
    await r.run();
    expect(r.dossiers[0]).toMatchObject({ finalStatus: STATUS.rejected, outcomes: ['registry-rejected'] });
    expect(hub.types(r.dossiers[0]?.dossierCode ?? '')).toEqual(['dossier.submitted', '2', '4', '3']);
    expect(stats.finalStatuses.get(STATUS.rejected)).toBe(1);
  });

  it('reports a registry that never answers as stalled', async () => {
    const { runner: r, stats } = runner(registry([5]), { ...births, waitTimeoutMs: 40, pollMs: 5 }, birth);
    await r.run();
    expect(stats.stalledList).toEqual([
      expect.objectContaining({
        waitingFor: 'civil-registry',
        reason: 'timeout',
        status: STATUS.documentsRequested,
      }),
    ]);
  });

  it('puts whole segments in one batch, never across a wait', async () => {
    const { hub, runner: r } = runner(registry([9]), { ...births, mode: 'batch', batchSize: 10 }, birth);
    await r.run();
    expect(hub.types(r.dossiers[0]?.dossierCode ?? '')).toEqual(['dossier.submitted', '2', '4', '9', '10']);
  });
});

describe('externalOutcome', () => {
  const view = (over: Partial<DossierSnapshot>): DossierSnapshot => ({
    dossierCode: 'D',
    status: STATUS.feeDue,
    payment: { state: 'due', amountDue: 1000, amountPaid: 0 },
    streamVersion: 6,
    ...over,
  });
  const pay: AwaitStep = { kind: 'await-payment', attempt: 2, ifFailed: [] };

  it('trusts no view that has not applied the demo’s last event', () => {
    // the failure of the previous fee request, before the view applied the new request
    expect(
      externalOutcome(
        pay,
        view({ payment: { state: 'failed', amountDue: 1, amountPaid: 0 }, streamVersion: 5 }),
        6,
      ),
    ).toBeUndefined();
    expect(externalOutcome(pay, view({ payment: { state: 'failed', amountDue: 1, amountPaid: 0 } }), 6)).toBe(
      'payment-failed',
    );
    expect(
      externalOutcome(
        pay,
        view({ payment: { state: 'paid', amountDue: 1, amountPaid: 1 }, streamVersion: 7 }),
        6,
      ),
    ).toBe('paid');
    expect(externalOutcome(pay, view({}), 6)).toBeUndefined();
  });

  it('reads the registry’s decision from the status', () => {
    const reg = { kind: 'await-civil-registry' } as const;
    expect(externalOutcome(reg, view({ status: STATUS.documentsRequested }), 6)).toBeUndefined();
    expect(externalOutcome(reg, view({ status: STATUS.finished }), 6)).toBe('registry-finished');
    expect(externalOutcome(reg, view({ status: STATUS.rejected }), 6)).toBe('registry-rejected');
  });

  it('counts reads until the decision, and treats a missing view as not yet decided', async () => {
    let reads = 0;
    const hub = {
      dossier: (): Promise<DossierSnapshot | undefined> => {
        reads++;
        if (reads < 3) return Promise.resolve(undefined);
        return Promise.resolve(
          view({ payment: { state: reads < 5 ? 'due' : 'paid', amountDue: 1, amountPaid: 1 } }),
        );
      },
    };
    const result = await waitForOutcome(hub, 't', 'D', pay, 6, { timeoutMs: 1000, pollMs: 1 });
    expect(result).toMatchObject({ kind: 'decided', outcome: 'paid', polls: 5 });
  });
});
