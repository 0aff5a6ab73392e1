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
 * Every measurement gets a fresh schema of its own, dropped afterwards. Events are the catalogue's
 * `submitted` / `status-changed` CloudEvents on `dossier-<code>` streams; each concurrent client owns
 * its streams (200 each), so nobody measures version conflicts. A 100-event call writes one stream
 * (Emmett's `appendToStream` takes one stream), for both stores.
 *
 * Run alone: `node dist/test/bench/postgres.js` (`BENCH_SECONDS`, default 6 s per measurement).
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';
import { POSTGRES_EVENT_STORE_MIGRATIONS, PostgresEventStore, type EventToAppend } from '#lgsp/event-store';
import { COMMUNE, PROVINCE, statusChanged, submitted } from '../support/events.js';

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
    stream: `dossier-${code}`,
    expectedVersion: 'any',
    id: String(e.id),
    source: String(e.source),
    type: String(e.type),
    time: String(e.time),
    ...(e.datacontenttype === undefined ? {} : { datacontenttype: String(e.datacontenttype) }),
    data: e.data,
    extensions: {},
    provinceCode: PROVINCE,
    communeCode: COMMUNE,
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

/** Runs `workers` loops of `step` (returning the events it wrote) for `seconds`; events/s. */
async function measure(
  seconds: number,
  workers: number,
  step: (worker: number) => Promise<number>,
): Promise<number> {
  let events = 0;
  lastEvents = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (performance.now() < end) {
        // Not `events += await …`: that reads `events` before awaiting and loses concurrent counts.
        const n = await step(w);
        events += n;
      }
    }),
  );
  lastEvents = events;
  return events / ((performance.now() - started) / 1000);
}

/** Events the last `measure` counted, checked against the rows stored before the schema is dropped. */
let lastEvents = 0;

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
 * Creates a fresh schema, runs `f` in it, checks that `table` holds every event counted, and always
 * drops the schema afterwards.
 */
