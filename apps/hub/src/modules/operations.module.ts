import { Module } from '@nestjs/common';
import { ParkedController } from '../http/parked.controller.js';
import { ReconciliationController } from '../reconciliation/reconciliation.controller.js';
import { ReplayController } from '../replay/replay.controller.js';
import { WebhooksController } from '../webhooks/webhooks.controller.js';

/** The operators' tools on the connectors: reconciliation runs, replays, parked dossiers; webhooks. */
@Module({ controllers: [ReconciliationController, ReplayController, ParkedController, WebhooksController] })
export class OperationsModule {}
