import {
  CIVIL_REGISTRY_TARGET,
  CircuitBreaker,
  CivilRegistryClient,
  CivilRegistryConnector,
  CivilRegistryReconciler,
  CivilRegistryResultPoller,
  DvcltClient,
  IngestSink,
  ONE_STOP_SHOP_TARGET,
  OneStopShopClient,
  OneStopShopReconciler,
  OneStopShopSyncConnector,
  OnlineSubmissionCapture,
  PAYMENTS_TARGET,
  PaymentCallbackHandler,
  PaymentClient,
  PaymentConnector,
  PaymentReconciler,
  PaymentStatusPoller,
  PORTAL_ONLINE_CHECKPOINT,
  PORTAL_TARGET,
  PortalClient,
  PortalReconciler,
  ProcedureCatalogue,
  type PortalDossierDefaults,
  PortalSyncConnector,
  TokenBucket,
  captureClient,
  type CallListener,
  type CircuitState,
  type CircuitTransition,
  type DossierSyncConnector,
  type EventSink,
  type ParkingStore,
  type PendingWorkStore,
} from '#lgsp/connectors';
import type { AdminUnits } from '#lgsp/contracts';
import type { EventStore } from '#lgsp/event-store';
import type { IngestService } from '#lgsp/ingest';
import type { HubMetrics, RootLogger as Logger } from '#lgsp/observability';
import type { WorkingCopies } from '#lgsp/privacy';
import type { TargetReconciler } from '#lgsp/reconciliation';
import { redactUrl, type ConnectorSettings, type HubConfig } from '#lgsp/hub-config';
import { SealedPendingWork } from '../privacy/sealed-pending-work.js';

/** `queued`: a webhook's held deliveries are due again and go out in order, in the background. */
export type Redelivery = 'delivered' | 'parked' | 'nothing' | 'queued';

/** A running outbound connector, as the operator API sees it. */
export interface RunningConnector {
  /**
   * Sends the dossier's current state to the target again (after an operator's retry): `delivered`,
   * `parked` again (the target still refuses it), or `nothing` when the dossier has no event to send.
   */
  redeliver(dossier: string): Promise<Redelivery>;
}

export interface RunningConnectors {
  /** Where every connector parks its (target, dossier) pairs; undefined when none runs. */
  parking: ParkingStore | undefined;
  byTarget: ReadonlyMap<string, RunningConnector>;
  /** Each outbound connector's circuit breaker, by target (the console shows their states). */
  circuits?: ReadonlyMap<string, { readonly state: CircuitState }>;
  /** Verifies and captures the payment platform's callbacks; undefined when payments are off. */
  paymentCallbacks?: PaymentCallbackHandler;
}

/** A loop of inbound capture (polls a system, appends what it finds). */
export interface Poller {
  readonly name: string;
  start(): void;
  stop(): Promise<void>;
}

/** What the connectors need from the hub's storage. */
export interface ConnectorStorage {
  openParking(): Promise<ParkingStore>;
  openPending(): Promise<PendingWorkStore>;
}

export interface ConnectorParts {
  subscribers: DossierSyncConnector[];
  /** One reconciler per enabled target, reading the system through the connector's client. */
  reconcilers: Map<string, TargetReconciler>;
  pollers: Poller[];
  running: RunningConnectors;
  close(): void;
}

interface Context {
  config: HubConfig;
  logger: Logger;
  store: EventStore;
  units: AdminUnits;
  sink: EventSink;
  parking: ParkingStore;
  pending: () => Promise<PendingWorkStore>;
  limiters: TokenBucket[];
  breakers: Map<string, CircuitBreaker>;
  metrics: HubMetrics | undefined;
  /** Counts the pollers' and the capture's calls in the connectors' call metrics. */
  called: CallListener | undefined;
}

/**
 * The enabled connectors: outbound ones are subscribers with their own checkpoints, parking their
 * (target, dossier) pairs in the hub's own store; inbound capture runs as pollers that append through
 * the hub's ingest (NFC, schema validation, deduplication on (source, id)). With `copies` (privacy on)
 * their follow-up work is stored sealed, as working copies of the dossiers.
 */
