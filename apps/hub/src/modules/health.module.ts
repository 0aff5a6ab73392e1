import { Module } from '@nestjs/common';
import { HealthController } from '../http/health.controller.js';

/** Liveness and readiness probes, and the Prometheus metrics. */
@Module({ controllers: [HealthController] })
export class HealthModule {}
