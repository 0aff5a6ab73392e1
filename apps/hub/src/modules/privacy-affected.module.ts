import { Module } from '@nestjs/common';
import { AffectedController } from '../privacy/affected.controller.js';

/** Personal data: who was affected, for a breach report. */
@Module({ controllers: [AffectedController] })
export class PrivacyAffectedModule {}
