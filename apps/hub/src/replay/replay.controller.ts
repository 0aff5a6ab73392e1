import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
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
import type { FastifyRequest } from 'fastify';
import { Roles } from '../http/roles.js';
import { principal } from '../http/auth.js';
import { RUNTIME } from '../http/tokens.js';
import { intParam } from '../http/wire.js';
import type { HubRuntime } from '../runtime.js';

export class PlanReplayDto {
  @IsString()
  @Length(1, 200)
  target!: string;

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
  constructor(@Inject(RUNTIME) private readonly rt: HubRuntime) {}

  @Post('plan')
  @HttpCode(200)
  async plan(@Req() req: FastifyRequest, @Body() body: PlanReplayDto): Promise<{ plan: ReplayPlan }> {
    const operator = principal(req);
    return { plan: await this.replays().plan(body.target, body.scope, operator.name) };
  }

  @Post()
  @HttpCode(201)
  async run(
    @Req() req: FastifyRequest,
    @Body() body: RunReplayDto,
  ): Promise<{ replay: ReplayProgress; plan: ReplayPlan }> {
    const operator = principal(req);
    return this.replays().run(body.target, body.scope, {
      by: operator.name,
      ...(body.confirm === undefined ? {} : { confirm: body.confirm }),
      ...(body.chunkSize === undefined ? {} : { chunkSize: body.chunkSize }),
      ...(body.ratePerSecond === undefined ? {} : { ratePerSecond: body.ratePerSecond }),
    });
  }

  @Get()
  async list(@Query() query: Record<string, unknown>): Promise<{ replays: ReplayProgress[] }> {
    const limit = intParam(query, 'limit', 50, 1, 1000);
    const after = query.after;
    if (after !== undefined && (typeof after !== 'string' || after.length === 0))
      throw new DomainError('malformed', 'query parameter after must be one replay id', [
        { pointer: '/after', message: 'must be one replay id' },
      ]);
    return { replays: await this.replays().list({ limit, ...(after ? { after } : {}) }) };
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<{ replay: ReplayProgress }> {
    return { replay: await this.replays().get(id) };
  }

  @Post(':id/pause')
  @HttpCode(200)
  async pause(
    @Req() req: FastifyRequest,
    @Param('id') id: string,
    @Body() body: ReplayNoteDto = {},
  ): Promise<{ replay: ReplayProgress }> {
    const operator = principal(req);
    return { replay: await this.replays().pause(id, operator.name, body.note) };
  }

  @Post(':id/resume')
  @HttpCode(200)
  async resume(
    @Req() req: FastifyRequest,
    @Param('id') id: string,
    @Body() body: ReplayNoteDto = {},
  ): Promise<{ replay: ReplayProgress }> {
    const operator = principal(req);
    return { replay: await this.replays().resume(id, operator.name, body.note) };
  }

  @Post(':id/cancel')
  @HttpCode(200)
  async cancel(
    @Req() req: FastifyRequest,
    @Param('id') id: string,
    @Body() body: ReplayNoteDto = {},
  ): Promise<{ replay: ReplayProgress }> {
    const operator = principal(req);
    return { replay: await this.replays().cancel(id, operator.name, body.note) };
  }

  /** The hub's replay service; 404 while the hub runs none. */
  private replays(): ReplayService {
    const replay = (this.rt as HubRuntime & { replay?: ReplayService }).replay;
    if (replay === undefined) throw new DomainError('not-found', 'replays are not enabled in this hub');
    return replay;
  }
}
