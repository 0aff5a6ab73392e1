/**
 * The cost of sealing personal data (issue 16: "HTTP ingest with encryption on stays at ≥ 0.8× the same
 * run without it"). The hub is started as a process, as in the ingest bench of `run.ts`, with
 * `LGSP_PRIVACY_ENABLED=true` and `false` in turn, several rounds, the order alternating per round
 * (on, off; off, on; …) so that a machine's drift weighs on both. Each measurement gets a fresh hub on
 * an empty data folder and is driven over HTTP by autocannon: single events at 50 connections, and
 * batches of 100 at 8 connections.
 *
 * The events (see {@link Mix}): the ingest bench's own, dossiers living their lives, a new applicant in
 * every dossier, or birth registrations (four data subjects each); batches mix submissions half and
 * half with `dossier.status-changed`, which carry no personal data.
 *
 * A control runs the same turns with privacy off in both: on this shared 2-core machine two identical
 * hubs measured one after the other differ by up to ±15%, and its ratio says how much in this run (a
 * line's distance from 1 means something only beyond it). Run alone: `node dist/test/bench/privacy.js`
 * (BENCH_SECONDS, BENCH_PRIVACY_ROUNDS, BENCH_PRIVACY_MODES).
 */
import { randomUUID } from 'node:crypto';
import { statusChanged, submitted } from '../support/events.js';
import { createCommuneClient, startHubProcess, waitForSubscribers } from '../support/hub-process.js';
import {
  benchLine,
  httpIngest,
  processCpuMicros,
  runIfMain,
  type BenchTable,
  type HttpIngestResult,
} from './bench-common.js';

const ROUNDS = Number(process.env.BENCH_PRIVACY_ROUNDS ?? 2);
/**
 * `BENCH_PRIVACY_MODES=privacySingleRatio,…` measures only those (the keys of the figures), `all` every
 * one; by default the four of BENCHMARKS.md's table and the control, to keep `npm run bench` within its
 * time budget.
 */
const MODES_ENV = process.env.BENCH_PRIVACY_MODES?.split(',').map((m) => m.trim());
const MODES =
  MODES_ENV?.includes('all') === true
    ? undefined
    : (MODES_ENV ?? [
        'privacyIngestSingleRatio',
        'privacyIngestBatchRatio',
        'privacyDossiersRatio',
        'privacySingleRatio',
        'privacyControlRatio',
      ]);

/**
 * The dossiers a measurement submits: `ingest`, the ingest bench's events as they are (every dossier
 * submitted by the same applicant); `lifecycle`, the same with a new applicant in every dossier; birth
 * registrations (four persons each); or
 * `dossiers`: dossiers living their lives, one request in 5 submitting a new dossier with a new
 * applicant and the other 4 changing the status of one submitted some 500 requests before.
 */
type Mix = 'ingest' | 'lifecycle' | 'births' | 'dossiers';

/** A dossier submitted, its applicant a new person (citizen ID `<id>1`). */
function applicantDossier(code: string, id: string): Record<string, unknown> {
  const event = submitted(code, { id: '@@ID@@' });
  const data = event.data as Record<string, unknown>;
  return { ...event, data: { ...data, applicant: { fullName: 'Nguyễn Thị Hoà', idNumber: `${id}1` } } };
}

/** A birth registration's dossier: its applicant (the mother) and the child, the mother, the father. */
function birthRegistration(code: string, id: string): Record<string, unknown> {
  const event = submitted(code, { id: '@@ID@@' });
  const data = event.data as Record<string, unknown>;
  return {
    ...event,
    data: {
      ...data,
      applicant: { fullName: 'Nguyễn Thị Hoà', idNumber: `${id}1`, phone: '0912345678' },
      civilRegistration: {
        registrationType: 'birth',
        person: { fullName: 'Trần Minh Khang', dateOfBirth: '2025-11-20', sex: 'male' },
        placeOfBirth: 'Trạm y tế xã Bình Sơn, Quảng Ngãi',
        mother: { fullName: 'Nguyễn Thị Hoà', idNumber: `${id}1` },
        father: { fullName: 'Trần Văn Dũng', idNumber: `${id}2` },
      },
    },
  };
}