export async function connectorParts(
  config: HubConfig,
  logger: Logger,
  store: EventStore,
  units: AdminUnits,
  ingest: IngestService,
  storage: ConnectorStorage,
  copies?: WorkingCopies,
  metrics?: HubMetrics,
): Promise<ConnectorParts> {
  const c = config.connectors;
  const enabled = [c.portal, c.oneStopShop, c.civilRegistry, c.payments].some((s) => s.enabled);
  if (!enabled) {
    return {
      subscribers: [],
      reconcilers: new Map(),
      pollers: [],
      running: { parking: undefined, byTarget: new Map() },
      close: () => undefined,
    };
  }
  let pending: Promise<PendingWorkStore> | undefined;
  const ctx: Context = {
    config,
    logger,
    store,
    units,
    sink: new IngestSink(ingest, captureClient('connectors')),
    parking: await storage.openParking(),
    pending: () =>
      (pending ??= storage
        .openPending()
        .then((p) =>
          copies ? new SealedPendingWork(p, copies, logger.child({ component: 'connectors.pending' })) : p,
        )),
    limiters: [],
    breakers: new Map(),
    metrics,
    called: metrics
      ? (call) => metrics.connectorCall(call.target, call.operation, call.outcome, call.seconds)
      : undefined,
  };
  const subscribers: DossierSyncConnector[] = [];
  const pollers: Poller[] = [];
  const reconcilers = new Map<string, TargetReconciler>();
  const byTarget = new Map<string, RunningConnector>();
  const add = (connector: DossierSyncConnector) => {
    subscribers.push(connector);
    byTarget.set(connector.target, {
      redeliver: async (d) => (await connector.redeliver(d))?.status ?? 'nothing',
    });
  };

  if (c.portal.enabled) {
    const portalClient = new PortalClient({
      baseUrl: c.portal.url,
      username: c.portal.username,
      password: c.portal.password,
      loginPath: c.portal.loginPath,
      servicePath: c.portal.servicePath,
      ...(c.portal.agencyId === null ? {} : { agencyId: c.portal.agencyId }),
      ...(c.portal.dstCode === null ? {} : { dstCode: c.portal.dstCode }),
    });
    const catalogue = new ProcedureCatalogue({ client: portalClient, ...c.portal.catalogue });
    const dossierDefaults = portalDossierDefaults(c.portal.dossierDefaults);
    add(portalConnector(ctx, portalClient, catalogue, dossierDefaults));
    reconcilers.set(
      PORTAL_TARGET,
      new PortalReconciler({ client: portalClient, catalogue, dossierDefaults, units: ctx.units }),
    );
    if (c.portal.onlineCapture.enabled) pollers.push(onlineCapture(ctx, portalClient));
  }
  if (c.oneStopShop.enabled) {
    const shop = oneStopShopConnector(ctx);
    add(shop.connector);
    reconcilers.set(
      ONE_STOP_SHOP_TARGET,
      new OneStopShopReconciler({ client: shop.client, units: ctx.units }),
    );
  }
  if (c.civilRegistry.enabled) {
    const civil = await civilRegistryParts(ctx);
    add(civil.connector);
    pollers.push(civil.poller);
    reconcilers.set(
      CIVIL_REGISTRY_TARGET,
      new CivilRegistryReconciler({ client: civil.client, units: ctx.units }),
    );
  }
  let paymentCallbacks: PaymentCallbackHandler | undefined;
  if (c.payments.enabled) {
    const payments = await paymentParts(ctx);
    add(payments.connector);
    pollers.push(payments.poller);
    reconcilers.set(PAYMENTS_TARGET, new PaymentReconciler({ client: payments.client }));
    paymentCallbacks = payments.callbacks;
  }

  if (metrics) {
    // Sampled at scrape time: the breaker reports half-open once its cool-down has passed.
    metrics.samplers.connectors = async () => {
      const parked = await ctx.parking.countByTarget();
      return [...ctx.breakers].map(([target, breaker]) => ({
        target,
        circuit: breaker.state,
        parked: parked.get(target) ?? 0,
      }));
    };
  }

  return {
    subscribers,
    reconcilers,
    pollers,
    running: {
      parking: ctx.parking,
      byTarget,
      circuits: ctx.breakers,
      ...(paymentCallbacks ? { paymentCallbacks } : {}),
    },
    close: () => {
      for (const limiter of ctx.limiters) limiter.stop();
    },
  };
}

