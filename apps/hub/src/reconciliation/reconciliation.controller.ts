import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { IsObject, IsOptional, IsString, Length } from 'class-validator';
import { DomainError } from '#lgsp/contracts';
import {
  isMismatchCategory,
  MISMATCH_CATEGORIES,
  type MismatchPage,
  type ReconciliationRun,
  type ReconciliationScope,
  type ReconciliationService,
} from '#lgsp/reconciliation';
import type { FastifyRequest } from 'fastify';
import { Roles } from '../http/roles.js';
import { principal } from '../http/auth.js';
import { RUNTIME } from '../http/tokens.js';
import { intParam } from '../http/wire.js';
import type { HubRuntime } from '../runtime.js';

const MAX_LIMIT = 1000;

export class StartReconciliationDto {
  @IsString()
  @Length(1, 100)
  target!: string;

  /** Checked member by member by the service, which answers with pointers under `/scope`. */
  @IsOptional()
  @IsObject()
  scope?: ReconciliationScope;
}

/**
 * Reconciliation runs: start one for a target over a scope (it continues in the background), list
 * them newest first, read one with a page of its mismatches. Admin or operator.
 */
@Roles('admin', 'operator')
@Controller('v1/admin/reconciliations')
export class ReconciliationController {
  constructor(
    @Inject(RUNTIME) private readonly rt: HubRuntime & { reconciliation?: ReconciliationService },
  ) {}

  @Post()
  @HttpCode(202)
  async start(
    @Req() req: FastifyRequest,
    @Body() body: StartReconciliationDto,
  ): Promise<{ run: ReconciliationRun }> {
    const operator = principal(req);
    return { run: await this.service().start(body.target, body.scope ?? {}, operator.name) };
  }

  @Get()
  async list(@Query() query: Record<string, unknown>): Promise<{ runs: ReconciliationRun[] }> {
    const limit = intParam(query, 'limit', 50, 1, MAX_LIMIT);
    const after = query.after;
    if (after !== undefined && (typeof after !== 'string' || after.length > 100))
      throw new DomainError('malformed', 'query parameter after must be one run id', [
        { pointer: '/after', message: 'must be one run id' },
      ]);
    return { runs: await this.service().list({ limit, ...(after ? { after } : {}) }) };
  }

  @Get(':id')
  async get(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
  ): Promise<{ run: ReconciliationRun } & MismatchPage> {
    const limit = intParam(query, 'limit', 100, 1, MAX_LIMIT);
    const after = intParam(query, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
    const category = query.category;
    if (category !== undefined && !isMismatchCategory(category))
      throw new DomainError(
        'malformed',
        `query parameter category must be one of ${MISMATCH_CATEGORIES.join(', ')}`,
        [{ pointer: '/category', message: `must be one of ${MISMATCH_CATEGORIES.join(', ')}` }],
      );
    const service = this.service();
    const run = await service.get(id);
    const page = await service.mismatches(id, {
      limit,
      ...(after > 0 ? { after } : {}),
      ...(category === undefined ? {} : { category }),
    });
    return { run, ...page };
  }

  private service(): ReconciliationService {
    const service = this.rt.reconciliation;
    if (!service) throw new DomainError('not-found', 'reconciliation is not enabled');
    return service;
  }
}
