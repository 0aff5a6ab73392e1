import type { KafkaConnectionState } from '#lgsp/kafka';
import type { SubscriptionLag } from '#lgsp/subscriptions';

/*
 * Injection tokens of the runtime's parts that the controllers use, each provided on its own
 * (modules/runtime.module.ts) so a controller names what it needs rather than the whole runtime.
 * Parts typed by an interface need a token; classes (IngestService, ClientService, HubMetrics) are
 * their own.
 */

/** The EventStore. */
export const EVENT_STORE = Symbol('EventStore');
/** The DossierViewRepository the projection writes. */
export const DOSSIER_VIEWS = Symbol('DossierViewRepository');
/** The RunningConnectors (parking, connectors by target, payment callbacks). */
export const CONNECTORS = Symbol('RunningConnectors');
/** The operators' AuditLog; optional (absent: 404). */
export const AUDIT_LOG = Symbol('AuditLog');
/** The ReconciliationService; optional (absent: 404). */
export const RECONCILIATION = Symbol('ReconciliationService');
/** The ReplayService; optional (absent: 404). */
export const REPLAY = Symbol('ReplayService');
/** The {@link SubscriptionLags} of every subscriber. */
export const SUBSCRIPTIONS = Symbol('SubscriptionLags');
/** The {@link HubStatus}. */
export const HUB_STATUS = Symbol('HubStatus');
/** The hub's Logger. */
export const LOGGER = Symbol('Logger');
/** The WebhookService; undefined when `webhooks.enabled` is false (the routes then answer 404). */
export const WEBHOOKS = Symbol('WebhookService');
/** The CheckpointReader; undefined when `checkpoints.enabled` is false (the route then answers 404). */
export const CHECKPOINTS = Symbol('CheckpointReader');
/** The AffectedFinder ("who was affected"); undefined when `privacy.enabled` is false (404). */
export const AFFECTED = Symbol('AffectedFinder');
/** The ErasureService; undefined when `privacy.enabled` is false (the routes then answer 409). */
export const ERASURES = Symbol('ErasureService');
/** The {@link IngestLimits}. */
export const INGEST_LIMITS = Symbol('IngestLimits');

/** The subscribers' lag and state. */
export interface SubscriptionLags {
  lag(): Promise<SubscriptionLag[]>;
}

/** What the readiness probe reports; read at each probe (the hub turns ready after it listens). */
export interface HubStatus {
  readonly ready: boolean;
  /**
   * The projection worker's state; `subscriber` when the projection is one (PostgreSQL); `elsewhere`
   * when this process does not run the `projection` role.
   */
  readonly projection: string;
  /** The roles this process runs (`LGSP_ROLES`). */
  readonly roles: readonly string[];
  /** The connection to Kafka as last checked; undefined without Kafka. */
  readonly kafka: KafkaConnectionState | undefined;
}

export interface IngestLimits {
  /** Most events in one batch request; more gets 413. */
  readonly maxBatchEvents: number;
}
