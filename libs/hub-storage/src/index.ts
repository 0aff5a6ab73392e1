import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SqlCheckpointStore } from '#lgsp/checkpoints';
import {
  SqlParkingStore,
  SqlPendingWorkStore,
  type ParkingStore,
  type PendingWorkStore,
} from '#lgsp/connectors';
import type { EventStore, LeaseStore } from '#lgsp/event-store';
import { PostgresEventStore, PostgresLeaseStore } from '#lgsp/event-store/postgres';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { redactUrl } from '#lgsp/hub-config';
import type { Logger } from '#lgsp/observability';
import { SqlErasureStore, SqlSubjectKeyStore } from '#lgsp/privacy';
import { SqlDossierViewRepository, type DossierViewRepository } from '#lgsp/projections';
import { SqlReconciliationStore } from '#lgsp/reconciliation';
import { SqlReplayStore } from '#lgsp/replay';
import { SqlAuditLog, SqlClientStore, type AuditLog, type ClientStore } from '#lgsp/security';
import { SqlWebhookStore } from '#lgsp/webhooks';
import type { SqlDatabase } from '#lgsp/storage';
import { PostgresDatabase } from '#lgsp/storage/postgres';
import { SqliteDatabase } from '#lgsp/storage/sqlite';

/**
 * What the hub's storage needs of its configuration. The hub's configuration satisfies it as it is;
 * naming only these fields keeps this library apart from where that configuration lives.
 */
export interface StorageConfig {
  /** `sqlite` (the embedded files in `dataDir`) or a postgres:// URL. */
  store: string;
  dataDir: string;
  postgres: { schema: string; poolSize: number };
}

/**
 * Opens (creating or migrating) every table of the configured store: the embedded SQLite files in
 * `dataDir`, or one PostgreSQL schema that several hub processes share. `instanceId` names the
 * PostgreSQL connections.
 */
export function openStorage(config: StorageConfig, logger: Logger, instanceId: string): Promise<HubStorage> {
  return config.store === 'sqlite' ? openEmbedded(config, logger) : openPostgres(config, logger, instanceId);
}

/**
 * `lgsp migrate`: creates or upgrades every table of the configured store (event store, clients,
 * dossier views, leases, connector parking, webhooks, signed checkpoints, erasure requests, personal-data
 * keys) without starting the hub, and returns the versions now in place. Hub
 * processes also migrate at start-up; running it first lets an operator upgrade a shared PostgreSQL
 * schema once, before rolling the replicas.
 */
export async function migrateStorage(config: StorageConfig, logger: Logger): Promise<SchemaVersion[]> {
  if (config.store === 'sqlite') mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const storage = await openStorage(config, logger, 'lgsp-migrate');
  try {
    // The connectors' tables too, so a shared schema is ready before a replica enables one.
    await storage.openParking();
    await storage.openPending();
    await SqlReconciliationStore.open(storage.database);
    await SqlReplayStore.open(storage.database);
    await SqlWebhookStore.open(storage.database);
    await SqlCheckpointStore.open(storage.database);
    await SqlErasureStore.open(storage.database);
    await SqlSubjectKeyStore.open(storage.database);
    return await storage.versions();
  } finally {
    storage.close();
    await storage.store.close();
  }
}

/** Where the hub keeps its events, clients, views and leases. */
export interface HubStorage {
  store: EventStore;
  clients: ClientStore;
  dossiers: DossierViewRepository;
  /** Subscriber leases, when several processes may share the store. */
  leases?: LeaseStore;
  /** The files of the projection worker thread (embedded store only). */
  projectionFiles?: { eventsFile: string; projectionsFile: string };
  /** The schema version of every component, as recorded in the database(s). */
  versions(): Promise<SchemaVersion[]>;
  /** Opens (creating or migrating) the connectors' parking tables in the same storage. */
  openParking(): Promise<ParkingStore>;
  /** Opens (creating or migrating) the connectors' pending-work table in the same storage. */
  openPending(): Promise<PendingWorkStore>;
  /** The audit log, in the same storage. */
  audit: AuditLog;
  /** The events database (SQLite) or the hub's schema (PostgreSQL): reconciliation runs, replays… */
  database: SqlDatabase;
  /** Closes what the store's own `close` does not. */
  close(): void;
}

/** One component's schema version (`schema_version` table). */
export interface SchemaVersion {
  database: string;
  component: string;
  version: number;
}

/** The embedded default: `events.db` (events, checkpoints, clients) and `projections.db` in `dataDir`. */
async function openEmbedded(config: StorageConfig, logger: Logger): Promise<HubStorage> {
  const eventsFile = join(config.dataDir, 'events.db');
  const store = SqliteEventStore.open({ file: eventsFile });
  const database = SqliteDatabase.over(store.database);
  logger.info({ store: 'sqlite', file: eventsFile }, 'event store open');
  const projectionsFile = join(config.dataDir, 'projections.db');
  const projectionDb = SqliteDatabase.open(projectionsFile);
  // Creates or migrates the views' tables before the worker starts, so a read never misses one.
  const dossiers = await SqlDossierViewRepository.open(projectionDb);
  logger.info({ file: projectionsFile }, 'projection database open');
  return {
    store,
    clients: await SqlClientStore.open(database),
    dossiers,
    projectionFiles: { eventsFile, projectionsFile },
    openParking: () => SqlParkingStore.open(database),
    openPending: () => SqlPendingWorkStore.open(database),
    audit: await SqlAuditLog.open(database),
    database,
    versions: async () => [
      ...(await database.versions()).map((v) => ({ database: eventsFile, ...v })),
      ...(await projectionDb.versions()).map((v) => ({ database: projectionsFile, ...v })),
    ],
    close: () => projectionDb.connection.close(),
  };
}

/** The production store: every table in one PostgreSQL schema that several hub processes share. */
async function openPostgres(config: StorageConfig, logger: Logger, instanceId: string): Promise<HubStorage> {
  const { schema, poolSize } = config.postgres;
  const store = await PostgresEventStore.open({
    connectionString: config.store,
    schema,
    poolSize,
    applicationName: `lgsp-hub ${instanceId}`.slice(0, 63),
  });
  const database = PostgresDatabase.over(store.database, schema);
  try {
    const clients = await SqlClientStore.open(database);
    const dossiers = await SqlDossierViewRepository.open(database);
    const audit = await SqlAuditLog.open(database);
    logger.info({ store: 'postgres', url: redactUrl(config.store), schema, instanceId }, 'event store open');
    return {
      store,
      clients,
      dossiers,
      leases: new PostgresLeaseStore(store.database),
      openParking: () => SqlParkingStore.open(database),
      openPending: () => SqlPendingWorkStore.open(database),
      audit,
      database,
      versions: async () => {
        const { rows } = await store.database.query<{ component: string; version: number }>(
          'SELECT component, version FROM schema_version ORDER BY component',
        );
        return rows.map((r) => ({ database: `${redactUrl(config.store)} schema ${schema}`, ...r }));
      },
      close: () => undefined,
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
