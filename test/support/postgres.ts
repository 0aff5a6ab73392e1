import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL the tests use: the machine's server, or `LGSP_TEST_POSTGRES_URL`. */
export const POSTGRES_URL = process.env.LGSP_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A connected client; fails the test, naming the server, when PostgreSQL cannot be reached (never a skip). */
export async function pgClient(url = POSTGRES_URL): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${url} (set LGSP_TEST_POSTGRES_URL): ${(err as Error).message}`,
      { cause: err },
    );
  }
  return client;
}

/** A fresh schema name for one test (the hub creates the schema itself). */
export function schemaName(prefix = 'e2e'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Runs `sql` on the schema's tables (search_path set to it). */
export async function queryIn<R extends pg.QueryResultRow>(
  schema: string,
  sql: string,
  params: unknown[] = [],
  url = POSTGRES_URL,
): Promise<R[]> {
  const client = await pgClient(url);
  try {
    await client.query(`SET search_path TO ${client.escapeIdentifier(schema)}`);
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string, url = POSTGRES_URL): Promise<void> {
  const client = await pgClient(url);
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${client.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}

/** What the store holds, read straight from its tables, for checks after a run. */
export interface StoreAudit {
  head: number;
  /** Positions are exactly 1…head. */
  positionsContiguous: boolean;
  /** (source, id) pairs stored more than once (the UNIQUE constraint should make this 0). */
  duplicatePairs: number;
  /** Streams whose versions are not exactly 1…n. */
  streamsWithGaps: string[];
  ids: Set<string>;
}

export async function auditStore(schema: string, url = POSTGRES_URL): Promise<StoreAudit> {
  const [stats] = await queryIn<{ n: string; max: string | null; min: string | null }>(
    schema,
    'SELECT count(*) AS n, max(position) AS max, min(position) AS min FROM events',
    [],
    url,
  );
  const n = Number(stats?.n ?? 0);
  const head = Number(stats?.max ?? 0);
  const dup = await queryIn<{ n: string }>(
    schema,
    'SELECT count(*) AS n FROM (SELECT source, id FROM events GROUP BY source, id HAVING count(*) > 1) d',
    [],
    url,
  );
  const gaps = await queryIn<{ stream: string }>(
    schema,
    `SELECT stream FROM events GROUP BY stream
     HAVING min(stream_version) <> 1 OR max(stream_version) <> count(*) OR count(DISTINCT stream_version) <> count(*)`,
    [],
    url,
  );
  const ids = await queryIn<{ id: string }>(schema, 'SELECT id FROM events', [], url);
  return {
    head,
    positionsContiguous: n === head && (n === 0 || Number(stats?.min) === 1),
    duplicatePairs: Number(dup[0]?.n ?? 0),
    streamsWithGaps: gaps.map((g) => g.stream),
    ids: new Set(ids.map((r) => r.id)),
  };
}
