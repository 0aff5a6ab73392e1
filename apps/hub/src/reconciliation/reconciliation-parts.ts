import { IngestSink, captureClient } from '#lgsp/connectors';
import type { IngestService } from '#lgsp/ingest';
import type { RootLogger as Logger } from '#lgsp/observability';
import {
  ReconciliationService,
  SqlReconciliationStore,
  type ExpectedState,
  type ReconciliationStore,
  type TargetReconciler,
} from '#lgsp/reconciliation';
import type { WorkingCopies } from '#lgsp/privacy';
import type { AuditLog } from '#lgsp/security';
import type { SqlDatabase } from '#lgsp/storage';
import { SealedReconciliationStore } from '../privacy/sealed-reconciliation-store.js';

/** Opens (creating or migrating) the reconciliation tables beside the hub's other tables. */
export function openReconciliationStore(database: SqlDatabase): Promise<ReconciliationStore> {
  return SqlReconciliationStore.open(database);
}

export interface ReconciliationPartsOptions {
  storage: SqlDatabase;
  logger: Logger;
  /** One reconciler per target whose connector runs in this hub. */
  reconcilers: ReadonlyMap<string, TargetReconciler>;
  expected: ExpectedState;
  audit?: AuditLog;
  /** When privacy is on: the mismatches' compared values are stored sealed, as working copies. */
  copies?: WorkingCopies;
  /** Where an operator's capture of an unexpected extra is appended (as the system, like inbound capture). */
  ingest?: Pick<IngestService, 'ingest'>;
}

/**
 * The reconciliation service of a hub: its store opened, and the runs a stopped hub left `running`
 * marked `failed` ("interrupted by a restart") before any new run starts.
 */
export async function reconciliationParts(
  options: ReconciliationPartsOptions,
): Promise<ReconciliationService> {
  const logger = options.logger.child({ component: 'reconciliation' });
  const store = await openReconciliationStore(options.storage);
  const service = new ReconciliationService({
    store: options.copies ? new SealedReconciliationStore(store, options.copies) : store,
    reconcilers: options.reconcilers,
    expected: options.expected,
    logger,
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.ingest ? { sink: new IngestSink(options.ingest, captureClient('reconciliation')) } : {}),
  });
  const interrupted = await service.recover();
  if (interrupted > 0) logger.warn({ runs: interrupted }, 'reconciliation runs interrupted by the last stop');
  return service;
}
