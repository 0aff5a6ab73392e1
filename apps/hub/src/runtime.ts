import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AdminUnits, EventValidator } from '#lgsp/contracts';
import type { EventStore, LeaseStore } from '#lgsp/event-store';
import { openStorage } from '#lgsp/hub-storage';
import { IngestService, PortalCodeCheck, type IngestObserver } from '#lgsp/ingest';
import {
  KafkaConnectionCheck,
  KafkaIngestConsumer,
  KafkaJsClient,
  KafkaRelay,
  KafkaReplayTargets,
  KafkaTopics,
  type KafkaClientOptions,
  type KafkaConnectionState,
} from '#lgsp/kafka';
import { HubMetrics, resolveLogFormat, type RootLogger as Logger } from '#lgsp/observability';
import { DossierProjection, type DossierViewRepository } from '#lgsp/projections';
import { expectedDossiers, type ReconciliationService } from '#lgsp/reconciliation';
import type { ReconciliationLookup, ReplayService } from '#lgsp/replay';
import { ClientService, generateToken, JoseJwtVerifier, JwtLogin, type AuditLog } from '#lgsp/security';
import { Subscriptions, type SubscriptionLag } from '#lgsp/subscriptions';
import {
  HUB_ROLES,
  kafkaSummary,
  type HubConfig,
  type HubRole,
  type JwtConfig,
  type KafkaConfig,
} from '#lgsp/hub-config';
import { checkpointParts, type CheckpointReader } from './checkpoints/checkpoint-parts.js';
import { connectorParts, type RunningConnectors } from './connectors/connectors.js';
import { ProjectionThread } from './projection/projection-thread.js';
import { reconciliationParts } from './reconciliation/reconciliation-parts.js';
import { openReplayStore, replayParts } from './replay/replay-parts.js';
import { webhookParts } from './webhooks/webhook-parts.js';
import { sampleOperations } from './operations-metrics.js';
import type { AdminCredentialSource } from './startup-summary.js';
import { privacyParts, RevealingDossierViews, type PrivacyParts } from './privacy/privacy-parts.js';
import { affectedParts, type AffectedFinder } from './privacy/affected-parts.js';
import { erasureParts, type ErasureParts } from './privacy/erasure-parts.js';
import { SealingEventStore, WorkingCopies } from '#lgsp/privacy';
import type { WebhookService } from '#lgsp/webhooks';

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
  /** The personal-data keys and codec; undefined when `privacy.enabled` is false. */
  privacy: PrivacyParts | undefined;
  /** "Who was affected" (breach reports); undefined when `privacy.enabled` is false. */
  affected: AffectedFinder | undefined;
  /** Erasure requests and the retention; undefined when `privacy.enabled` is false. */
  erasures: ErasureParts | undefined;
  /** The operators' audit log (events database, or the PostgreSQL schema). */
  audit: AuditLog;
  /** Reconciliation runs against the enabled connectors' systems. */
  reconciliation: ReconciliationService;
  /** Replay plans and runs to one connector target. */
  replay: ReplayService;
  /** Webhook subscriptions (the `/v1/webhooks` API); undefined when `webhooks.enabled` is false. */
  webhooks: WebhookService | undefined;
  /** The signed checkpoints of the log; undefined when `checkpoints.enabled` is false. */
  checkpoints: CheckpointReader | undefined;
  /** The subscribers' lag and state. */
  subscriptions: { lag(): Promise<SubscriptionLag[]> };
  /**
   * The dossier projection's worker thread, on the embedded store. On PostgreSQL the projection is a
   * subscriber like the others (under a lease, in one replica at a time), and this is undefined.
   */
  projection: ProjectionThread | undefined;
  /** This process among the replicas sharing a PostgreSQL store. */
  instanceId: string;
  /** Whether this process runs `role` (`config.roles`). */
  runs(role: HubRole): boolean;
  metrics: HubMetrics;
  /** Where the admin credential came from (for the start-up summary; never the credential). */
  adminCredential: AdminCredentialSource;
  /** The connection to Kafka as last checked; undefined when no brokers are configured. */
  kafka: { readonly state: KafkaConnectionState } | undefined;
  /** False while starting and once shutdown has begun. */
  ready: boolean;
  /** Starts the subscribers; resolves once the projection worker is ready. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** JWT logins against the identity provider's key set (`auth.jwt`). */
