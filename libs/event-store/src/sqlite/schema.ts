import type { DialectMigration } from '#lgsp/storage';

/** The component name the event store's tables are versioned under in `schema_version`. */
export const EVENT_STORE_COMPONENT = 'event-store';

export const EVENT_STORE_MIGRATIONS: readonly DialectMigration[] = [
  {
    version: 1,
    description: 'events, checkpoints',
    // position is the rowid, assigned by the writer as head + 1, so it is gap-free. Stream versions
    // come from the (stream, stream_version) index: no separate streams table to update per append.
    sql: `
      CREATE TABLE events (
        position INTEGER PRIMARY KEY,
        stream TEXT NOT NULL,
        stream_version INTEGER NOT NULL,
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
      ) STRICT;
      CREATE INDEX events_by_type ON events (type, position);
      CREATE INDEX events_by_province ON events (province_code, position);
      CREATE TABLE checkpoints (
        subscriber TEXT PRIMARY KEY,
        position INTEGER NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
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
