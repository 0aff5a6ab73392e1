import 'reflect-metadata';
import { Module, type Provider, type Type } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DEFAULT_CONFIG } from '#lgsp/hub-config';
import { HubMetrics, createLogger } from '#lgsp/observability';
import type { Client } from '#lgsp/security';
import { guardRequest } from './auth.js';
import { ProblemFilter } from './problem.filter.js';
import { RequestLimits } from './rate-limits.js';
import { RolesGuard } from './roles.js';
import { bodyValidationPipe } from './validation.js';

/** The callers of a controller spec, by bearer token: an operator and a commune client. */
export const TEST_CLIENTS: Record<string, Client> = {
  'ops-token': { id: 'c-ops', name: 'ops', role: 'operator', communeCodes: [], sources: [], createdAt: '' },
  'commune-token': {
    id: 'c-x',
    name: 'Xã Bình Sơn',
    role: 'commune',
    provinceCode: '51',
    communeCodes: ['21040'],
    sources: [],
    createdAt: '',
  },
};

/**
 * One controller alone in a Fastify app listening on a free port, with the hub's authentication
 * hook (the `TEST_CLIENTS`), roles guard, body validation and problem filter.
 */
export async function serveController(
  controller: Type,
  providers: Provider[],
): Promise<{ url: string; close(): Promise<void> }> {
  const clientService = { authenticate: async (token: string) => TEST_CLIENTS[token] };
  @Module({
    controllers: [controller],
    providers: [...providers, { provide: APP_GUARD, useClass: RolesGuard }],
  })
  class TestModule {}
  const app = await NestFactory.create<NestFastifyApplication>(TestModule, new FastifyAdapter(), {
    logger: false,
  });
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (req, reply) =>
      guardRequest(
        {
          clients: clientService,
          limits: new RequestLimits(DEFAULT_CONFIG.rateLimit, new HubMetrics({ defaultMetrics: false })),
          authorizeMetrics: null,
        },
        req,
        reply,
      ),
    );
  app.useGlobalFilters(new ProblemFilter(createLogger({ level: 'silent' })));
  app.useGlobalPipes(bodyValidationPipe());
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: await app.getUrl(), close: () => app.close() };
}
