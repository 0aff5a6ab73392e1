import { auditOperatorRequests } from './http/audit-requests.js';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DomainError, parseStrictJsonBytes } from '#lgsp/contracts';
import { NestLoggerAdapter, type RootLogger as Logger } from '#lgsp/observability';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppModule } from './app.module.js';
import type { HubConfig } from '#lgsp/hub-config';
import { guardRequest, type GuardParts } from './http/auth.js';
import { capConnectionsPerAddress } from './http/connections.js';
import { assertHeaders } from './http/headers.js';
import { metricsAuthorizer, nodeTimeouts, startMetricsListener } from './http/metrics-endpoint.js';
import { RequestLimits } from './http/rate-limits.js';
import { bodyValidationPipe } from './http/validation.js';
import {
  ProblemFilter,
  sendClientErrorProblem,
  sendExpectationFailed,
  sendProblem,
} from './http/problem.filter.js';
import { startEmbeddedSimulators } from './connectors/embedded-simulators.js';
import { createRuntime, type HubRuntime } from './runtime.js';
import { consoleClient, registerConsoleHttp } from './console/console-http.js';
import { ConsoleSessions } from './console/sessions.js';
import { fastifyCookie } from '@fastify/cookie';

export interface Hub {
  app: NestFastifyApplication;
  runtime: HubRuntime;
  url: string;
  /** Where Prometheus scrapes: `/metrics` on `url`, or on its own listener (`metrics.port`). */
  metricsUrl: string;
  close(): Promise<void>;
}

const INGEST_PATH = '/v1/events';
const JSON_TYPES = ['application/json', 'application/cloudevents+json', 'application/cloudevents-batch+json'];

/** Builds and starts the hub: store, subscriptions, HTTP. */
export async function startHub(config: HubConfig, logger: Logger): Promise<Hub> {
  // Before the connectors start, so their first calls find the simulators listening.
  const simulators = config.simulators.embedded ? await startEmbeddedSimulators(config, logger) : undefined;
  let runtime: HubRuntime;
  try {
    runtime = await createRuntime(config, logger);
  } catch (err) {
    await simulators?.stop();
    throw err;
  }
  const { headersTimeout, requestTimeout, keepAliveTimeout, connectionsCheckingInterval } = nodeTimeouts(
    config.http,
  );
  const adapter = new FastifyAdapter({
    bodyLimit: config.http.bodyLimitBytes,
    logger: false,
    requestTimeout,
    keepAliveTimeout,
    // What the HTTP parser and the router refuse before any route runs is a problem document too.
    clientErrorHandler: (err, socket) => sendClientErrorProblem(logger, err, socket),
    frameworkErrors: (err: Error, req: FastifyRequest, reply: FastifyReply) =>
      sendProblem(logger, req, reply, err),
    // Node answers a missing Host with a bare 400; assertHeaders answers it with a problem.
    http: { requireHostHeader: false, headersTimeout, connectionsCheckingInterval },
  });
  const api = runtime.runs('api');
  const consoleSessions = new ConsoleSessions({ idleMs: config.http.consoleSessionMinutes * 60_000 });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRuntime(runtime, api ? consoleSessions : undefined),
    adapter,
    {
      logger: new NestLoggerAdapter(logger.child({ component: 'nest' })),
      bufferLogs: false,
      bodyParser: false,
    },
  );
  const fastify = app.getHttpAdapter().getInstance();
  fastify.server.on('checkExpectation', sendExpectationFailed);
  // A client that sends its whole request and then half-closes its side (it has nothing more to send)
  // still gets the answer: without this Node aborts a request whose answer is not written by the time
  // the end of the stream is read, i.e. any answer that waits for a commit.
  (fastify.server as { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;

  // Ingest reads raw bytes: the CloudEvents binding decides the mode from the media type, and bad
  // JSON becomes a problem the ingest path reports itself. Other routes get parsed JSON.
  fastify.removeAllContentTypeParsers();
  const parse = (
    req: FastifyRequest,
    body: Buffer,
    done: (err: Error | null, value?: unknown) => void,
  ): void => {
    if (req.url.split('?')[0] === INGEST_PATH) return done(null, body);
    if (body.length === 0) return done(null, undefined);
    try {
      const value = parseStrictJsonBytes(body, 'body');
      // Every operator route (and the payment callback) takes a JSON object.
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new DomainError('malformed', 'the body must be a JSON object', [
          { pointer: '', message: 'must be a JSON object' },
        ]);
      }
      done(null, value);
    } catch (e) {
      done(e as Error);
    }
  };
  fastify.addContentTypeParser(JSON_TYPES, { parseAs: 'buffer' }, parse);
  fastify.addContentTypeParser(/^application\/[^;]+\+json/, { parseAs: 'buffer' }, parse);
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
    if (req.url.split('?')[0] === INGEST_PATH) return done(null, body);
    done(new DomainError('unsupported-media-type', 'send application/json'));
  });
  // The console's cookies are parsed and written by @fastify/cookie's functions (no request hook).
  await app.register(fastifyCookie as never, { hook: false });
  if (api) registerConsoleHttp(fastify, (req) => req.url.split('?')[0] === INGEST_PATH);
  const limits = new RequestLimits(config.rateLimit, runtime.metrics, logger);
  const guard: GuardParts = {
    clients: runtime.clients,
    limits,
    authorizeMetrics: config.metrics.port === null ? metricsAuthorizer(config.metrics.token) : null,
    consoleClient: consoleClient(consoleSessions, runtime.clients),
  };
  fastify.addHook('onRequest', async (req, reply) => {
    assertHeaders(req.raw);
    return guardRequest(guard, req, reply);
  });
  // Labelled by the route pattern, never the path: a path holds dossier codes and other callers' text.
  fastify.addHook('onResponse', async (req, reply) => {
    runtime.metrics.httpRequest(req.method, req.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
  });
  // Every call of the operator API, answered or refused, leaves an audit entry.
  auditOperatorRequests(fastify, runtime.audit, logger);
  capConnectionsPerAddress(fastify.server, config.http.maxConnectionsPerAddress, () =>
    runtime.metrics.connectionRefused(),
  );

  app.useGlobalFilters(new ProblemFilter(logger));
  app.useGlobalPipes(bodyValidationPipe());
  app.enableShutdownHooks([]);

  await runtime.start();
  await app.listen({ port: config.http.port, host: config.http.host });
  const metricsListener =
    config.metrics.port === null ? undefined : await startMetricsListener(runtime, limits, logger);
  runtime.ready = true;
  const address = fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const url = `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${port}`;
  // Without the api role the listener serves the probes and /metrics only.
  logger.info({ url, dataDir: config.dataDir, roles: config.roles }, 'lgsp-hub listening');
  simulators?.hubListening(url);

  return {
    app,
    runtime,
    url,
    metricsUrl: metricsListener?.url ?? `${url}/metrics`,
    async close() {
      runtime.ready = false;
      await metricsListener?.close();
      await app.close();
      await runtime.close();
      await simulators?.stop();
    },
  };
}
