import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { Allow, IsOptional, IsString, Length } from 'class-validator';
import { DomainError } from '#lgsp/contracts';
import type { Logger } from '#lgsp/observability';
import { MAX_NOTE_LENGTH, type ErasureService, type ErasureView } from '#lgsp/privacy';
import type { Client } from '#lgsp/security';
import { IntQuery, MAX_PAGE, OneQuery, text } from '../http/query.js';
import { Caller, Roles } from '../http/roles.js';
import { ERASURES, LOGGER } from '../http/tokens.js';

export class RequestErasureDto {
  /** A citizen ID or `dossier:<code>:<role>`: checked (and its refusal audited) by the erasure service. */
  @Allow()
  subjectId!: unknown;

  @IsOptional()
  @IsString()
  @Length(1, MAX_NOTE_LENGTH)
  note?: string;
}

export class RefuseErasureDto {
  /** The legal basis the refusal cites: checked by the erasure service. */
  @Allow()
  basis!: unknown;

  @IsOptional()
  @IsString()
  @Length(1, MAX_NOTE_LENGTH)
  note?: string;
}

export class EmptyDto {}

/**
 * `/v1/admin/erasures`: data subjects' erasure requests (Law 91/2025 Art. 14). Admin and operator; every
 * action and every refused attempt is audited by the erasure service, by subject reference only.
 */
@Roles('admin', 'operator')
@Controller('v1/admin/erasures')
export class ErasuresController {
  constructor(
    @Inject(ERASURES) private readonly erasures: ErasureService | undefined,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Post()
  @HttpCode(201)
  async request(
    @Caller() caller: Client,
    @Body() body: RequestErasureDto,
  ): Promise<{ erasure: ErasureView }> {
    const erasure = await this.service().request(caller.name, {
      subjectId: body.subjectId,
      ...(body.note === undefined ? {} : { note: body.note }),
    });
    this.logger.info({ actor: caller.name, erasure: erasure.id }, 'erasure requested');
    return { erasure };
  }

  @Get()
  list(
    @Query('limit', new IntQuery(100, 1, MAX_PAGE)) limit: number,
    @Query(
      'after',
      new OneQuery(text(1, 100), 'query parameter after must be given once', 'must be an erasure id'),
    )
    after: string | undefined,
  ): Promise<{ erasures: ErasureView[]; next?: string }> {
    return this.service().list({ limit, ...(after === undefined ? {} : { after }) });
  }

  @Get(':id')
  async show(@Param('id') id: string): Promise<{ erasure: ErasureView }> {
    return { erasure: await this.service().get(id) };
  }

  @Post(':id/approve')
  @HttpCode(200)
  async approve(
    @Caller() caller: Client,
    @Param('id') id: string,
    @Body() _body: EmptyDto = {},
  ): Promise<{ erasure: ErasureView }> {
    const erasure = await this.service().approve(caller.name, id);
    this.logger.info(
      { actor: caller.name, erasure: id, ...erasure.outcome },
      'erasure approved: keys destroyed',
    );
    return { erasure };
  }

  @Post(':id/refuse')
  @HttpCode(200)
  async refuse(
    @Caller() caller: Client,
    @Param('id') id: string,
    @Body() body: RefuseErasureDto,
  ): Promise<{ erasure: ErasureView }> {
    const erasure = await this.service().refuse(caller.name, id, {
      basis: body.basis,
      ...(body.note === undefined ? {} : { note: body.note }),
    });
    this.logger.info({ actor: caller.name, erasure: id }, 'erasure refused');
    return { erasure };
  }

  private service(): ErasureService {
    if (this.erasures === undefined)
      throw new DomainError(
        'conflict',
        'personal data is not sealed (privacy.enabled is false): erasure is not possible',
      );
    return this.erasures;
  }
}
