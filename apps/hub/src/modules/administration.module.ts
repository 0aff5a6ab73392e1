import { Module } from '@nestjs/common';
import { AdminController } from '../http/admin.controller.js';
import { AuditController } from '../http/audit.controller.js';

/** Clients (and the subscribers' state), and the operators' audit log. */
@Module({ controllers: [AdminController, AuditController] })
export class AdministrationModule {}
