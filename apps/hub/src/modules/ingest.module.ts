import { Module } from '@nestjs/common';
import { CallbacksController } from '../http/callbacks.controller.js';
import { IngestController } from '../http/ingest.controller.js';

/** Events in: CloudEvents over HTTP, and the payment platform's signed callbacks. */
@Module({ controllers: [IngestController, CallbacksController] })
export class IngestModule {}
