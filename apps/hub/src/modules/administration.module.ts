import { Module } from '@nestjs/common';
import { CheckpointsController } from '../checkpoints/checkpoints.controller.js';
import { AdminController } from '../http/admin.controller.js';
import { AuditController } from '../http/audit.controller.js';
import { ErasuresController } from '../privacy/erasures.controller.js';

/**
 * Clients (and the subscribers' state), the operators' audit log, the signed checkpoints of the log, and
 * the data subjects' erasure requests.
 */
@Module({ controllers: [AdminController, AuditController, CheckpointsController, ErasuresController] })
export class AdministrationModule {}
