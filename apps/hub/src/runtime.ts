import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdminUnits, EventValidator } from '#lgsp/contracts';
import { SqliteEventStore, type EventStore } from '#lgsp/event-store';
import { IngestService, type IngestObserver } from '#lgsp/ingest';
import { HubMetrics, type Logger } from '#lgsp/observability';
import {
  DossierProjection,
  SqliteDossierViewRepository,
  type DossierViewRepository,
} from '#lgsp/projections';
import { ClientService, SqliteClientStore, generateToken } from '#lgsp/security';
import { Subscriptions } from '#lgsp/subscriptions';
import type { HubConfig } from './config/config.js';

/** Everything the hub process holds, built once at start-up from the configuration. */
export interface HubRuntime {
  config: HubConfig;
  logger: Logger;
  store: EventStore;
  units: AdminUnits;
  ingest: IngestService;
  clients: ClientService;
  dossiers: DossierViewRepository;
  subscriptions: Subscriptions;
  metrics: HubMetrics;
  /** False while starting and once shutdown has begun. */
  ready: boolean;
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

  const dossiers = new SqliteDossierViewRepository(store.database);
  const subscriptions = new Subscriptions({ store, logger });
  subscriptions.register(new DossierProjection(dossiers, { batchSize: config.subscriptions.batchSize }));

  const runtime: HubRuntime = {
    config,
    logger,
    store,
    units,
    ingest,
    clients,
    dossiers,
    subscriptions,
    metrics,
    ready: false,
    async close() {
      runtime.ready = false;
      await subscriptions.stop();
      await store.close();
    },
  };
  return runtime;
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
