/**
 * Scoped reads of the global log for `npm run bench` (issue 12: "a commune's page of the global log
 * costs less than 3× an admin's page on a log of 100,000 events"), all measured in one run:
 *
 * - the log: `BENCH_SCOPED_EVENTS` (default 100,000) events, dossiers of 4 (submitted, two status
 *   changes, payment), over the 34 provinces of the national list (weighted 1/√rank) and the first 15
 *   communes of each (weighted 1/rank): 510 communes, the busiest with about 3% of the log; plus one
 *   commune with 5 dossiers (20 events) in the whole log;
 * - `readAll` pages of 100 and of 1,000 as an admin (no filter) and as the busiest commune, the
 *   median commune, three communes, the busiest province, that province with one type, and the
 *   sparse commune, on SQLite and on PostgreSQL (after ANALYZE, as autovacuum does). A page starts
 *   after a position of the scope's own events from which a full page follows when there is one
 *   (where a client paging through the scope resumes); the sparse commune's pages start anywhere in
 *   the log. The scopes take turns in rounds, so that a change of load on the shared machine weighs
 *   on all of them alike;
 * - over HTTP: a hub process on the same SQLite file, `GET /v1/events?after=…&limit=100` with an
 *   admin token and the tokens of the busiest, the median and the sparse commune (autocannon, 8
 *   connections, taking turns);
 * - what the commune index costs appends: single-event appends to two copies of the log, with and
 *   without `events_by_commune`, one at a time (a durable commit each) and 50 at a time (commits
 *   shared), taking turns.
 *
 * Run alone: `node dist/test/bench/scoped-reads.js` (`BENCH_SECONDS`, default 10: the seconds of each
 * HTTP contender and of each append measurement, split into the rounds).
 */
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { type EventStore, type EventToAppend, type ReadAllOptions } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { PostgresEventStore } from '#lgsp/event-store/postgres';
import { paymentCompleted, statusChanged, submitted } from '../support/events.js';
import {
  OFFICIAL_ADMIN_UNITS,
  createCommuneClient,
  startHubProcess,
  tempDir,
  waitForSubscribers,
} from '../support/hub-process.js';
import { claimBenchSchema, dropLeftoverBenchSchemas } from './bench-schemas.js';
import { baselineLine, benchLine, runIfMain, type BenchLine, type BenchTable } from './bench-common.js';

const EVENTS = Math.max(10_000, Number(process.env.BENCH_SCOPED_EVENTS ?? 100_000));
const URL = process.env.LGSP_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Pages read per scope for each page size. */
const PAGES: Record<number, number> = { 100: 400, 1000: 60 };
const ROUNDS = 4;
const COMMUNES_PER_PROVINCE = 15;
const SPARSE_DOSSIERS = 5;
const STATUS_CHANGED = 'vn.gov.lgsp.dossier.status-changed.v1';

/** A small deterministic generator (mulberry32), so that every run builds the same log. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function weighted<T>(items: readonly { item: T; weight: number }[], rng: () => number): T {
  const total = items.reduce((sum, i) => sum + i.weight, 0);
  let r = rng() * total;
  for (const i of items) {
    r -= i.weight;
    if (r <= 0) return i.item;
  }
  return (items.at(-1) as { item: T }).item;
}

// ---------------------------------------------------------------------------------------------
// The log

interface Dossier {
  code: string;
  provinceCode: string;
  communeCode: string;
}

interface BenchLog {
  dossiers: Dossier[];
  /** Positions of each commune's and each province's events (position = index in the log + 1). */
  byCommune: Map<string, number[]>;
  byProvince: Map<string, number[]>;
  /** Positions of the status changes of each province. */
  statusChangesByProvince: Map<string, number[]>;
  sparseCommune: string;
  /** A generator of dossiers with the log's distribution, for the append measurements. */
  nextDossier: () => Dossier;
}

