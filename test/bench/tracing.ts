/**
 * The cost of tracing on HTTP ingest (issue 17: "HTTP ingest with tracing off stays within 5% of the run
 * without the instrumentation packages loaded; with tracing on, to a local receiver, the cost is
 * reported"). The hub is started as a process, as in the ingest bench of `run.ts`, in three modes:
 * - `absent`: `LGSP_TRACING_LOAD_API=false`, the hub never loads `@opentelemetry/api` (nor the SDK), the
 *   baseline;
 * - `off`: the default, spans are `@opentelemetry/api` calls without an SDK;
 * - `on`: `OTEL_TRACES_EXPORTER=otlp` to a local OTLP/HTTP receiver (test/support/otlp-receiver.ts).
 * Several rounds, the order rotating per round so that a machine's drift weighs on every mode; each
 * measurement gets a fresh hub on an empty data folder, driven by autocannon: single events at 50
 * connections, and batches of 100 at 8 connections. Run alone: `node dist/test/bench/tracing.js`
 * (BENCH_SECONDS, BENCH_TRACING_ROUNDS).
 */
import { randomUUID } from 'node:crypto';
import { statusChanged, submitted } from '../support/events.js';
import { createCommuneClient, startHubProcess, waitForSubscribers } from '../support/hub-process.js';
import { OtlpReceiver } from '../support/otlp-receiver.js';
import { benchLine, httpIngest, runIfMain, type BenchTable, type HttpIngestResult } from './bench-common.js';

const ROUNDS = Number(process.env.BENCH_TRACING_ROUNDS ?? 2);

type TracingMode = 'absent' | 'off' | 'on';
const MODES: readonly TracingMode[] = ['absent', 'off', 'on'];

interface Shape {
  title: string;
  key: string;
  batch: number;
  connections: number;
}

/** The ingest bench's events with fresh ids and dossier codes, spliced from a JSON template. */
function bodyFactory(batch: number): () => string {
  const events = Array.from({ length: batch }, (_, i) =>
    i % 2 === 0 ? submitted('@@CODE@@', { id: '@@ID@@' }) : statusChanged('@@CODE@@', 2, { id: '@@ID@@' }),
  );
  const parts = JSON.stringify(batch === 1 ? events[0] : events).split(/(@@(?:ID|CODE)@@)/);
  const run = randomUUID().slice(0, 8);
  let n = 0;
  return () => {
    let body = '';
    let current = 0;
    for (const part of parts) {
      if (part === '@@ID@@') {
        current = ++n;
        body += `${run}-${current}`;
      } else if (part === '@@CODE@@') body += `BENCH-${run}-${current}`;
      else body += part;
    }
    return body;
  };
}

const ENV: Record<TracingMode, (endpoint: string) => Record<string, string>> = {
  absent: () => ({ LGSP_TRACING_LOAD_API: 'false' }),
  off: () => ({}),
  on: (endpoint) => ({
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  }),
};

/** One measurement on a fresh hub in `mode`. */
async function measure(
  mode: TracingMode,
  shape: Shape,
  seconds: number,
  endpoint: string,
): Promise<HttpIngestResult> {
  const hub = await startHubProcess({ env: ENV[mode](endpoint) });
  try {
    const token = await createCommuneClient(hub, 'bench', '21040', ['--rate-limit', '1000000']);
    await httpIngest(hub.url, token, shape, 2, bodyFactory(shape.batch)); // warm-up, discarded
    await waitForSubscribers(hub.url, hub.adminToken);
    const result = await httpIngest(hub.url, token, shape, seconds, bodyFactory(shape.batch));
    await waitForSubscribers(hub.url, hub.adminToken);
    return result;
  } catch (err) {
    throw new Error(`tracing ${mode}: ${String(err)}\n${hub.output().slice(-3000)}`, { cause: err });
  } finally {
    await hub.discard();
  }
}

