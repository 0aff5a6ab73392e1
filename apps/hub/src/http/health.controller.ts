import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { RUNTIME } from './tokens.js';
import { renderMetrics } from './metrics-endpoint.js';
import { PROBLEM_CONTENT_TYPE, problem } from './problem.js';
import type { HubRuntime } from '../runtime.js';

@Controller()
export class HealthController {
  constructor(@Inject(RUNTIME) private readonly rt: HubRuntime) {}

  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Ready when started, not shutting down, and the store answers. The projection worker's state is
   * reported but does not count: a lagging or restarting subscriber must not stop ingest.
   */
  @Get('health/ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    let head: number | undefined;
    try {
      head = (await this.rt.store.head()).position;
    } catch {
      head = undefined;
    }
    if (!this.rt.ready || head === undefined) {
      const detail = !this.rt.ready
        ? 'the hub is starting or shutting down'
        : 'the event store does not answer';
      void reply
        .status(503)
        .header('content-type', PROBLEM_CONTENT_TYPE)
        .send(problem('unavailable', detail));
      return;
    }
    void reply.send({ status: 'ready', head, projection: this.rt.projection?.state ?? 'subscriber' });
  }

  /** The request guard has checked the metrics token and limit (see auth.ts). */
  @Get('metrics')
  async metrics(@Res() reply: FastifyReply): Promise<void> {
    const { contentType, body } = await renderMetrics(this.rt);
    void reply.header('content-type', contentType).send(body);
  }
}
