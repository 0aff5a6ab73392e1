import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdminUnits, EventValidator } from '#lgsp/contracts';
import { SqliteEventStore, type EventStore } from '#lgsp/event-store';
import { IngestService, type IngestObserver } from '#lgsp/ingest';
import { KafkaIngestConsumer, KafkaJsClient, KafkaRelay, KafkaTopics } from '#lgsp/kafka';
import { HubMetrics, type Logger } from '#lgsp/observability';
import {
  SqliteDossierViewRepository,
  openProjectionDatabase,
  type DossierViewRepository,
} from '#lgsp/projections';
import { ClientService, SqliteClientStore, generateToken } from '#lgsp/security';
import { Subscriptions, type SubscriptionLag } from '#lgsp/subscriptions';
import type { HubConfig } from './config/config.js';
import { ProjectionThread } from './projection/projection-thread.js';

/** Everything the hub process holds, built once at start-up from the configuration. */
export interface HubRuntime {
  config: HubConfig;
  logger: Logger;
  store: EventStore;
  units: AdminUnits;
  ingest: IngestService;
  clients: ClientService;
  /** Reads the dossier views (in `projections.db`) on the main thread. */
  dossiers: DossierViewRepository;
  /** The subscribers' lag and state. */
  subscriptions: { lag(): Promise<SubscriptionLag[]> };
  /** The dossier projection, run in a worker thread. */
  projection: ProjectionThread;
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

  const storeFile = join(config.dataDir, 'events.db');
  const store = SqliteEventStore.open({ file: storeFile });
  logger.info({ store: 'sqlite', file: storeFile }, 'event store open');

  const metrics = new HubMetrics();
  const observer: IngestObserver = {
    appended: (type, seconds) => {
      metrics.ingestedEvents.inc({ type, outcome: 'appended' });
      metrics.appendSeconds.observe(seconds);
    },
    duplicate: (type) => metrics.ingestedEvents.inc({ type, outcome: 'duplicate' }),
    rejected: (type, code) => metrics.ingestedEvents.inc({ type, outcome: `rejected-${code}` }),
  };
  const ingest = new IngestService(store, new EventValidator({ adminUnits: units }), observer);

  const clients = new ClientService(new SqliteClientStore(store.database), units);
  clients.setAdminToken(bootstrapAdminToken(config, logger));

  const projectionsFile = join(config.dataDir, 'projections.db');
  const projectionDb = openProjectionDatabase(projectionsFile);
  // Creates or migrates the views' tables before the worker starts, so a read never misses one.
  const dossiers = new SqliteDossierViewRepository(projectionDb);
  logger.info({ file: projectionsFile }, 'projection database open');
  const projection = new ProjectionThread({
    store,
    views: dossiers,
    logger,
    data: {
      eventsFile: storeFile,
      projectionsFile,
      batchSize: config.subscriptions.batchSize,
      logLevel: config.log.level,
    },
  });

  // Subscribers on the main thread (I/O-bound: the Kafka relay), next to the projection's worker.
  const subscriptions = new Subscriptions({ store, logger });
  const kafka = kafkaParts(config, logger, metrics, ingest, clients);
  if (kafka?.relay) subscriptions.register(kafka.relay);

  const runtime: HubRuntime = {
    config,
    logger,
    store,
    units,
    ingest,
    clients,
    dossiers,
    subscriptions: {
      lag: async () => [...(await projection.lag()), ...(await subscriptions.lag())],
    },
    projection,
    metrics,
    ready: false,
    async start() {
      await projection.start();
      await subscriptions.start();
      // In the background: joining the consumer group can take a session timeout after a crash
      // (the dead member must expire first), and Kafka never holds up the hub or HTTP ingest.
      kafka?.consumer
        ?.start()
        .catch((err: unknown) => logger.error({ err }, 'Kafka ingest consumer failed to start'));
    },
    async close() {
      runtime.ready = false;
      await kafka?.consumer?.stop();
      await subscriptions.stop();
      await kafka?.relay?.close();
      await projection.stop();
      projectionDb.close();
      await store.close();
    },
  };
  return runtime;
}

/** The relay and the ingest consumer, when brokers are configured. */
function kafkaParts(
  config: HubConfig,
  logger: Logger,
  metrics: HubMetrics,
  ingest: IngestService,
  clients: ClientService,
): { relay?: KafkaRelay; consumer?: KafkaIngestConsumer } | undefined {
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
    ...(kafka.relay.enabled
      ? {
          relay: new KafkaRelay({
            client,
            topics,
            provinceTopics: kafka.topics,
            batchSize: kafka.relay.batchSize,
            logger: kafkaLogger,
            observer: { published: (topic, count) => metrics.relayedEvents.inc({ topic }, count) },
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
            observer: { outcome: (outcome, code) => metrics.kafkaIngest.inc({ outcome, code: code ?? '' }) },
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
