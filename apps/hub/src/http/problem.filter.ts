import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '#lgsp/observability';
import { languageOfRawRequest, negotiateLanguage } from './language.js';
import { localizeProblem, problem, problemHeaders, toProblem, type Problem } from './problem.js';
import { loggablePointers, requestLogFields } from './request-log.js';

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

/**
 * Answers a request with the problem for `exception` and logs it. The log line carries what the hub
 * chose (route pattern, status, problem type, masked pointers), never the request's own text — a path
 * parameter, a detail or an issue message may quote a citizen's name (see `requestLogFields`).
 */
export function sendProblem(
  logger: Logger,
  req: FastifyRequest,
  reply: FastifyReply,
  exception: unknown,
): void {
  const body = toProblem(exception, req.url.split('?')[0]);
  const fields = { ...requestLogFields(req), status: body.status };
  if (body.status >= 500) logger.error({ ...fields, err: exception }, 'request failed');
  else {
    logger.info(
      {
        ...fields,
        problem: body.type,
        client: req.client?.name,
        pointers: loggablePointers(body.errors),
        ...(body.errors.length > 0 ? { issues: body.errors.length } : {}),
      },
      'request rejected',
    );
  }
  if (body.status === 401) reply.header('www-authenticate', 'Bearer');
  if (body.status === 503) reply.header('retry-after', '1');
  const language = negotiateLanguage(req.headers['accept-language']);
  void reply.status(body.status).headers(problemHeaders(language)).send(localizeProblem(body, language));
}

/** Node's parser errors that have their own status; any other is a 400. */
const CLIENT_ERROR_STATUS: Readonly<Record<string, number>> = {
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  HPE_HEADER_OVERFLOW: 431,
};

/**
 * Answers what Node's HTTP parser refuses before any route sees it (a body shorter than its
 * Content-Length, a NUL byte in a header, bad chunked encoding, a request too slow to arrive) with a
 * problem written on the socket, which is then closed. Fastify's `clientErrorHandler`.
 */
export function sendClientErrorProblem(
  logger: Logger,
  error: Error & { code?: string; rawPacket?: unknown },
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = CLIENT_ERROR_STATUS[error.code ?? ''] ?? 400;
  const body: Problem =
    status === 400
      ? problem('malformed', `the request is not valid HTTP/1.1 (${error.code ?? 'parse error'})`)
      : toProblem({
          statusCode: status,
          message: `the request was refused by the HTTP layer (${error.code})`,
        });
  logger.debug({ status, code: error.code }, 'request refused by the HTTP parser');
  const responding = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  // Bytes after a complete request that said `Connection: close`: that request is answered as usual
  // (it may have been appended), and the connection closes after its response.
  if (error.code === 'HPE_CLOSED_CONNECTION' && responding !== undefined) return;
  // A response already under way cannot be followed by another on the same connection.
  if (!socket.writable || responding?.headersSent === true) {
    socket.destroy();
    return;
  }
  const language = languageOfRawRequest(Buffer.isBuffer(error.rawPacket) ? error.rawPacket : undefined);
  const json = JSON.stringify(localizeProblem(body, language));
  const headers = Object.entries(problemHeaders(language))
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${headers}` +
      `content-length: ${Buffer.byteLength(json)}\r\nconnection: close\r\n\r\n${json}`,
  );
  socket.destroySoon();
}

/**
 * Answers an `Expect` header other than `100-continue` (Node's `checkExpectation` event, which would
 * otherwise answer a bare 417) with a problem.
 */
export function sendExpectationFailed(req: IncomingMessage, res: ServerResponse): void {
  const language = negotiateLanguage(req.headers['accept-language']);
  const json = JSON.stringify(
    localizeProblem(
      toProblem({ statusCode: 417, message: 'only the expectation 100-continue is supported' }),
      language,
    ),
  );
  res.writeHead(417, { ...problemHeaders(language), connection: 'close' }).end(json);
}
