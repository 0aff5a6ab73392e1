import { Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { parseHttpEvents } from '#lgsp/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RUNTIME } from './tokens.js';
import { principal } from './auth.js';
import type { HubRuntime } from '../runtime.js';

@Controller('v1/events')
export class IngestController {
  constructor(@Inject(RUNTIME) private readonly rt: HubRuntime) {}

  /** CloudEvents over HTTP: structured, batch or binary mode. */
  @Post()
  @HttpCode(201)
  async ingest(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const client = principal(req);
    const { mode, events } = parseHttpEvents({
      contentType: req.headers['content-type'],
      headers: req.headers,
      body: Buffer.isBuffer(req.body) ? req.body : undefined,
      maxEvents: this.rt.config.ingest.maxBatchEvents,
    });
    const outcome = await this.rt.ingest.ingest(client, events, mode !== 'batch');
    this.rt.metrics.ingestRequest(mode, outcome.status);
    void reply
      .status(outcome.status)
      .header('content-type', 'application/json')
      .send({ results: outcome.results });
  }
}
