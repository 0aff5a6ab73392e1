/**
 * Connector sync figures for `npm run bench`: for each outbound connector, the dossiers per second it
 * brings into its target's simulator, beside a raw HTTP baseline to the same simulator in the same run.
 *
 * Each target's simulator runs in this process with no latency and no faults (on port 0), so the
 * figures are the connector's own cost per dossier: reading and folding the dossier's stream, mapping,
 * the gate (parking check, breaker), the client's answer checks, its pending work. No rate limiter:
 * the hub's limiter caps every target at a configured rate, which is a setting, not a cost.
 *
 * - Baseline: the same HTTP requests the connector makes for those dossiers, built beforehand with the
 *   connector's own mapping (untimed), sent with `fetch` straight to the simulator, 8 dossiers at a
 *   time (the connector's concurrency), each dossier's requests in order.
 * - Connector: `deliver` over the global log of a SQLite event store, read in pages of the connector's
 *   `batchSize` as the subscription runner reads it (without the runner's checkpoint writes). Parking
 *   and pending work live in the store's database, as in the hub.
 *
 * Dossiers come in rounds of `BENCH_CONNECTOR_CHUNK` (default 400) new dossiers of 5 events each,
 * appended to the log one dossier after the other before the round (so each dossier's lifecycle falls
 * in one batch of 100 and the connector sends each dossier once, as the baseline does). In each round
 * both sides send the round's dossiers to a reset simulator (`POST /_sim/reset`), taking turns on who
 * goes first, until the two have been timed 2 × `seconds` together (the faster side's share is the
 * smaller one; both send the same dossiers). After every timed run the simulator's
 * `GET /_sim/state` must hold every dossier of the round in its final state, and its call count must
 * be the baseline's: a run that fails, or makes other calls than the baseline, is reported as such.
 *
 * Then a replay of `BENCH_REPLAY_DOSSIERS` (default 2,000) dossiers to the one-stop-shop through
 * `ReplayService`, against the target's ceiling: the same requests sent raw (see `measureReplay`).
 *
 * Run alone: `node dist/test/bench/connectors.js` (`BENCH_SECONDS`, default 5 s per side and target on average).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type StoredEvent } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import {
  CIVIL_REGISTRY_PATHS,
  CircuitBreaker,
  CivilRegistryClient,
  DVCLT_PATHS,
  DvcltClient,
  interlinkedCodeRequest,
  CivilRegistryConnector,
  OneStopShopClient,
  OneStopShopSyncConnector,
  PaymentClient,
  PaymentConnector,
  PortalClient,
  PortalSyncConnector,
  ProcedureCatalogue,
  PORTAL_PROGRESS_CHUNK,
  ONE_STOP_SHOP_PROGRESS_CHUNK,
  SqlParkingStore,
  SqlPendingWorkStore,
  oneStopShopFacts,
  openFeeRequests,
  portalFacts,
  paymentReceipt,
  dossierOfPaymentRef,
  toCivilRegistryRequest,
  toOneStopShopDossier,
  toOneStopShopProgress,
  toPortalDossier,
  toPortalProcedure,
  toPortalProgress,
  type DossierState,
  type DossierSyncConnector,
  type DossierSyncSettings,
} from '#lgsp/connectors';
import {
  CivilRegistrySimulator,
  DEFAULT_PROCEDURES,
  InterlinkedServicesSimulator,
  NationalPortalSimulator,
  OneStopShopSimulator,
  PaymentPlatformSimulator,
  type Simulator,
} from '#lgsp/simulators';
import { ReplayService, SqlReplayStore, connectorReplayTarget } from '#lgsp/replay';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { statusChanged, submitted } from '../support/events.js';
import { tempDir } from '../support/hub-process.js';
import {
  appendable,
  benchLine,
  notMeasuredLine,
  REPLAY_GOAL,
  runIfMain,
  type BenchTable,
} from './bench-common.js';

/** The procedure of the benchmark's dossiers (birth registration) as the portal's catalogue has it. */
const BIRTH = toPortalProcedure(DEFAULT_PROCEDURES.find((p) => p.MATTHC === '1.001193'))!;

