/**
 * `npm run bench`: ingest throughput against the raw durable-insert rate of the same rows, measured
 * in one run on this machine (shared machines are noisy: compare the ratios, not the absolutes).
 *
 * Baselines: node:sqlite, WAL, synchronous=FULL, the same rows inserted one per transaction and in
 * transactions of 100. Subjects: the hub started as a process (`dist/apps/hub/src/main.js`), driven
 * over HTTP by autocannon with single events at 50 connections, and batches of 100.
 *
 * Rate limits: a quiet client's latency alone and beside two clients flooding reads and writes,
 * on one hub in the same run.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import autocannon from 'autocannon';
import { COMMUNE, PROVINCE, statusChanged, submitted } from '../support/events.js';
import {
  createCommuneClient,
  runCli,
  startHubProcess,
  tempDir,
  waitForSubscribers,
} from '../support/hub-process.js';
import {
  baselineLine,
  benchLine,
  httpIngest,
  textTable,
  type BenchTable,
  type HttpIngestResult,
} from './bench-common.js';
import { connectorsBench, connectorsTables } from './connectors.js';
import { kafkaBench, kafkaTables } from './kafka.js';
import { postgresBench, postgresTables } from './postgres.js';
import { privacyBench, privacyMeasurements, privacyTables } from './privacy.js';
import { reconcileReplayBench, reconcileReplayTables } from './reconcile-replay.js';
import { scopedReadsBench, scopedReadsTables } from './scoped-reads.js';
import { tracingBench, tracingMeasurements, tracingTables } from './tracing.js';
import { webhooksBench, webhooksTables } from './webhooks.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/** `BENCH_ONLY=ingest,postgres` runs only those parts (ingest, kafka, postgres, scoped-reads, connectors, reconcile-replay, webhooks, privacy, tracing). */
const ONLY = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const runs = (part: string): boolean => ONLY === undefined || ONLY.includes(part);

function row(i: number): { id: string; stream: string; data: string } {
  const code = `BENCH-${i}`;
  return { id: randomUUID(), stream: `dossier-${code}`, data: JSON.stringify(submitted(code).data) };
}

