/**
 * PostgreSQL figures for `npm run bench`, all measured in one run against the same PostgreSQL server
 * and database (`LGSP_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`):
 *
 * - raw baseline: the hub's `events` rows (same columns and constraints as the adapter's migration)
 *   written with multi-row `INSERT … VALUES` in batches of 100 and 1,000 from one connection, and
 *   single-row INSERTs (one per transaction) from 32 concurrent connections;
 * - `PostgresEventStore`: 32 concurrent `append([event])` loops, and `append` of 100 events per call;
 * - Emmett (`@event-driven-io/emmett-postgresql`): the same events through `appendToStream`.
 *
 * Every measurement gets a fresh schema of its own (`bench-schemas.ts`), dropped afterwards; schemas
 * left by an interrupted run are dropped first. The measurements that are compared with one another
 * (1 event × 32 clients: raw, hub, Emmett; 100 events × 1 caller: raw, hub, Emmett; 100 events × 4
 * callers: hub, Emmett) are interleaved: each runs its share of the time in `BENCH_ROUNDS` turns
 * (default 6), taking turns with the others, so that a change of load on the shared machine during
 * the run weighs on every side alike. Events are the catalogue's
 * `submitted` / `status-changed` CloudEvents on `dossier-<code>` streams; each concurrent client owns
 * its streams (200 each), so nobody measures version conflicts. A 100-event call writes one stream
 * (Emmett's `appendToStream` takes one stream), for both stores.
 *
 * Run alone: `node dist/test/bench/postgres.js` (`BENCH_SECONDS`, default 6 s per measurement, split
 * into the rounds).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';
import { type EventToAppend } from '#lgsp/event-store';
import { POSTGRES_EVENT_STORE_MIGRATIONS, PostgresEventStore } from '#lgsp/event-store/postgres';
import { statusChanged, submitted } from '../support/events.js';
import { claimBenchSchema, dropLeftoverBenchSchemas, type BenchSchema } from './bench-schemas.js';
import { appendable, baselineLine, benchLine, runIfMain, type BenchTable } from './bench-common.js';

const URL = process.env.LGSP_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CLIENTS = 32;
const STREAMS_PER_CLIENT = 200;
const BATCH = 100;
/** Concurrent callers in the "a few callers" variant of the 100-event measurement. */
const BATCH_CALLERS = 4;

const RUN = randomUUID().slice(0, 8);

// ---------------------------------------------------------------------------------------------
// Events

/** One realistic event as the hub appends it. */
function hubEvent(code: string, version: number): EventToAppend {
  const e = version === 1 ? submitted(code) : statusChanged(code, 1 + (version % 9));
  return {
    ...appendable(e),
    ...(e.datacontenttype === undefined ? {} : { datacontenttype: String(e.datacontenttype) }),
  };
}

/**
 * Hands out events for one client: single events rotate over the client's own streams, batches go
 * to a fresh dossier each. Versions are tracked here (the raw baseline needs them).
 */
class EventFeed {
  private readonly versions = new Map<string, number>();
  private next = 0;
  private batches = 0;
  constructor(private readonly prefix: string) {}

  single(): { event: EventToAppend; version: number } {
    const code = `${this.prefix}-${this.next++ % STREAMS_PER_CLIENT}`;
    const version = (this.versions.get(code) ?? 0) + 1;
    this.versions.set(code, version);
    return { event: hubEvent(code, version), version };
  }

  /** `size` events of one new dossier stream, versions 1…size. */
  batch(size: number): EventToAppend[] {
    const code = `${this.prefix}-B${this.batches++}`;
    return Array.from({ length: size }, (_, i) => hubEvent(code, i + 1));
  }
}

const feed = (label: string, client: number) => new EventFeed(`000.00.51.H56-${RUN}-${label}-${client}`);

// ---------------------------------------------------------------------------------------------
// Harness

/** Rounds each compared measurement is split into (`BENCH_ROUNDS`, default 6). */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 6));

/** One side of a comparison, open in its own schema: `step` writes and returns the events written. */
interface Subject {
  workers: number;
  step(worker: number): Promise<number>;
  close(): Promise<void>;
}

