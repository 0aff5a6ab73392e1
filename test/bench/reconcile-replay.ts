/**
 * Reconciliation and replay figures for `npm run bench` (issue 6's goals), measured in one run.
 *
 * - Reconciliation: a SQLite event store of `BENCH_RECONCILE_DOSSIERS` (default 100,000) dossiers,
 *   each submitted then accepted (status 2), and an in-process portal simulator holding the same
 *   dossiers as the portal connector sends them (its own mapping, `DongBoHoSoMC` in batches and
 *   `CapNhatTienDoHoSoMC`, loaded untimed). Timed: `expectedDossiers(store, {})` and then
 *   `PortalReconciler.reconcile` over the portal's bulk export through `PortalClient`, as
 *   ReconciliationService runs them (goal < 60 s). Any mismatch means the set-up is wrong, and the
 *   figure is then reported as not measured.
 * - Replay: a store of `BENCH_REPLAY_DOSSIERS` (default 2,000) dossiers of 5 events each. Raw: every
 *   event of the log read with `store.readAll` in pages of 1,000 (events/s). Replay: `ReplayService`
 *   running a replay of all of them to the portal through `connectorReplayTarget` over a
 *   `PortalSyncConnector`, to a fresh simulator with no latency and a rate far above what is reached
 *   (events of the replayed dossiers / seconds from `run` to completion). Goal ≥ 0.5× raw.
 *
 * Run alone: `node dist/test/bench/reconcile-replay.js`.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type EventToAppend } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import {
  CircuitBreaker,
  PORTAL_PROGRESS_CHUNK,
  PortalClient,
  PortalSyncConnector,
  SqlParkingStore,
  portalFacts,
  toPortalDossier,
  toPortalProcedure,
  toPortalProgress,
  PortalReconciler,
} from '#lgsp/connectors';
import { systemClock } from '#lgsp/observability';
import { expectedDossiers, type ReconcileContext } from '#lgsp/reconciliation';
import { ReplayService, SqlReplayStore, connectorReplayTarget } from '#lgsp/replay';
import { DEFAULT_PROCEDURES, NationalPortalSimulator } from '#lgsp/simulators';
import { statusChanged, submitted } from '../support/events.js';
import { tempDir } from '../support/hub-process.js';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import {
  appendable,
  baselineLine,
  benchLine,
  notMeasuredLine,
  REPLAY_GOAL,
  runIfMain,
  type BenchTable,
} from './bench-common.js';

/** The procedure of the benchmark's dossiers (birth registration) as the portal's catalogue has it. */
const BIRTH = toPortalProcedure(DEFAULT_PROCEDURES.find((p) => p.MATTHC === '1.001193'))!;

const RECONCILE_DOSSIERS = Math.max(1, Number(process.env.BENCH_RECONCILE_DOSSIERS ?? 100_000));
const REPLAY_DOSSIERS = Math.max(1, Number(process.env.BENCH_REPLAY_DOSSIERS ?? 2_000));
const AGENCY = '000.00.51.H56';
const LOGIN = { username: 'lgsp', password: 'lgsp' };
/** Dossiers per `DongBoHoSoMC` call when loading the simulator (untimed). */
const LOAD_BATCH = 1000;
const RAW_PAGE = 1000;
/** Dossiers the portal connector sends at once (DossierSyncSettings.concurrency), and the baseline too. */
const CONCURRENCY = 8;

export type ReconcileFigures =
  { seconds: number; dossiersPerSecond: number; dossiers: number; goalSeconds: 60 } | { notMeasured: string };

export type ReplayFigures =
  | {
      rawEventsPerSecond: number;
      replayEventsPerSecond: number;
      replayDossiersPerSecond: number;
      ratio: number;
      /** The same portal requests sent straight with fetch, 8 dossiers at a time, no hub. */
      rawHttpEventsPerSecond: number;
      /** Replay rate / raw HTTP rate: what the hub's replay costs above the target's own API. */
      httpRatio: number;
      dossiers: number;
      events: number;
      callsPerDossier: number;
    }
  | { notMeasured: string };

const code = (i: number): string => `${AGENCY}-251123-${String(i).padStart(6, '0')}`;

/** A status change at `at` (the builder's changedAt is one fixed time for all). */
function status(dossier: string, s: number, at: string): Record<string, unknown> {
  const e = statusChanged(dossier, s);
  return { ...e, time: at, data: { ...(e.data as Record<string, unknown>), changedAt: at } };
}

/** Appends `count` dossiers' lifecycles in batches of about 10,000 events. */
async function fill(
  store: SqliteEventStore,
  count: number,
  lifecycle: (dossier: string) => Record<string, unknown>[],
): Promise<number> {
  let batch: EventToAppend[] = [];
  let events = 0;
  for (let i = 1; i <= count; i++) {
    for (const e of lifecycle(code(i))) batch.push(appendable(e));
    if (batch.length >= 10_000 || i === count) {
      await store.append(batch);
      events += batch.length;
      batch = [];
    }
  }
  return events;
}

