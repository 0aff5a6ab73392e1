import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  SqlParkingStore,
  SqlPendingWorkStore,
  type ParkingStore,
  type PendingWorkStore,
} from '#lgsp/connectors';
import { AdminUnits, EventValidator } from '#lgsp/contracts';
import { type EventStore, type LeaseStore } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { PostgresEventStore, PostgresLeaseStore } from '#lgsp/event-store/postgres';
import { IngestService, type IngestObserver } from '#lgsp/ingest';
import { KafkaIngestConsumer, KafkaJsClient, KafkaRelay, KafkaReplayTargets, KafkaTopics } from '#lgsp/kafka';
import { HubMetrics, type RootLogger as Logger } from '#lgsp/observability';
import {
  DossierProjection,
  PostgresDossierViewRepository,
  SqliteDossierViewRepository,
  openProjectionDatabase,
  type DossierViewRepository,
} from '#lgsp/projections';
import { expectedDossiers, type ReconciliationService } from '#lgsp/reconciliation';
import type { ReconciliationLookup, ReplayService } from '#lgsp/replay';
import {
  ClientService,
  SqlAuditLog,
  SqlClientStore,
  generateToken,
  type AuditLog,
  type ClientStore,
} from '#lgsp/security';
import type { SqlDatabase } from '#lgsp/storage';
import { PostgresDatabase } from '#lgsp/storage/postgres';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { Subscriptions, type SubscriptionLag } from '#lgsp/subscriptions';
import { redactUrl, type HubConfig } from '#lgsp/hub-config';
import { connectorParts, type RunningConnectors } from './connectors/connectors.js';
import { ProjectionThread } from './projection/projection-thread.js';
import { openReconciliationStore, reconciliationParts } from './reconciliation/reconciliation-parts.js';
import { openReplayStore, replayParts } from './replay/replay-parts.js';

