import { Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { parseHttpEvents } from '#lgsp/contracts';
import { IngestService } from '#lgsp/ingest';
import { HubMetrics, tracing } from '#lgsp/observability';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { principal } from './auth.js';
import { INGEST_LIMITS, type IngestLimits } from './tokens.js';

@Controller('v1/events')
export class IngestController {
  constructor(
    @Inject(IngestService) private readonly ingestService: IngestService,
    @Inject(HubMetrics) private readonly metrics: HubMetrics,
    @Inject(INGEST_LIMITS) private readonly limits: IngestLimits,
  ) {}

  /**
   * CloudEvents over HTTP: structured, batch or binary mode. The hot path keeps its hand-written
   * parsing (no DTO, no pipe): the body arrives as raw bytes, the CloudEvents binding picks the mode
   * from the media type, and the events are checked against their JSON Schemas by the ingest service.
   * A ValidationPipe would add a class instance and a reflective walk per event to the path of the
   * single-event HTTP ingest benchmark (`BENCH_ONLY=ingest`: 12,746 events/s, p99 11 ms, README),
   * which the move to one module per area leaves as it was (the caller read from the request, no
   * parameter decorator).
   */
  @Post()
  @HttpCode(201)
  async ingest(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const client = principal(req);
    // The request's traceparent, when it is a valid one, is the span's parent (W3C Trace Context: an
    // invalid one is ignored, the trace starts here); off, it is what the events store.
    const incoming = req.headers.traceparent;
    const outcome = await tracing().span(
      'POST /v1/events',
      {
        kind: 'server',
        parent: typeof incoming === 'string' ? incoming : undefined,
        attributes: { 'http.request.method': 'POST', 'http.route': '/v1/events' },
      },
      async (span) => {
        const { mode, events } = parseHttpEvents({
          contentType: req.headers['content-type'],
          headers: req.headers,
          body: Buffer.isBuffer(req.body) ? req.body : undefined,
          maxEvents: this.limits.maxBatchEvents,
        });
        span.setAttribute('lgsp.ingest.mode', mode);
        span.setAttribute('lgsp.events', events.length);
        const answer = await this.ingestService.ingest(client, events, mode !== 'batch', {
          traceparent: span.traceparent(),
        });
        span.setAttribute('http.response.status_code', answer.status);
        this.metrics.ingestRequest(mode, answer.status);
        return answer;
      },
    );
    void reply
      .status(outcome.status)
      .header('content-type', 'application/json')
      .send(
        outcome.warnings
          ? { results: outcome.results, warnings: outcome.warnings }
          : { results: outcome.results },
      );
  }
}
