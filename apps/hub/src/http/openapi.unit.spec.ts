import 'reflect-metadata';
import { RequestMethod, type Type } from '@nestjs/common';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import {
  HTTP_CODE_METADATA,
  METHOD_METADATA,
  MODULE_METADATA,
  PATH_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants.js';
import type { Role } from '#lgsp/security';
import { AdministrationModule } from '../modules/administration.module.js';
import { ApiDocsModule } from '../modules/api-docs.module.js';
import { HealthModule } from '../modules/health.module.js';
import { IngestModule } from '../modules/ingest.module.js';
import { OperationsModule } from '../modules/operations.module.js';
import { PrivacyAffectedModule } from '../modules/privacy-affected.module.js';
import { ReadsModule } from '../modules/reads.module.js';
import { UNDOCUMENTED_PREFIXES, documentedRoutes, openApiDocument } from './openapi.js';
import { ROLES_KEY } from './roles.js';

/** The modules of the `api` role (AppModule.forRuntime) but the console, which the document leaves out. */
const API_MODULES = [
  IngestModule,
  ReadsModule,
  OperationsModule,
  AdministrationModule,
  PrivacyAffectedModule,
  HealthModule,
  ApiDocsModule,
];

interface Declared {
  route: string;
  roles: readonly Role[] | undefined;
  /** The status Nest answers with, unless the handler writes the reply itself. */
  status: number | undefined;
}

const METHODS: Partial<Record<RequestMethod, string>> = {
  [RequestMethod.GET]: 'GET',
  [RequestMethod.POST]: 'POST',
  [RequestMethod.PATCH]: 'PATCH',
  [RequestMethod.DELETE]: 'DELETE',
};

/** Each handler of the controllers, as its decorators declare it: route, roles and status. */
function declaredHandlers(): Declared[] {
  const out: Declared[] = [];
  for (const module of API_MODULES) {
    const controllers = (Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, module) ?? []) as Type[];
    for (const controller of controllers) {
      const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      const classRoles = Reflect.getMetadata(ROLES_KEY, controller) as Role[] | undefined;
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[name];
        if (typeof handler !== 'function' || name === 'constructor') continue;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
        if (path === undefined) continue;
        const method = METHODS[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        const full = `/${[base, path]
          .map((p) => p.replace(/^\/|\/$/g, ''))
          .filter(Boolean)
          .join('/')}`;
        const args = Object.keys(Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {});
        const ownReply = args.some((key) => key.startsWith(`${RouteParamtypes.RESPONSE}:`));
        const code = Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined;
        out.push({
          route: `${method} ${full.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`,
          roles: (Reflect.getMetadata(ROLES_KEY, handler) as Role[] | undefined) ?? classRoles,
          status: code ?? (ownReply ? undefined : method === 'POST' ? 201 : 200),
        });
      }
    }
  }
  return out;
}

type Operation = { responses: Record<string, unknown>; 'x-lgsp-callers': string[] };

describe('the OpenAPI document against the controllers’ decorators', () => {
  const document = openApiDocument('0.0.0-test');
  const operation = (route: string): Operation => {
    const [method, path] = route.split(' ') as [string, string];
    return document.paths[path]![method.toLowerCase()] as Operation;
  };
  const declared = declaredHandlers();

  it('names the routes the API modules declare (the console and /docs left out)', () => {
    const routes = declared
      .map((d) => d.route)
      .filter((r) => !UNDOCUMENTED_PREFIXES.some((p) => r.split(' ')[1]!.startsWith(p)));
    expect(routes.sort()).toEqual(documentedRoutes(document).sort());
  });

  it('gives each route the roles its @Roles decorator admits', () => {
    const withRoles = declared.filter((d) => d.roles !== undefined);
    expect(withRoles.length).toBeGreaterThan(40);
    for (const { route, roles } of withRoles) {
      expect([route, [...operation(route)['x-lgsp-callers']].sort()]).toEqual([route, [...roles!].sort()]);
    }
  });

  it('gives each route the success status Nest answers with', () => {
    for (const { route, status } of declared) {
      if (status === undefined || route.startsWith('GET /docs')) continue;
      expect([route, Object.keys(operation(route).responses)]).toEqual([
        route,
        expect.arrayContaining([String(status)]),
      ]);
    }
  });
});
