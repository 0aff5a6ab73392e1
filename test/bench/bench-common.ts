import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import type { EventToAppend } from '#lgsp/event-store';
import { COMMUNE, PROVINCE } from '../support/events.js';

/** An event of `test/support/events` (a dossier of the test commune) as the store's append takes it. */
export function appendable(e: Record<string, unknown>): EventToAppend {
  const data = e.data as { dossierCode: string };
  return {
    stream: `dossier-${data.dossierCode}`,
    expectedVersion: 'any',
    id: String(e.id),
    source: String(e.source),
    type: String(e.type),
    time: String(e.time),
    data: e.data,
    extensions: {},
    provinceCode: PROVINCE,
    communeCode: COMMUNE,
  };
}

/**
 * Runs `bench` when the module at `moduleUrl` is the process's entry point (not imported by
 * `run.ts`), printing its tables (`tables` of its figures) and its figures as one JSON line; a
 * failure exits 1.
 */
export function runIfMain<F>(
  moduleUrl: string,
  bench: () => Promise<F>,
  tables?: (figures: F) => BenchTable[],
): void {
  if (process.argv[1] === undefined || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  bench()
    .then((figures) => {
      for (const table of tables?.(figures) ?? []) console.log(`\n${textTable(table)}`);
      console.log(`\n${JSON.stringify(figures)}`);
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}

/** What one load of `POST /v1/events` achieved. */
export interface HttpIngestResult {
  /** Events acknowledged (2xx) in the timed load. */
  events: number;
  eventsPerSecond: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** Answers other than 2xx, errors and time-outs. */
  errors: number;
}

/**
 * Loads the hub's `POST /v1/events` for `seconds` with autocannon: `connections` connections, each
 * request a body from `nextBody` (a single CloudEvent, or a batch of `batch` when `batch` > 1).
 */
export async function httpIngest(
  url: string,
  token: string,
  shape: { batch: number; connections: number },
  seconds: number,
  nextBody: () => string,
): Promise<HttpIngestResult> {
  const { batch, connections } = shape;
  const result = await autocannon({
    url: `${url}/v1/events`,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': batch === 1 ? 'application/cloudevents+json' : 'application/cloudevents-batch+json',
        },
        setupRequest: (req) => ({ ...req, body: nextBody() }),
      },
    ],
  });
  const ok = result['2xx'];
  return {
    events: ok * batch,
    eventsPerSecond: (ok * batch) / (result.duration || seconds),
    requestsPerSecond: ok / (result.duration || seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
  };
}

// ---------------------------------------------------------------------------------------------
// The suite's tables: one per benchmark, every line a figure, its baseline from the same run, the
// ratio and the goal (`npm run bench` prints them and writes them to bench-results/latest.json).

/** A goal on a line's ratio (figure / baseline): at least `min`, or at most `max`. */
export type RatioGoal = { min: number } | { max: number };

/** One line of a benchmark's table. */
export interface BenchLine {
  measurement: string;
  /** The figure, in `unit`; null when it was not measured (then `note` says why). */
  figure: number | null;
  unit: string;
  /** What the figure is compared with: a measurement of the same run. */
  baseline: string;
  baselineFigure: number | null;
  /** figure / baselineFigure. */
  ratio: number | null;
  /** The goal in words, e.g. "≥ 0.8× raw", or "reported" when there is none. */
  goal: string;
  /** The goal on the ratio, when the ratio has one. */
  ratioGoal?: RatioGoal;
  /** Whether the goal is met: null without a goal, or when not measured. */
  met: boolean | null;
  /** Why it was not measured, or what else to know about the line. */
  note?: string;
}

export interface BenchTable {
  benchmark: string;
  lines: BenchLine[];
}

/**
 * Replay goal, for every target: at least this share of the target's own ceiling (the same calls
 * sent raw at the same concurrency, measured in the same run).
 */
export const REPLAY_GOAL = 0.8;

/** Why a figure or a baseline is missing from a line. */
export const NOT_MEASURED = 'not measured in this revision';

/**
 * A line comparing `figure` with `baseline`; `ratioGoal` decides `met` (and the goal in words unless
 * `goal` says it otherwise, e.g. a latency goal that is not a ratio).
 */
export function benchLine(
  measurement: string,
  figure: number | null | undefined,
  unit: string,
  baseline: { label: string; figure: number | null | undefined },
  goal: { ratio?: RatioGoal; text?: string; met?: boolean } = {},
  note?: string,
): BenchLine {
  const value = figure ?? null;
  const base = baseline.figure ?? null;
  const ratio = value !== null && base !== null && base !== 0 ? value / base : null;
  const ratioGoal = goal.ratio;
  const text =
    goal.text ??
    (ratioGoal === undefined
      ? 'reported'
      : 'min' in ratioGoal
        ? `≥ ${ratioGoal.min}×`
        : `≤ ${ratioGoal.max}×`);
  let met: boolean | null = null;
  if (goal.met !== undefined) met = value === null ? null : goal.met;
  else if (ratioGoal !== undefined && ratio !== null)
    met = 'min' in ratioGoal ? ratio >= ratioGoal.min : ratio <= ratioGoal.max;
  return {
    measurement,
    figure: value,
    unit,
    baseline: baseline.label,
    baselineFigure: base,
    ratio,
    goal: text,
    ...(ratioGoal === undefined ? {} : { ratioGoal }),
    met,
    ...(note === undefined ? {} : { note }),
  };
}

/** A baseline line: the figure compared with itself (ratio 1), so that every line has both. */
export function baselineLine(
  measurement: string,
  figure: number | null | undefined,
  unit: string,
): BenchLine {
  return benchLine(measurement, figure, unit, { label: 'itself (baseline)', figure });
}

/** A line whose figure could not be measured, with the reason. */
export function notMeasuredLine(measurement: string, baseline: string, goal: string, why: string): BenchLine {
  return {
    ...benchLine(measurement, null, '', { label: baseline, figure: null }, { text: goal }),
    note: why,
  };
}

/**
 * CPU time a process has used so far, user and system, all its threads, in µs: from
 * `/proc/<pid>/stat` (fields 14 and 15, in the kernel's USER_HZ ticks, 100 per second on Linux), so
 * 10 ms steps. Undefined where there is no such file (not Linux, the process gone).
 */
export function processCpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10_000 : undefined;
  } catch {
    return undefined;
  }
}

