import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { StoreUnavailableError, type StoredEvent } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import {
  describeDossierViewRepositoryContract,
  paid,
  status,
  submitted,
} from './contract/dossier-view-repository-contract.js';
import { evolveDossier, type DossierView } from './dossier-view.js';
import { SqlDossierViewRepository } from './sql-dossier-view-repository.js';
import { PostgresDatabase } from '#lgsp/storage/postgres';
import { POSTGRES_URL as url, pgClient as admin } from '../../../test/support/postgres.js';

async function dropSchema(schema: string): Promise<void> {
  const client = await admin();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${client.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}

const newSchema = () => `views_test_${randomBytes(6).toString('hex')}`;

/** A pool as the event store makes it: its search_path is the schema. */
function poolOn(schema: string, options: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: 4,
    options: `-c search_path=${pg.escapeIdentifier(schema)}`,
    ...options,
  });
  pool.on('error', () => undefined);
  return pool;
}

describeDossierViewRepositoryContract('postgres', async () => {
  const schema = newSchema();
  await (await admin()).end();
  const pools: pg.Pool[] = [];
  // Each repository on a pool of its own, as each hub process has.
  const open = async () => {
    const pool = poolOn(schema);
    pools.push(pool);
    return SqlDossierViewRepository.open(PostgresDatabase.over(pool, schema));
  };
  const repository = await open();
  const pool = pools[0]!;
  return {
    repository,
    another: open,
    async schemaVersion() {
      const { rows } = await pool.query<{ version: number }>(
        `SELECT version FROM schema_version WHERE component = 'projection.dossiers'`,
      );
      return Number(rows[0]?.version);
    },
    // Every connection back in the pool: none is left inside a transaction.
    inTransaction: () => pool.idleCount !== pool.totalCount,
    async close() {
      for (const p of pools) await p.end();
      await dropSchema(schema);
    },
  };
});