/** Hub measurements the tracing part makes with the settings of this run (each `seconds` long). */
export function tracingMeasurements(): number {
  return 2 * MODES.length * ROUNDS;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/**
 * Events/s in each mode over all rounds, and the ratios to the baseline without `@opentelemetry/api`:
 * `tracingOff…Ratio` (goal ≥ 0.95) and `tracingOn…Ratio` (reported), with `tracingSpansExported`.
 */
export async function tracingBench(seconds: number): Promise<Record<string, number>> {
  const shapes: Shape[] = [
    { title: 'single events, 50 connections', key: 'Single', batch: 1, connections: 50 },
    { title: 'batches of 100, 8 connections', key: 'Batch', batch: 100, connections: 8 },
  ];
  const receiver = new OtlpReceiver(false);
  const endpoint = await receiver.start();
  console.log(
    `\nTracing on HTTP ingest: absent (@opentelemetry/api not loaded), off (the default), on (OTLP/HTTP to a local receiver), ${ROUNDS} round(s)`,
  );
  const figures: Record<string, number> = {};
  try {
    for (const shape of shapes) {
      const runs: Record<TracingMode, HttpIngestResult[]> = { absent: [], off: [], on: [] };
      for (let round = 0; round < ROUNDS; round++) {
        // absent, off, on; off, on, absent; on, absent, off; …
        const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]!);
        for (const mode of order) {
          const r = await measure(mode, shape, seconds, endpoint);
          runs[mode].push(r);
          console.log(
            `  ${shape.title}, round ${round + 1}, tracing ${mode.padEnd(6)}: ${fmt(r.eventsPerSecond)} events/s, p99 ${r.p99} ms${r.errors > 0 ? `, ${r.errors} errors` : ''}`,
          );
        }
      }
      const rate = (mode: TracingMode) => mean(runs[mode].map((r) => r.eventsPerSecond));
      const p99 = (mode: TracingMode) => Math.round(mean(runs[mode].map((r) => r.p99)));
      for (const mode of MODES)
        figures[`tracing${mode[0]!.toUpperCase()}${mode.slice(1)}${shape.key}`] = rate(mode);
      figures[`tracingOff${shape.key}Ratio`] = rate('off') / rate('absent');
      figures[`tracingOn${shape.key}Ratio`] = rate('on') / rate('absent');
      console.log(
        `${`HTTP ingest, ${shape.title}`.padEnd(46)} absent ${fmt(rate('absent'))} events/s (p99 ${p99('absent')} ms), ` +
          `off ${fmt(rate('off'))} (p99 ${p99('off')} ms): ${(rate('off') / rate('absent')).toFixed(3)}× (goal ≥ 0.95), ` +
          `on ${fmt(rate('on'))} (p99 ${p99('on')} ms): ${(rate('on') / rate('absent')).toFixed(3)}×`,
      );
    }
  } finally {
    await receiver.stop();
  }
  figures.tracingSpansExported = receiver.count;
  return figures;
}

/** Tracing off (goal ≥ 0.95×) and on (reported) against the hub without `@opentelemetry/api`. */
export function tracingTables(figures: Record<string, number>): BenchTable[] {
  const lines = [
    ['Single', 'single events, 50 connections'],
    ['Batch', 'batches of 100, 8 connections'],
  ].flatMap(([key, title]) => {
    const absent = { label: 'tracing absent (API not loaded)', figure: figures[`tracingAbsent${key}`] };
    return [
      benchLine(`HTTP ingest, tracing off, ${title}`, figures[`tracingOff${key}`], 'events/s', absent, {
        ratio: { min: 0.95 },
      }),
      benchLine(`HTTP ingest, tracing on, ${title}`, figures[`tracingOn${key}`], 'events/s', absent),
    ];
  });
  return [{ benchmark: 'tracing on HTTP ingest', lines }];
}

runIfMain(import.meta.url, () => tracingBench(Number(process.env.BENCH_SECONDS ?? 10)), tracingTables);