interface Contender {
  label: string;
  /** The table that holds one row per event written. */
  table: string;
  open(schema: string): Promise<Subject>;
}

/** Runs `workers` loops of `step` for `seconds`; the events written and the seconds taken. */
async function measure(seconds: number, subject: Subject): Promise<{ events: number; seconds: number }> {
  let events = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: subject.workers }, async (_, w) => {
      while (performance.now() < end) {
        // Not `events += await …`: that reads `events` before awaiting and loses concurrent counts.
        const n = await subject.step(w);
        events += n;
      }
    }),
  );
  return { events, seconds: (performance.now() - started) / 1000 };
}

async function admin<T>(f: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  try {
    return await f(client);
  } finally {
    await client.end();
  }
}

/**
 * Measures contenders that are compared with one another, `seconds` each, interleaved: each is
 * opened in a fresh schema of its own, then they take turns in ROUNDS rounds (the first to run
 * rotates), so that a change of load on the shared machine weighs on all of them alike. Checks that
 * each table holds every event counted, and always drops the schemas. Returns events/s per contender.
 */
async function compare<const T extends readonly Contender[]>(
  seconds: number,
  contenders: T,
): Promise<{ -readonly [K in keyof T]: number }> {
  const claimed: BenchSchema[] = [];
  const totals = contenders.map(() => ({ events: 0, seconds: 0 }));
  const subjects: (Subject | undefined)[] = [];
  try {
    for (const c of contenders) claimed.push(await claimBenchSchema(URL, c.label));
    const schemas = claimed.map((s) => s.name);
    for (const [i, c] of contenders.entries()) subjects.push(await c.open(schemas[i]!));
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < contenders.length; k++) {
        const i = (round + k) % contenders.length;
        const m = await measure(seconds / ROUNDS, subjects[i]!);
        totals[i]!.events += m.events;
        totals[i]!.seconds += m.seconds;
      }
    }
    for (const subject of subjects.splice(0)) await subject?.close();
    for (const [i, c] of contenders.entries()) {
      const table = `${schemas[i]}.${c.table}`;
      const stored = await admin(async (client) =>
        Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n),
      );
      if (stored !== totals[i]!.events)
        throw new Error(`${c.label}: counted ${totals[i]!.events} events, ${stored} rows stored`);
    }
    return totals.map((t) => t.events / t.seconds) as { -readonly [K in keyof T]: number };
  } finally {
    for (const subject of subjects) await subject?.close().catch(() => undefined);
    for (const schema of claimed) await schema.drop();
  }
}

function poolIn(schema: string, max: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: URL,
    max,
    application_name: 'lgsp-bench',
    options: `-c search_path=${schema}`,
  });
  pool.on('error', () => undefined);
  return pool;
}

/** Opens every connection of the pool before timing starts. */
async function warmPool(pool: pg.Pool, n: number): Promise<void> {
  const clients = await Promise.all(Array.from({ length: n }, () => pool.connect()));
  for (const c of clients) c.release();
}

// ---------------------------------------------------------------------------------------------
// Raw baseline

const RAW_COLUMNS =
  'position, stream, stream_version, id, source, type, time, subject, datacontenttype, dataschema, data, ' +
  'extensions, province_code, commune_code, recorded_at, hash, prev_hash';
const RAW_WIDTH = 17;
const FAKE_HASH = 'a3f1c9e07b5d2846a3f1c9e07b5d2846a3f1c9e07b5d2846a3f1c9e07b5d2846';

function rawParams(e: EventToAppend, version: number, position: number): unknown[] {
  return [
    position,
    e.stream,
    version,
    e.id,
    e.source,
    e.type,
    e.time ?? null,
    null,
    e.datacontenttype ?? null,
    null,
    JSON.stringify(e.data),
    '{}',
    e.provinceCode ?? null,
    e.communeCode ?? null,
    new Date().toISOString(),
    FAKE_HASH,
    FAKE_HASH,
  ];
}

