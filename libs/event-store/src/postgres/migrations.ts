import type { PoolClient } from 'pg';
import { StoreUnavailableError } from '../errors.js';

/** One forward step of the PostgreSQL schema. Versions start at 1 and increase by 1. */
export interface PostgresMigration {
  version: number;
  description: string;
  /** SQL run inside the migration's transaction, with `search_path` set to the store's schema. */
  sql: string;
}

/** The component name the event store's tables are versioned under in `schema_version`. */
export const POSTGRES_EVENT_STORE_COMPONENT = 'event-store';

export const POSTGRES_EVENT_STORE_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    description: 'events, checkpoints',
    // data and extensions are TEXT holding the canonical JSON that is hashed: the stored bytes are
    // exactly what the chain covers (JSONB would reorder keys and reject "\u0000"), and TEXT inserts
    // run ~1.7x faster than JSONB here (TOOLCHAIN.md). The hub filters on the indexed columns, never
    // inside data. time and recorded_at are TEXT for the same reason: they are hashed as written.
    sql: `
      CREATE TABLE events (
        position BIGINT PRIMARY KEY,
        stream TEXT NOT NULL,
        stream_version BIGINT NOT NULL,
        id TEXT NOT NULL,
        source TEXT NOT NULL,
        type TEXT NOT NULL,
        time TEXT,
        subject TEXT,
        datacontenttype TEXT,
        dataschema TEXT,
        data TEXT NOT NULL,
        extensions TEXT NOT NULL,
        province_code TEXT,
        commune_code TEXT,
        recorded_at TEXT NOT NULL,
        hash TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        UNIQUE (source, id),
        UNIQUE (stream, stream_version)
      );
      CREATE INDEX events_by_type ON events (type, position);
      CREATE INDEX events_by_province ON events (province_code, position);
      CREATE INDEX events_by_commune ON events (commune_code, position);
      CREATE TABLE checkpoints (
        subscriber TEXT PRIMARY KEY,
        position BIGINT NOT NULL,
        updated_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: 'subscriber_leases',
    // One row per subscriber name: who may run it now, until when (server clock), and an epoch that
    // grows at every change of holder, so that a holder's late writes can be fenced off.
    sql: `
      CREATE TABLE subscriber_leases (
        subscriber TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        epoch BIGINT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        acquired_at TIMESTAMPTZ NOT NULL,
        renewed_at TIMESTAMPTZ NOT NULL
      );
    `,
  },
];

/**
 * Brings `schema` up to the last migration inside one transaction, serialised against other
 * processes migrating the same schema by an advisory lock. Returns the version now in place.
 * @throws StoreUnavailableError when the database holds a newer schema than this build knows.
 */
export async function applyPostgresMigrations(
  client: PoolClient,
  schema: string,
  migrations: readonly PostgresMigration[] = POSTGRES_EVENT_STORE_MIGRATIONS,
  component: string = POSTGRES_EVENT_STORE_COMPONENT,
): Promise<number> {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  ordered.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`${component}: migrations must be numbered 1, 2, 3…`);
  });
  const latest = ordered.length;
  const quoted = client.escapeIdentifier(schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`lgsp-migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await client.query(`SET LOCAL search_path TO ${quoted}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_version (
         component TEXT PRIMARY KEY,
         version INTEGER NOT NULL,
         updated_at TEXT NOT NULL
       )`,
    );
    const { rows } = await client.query<{ version: number }>(
      'SELECT version FROM schema_version WHERE component = $1',
      [component],
    );
    const current = rows[0]?.version ?? 0;
    if (current > latest) {
      throw new StoreUnavailableError(
        `the database schema ${schema} of ${component} is at version ${current}; this build knows up to ${latest}`,
      );
    }
    for (const m of ordered.slice(current)) await client.query(m.sql);
    if (current !== latest) {
      await client.query(
        `INSERT INTO schema_version (component, version, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (component) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
        [component, latest, new Date().toISOString()],
      );
    }
    await client.query('COMMIT');
    return latest;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
