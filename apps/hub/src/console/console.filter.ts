import { Catch, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Logger } from '#lgsp/observability';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { localizeProblem, toProblem } from '../http/problem.js';
import { LOGGER } from '../http/tokens.js';
import { pageContext } from './console-http.js';
import { errorPage } from './pages.js';

/** A console page asked without a live session (none, expired, forged, or its operator revoked). */
export class LoginRequired extends Error {
  constructor() {
    super('sign in to the console');
  }
}

/** A console form posted without its session's CSRF token (or the login form without its own). */
export class CsrfRefused extends Error {
  constructor() {
    super('the form has no valid CSRF token');
  }
}

/**
 * The console's errors as pages, with the status the JSON API would give: a page without a session
 * sends the browser to the login page (a form gets 401), a form without its CSRF token gets 403,
 * a domain error its problem's status and detail, in the page's language.
 */
@Catch()
export class ConsoleFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const ctx = pageContext(req, reply);
    if (error instanceof LoginRequired) {
      if (req.method === 'GET' || req.method === 'HEAD') {
        void reply.code(303).header('location', '/console/login').send();
        return;
      }
      void reply
        .code(401)
        .type('text/html; charset=utf-8')
        .send(errorPage(ctx, 401, ctx.t('login.expired')).value);
      return;
    }
    if (error instanceof CsrfRefused) {
      void reply
        .code(403)
        .type('text/html; charset=utf-8')
        .send(errorPage(ctx, 403, ctx.t('error.csrf')).value);
      return;
    }
    const problem = localizeProblem(toProblem(error, req.url.split('?')[0]), ctx.lang);
    if (problem.status >= 500)
      this.logger.error(
        { route: req.routeOptions?.url, err: error instanceof Error ? error.message : String(error) },
        'console request failed',
      );
    const detail = [problem.detail, ...problem.errors.map((e) => `${e.pointer}: ${e.message}`)].join(' — ');
    void reply
      .code(problem.status)
      .type('text/html; charset=utf-8')
      .send(errorPage(ctx, problem.status, detail).value);
  }
}
