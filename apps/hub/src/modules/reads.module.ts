import { Module } from '@nestjs/common';
import { ReadsController } from '../http/reads.controller.js';
import { SchemasController } from '../http/schemas.controller.js';

/**
 * Reads, scoped to the caller: a stream, the global log (and its live tail), a dossier's view; and the
 * event catalogue with its versions.
 */
@Module({ controllers: [ReadsController, SchemasController] })
export class ReadsModule {}
