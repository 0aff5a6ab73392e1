import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { RolesGuard } from './http/roles.js';
import { AdministrationModule } from './modules/administration.module.js';
import { HealthModule } from './modules/health.module.js';
import { IngestModule } from './modules/ingest.module.js';
import { OperationsModule } from './modules/operations.module.js';
import { PrivacyAffectedModule } from './modules/privacy-affected.module.js';
import { ReadsModule } from './modules/reads.module.js';
import { HubRuntimeModule } from './modules/runtime.module.js';
import { ConsoleModule } from './modules/console.module.js';
import type { ConsoleSessions } from './console/sessions.js';
import type { HubRuntime } from './runtime.js';

/**
 * The hub's HTTP application: one module per area, over the runtime's services. A process without the
 * `api` role serves the probes and the metrics only.
 */
@Module({})
export class AppModule {
  static forRuntime(runtime: HubRuntime, consoleSessions?: ConsoleSessions): DynamicModule {
    if (!runtime.runs('api'))
      return { module: AppModule, imports: [HubRuntimeModule.forRuntime(runtime), HealthModule] };
    return {
      module: AppModule,
      imports: [
        HubRuntimeModule.forRuntime(runtime),
        IngestModule,
        ReadsModule,
        OperationsModule,
        AdministrationModule,
        PrivacyAffectedModule,
        HealthModule,
        ...(consoleSessions ? [ConsoleModule.forSessions(consoleSessions)] : []),
      ],
      // Roles are checked before any pipe reads the body.
      providers: [{ provide: APP_GUARD, useClass: RolesGuard }],
    };
  }
}
