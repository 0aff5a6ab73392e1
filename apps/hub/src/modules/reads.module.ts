import { Module } from '@nestjs/common';
import { ReadsController } from '../http/reads.controller.js';

/** Reads, scoped to the caller: a stream, the global log (and its live tail), a dossier's view. */
@Module({ controllers: [ReadsController] })
export class ReadsModule {}
