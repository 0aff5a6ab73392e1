import type { DossierSyncConnector, ParkingStore } from '#lgsp/connectors';
import type { EventStore } from '#lgsp/event-store';
import type { RootLogger as Logger } from '#lgsp/observability';
import {
  ReplayService,
  SqlReplayStore,
  connectorReplayTarget,
  type ReconciliationLookup,
  type ReplayLeaseOptions,
  type ReplayStore,
  type ReplayTarget,
} from '#lgsp/replay';
import type { AuditLog } from '#lgsp/security';
import type { SqlDatabase } from '#lgsp/storage';

/**
 * Calls each connector makes per dossier, for the plans' estimates: the portal syncs the dossier and
 * pushes its progress; the others make one call per state.
 */
export const CALLS_PER_DOSSIER: Readonly<Record<string, number>> = {
  portal: 2,
  'one-stop-shop': 1,
  'civil-registry': 1,
  payments: 1,
};

/**
 * What a replay to a connector causes beyond its target: the events its answers turn into (marked
 * with the CloudEvents extension `causedbyreplay=<replay id>`) flow live to every other system.
 */
export const REPLAY_EFFECTS: Readonly<Record<string, string>> = {
  'civil-registry':
    'the civil registry may register again and re-issue certificates: each result it gives becomes a civil-status.registered or dossier.status-changed event (marked causedbyreplay) that then flows live to the portal, the one-stop-shop, payments, webhooks and Kafka',
  payments:
    'the payment platform may open the payment again and answer with callbacks: each becomes a payment.completed or payment.failed event (marked causedbyreplay) that then flows live to the portal, the one-stop-shop, the civil registry, webhooks and Kafka',
};

/** Opens (creating or migrating) the replay tables beside the events: SQLite file or PostgreSQL schema. */
export function openReplayStore(database: SqlDatabase): Promise<ReplayStore> {
  return SqlReplayStore.open(database);
}

export interface ReplayPartsOptions {
  store: ReplayStore;
  events: Pick<EventStore, 'readAll' | 'head'>;
  /** The running outbound connectors (`ConnectorParts.subscribers`). */
  connectors: readonly DossierSyncConnector[];
  /** Each connector's `ratePerSecond` setting, by target. */
  rates: ReadonlyMap<string, number>;
  parking?: ParkingStore;
  audit?: AuditLog;
  /** `replay.*` settings. */
  settings: { confirmAbove: number; chunkSize: number; pollMs: number };
  logger: Logger;
  reconciliation?: ReconciliationLookup;
  /**
   * Targets found by name beyond the connectors: with Kafka configured, `kafka:<client name>` for a
   * province or commune client (`KafkaReplayTargets.resolve`); undefined for an unknown name.
   */
  resolveTarget?: (name: string) => Promise<ReplayTarget | undefined>;
  /** PostgreSQL replicas: each run executes only in the replica holding its lease (`replay:<id>`). */
  lease?: ReplayLeaseOptions;
}

/** The replay service over the running connectors, one target per connector. */
export function replayParts(options: ReplayPartsOptions): ReplayService {
  const targets = new Map<string, ReplayTarget>();
  for (const connector of options.connectors) {
    targets.set(
      connector.target,
      connectorReplayTarget(connector, {
        ratePerSecond: options.rates.get(connector.target) ?? 20,
        callsPerItem: CALLS_PER_DOSSIER[connector.target] ?? 1,
        ...(options.parking ? { parking: options.parking } : {}),
        ...(REPLAY_EFFECTS[connector.target] === undefined
          ? {}
          : { effects: REPLAY_EFFECTS[connector.target] }),
      }),
    );
  }
  return new ReplayService({
    store: options.store,
    targets,
    events: options.events,
    ...options.settings,
    logger: options.logger.child({ component: 'replay' }),
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.reconciliation ? { reconciliation: options.reconciliation } : {}),
    ...(options.resolveTarget ? { resolveTarget: options.resolveTarget } : {}),
    ...(options.lease ? { lease: options.lease } : {}),
  });
}
