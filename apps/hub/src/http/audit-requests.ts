import type { RootLogger as Logger } from '#lgsp/observability';
import type { AuditLog } from '#lgsp/security';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requestLogFields } from './request-log.js';

/**
 * The operator API: every call of one of these routes is an operator's or an admin's action, or an
 * attempt at one, and leaves an audit entry.
 */
export function isOperatorRoute(route: string | undefined): route is string {
  return route !== undefined && (route.startsWith('/v1/admin') || route.startsWith('/v1/webhooks'));
}

/** The console's forms (sign-in included): each POST is an operator's action, or an attempt at one. */
function isConsoleAction(route: string | undefined, method: string): route is string {
  return route !== undefined && method === 'POST' && route.startsWith('/console');
}

/**
 * The audit entry of one call of the operator API, as it was answered: the caller (`anonymous` without
 * a valid token), `http.<method>`, the route pattern as subject, the path and the query (masked as
 * in the request log) as scope, and the status. Requests refused for their rate (429) are counted in
 * the metrics instead: a flood must not turn into as many writes.
 */
export function requestAuditEntry(req: FastifyRequest, reply: FastifyReply, at: string) {
  const route = req.routeOptions?.url;
  if (!(isOperatorRoute(route) || isConsoleAction(route, req.method)) || reply.statusCode === 429)
    return undefined;
  const { query } = requestLogFields(req) as { query?: Record<string, string> };
  const path = req.url.split('?')[0] ?? req.url;
  return {
    at,
    actor: req.client?.name ?? 'anonymous',
    action: `http.${req.method.toLowerCase()}`,
    subject: route,
    scope: { path, ...(query === undefined ? {} : { query }) },
    outcome: { status: reply.statusCode, ...(reply.statusCode >= 400 ? { refused: true } : {}) },
  };
}

/** Records every call of the operator API in the audit log once it is answered. */
export function auditOperatorRequests(fastify: FastifyInstance, audit: AuditLog, logger: Logger): void {
  fastify.addHook('onResponse', async (req, reply) => {
    const entry = requestAuditEntry(req, reply, new Date().toISOString());
    if (entry === undefined) return;
    try {
      await audit.record(entry);
    } catch (err) {
      logger.error(
        {
          route: entry.subject,
          status: entry.outcome.status,
          err: err instanceof Error ? err.message : String(err),
        },
        'audit entry of an operator request not written',
      );
    }
  });
}
