import { DomainError } from '#lgsp/contracts';
import { bearerToken, type Client, type Role } from '#lgsp/security';
import type { FastifyRequest } from 'fastify';
import type { HubRuntime } from '../runtime.js';

declare module 'fastify' {
  interface FastifyRequest {
    client?: Client;
  }
}

/**
 * Paths served without a token: probes, the Prometheus scrape, and the payment platform's callbacks
 * (authenticated by their `MaXacThuc` digest instead).
 */
const PUBLIC = /^\/(health\/(live|ready)|metrics|v1\/callbacks\/payments)(\?|$)/;

/**
 * Authenticates in Fastify's onRequest hook, before the body is read, so a request without a valid
 * token is refused without spending effort on its body.
 */
export async function authenticate(runtime: HubRuntime, req: FastifyRequest): Promise<void> {
  if (PUBLIC.test(req.url)) return;
  const token = bearerToken(req.headers.authorization);
  if (!token) throw new DomainError('unauthenticated', 'send Authorization: Bearer <token>');
  const client = await runtime.clients.authenticate(token);
  if (!client) throw new DomainError('unauthenticated', 'the token is not valid');
  req.client = client;
}

/** The authenticated client, or 403 when its role is not among `roles`. */
export function principal(req: FastifyRequest, ...roles: Role[]): Client {
  const client = req.client;
  if (!client) throw new DomainError('unauthenticated', 'send Authorization: Bearer <token>');
  if (roles.length > 0 && !roles.includes(client.role)) {
    throw new DomainError(
      'forbidden',
      `this needs the role ${roles.join(' or ')}; client ${client.name} is ${client.role}`,
    );
  }
  return client;
}