function valuesSql(rows: number): string {
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) {
    const p = Array.from({ length: RAW_WIDTH }, (_, k) => `$${r * RAW_WIDTH + k + 1}`);
    tuples.push(`(${p.join(', ')})`);
  }
  return `INSERT INTO events (${RAW_COLUMNS}) VALUES ${tuples.join(', ')}`;
}

/** The adapter's own migration SQL, so the raw table has the same columns, constraints and indexes. */
async function createRawTables(pool: pg.Pool): Promise<void> {
  for (const m of POSTGRES_EVENT_STORE_MIGRATIONS) await pool.query(m.sql);
}

/** Multi-row INSERTs of `batch` rows from one connection, one statement per transaction. */
function rawBatched(batch: number): Contender {
  return {
    label: `raw${batch}`,
    table: 'events',
    async open(schema) {
      const pool = poolIn(schema, 1);
      await createRawTables(pool);
      const sql = valuesSql(batch);
      const f = feed(`RAW${batch}`, 0);
      let position = 0;
      return {
        workers: 1,
        async step() {
          const params: unknown[] = [];
          for (let i = 0; i < batch; i += BATCH) {
            f.batch(Math.min(BATCH, batch - i)).forEach((e, k) =>
              params.push(...rawParams(e, k + 1, ++position)),
            );
          }
          // Autocommit: one statement, one transaction, one durable commit.
          await pool.query({ text: sql, values: params });
          return batch;
        },
        close: () => pool.end(),
      };
    },
  };
}

/** One-row INSERTs, one per transaction, from CLIENTS concurrent connections. */
const rawSingleConcurrent: Contender = {
  label: 'raw1',
  table: 'events',
  async open(schema) {
    const pool = poolIn(schema, CLIENTS);
    await createRawTables(pool);
    await warmPool(pool, CLIENTS);
    const sql = valuesSql(1);
    const feeds = Array.from({ length: CLIENTS }, (_, c) => feed('RAW1', c));
    let position = 0;
    return {
      workers: CLIENTS,
      async step(w) {
        const { event, version } = feeds[w]!.single();
        await pool.query({ text: sql, values: rawParams(event, version, ++position) });
        return 1;
      },
      close: () => pool.end(),
    };
  },
};

// ---------------------------------------------------------------------------------------------
// PostgresEventStore

/** Events per commit of the last single-event PostgresEventStore measurement. */
let hubEventsPerCommit = 0;

/** CLIENTS concurrent loops of `append([event])`. */
const hubSingleConcurrent: Contender = {
  label: 'hub1',
  table: 'events',
  async open(schema) {
    const store = await PostgresEventStore.open({ connectionString: URL, schema, poolSize: CLIENTS });
    const feeds = Array.from({ length: CLIENTS }, (_, c) => feed('HUB1', c));
    return {
      workers: CLIENTS,
      async step(w) {
        await store.append([feeds[w]!.single().event]);
        return 1;
      },
      async close() {
        const s = store.stats();
        hubEventsPerCommit = s.eventsAppended / Math.max(1, s.commits);
        await store.close();
      },
    };
  },
};