function planLog(): BenchLog {
  const units = JSON.parse(readFileSync(OFFICIAL_ADMIN_UNITS, 'utf8')) as {
    provinces: { code: string; communes: { code: string }[] }[];
  };
  const provinces = units.provinces.map((p, i) => ({
    item: {
      code: p.code,
      communes: p.communes
        .slice(0, COMMUNES_PER_PROVINCE)
        .map((c, j) => ({ item: c.code, weight: 1 / (j + 1) })),
    },
    weight: 1 / Math.sqrt(i + 1),
  }));
  // A commune outside the 15 of its province that the rest of the log uses.
  const sparseProvince = units.provinces[Math.floor(units.provinces.length / 2)];
  const sparseCommune = sparseProvince?.communes[COMMUNES_PER_PROVINCE + 10]?.code;
  if (!sparseProvince || !sparseCommune) throw new Error(`${OFFICIAL_ADMIN_UNITS} lists too few communes`);
  const rng = random(12);
  let n = 0;
  const nextDossier = (): Dossier => {
    const province = weighted(provinces, rng);
    const communeCode = weighted(province.communes, rng);
    n += 1;
    return { code: dossierCode(province.code, n), provinceCode: province.code, communeCode };
  };
  const count = Math.floor(EVENTS / 4);
  const sparseEvery = Math.floor(count / SPARSE_DOSSIERS);
  const dossiers: Dossier[] = [];
  const byCommune = new Map<string, number[]>();
  const byProvince = new Map<string, number[]>();
  const statusChangesByProvince = new Map<string, number[]>();
  const add = (map: Map<string, number[]>, key: string, position: number) => {
    const list = map.get(key);
    if (list) list.push(position);
    else map.set(key, [position]);
  };
  for (let d = 0; d < count; d++) {
    const dossier =
      d % sparseEvery === sparseEvery >> 1
        ? {
            code: dossierCode(sparseProvince.code, ++n),
            provinceCode: sparseProvince.code,
            communeCode: sparseCommune,
          }
        : nextDossier();
    dossiers.push(dossier);
    for (let v = 0; v < 4; v++) {
      const position = d * 4 + v + 1;
      add(byCommune, dossier.communeCode, position);
      add(byProvince, dossier.provinceCode, position);
      if (v === 1 || v === 2) add(statusChangesByProvince, dossier.provinceCode, position);
    }
  }
  return { dossiers, byCommune, byProvince, statusChangesByProvince, sparseCommune, nextDossier };
}

function dossierCode(province: string, n: number): string {
  return `000.00.${province}.H${province}-251123-${String(n).padStart(6, '0')}`;
}

/** The `version`th event (1–4) of a dossier: submitted, status 2, status 4, payment. */
function dossierEvent(d: Dossier, version: number): EventToAppend {
  const e =
    version === 1
      ? submitted(d.code)
      : version === 4
        ? paymentCompleted(d.code, 50_000)
        : statusChanged(d.code, version === 2 ? 2 : 4);
  const data = {
    ...(e.data as Record<string, unknown>),
    provinceCode: d.provinceCode,
    communeCode: d.communeCode,
  };
  return {
    stream: `dossier-${d.code}`,
    expectedVersion: 'any',
    id: String(e.id),
    source: version === 4 ? String(e.source) : `/communes/${d.communeCode}/one-stop-shop`,
    type: String(e.type),
    time: String(e.time),
    ...(e.datacontenttype === undefined ? {} : { datacontenttype: String(e.datacontenttype) }),
    data,
    extensions: {},
    provinceCode: d.provinceCode,
    communeCode: d.communeCode,
  };
}

async function fill(store: EventStore, log: BenchLog): Promise<void> {
  const perAppend = 250; // dossiers: 1,000 events per append
  for (let i = 0; i < log.dossiers.length; i += perAppend) {
    const events = log.dossiers
      .slice(i, i + perAppend)
      .flatMap((d) => [1, 2, 3, 4].map((v) => dossierEvent(d, v)));
    await store.append(events);
  }
  const head = (await store.head()).position;
  if (head !== log.dossiers.length * 4)
    throw new Error(`the log holds ${head} events, not ${log.dossiers.length * 4}`);
}

// ---------------------------------------------------------------------------------------------
// Scopes and pages

interface Scope {
  /** Names the scope in the figures: scoped<Sqlite|Pg><key>Ms100… */
  key: string;
  label: string;
  filter: Pick<ReadAllOptions, 'types' | 'provinceCodes' | 'communeCodes'>;
  /** The scope's positions, or undefined for "pages start anywhere in the log". */
  positions: number[] | undefined;
  events: number;
}

