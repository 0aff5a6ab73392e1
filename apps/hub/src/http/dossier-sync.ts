import type { TargetSyncState } from '#lgsp/connectors';
import type { Client } from '#lgsp/security';
import { WEBHOOK_TARGET_PREFIX, type WebhookService } from '#lgsp/webhooks';
import type { RunningConnectors } from '../connectors/connectors.js';

/**
 * One external system's state of a dossier, as `GET /v1/dossiers/{code}` shows it under `sync`
 * (the contract the console renders): the last log position the system took and when, and whether the
 * dossier waits behind a parking there.
 */
export interface DossierSyncEntry {
  /** A connector target (`portal`, `one-stop-shop`, `civil-registry`, `payments`) or `webhook:<id>`. */
  target: string;
  kind: 'connector' | 'webhook';
  lastPosition: number | null;
  lastDeliveredAt: string | null;
  parked: boolean;
  parkedReason?: string;
}

/**
 * The dossier's sync state: every running connector (null positions until it took the dossier), every
 * other connector target that took or parked it, and the webhook endpoints that took or parked it among
 * those the caller may see (none for a commune client, its own province's for a province client).
 */
export async function dossierSync(
  caller: Client,
  dossier: string,
  connectors: RunningConnectors,
  webhooks: WebhookService | undefined,
): Promise<DossierSyncEntry[]> {
  const known = (await connectors.parking?.syncOf(dossier)) ?? [];
  const byTarget = new Map<string, TargetSyncState>(known.map((s) => [s.target, s]));
  const connectorTargets = new Set([
    ...connectors.byTarget.keys(),
    ...known.filter((s) => !s.target.startsWith(WEBHOOK_TARGET_PREFIX)).map((s) => s.target),
  ]);
  const hookIds = known
    .filter((s) => s.target.startsWith(WEBHOOK_TARGET_PREFIX))
    .map((s) => s.target.slice(WEBHOOK_TARGET_PREFIX.length));
  const visible =
    webhooks && hookIds.length > 0 ? await webhooks.visible(caller, hookIds) : new Set<string>();
  const entry = (target: string, kind: DossierSyncEntry['kind']): DossierSyncEntry => {
    const s = byTarget.get(target);
    return {
      target,
      kind,
      lastPosition: s?.lastPosition ?? null,
      lastDeliveredAt: s?.lastDeliveredAt ?? null,
      parked: s?.parked ?? false,
      ...(s?.parkedReason === undefined ? {} : { parkedReason: s.parkedReason }),
    };
  };
  return [
    ...[...connectorTargets].sort().map((t) => entry(t, 'connector')),
    ...hookIds
      .filter((id) => visible.has(id))
      .sort()
      .map((id) => entry(`${WEBHOOK_TARGET_PREFIX}${id}`, 'webhook')),
  ];
}
