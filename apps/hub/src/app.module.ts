import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AdminController } from './http/admin.controller.js';
import { AuditController } from './http/audit.controller.js';
import { CallbacksController } from './http/callbacks.controller.js';
import { HealthController } from './http/health.controller.js';
import { IngestController } from './http/ingest.controller.js';
import { ParkedController } from './http/parked.controller.js';
import { ReadsController } from './http/reads.controller.js';
import { RolesGuard } from './http/roles.js';
import { RUNTIME } from './http/tokens.js';
import { ReconciliationController } from './reconciliation/reconciliation.controller.js';
import { ReplayController } from './replay/replay.controller.js';
import type { HubRuntime } from './runtime.js';

@Module({})
export class AppModule {
  static forRuntime(runtime: HubRuntime): DynamicModule {
    return {
      module: AppModule,
      controllers: [
        IngestController,
        ReadsController,
        AdminController,
        ParkedController,
        CallbacksController,
        ReconciliationController,
        ReplayController,
        AuditController,
        HealthController,
      ],
      providers: [
        { provide: RUNTIME, useValue: runtime },
        // Roles are checked before any pipe reads the body.
        { provide: APP_GUARD, useClass: RolesGuard },
      ],
    };
  }
}