function jwtLogin(settings: JwtConfig, units: AdminUnits, logger: Logger): JwtLogin {
  const { issuer, audience, jwksUrl, roleMap } = settings;
  logger.info({ issuer, audience, jwksUrl, idpRoles: Object.keys(roleMap) }, 'JWT logins on');
  return new JwtLogin(new JoseJwtVerifier(settings), settings, units, {
    clockToleranceSeconds: settings.clockToleranceSeconds,
  });
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
  const storage = await openStorage(config, logger, instanceId);
  // Personal fields are sealed per data subject below everything that reads or writes events: the log,
  // the projection and every copy hold sealed values; the readers above see clear text or `[erased]`.
  const privacy = await privacyParts(config, storage.database, logger, storage.store);
  const sealed = storage.store;
  const store: EventStore = privacy ? new SealingEventStore(sealed, privacy.codec) : sealed;
  // Copies of personal data beside the log (pending work, reconciliation findings, webhook answers)
  // are sealed too, as working copies of their dossiers.
  const copies = privacy ? new WorkingCopies(privacy.codec) : undefined;

  const metrics = new HubMetrics();
  const observer: IngestObserver = {
    appended: (type, seconds) => metrics.eventAppended(type, seconds),
    duplicate: (type) => metrics.eventDuplicate(type),
    rejected: (type, code) => metrics.eventRejected(type, code),
  };
  const { mode, ...rules } = config.ingest.codeCheck;
  const ingest = new IngestService(store, new EventValidator({ adminUnits: units }), {
    observer,
    units,
    // Ownership folds types and codes: it reads the log as stored, opening no personal data.
    ownersFrom: sealed,
    codeCheck: mode === 'off' ? undefined : new PortalCodeCheck(mode, rules),
  });

  const clients = new ClientService(storage.clients, units, {
    tokenTtlSeconds: config.auth.tokenTtlSeconds,
    rotationOverlapSeconds: config.auth.rotationOverlapSeconds,
    ...(config.auth.jwt ? { jwt: jwtLogin(config.auth.jwt, units, logger) } : {}),
  });
  const admin = bootstrapAdminToken(config, logger);
  clients.setAdminToken(admin.token);
  const dossiers = privacy ? new RevealingDossierViews(storage.dossiers, privacy.codec) : storage.dossiers;

  // On the embedded store the projection runs in its own worker thread (CPU next to ingest); on
  // PostgreSQL every subscriber runs on the main thread, each in the one replica holding its lease.
  const projection = storage.projectionFiles
    ? new ProjectionThread({
        store: sealed,
        views: storage.dossiers,
        logger,
        onUnreadable: (type) => metrics.eventUnreadable('projection', type),
        data: {
          ...storage.projectionFiles,
          batchSize: config.subscriptions.batchSize,
          logLevel: config.log.level,
          logFormat: resolveLogFormat(config.log.format, process.stdout.isTTY === true),
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
  const roles = new Set(config.roles);
  const runs = (role: HubRole): boolean => roles.has(role);
  metrics.roles(HUB_ROLES, config.roles);
  // The subscribers of the roles other processes run are registered here and never started: their lag
  // is read from the stored checkpoints, as a replica that does not hold their lease reports it.
  const observed = new Subscriptions({ store: sealed, logger });
  const subscriptionsOf = (role: HubRole): Subscriptions => (runs(role) ? subscriptions : observed);
  // The projection folds the events as stored (sealed values), so that the views hold no clear text.
  const projectionSubscriptions =
    projection || !privacy
      ? subscriptions
      : new Subscriptions({ store: sealed, logger, ...(lease ? { lease } : {}) });
  if (!projection)
    (runs('projection') ? projectionSubscriptions : observed).register(
      new DossierProjection(storage.dossiers, {
        batchSize: config.subscriptions.batchSize,
        logger,
        onUnreadable: (event) => metrics.eventUnreadable('projection', event.type),
      }),
    );
  const kafka = kafkaParts(config, logger, metrics, ingest, clients, store);
  if (kafka?.relay) subscriptionsOf('relay').register(kafka.relay);
  const connectors = await connectorParts(config, logger, store, units, ingest, storage, copies, metrics);
  for (const connector of connectors.subscribers) subscriptionsOf('connectors').register(connector);

  const { audit } = storage;
  // Webhooks park their dossiers in the connectors' parking (target `webhook:<id>`), opened for them
  // when no connector runs.
  const parking =
    connectors.running.parking ?? (config.webhooks.enabled ? await storage.openParking() : undefined);
  // The breakers of a process without the connectors role take no calls, so their state says nothing
  // of the target: the console shows it `unknown` and the metrics leave it out there.
  const { circuits, ...connectorsRunning } = connectors.running;
  const running: RunningConnectors = {
    ...connectorsRunning,
    parking,
    ...(circuits && runs('connectors') ? { circuits } : {}),
  };
  const sampleConnectors = metrics.samplers.connectors;
  if (sampleConnectors && !runs('connectors'))
    metrics.samplers.connectors = async () =>
      (await sampleConnectors()).map(({ target, parked }) => ({ target, parked }));
  const webhooks = parking
    ? await webhookParts({
        config,
        logger,
        database: storage.database,
        events: store,
        units,
        parking,
        audit,
        metrics,
        subscriptions: subscriptionsOf('webhooks'),
        leased: lease !== undefined,
        ...(copies ? { copies } : {}),
        ...(privacy
          ? { stored: { events: sealed, open: (events) => privacy.codec.revealEventsLazily(events) } }
          : {}),
      })
    : undefined;
  const checkpoints = await checkpointParts({
    config,
    logger,
    database: storage.database,
    events: sealed,
    subscriptions: subscriptionsOf('projection'),
    leased: lease !== undefined,
  });
  const reconciliation = await reconciliationParts({
    storage: storage.database,
    logger,
    reconcilers: connectors.reconcilers,
    expected: (scope, signal) => expectedDossiers(store, scope, { signal }),
    audit,
    ingest,
    ...(copies ? { copies } : {}),
  });
  const affected = privacy
    ? affectedParts({
        events: sealed,
        codec: privacy.codec,
        checkpoints: sealed.checkpoints,
        connectors: connectors.subscribers,
        webhooks: webhooks?.service,
        relay: kafka?.relay,
        clients: storage.clients,
      })
    : undefined;
  const erasures = await erasureParts({
    config,
    logger,
    database: storage.database,
    privacy,
    events: store,
    stored: sealed,
    audit,
    thirdParties: () => connectors.subscribers.length > 0 || webhooks !== undefined || !!kafka?.relay,
    // Replicas sharing the store cache keys for keyCacheMs: the notices wait until none can open them.
    settleMs: lease ? config.privacy.keyCacheMs : 0,
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
    resolveTarget: async (name: string) =>
      (await webhooks?.resolveTarget(name)) ?? (await kafka?.replay.resolve(name, storage.clients)),
  });

  sampleOperations(metrics, { reconciliation, replay });

  const runtime: HubRuntime = {
    config,
    logger,
    store,
    units,
    ingest,
    clients,
    dossiers,
    connectors: running,
    privacy,
    affected,
    erasures,
    audit,
    reconciliation,
    replay,
    webhooks: webhooks?.service,
    checkpoints: checkpoints?.reader,
    subscriptions: {
      lag: async () => [
        ...((await projection?.lag()) ?? []),
        ...(projectionSubscriptions === subscriptions ? [] : await projectionSubscriptions.lag()),
        ...(await subscriptions.lag()),
        ...(await observedLag(observed, storage.leases)),
      ],
    },
    projection,
    instanceId,
    runs,
    metrics,
    adminCredential: admin.source,
    kafka: kafka?.check,
    ready: false,
    async start() {
      await projection?.start();
      if (projectionSubscriptions !== subscriptions) await projectionSubscriptions.start();
      await subscriptions.start();
      if (runs('webhooks')) webhooks?.start();
      if (runs('projection')) {
        checkpoints?.start();
        erasures?.start();
      }
      if (runs('connectors')) for (const poller of connectors.pollers) poller.start();
      if (runs('replay')) replay.start();
      // A refused password or certificate shows in readiness from the start; an unreachable broker
      // does not hold the start up longer than this (the check goes on in the background).
      if (kafka)
        await Promise.race([
          kafka.check.start(),
          new Promise((resolve) => setTimeout(resolve, KAFKA_START_CHECK_MS).unref()),
        ]);
      // In the background: joining the consumer group can take a session timeout after a crash
      // (the dead member must expire first), and Kafka never holds up the hub or HTTP ingest.
      if (runs('api'))
        kafka?.consumer
          ?.start()
          .catch((err: unknown) => logger.error({ err }, 'Kafka ingest consumer failed to start'));
    },
    async close() {
      runtime.ready = false;
      kafka?.check.stop();
      await kafka?.consumer?.stop();
      await Promise.all(connectors.pollers.map((p) => p.stop()));
      await replay.stop();
      await erasures?.stop();
      await reconciliation.close();
      await subscriptions.stop();
      if (projectionSubscriptions !== subscriptions) await projectionSubscriptions.stop();
      await webhooks?.stop();
      await checkpoints?.stop();
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
 * The lag of the subscribers other processes run, each `standby` (as in a replica that does not hold
 * its lease), with the holder of its lease when one is held.
 */
async function observedLag(
  observed: Subscriptions,
  leases: LeaseStore | undefined,
): Promise<SubscriptionLag[]> {
  const lags = await observed.lag();
  if (lags.length === 0) return lags;
  const now = Date.now();
  const holders = new Map(
    (await leases?.list())
      ?.filter((l) => Date.parse(l.expiresAt) > now)
      .map((l) => [l.subscriber, l.holder] as const) ?? [],
  );
  return lags.map(({ leaseHolder: _none, ...lag }) => {
    const holder = holders.get(lag.name);
    return { ...lag, state: 'standby', ...(holder === undefined ? {} : { leaseHolder: holder }) };
  });
}

/** How long the start waits for the first Kafka connection check. */
const KAFKA_START_CHECK_MS = 5000;

/** How the client reaches the cluster: brokers, TLS (the PEM files read now) and SASL. */
function kafkaClientOptions(kafka: KafkaConfig): Omit<KafkaClientOptions, 'logger'> {
  const { tls, sasl } = kafka;
  const read = (file: string) => readFileSync(file, 'utf8');
  return {
    brokers: kafka.brokers,
    clientId: kafka.clientId,
    ...(tls.enabled
      ? {
          ssl: {
            ...(tls.caFile ? { ca: [read(tls.caFile)] } : {}),
            ...(tls.certFile && tls.keyFile ? { cert: read(tls.certFile), key: read(tls.keyFile) } : {}),
          },
        }
      : {}),
    ...(sasl?.password
      ? { sasl: { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password.reveal() } }
      : {}),
  };
}

/** The relay, the ingest consumer and the consumers' replay targets, when brokers are configured. */
function kafkaParts(
  config: HubConfig,
  logger: Logger,
  metrics: HubMetrics,
  ingest: IngestService,
  clients: ClientService,
  events: EventStore,
):
  | {
      relay?: KafkaRelay;
      consumer?: KafkaIngestConsumer;
      replay: KafkaReplayTargets;
      check: KafkaConnectionCheck;
    }
  | undefined {
  const { kafka } = config;
  if (kafka.brokers.length === 0) return undefined;
  const kafkaLogger = logger.child({ component: 'kafka' });
  const client = new KafkaJsClient({ ...kafkaClientOptions(kafka), logger: kafkaLogger });
  const topics = new KafkaTopics({ prefix: kafka.topicPrefix });
  logger.info(kafkaSummary(kafka), 'Kafka configured');
  return {
    check: new KafkaConnectionCheck({ client, logger: kafkaLogger }),
    replay: new KafkaReplayTargets({
      client,
      events,
      topics,
      replayTopics: kafka.topics,
      ratePerSecond: kafka.replay.ratePerSecond,
      batchSize: kafka.replay.batchSize,
      eventVersions: kafka.relay.eventVersions,
      logger: kafkaLogger,
    }),
    ...(kafka.relay.enabled
      ? {
          relay: new KafkaRelay({
            client,
            topics,
            provinceTopics: kafka.topics,
            batchSize: kafka.relay.batchSize,
            eventVersions: kafka.relay.eventVersions,
            logger: kafkaLogger,
            observer: {
              published: (topic, count) => metrics.relayed(topic, count),
              unreadable: (_topic, event) => metrics.eventUnreadable('relay', event.type),
            },
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
function bootstrapAdminToken(
  config: HubConfig,
  logger: Logger,
): { token: string; source: AdminCredentialSource } {
  const fromEnv = process.env.LGSP_ADMIN_TOKEN;
  if (fromEnv) {
    logger.info('admin credential taken from LGSP_ADMIN_TOKEN');
    return { token: fromEnv, source: { source: 'env' } };
  }
  const file = join(config.dataDir, 'admin-token');
  if (existsSync(file)) {
    logger.info({ file }, 'admin credential read from the data folder');
    return { token: readFileSync(file, 'utf8').trim(), source: { source: 'file', file, created: false } };
  }
  const token = generateToken();
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  logger.warn({ file }, 'created an admin credential; read it from this file (owner-only) and keep it safe');
  return { token, source: { source: 'file', file, created: true } };
}

/** The dossiers with mismatches of a reconciliation run, for a replay planned from it. */
function reconciliationLookup(reconciliation: ReconciliationService): ReconciliationLookup {
  return async (id) => {
    const run = await reconciliation.get(id).catch(() => undefined);
    if (run === undefined) return undefined;
    const dossiers = new Set<string>();
    // Records only the system holds, still open: no replay can fix them (the plan says so).
    const extras = new Set<string>();
    let after: number | undefined;
    for (;;) {
      const page = await reconciliation.mismatches(id, {
        limit: 1000,
        ...(after === undefined ? {} : { after }),
      });
      for (const m of page.mismatches) {
        if (m.category === 'unexpected-extra') {
          if (m.resolution === undefined) extras.add(m.dossier);
        } else dossiers.add(m.dossier);
      }
      if (page.next === undefined) break;
      after = page.next;
    }
    return { target: run.target, dossiers: [...dossiers, ...extras], extras: [...extras] };
  };
}