async function portalCall(url: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/api/adapter`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as Record<string, unknown>;
  if (!res.ok || answer.error_code !== 0)
    throw new Error(`${String(body.service)} answered ${res.status} ${String(answer.message)}`);
  return answer;
}

async function login(url: string): Promise<string> {
  const res = await fetch(`${url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(LOGIN),
  });
  return String(((await res.json()) as { session?: unknown }).session);
}

/** The portal calls the connector makes for each dossier of `store`: one DongBoHoSoMC, then its progress. */
async function portalRequests(store: SqliteEventStore): Promise<Record<string, unknown>[][]> {
  const { dossiers } = await expectedDossiers(store, {});
  const perDossier: Record<string, unknown>[][] = [];
  for (const { dossier, view, events } of dossiers.values()) {
    const facts = portalFacts(events);
    const calls: Record<string, unknown>[] = [
      {
        service: 'DongBoHoSoMC',
        isUpdating: false,
        data: [{ ...toPortalDossier(view, facts, { procedure: BIRTH }), isUpdating: false }],
      },
    ];
    const list = toPortalProgress(dossier, facts) as unknown as Record<string, unknown>[];
    for (let i = 0; i < list.length; i += PORTAL_PROGRESS_CHUNK)
      calls.push({ service: 'CapNhatTienDoHoSoMC', data: list.slice(i, i + PORTAL_PROGRESS_CHUNK) });
    perDossier.push(calls);
  }
  return perDossier;
}

/**
 * The target's own ceiling: the connector's requests for every dossier, built beforehand (untimed),
 * sent straight to a reset simulator with fetch, `CONCURRENCY` dossiers at a time (each dossier's in
 * order, as the connector sends them). Returns the seconds taken.
 */
async function rawPortalSeconds(
  url: string,
  perDossier: readonly Record<string, unknown>[][],
): Promise<number> {
  const reset = await fetch(`${url}/_sim/reset`, { method: 'POST' });
  if (!reset.ok) throw new Error(`POST /_sim/reset answered ${reset.status}`);
  const session = await login(url);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < perDossier.length)
        for (const call of perDossier[next++]!) await portalCall(url, { ...call, session });
    }),
  );
  return (performance.now() - started) / 1000;
}

