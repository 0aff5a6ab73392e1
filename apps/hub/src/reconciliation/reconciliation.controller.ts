import { Body, Controller, Get, HttpCode, Inject, Optional, Param, Post, Query } from '@nestjs/common';
import { IsObject, IsOptional, IsString, Length } from 'class-validator';
import { DomainError } from '#lgsp/contracts';
import {
  type ExtraAction,
  isMismatchCategory,
  type Mismatch,
  MISMATCH_CATEGORIES,
  type MismatchCategory,
  type MismatchPage,
  type ReconciliationRun,
  type ReconciliationScope,
  type ReconciliationService,
} from '#lgsp/reconciliation';
import type { Client } from '#lgsp/security';
import { IntQuery, MAX_PAGE, OneQuery, text } from '../http/query.js';
import { Caller, Roles } from '../http/roles.js';
import { RECONCILIATION } from '../http/tokens.js';

export class StartReconciliationDto {
  @IsString()
  @Length(1, 100)
  target!: string;

  /** Checked member by member by the service, which answers with pointers under `/scope`. */
  @IsOptional()
  @IsObject()
  scope?: ReconciliationScope;
}

export class ResolveExtraDto {
  /** Why: required to acknowledge, optional to capture. */
  @IsOptional()
  @IsString()
  @Length(1, 1000)
  note?: string;
}

/**
 * Reconciliation runs: start one for a target over a scope (it continues in the background), list
 * them newest first, read one with a page of its mismatches; capture an unexpected extra into the log
 * or acknowledge it (what no replay can fix). Admin or operator; every action and refusal is audited.
 */
@Roles('admin', 'operator')
@Controller('v1/admin/reconciliations')
export class ReconciliationController {
  constructor(@Optional() @Inject(RECONCILIATION) private readonly reconciliation?: ReconciliationService) {}

  @Post()
  @HttpCode(202)
  async start(
    @Caller() operator: Client,
    @Body() body: StartReconciliationDto,
  ): Promise<{ run: ReconciliationRun }> {
    return { run: await this.service().start(body.target, body.scope ?? {}, operator.name) };
  }

  @Get()
  async list(
    @Query('limit', new IntQuery(50, 1, MAX_PAGE)) limit: number,
    @Query(
      'after',
      new OneQuery(text(0, 100), 'query parameter after must be one run id', 'must be one run id'),
    )
    after: string | undefined,
  ): Promise<{ runs: ReconciliationRun[] }> {
    return { runs: await this.service().list({ limit, ...(after ? { after } : {}) }) };
  }

  @Get(':id')
  async get(
    @Param('id') id: string,
    @Query('limit', new IntQuery(100, 1, MAX_PAGE)) limit: number,
    @Query('after', new IntQuery(0, 0, Number.MAX_SAFE_INTEGER)) after: number,
    @Query(
      'category',
      new OneQuery(
        isMismatchCategory,
        `query parameter category must be one of ${MISMATCH_CATEGORIES.join(', ')}`,
        `must be one of ${MISMATCH_CATEGORIES.join(', ')}`,
      ),
    )
    category: MismatchCategory | undefined,
  ): Promise<{ run: ReconciliationRun } & MismatchPage> {
    const service = this.service();
    const run = await service.get(id);
    const page = await service.mismatches(id, {
      limit,
      ...(after > 0 ? { after } : {}),
      ...(category === undefined ? {} : { category }),
    });
    return { run, ...page };
  }

  /** The system's record of an `unexpected-extra` appended to the log as an event from that system. */
  @Post(':id/mismatches/:seq/capture')
  @HttpCode(200)
  capture(
    @Caller() operator: Client,
    @Param('id') id: string,
    @Param('seq') seq: string,
    @Body() body: ResolveExtraDto = {},
  ): Promise<{ mismatch: Mismatch & { seq: number }; run: ReconciliationRun }> {
    return this.resolve(operator, id, seq, 'captured', body.note);
  }

  /** An `unexpected-extra` left in the system on purpose, with the operator's note; later runs inherit it. */
  @Post(':id/mismatches/:seq/acknowledge')
  @HttpCode(200)
  acknowledge(
    @Caller() operator: Client,
    @Param('id') id: string,
    @Param('seq') seq: string,
    @Body() body: ResolveExtraDto = {},
  ): Promise<{ mismatch: Mismatch & { seq: number }; run: ReconciliationRun }> {
    return this.resolve(operator, id, seq, 'acknowledged', body.note);
  }

  private resolve(
    operator: Client,
    id: string,
    seq: string,
    action: ExtraAction,
    note: string | undefined,
  ): Promise<{ mismatch: Mismatch & { seq: number }; run: ReconciliationRun }> {
    if (!/^[1-9][0-9]{0,14}$/.test(seq))
      throw new DomainError(
        'not-found',
        `no finding ${seq.slice(0, 20)} in reconciliation run ${id.slice(0, 100)}`,
      );
    return this.service().resolveExtra(id, Number(seq), {
      action,
      by: operator.name,
      ...(note === undefined ? {} : { note }),
    });
  }

  private service(): ReconciliationService {
    const service = this.reconciliation;
    if (!service) throw new DomainError('not-found', 'reconciliation is not enabled');
    return service;
  }
}