async function inFreshSchema<T>(label: string, table: string, f: (schema: string) => Promise<T>): Promise<T> {
  const schema = `lgsp_bench_${label}_${RUN}`;
  await admin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`));
  try {
    const result = await f(schema);
    const stored = await admin(async (c) =>
      Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.${table}`)).rows[0]?.n),
    );
    if (stored !== lastEvents)
      throw new Error(`${label}: counted ${lastEvents} events, ${stored} rows stored`);
    return result;
  } finally {
    await admin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
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

async function rawBatched(seconds: number, batch: number): Promise<number> {
  return inFreshSchema(`raw${batch}`, 'events', async (schema) => {
    const pool = poolIn(schema, 1);
    try {
      await createRawTables(pool);
      const sql = valuesSql(batch);
      const f = feed(`RAW${batch}`, 0);
      let position = 0;
      return await measure(seconds, 1, async () => {
        const params: unknown[] = [];
        for (let i = 0; i < batch; i += BATCH) {
          f.batch(Math.min(BATCH, batch - i)).forEach((e, k) =>
            params.push(...rawParams(e, k + 1, ++position)),
          );
        }
        // Autocommit: one statement, one transaction, one durable commit.
        await pool.query({ text: sql, values: params });
        return batch;
      });
    } finally {
      await pool.end();
    }
  });
}

async function rawSingleConcurrent(seconds: number): Promise<number> {
  return inFreshSchema('raw1', 'events', async (schema) => {
    const pool = poolIn(schema, CLIENTS);
    try {
      await createRawTables(pool);
      await warmPool(pool, CLIENTS);
      const sql = valuesSql(1);
      const feeds = Array.from({ length: CLIENTS }, (_, c) => feed('RAW1', c));
      let position = 0;
      return await measure(seconds, CLIENTS, async (w) => {
        const { event, version } = feeds[w]!.single();
        await pool.query({ text: sql, values: rawParams(event, version, ++position) });
        return 1;
      });
    } finally {
      await pool.end();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// PostgresEventStore

async function hubSingleConcurrent(seconds: number): Promise<{ rate: number; eventsPerCommit: number }> {
  return inFreshSchema('hub1', 'events', async (schema) => {
    const store = await PostgresEventStore.open({ connectionString: URL, schema, poolSize: CLIENTS });
    try {
      const feeds = Array.from({ length: CLIENTS }, (_, c) => feed('HUB1', c));
      const rate = await measure(seconds, CLIENTS, async (w) => {
        await store.append([feeds[w]!.single().event]);
        return 1;
      });
      const s = store.stats();
      return { rate, eventsPerCommit: s.eventsAppended / Math.max(1, s.commits) };
    } finally {
      await store.close();
    }
  });
}

async function hubBatched(seconds: number, callers: number): Promise<number> {
  return inFreshSchema(`hub${BATCH}x${callers}`, 'events', async (schema) => {
    const store = await PostgresEventStore.open({ connectionString: URL, schema, poolSize: CLIENTS });
    try {
      const feeds = Array.from({ length: callers }, (_, c) => feed(`HUB${BATCH}`, c));
      return await measure(seconds, callers, async (w) => {
        await store.append(feeds[w]!.batch(BATCH));
        return BATCH;
      });
    } finally {
      await store.close();
    }
  });
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

/** An Emmett store on its own pool of 32 connections (its default is pg's 10) in `schema`. */
async function withEmmett<T>(
  label: string,
  f: (store: ReturnType<typeof getPostgreSQLEventStore>) => Promise<T>,
): Promise<T> {
  return inFreshSchema(label, 'emt_messages', async (schema) => {
    const pool = poolIn(schema, CLIENTS);
    const store = getPostgreSQLEventStore(URL, { connectionOptions: { pool } });
    try {
      await store.schema.migrate();
      await warmPool(pool, CLIENTS);
      return await f(store);
    } finally {
      await store.close();
      await pool.end();
    }
  });
}

async function emmettSingleConcurrent(seconds: number): Promise<number> {
  return withEmmett('emmett1', async (store) => {
    const feeds = Array.from({ length: CLIENTS }, (_, c) => feed('EMT1', c));
    return measure(seconds, CLIENTS, async (w) => {
      const { event } = feeds[w]!.single();
      await store.appendToStream(event.stream, [emmettEvent(event)]);
      return 1;
    });
  });
}

async function emmettBatched(seconds: number, callers: number): Promise<number> {
  return withEmmett(`emmett${BATCH}x${callers}`, async (store) => {
    const feeds = Array.from({ length: callers }, (_, c) => feed(`EMT${BATCH}`, c));
    return measure(seconds, callers, async (w) => {
      const events = feeds[w]!.batch(BATCH);
      await store.appendToStream(events[0]!.stream, events.map(emmettEvent));
      return BATCH;
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Report

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const x = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;

export async function postgresBench(seconds: number): Promise<Record<string, number>> {
  const version = await admin(async (c) =>
    String((await c.query('SHOW server_version')).rows[0].server_version),
  );
  console.log(
    `\nPostgreSQL ${version} at ${URL.replace(/\/\/[^@]*@/, '//')} — ${seconds} s per measurement, ` +
      `fresh schema each, dropped afterwards\n`,
  );

  const raw100 = await rawBatched(seconds, 100);
  const raw1000 = await rawBatched(seconds, 1000);
  const raw1x32 = await rawSingleConcurrent(seconds);
  const hub1 = await hubSingleConcurrent(seconds);
  const hub100 = await hubBatched(seconds, 1);
  const hub100x = await hubBatched(seconds, BATCH_CALLERS);
  const emt1 = await emmettSingleConcurrent(seconds);
  const emt100 = await emmettBatched(seconds, 1);
  const emt100x = await emmettBatched(seconds, BATCH_CALLERS);

  const rows: [string, number, string][] = [
    ['raw INSERT, 100 rows per statement, 1 connection', raw100, 'baseline'],
    ['raw INSERT, 1,000 rows per statement, 1 connection', raw1000, 'baseline'],
    ['raw INSERT, 1 row per transaction, 32 connections', raw1x32, 'baseline'],
    [
      'PostgresEventStore, 1 event/append, 32 clients',
      hub1.rate,
      `${x(hub1.rate, emt1)} Emmett (goal ≥ 3), ${x(hub1.rate, raw1x32)} raw 1×32, ` +
        `${hub1.eventsPerCommit.toFixed(1)} events/commit`,
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
    pgHubSingle32: hub1.rate,
    pgHubEventsPerCommit: hub1.eventsPerCommit,
    pgHubBatch100: hub100,
    pgHubBatch100Callers4: hub100x,
    emmettSingle32: emt1,
    emmettBatch100: emt100,
    emmettBatch100Callers4: emt100x,
    pgHubVsEmmettSingle32: hub1.rate / emt1,
    pgHubVsEmmettBatch100: hub100 / emt100,
    pgHubVsEmmettBatch100Callers4: hub100x / emt100x,
    pgHubVsRawSingle32: hub1.rate / raw1x32,
    pgHubVsRawBatch100: hub100 / raw100,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  postgresBench(Number(process.env.BENCH_SECONDS ?? 6))
    .then((figures) => console.log(`\n${JSON.stringify(figures)}`))
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}
