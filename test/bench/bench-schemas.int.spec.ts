import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';
import { POSTGRES_URL, pgClient } from '../support/postgres.js';
import { BENCH_SCHEMA_PREFIX, claimBenchSchema, dropLeftoverBenchSchemas } from './bench-schemas.js';

/** Emmett's migrations and one append in `schema`; the messages stored there. */
async function emmettIn(schema: string): Promise<number> {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2, options: `-c search_path=${schema}` });
  const store = getPostgreSQLEventStore(POSTGRES_URL, { connectionOptions: { pool } });
  try {
    await store.schema.migrate();
    await store.appendToStream('dossier-1', [{ type: 'submitted', data: { n: 1 } }]);
    return Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM emt_messages')).rows[0]?.n);
  } finally {
    await store.close();
    await pool.end();
  }
}

async function schemaExists(name: string): Promise<boolean> {
  const client = await pgClient();
  try {
    const { rows } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name]);
    return rows.length === 1;
  } finally {
    await client.end();
  }
}

describe('benchmark schemas', () => {
  // An interrupted PostgreSQL benchmark leaves an Emmett schema behind, whose functions made the next
  // run's Emmett migrations fail ("function emt_add_partition(unknown) does not exist").
  it('a run drops what an interrupted run left, keeps a running one’s schema, and migrates afresh', async () => {
    const leftover = `${BENCH_SCHEMA_PREFIX}emmett1_${randomBytes(4).toString('hex')}`;
    const client = await pgClient();
    try {
      // What a killed run leaves: the schema, migrated and written, without the lock of its session.
      await client.query(`CREATE SCHEMA ${client.escapeIdentifier(leftover)}`);
    } finally {
      await client.end();
    }
    expect(await emmettIn(leftover)).toBe(1);
    const running = await claimBenchSchema(POSTGRES_URL, 'running');
    let next: Awaited<ReturnType<typeof claimBenchSchema>> | undefined;
    try {
      const dropped = await dropLeftoverBenchSchemas(POSTGRES_URL);
      expect(dropped).toContain(leftover);
      expect(dropped).not.toContain(running.name);
      expect(await schemaExists(leftover)).toBe(false);
      expect(await schemaExists(running.name)).toBe(true);

      next = await claimBenchSchema(POSTGRES_URL, 'emmett1');
      expect(await emmettIn(next.name)).toBe(1);
    } finally {
      await next?.drop();
      await running.drop();
    }
    expect(await schemaExists(running.name)).toBe(false);
  });
});
