import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { EventStore } from '#lgsp/event-store';
import { HubMetrics } from '#lgsp/observability';
import type { FastifyReply } from 'fastify';
import { renderMetrics } from './metrics-endpoint.js';
import { negotiateLanguage } from './language.js';
import { localizeProblem, problem, problemHeaders } from './problem.js';
import { EVENT_STORE, HUB_STATUS, SUBSCRIPTIONS, type HubStatus, type SubscriptionLags } from './tokens.js';

@Controller()
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(HUB_STATUS) private readonly status: HubStatus,
    @Inject(HubMetrics) private readonly hubMetrics: HubMetrics,
    @Inject(SUBSCRIPTIONS) private readonly subscriptions: SubscriptionLags,
  ) {}

  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Ready when started, not shutting down, the store answers, and Kafka (when configured) has not
   * refused the hub's credentials or certificates. The projection worker's state, the process's roles
   * and an unreachable broker are reported but do not count: a lagging or restarting subscriber or a
   * broker outage must not stop ingest.
   */
  @Get('health/ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    let head: number | undefined;
    try {
      head = (await this.store.head()).position;
    } catch {
      head = undefined;
    }
    const kafka = this.status.kafka;
    const refused = kafka?.state === 'refused' ? kafka : undefined;
    if (!this.status.ready || head === undefined || refused) {
      const detail = !this.status.ready
        ? 'the hub is starting or shutting down'
        : head === undefined
          ? 'the event store does not answer'
          : `Kafka refused the connection (${refused!.refusal}): ${refused!.detail}`;
      const language = negotiateLanguage(reply.request.headers['accept-language']);
      void reply
        .status(503)
        .headers(problemHeaders(language))
        .send(localizeProblem(problem('unavailable', detail), language));
      return;
    }
    void reply.send({
      status: 'ready',
      head,
      projection: this.status.projection,
      roles: this.status.roles,
      ...(kafka ? { kafka: kafka.state } : {}),
    });
  }

  /** The request guard has checked the metrics token and limit (see auth.ts). */
  @Get('metrics')
  async metrics(@Res() reply: FastifyReply): Promise<void> {
    const { contentType, body } = await renderMetrics({
      store: this.store,
      metrics: this.hubMetrics,
      subscriptions: this.subscriptions,
    });
    void reply.header('content-type', contentType).send(body);
  }
}