function scopesOf(log: BenchLog): Scope[] {
  const busiest = (map: Map<string, number[]>, rank = 0) =>
    [...map.entries()].sort((a, b) => b[1].length - a[1].length)[rank] ?? ['', []];
  const [commune, communePositions] = busiest(log.byCommune);
  const [province, provincePositions] = busiest(log.byProvince);
  const [median, medianPositions] = busiest(log.byCommune, Math.floor(log.byCommune.size / 2));
  const three = [0, 40, 200].map((rank) => busiest(log.byCommune, rank));
  const threePositions = three.flatMap(([, p]) => p).sort((a, b) => a - b);
  const statusChanges = log.statusChangesByProvince.get(province) ?? [];
  const sparse = log.byCommune.get(log.sparseCommune) ?? [];
  const all = Array.from({ length: log.dossiers.length * 4 }, (_, i) => i + 1);
  const n = (list: readonly unknown[]) => list.length.toLocaleString('en-US');
  /** A scope whose pages start at its own positions, counted in its label (then `note`). */
  const over = (
    key: string,
    label: string,
    filter: Scope['filter'],
    positions: number[],
    note = '',
  ): Scope => ({
    key,
    label: `${label} (${n(positions)})${note}`,
    filter,
    positions,
    events: positions.length,
  });
  return [
    over('Admin', 'admin, no filter', {}, all),
    over('Commune', `commune ${commune}`, { communeCodes: [commune] }, communePositions),
    over('MedianCommune', `commune ${median}`, { communeCodes: [median] }, medianPositions, ', the median'),
    over(
      'Communes3',
      `3 communes ${three.map(([c]) => c).join(',')}`,
      { communeCodes: three.map(([c]) => c) },
      threePositions,
    ),
    over('Province', `province ${province}`, { provinceCodes: [province] }, provincePositions),
    over(
      'ProvinceType',
      `province ${province}, status changes`,
      { provinceCodes: [province], types: [STATUS_CHANGED] },
      statusChanges,
    ),
    {
      key: 'SparseCommune',
      label: `sparse commune ${log.sparseCommune} (${n(sparse)}), anywhere`,
      filter: { communeCodes: [log.sparseCommune] },
      positions: undefined,
      events: sparse.length,
    },
  ];
}

/** `count` positions to read a page after: 0 or one of the scope's positions followed by a full page. */
function pageStarts(scope: Scope, limit: number, count: number, head: number, rng: () => number): number[] {
  const positions = scope.positions;
  if (positions === undefined) return Array.from({ length: count }, () => Math.floor(rng() * head));
  const usable = Math.max(1, positions.length - limit + 1);
  return Array.from({ length: count }, () => {
    const i = Math.floor(rng() * usable);
    return i === 0 ? 0 : (positions[i - 1] ?? 0);
  });
}

interface PageCost {
  msPerPage: number;
  rowsPerPage: number;
}

/** Reads PAGES[limit] pages per scope, the scopes taking turns in ROUNDS rounds, after a warm-up. */
async function timePages(store: EventStore, scopes: readonly Scope[], limit: number): Promise<PageCost[]> {
  const head = (await store.head()).position;
  const rng = random(limit);
  const pages = PAGES[limit] ?? 100;
  const starts = scopes.map((s) => pageStarts(s, limit, pages, head, rng));
  const totals = scopes.map(() => ({ ms: 0, rows: 0, pages: 0 }));
  for (const [i, s] of scopes.entries()) {
    for (const after of starts[i]?.slice(0, 10) ?? []) await store.readAll({ ...s.filter, after, limit });
  }
  const perRound = Math.ceil(pages / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < scopes.length; k++) {
      const i = (round + k) % scopes.length;
      const scope = scopes[i] as Scope;
      const total = totals[i] as { ms: number; rows: number; pages: number };
      for (const after of starts[i]?.slice(round * perRound, (round + 1) * perRound) ?? []) {
        const started = performance.now();
        const page = await store.readAll({ ...scope.filter, after, limit });
        total.ms += performance.now() - started;
        total.rows += page.length;
        total.pages += 1;
      }
    }
  }
  return totals.map((t) => ({ msPerPage: t.ms / t.pages, rowsPerPage: t.rows / t.pages }));
}

// ---------------------------------------------------------------------------------------------
// HTTP

interface HttpCost {
  requestsPerSecond: number;
  meanMs: number;
  p99Ms: number;
  errors: number;
}

