import type { ParkingStore } from '#lgsp/connectors';
import type { AdminUnits } from '#lgsp/contracts';
import type { EventStore, StoredEvent } from '#lgsp/event-store';
import type { HubConfig } from '#lgsp/hub-config';
import type { HubMetrics, RootLogger as Logger } from '#lgsp/observability';
import type { WorkingCopies } from '#lgsp/privacy';
import type { ReplayTarget } from '#lgsp/replay';
import type { AuditLog } from '#lgsp/security';
import type { SqlDatabase } from '#lgsp/storage';
import type { Subscriptions } from '#lgsp/subscriptions';
import {
  SqlWebhookStore,
  WebhookDelivery,
  dossierOfStream,
  type ResponseSealing,
  WebhookSender,
  WebhookService,
  resolveWebhookReplayTarget,
} from '#lgsp/webhooks';

/** The webhooks of a hub process: the API's service, the delivery (a log subscriber) and its replay targets. */
export interface WebhookParts {
  service: WebhookService;
  delivery: WebhookDelivery;
  /** `webhook:<id>` of an existing webhook; undefined for any other name. */
  resolveTarget(name: string): Promise<ReplayTarget | undefined>;
  start(): void;
  stop(): Promise<void>;
}

export interface WebhookPartsOptions {
  config: HubConfig;
  logger: Logger;
  database: SqlDatabase;
  events: EventStore;
  units: AdminUnits;
  parking: ParkingStore;
  audit: AuditLog;
  metrics: HubMetrics;
  subscriptions: Subscriptions;
  /** With PostgreSQL replicas the delivery dispatches only where its subscriber's lease is held. */
  leased: boolean;
  /** When privacy is on: receivers' answers in the attempts log are stored sealed, as working copies. */
  copies?: WorkingCopies;
  /**
   * When privacy is on: the log as stored, which the delivery's subscriber reads, and how it opens the
   * pages a webhook takes (`events` opens everything it reads).
   */
  stored?: { events: EventStore; open: (events: readonly StoredEvent[]) => Promise<StoredEvent[]> };
}

/** Receivers' answers sealed as working copies of the delivered event's dossier. */
function sealedResponses(copies: WorkingCopies): ResponseSealing {
  return {
    seal: (items) =>
      copies.sealAll(items.map((i) => ({ dossier: dossierOfStream(i.stream), value: i.response }))),
    open: async (responses) =>
      (await copies.reveal(responses)).map((r) => (typeof r === 'string' ? r : JSON.stringify(r))),
  };
}

/** Opens the webhook tables and registers the delivery as a subscriber; undefined when webhooks are off. */
export async function webhookParts(options: WebhookPartsOptions): Promise<WebhookParts | undefined> {
  const { config, logger, metrics } = options;
  const w = config.webhooks;
  if (!w.enabled) return undefined;
  const store = await SqlWebhookStore.open(
    options.database,
    options.copies ? sealedResponses(options.copies) : undefined,
  );
  const log = logger.child({ component: 'webhooks' });
  const delivery = new WebhookDelivery({
    store,
    events: options.events,
    parking: options.parking,
    sender: new WebhookSender({
      timeoutMs: w.timeoutMs,
      allowInsecureTargets: w.allowInsecureTargets,
      maxSockets: w.concurrency,
    }),
    settings: {
      concurrency: w.concurrency,
      retryDelaysMs: w.retryDelaysSeconds.map((s) => Math.round(s * 1000)),
      jitter: w.jitter,
      disableAfterMs: Math.round(w.disableAfterSeconds * 1000),
      pollMs: w.pollMs,
      maxQueued: w.maxQueued,
      attemptRetentionMs: w.attemptRetentionSeconds * 1000,
    },
    logger: log,
    audit: options.audit,
    ...(options.stored ? { open: options.stored.open } : {}),
    observer: {
      attempted: (id, outcome, seconds) => metrics.webhookAttempt(id, outcome, seconds),
      disabled: (_id, reason) => metrics.webhookDisabled(reason),
      rateLimitWaited: (id, seconds) => metrics.webhookRateLimitWaited(id, seconds),
      unreadable: (_id, event) => metrics.eventUnreadable('webhooks', event.type),
    },
  });
  // With privacy on it reads the log as stored, and opens only the pages a webhook takes.
  const runner = options.subscriptions.register(
    delivery,
    options.stored ? { store: options.stored.events } : {},
  );
  const changed = () => delivery.poke();
  const service = new WebhookService({
    store,
    events: options.events,
    units: options.units,
    settings: {
      allowInsecureTargets: w.allowInsecureTargets,
      secretOverlapSeconds: w.secretOverlapSeconds,
      defaultRatePerSecond: w.ratePerSecond,
      maxRatePerSecond: w.maxRatePerSecond,
    },
    audit: options.audit,
    changed,
  });
  metrics.webhookSampler = async () => {
    const all = await store.all();
    return Promise.all(
      all.map(async (record) => {
        const view = await service.view(record);
        return {
          id: view.id,
          state: view.state,
          lagEvents: view.lag.events,
          lagSeconds: view.lag.seconds,
          parked: view.parked,
          failing: view.failingSince !== undefined,
        };
      }),
    );
  };
  if (w.allowInsecureTargets)
    log.warn({}, 'webhooks.allowInsecureTargets is on: http and private addresses are allowed as targets');
  return {
    service,
    delivery,
    resolveTarget: (name) =>
      resolveWebhookReplayTarget(name, store, options.events, (requeued) =>
        requeued === undefined
          ? delivery.poke()
          : void delivery.requeued(requeued).catch(() => delivery.poke()),
      ),
    start: () => delivery.start(options.leased ? () => runner.heldLease !== undefined : () => true),
    stop: () => delivery.stop(),
  };
}
