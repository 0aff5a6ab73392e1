import type { DialectMigration } from '#lgsp/storage';
import { checkpointsTableSql, eventsTableSql } from '../records.js';

/**
 * One forward step of the PostgreSQL schema. Versions start at 1 and increase by 1; the storage
 * driver's `migratePostgresSchema` runs them under its advisory lock per schema.
 */
export type PostgresMigration = DialectMigration;

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
    sql: `${eventsTableSql('BIGINT', '')}
      CREATE INDEX events_by_commune ON events (commune_code, position);${checkpointsTableSql('BIGINT', '')}
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
