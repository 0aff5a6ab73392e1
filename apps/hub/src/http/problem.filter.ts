import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '#lgsp/observability';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem.js';

/** Every error leaves the hub as `application/problem+json`. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    sendProblem(this.logger, req, reply, exception);
  }
}

export function sendProblem(
  logger: Logger,
  req: FastifyRequest,
  reply: FastifyReply,
  exception: unknown,
): void {
  const body = toProblem(exception, req.url.split('?')[0]);
  if (body.status >= 500)
    logger.error({ err: exception, method: req.method, url: req.url }, 'request failed');
  else {
    logger.info(
      {
        status: body.status,
        method: req.method,
        url: req.url,
        client: req.client?.name,
        detail: body.detail,
        errors: body.errors,
      },
      'request rejected',
    );
  }
  if (body.status === 401) reply.header('www-authenticate', 'Bearer');
  if (body.status === 503) reply.header('retry-after', '1');
  void reply.status(body.status).header('content-type', PROBLEM_CONTENT_TYPE).send(body);
}
