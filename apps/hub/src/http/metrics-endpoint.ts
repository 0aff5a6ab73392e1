import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { DomainError } from '#lgsp/contracts';
import type { Logger } from '#lgsp/observability';
import { bearerToken } from '#lgsp/security';
import type { HubConfig } from '#lgsp/hub-config';
import type { EventStore } from '#lgsp/event-store';
import type { HubMetrics } from '#lgsp/observability';
import type { SubscriptionLags } from './tokens.js';
import { negotiateLanguage, type Language } from './language.js';
import { localizeProblem, problemHeaders, toProblem } from './problem.js';
import { rateLimitedProblem, type RequestLimits } from './rate-limits.js';

export const METRICS_PATH = '/metrics';

/** What the metrics are sampled from (parts of the runtime). */
export interface MetricsSources {
  store: Pick<EventStore, 'head'>;
  metrics: HubMetrics;
  subscriptions: SubscriptionLags;
}

/** The Prometheus text of the hub, with the head position and the subscribers' lag sampled now. */
export async function renderMetrics(rt: MetricsSources): Promise<{ contentType: string; body: string }> {
  const head = await rt.store.head();
  rt.metrics.headPosition.set(head.position);
  return { contentType: rt.metrics.contentType, body: await rt.metrics.render(() => rt.subscriptions.lag()) };
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Checks the `Authorization` of a scrape against `metrics.token`; with no token configured every
 * scrape passes. Compares digests in constant time, so the answer's timing tells nothing of the token.
 * @returns a function that throws DomainError `unauthenticated` for a missing or wrong token.
 */
export function metricsAuthorizer(
  token: string | null,
): (authorization: string | string[] | undefined) => void {
  if (token === null) return () => undefined;
  const expected = digest(token);
  return (authorization) => {
    const given = bearerToken(authorization);
    if (given === undefined || !timingSafeEqual(digest(given), expected))
      throw new DomainError('unauthenticated', 'the metrics need their bearer token');
  };
}

/** Node's settings for the timeouts of `http` (server options, and how often they are checked). */
export function nodeTimeouts(http: HubConfig['http']): {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
} {
  const shortest = Math.min(http.headersTimeoutMs, http.requestTimeoutMs || Infinity);
  return {
    headersTimeout: http.headersTimeoutMs,
    requestTimeout: http.requestTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    // Node checks for late headers and bodies on an interval (30 s by default): check often enough
    // that a timeout fires within about a quarter of itself.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(shortest / 4))),
  };
}

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/**
 * `/metrics` on a listener of its own (`metrics.port`), for networks where Prometheus may reach the
 * hub's metrics but not its API. It serves nothing else; the token and the per-address limit apply
 * as on the main port, and its requests are timed in `lgsp_http_request_duration_seconds` as the main
 * port's are: route `/metrics` for a GET or HEAD of it, `unmatched` for anything else.
 */
export async function startMetricsListener(
  rt: MetricsSources & { config: HubConfig },
  limits: RequestLimits,
  logger: Logger,
): Promise<MetricsListener> {
  const { config } = rt;
  const port = config.metrics.port ?? 0;
  const host = config.metrics.host ?? config.http.host;
  const authorize = metricsAuthorizer(config.metrics.token);
  const timeouts = nodeTimeouts(config.http);
  const server: Server = createServer(
    {
      headersTimeout: timeouts.headersTimeout,
      connectionsCheckingInterval: timeouts.connectionsCheckingInterval,
    },
    (req, res) => {
      const startedAt = performance.now();
      const path = (req.url ?? '').split('?')[0];
      const matched = path === METRICS_PATH && (req.method === 'GET' || req.method === 'HEAD');
      res.once('finish', () =>
        rt.metrics.httpRequest(
          req.method ?? '',
          matched ? METRICS_PATH : undefined,
          res.statusCode,
          (performance.now() - startedAt) / 1000,
        ),
      );
      const language = negotiateLanguage(req.headers['accept-language']);
      const fail = (error: unknown) => writeProblem(res, error, path, language);
      if (!matched) return fail(new DomainError('not-found', 'this listener serves GET /metrics only'));
      const headers = { header: (name: string, value: string) => res.setHeader(name, value) };
      if (!limits.metricsScrape(req.socket.remoteAddress, headers)) {
        res.writeHead(429, problemHeaders(language));
        return res.end(JSON.stringify(localizeProblem(rateLimitedProblem(path), language)));
      }
      try {
        authorize(req.headers.authorization);
      } catch (error) {
        return fail(error);
      }
      renderMetrics(rt).then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'metrics could not be rendered');
          fail(error);
        },
      );
    },
  );
  server.requestTimeout = timeouts.requestTimeout;
  server.keepAliveTimeout = timeouts.keepAliveTimeout;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound}${METRICS_PATH}`;
  logger.info({ url }, 'metrics listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function writeProblem(
  res: ServerResponse,
  error: unknown,
  path: string | undefined,
  language: Language,
): void {
  const body = toProblem(error, path);
  if (body.status === 401) res.setHeader('www-authenticate', 'Bearer');
  res.writeHead(body.status, problemHeaders(language));
  res.end(JSON.stringify(localizeProblem(body, language)));
}
