import type { EventStore } from '#lgsp/event-store';
import type { HubConfig } from '#lgsp/hub-config';
import type { RootLogger as Logger } from '#lgsp/observability';
import { ErasureService, RetentionJob, SqlErasureStore } from '#lgsp/privacy';
import type { AuditLog } from '#lgsp/security';
import type { SqlDatabase } from '#lgsp/storage';
import type { PrivacyParts } from './privacy-parts.js';

/** The erasure requests of the hub (`/v1/admin/erasures`) and the retention job. */
export interface ErasureParts {
  service: ErasureService;
  start(): void;
  stop(): Promise<void>;
}

export interface ErasurePartsOptions {
  config: HubConfig;
  logger: Logger;
  database: SqlDatabase;
  /** Undefined when personal data is not sealed: nothing can be erased. */
  privacy: PrivacyParts | undefined;
  /** The hub's (sealing) event store, where the `person.erased` notices go. */
  events: EventStore;
  /** The events as stored (sealed). */
  stored: EventStore;
  audit: AuditLog;
  /** Whether processors or third parties hold copies: a connector, a webhook or a Kafka relay runs. */
  thirdParties: () => boolean;
  /** Wait this long between destroying keys and appending notices: other replicas' key cache. */
  settleMs?: number;
}

/** Opens the erasure tables; undefined when `privacy.enabled` is false. */
export async function erasureParts(options: ErasurePartsOptions): Promise<ErasureParts | undefined> {
  const { config, privacy } = options;
  if (privacy === undefined) return undefined;
  const { erasure, retention } = config.privacy;
  const service = new ErasureService({
    store: await SqlErasureStore.open(options.database),
    keys: privacy.keys,
    events: options.events,
    stored: options.stored,
    settings: { ...erasure, retentionDays: retention.afterDossierEndDays },
    thirdParties: options.thirdParties,
    audit: options.audit,
    settleMs: options.settleMs ?? 0,
  });
  const log = options.logger.child({ component: 'erasure' });
  const job =
    retention.afterDossierEndDays === null
      ? undefined
      : new RetentionJob(service, retention.checkEverySeconds * 1000, log);
  if (job)
    log.info(
      { afterDossierEndDays: retention.afterDossierEndDays, checkEverySeconds: retention.checkEverySeconds },
      'retention of personal data on',
    );
  return { service, start: () => job?.start(), stop: async () => job?.stop() };
}