/** `callers` concurrent loops of `append` of BATCH events of one new stream. */
function hubBatched(callers: number): Contender {
  return {
    label: `hub${BATCH}x${callers}`,
    table: 'events',
    async open(schema) {
      const store = await PostgresEventStore.open({ connectionString: URL, schema, poolSize: CLIENTS });
      const feeds = Array.from({ length: callers }, (_, c) => feed(`HUB${BATCH}`, c));
      return {
        workers: callers,
        async step(w) {
          await store.append(feeds[w]!.batch(BATCH));
          return BATCH;
        },
        close: () => store.close(),
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Emmett

/** The same CloudEvent as an Emmett event: type and data, the other attributes in metadata. */
function emmettEvent(e: EventToAppend) {
  return {
    type: e.type,
    data: e.data as Record<string, unknown>,
    metadata: {
      messageId: e.id,
      source: e.source,
      time: e.time,
      datacontenttype: e.datacontenttype,
      provinceCode: e.provinceCode,
      communeCode: e.communeCode,
    },
  };
}

type EmmettStore = ReturnType<typeof getPostgreSQLEventStore>;

/** An Emmett store on its own pool of 32 connections (its default is pg's 10), migrated and warm. */
function emmett(
  label: string,
  workers: number,
  step: (store: EmmettStore) => (worker: number) => Promise<number>,
): Contender {
  return {
    label,
    table: 'emt_messages',
    async open(schema) {
      const pool = poolIn(schema, CLIENTS);
      const store = getPostgreSQLEventStore(URL, { connectionOptions: { pool } });
      await store.schema.migrate();
      await warmPool(pool, CLIENTS);
      return {
        workers,
        step: step(store),
        async close() {
          await store.close();
          await pool.end();
        },
      };
    },
  };
}

/** CLIENTS concurrent loops of `appendToStream` of one event. */
const emmettSingleConcurrent = emmett('emmett1', CLIENTS, (store) => {
  const feeds = Array.from({ length: CLIENTS }, (_, c) => feed('EMT1', c));
  return async (w) => {
    const { event } = feeds[w]!.single();
    await store.appendToStream(event.stream, [emmettEvent(event)]);
    return 1;
  };
});

/** `callers` concurrent loops of `appendToStream` of BATCH events of one new stream. */
function emmettBatched(callers: number): Contender {
  return emmett(`emmett${BATCH}x${callers}`, callers, (store) => {
    const feeds = Array.from({ length: callers }, (_, c) => feed(`EMT${BATCH}`, c));
    return async (w) => {
      const events = feeds[w]!.batch(BATCH);
      await store.appendToStream(events[0]!.stream, events.map(emmettEvent));
      return BATCH;
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Report

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const x = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;

export async function postgresBench(seconds: number): Promise<Record<string, number>> {
  const leftovers = await dropLeftoverBenchSchemas(URL);
  if (leftovers.length > 0)
    console.log(`\ndropped schemas left by an interrupted run: ${leftovers.join(', ')}`);
  const version = await admin(async (c) =>
    String((await c.query('SHOW server_version')).rows[0].server_version),
  );
  console.log(
    `\nPostgreSQL ${version} at ${URL.replace(/\/\/[^@]*@/, '//')} — ${seconds} s per measurement, ` +
      `fresh schema each, dropped afterwards; compared measurements interleaved in ${ROUNDS} rounds\n`,
  );

  // Each group is measured interleaved (see `compare`); the groups one after the other.
  const [raw1x32, hub1, emt1] = await compare(seconds, [
    rawSingleConcurrent,
    hubSingleConcurrent,
    emmettSingleConcurrent,
  ]);
  const [raw100, hub100, emt100] = await compare(seconds, [
    rawBatched(BATCH),
    hubBatched(1),
    emmettBatched(1),
  ]);
  const [hub100x, emt100x] = await compare(seconds, [
    hubBatched(BATCH_CALLERS),
    emmettBatched(BATCH_CALLERS),
  ]);
  const [raw1000] = await compare(seconds, [rawBatched(1000)]);
  const eventsPerCommit = hubEventsPerCommit;

  const rows: [string, number, string][] = [
    ['raw INSERT, 100 rows per statement, 1 connection', raw100, 'baseline'],
    ['raw INSERT, 1,000 rows per statement, 1 connection', raw1000, 'baseline'],
    ['raw INSERT, 1 row per transaction, 32 connections', raw1x32, 'baseline'],
    [
      'PostgresEventStore, 1 event/append, 32 clients',
      hub1,
      `${x(hub1, emt1)} Emmett (goal ≥ 3), ${x(hub1, raw1x32)} raw 1×32, ` +
        `${eventsPerCommit.toFixed(1)} events/commit`,
    ],
    [
      'PostgresEventStore, 100 events/append, 1 caller',
      hub100,
      `${x(hub100, emt100)} Emmett (goal ≥ 1), ${x(hub100, raw100)} raw 100/stmt`,
    ],
    [
      `PostgresEventStore, 100 events/append, ${BATCH_CALLERS} callers`,
      hub100x,
      `${x(hub100x, emt100x)} Emmett (goal ≥ 1), ${x(hub100x, raw100)} raw 100/stmt`,
    ],
    ['Emmett appendToStream, 1 event, 32 clients', emt1, `${x(emt1, raw1x32)} raw 1×32`],
    ['Emmett appendToStream, 100 events, 1 caller', emt100, `${x(emt100, raw100)} raw 100/stmt`],
    [
      `Emmett appendToStream, 100 events, ${BATCH_CALLERS} callers`,
      emt100x,
      `${x(emt100x, raw100)} raw 100/stmt`,
    ],
  ];
  for (const [what, rate, ratio] of rows)
    console.log(`${what.padEnd(52)} ${`${fmt(rate)} events/s`.padEnd(18)} ${ratio}`);

  return {
    pgRawBatch100: raw100,
    pgRawBatch1000: raw1000,
    pgRawSingle32: raw1x32,
    pgHubSingle32: hub1,
    pgHubEventsPerCommit: eventsPerCommit,
    pgHubBatch100: hub100,
    pgHubBatch100Callers4: hub100x,
    emmettSingle32: emt1,
    emmettBatch100: emt100,
    emmettBatch100Callers4: emt100x,
    pgHubVsEmmettSingle32: hub1 / emt1,
    pgHubVsEmmettBatch100: hub100 / emt100,
    pgHubVsEmmettBatch100Callers4: hub100x / emt100x,
    pgHubVsRawSingle32: hub1 / raw1x32,
    pgHubVsRawBatch100: hub100 / raw100,
  };
}

/** The raw INSERT baselines, the hub's store against Emmett (the goals) and against raw, Emmett against raw. */
export function postgresTables(f: Record<string, number>): BenchTable[] {
  const raw1 = { label: 'raw INSERT, 1 row/transaction, 32 connections', figure: f.pgRawSingle32 };
  const raw100 = { label: 'raw INSERT, 100 rows/statement', figure: f.pgRawBatch100 };
  const x = `${BATCH_CALLERS} callers`;
  return [
    {
      benchmark: 'PostgreSQL event store',
      lines: [
        baselineLine('raw INSERT, 1 row per transaction, 32 connections', f.pgRawSingle32, 'events/s'),
        baselineLine('raw INSERT, 100 rows per statement, 1 connection', f.pgRawBatch100, 'events/s'),
        baselineLine('raw INSERT, 1,000 rows per statement, 1 connection', f.pgRawBatch1000, 'events/s'),
        benchLine(
          'PostgresEventStore, 1 event/append, 32 clients',
          f.pgHubSingle32,
          'events/s',
          { label: 'Emmett, the same', figure: f.emmettSingle32 },
          { ratio: { min: 3 } },
          `${(f.pgHubEventsPerCommit ?? 0).toFixed(1)} events per commit`,
        ),
        benchLine('PostgresEventStore, 1 event/append, 32 clients', f.pgHubSingle32, 'events/s', raw1),
        benchLine(
          'PostgresEventStore, 100 events/append, 1 caller',
          f.pgHubBatch100,
          'events/s',
          { label: 'Emmett, the same', figure: f.emmettBatch100 },
          { ratio: { min: 1 } },
        ),
        benchLine('PostgresEventStore, 100 events/append, 1 caller', f.pgHubBatch100, 'events/s', raw100),
        benchLine(
          `PostgresEventStore, 100 events/append, ${x}`,
          f.pgHubBatch100Callers4,
          'events/s',
          { label: 'Emmett, the same', figure: f.emmettBatch100Callers4 },
          { ratio: { min: 1 } },
        ),
        benchLine('Emmett appendToStream, 1 event, 32 clients', f.emmettSingle32, 'events/s', raw1),
        benchLine('Emmett appendToStream, 100 events, 1 caller', f.emmettBatch100, 'events/s', raw100),
        benchLine(`Emmett appendToStream, 100 events, ${x}`, f.emmettBatch100Callers4, 'events/s', raw100),
      ],
    },
  ];
}

runIfMain(import.meta.url, () => postgresBench(Number(process.env.BENCH_SECONDS ?? 6)), postgresTables);