/** Each contender reads pages of 100 with its own token for `seconds` in all, taking turns in rounds. */
async function timeHttp(
  url: string,
  contenders: readonly { token: string; starts: number[] }[],
  seconds: number,
): Promise<HttpCost[]> {
  const totals = contenders.map(() => ({ ok: 0, seconds: 0, latencyMs: 0, p99: 0, errors: 0 }));
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (round + k) % contenders.length;
      const c = contenders[i] as { token: string; starts: number[] };
      const total = totals[i] as {
        ok: number;
        seconds: number;
        latencyMs: number;
        p99: number;
        errors: number;
      };
      let next = 0;
      const result = await autocannon({
        url: `${url}/v1/events`,
        connections: 8,
        duration: seconds / ROUNDS,
        requests: [
          {
            method: 'GET',
            headers: { authorization: `Bearer ${c.token}` },
            setupRequest: (req) => ({
              ...req,
              path: `/v1/events?after=${c.starts[next++ % c.starts.length] ?? 0}&limit=100`,
            }),
          },
        ],
      });
      const ok = result['2xx'];
      total.ok += ok;
      total.seconds += result.duration || seconds / ROUNDS;
      total.latencyMs += result.latency.mean * ok;
      total.p99 = Math.max(total.p99, result.latency.p99);
      total.errors += result.non2xx + result.errors + result.timeouts;
    }
  }
  return totals.map((t) => ({
    requestsPerSecond: t.ok / t.seconds,
    meanMs: t.latencyMs / Math.max(1, t.ok),
    p99Ms: t.p99,
    errors: t.errors,
  }));
}

// ---------------------------------------------------------------------------------------------
// Appends with and without the commune index

/** Single-event appends to `stores` with `callers` concurrent callers, `seconds` each in all, taking turns. */
async function timeAppends(
  stores: readonly SqliteEventStore[],
  log: BenchLog,
  callers: number,
  seconds: number,
): Promise<number[]> {
  const totals = stores.map(() => ({ events: 0, seconds: 0 }));
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < stores.length; k++) {
      const i = (round + k) % stores.length;
      const store = stores[i] as SqliteEventStore;
      const total = totals[i] as { events: number; seconds: number };
      const started = performance.now();
      const end = started + (seconds * 1000) / ROUNDS;
      await Promise.all(
        Array.from({ length: callers }, async () => {
          while (performance.now() < end) {
            await store.append([dossierEvent(log.nextDossier(), 1)]);
            total.events += 1;
          }
        }),
      );
      total.seconds += (performance.now() - started) / 1000;
    }
  }
  return totals.map((t) => t.events / t.seconds);
}

// ---------------------------------------------------------------------------------------------

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

type Costs = Record<100 | 1000, PageCost[]>;

async function sqliteCosts(file: string, log: BenchLog, scopes: readonly Scope[]): Promise<Costs> {
  const store = SqliteEventStore.open({ file });
  try {
    await fill(store, log);
    return { 100: await timePages(store, scopes, 100), 1000: await timePages(store, scopes, 1000) };
  } finally {
    await store.close();
  }
}

async function postgresCosts(
  log: BenchLog,
  scopes: readonly Scope[],
): Promise<{ costs: Costs; version: string; leftovers: string[] }> {
  const leftovers = await dropLeftoverBenchSchemas(URL);
  const schema = await claimBenchSchema(URL, 'scoped');
  try {
    const store = await PostgresEventStore.open({ connectionString: URL, schema: schema.name, poolSize: 2 });
    try {
      await fill(store, log);
      const client = new pg.Client({ connectionString: URL });
      await client.connect();
      let version: string;
      try {
        // What autovacuum does soon after such a load; the scoped plans do not depend on it.
        await client.query(`ANALYZE ${client.escapeIdentifier(schema.name)}.events`);
        version = String((await client.query('SHOW server_version')).rows[0]?.server_version);
      } finally {
        await client.end();
      }
      const costs = { 100: await timePages(store, scopes, 100), 1000: await timePages(store, scopes, 1000) };
      return { costs, version, leftovers };
    } finally {
      await store.close();
    }
  } finally {
    await schema.drop();
  }
}