/** The connectors' default concurrency (DossierSyncSettings.concurrency), used by the baseline too. */
const CONCURRENCY = 8;
const CHUNK = Math.max(1, Number(process.env.BENCH_CONNECTOR_CHUNK ?? 400));
const AGENCY = '000.00.51.H56';
const PAYMENT_SECRET = 'bench-secret';
const PAYMENT_PARTNER = 'H51';
const FEE = 50_000;

// ---------------------------------------------------------------------------------------------
// Targets

/** One HTTP request as the connector's client sends it. */
interface RawRequest {
  method: 'GET' | 'POST' | 'PUT';
  /** Another system's base URL than the target's (the civil registry's DVCLT). */
  url?: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

/** A running simulator of one target, and what a benchmark of its connector needs to know. */
interface Bench {
  url: string;
  sim: Simulator;
  /** The connector, new (its client holds no session nor known codes). */
  connector(settings: DossierSyncSettings, pending: SqlPendingWorkStore): DossierSyncConnector;
  /** Other systems the connector calls (the civil registry's DVCLT): reset, counted and stopped with `sim`. */
  others?: Simulator[];
  /** Untimed set-up of a baseline run on a reset simulator, e.g. the portal's login. */
  prepare?(): Promise<void>;
  /** The requests the connector makes for a dossier in `state`, in order. */
  requests(state: DossierState): RawRequest[];
  /** How many of `codes` the simulator's `/_sim/state` holds as the lifecycle leaves them. */
  held(state: unknown, codes: ReadonlySet<string>): number;
}

interface Target {
  name: string;
  /** The CloudEvents of one dossier's lifecycle, in order (5 of them, see CHUNK). */
  lifecycle(code: string): Record<string, unknown>[];
  start(): Promise<Bench>;
}

/** A status change at `at` (the catalogue builder's changedAt is one fixed time for all). */
function status(code: string, s: number, at: string): Record<string, unknown> {
  const e = statusChanged(code, s);
  return { ...e, time: at, data: { ...(e.data as Record<string, unknown>), changedAt: at } };
}

/** Received, accepted, processing, processed, result returned: what portal and shop sync whole. */
const fullLifecycle = (code: string, extra: Record<string, unknown> = {}) => [
  withData(submitted(code), extra),
  status(code, 2, '2025-11-23T09:30:00+07:00'),
  status(code, 4, '2025-11-23T14:00:00+07:00'),
  status(code, 9, '2025-11-25T10:00:00+07:00'),
  status(code, 10, '2025-11-26T08:30:00+07:00'),
];

function withData(e: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  return { ...e, data: { ...(e.data as Record<string, unknown>), ...extra } };
}

type Row = Record<string, unknown>;
const rows = (state: unknown, key: string): Row[] => {
  const list = (state as Record<string, unknown> | null)?.[key];
  return Array.isArray(list) ? (list as Row[]) : [];
};

const portal: Target = {
  name: 'portal',
  lifecycle: (code) => fullLifecycle(code),
  async start() {
    const sim = new NationalPortalSimulator();
    const { url } = await sim.start();
    const login = { username: 'lgsp', password: 'lgsp' };
    // The hub keeps one catalogue for the connector's life: looked up once here, cached for every round,
    // so that the rounds time the sync calls the baseline sends too.
    const catalogue = new ProcedureCatalogue({ client: new PortalClient({ baseUrl: url, ...login }) });
    await catalogue.get(BIRTH.code, 'warm-up');
    let session = '';
    const adapter = (body: Record<string, unknown>, service: string): RawRequest => ({
      method: 'POST',
      path: '/api/adapter',
      headers: JSON_HEADERS,
      body: JSON.stringify({ ...body, service, session }),
    });
    return {
      url,
      sim,
      connector: (settings) =>
        new PortalSyncConnector({
          ...settings,
          client: new PortalClient({ baseUrl: url, ...login }),
          catalogue,
        }),
      async prepare() {
        const res = await fetch(`${url}/api/login`, {
          method: 'POST',
          headers: JSON_HEADERS,
          body: JSON.stringify(login),
        });
        session = String(((await res.json()) as { session?: unknown }).session);
      },
      requests({ dossier, view, events }) {
        const facts = portalFacts(events);
        const record = toPortalDossier(view, facts, { procedure: BIRTH });
        const progress = toPortalProgress(dossier, facts);
        const out = [
          adapter({ isUpdating: false, data: [{ ...record, isUpdating: false }] }, 'DongBoHoSoMC'),
        ];
        for (let i = 0; i < progress.length; i += PORTAL_PROGRESS_CHUNK) {
          out.push(adapter({ data: progress.slice(i, i + PORTAL_PROGRESS_CHUNK) }, 'CapNhatTienDoHoSoMC'));
        }
        return out;
      },
      held: (state, codes) =>
        rows(state, 'dossiers').filter(
          (d) =>
            codes.has(String(d.MaHoSo)) &&
            d.TrangThaiHoSo === 10 &&
            Array.isArray(d.TienDo) &&
            d.TienDo.length === 4,
        ).length,
    };
  },
};

const oneStopShop: Target = {
  name: 'one-stop-shop',
  lifecycle: (code) => fullLifecycle(code),
  async start() {
    const sim = new OneStopShopSimulator();
    const { url } = await sim.start();
    return {
      url,
      sim,
      connector: (settings) =>
        new OneStopShopSyncConnector({ ...settings, client: new OneStopShopClient({ baseUrl: url }) }),
      requests(state) {
        const facts = oneStopShopFacts(state.events);
        const path = `/api/v1/ho-so/${encodeURIComponent(state.dossier)}`;
        const progress = toOneStopShopProgress(state, facts);
        const out: RawRequest[] = [
          {
            method: 'PUT',
            path,
            headers: JSON_HEADERS,
            body: JSON.stringify(toOneStopShopDossier(state, facts)),
          },
        ];
        for (let i = 0; i < progress.length; i += ONE_STOP_SHOP_PROGRESS_CHUNK) {
          const danh_sach = progress.slice(i, i + ONE_STOP_SHOP_PROGRESS_CHUNK);
          out.push({
            method: 'POST',
            path: `${path}/tien-do`,
            headers: JSON_HEADERS,
            body: JSON.stringify({ danh_sach }),
          });
        }
        return out;
      },
      held: (state, codes) =>
        rows(state, 'dossiers').filter(
          (d) =>
            codes.has(String(d.ma_ho_so)) &&
            d.trang_thai === 'DA_TRA_KET_QUA' &&
            Array.isArray(d.tien_do) &&
            d.tien_do.length === 4,
        ).length,
    };
  },
};

const civilRegistry: Target = {
  name: 'civil-registry',
  // A birth registration: the connector registers it when processing starts (status 4).
  lifecycle: (code) =>
    fullLifecycle(code, {
      civilRegistration: {
        registrationType: 'birth',
        person: { fullName: 'Nguyễn Văn An', dateOfBirth: '2025-11-20', sex: 'male' },
        placeOfBirth: 'Trạm y tế xã Bình Sơn',
        mother: { fullName: 'Nguyễn Thị Hoà', idNumber: '051190001234' },
      },
    }),
  async start() {
    const sim = new CivilRegistrySimulator();
    const { url } = await sim.start();
    // DVCLT issues the interlinked codes and takes the status reports.
    const dvclt = new InterlinkedServicesSimulator();
    const dvcltUrl = (await dvclt.start()).url;

    return {
      url,
      sim,
      others: [dvclt],
      connector: (settings, pending) =>
        new CivilRegistryConnector({
          ...settings,
          pending,
          client: new CivilRegistryClient({ baseUrl: url }),
          dvclt: { client: new DvcltClient({ baseUrl: dvcltUrl }) },
        }),
      requests(state) {
        const draft = toCivilRegistryRequest(state);
        if (draft === undefined) throw new Error(`dossier ${state.dossier} has no civilRegistration`);
        // DVCLT's code, its "received" report, NhanDKHT, its "sent to the ministry" report. The baseline
        // reports under a code of its own (answered "not found", HTTP 200): one call each, as the connector's.
        const maHoSoLT = `LT-${state.dossier}`;
        const code = interlinkedCodeRequest(state, draft);
        const report = (trangThai: number): RawRequest => ({
          method: 'POST',
          url: dvcltUrl,
          path: DVCLT_PATHS.report,
          headers: JSON_HEADERS,
          body: JSON.stringify({ maHoSoLT, trangThai, coQuanXuLy: 5, thoiGian: '20251123140000' }),
        });
        return [
          {
            method: 'POST',
            url: dvcltUrl,
            path: DVCLT_PATHS.issueCode,
            headers: JSON_HEADERS,
            body: JSON.stringify(code),
          },
          report(1),
          {
            method: 'POST',
            path: CIVIL_REGISTRY_PATHS.receive,
            headers: JSON_HEADERS,
            body: JSON.stringify({ ...draft, maHoSoLT }),
          },
          report(7),
        ];
      },
      held: (state, codes) =>
        rows(state, 'registrations').filter((r) => codes.has(String(r.maHoSoMCDT))).length,
    };
  },
};

const payments: Target = {
  name: 'payments',
  // Received, accepted, processing, documents requested, fee due: the connector opens the payment.
  lifecycle: (code) => [
    submitted(code),
    status(code, 2, '2025-11-23T09:30:00+07:00'),
    status(code, 4, '2025-11-23T14:00:00+07:00'),
    status(code, 5, '2025-11-24T08:00:00+07:00'),
    status(code, 6, '2025-11-24T10:00:00+07:00'),
  ],
  async start() {
    // Payments stay pending and no result comes by itself: no callbacks nor timers during the runs.
    const sim = new PaymentPlatformSimulator({
      config: {
        secret: PAYMENT_SECRET,
        outcomes: { success: 0, failed: 0, pending: 1 },
        resolveAfterMs: null,
      },
    });
    const { url } = await sim.start();
    return {
      url,
      sim,
      connector: (settings, pending) =>
        new PaymentConnector({
          ...settings,
          pending,
          client: new PaymentClient({ baseUrl: url, partnerCode: PAYMENT_PARTNER, secret: PAYMENT_SECRET }),
        }),
      requests(state) {
        const client = new PaymentClient({
          baseUrl: url,
          partnerCode: PAYMENT_PARTNER,
          secret: PAYMENT_SECRET,
        });
        return openFeeRequests(state).map((request) => {
          const description = `Thanh toán phí, lệ phí hồ sơ ${state.dossier}`;
          const receipt = paymentReceipt(state.dossier, state.view, state.events, description);
          const amount = state.view.payment.amountDue;
          return {
            method: 'POST',
            path: '/api/v1/thanh-toan',
            headers: JSON_HEADERS,
            // The client's own message, timed at the fee request.
            body: JSON.stringify(
              client.initMessage({
                ref: request.ref,
                amount,
                requestedAt: request.requestedAt,
                description,
                receipt,
              }),
            ),
          };
        });
      },
      held: (state, codes) =>
        rows(state, 'payments').filter(
          (p) => codes.has(dossierOfPaymentRef(String(p.MaThamChieu)) ?? '') && p.SoTien === FEE,
        ).length,
    };
  },
};

/** `BENCH_CONNECTOR_TARGETS=payments,portal` measures only those (for profiling one); every target by default. */
const ONLY_TARGETS = process.env.BENCH_CONNECTOR_TARGETS?.split(',').map((t) => t.trim());
const TARGETS: readonly Target[] = [portal, oneStopShop, civilRegistry, payments].filter(
  (t) => ONLY_TARGETS === undefined || ONLY_TARGETS.includes(t.name),
);

// ---------------------------------------------------------------------------------------------
// Measurement

/** One target's figures, or why there are none. */
export type ConnectorSyncFigures =
  | {
      /** Raw HTTP baseline, dossiers/s. */
      baseline: number;
      /** The connector, dossiers/s. */
      connector: number;
      /** connector / baseline. */
      ratio: number;
      baselineRequestsPerSecond: number;
      requestsPerDossier: number;
      dossiers: number;
    }
  | { notMeasured: string };

interface Side {
  dossiers: number;
  requests: number;
  seconds: number;
}

async function control(url: string, method: 'GET' | 'POST', path: string): Promise<unknown> {
  const res = await fetch(`${url}${path}`, { method });
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}`);
  return res.json();
}

/** Sends each dossier's requests in order, `CONCURRENCY` dossiers at a time; the seconds taken. */
async function sendRaw(url: string, perDossier: readonly RawRequest[][]): Promise<number> {
  let next = 0;
  let failed: string | undefined;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < perDossier.length) {
        for (const r of perDossier[next++]!) {
          const res = await fetch(`${r.url ?? url}${r.path}`, {
            method: r.method,
            headers: r.headers,
            ...(r.body === undefined ? {} : { body: r.body }),
          });
          await res.text();
          if (!res.ok)
            failed ??= `${r.method} ${r.path.split('/').slice(0, 4).join('/')} answered ${res.status}`;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  if (failed !== undefined) throw new Error(`baseline: ${failed}`);
  return seconds;
}

/** Delivers the log after `after` through `last`, in pages of the connector's batch size; the seconds taken. */
async function deliverLog(
  store: SqliteEventStore,
  connector: DossierSyncConnector,
  after: number,
  last: number,
): Promise<number> {
  const types = new Set<string>(connector.filter.types);
  const started = performance.now();
  for (let position = after; position < last;) {
    const page: StoredEvent[] = await store.readAll({ after: position, limit: connector.batchSize });
    const end = page.at(-1);
    if (end === undefined) throw new Error(`the log ends at ${position}, before ${last}`);
    const outcomes = await connector.deliver(page.filter((e) => types.has(e.type)));
    const notDelivered = outcomes.find((o) => o.status !== 'delivered');
    if (notDelivered !== undefined) {
      throw new Error(`connector: dossier ${notDelivered.dossier} was ${notDelivered.status}`);
    }
    position = end.position;
  }
  return (performance.now() - started) / 1000;
}

async function measureTarget(target: Target, seconds: number): Promise<ConnectorSyncFigures> {
  const dir = tempDir(`lgsp-bench-${target.name}-`);
  const store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  let bench: Bench | undefined;
  try {
    bench = await target.start();
    const { url } = bench;
    const parking = await SqlParkingStore.open(SqliteDatabase.over(store.database));
    const pending = await SqlPendingWorkStore.open(SqliteDatabase.over(store.database));
    const settings = (): DossierSyncSettings => ({
      events: store,
      parking,
      breaker: new CircuitBreaker(target.name),
      concurrency: CONCURRENCY,
    });
    const baseline: Side = { dossiers: 0, requests: 0, seconds: 0 };
    const subject: Side = { dossiers: 0, requests: 0, seconds: 0 };
    let counter = 0;
    let head = 0;

    /** The simulator holds every dossier of the round, after exactly the baseline's calls. */
    const verify = async (who: string, codes: ReadonlySet<string>, calls: number) => {
      const held = bench!.held(await control(url, 'GET', '/_sim/state'), codes);
      const made =
        ((await control(url, 'GET', '/_sim/calls')) as { total: number }).total +
        (bench!.others ?? []).reduce((n, o) => n + o.calls().total, 0);
      if (held !== codes.size)
        throw new Error(`after the ${who}, the simulator holds ${held} of ${codes.size} dossiers`);
      if (made !== calls) throw new Error(`the ${who} made ${made} calls where the baseline made ${calls}`);
    };

    // Both sides send the same dossiers; rounds go on until they have been timed 2 × `seconds` together.
    for (let round = 0; baseline.seconds + subject.seconds < 2 * seconds; round++) {
      // The round's dossiers: `<agency>-251123-<6 digits>` (the portal takes 4–6), new to this store.
      if (counter + CHUNK > 999_999) throw new Error('more than 999,999 dossiers: lower BENCH_SECONDS');
      const codes = Array.from(
        { length: CHUNK },
        () => `${AGENCY}-251123-${String(++counter).padStart(6, '0')}`,
      );
      const from = head;
      // 200 dossiers per append: one dossier's events stay together and in order in the log.
      for (let i = 0; i < codes.length; i += 200) {
        const appended = await store.append(
          codes.slice(i, i + 200).flatMap((c) => target.lifecycle(c).map(appendable)),
        );
        head = appended.at(-1)?.position ?? head;
      }
      const held = new Set(codes);
      const reader = bench.connector(settings(), pending);
      const states: DossierState[] = [];
      for (const code of codes) {
        const state = await reader.stateOf(code);
        if (state === undefined) throw new Error(`dossier ${code} has no state`);
        states.push(state);
      }
      const calls = states.reduce((n, s) => n + bench!.requests(s).length, 0);

      const runBaseline = async () => {
        await control(url, 'POST', '/_sim/reset');
        for (const other of bench!.others ?? []) other.reset();
        await bench!.prepare?.();
        // Built after `prepare` (the portal's requests carry its session), before the timing starts.
        const perDossier = states.map((s) => bench!.requests(s));
        baseline.seconds += await sendRaw(url, perDossier);
        baseline.dossiers += codes.length;
        baseline.requests += calls;
        await verify('baseline', held, calls + (bench!.prepare ? 1 : 0));
      };
      const runConnector = async () => {
        await control(url, 'POST', '/_sim/reset');
        for (const other of bench!.others ?? []) other.reset();
        const connector = bench!.connector(settings(), pending);
        subject.seconds += await deliverLog(store, connector, from, head);
        subject.dossiers += codes.length;
        // The connector's client logs in by itself where the target needs it, as the baseline's prepare.
        await verify('connector', held, calls + (bench!.prepare ? 1 : 0));
      };
      if (round % 2 === 0) {
        await runBaseline();
        await runConnector();
      } else {
        await runConnector();
        await runBaseline();
      }
    }
    const base = baseline.dossiers / baseline.seconds;
    const conn = subject.dossiers / subject.seconds;
    return {
      baseline: base,
      connector: conn,
      ratio: conn / base,
      baselineRequestsPerSecond: baseline.requests / baseline.seconds,
      requestsPerDossier: baseline.requests / baseline.dossiers,
      dossiers: subject.dossiers,
    };
  } catch (err) {
    return { notMeasured: err instanceof Error ? err.message : String(err) };
  } finally {
    await bench?.sim.stop();
    for (const other of bench?.others ?? []) await other.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Replay

/** Dossiers replayed to a target (`BENCH_REPLAY_DOSSIERS`, default 2,000, as the portal's replay). */
const REPLAY_DOSSIERS = Math.max(1, Number(process.env.BENCH_REPLAY_DOSSIERS ?? 2_000));
/**
 * The connector targets replayed here; the portal's replay is measured with the reconciliation
 * (`reconcile-replay.ts`), the same way.
 */
const REPLAY_TARGETS: readonly Target[] = [oneStopShop].filter(
  (t) => ONLY_TARGETS === undefined || ONLY_TARGETS.includes(t.name),
);

/** A replay to one target against its own ceiling, or why there is none. */
export type ConnectorReplayFigures =
  | {
      /** The replay, dossiers/s. */
      replay: number;
      /** The same calls sent raw, `CONCURRENCY` dossiers at a time, dossiers/s. */
      ceiling: number;
      /** replay / ceiling. */
      ratio: number;
      dossiers: number;
    }
  | { notMeasured: string };

/**
 * `REPLAY_DOSSIERS` dossiers in a fresh log; their connector's requests sent raw to a reset simulator
 * (the target's ceiling), then a `ReplayService` run of all of them through `connectorReplayTarget`
 * to a reset simulator, without a rate limit; the simulator must hold every dossier after each.
 */
async function measureReplay(target: Target): Promise<ConnectorReplayFigures> {
  const dir = tempDir(`lgsp-bench-replay-${target.name}-`);
  const store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  let bench: Bench | undefined;
  let service: ReplayService | undefined;
  try {
    bench = await target.start();
    const { url } = bench;
    const codes = Array.from(
      { length: REPLAY_DOSSIERS },
      (_, i) => `${AGENCY}-251123-${String(i + 1).padStart(6, '0')}`,
    );
    for (let i = 0; i < codes.length; i += 200)
      await store.append(codes.slice(i, i + 200).flatMap((c) => target.lifecycle(c).map(appendable)));
    const parking = await SqlParkingStore.open(SqliteDatabase.over(store.database));
    const pending = await SqlPendingWorkStore.open(SqliteDatabase.over(store.database));
    const settings = (): DossierSyncSettings => ({
      events: store,
      parking,
      breaker: new CircuitBreaker(target.name),
      concurrency: CONCURRENCY,
    });
    const reader = bench.connector(settings(), pending);
    const states: DossierState[] = [];
    for (const code of codes) {
      const state = await reader.stateOf(code);
      if (state === undefined) throw new Error(`dossier ${code} has no state`);
      states.push(state);
    }
    const held = new Set(codes);
    const reset = async () => {
      await control(url, 'POST', '/_sim/reset');
      for (const other of bench!.others ?? []) other.reset();
    };
    const check = async (who: string) => {
      const n = bench!.held(await control(url, 'GET', '/_sim/state'), held);
      if (n !== held.size)
        throw new Error(`after the ${who}, the simulator holds ${n} of ${held.size} dossiers`);
    };

    await reset();
    await bench.prepare?.();
    const perDossier = states.map((s) => bench!.requests(s));
    const rawSeconds = await sendRaw(url, perDossier);
    await check('raw calls');

    await reset();
    const connector = bench.connector(settings(), pending);
    const rate = 1_000_000;
    service = new ReplayService({
      store: await SqlReplayStore.open(SqliteDatabase.over(store.database)),
      targets: new Map([
        [
          connector.target,
          connectorReplayTarget(connector, {
            ratePerSecond: rate,
            callsPerItem: perDossier[0]?.length ?? 1,
            parking,
          }),
        ],
      ]),
      events: store,
      confirmAbove: REPLAY_DOSSIERS + 1,
      chunkSize: 256,
      pollMs: 20,
    });
    service.start();
    const started = performance.now();
    const { replay } = await service.run(connector.target, {}, { by: 'bench', ratePerSecond: rate });
    let run = await service.get(replay.id);
    while (run.state === 'running') {
      await new Promise((r) => setTimeout(r, 5));
      run = await service.get(replay.id);
    }
    const seconds = (performance.now() - started) / 1000;
    if (run.state !== 'completed' || run.done !== REPLAY_DOSSIERS || run.failed !== 0)
      throw new Error(
        `the replay ended ${run.state}, ${run.done} done, ${run.failed} failed: ${run.error ?? ''}`,
      );
    await check('replay');
    const ceiling = REPLAY_DOSSIERS / rawSeconds;
    const replayRate = REPLAY_DOSSIERS / seconds;
    return { replay: replayRate, ceiling, ratio: replayRate / ceiling, dossiers: REPLAY_DOSSIERS };
  } catch (err) {
    return { notMeasured: err instanceof Error ? err.message : String(err) };
  } finally {
    await service?.stop();
    await bench?.sim.stop();
    for (const other of bench?.others ?? []) await other.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/**
 * Measures every target's sync and the replays of REPLAY_TARGETS, prints them and returns
 * `{connectorSync: {<target>: figures}, connectorReplay: {<target>: figures}}`.
 */
export async function connectorsBench(seconds: number): Promise<{
  connectorSync: Record<string, ConnectorSyncFigures>;
  connectorReplay: Record<string, ConnectorReplayFigures>;
}> {
  const figures: Record<string, ConnectorSyncFigures> = {};
  for (const target of TARGETS) figures[target.name] = await measureTarget(target, seconds);
  const replays: Record<string, ConnectorReplayFigures> = {};
  for (const target of REPLAY_TARGETS) replays[target.name] = await measureReplay(target);

  console.log(
    `\nconnector sync (zero simulated latency) — simulators in-process, ${CONCURRENCY} dossiers at a time, ` +
      `rounds of ${CHUNK} dossiers × 5 events, ${2 * seconds} s timed per target (both sides, same dossiers)`,
  );
  console.log(`${'target'.padEnd(16)} ${'raw HTTP baseline'.padEnd(40)} ${'connector'.padEnd(20)} ratio`);
  for (const [name, f] of Object.entries(figures)) {
    if ('notMeasured' in f) {
      console.log(`${name.padEnd(16)} not measured: ${f.notMeasured}`);
      continue;
    }
    const base = `${fmt(f.baseline)} dossiers/s (${fmt(f.baselineRequestsPerSecond)} req/s, ${f.requestsPerDossier}/dossier)`;
    console.log(
      `${name.padEnd(16)} ${base.padEnd(40)} ${`${fmt(f.connector)} dossiers/s`.padEnd(20)} ${f.ratio.toFixed(2)}× baseline`,
    );
  }
  console.log(
    `\nreplay (${fmt(REPLAY_DOSSIERS)} dossiers × 5 events, no rate limit) against the same calls sent raw`,
  );
  for (const [name, f] of Object.entries(replays)) {
    if ('notMeasured' in f) console.log(`${name.padEnd(16)} not measured: ${f.notMeasured}`);
    else
      console.log(
        `${name.padEnd(16)} ${`raw ${fmt(f.ceiling)} dossiers/s`.padEnd(40)} ${`replay ${fmt(f.replay)} dossiers/s`.padEnd(20)} ${f.ratio.toFixed(2)}× the ceiling`,
      );
  }
  return { connectorSync: figures, connectorReplay: replays };
}

/** Connector sync goal: at least this share of the raw calls' rate, for every target. */
export const CONNECTOR_SYNC_GOAL = 0.7;

/** One line per target: the connector against the same calls sent raw, same run (goal ≥ 0.7×). */
export function connectorsTables(f: {
  connectorSync: Record<string, ConnectorSyncFigures>;
  connectorReplay: Record<string, ConnectorReplayFigures>;
}): BenchTable[] {
  const lines = Object.entries(f.connectorSync).map(([name, t]) =>
    'notMeasured' in t
      ? notMeasuredLine(
          `${name} sync`,
          'raw HTTP, the same calls',
          `≥ ${CONNECTOR_SYNC_GOAL}×`,
          t.notMeasured,
        )
      : benchLine(
          `${name} sync, ${CONCURRENCY} dossiers at a time`,
          t.connector,
          'dossiers/s',
          { label: `raw HTTP, the same calls (${t.requestsPerDossier} per dossier)`, figure: t.baseline },
          { ratio: { min: CONNECTOR_SYNC_GOAL } },
        ),
  );
  const ceiling = `raw calls, the same, ${CONCURRENCY} at a time (the target's ceiling)`;
  const replays = Object.entries(f.connectorReplay).map(([name, r]) =>
    'notMeasured' in r
      ? notMeasuredLine(`replay to ${name}`, ceiling, `≥ ${REPLAY_GOAL}×`, r.notMeasured)
      : benchLine(
          `replay to ${name}, ${r.dossiers.toLocaleString('en-US')} dossiers × 5 events`,
          r.replay,
          'dossiers/s',
          { label: ceiling, figure: r.ceiling },
          { ratio: { min: REPLAY_GOAL } },
        ),
  );
  return [
    { benchmark: 'connector sync', lines },
    { benchmark: 'connector replay', lines: replays },
  ];
}

runIfMain(import.meta.url, () => connectorsBench(Number(process.env.BENCH_SECONDS ?? 5)), connectorsTables);