/**
 * Request bodies spliced from a JSON template: fresh event ids, dossier codes and citizen IDs (each
 * dossier's persons are new data subjects), so that the load generator stays cheap. Single events are
 * all submissions; a batch alternates submissions and status changes, as in the ingest bench.
 */
function bodyFactory(mix: Mix, batch: number): () => string {
  if (mix === 'dossiers') return dossierLives();
  const dossier =
    mix === 'births'
      ? birthRegistration
      : mix === 'ingest'
        ? (code: string) => submitted(code, { id: '@@ID@@' })
        : applicantDossier;
  const events = Array.from({ length: batch }, (_, i) =>
    i % 2 === 0 ? dossier('@@CODE@@', '@@PID@@') : statusChanged('@@CODE@@', 2, { id: '@@ID@@' }),
  );
  const parts = JSON.stringify(batch === 1 ? events[0] : events).split(/(@@(?:ID|CODE|PID)@@)/);
  const run = randomUUID().slice(0, 8);
  // 11 digits, then the template's last digit: 12-digit citizen IDs, new ones in every dossier.
  const base = 10_000_000_000 + Math.floor(Math.random() * 1e8) * 10;
  let n = 0;
  return () => {
    let body = '';
    let current = 0;
    for (const part of parts) {
      if (part === '@@ID@@') {
        // Each event has its id before its dossier code: a new id starts the event's dossier.
        current = ++n;
        body += `${run}-${current}`;
      } else if (part === '@@CODE@@') body += `BENCH-${run}-${current}`;
      else if (part === '@@PID@@') body += String(base + current);
      else body += part;
    }
    return body;
  };
}

/** Single events of the `dossiers` mix (see {@link Mix}). */
function dossierLives(): () => string {
  const submission = JSON.stringify(applicantDossier('@@CODE@@', '@@PID@@')).split(/(@@(?:ID|CODE|PID)@@)/);
  const change = JSON.stringify(statusChanged('@@CODE@@', 4, { id: '@@ID@@' })).split(
    /(@@(?:ID|CODE|PID)@@)/,
  );
  const run = randomUUID().slice(0, 8);
  const base = 10_000_000_000 + Math.floor(Math.random() * 1e8) * 10;
  let n = 0;
  const fill = (parts: readonly string[], dossier: number, id: number) =>
    parts
      .map((part) =>
        part === '@@ID@@'
          ? `${run}-e${id}`
          : part === '@@CODE@@'
            ? `BENCH-${run}-${dossier}`
            : part === '@@PID@@'
              ? String(base + dossier)
              : part,
      )
      .join('');
  return () => {
    const i = n++;
    const dossier = Math.floor(i / 5);
    return i % 5 === 0 || dossier < 100 ? fill(submission, i, i) : fill(change, (dossier - 100) * 5, i);
  };
}

interface Mode {
  mix: Mix;
  batch: number;
  connections: number;
  /**
   * The control: privacy off in both turns, so that the "on" turns differ from the "off" turns only by
   * when they ran. Its ratio is this run's noise (how far apart two identical hubs measure here).
   */
  control?: boolean;
}

/**
 * What one measurement gives: the load's figures, and the hub process's CPU time (user and system, all
 * threads, `processCpuMicros`) from the end of the warm-up's work to the end of the measured events'
 * (the subscribers caught up both times), in µs; undefined where Linux's /proc does not tell it.
 */
interface Measured extends HttpIngestResult {
  cpuMicros: number | undefined;
}