function report(
  scopes: readonly Scope[],
  sqlite: Costs,
  postgres: Costs,
  figures: Record<string, number>,
): void {
  for (const limit of [100, 1000] as const) {
    console.log(
      `${`pages of ${fmt(limit)}: scope (its events)`.padEnd(54)} ${'rows/page'.padStart(9)}  ` +
        `${'SQLite'.padStart(10)} ${'×admin'.padStart(7)}  ${'PostgreSQL'.padStart(10)} ${'×admin'.padStart(7)}`,
    );
    for (const [i, scope] of scopes.entries()) {
      const cells: string[] = [];
      for (const [backend, costs] of [
        ['Sqlite', sqlite[limit]],
        ['Pg', postgres[limit]],
      ] as const) {
        const cost = costs[i] as PageCost;
        const ratio = cost.msPerPage / (costs[0] as PageCost).msPerPage;
        cells.push(
          `${`${cost.msPerPage.toFixed(2)} ms`.padStart(10)} ${(i === 0 ? '' : `${ratio.toFixed(2)}×`).padStart(7)}`,
        );
        figures[`scoped${backend}${scope.key}Ms${limit}`] = cost.msPerPage;
        if (i > 0) figures[`scoped${backend}${scope.key}VsAdmin${limit}`] = ratio;
      }
      const rows = (sqlite[limit][i] as PageCost).rowsPerPage;
      console.log(
        `${scope.label.padEnd(54)} ${rows.toFixed(rows < 10 ? 1 : 0).padStart(9)}  ${cells.join('  ')}`,
      );
    }
  }
  console.log(`(goal: a commune's page < 3× the admin's page)`);
}