/** Everything the hub process holds, built once at start-up from the configuration. */
export interface HubRuntime {
  config: HubConfig;
  logger: Logger;
  store: EventStore;
  units: AdminUnits;
  ingest: IngestService;
  clients: ClientService;
  /** Reads the dossier views (in `projections.db`, or PostgreSQL). */
  dossiers: DossierViewRepository;
  /**
   * The outbound connectors running in this hub, by target (e.g. `portal`), with the parking they share.
   * Empty when none is enabled.
   */
  connectors: RunningConnectors;
  /** The operators' audit log (events database, or the PostgreSQL schema). */
  audit: AuditLog;
  /** Reconciliation runs against the enabled connectors' systems. */
  reconciliation: ReconciliationService;
  /** Replay plans and runs to one connector target. */
  replay: ReplayService;
  /** The subscribers' lag and state. */
  subscriptions: { lag(): Promise<SubscriptionLag[]> };
  /**
   * The dossier projection's worker thread, on the embedded store. On PostgreSQL the projection is a
   * subscriber like the others (under a lease, in one replica at a time), and this is undefined.
   */
  projection: ProjectionThread | undefined;
  /** This process among the replicas sharing a PostgreSQL store. */
  instanceId: string;
  metrics: HubMetrics;
  /** False while starting and once shutdown has begun. */
  ready: boolean;
  /** Starts the subscribers; resolves once the projection worker is ready. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function createRuntime(config: HubConfig, logger: Logger): Promise<HubRuntime> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const units = config.adminUnits.file ? AdminUnits.load(config.adminUnits.file) : AdminUnits.sample();
  logger.info(
    {
      provinces: units.provinceCount,
      communes: units.communeCount,
      file: config.adminUnits.file ?? 'built-in sample',
    },
    'administrative units loaded',
  );

  const instanceId = config.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const storage =
    config.store === 'sqlite'
      ? await openEmbedded(config, logger)
      : await openPostgres(config, logger, instanceId);
  const { store } = storage;

  const metrics = new HubMetrics();
  const observer: IngestObserver = {
    appended: (type, seconds) => metrics.eventAppended(type, seconds),
    duplicate: (type) => metrics.eventDuplicate(type),
    rejected: (type, code) => metrics.eventRejected(type, code),
  };
  const ingest = new IngestService(store, new EventValidator({ adminUnits: units }), { observer, units });

  const clients = new ClientService(storage.clients, units);
  clients.setAdminToken(bootstrapAdminToken(config, logger));
  const { dossiers } = storage;

  // On the embedded store the projection runs in its own worker thread (CPU next to ingest); on
  // PostgreSQL every subscriber runs on the main thread, each in the one replica holding its lease.
  const projection = storage.projectionFiles
    ? new ProjectionThread({
        store,
        views: dossiers,
        logger,
        data: {
          ...storage.projectionFiles,
          batchSize: config.subscriptions.batchSize,
          logLevel: config.log.level,
        },
      })
    : undefined;
  // With leases (PostgreSQL replicas) subscribers and replay runs each run in one replica at a time.
  const lease = storage.leases
    ? { store: storage.leases, holder: instanceId, ttlMs: config.subscriptions.leaseTtlMs }
    : undefined;
  const subscriptions = new Subscriptions({
    store,
    logger,
    ...(lease ? { lease } : {}),
  });
  if (!projection)
    subscriptions.register(new DossierProjection(dossiers, { batchSize: config.subscriptions.batchSize }));
  const kafka = kafkaParts(config, logger, metrics, ingest, clients, store);
  if (kafka?.relay) subscriptions.register(kafka.relay);
  const connectors = await connectorParts(config, logger, store, units, ingest, storage);
  for (const connector of connectors.subscribers) subscriptions.register(connector);

  const { audit } = storage;
  const reconciliation = await reconciliationParts({
    storage: storage.database,
    logger,
    reconcilers: connectors.reconcilers,
    expected: (scope, signal) => expectedDossiers(store, scope, { signal }),
    audit,
  });
  const c = config.connectors;
  const replay = replayParts({
    store: await openReplayStore(storage.database),
    events: store,
    connectors: connectors.subscribers,
    rates: new Map([
      ['portal', c.portal.ratePerSecond],
      ['one-stop-shop', c.oneStopShop.ratePerSecond],
      ['civil-registry', c.civilRegistry.ratePerSecond],
      ['payments', c.payments.ratePerSecond],
    ]),
    ...(connectors.running.parking ? { parking: connectors.running.parking } : {}),
    audit,
    settings: config.replay,
    logger,
    reconciliation: reconciliationLookup(reconciliation),
    ...(lease ? { lease } : {}),
    ...(kafka ? { resolveTarget: (name: string) => kafka.replay.resolve(name, storage.clients) } : {}),
  });

  const runtime: HubRuntime = {
    config,
    logger,
    store,
    units,
    ingest,
    clients,
    dossiers,
    connectors: connectors.running,
    audit,
    reconciliation,
    replay,
    subscriptions: {
      lag: async () => [...((await projection?.lag()) ?? []), ...(await subscriptions.lag())],
    },
    projection,
    instanceId,
    metrics,
    ready: false,
    async start() {
      await projection?.start();
      await subscriptions.start();
      for (const poller of connectors.pollers) poller.start();
      replay.start();
      // In the background: joining the consumer group can take a session timeout after a crash
      // (the dead member must expire first), and Kafka never holds up the hub or HTTP ingest.
      kafka?.consumer
        ?.start()
        .catch((err: unknown) => logger.error({ err }, 'Kafka ingest consumer failed to start'));
    },
    async close() {
      runtime.ready = false;
      await kafka?.consumer?.stop();
      await Promise.all(connectors.pollers.map((p) => p.stop()));
      await replay.stop();
      await reconciliation.close();
      await subscriptions.stop();
      connectors.close();
      await kafka?.relay?.close();
      await kafka?.replay.close();
      await projection?.stop();
      storage.close();
      await store.close();
    },
  };
  return runtime;
}

/**
 * `lgsp migrate`: creates or upgrades every table of the configured store (event store, clients,
 * dossier views, leases, connector parking) without starting the hub, and returns the versions now in place. Hub
 * processes also migrate at start-up; running it first lets an operator upgrade a shared PostgreSQL
 * schema once, before rolling the replicas.
 */
export async function migrateStorage(config: HubConfig, logger: Logger): Promise<SchemaVersion[]> {
  if (config.store === 'sqlite') mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const storage =
    config.store === 'sqlite'
      ? await openEmbedded(config, logger)
      : await openPostgres(config, logger, 'lgsp-migrate');
  try {
    // The connectors' tables too, so a shared schema is ready before a replica enables one.
    await storage.openParking();
    await storage.openPending();
    await openReconciliationStore(storage.database);
    await openReplayStore(storage.database);
    return await storage.versions();
  } finally {
    storage.close();
    await storage.store.close();
  }
}

/** Where the hub keeps its events, clients, views and leases. */
interface Storage {
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
async function openEmbedded(config: HubConfig, logger: Logger): Promise<Storage> {
  const eventsFile = join(config.dataDir, 'events.db');
  const store = SqliteEventStore.open({ file: eventsFile });
  const database = SqliteDatabase.over(store.database);
  logger.info({ store: 'sqlite', file: eventsFile }, 'event store open');
  const projectionsFile = join(config.dataDir, 'projections.db');
  const projectionDb = openProjectionDatabase(projectionsFile);
  // Creates or migrates the views' tables before the worker starts, so a read never misses one.
  const dossiers = new SqliteDossierViewRepository(projectionDb);
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
    versions: async () =>
      [
        { database: eventsFile, db: store.database },
        { database: projectionsFile, db: projectionDb },
      ].flatMap(({ database, db }) =>
        (
          db.prepare('SELECT component, version FROM schema_version ORDER BY component').all() as {
            component: string;
            version: number;
          }[]
        ).map((r) => ({ database, component: r.component, version: r.version })),
      ),
    close: () => projectionDb.close(),
  };
}

/** The production store: every table in one PostgreSQL schema that several hub processes share. */
async function openPostgres(config: HubConfig, logger: Logger, instanceId: string): Promise<Storage> {
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
    const dossiers = await PostgresDossierViewRepository.open(store.database, schema);
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

/** The relay, the ingest consumer and the consumers' replay targets, when brokers are configured. */
function kafkaParts(
  config: HubConfig,
  logger: Logger,
  metrics: HubMetrics,
  ingest: IngestService,
  clients: ClientService,
  events: EventStore,
): { relay?: KafkaRelay; consumer?: KafkaIngestConsumer; replay: KafkaReplayTargets } | undefined {
  const { kafka } = config;
  if (kafka.brokers.length === 0) return undefined;
  const kafkaLogger = logger.child({ component: 'kafka' });
  const client = new KafkaJsClient({ brokers: kafka.brokers, clientId: kafka.clientId, logger: kafkaLogger });
  const topics = new KafkaTopics({ prefix: kafka.topicPrefix });
  logger.info(
    {
      brokers: kafka.brokers,
      topicPrefix: kafka.topicPrefix,
      relay: kafka.relay.enabled,
      ingest: kafka.ingest.enabled,
    },
    'Kafka configured',
  );
  return {
    replay: new KafkaReplayTargets({
      client,
      events,
      topics,
      replayTopics: kafka.topics,
      ratePerSecond: kafka.replay.ratePerSecond,
      batchSize: kafka.replay.batchSize,
      logger: kafkaLogger,
    }),
    ...(kafka.relay.enabled
      ? {
          relay: new KafkaRelay({
            client,
            topics,
            provinceTopics: kafka.topics,
            batchSize: kafka.relay.batchSize,
            logger: kafkaLogger,
            observer: { published: (topic, count) => metrics.relayed(topic, count) },
          }),
        }
      : {}),
    ...(kafka.ingest.enabled
      ? {
          consumer: new KafkaIngestConsumer({
            client,
            ingest,
            sources: clients,
            topics,
            groupId: kafka.ingest.groupId,
            createTopics: kafka.topics,
            logger: kafkaLogger,
            observer: { outcome: (outcome, code) => metrics.kafkaIngested(outcome, code) },
          }),
        }
      : {}),
  };
}

/**
 * `LGSP_ADMIN_TOKEN` bootstraps the first admin credential. Without it the hub creates one at first
 * start and keeps it in a file only its owner can read; the log says where, never what.
 */
function bootstrapAdminToken(config: HubConfig, logger: Logger): string {
  const fromEnv = process.env.LGSP_ADMIN_TOKEN;
  if (fromEnv) {
    logger.info('admin credential taken from LGSP_ADMIN_TOKEN');
    return fromEnv;
  }
  const file = join(config.dataDir, 'admin-token');
  if (existsSync(file)) {
    logger.info({ file }, 'admin credential read from the data folder');
    return readFileSync(file, 'utf8').trim();
  }
  const token = generateToken();
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  logger.warn({ file }, 'created an admin credential; read it from this file (owner-only) and keep it safe');
  return token;
}

/** The dossiers with mismatches of a reconciliation run, for a replay planned from it. */
function reconciliationLookup(reconciliation: ReconciliationService): ReconciliationLookup {
  return async (id) => {
    const run = await reconciliation.get(id).catch(() => undefined);
    if (run === undefined) return undefined;
    const dossiers = new Set<string>();
    let after: number | undefined;
    for (;;) {
      const page = await reconciliation.mismatches(id, {
        limit: 1000,
        ...(after === undefined ? {} : { after }),
      });
      for (const m of page.mismatches) dossiers.add(m.dossier);
      if (page.next === undefined) break;
      after = page.next;
    }
    return { target: run.target, dossiers: [...dossiers] };
  };
}
