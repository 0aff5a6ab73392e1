import { Body, Controller, Get, HttpCode, Inject, Optional, Param, Post, Query } from '@nestjs/common';
import {
  IsBoolean,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
} from 'class-validator';
import { DomainError } from '#lgsp/contracts';
import type { ReplayPlan, ReplayProgress, ReplayService } from '#lgsp/replay';
import type { Client } from '#lgsp/security';
import { IntQuery, MAX_PAGE, OneQuery, text } from '../http/query.js';
import { Caller, Roles } from '../http/roles.js';
import { REPLAY } from '../http/tokens.js';

export class PlanReplayDto {
  /** Optional when `scope.reconciliationRun` names a run: the run's target. */
  @IsOptional()
  @IsString()
  @Length(1, 200)
  target?: string;

  /** Checked field by field by the planner (pointers under `/scope`). */
  @IsOptional()
  @IsObject()
  scope?: Record<string, unknown>;
}

export class RunReplayDto extends PlanReplayDto {
  @IsOptional()
  @IsBoolean()
  confirm?: boolean;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  chunkSize?: number;

  /** Items per second. */
  @IsOptional()
  @IsNumber()
  @Min(0.001)
  @Max(10_000)
  ratePerSecond?: number;
}

export class ReplayNoteDto {
  @IsOptional()
  @IsString()
  @Length(1, 1000)
  note?: string;
}

/**
 * Operators' replays: a plan (dry run), a run to one target, its progress, pause, resume and cancel.
 * Admin or operator; every action is audited by the replay service.
 */
@Roles('admin', 'operator')
@Controller('v1/admin/replays')
export class ReplayController {
  constructor(@Optional() @Inject(REPLAY) private readonly replay?: ReplayService) {}

  @Post('plan')
  @HttpCode(200)
  async plan(@Caller() operator: Client, @Body() body: PlanReplayDto): Promise<{ plan: ReplayPlan }> {
    return { plan: await this.replays().plan(body.target, body.scope, operator.name) };
  }

  @Post()
  @HttpCode(201)
  async run(
    @Caller() operator: Client,
    @Body() body: RunReplayDto,
  ): Promise<{ replay: ReplayProgress; plan: ReplayPlan }> {
    return this.replays().run(body.target, body.scope, {
      by: operator.name,
      ...(body.confirm === undefined ? {} : { confirm: body.confirm }),
      ...(body.chunkSize === undefined ? {} : { chunkSize: body.chunkSize }),
      ...(body.ratePerSecond === undefined ? {} : { ratePerSecond: body.ratePerSecond }),
    });
  }

  @Get()
  async list(
    @Query('limit', new IntQuery(50, 1, MAX_PAGE)) limit: number,
    @Query(
      'after',
      new OneQuery(text(1), 'query parameter after must be one replay id', 'must be one replay id'),
    )
    after: string | undefined,
  ): Promise<{ replays: ReplayProgress[] }> {
    return { replays: await this.replays().list({ limit, ...(after ? { after } : {}) }) };
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<{ replay: ReplayProgress }> {
    return { replay: await this.replays().get(id) };
  }

  @Post(':id/pause')
  @HttpCode(200)
  async pause(
    @Caller() operator: Client,
    @Param('id') id: string,
    @Body() body: ReplayNoteDto = {},
  ): Promise<{ replay: ReplayProgress }> {
    return { replay: await this.replays().pause(id, operator.name, body.note) };
  }

  @Post(':id/resume')
  @HttpCode(200)
  async resume(
    @Caller() operator: Client,
    @Param('id') id: string,
    @Body() body: ReplayNoteDto = {},
  ): Promise<{ replay: ReplayProgress }> {
    return { replay: await this.replays().resume(id, operator.name, body.note) };
  }

  @Post(':id/cancel')
  @HttpCode(200)
  async cancel(
    @Caller() operator: Client,
    @Param('id') id: string,
    @Body() body: ReplayNoteDto = {},
  ): Promise<{ replay: ReplayProgress }> {
    return { replay: await this.replays().cancel(id, operator.name, body.note) };
  }

  /** The hub's replay service; 404 while the hub runs none. */
  private replays(): ReplayService {
    const replay = this.replay;
    if (replay === undefined) throw new DomainError('not-found', 'replays are not enabled in this hub');
    return replay;
  }
}