describe('SqlDossierViewRepository on PostgreSQL', () => {
  let dir: string;
  let store: SqliteEventStore;
  let schema: string;
  const pools: pg.Pool[] = [];
  const pool = (options: pg.PoolConfig = {}) => {
    const p = poolOn(schema, options);
    pools.push(p);
    return p;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lgsp-views-pg-'));
    store = SqliteEventStore.open({ file: join(dir, 'events.db') });
    schema = newSchema();
  });

  afterEach(async () => {
    for (const p of pools.splice(0)) await p.end().catch(() => undefined);
    await dropSchema(schema);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies a batch of 500 events in six statements, whatever the number of dossiers', async () => {
    const codes = Array.from({ length: 250 }, (_, i) => `B-${String(i).padStart(3, '0')}`);
    await store.append(codes.map((c) => submitted(c, [1000])));
    await store.append(codes.map((c) => paid(c, 'TX-1', 1000)));
    const events = await store.readAll({ limit: 500 });
    expect(events).toHaveLength(500);

    const counted = pool();
    const repository = await SqlDossierViewRepository.open(PostgresDatabase.over(counted, schema));
    const statements: string[] = [];
    counted.on('acquire', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        statements.push(String(typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text));
        return query(...args);
      };
    });
    const started = performance.now();
    expect(await repository.applyBatch(events, { checkpoint: 500 })).toEqual({
      applied: 500,
      skipped: 0,
      dossiers: 250,
    });
    const elapsedMs = performance.now() - started;
    expect(statements.map((s) => s.trim().split(/\s+/)[0])).toEqual([
      'BEGIN',
      'INSERT', // placeholders for the dossiers without a view
      'SELECT', // … FOR UPDATE
      'INSERT', // the views
      'INSERT', // the checkpoint
      'COMMIT',
    ]);
    expect(elapsedMs).toBeLessThan(2000);
    expect(await repository.get('B-249')).toMatchObject({ eventCount: 2, payment: { state: 'paid' } });
    expect(await repository.checkpoint()).toBe(500);
  });

  /** A repository on a pool of its own, and a probe for its connection waiting on a lock. */
  async function openWatched() {
    const applicationName = `lgsp-views-test-${randomBytes(4).toString('hex')}`;
    const repository = await SqlDossierViewRepository.open(
      PostgresDatabase.over(pool({ application_name: applicationName }), schema),
    );
    const waitingPid = async (observer: pg.Client) =>
      waitFor(async () => {
        const { rows } = await observer.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
          [applicationName],
        );
        return rows[0]?.pid;
      });
    return { repository, waitingPid };
  }

  /** Opens a transaction on `client` that holds the view of `code` locked, as another process's batch does. */
  async function holdView(client: pg.Client, code: string) {
    await client.query('BEGIN');
    await client.query(
      `SELECT 1 FROM ${client.escapeIdentifier(schema)}.dossier_views WHERE dossier_code = $1 FOR UPDATE`,
      [code],
    );
  }

  const fold = (events: readonly StoredEvent[]) =>
    events.reduce<DossierView | undefined>((view, e) => evolveDossier(view, e), undefined);

  it('makes a batch wait for a dossier another process is writing, then folds on what it committed', async () => {
    await store.append([submitted('D-1', [1000])]);
    for (const s of [2, 4, 9]) await store.append([status('D-1', s)]);
    const events = await store.readAll();
    const { repository, waitingPid } = await openWatched();
    await repository.applyBatch(events.slice(0, 2), { checkpoint: 2 });

    const other = await admin();
    try {
      await holdView(other, 'D-1');
      const pending = repository.applyBatch(events.slice(2), { checkpoint: 4 });
      const observer = await admin();
      await waitingPid(observer).finally(() => observer.end());
      // The other process's batch reached position 3.
      await other.query(
        `UPDATE ${other.escapeIdentifier(schema)}.dossier_views SET last_position = 3, view = $1 WHERE dossier_code = 'D-1'`,
        [JSON.stringify(fold(events.slice(0, 3)))],
      );
      await other.query('COMMIT');
      expect(await pending).toEqual({ applied: 1, skipped: 1, dossiers: 1 });
    } finally {
      await other.end();
    }
    expect(await repository.get('D-1')).toEqual(fold(events));
    expect(await repository.get('D-1')).toMatchObject({ eventCount: 4, status: 9 });
  });

  it('makes a batch wait for a dossier another process is creating, then folds on what it committed', async () => {
    await store.append([submitted('D-2', [1000])]);
    for (const s of [2, 4, 9]) await store.append([status('D-2', s)]);
    const events = await store.readAll();
    const { repository, waitingPid } = await openWatched();

    const other = await admin();
    try {
      // The other process's batch creates the view from positions 1 and 2, and has not committed.
      await other.query('BEGIN');
      const view = fold(events.slice(0, 2))!;
      await other.query(
        `INSERT INTO ${other.escapeIdentifier(schema)}.dossier_views VALUES ($1, $2, $3, 2, $4)`,
        [view.dossierCode, view.provinceCode, view.communeCode, JSON.stringify(view)],
      );
      const pending = repository.applyBatch(events.slice(2), { checkpoint: 4 });
      const observer = await admin();
      await waitingPid(observer).finally(() => observer.end());
      await other.query('COMMIT');
      expect(await pending).toEqual({ applied: 2, skipped: 0, dossiers: 1 });
    } finally {
      await other.end();
    }
    expect(await repository.get('D-2')).toEqual(fold(events));
  });

  it('fails a batch as unavailable when its connection is killed, writing nothing, and applies it next time', async () => {
    await store.append([submitted('D-1', [1000]), submitted('D-2', [1000])]);
    await store.append([status('D-1', 2), status('D-2', 2)]);
    const events = await store.readAll();
    const { repository, waitingPid } = await openWatched();
    await repository.applyBatch(events.slice(0, 2), { checkpoint: 2 });

    const holder = await admin();
    const observer = await admin();
    try {
      await holdView(holder, 'D-2');
      const blocked = repository.applyBatch(events.slice(2), { checkpoint: 4 });
      await observer.query('SELECT pg_terminate_backend($1)', [await waitingPid(observer)]);
      await expect(blocked).rejects.toThrow(StoreUnavailableError);
      await holder.query('ROLLBACK');
    } finally {
      await holder.end();
      await observer.end();
    }
    expect(await repository.get('D-1')).toMatchObject({ eventCount: 1 });
    expect(await repository.checkpoint()).toBe(2);

    expect(await repository.applyBatch(events.slice(2), { checkpoint: 4 })).toMatchObject({ applied: 2 });
    expect(await repository.get('D-1')).toMatchObject({ status: 2, eventCount: 2 });
  });

  it('reports an unreachable server or an ended pool as StoreUnavailableError', async () => {
    await store.append([submitted('D-1', [1000])]);
    const events: StoredEvent[] = await store.readAll();
    const nowhere = pool({ connectionString: 'postgres://postgres@127.0.0.1:1/test' });
    await expect(SqlDossierViewRepository.open(PostgresDatabase.over(nowhere, schema))).rejects.toThrow(
      StoreUnavailableError,
    );
    const ending = pool();
    const repository = await SqlDossierViewRepository.open(PostgresDatabase.over(ending, schema));
    await ending.end();
    await expect(repository.get('D-1')).rejects.toThrow(StoreUnavailableError);
    await expect(repository.checkpoint()).rejects.toMatchObject({ code: 'unavailable', retriable: true });
    await expect(repository.applyBatch(events, { checkpoint: 1 })).rejects.toThrow(StoreUnavailableError);
  });
});

async function waitFor<T>(probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition');
    await new Promise((r) => setTimeout(r, 10));
  }
}