export async function scopedReadsBench(seconds: number): Promise<Record<string, number>> {
  const log = planLog();
  const scopes = scopesOf(log);
  const communes = new Set(log.dossiers.map((d) => d.communeCode)).size;
  const provinces = new Set(log.dossiers.map((d) => d.provinceCode)).size;
  const dir = tempDir('lgsp-bench-scoped-');
  const file = join(dir, 'events.db');
  const figures: Record<string, number> = {};
  try {
    const sqlite = await sqliteCosts(file, log, scopes);
    const postgres = await postgresCosts(log, scopes);
    if (postgres.leftovers.length > 0)
      console.log(`
dropped schemas left by an interrupted run: ${postgres.leftovers.join(', ')}`);
    console.log(
      `
scoped reads of the global log: ${fmt(log.dossiers.length * 4)} events, ${provinces} provinces, ` +
        `${communes} communes; EventStore.readAll, ms per page and × the admin's page in the same run ` +
        `(SQLite; PostgreSQL ${postgres.version})`,
    );
    report(scopes, sqlite, postgres.costs, figures);

    // Appends to copies of the log, with and without the commune index.
    const withIndex = join(dir, 'with-index.db');
    const withoutIndex = join(dir, 'without-index.db');
    copyFileSync(file, withIndex);
    copyFileSync(file, withoutIndex);
    const stores = [
      SqliteEventStore.open({ file: withIndex }),
      SqliteEventStore.open({ file: withoutIndex }),
    ];
    try {
      stores[1]?.database.exec('DROP INDEX events_by_commune');
      const [single = 0, singleWithout = 1] = await timeAppends(stores, log, 1, seconds / 2);
      const [shared = 0, sharedWithout = 1] = await timeAppends(stores, log, 50, seconds / 2);
      const line = (what: string, a: number, b: number) =>
        console.log(
          `${what.padEnd(54)} ${`${fmt(a)} events/s with events_by_commune, ${fmt(b)} without`.padEnd(62)} ${(a / b).toFixed(2)}×`,
        );
      console.log('');
      line('SQLite append, 1 event per call, 1 caller', single, singleWithout);
      line('SQLite append, 1 event per call, 50 callers', shared, sharedWithout);
      figures.appendSingleWithCommuneIndex = single;
      figures.appendSingleWithCommuneIndexRatio = single / singleWithout;
      figures.appendSharedWithCommuneIndex = shared;
      figures.appendSharedWithCommuneIndexRatio = shared / sharedWithout;
    } finally {
      for (const s of stores) await s.close();
    }

    // HTTP, against a hub process on the SQLite log.
    const hub = await startHubProcess({ dataDir: dir });
    try {
      await waitForSubscribers(hub.url, hub.adminToken);
      const head = log.dossiers.length * 4;
      const rng = random(7);
      const contenders: { key: string; label: string; token: string; starts: number[] }[] = [];
      const tokens = {
        Admin: 'admin',
        Commune: 'busiest commune',
        MedianCommune: 'median commune',
        SparseCommune: 'sparse commune',
      };
      for (const [key, whose] of Object.entries(tokens)) {
        const scope = scopes.find((s) => s.key === key);
        if (scope === undefined) throw new Error(`no scope ${key}`);
        const commune = scope.filter.communeCodes?.[0];
        contenders.push({
          key,
          label: commune === undefined ? `${whose} token` : `${whose} ${commune} token`,
          token:
            commune === undefined
              ? hub.adminToken
              : // No rate limit: a page of 100 costs 10 units of a client's 1,000 a second by default,
                // and the measurement is the read's cost, not the limiter's (429s and held refusals).
                await createCommuneClient(hub, `bench-${commune}`, commune, ['--rate-limit', '1000000']),
          starts: pageStarts(scope, 100, 500, head, rng),
        });
      }
      const costs = await timeHttp(hub.url, contenders, seconds);
      const admin = costs[0] as HttpCost;
      console.log('');
      for (const [i, c] of contenders.entries()) {
        const cost = costs[i] as HttpCost;
        const ratio =
          i === 0 ? 'baseline' : `${(cost.meanMs / admin.meanMs).toFixed(2)}× the admin's latency`;
        console.log(
          `${`HTTP GET /v1/events?limit=100, ${c.label}`.padEnd(64)} ` +
            `${`${fmt(cost.requestsPerSecond)} pages/s, mean ${cost.meanMs.toFixed(1)} ms, p99 ${cost.p99Ms} ms`.padEnd(62)} ${ratio}` +
            (cost.errors > 0 ? ` (${cost.errors} errors)` : ''),
        );
        figures[`scopedHttp${c.key}PagesPerSecond`] = cost.requestsPerSecond;
        if (i > 0) figures[`scopedHttp${c.key}VsAdminLatency`] = cost.meanMs / admin.meanMs;
      }
      const errors = costs.reduce((sum, c) => sum + c.errors, 0);
      if (errors > 0) figures.scopedHttpErrors = errors;
    } finally {
      await hub.stop();
    }
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Each scope's page against the admin's page (no filter) of the same size on the same store (goal: a
 * scope's page < 3× the admin's); the commune index's cost on appends; HTTP pages by token.
 */
export function scopedReadsTables(f: Record<string, number>): BenchTable[] {
  const lines: BenchLine[] = [];
  for (const [backend, name] of [
    ['Sqlite', 'SQLite'],
    ['Pg', 'PostgreSQL'],
  ] as const) {
    for (const limit of [100, 1000]) {
      const admin = f[`scoped${backend}AdminMs${limit}`];
      lines.push(baselineLine(`${name}, admin page of ${limit} (no filter)`, admin, 'ms/page'));
      for (const key of Object.keys(f)) {
        const scope = new RegExp(`^scoped${backend}(\\w+)Ms${limit}$`).exec(key)?.[1];
        if (scope === undefined || scope === 'Admin') continue;
        lines.push(
          benchLine(
            `${name}, ${scope} page of ${limit}`,
            f[key],
            'ms/page',
            { label: 'the admin page', figure: admin },
            { ratio: { max: 3 } },
          ),
        );
      }
    }
  }
  lines.push(
    benchLine(
      'SQLite append, 1 event per call, 1 caller, with events_by_commune',
      f.appendSingleWithCommuneIndex,
      'events/s',
      {
        label: 'without the index',
        figure: (f.appendSingleWithCommuneIndex ?? 0) / (f.appendSingleWithCommuneIndexRatio ?? NaN),
      },
    ),
    benchLine(
      'SQLite append, 1 event per call, 50 callers, with events_by_commune',
      f.appendSharedWithCommuneIndex,
      'events/s',
      {
        label: 'without the index',
        figure: (f.appendSharedWithCommuneIndex ?? 0) / (f.appendSharedWithCommuneIndexRatio ?? NaN),
      },
    ),
  );
  const adminHttp = f.scopedHttpAdminPagesPerSecond;
  lines.push(baselineLine('HTTP GET /v1/events?limit=100, admin token', adminHttp, 'pages/s'));
  for (const key of ['Commune', 'MedianCommune', 'SparseCommune'])
    lines.push(
      benchLine(
        `HTTP GET /v1/events?limit=100, ${key} token`,
        f[`scopedHttp${key}PagesPerSecond`],
        'pages/s',
        {
          label: 'admin token',
          figure: adminHttp,
        },
      ),
    );
  return [{ benchmark: 'scoped reads', lines }];
}

runIfMain(
  import.meta.url,
  () => scopedReadsBench(Number(process.env.BENCH_SECONDS ?? 10)),
  scopedReadsTables,
);