/** Loads the portal simulator with what the portal connector would have sent for every dossier of `store`. */
async function loadPortal(url: string, store: SqliteEventStore): Promise<void> {
  const session = await login(url);
  const { dossiers } = await expectedDossiers(store, {});
  const records: Record<string, unknown>[] = [];
  const progress: Record<string, unknown>[][] = [];
  for (const { dossier, view, events } of dossiers.values()) {
    const facts = portalFacts(events);
    records.push({ ...toPortalDossier(view, facts, { procedure: BIRTH }), isUpdating: false });
    const list = toPortalProgress(dossier, facts) as unknown as Record<string, unknown>[];
    for (let i = 0; i < list.length; i += PORTAL_PROGRESS_CHUNK)
      progress.push(list.slice(i, i + PORTAL_PROGRESS_CHUNK));
  }
  for (let i = 0; i < records.length; i += LOAD_BATCH) {
    const answer = await portalCall(url, {
      service: 'DongBoHoSoMC',
      session,
      isUpdating: false,
      data: records.slice(i, i + LOAD_BATCH),
    });
    const refused = (answer.result as { error_code?: unknown }[] | undefined)?.filter(
      (r) => r.error_code !== 0,
    );
    if (refused !== undefined && refused.length > 0)
      throw new Error(`the portal refused ${refused.length} dossiers`);
  }
  // Progress calls 8 at a time, each dossier's in order (one call per dossier here).
  let next = 0;
  const worker = async () => {
    while (next < progress.length) {
      const data = progress[next++]!;
      await portalCall(url, { service: 'CapNhatTienDoHoSoMC', session, data });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

async function reconcileBench(): Promise<ReconcileFigures> {
  const dir = tempDir('lgsp-bench-reconcile-');
  const store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  const sim = new NationalPortalSimulator({ sessionTtlMs: 3_600_000 });
  try {
    const { url } = await sim.start();
    await fill(store, RECONCILE_DOSSIERS, (c) => [submitted(c), status(c, 2, '2025-11-23T09:30:00+07:00')]);
    await loadPortal(url, store);

    const started = performance.now();
    const expected = await expectedDossiers(store, {});
    const reconciler = new PortalReconciler({ client: new PortalClient({ baseUrl: url, ...LOGIN }) });
    let scanned = 0;
    let compared = 0;
    const context: ReconcileContext = {
      scanned: (n) => (scanned = n),
      compared: (n) => (compared = n),
      clock: systemClock,
    };
    let mismatches = 0;
    let first: unknown;
    for await (const batch of reconciler.reconcile(expected.dossiers, {}, context)) {
      mismatches += batch.length;
      first ??= batch[0];
    }
    const seconds = (performance.now() - started) / 1000;

    if (mismatches > 0) {
      const m = first as { field?: string; category?: string } | undefined;
      return {
        notMeasured: `${mismatches} mismatches found (first: ${m?.category} on ${m?.field}): the set-up is wrong`,
      };
    }
    if (
      expected.dossiers.size !== RECONCILE_DOSSIERS ||
      scanned !== RECONCILE_DOSSIERS ||
      compared !== RECONCILE_DOSSIERS
    ) {
      return {
        notMeasured: `expected ${expected.dossiers.size}, scanned ${scanned}, compared ${compared} of ${RECONCILE_DOSSIERS} dossiers`,
      };
    }
    return {
      seconds,
      dossiersPerSecond: RECONCILE_DOSSIERS / seconds,
      dossiers: RECONCILE_DOSSIERS,
      goalSeconds: 60,
    };
  } finally {
    await sim.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Received, accepted, processing, processed, result returned. */
const fullLifecycle = (c: string): Record<string, unknown>[] => [
  submitted(c),
  status(c, 2, '2025-11-23T09:30:00+07:00'),
  status(c, 4, '2025-11-23T14:00:00+07:00'),
  status(c, 9, '2025-11-25T10:00:00+07:00'),
  status(c, 10, '2025-11-26T08:30:00+07:00'),
];

/** Every event of the log read in pages, repeated until at least a second has been timed. */
async function rawReadRate(store: SqliteEventStore): Promise<number> {
  let events = 0;
  const started = performance.now();
  do {
    let after = 0;
    for (;;) {
      const page = await store.readAll({ after, limit: RAW_PAGE });
      if (page.length === 0) break;
      events += page.length;
      after = page.at(-1)!.position;
    }
  } while (performance.now() - started < 1000);
  return events / ((performance.now() - started) / 1000);
}

async function replayBench(): Promise<ReplayFigures> {
  const dir = tempDir('lgsp-bench-replay-');
  const store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  const sim = new NationalPortalSimulator({ sessionTtlMs: 3_600_000 });
  let service: ReplayService | undefined;
  try {
    const { url } = await sim.start();
    const events = await fill(store, REPLAY_DOSSIERS, fullLifecycle);
    const raw = await rawReadRate(store);

    const parking = await SqlParkingStore.open(SqliteDatabase.over(store.database));
    const connector = new PortalSyncConnector({
      events: store,
      parking,
      breaker: new CircuitBreaker('portal'),
      client: new PortalClient({ baseUrl: url, ...LOGIN }),
    });
    const rate = 1_000_000;
    service = new ReplayService({
      store: await SqlReplayStore.open(SqliteDatabase.over(store.database)),
      targets: new Map([
        ['portal', connectorReplayTarget(connector, { ratePerSecond: rate, callsPerItem: 2, parking })],
      ]),
      events: store,
      confirmAbove: REPLAY_DOSSIERS + 1,
      chunkSize: 256,
      pollMs: 20,
    });
    service.start();

    const started = performance.now();
    const { replay } = await service.run('portal', {}, { by: 'bench', ratePerSecond: rate });
    let run = await service.get(replay.id);
    while (run.state === 'running') {
      await new Promise((r) => setTimeout(r, 5));
      run = await service.get(replay.id);
    }
    const seconds = (performance.now() - started) / 1000;

    if (run.state !== 'completed' || run.done !== REPLAY_DOSSIERS || run.failed !== 0) {
      return {
        notMeasured: `the replay ended ${run.state}, ${run.done} done, ${run.failed} failed: ${run.error ?? ''}`,
      };
    }
    const state = sim.state();
    const held = state.dossiers.filter((d) => d.TrangThaiHoSo === 10 && d.TienDo.length === 4).length;
    if (held !== REPLAY_DOSSIERS) {
      return {
        notMeasured: `the portal holds ${held} of ${REPLAY_DOSSIERS} replayed dossiers in their final state`,
      };
    }
    const calls = ((await (await fetch(`${url}/_sim/calls`)).json()) as { total: number }).total;
    const replayRate = events / seconds;
    const requests = await portalRequests(store);
    const rawHttpSeconds = await rawPortalSeconds(url, requests);
    const rawHeld = sim
      .state()
      .dossiers.filter((d) => d.TrangThaiHoSo === 10 && d.TienDo.length === 4).length;
    if (rawHeld !== REPLAY_DOSSIERS)
      return {
        notMeasured: `the raw HTTP baseline left ${rawHeld} of ${REPLAY_DOSSIERS} dossiers in their final state`,
      };
    const rawHttpRate = events / rawHttpSeconds;
    return {
      rawHttpEventsPerSecond: rawHttpRate,
      httpRatio: replayRate / rawHttpRate,
      rawEventsPerSecond: raw,
      replayEventsPerSecond: replayRate,
      replayDossiersPerSecond: REPLAY_DOSSIERS / seconds,
      ratio: replayRate / raw,
      dossiers: REPLAY_DOSSIERS,
      events,
      callsPerDossier: calls / REPLAY_DOSSIERS,
    };
  } finally {
    await service?.stop();
    await sim.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Measures both, prints the lines and returns `{reconciliation, replay}`. */
export async function reconcileReplayBench(): Promise<{
  reconciliation: ReconcileFigures;
  replay: ReplayFigures;
}> {
  const reconciliation = await reconcileBench();
  const replay = await replayBench();
  console.log('\nreconciliation and replay (portal simulator in-process, zero latency)');
  if ('notMeasured' in reconciliation)
    console.log(`reconciliation scan: not measured: ${reconciliation.notMeasured}`);
  else
    console.log(
      `${`reconciliation scan, ${fmt(reconciliation.dossiers)} dossiers vs bulk export`.padEnd(50)} ` +
        `${`${reconciliation.seconds.toFixed(1)} s, ${fmt(reconciliation.dossiersPerSecond)} dossiers/s`.padEnd(52)} ` +
        `0 mismatches (goal < 60 s)`,
    );
  if ('notMeasured' in replay) console.log(`replay: not measured: ${replay.notMeasured}`);
  else {
    console.log(
      `${`raw store.readAll, pages of ${RAW_PAGE}`.padEnd(50)} ${`${fmt(replay.rawEventsPerSecond)} events/s`.padEnd(52)} baseline`,
    );
    console.log(
      `${`raw HTTP to the portal, the same calls, ${CONCURRENCY} at a time`.padEnd(50)} ` +
        `${`${fmt(replay.rawHttpEventsPerSecond)} events/s`.padEnd(52)} ` +
        `${(replay.rawHttpEventsPerSecond / replay.rawEventsPerSecond).toFixed(2)}× raw read: the target's own ceiling`,
    );
    const bound = ` (${replay.callsPerDossier.toFixed(1)} calls per dossier)`;
    console.log(
      `${`replay to portal, ${fmt(replay.dossiers)} dossiers × 5 events`.padEnd(50)} ` +
        `${`${fmt(replay.replayEventsPerSecond)} events/s (${fmt(replay.replayDossiersPerSecond)} dossiers/s)`.padEnd(52)} ` +
        `${replay.httpRatio.toFixed(2)}× the raw HTTP ceiling (goal ≥ ${REPLAY_GOAL}), ${replay.ratio.toFixed(2)}× raw read${bound}`,
    );
  }
  return { reconciliation, replay };
}

/**
 * Reconciliation against its goal's bound (no same-run baseline for a duration); the replay per target
 * against the target's own ceiling (goal ≥ 0.8×), the raw read of the log for information.
 */
export function reconcileReplayTables(f: {
  reconciliation: ReconcileFigures;
  replay: ReplayFigures;
}): BenchTable[] {
  const { reconciliation: r, replay: p } = f;
  const ceiling = `raw calls, the same, ${CONCURRENCY} at a time (the target's ceiling)`;
  const lines = [
    'notMeasured' in r
      ? notMeasuredLine('reconciliation scan vs bulk export', "the goal's bound", '< 60 s', r.notMeasured)
      : benchLine(
          `reconciliation scan, ${fmt(r.dossiers)} dossiers vs bulk export`,
          r.seconds,
          's',
          { label: "the goal's bound (no same-run baseline)", figure: r.goalSeconds },
          { ratio: { max: 1 }, text: '< 60 s' },
        ),
    ...('notMeasured' in p
      ? [notMeasuredLine('replay to the portal', ceiling, `≥ ${REPLAY_GOAL}×`, p.notMeasured)]
      : [
          baselineLine(`raw store.readAll, pages of ${RAW_PAGE}`, p.rawEventsPerSecond, 'events/s'),
          benchLine(`raw HTTP to the portal, the replay's calls`, p.rawHttpEventsPerSecond, 'events/s', {
            label: 'raw store.readAll',
            figure: p.rawEventsPerSecond,
          }),
          benchLine(
            `replay to the portal, ${fmt(p.dossiers)} dossiers × 5 events`,
            p.replayEventsPerSecond,
            'events/s',
            { label: ceiling, figure: p.rawHttpEventsPerSecond },
            { ratio: { min: REPLAY_GOAL } },
          ),
        ]),
  ];
  return [{ benchmark: 'reconciliation and replay', lines }];
}

runIfMain(import.meta.url, () => reconcileReplayBench(), reconcileReplayTables);
