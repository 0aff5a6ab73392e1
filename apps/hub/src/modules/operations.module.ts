import { Module } from '@nestjs/common';
import { ParkedController } from '../http/parked.controller.js';
import { ReconciliationController } from '../reconciliation/reconciliation.controller.js';
import { ReplayController } from '../replay/replay.controller.js';

/** The operators' tools on the connectors: reconciliation runs, replays, parked dossiers. */
@Module({ controllers: [ReconciliationController, ReplayController, ParkedController] })
export class OperationsModule {}
