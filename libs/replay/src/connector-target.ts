import type { DossierSyncConnector, ParkingStore } from '#lgsp/connectors';
import type { ReplaySendResult, ReplayTarget } from './model.js';

export interface ConnectorReplayTargetOptions {
  /** Calls per second the connector's target bears (its `ratePerSecond` setting). */
  ratePerSecond: number;
  /** Calls the connector makes per dossier, for the plan's estimate (e.g. 2 for the portal). */
  callsPerItem: number;
  /** The connectors' parking: a dossier parked before its replay is `held`, not `failed`. */
  parking?: Pick<ParkingStore, 'isParked'>;
}

/**
 * A connector as a replay target: each item is a dossier code whose current state the connector sends
 * again through its gate (rate limit, breaker, retries, parking), every call marked as the replay's.
 */
export function connectorReplayTarget(
  connector: Pick<DossierSyncConnector, 'target' | 'replay'>,
  options: ConnectorReplayTargetOptions,
): ReplayTarget {
  return {
    name: connector.target,
    unit: 'dossier',
    ratePerSecond: options.ratePerSecond,
    callsPerItem: options.callsPerItem,
    async send(dossier, replayId, signal): Promise<ReplaySendResult> {
      const wasParked = (await options.parking?.isParked(connector.target, dossier)) ?? false;
      const outcome = await connector.replay(dossier, replayId, signal);
      // No dossier event to send: the target cannot be given this dossier.
      if (outcome === undefined) return 'failed';
      if (outcome.status === 'delivered') return 'sent';
      return wasParked ? 'held' : 'failed';
    },
  };
}