/** Raw inserts of event rows (with the store's uniqueness constraints), durable per commit. */
function rawInsertRate(perTransaction: number, seconds: number): number {
  const dir = tempDir('lgsp-bench-raw-');
  const db = new DatabaseSync(join(dir, 'raw.db'));
  // The same durability and cache settings as the store (SqliteEventStore.open defaults).
  db.exec(
    'PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456; PRAGMA wal_autocheckpoint=16384;',
  );
  db.exec(`CREATE TABLE events (
    position INTEGER PRIMARY KEY, stream TEXT NOT NULL, stream_version INTEGER NOT NULL, id TEXT NOT NULL,
    source TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, province_code TEXT, commune_code TEXT,
    recorded_at TEXT NOT NULL, UNIQUE (source, id), UNIQUE (stream, stream_version))`);
  const insert = db.prepare(
    `INSERT INTO events (stream, stream_version, id, source, type, data, province_code, commune_code, recorded_at)
     VALUES (?, 1, ?, '/bench', 'vn.gov.lgsp.dossier.submitted.v1', ?, ?, ?, ?)`,
  );
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  while (performance.now() < end) {
    db.exec('BEGIN');
    for (let i = 0; i < perTransaction; i++) {
      const r = row(n++);
      insert.run(r.stream, r.id, r.data, PROVINCE, COMMUNE, new Date().toISOString());
    }
    db.exec('COMMIT');
  }
  const rate = n / ((performance.now() - started) / 1000);
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

/**
 * Request bodies are spliced from a JSON template with fresh ids and dossier codes, so that the load
 * generator (on the other core) stays cheap and the hub is what is measured.
 */
function bodyFactory(batch: number): () => string {
  const ID = '@@ID@@';
  const CODE = '@@CODE@@';
  const events = Array.from({ length: batch }, (_, i) =>
    i % 2 === 0 ? submitted(CODE, { id: ID }) : statusChanged(CODE, 2, { id: ID }),
  );
  const parts = JSON.stringify(batch === 1 ? events[0] : events).split(/@@(?:ID|CODE)@@/);
  const run = randomUUID().slice(0, 8);
  let n = 0;
  return () => {
    let body = parts[0] ?? '';
    for (let i = 1; i < parts.length; i++) {
      // Each event has its id before its dossier code; one dossier per event keeps streams independent.
      const k = i % 2 === 1 ? ++n : n;
      body += (i % 2 === 1 ? `${run}-${k}` : `BENCH-${run}-${k}`) + (parts[i] ?? '');
    }
    return body;
  };
}

/**
 * Each HTTP measurement gets a hub of its own on an empty data folder, as each raw baseline starts
 * from an empty file: both then write the same number of rows into stores of the same size.
 */
async function measureOnFreshHub(
  batch: number,
  connections: number,
  catchUp: { events: number; seconds: number }[],
): Promise<HttpIngestResult> {
  // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each hub process there, for finding hot spots.
  const profileDir = process.env.BENCH_CPU_PROF;
  const hub = await startHubProcess(
    profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {},
  );
  try {
    // Far above the default client limit: the benchmark measures the hub, not the limiter.
    const token = await createCommuneClient(hub, 'bench', '21040', ['--rate-limit', '1000000']);
    await httpIngest(hub.url, token, { batch, connections }, 2, bodyFactory(batch)); // warm-up, discarded
    await waitForSubscribers(hub.url, hub.adminToken);
    const result = await httpIngest(hub.url, token, { batch, connections }, SECONDS, bodyFactory(batch));
    // The dossier projection shares the core; its backlog after the run is reported, not hidden.
    catchUp.push(await waitForSubscribers(hub.url, hub.adminToken));
    return result;
  } finally {
    await hub.discard();
  }
}

interface NoisyNeighbours {
  quietAlone: HttpIngestResult;
  quietUnderFlood: HttpIngestResult;
  floods: { what: string; served: number; refused: number }[];
}

/**
 * A quiet client sending 100 single events/s, first alone, then beside one client flooding reads of
 * the global log and one flooding writes (25 connections each, both held to 200 requests/s by a limit
 * of their own, `lgsp clients create --rate-limit 200`). One hub, the same run.
 */
async function noisyNeighbours(seconds: number): Promise<NoisyNeighbours> {
  const hub = await startHubProcess();
  try {
    const env = { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken };
    const limited = async (name: string): Promise<string> => {
      const args = [
        'clients',
        'create',
        '--name',
        name,
        '--communes',
        COMMUNE,
        '--rate-limit',
        '200',
        '--json',
      ];
      return (JSON.parse((await runCli(args, env)).stdout) as { token: string }).token;
    };
    const quiet = await createCommuneClient(hub, 'quiet');
    const reader = await limited('flooding-reader');
    const writer = await limited('flooding-writer');
    const ingest = (token: string, connections: number, duration: number, overallRate?: number) => {
      const nextBody = bodyFactory(1);
      return autocannon({
        url: `${hub.url}/v1/events`,
        connections,
        duration,
        ...(overallRate ? { overallRate } : {}),
        requests: [
          {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/cloudevents+json' },
            setupRequest: (req) => ({ ...req, body: nextBody() }),
          },
        ],
      });
    };
    const asResult = (r: autocannon.Result): HttpIngestResult => ({
      events: r['2xx'],
      eventsPerSecond: r['2xx'] / (r.duration || seconds),
      requestsPerSecond: r['2xx'] / (r.duration || seconds),
      p50: r.latency.p50,
      p99: r.latency.p99,
      errors: r.non2xx + r.errors + r.timeouts,
    });
    const flood = (what: string, r: autocannon.Result) => ({
      what,
      served: r['2xx'],
      refused: r.statusCodeStats?.['429']?.count ?? 0,
    });
    await ingest(quiet, 2, 2, 100); // warm-up, discarded
    const alone = await ingest(quiet, 2, seconds, 100);
    const [under, reads, writes] = await Promise.all([
      ingest(quiet, 2, seconds, 100),
      autocannon({
        url: `${hub.url}/v1/events?limit=100`,
        connections: 25,
        duration: seconds,
        headers: { authorization: `Bearer ${reader}` },
      }),
      ingest(writer, 25, seconds),
    ]);
    return {
      quietAlone: asResult(alone),
      quietUnderFlood: asResult(under),
      floods: [flood('reads of the global log', reads), flood('single-event writes', writes)],
    };
  } finally {
    await hub.discard();
  }
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** HTTP ingest against raw SQLite, then the noisy neighbours: the figures of issue 12's goals. */
async function ingestBench(): Promise<Record<string, number>> {
  const raw1 = rawInsertRate(1, SECONDS);
  const raw100 = rawInsertRate(100, SECONDS);

  const catchUp: { events: number; seconds: number }[] = [];
  const single = await measureOnFreshHub(1, 50, catchUp);
  const batched = await measureOnFreshHub(100, 8, catchUp);

  const rows: [string, string, string][] = [
    ['raw node:sqlite, 1 event per durable commit', `${fmt(raw1)} events/s`, 'baseline'],
    ['raw node:sqlite, 100 events per durable commit', `${fmt(raw100)} events/s`, 'baseline'],
    [
      'HTTP ingest, single events, 50 connections',
      `${fmt(single.eventsPerSecond)} events/s, p50 ${single.p50} ms, p99 ${single.p99} ms`,
      `${(single.eventsPerSecond / raw1).toFixed(2)}× raw 1/commit (goal ≥ 1.7, p99 < 25 ms)`,
    ],
    [
      'HTTP ingest, batches of 100, 8 connections',
      `${fmt(batched.eventsPerSecond)} events/s, p99 ${batched.p99} ms`,
      `${(batched.eventsPerSecond / raw100).toFixed(2)}× raw 100/commit (goal ≥ 0.6)`,
    ],
  ];
  for (const [what, figure, ratio] of rows) console.log(`${what.padEnd(50)} ${figure.padEnd(52)} ${ratio}`);
  const [afterSingle, afterBatch] = catchUp;
  console.log(
    `\ndossier projection catch-up after the single-event run: ${fmt(afterSingle?.events ?? 0)} events in ${(afterSingle?.seconds ?? 0).toFixed(1)} s;` +
      ` after the batch run: ${fmt(afterBatch?.events ?? 0)} events in ${(afterBatch?.seconds ?? 0).toFixed(1)} s`,
  );
  if (single.errors + batched.errors > 0)
    console.log(`\nnon-2xx responses or errors: ${single.errors + batched.errors}`);
  const neighbours = await noisyNeighbours(SECONDS);
  console.log(
    '\nRate limits: a quiet client beside two flooding ones, each flood held to 200 units/s (a page of 100 events is 10)',
  );
  const { quietAlone, quietUnderFlood } = neighbours;
  console.log(
    `${'quiet client, 100 single events/s, alone'.padEnd(50)} p50 ${quietAlone.p50} ms, p99 ${quietAlone.p99} ms` +
      ` (${quietAlone.errors} non-2xx)`,
  );
  console.log(
    `${'the same, beside the floods (25 + 25 connections)'.padEnd(50)} p50 ${quietUnderFlood.p50} ms, p99 ${quietUnderFlood.p99} ms` +
      ` (${quietUnderFlood.errors} non-2xx; goal p99 < 50 ms)`,
  );
  for (const f of neighbours.floods)
    console.log(
      `${`  flood of ${f.what}`.padEnd(50)} ${fmt(f.served)} served, ${fmt(f.refused)} answered 429`,
    );
  return {
    rawSqlite1: raw1,
    rawSqlite100: raw100,
    ingestSingle: single.eventsPerSecond,
    ingestBatch: batched.eventsPerSecond,
    ingestErrors: single.errors + batched.errors,
    singleRatio: single.eventsPerSecond / raw1,
    singleP99Ms: single.p99,
    batchRatio: batched.eventsPerSecond / raw100,
    quietP99Ms: quietAlone.p99,
    quietUnderFloodP99Ms: quietUnderFlood.p99,
  };
}

/** Single events against raw 1/commit, batches against raw 100/commit, the quiet client's p99 beside floods. */
export function ingestTables(f: Record<string, number>): BenchTable[] {
  return [
    {
      benchmark: 'HTTP ingest (SQLite)',
      lines: [
        baselineLine('raw node:sqlite, 1 event per durable commit', f.rawSqlite1, 'events/s'),
        baselineLine('raw node:sqlite, 100 events per durable commit', f.rawSqlite100, 'events/s'),
        benchLine(
          'HTTP ingest, single events, 50 connections',
          f.ingestSingle,
          'events/s',
          { label: 'raw 1 event/commit', figure: f.rawSqlite1 },
          {
            ratio: { min: 1.7 },
            text: '≥ 1.7×, p99 < 25 ms',
            met: (f.ingestSingle ?? 0) / (f.rawSqlite1 ?? 1) >= 1.7 && (f.singleP99Ms ?? Infinity) < 25,
          },
          `p99 ${f.singleP99Ms} ms`,
        ),
        benchLine(
          'HTTP ingest, batches of 100, 8 connections',
          f.ingestBatch,
          'events/s',
          { label: 'raw 100 events/commit', figure: f.rawSqlite100 },
          { ratio: { min: 0.6 } },
        ),
        benchLine(
          'quiet client 100 events/s beside two floods, p99',
          f.quietUnderFloodP99Ms,
          'ms',
          { label: 'the quiet client alone, p99', figure: f.quietP99Ms },
          { text: 'p99 < 50 ms', met: (f.quietUnderFloodP99Ms ?? Infinity) < 50 },
        ),
      ],
    },
  ];
}

/**
 * A part of the suite: its name for `BENCH_ONLY`, what it runs, how its figures become tables, and
 * how long it takes: `measurements` of BENCH_SECONDS each, plus `fixed` seconds (hubs and brokers
 * started, logs filled; measured on the project's 2-core machine with BENCH_SECONDS=2, see
 * BENCHMARKS.md) and `perMeasurement` seconds around each measurement (a fresh hub and its warm-up).
 */
interface Part {
  name: string;
  run(): Promise<object>;
  tables(figures: object): BenchTable[];
  cost: { measurements: () => number; fixed: number; perMeasurement?: number };
}

/** The seconds a part is expected to take with BENCH_SECONDS = `seconds`. */
const estimate = (p: Part, seconds: number): number =>
  p.cost.fixed + p.cost.measurements() * (seconds + (p.cost.perMeasurement ?? 0));

/** Parts in the order they run; each prints its own detail lines, then its table. */
const PARTS: Part[] = [
  // raw ×2, a hub each for single events and batches, the quiet client alone and beside the floods
  part('ingest', ingestBench, ingestTables, { measurements: () => 6, fixed: 22 }),
  // the broker's start and the relay of BENCH_RELAY_EVENTS, then the latency for BENCH_SECONDS
  part('kafka', () => kafkaBench(SECONDS), kafkaTables, { measurements: () => 1, fixed: 55 }),
  // 1×32: raw, hub, Emmett; 100×1: raw, hub, Emmett; 100×4: hub, Emmett; raw 1,000
  part('postgres', () => postgresBench(SECONDS), postgresTables, { measurements: () => 9, fixed: 5 }),
  // appends with and without the index (2 × S/2 × 2), HTTP pages for 4 tokens; the 100,000-event logs
  part('scoped-reads', () => scopedReadsBench(SECONDS), scopedReadsTables, {
    measurements: () => 6,
    fixed: 61,
  }),
  // 4 targets × (raw + connector), at least BENCH_SECONDS each; then the one-stop-shop's replay of
  // BENCH_REPLAY_DOSSIERS and its raw ceiling
  part('connectors', () => connectorsBench(SECONDS), connectorsTables, {
    measurements: () => 8,
    fixed: 40,
  }),
  // a fixed amount of work: 100,000 dossiers reconciled, 2,000 replayed
  part('reconcile-replay', reconcileReplayBench, reconcileReplayTables, {
    measurements: () => 0,
    fixed: 60,
  }),
  // fan-out: 2 rounds × 2 sides of 100,000 deliveries; latency: 2 + BENCH_WEBHOOK_LATENCY_SECONDS
  part('webhooks', webhooksBench, webhooksTables, { measurements: () => 0, fixed: 75 }),
  part('privacy', () => privacyBench(SECONDS), privacyTables, {
    measurements: privacyMeasurements,
    fixed: 0,
    perMeasurement: 7,
  }),
  part('tracing', () => tracingBench(SECONDS), tracingTables, {
    measurements: tracingMeasurements,
    fixed: 0,
    perMeasurement: 7,
  }),
];

function part<F extends object>(
  name: string,
  run: () => Promise<F>,
  tables: (f: F) => BenchTable[],
  cost: Part['cost'],
): Part {
  return { name, run, tables: (f) => tables(f as F), cost };
}

/** The machine the figures come from, written beside them. */
function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    host: os.hostname(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverageAtStart: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
}

async function main(): Promise<void> {
  const started = new Date();
  const t0 = performance.now();
  const chosen = PARTS.filter((q) => runs(q.name));
  const expected = chosen.reduce((sum, p) => sum + estimate(p, SECONDS), 0);
  console.log(
    `lgsp-hub benchmarks (${SECONDS} s per measurement, node ${process.version}); ` +
      `expected about ${(expected / 60).toFixed(1)} min: ` +
      chosen.map((p) => `${p.name} ${estimate(p, SECONDS).toFixed(0)} s`).join(', ') +
      '\n',
  );
  const results: {
    part: string;
    seconds: number;
    expectedSeconds: number;
    tables: BenchTable[];
    figures: object;
  }[] = [];
  let figures: Record<string, unknown> = {};
  for (const p of chosen) {
    const t = performance.now();
    const f = await p.run();
    const seconds = (performance.now() - t) / 1000;
    const tables = p.tables(f);
    for (const table of tables) console.log(`\n${textTable(table)}`);
    const expectedSeconds = estimate(p, SECONDS);
    console.log(`(${p.name}: ${seconds.toFixed(0)} s, expected ${expectedSeconds.toFixed(0)} s)`);
    results.push({ part: p.name, seconds, expectedSeconds, tables, figures: f });
    figures = { ...figures, ...f };
  }
  const total = (performance.now() - t0) / 1000;
  console.log('\nelapsed per part: ' + results.map((r) => `${r.part} ${r.seconds.toFixed(0)} s`).join(', '));
  console.log(
    `total: ${total.toFixed(0)} s (${(total / 60).toFixed(1)} min; expected ${(expected / 60).toFixed(1)} min)`,
  );
  const out = resolve(process.env.BENCH_RESULTS ?? join('bench-results', 'latest.json'));
  mkdirSync(dirname(out), { recursive: true });
  const document = {
    startedAt: started.toISOString(),
    seconds: total,
    settings: { BENCH_SECONDS: SECONDS, BENCH_ONLY: ONLY ?? 'all' },
    machine: machine(),
    parts: results,
  };
  writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`results written to ${out} (markdown: node dist/test/bench/report.js ${out})`);
  // The figures of every part as one JSON line, last, as before the tables.
  console.log(`\n${JSON.stringify(figures)}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
