import type { DialectMigration } from '#lgsp/storage';
import { checkpointsTableSql, eventsTableSql } from '../records.js';

/** The component name the event store's tables are versioned under in `schema_version`. */
export const EVENT_STORE_COMPONENT = 'event-store';

export const EVENT_STORE_MIGRATIONS: readonly DialectMigration[] = [
  {
    version: 1,
    description: 'events, checkpoints',
    // position is the rowid, assigned by the writer as head + 1, so it is gap-free. Stream versions
    // come from the (stream, stream_version) index: no separate streams table to update per append.
    sql: `${eventsTableSql('INTEGER', ' STRICT')}${checkpointsTableSql('INTEGER', ' STRICT')}
    `,
  },
  {
    version: 2,
    description: 'events_by_commune',
    // A commune's (or several communes') read of the global log seeks through this index, as a
    // province's does through events_by_province; see readAllSql.
    sql: `CREATE INDEX events_by_commune ON events (commune_code, position);`,
  },
];