/** One measurement on a fresh hub (an empty data folder) with privacy on or off (off for the control). */
async function measure(privacy: boolean, mode: Mode, seconds: number): Promise<Measured> {
  // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each hub process there.
  const profileDir = process.env.BENCH_CPU_PROF;
  const hub = await startHubProcess({
    env: { LGSP_PRIVACY_ENABLED: String(privacy && mode.control !== true) },
    ...(profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
  });
  try {
    const token = await createCommuneClient(hub, 'bench', '21040', ['--rate-limit', '1000000']);
    await httpIngest(hub.url, token, mode, 2, bodyFactory(mode.mix, mode.batch)); // warm-up, discarded
    await waitForSubscribers(hub.url, hub.adminToken);
    const cpuBefore = processCpuMicros(hub.child.pid);
    const result = await httpIngest(hub.url, token, mode, seconds, bodyFactory(mode.mix, mode.batch));
    await waitForSubscribers(hub.url, hub.adminToken);
    const cpuAfter = processCpuMicros(hub.child.pid);
    const cpuMicros = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
    return { ...result, cpuMicros };
  } catch (err) {
    throw new Error(`privacy ${privacy}: ${String(err)}\n${hub.output().slice(-3000)}`, { cause: err });
  } finally {
    await hub.discard();
  }
}

/** What is measured, each with privacy on and off; births (four data subjects each) without a goal. */
const MODES_MEASURED = [
  {
    title: "the ingest bench's events, single",
    key: 'privacyIngestSingleRatio',
    mix: 'ingest',
    batch: 1,
    connections: 50,
  },
  {
    title: "the ingest bench's events, batches",
    key: 'privacyIngestBatchRatio',
    mix: 'ingest',
    batch: 100,
    connections: 8,
  },
  {
    title: 'dossiers living, 1 in 5 a new applicant',
    key: 'privacyDossiersRatio',
    mix: 'dossiers',
    batch: 1,
    connections: 50,
  },
  {
    title: 'a new applicant in every event, single, 50 connections',
    key: 'privacySingleRatio',
    mix: 'lifecycle',
    batch: 1,
    connections: 50,
  },
  {
    title: 'a new applicant in every event, single, 50 connections',
    key: 'privacyControlRatio',
    mix: 'lifecycle',
    batch: 1,
    connections: 50,
    control: true,
  },
  {
    title: 'a new applicant in every dossier, batches of 100, 8 connections',
    key: 'privacyBatchRatio',
    mix: 'lifecycle',
    batch: 100,
    connections: 8,
  },
  {
    title: 'births, single events, 50 conn.',
    key: 'privacyBirthsSingleRatio',
    mix: 'births',
    batch: 1,
    connections: 50,
  },
  {
    title: 'births, batches of 100, 8 conn.',
    key: 'privacyBirthsBatchRatio',
    mix: 'births',
    batch: 100,
    connections: 8,
  },
] satisfies (Mode & { title: string; key: string })[];

/** Hub measurements the privacy part makes with the settings of this run (each `seconds` long). */
export function privacyMeasurements(): number {
  return MODES_MEASURED.filter((m) => MODES === undefined || MODES.includes(m.key)).length * ROUNDS * 2;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
/** The prefix of a mode's figures: its key without `Ratio` (`privacySingle` → `privacySingleOn`, …). */
const figureKey = (mode: { key: string }): string => mode.key.replace(/Ratio$/, '');

/** The hub's CPU time per event over `runs`; undefined when a run has no reading (or no events). */
function cpuPerEvent(runs: readonly Measured[]): number | undefined {
  const events = sum(runs.map((r) => r.events));
  if (events === 0 || runs.some((r) => r.cpuMicros === undefined)) return undefined;
  return sum(runs.map((r) => r.cpuMicros ?? 0)) / events;
}

/**
 * Events/s with privacy on and off over all rounds, and their ratio (the goal, ≥ 0.8):
 * `privacyIngest…` on the ingest bench's own events (every dossier submitted by the same applicant),
 * `privacyDossiersRatio` on dossiers living their lives, `privacySingleRatio` and `privacyBatchRatio`
 * with a new applicant in every dossier; `privacyBirths…` on birth registrations (four subjects per
 * dossier, for information); `privacyControlRatio`, privacy off in both turns: the ratio two identical
 * hubs get in this run (no goal), against which the others' distance from 1 reads.
 */
export async function privacyBench(seconds: number): Promise<Record<string, number>> {
  const chosen = MODES_MEASURED.filter((m) => MODES === undefined || MODES.includes(m.key));
  console.log(
    `\nPersonal data sealed (LGSP_PRIVACY_ENABLED true against false), HTTP ingest, ${ROUNDS} rounds of each`,
  );
  const figures: Record<string, number> = {};
  for (const mode of chosen) {
    const runs: Record<'on' | 'off', Measured[]> = { on: [], off: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const privacy of round % 2 === 0 ? [true, false] : [false, true]) {
        const r = await measure(privacy, mode, seconds);
        runs[privacy ? 'on' : 'off'].push(r);
        const turn = mode.control ? (privacy ? 'off (the turn of on)' : 'off') : privacy ? 'on ' : 'off';
        console.log(
          `  ${titleOf(mode)}, round ${round + 1}, privacy ${turn}: ${fmt(r.eventsPerSecond)} events/s, p50 ${r.p50} ms, p99 ${r.p99} ms`,
        );
      }
    }
    const on = runs.on.map((r) => r.eventsPerSecond);
    const off = runs.off.map((r) => r.eventsPerSecond);
    const errors = sum([...runs.on, ...runs.off].map((r) => r.errors));
    const ratio = sum(on) / sum(off);
    const k = figureKey(mode);
    figures[mode.key] = ratio;
    figures[`${k}On`] = sum(on) / on.length;
    figures[`${k}Off`] = sum(off) / off.length;
    console.log(
      `${`HTTP ingest, ${titleOf(mode)}`.padEnd(50)} on ${fmt(sum(on) / on.length)} events/s, off ${fmt(sum(off) / off.length)} events/s: ` +
        `${ratio.toFixed(2)}×${hasGoal(mode) ? ' (goal ≥ 0.8)' : ''}${errors > 0 ? `, ${errors} non-2xx or errors` : ''}`,
    );
    const cpuOn = cpuPerEvent(runs.on);
    const cpuOff = cpuPerEvent(runs.off);
    if (cpuOn !== undefined && cpuOff !== undefined) {
      figures[`${k}CpuOn`] = cpuOn;
      figures[`${k}CpuOff`] = cpuOff;
      console.log(
        `${'  the hub, CPU per event (all threads)'.padEnd(50)} on ${cpuOn.toFixed(0)} µs, off ${cpuOff.toFixed(0)} µs: ` +
          `${cpuOn >= cpuOff ? '+' : ''}${(cpuOn - cpuOff).toFixed(0)} µs an event${mode.control ? '' : ' sealed'}`,
      );
    }
  }
  return figures;
}

/** Goal ≥ 0.8× for every mode but births (for information) and the control (this run's noise). */
function hasGoal(mode: Mode): boolean {
  return mode.mix !== 'births' && mode.control !== true;
}

/** The mode's title; the control's says that both its turns ran without privacy. */
function titleOf(mode: Mode & { title: string }): string {
  return mode.control ? `control, privacy off in both turns, ${mode.title}` : mode.title;
}

/** One line per mode measured: privacy on against off in the same run (goal ≥ 0.8× but for births). */
export function privacyTables(figures: Record<string, number>): BenchTable[] {
  const measured = MODES_MEASURED.filter((m) => figures[m.key] !== undefined);
  const lines = measured.map((m) =>
    benchLine(
      m.control ? `HTTP ingest, ${titleOf(m)} (this run's noise)` : `HTTP ingest, privacy on, ${m.title}`,
      figures[`${figureKey(m)}On`],
      'events/s',
      {
        label: m.control ? 'the same, the other turns' : 'privacy off',
        figure: figures[`${figureKey(m)}Off`],
      },
      hasGoal(m) ? { ratio: { min: 0.8 } } : {},
    ),
  );
  // What the ratios come from: the hub's CPU time per event (where /proc tells it), on against off.
  const cpuLines = measured
    .filter((m) => figures[`${figureKey(m)}CpuOn`] !== undefined)
    .map((m) =>
      benchLine(
        m.control
          ? `the hub's CPU per event (all threads), ${titleOf(m)}`
          : `the hub's CPU per event (all threads), privacy on, ${m.title}`,
        figures[`${figureKey(m)}CpuOn`],
        'µs',
        {
          label: m.control ? 'the same, the other turns' : 'privacy off',
          figure: figures[`${figureKey(m)}CpuOff`],
        },
      ),
    );
  return [{ benchmark: 'personal data sealed (privacy)', lines: [...lines, ...cpuLines] }];
}

runIfMain(import.meta.url, () => privacyBench(Number(process.env.BENCH_SECONDS ?? 10)), privacyTables);