/** The settings every outbound connector shares: gate, parking, logging, batch size. */
function gateSettings(ctx: Context, target: string, settings: ConnectorSettings) {
  const { metrics } = ctx;
  const limiter = new TokenBucket(target, {
    ratePerSecond: settings.ratePerSecond,
    burst: Math.max(1, Math.ceil(settings.ratePerSecond)),
    ...(metrics ? { onWait: (ms: number) => metrics.connectorRateLimitWaited(target, ms / 1000) } : {}),
  });
  ctx.limiters.push(limiter);
  const breaker = new CircuitBreaker(target, { ...ctx.config.connectors.breaker, ...settings.breaker });
  ctx.breakers.set(target, breaker);
  const logger = ctx.logger.child({ component: `connector.${target}` });
  return {
    events: ctx.store,
    parking: ctx.parking,
    breaker,
    limiter,
    retry: { maxAttempts: settings.maxAttempts },
    listener: {
      ...(metrics
        ? {
            called: (e: { target: string; outcome: string; seconds: number }) =>
              metrics.connectorCall(e.target, 'sync', e.outcome, e.seconds),
          }
        : {}),
      circuit: (t: CircuitTransition) => {
        const fields = { target: t.target, from: t.from, to: t.to, reason: t.reason };
        if (t.to === 'open') logger.warn(fields, `${t.target} circuit opened: calls wait for the cool-down`);
        else logger.info(fields, `${t.target} circuit ${t.to}`);
      },
    },
    logger,
    batchSize: ctx.config.subscriptions.batchSize,
    ...(metrics
      ? {
          onUnreadable: (_target: string, err: { from: string }) =>
            metrics.eventUnreadable('connectors', err.from),
        }
      : {}),
  };
}

/** The hub-config `dossierDefaults` as the mapping reads them (null: no default). */
function portalDossierDefaults(
  d: Context['config']['connectors']['portal']['dossierDefaults'],
): PortalDossierDefaults {
  return {
    applicantType: d.applicantType,
    hinhThuc: d.hinhThuc,
    ...(d.email === null ? {} : { email: d.email }),
    ...(d.phone === null ? {} : { phone: d.phone }),
  };
}

function portalConnector(
  ctx: Context,
  client: PortalClient,
  catalogue: ProcedureCatalogue,
  dossierDefaults: PortalDossierDefaults,
): PortalSyncConnector {
  const portal = ctx.config.connectors.portal;
  ctx.logger.info(
    { target: PORTAL_TARGET, url: redactUrl(portal.url), username: portal.username },
    'portal connector enabled',
  );
  return new PortalSyncConnector({
    ...gateSettings(ctx, PORTAL_TARGET, portal),
    client,
    catalogue,
    dossierDefaults,
  });
}

/** Online submissions on the portal, polled and appended as `dossier.submitted` (source `/national/portal`). */
function onlineCapture(ctx: Context, client: PortalClient): Poller {
  const { pollIntervalMs, pageSize } = ctx.config.connectors.portal.onlineCapture;
  const capture = new OnlineSubmissionCapture({
    client,
    sink: ctx.sink,
    // The cursor is a checkpoint of the store, beside the subscribers' ones.
    cursor: ctx.store.checkpoints,
    adminUnits: ctx.units,
    pollIntervalMs,
    pageSize,
    logger: ctx.logger.child({ component: PORTAL_ONLINE_CHECKPOINT }),
    ...(ctx.called ? { called: ctx.called } : {}),
  });
  ctx.logger.info({ pollIntervalMs, pageSize }, 'portal online-submission capture enabled');
  return { name: PORTAL_ONLINE_CHECKPOINT, start: () => capture.start(), stop: () => capture.stop() };
}

function oneStopShopConnector(ctx: Context): {
  connector: OneStopShopSyncConnector;
  client: OneStopShopClient;
} {
  const shop = ctx.config.connectors.oneStopShop;
  ctx.logger.info(
    { target: ONE_STOP_SHOP_TARGET, url: redactUrl(shop.url) },
    'one-stop-shop connector enabled',
  );
  const client = new OneStopShopClient({
    baseUrl: shop.url,
    ...(shop.apiKey === null ? {} : { apiKey: shop.apiKey }),
  });
  return {
    connector: new OneStopShopSyncConnector({ ...gateSettings(ctx, ONE_STOP_SHOP_TARGET, shop), client }),
    client,
  };
}

