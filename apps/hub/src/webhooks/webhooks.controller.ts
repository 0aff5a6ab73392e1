import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import {
  IsDefined,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
} from 'class-validator';
import { DomainError, type EventVersions, type Issue } from '#lgsp/contracts';
import type { Logger } from '#lgsp/observability';
import type { Client } from '#lgsp/security';
import type { DeliveryAttempt, WebhookFilter, WebhookService, WebhookView } from '#lgsp/webhooks';
import { IntQuery, MAX_PAGE, OneQuery, text } from '../http/query.js';
import { Caller, Roles } from '../http/roles.js';
import { LOGGER, WEBHOOKS } from '../http/tokens.js';
import { redactedUrl } from '#lgsp/webhooks';

export class CreateWebhookDto {
  @IsString()
  @Length(1, 2048)
  url!: string;

  @IsOptional()
  @IsString()
  @Length(1, 500)
  description?: string;

  /** `{types?, provinces?, communes?}`, each a list of strings (checked by {@link checkFilter}). */
  @IsOptional()
  @IsObject()
  filter?: WebhookFilter;

  /** `{"dossier.submitted": 2}`: the version of each event family delivered (checked by the service). */
  @IsOptional()
  @IsObject()
  eventVersions?: EventVersions;

  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  ratePerSecond?: number;
}

export class UpdateWebhookDto {
  @IsOptional()
  @IsString()
  @Length(1, 2048)
  url?: string;

  @IsOptional()
  @IsString()
  @Length(1, 500)
  description?: string;

  @IsOptional()
  @IsObject()
  filter?: WebhookFilter;

  /** `{"dossier.submitted": 2}`; `{}` goes back to version 1 of every family. */
  @IsOptional()
  @IsObject()
  eventVersions?: EventVersions;

  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  ratePerSecond?: number;
}

export class DisableWebhookDto {
  @IsOptional()
  @IsString()
  @Length(1, 500)
  reason?: string;
}

export class RedeliverWebhookDto {
  @IsDefined()
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  fromPosition!: number;
}

export class EmptyDto {}

const FILTER_KEYS = ['types', 'provinces', 'communes'] as const;
const MAX_FILTER_ITEMS = 500;

/**
 * The filter's shape (codes and types are checked against what exists by the service): only `types`,
 * `provinces` and `communes`, each a list of up to 500 strings of up to 200 characters.
 */
export function checkFilter(filter: unknown): WebhookFilter | undefined {
  if (filter === undefined) return undefined;
  const issues: Issue[] = [];
  const given = filter as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(FILTER_KEYS as readonly string[]).includes(key))
      issues.push({
        pointer: `/filter/${key}`,
        message: 'is not a filter member (types, provinces, communes)',
      });
  }
  const out: WebhookFilter = {};
  for (const key of FILTER_KEYS) {
    const list = given[key];
    if (list === undefined) continue;
    if (
      !Array.isArray(list) ||
      list.length > MAX_FILTER_ITEMS ||
      !list.every((s) => typeof s === 'string' && s.length > 0 && s.length <= 200)
    ) {
      issues.push({
        pointer: `/filter/${key}`,
        message: `must be a list of at most ${MAX_FILTER_ITEMS} non-empty strings`,
      });
      continue;
    }
    out[key] = list as string[];
  }
  if (issues.length > 0) throw new DomainError('invalid', 'the request body is not valid', issues);
  return out;
}

/**
 * `/v1/webhooks`: signed push delivery for systems without a Kafka consumer. Admin and operator for
 * any scope, a province client inside its province (its own webhooks only); commune clients are
 * refused (403) by the guard before anything is read.
 */
