import { Module } from '@nestjs/common';
import { CheckpointsController } from '../checkpoints/checkpoints.controller.js';
import { AdminController } from '../http/admin.controller.js';
import { AuditController } from '../http/audit.controller.js';

/** Clients (and the subscribers' state), the operators' audit log, and the signed checkpoints of the log. */
@Module({ controllers: [AdminController, AuditController, CheckpointsController] })
export class AdministrationModule {}
