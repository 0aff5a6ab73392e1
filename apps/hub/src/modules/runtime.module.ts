import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { ClientService } from '#lgsp/security';
import { IngestService } from '#lgsp/ingest';
import { HubMetrics } from '#lgsp/observability';
import {
  AFFECTED,
  AUDIT_LOG,
  CHECKPOINTS,
  CONNECTORS,
  DOSSIER_VIEWS,
  ERASURES,
  EVENT_STORE,
  HUB_STATUS,
  INGEST_LIMITS,
  LOGGER,
  RECONCILIATION,
  REPLAY,
  SUBSCRIPTIONS,
  WEBHOOKS,
  type HubStatus,
  type IngestLimits,
} from '../http/tokens.js';
import type { HubRuntime } from '../runtime.js';

/**
 * The parts of the runtime (built by createRuntime before Nest starts) as providers, one per service,
 * for every module of the hub: a controller injects the services it uses, never the runtime itself.
 */
@Module({})
export class HubRuntimeModule {
  static forRuntime(runtime: HubRuntime): DynamicModule {
    const status: HubStatus = {
      get ready() {
        return runtime.ready;
      },
      get projection() {
        if (!runtime.runs('projection')) return 'elsewhere';
        return runtime.projection?.state ?? 'subscriber';
      },
      roles: runtime.config.roles,
      get kafka() {
        return runtime.kafka?.state;
      },
    };
    const limits: IngestLimits = { maxBatchEvents: runtime.config.ingest.maxBatchEvents };
    const providers: Provider[] = [
      { provide: EVENT_STORE, useValue: runtime.store },
      { provide: IngestService, useValue: runtime.ingest },
      { provide: INGEST_LIMITS, useValue: limits },
      { provide: ClientService, useValue: runtime.clients },
      { provide: DOSSIER_VIEWS, useValue: runtime.dossiers },
      { provide: CONNECTORS, useValue: runtime.connectors },
      { provide: AUDIT_LOG, useValue: runtime.audit },
      { provide: RECONCILIATION, useValue: runtime.reconciliation },
      { provide: REPLAY, useValue: runtime.replay },
      { provide: WEBHOOKS, useValue: runtime.webhooks },
      { provide: CHECKPOINTS, useValue: runtime.checkpoints },
      { provide: AFFECTED, useValue: runtime.affected },
      { provide: ERASURES, useValue: runtime.erasures?.service },
      { provide: SUBSCRIPTIONS, useValue: runtime.subscriptions },
      { provide: HubMetrics, useValue: runtime.metrics },
      { provide: HUB_STATUS, useValue: status },
      { provide: LOGGER, useValue: runtime.logger },
    ];
    return {
      module: HubRuntimeModule,
      global: true,
      providers,
      exports: providers,
    };
  }
}
