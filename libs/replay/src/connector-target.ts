import type { DossierSyncConnector, DossierSyncOutcome, ParkingStore } from '#lgsp/connectors';
import type { ReplaySendResult, ReplayTarget } from './model.js';

export interface ConnectorReplayTargetOptions {
  /** Calls per second the connector's target bears (its `ratePerSecond` setting). */
  ratePerSecond: number;
  /** Calls the connector makes per dossier, for the plan's estimate (e.g. 2 for the portal). */
  callsPerItem: number;
  /** The connectors' parking: a dossier parked before its replay is `held`, not `failed`. */
  parking?: Pick<ParkingStore, 'isParked'>;
  /**
   * Dossiers handed to the connector at once; it sends up to its own concurrency of them at the same
   * time (each dossier's calls in order). @defaultValue 32
   */
  batchSize?: number;
  /** See {@link ReplayTarget.effects}. */
  effects?: string;
}

/**
 * A connector as a replay target: each item is a dossier code whose current state the connector sends
 * again through its gate (rate limit, breaker, retries, parking), every call marked as the replay's.
 */
export function connectorReplayTarget(
  connector: Pick<DossierSyncConnector, 'target' | 'replay' | 'replayMany'>,
  options: ConnectorReplayTargetOptions,
): ReplayTarget {
  const parked = (dossier: string): Promise<boolean> =>
    options.parking?.isParked(connector.target, dossier) ?? Promise.resolve(false);
  return {
    name: connector.target,
    unit: 'dossier',
    ratePerSecond: options.ratePerSecond,
    callsPerItem: options.callsPerItem,
    batchSize: options.batchSize ?? 32,
    ...(options.effects === undefined ? {} : { effects: options.effects }),
    async send(dossier, replayId, signal): Promise<ReplaySendResult> {
      const wasParked = await parked(dossier);
      return result(await connector.replay(dossier, replayId, signal), wasParked);
    },
    async sendBatch(dossiers, replayId, signal): Promise<ReplaySendResult[]> {
      const wasParked: boolean[] = [];
      for (const dossier of dossiers) wasParked.push(await parked(dossier));
      const outcomes = await connector.replayMany(dossiers, replayId, signal);
      return outcomes.map((outcome, i) => result(outcome, wasParked[i] ?? false));
    },
  };
}

function result(outcome: DossierSyncOutcome | undefined, wasParked: boolean): ReplaySendResult {
  // No dossier event to send: the target cannot be given this dossier.
  if (outcome === undefined) return 'failed';
  if (outcome.status === 'delivered') return 'sent';
  return wasParked ? 'held' : 'failed';
}
