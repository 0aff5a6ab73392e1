/**
 * PostgreSQL schemas for the benchmarks: `lgsp_bench_<label>_<random>`, each held by a session advisory
 * lock while its benchmark uses it. A run that is interrupted (Ctrl-C, a kill, a crash) leaves its
 * schemas behind but not their locks, so the next run drops those leftovers without touching the
 * schemas of a run going on at the same time.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** Every benchmark schema's name starts with it. */
export const BENCH_SCHEMA_PREFIX = 'lgsp_bench_';
const PREFIX = BENCH_SCHEMA_PREFIX;
const lockKey = (schema: string) => `lgsp-bench-schema:${schema}`;

export interface BenchSchema {
  name: string;
  /** Drops the schema and lets its lock go. */
  drop(): Promise<void>;
}

/** Creates a fresh schema named after `label` and holds its lock until `drop`. */
export async function claimBenchSchema(url: string, label: string): Promise<BenchSchema> {
  const name = `${PREFIX}${label}_${randomUUID().slice(0, 8)}`;
  const holder = new pg.Client({ connectionString: url, application_name: 'lgsp-bench' });
  await holder.connect();
  try {
    await holder.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey(name)]);
    await holder.query(`CREATE SCHEMA ${holder.escapeIdentifier(name)}`);
  } catch (err) {
    await holder.end();
    throw err;
  }
  let dropped = false;
  return {
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      try {
        await holder.query(`DROP SCHEMA IF EXISTS ${holder.escapeIdentifier(name)} CASCADE`);
      } finally {
        await holder.end();
      }
    },
  };
}

/** Drops every `lgsp_bench_*` schema whose lock nobody holds; returns their names. */
export async function dropLeftoverBenchSchemas(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url, application_name: 'lgsp-bench' });
  await client.connect();
  const dropped: string[] = [];
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT nspname AS name FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY nspname`,
      [PREFIX],
    );
    for (const { name } of rows) {
      const { rows: lock } = await client.query<{ free: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)) AS free',
        [lockKey(name)],
      );
      if (lock[0]?.free !== true) continue;
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${client.escapeIdentifier(name)} CASCADE`);
        dropped.push(name);
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey(name)]);
      }
    }
  } finally {
    await client.end();
  }
  return dropped;
}
