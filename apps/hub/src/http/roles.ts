import {
  createParamDecorator,
  Injectable,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Client, Role } from '#lgsp/security';
import type { FastifyRequest } from 'fastify';
import { principal } from './auth.js';

/** The metadata key of {@link Roles}. */
export const ROLES_KEY = 'lgsp:roles';

/** The roles that may call a route (or every route of a controller); absent means any client. */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES_KEY, roles);

/**
 * Refuses a client whose role the route does not name, with 403. Guards run before pipes, so a client
 * without the role learns nothing of a route's body rules from a 422.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  /** The roles of each handler, looked up once (this guard runs on every request, ingest included). */
  private readonly byHandler = new Map<unknown, readonly Role[] | null>();

  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let roles = this.byHandler.get(handler);
    if (roles === undefined) {
      roles =
        this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, [handler, context.getClass()]) ??
        null;
      this.byHandler.set(handler, roles);
    }
    if (roles !== null) principal(context.switchToHttp().getRequest<FastifyRequest>(), ...roles);
    return true;
  }
}

/**
 * The authenticated client calling the route: the request hook has authenticated it and the guard
 * checked its role, so a handler never checks either itself.
 */
export const Caller = createParamDecorator((_data: unknown, ctx: ExecutionContext): Client =>
  principal(ctx.switchToHttp().getRequest<FastifyRequest>()),
);