@Roles('admin', 'operator', 'province')
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(
    @Inject(WEBHOOKS) private readonly webhooks: WebhookService | undefined,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Post()
  async create(
    @Caller() caller: Client,
    @Body() body: CreateWebhookDto,
  ): Promise<{ webhook: WebhookView; secret: string }> {
    const filter = checkFilter(body.filter);
    const created = await this.service().create(caller, {
      url: body.url,
      ...(body.description === undefined ? {} : { description: body.description }),
      ...(filter === undefined ? {} : { filter }),
      ...(body.eventVersions === undefined ? {} : { eventVersions: body.eventVersions }),
      ...(body.ratePerSecond === undefined ? {} : { ratePerSecond: body.ratePerSecond }),
    });
    this.logger.info(
      { actor: caller.name, webhook: created.webhook.id, url: redactedUrl(created.webhook.url) },
      'webhook created',
    );
    return created;
  }

  @Get()
  list(
    @Caller() caller: Client,
    @Query('limit', new IntQuery(100, 1, MAX_PAGE)) limit: number,
    @Query('after', new OneQuery(text(), 'query parameter after must be given once', 'must be a webhook id'))
    after: string | undefined,
  ): Promise<{ webhooks: WebhookView[]; next?: string }> {
    return this.service().list(caller, { limit, ...(after === undefined ? {} : { after }) });
  }

  @Get(':id')
  async show(@Caller() caller: Client, @Param('id') id: string): Promise<{ webhook: WebhookView }> {
    return { webhook: await this.service().get(caller, id) };
  }

  @Patch(':id')
  async update(
    @Caller() caller: Client,
    @Param('id') id: string,
    @Body() body: UpdateWebhookDto,
  ): Promise<{ webhook: WebhookView }> {
    const filter = checkFilter(body.filter);
    const webhook = await this.service().update(caller, id, {
      ...(body.url === undefined ? {} : { url: body.url }),
      ...(body.description === undefined ? {} : { description: body.description }),
      ...(filter === undefined ? {} : { filter }),
      ...(body.eventVersions === undefined ? {} : { eventVersions: body.eventVersions }),
      ...(body.ratePerSecond === undefined ? {} : { ratePerSecond: body.ratePerSecond }),
    });
    this.logger.info({ actor: caller.name, webhook: id }, 'webhook updated');
    return { webhook };
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  async rotate(
    @Caller() caller: Client,
    @Param('id') id: string,
    @Body() _body: EmptyDto = {},
  ): Promise<{ webhook: WebhookView; secret: string }> {
    const rotated = await this.service().rotateSecret(caller, id);
    this.logger.info({ actor: caller.name, webhook: id }, 'webhook secret rotated');
    return rotated;
  }

  @Post(':id/enable')
  @HttpCode(200)
  async enable(
    @Caller() caller: Client,
    @Param('id') id: string,
    @Body() _body: EmptyDto = {},
  ): Promise<{ webhook: WebhookView }> {
    const webhook = await this.service().enable(caller, id);
    this.logger.info({ actor: caller.name, webhook: id }, 'webhook enabled');
    return { webhook };
  }

  @Post(':id/disable')
  @HttpCode(200)
  async disable(
    @Caller() caller: Client,
    @Param('id') id: string,
    @Body() body: DisableWebhookDto = {},
  ): Promise<{ webhook: WebhookView }> {
    const webhook = await this.service().disable(caller, id, body.reason);
    this.logger.info({ actor: caller.name, webhook: id }, 'webhook disabled');
    return { webhook };
  }

  @Get(':id/attempts')
  attempts(
    @Caller() caller: Client,
    @Param('id') id: string,
    @Query('limit', new IntQuery(100, 1, MAX_PAGE)) limit: number,
    @Query('after', new IntQuery(0, 0, Number.MAX_SAFE_INTEGER)) after: number,
    @Query('position', new IntQuery(0, 0, Number.MAX_SAFE_INTEGER)) position: number,
  ): Promise<{ attempts: DeliveryAttempt[]; next?: number }> {
    return this.service().attempts(caller, id, {
      limit,
      ...(after > 0 ? { after } : {}),
      ...(position > 0 ? { position } : {}),
    });
  }

  @Post(':id/redeliver')
  @HttpCode(202)
  async redeliver(
    @Caller() caller: Client,
    @Param('id') id: string,
    @Body() body: RedeliverWebhookDto,
  ): Promise<{ webhook: WebhookView; fromPosition: number }> {
    const webhook = await this.service().redeliver(caller, id, body.fromPosition);
    this.logger.info(
      { actor: caller.name, webhook: id, fromPosition: body.fromPosition },
      'webhook redelivery queued',
    );
    return { webhook, fromPosition: body.fromPosition };
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@Caller() caller: Client, @Param('id') id: string): Promise<void> {
    await this.service().delete(caller, id);
    this.logger.info({ actor: caller.name, webhook: id }, 'webhook deleted');
  }

  private service(): WebhookService {
    if (this.webhooks === undefined)
      throw new DomainError('not-found', 'webhooks are not enabled on this hub');
    return this.webhooks;
  }
}
