import { randomBytes } from 'node:crypto';
import { StoreUnavailableError, verifyChain, type EventToAppend, type StoredEvent } from '#lgsp/event-store';
import { POSTGRES_EVENT_STORE_MIGRATIONS } from '#lgsp/event-store/postgres';
import { statusChange } from '../contract/context.js';
import { PostgresEventStore } from './postgres-event-store.js';
import { POSTGRES_URL as url, pgClient as admin } from '../../../../test/support/postgres.js';

let schema: string;
const stores: PostgresEventStore[] = [];

async function open(
  options: { poolSize?: number; listenReconnectMs?: number } = {},
): Promise<PostgresEventStore> {
  const store = await PostgresEventStore.open({
    connectionString: url,
    schema,
    applicationName: schema,
    ...options,
  });
  stores.push(store);
  return store;
}

let seq = 0;
function event(overrides: Partial<EventToAppend> = {}): EventToAppend {
  seq += 1;
  return statusChange(seq, { stream: `dossier-${seq % 5}`, data: { status: 2 }, ...overrides });
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeEach(async () => {
  schema = `es_test_${randomBytes(6).toString('hex')}`;
  await (await admin()).end();
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  const client = await admin();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${client.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
});

describe('PostgresEventStore', () => {
  it('shares commits among 32 concurrent single-event appends', async () => {
    const store = await open();
    const results = await Promise.all(Array.from({ length: 32 }, () => store.append([event()])));
    expect(results.map((r) => r[0]?.position).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
      Array.from({ length: 32 }, (_, i) => i + 1),
    );
    const stats = store.stats();
    expect(stats.appendCalls).toBe(32);
    expect(stats.commits).toBeLessThan(4);
  });

  it('keeps one gap-free order and one chain when two instances (as two processes) append concurrently', async () => {
    const a = await open();
    const b = await open();
    const heardByB: number[] = [];
    b.onAppended((head) => heardByB.push(head));
    const outcomes = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        (i % 2 === 0 ? a : b).append([event({ stream: `dossier-${i % 9}` })]),
      ),
    );
    const positions = outcomes.map((r) => r[0]?.position ?? 0).sort((x, y) => x - y);
    expect(positions).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    const all: StoredEvent[] = await a.readAll({ limit: 10_000 });
    expect(all.map((e) => e.position)).toEqual(positions);
    expect(verifyChain(all)).toEqual({ ok: true });
    for (let s = 0; s < 9; s++) {
      const versions = (await b.readStream(`dossier-${s}`)).map((e) => e.streamVersion);
      expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
    }
    // b hears a's commits through LISTEN/NOTIFY.
    await waitFor(() => heardByB.at(-1) === 400);
  });

  it('wakes a subscriber in another instance, and again after its LISTEN connection was killed', async () => {
    const writer = await open();
    const reader = await open({ listenReconnectMs: 100 });
    const heard: number[] = [];
    reader.onAppended((head) => heard.push(head));
    await writer.append([event()]);
    await waitFor(() => heard.at(-1) === 1);

    const client = await admin();
    try {
      await client.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [`${schema} listen`],
      );
    } finally {
      await client.end();
    }
    await writer.append([event()]);
    // Either the notification or the catch-up after reconnecting delivers head 2.
    await waitFor(() => heard.at(-1) === 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await writer.append([event()]);
    await waitFor(() => heard.at(-1) === 3);
  });

  it('recovers after PostgreSQL terminates its idle connections, and rejects work once closed', async () => {
    const store = await open({ poolSize: 2 });
    await store.append([event()]);
    const client = await admin();
    try {
      const { rowCount } = await client.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle'",
        [schema],
      );
      expect(rowCount).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Terminated idle connections are dropped from the pool; the next append uses a fresh one.
    const [r] = await store.append([event()]);
    expect(r?.position).toBe(2);
    expect(verifyChain(await store.readAll())).toEqual({ ok: true });
    await store.close();
    await expect(store.append([event()])).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.readAll()).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('reports an unreachable server as StoreUnavailableError', async () => {
    await expect(
      PostgresEventStore.open({ connectionString: 'postgres://postgres@127.0.0.1:1/test', schema }),
    ).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('seeks a scoped read of the global log through the scope index, never walking the log with a filter', async () => {
    const store = await open();
    // Half the log in one commune (the planner would walk the primary key for it), one commune with 3 events.
    for (let batch = 0; batch < 6; batch++) {
      await store.append(
        Array.from({ length: 500 }, (_, i) => {
          const n = batch * 500 + i;
          const [provinceCode, communeCode] =
            n % 1000 === 7
              ? ['31', '11311']
              : n % 2 === 0
                ? ['51', '21040']
                : [['08', '01'][(n % 3) % 2] ?? '', ['02230', '00004', '00008'][n % 3] ?? ''];
          return event({
            type: ['vn.gov.lgsp.dossier.submitted.v1', 'vn.gov.lgsp.payment.completed.v1'][
              n % 5 === 0 ? 0 : 1
            ],
            provinceCode,
            communeCode,
          });
        }),
      );
    }
    const client = await admin();
    try {
      await client.query(`ANALYZE ${client.escapeIdentifier(schema)}.events`);
    } finally {
      await client.end();
    }
    // The scope's index range per code (an ordered index scan, or a bitmap of that range on a table this
    // small), then the page's rows by primary key: no sequential scan, no walk of the log with a filter.
    const seeks = async (options: Parameters<PostgresEventStore['explainReadAll']>[0], column: string) => {
      const index = `events_by_${column.replace('_code', '')}`;
      const plan = (await store.explainReadAll({ after: 1000, limit: 100, ...options })).join('\n');
      expect(plan).toMatch(new RegExp(`(Index (Only )?Scan using|Bitmap Index Scan on) ${index} `));
      expect(plan).toContain(
        `Index Cond: ((ROW(${column}, "position") > ROW(s.code, '1000'::bigint)) AND (${column} <= s.code))`,
      );
      expect(plan).toMatch(
        /^Index Scan using events_pkey on events .*\n\s*Index Cond: \("position" = ANY \(\$\d+\)\)/,
      );
      expect(plan).not.toMatch(/Seq Scan/);
      expect(plan).not.toMatch(new RegExp(`Filter: .*${column}`));
    };
    await seeks({ communeCodes: ['21040'] }, 'commune_code');
    await seeks({ communeCodes: ['11311'] }, 'commune_code');
    await seeks({ communeCodes: ['21040', '00004', '11311'] }, 'commune_code');
    await seeks({ communeCodes: ['21040'], provinceCodes: ['51'] }, 'commune_code');
    await seeks({ provinceCodes: ['51'] }, 'province_code');
    await seeks({ provinceCodes: ['51', '08'] }, 'province_code');
    await seeks({ provinceCodes: ['51'], types: ['vn.gov.lgsp.payment.completed.v1'] }, 'province_code');
    await seeks(
      { communeCodes: ['21040', '00004'], types: ['vn.gov.lgsp.payment.completed.v1'] },
      'commune_code',
    );
    expect((await store.explainReadAll({ after: 1000, limit: 100 })).join('\n')).toMatch(
      /Index Scan using events_pkey on events\s.*\n\s*Index Cond: \("position" > '1000'::bigint\)/,
    );
    expect(await store.explainReadAll({ communeCodes: [] })).toEqual([]);
    const sparse = await store.readAll({ communeCodes: ['11311', '11311'] });
    expect(sparse.map((e) => e.position)).toEqual([8, 1008, 2008]);
  });

  it('records its schema version, migrates idempotently, and refuses a newer schema', async () => {
    const store = await open();
    const latest = POSTGRES_EVENT_STORE_MIGRATIONS.length;
    expect(latest).toBeGreaterThanOrEqual(2); // events and checkpoints, then subscriber leases
    expect(await store.migrate()).toBe(latest);
    const client = await admin();
    try {
      const { rows } = await client.query(
        `SELECT version FROM ${client.escapeIdentifier(schema)}.schema_version WHERE component = 'event-store'`,
      );
      expect(rows).toEqual([{ version: latest }]);
      await client.query(`UPDATE ${client.escapeIdentifier(schema)}.schema_version SET version = 99`);
    } finally {
      await client.end();
    }
    await expect(PostgresEventStore.open({ connectionString: url, schema })).rejects.toThrow(/version 99/);
  });
});