/**
 * Payments: `connector.payments` requests a payment (INIT) when a fee falls due; results come back as
 * signed callbacks (`POST /v1/callbacks/payments`) and, for those still pending, by polling QUERY with
 * a growing delay (from `pollIntervalMs` to 30× it), until final.
 */
async function paymentParts(ctx: Context): Promise<{
  connector: PaymentConnector;
  poller: Poller;
  callbacks: PaymentCallbackHandler;
  client: PaymentClient;
}> {
  const settings = ctx.config.connectors.payments;
  const pending = await ctx.pending();
  const client = new PaymentClient({
    baseUrl: settings.url,
    partnerCode: settings.partnerCode,
    secret: settings.secret,
    ip: settings.ip,
    dialect: settings.dialect,
  });
  const logger = ctx.logger.child({ component: `connector.${PAYMENTS_TARGET}` });
  const poller = new PaymentStatusPoller({
    client,
    pending,
    sink: ctx.sink,
    pollIntervalMs: settings.pollIntervalMs,
    maxPollDelayMs: settings.pollIntervalMs * 30,
    logger,
    ...(ctx.called ? { called: ctx.called } : {}),
  });
  ctx.logger.info(
    { target: PAYMENTS_TARGET, url: redactUrl(settings.url), partnerCode: settings.partnerCode },
    'payment connector enabled',
  );
  return {
    connector: new PaymentConnector({
      ...gateSettings(ctx, PAYMENTS_TARGET, settings),
      client,
      pending,
      pollDelayMs: settings.pollIntervalMs,
      beneficiary: settings.beneficiary,
    }),
    client,
    poller: { name: 'capture.payments', start: () => poller.start(), stop: () => poller.stop() },
    callbacks: new PaymentCallbackHandler({
      secret: settings.secret,
      sink: ctx.sink,
      pending,
      events: ctx.store,
      logger,
    }),
  };
}

/**
 * The civil registry: `connector.civil-registry` requests the birth registration of a dossier with
 * `civilRegistration` once it is in processing (4), with the interlinked code DVCLT issues (and
 * reports the statuses to DVCLT at `dvcltUrl`); its results are polled every `pollIntervalMs` and
 * appended from source `/national/civil-registry` (documents requested 5, resumed 4, registered + 9, or
 * rejected 3).
 */
async function civilRegistryParts(
  ctx: Context,
): Promise<{ connector: CivilRegistryConnector; poller: Poller; client: CivilRegistryClient }> {
  const settings = ctx.config.connectors.civilRegistry;
  const pending = await ctx.pending();
  const client = new CivilRegistryClient({ baseUrl: settings.url });
  const dvclt = {
    client: new DvcltClient({ baseUrl: settings.dvcltUrl }),
    statuses: settings.dvcltStatuses,
  };
  const logger = ctx.logger.child({ component: `connector.${CIVIL_REGISTRY_TARGET}` });
  const poller = new CivilRegistryResultPoller({
    client,
    dvclt,
    batch: settings.resultBatch,
    pending,
    sink: ctx.sink,
    events: ctx.store,
    pollIntervalMs: settings.pollIntervalMs,
    logger,
    ...(ctx.called ? { called: ctx.called } : {}),
  });
  ctx.logger.info(
    {
      target: CIVIL_REGISTRY_TARGET,
      url: redactUrl(settings.url),
      dvcltUrl: redactUrl(settings.dvcltUrl),
      pollIntervalMs: settings.pollIntervalMs,
    },
    'civil-registry connector enabled',
  );
  return {
    connector: new CivilRegistryConnector({
      ...gateSettings(ctx, CIVIL_REGISTRY_TARGET, settings),
      client,
      dvclt,
      pending,
      pollIntervalMs: settings.pollIntervalMs,
    }),
    poller: { name: 'capture.civil-registry', start: () => poller.start(), stop: () => poller.stop() },
    client,
  };
}