export function formatFigure(n: number | null, unit = ''): string {
  if (n === null || !Number.isFinite(n)) return '—';
  const digits = Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2;
  const s = n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return unit === '' ? s : `${s} ${unit}`;
}

const verdict = (met: boolean | null): string => (met === null ? '—' : met ? 'met' : 'NOT met');

/** The table's cells, one row per line: measurement, figure, baseline, ratio, goal, met. */
export function tableRows(table: BenchTable): string[][] {
  return table.lines.map((l) => [
    l.measurement,
    l.figure === null
      ? (l.note ?? NOT_MEASURED)
      : formatFigure(l.figure, l.unit) + (l.note === undefined ? '' : ` (${l.note})`),
    l.baselineFigure === null ? l.baseline : `${l.baseline}: ${formatFigure(l.baselineFigure, l.unit)}`,
    l.ratio === null ? '—' : `${l.ratio.toFixed(2)}×`,
    l.goal,
    verdict(l.met),
  ]);
}

export const TABLE_HEADER = ['measurement', 'figure', 'baseline (same run)', 'ratio', 'goal', 'met'];

/** The table as aligned plain text, for the console. */
export function textTable(table: BenchTable): string {
  const rows = [TABLE_HEADER, ...tableRows(table)];
  const widths = TABLE_HEADER.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const text = rows.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  return [`── ${table.benchmark} ──`, ...text].join('\n');
}

/** The table as a markdown table (for BENCHMARKS.md). */
export function markdownTable(table: BenchTable): string {
  const escape = (s: string) => s.replaceAll('|', '\\|');
  const rows = [TABLE_HEADER, TABLE_HEADER.map(() => '---'), ...tableRows(table)];
  return rows.map((r) => `| ${r.map(escape).join(' | ')} |`).join('\n');
}
