import { Body, Controller, Get, HttpCode, Inject, Param, Patch, Post, Req } from '@nestjs/common';
import {
  ArrayMaxSize,
  IsArray,
  IsDefined,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  ValidateIf,
} from 'class-validator';
import { ROLES, type Client, type RateLimit, type Role } from '#lgsp/security';
import type { FastifyRequest } from 'fastify';
import { Roles } from './roles.js';
import { principal } from './auth.js';
import { RUNTIME } from './tokens.js';
import type { HubRuntime } from '../runtime.js';

export class CreateClientDto {
  @IsString()
  @Length(1, 100)
  name!: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @Matches(/^[0-9]{5}$/, { each: true, message: 'each commune code must be 5 digits' })
  communes?: string[];

  @IsOptional()
  @Matches(/^[0-9]{2}$/, { message: 'province must be a 2-digit code' })
  province?: string;

  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  /** CloudEvents sources the client produces under on the Kafka ingest topic (exact, or a prefix ending in *). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  sources?: string[];

  /** `{ratePerSecond, burst}`: a rate limit of its own instead of the hub's `rateLimit.client` (checked by ClientService). */
  @IsOptional()
  @IsObject()
  rateLimit?: RateLimit;
}

export class UpdateClientDto {
  /** `{ratePerSecond, burst}`: a rate limit of its own, or null for the hub's default (checked by ClientService). */
  @ValidateIf((o: UpdateClientDto) => o.rateLimit !== null)
  @IsDefined({ message: 'give rateLimit: {ratePerSecond, burst}, or null for the hub default' })
  @IsObject()
  rateLimit!: RateLimit | null;
}

type PublicClient = Omit<Client, never>;

@Controller('v1/admin')
export class AdminController {
  constructor(@Inject(RUNTIME) private readonly rt: HubRuntime) {}

  /** Creates a client; the token is in this response only. */
  @Post('clients')
  @Roles('admin')
  @HttpCode(201)
  async create(
    @Req() req: FastifyRequest,
    @Body() body: CreateClientDto,
  ): Promise<PublicClient & { token: string }> {
    const admin = principal(req);
    const { client, token } = await this.rt.clients.create({
      name: body.name,
      ...(body.communes ? { communes: body.communes } : {}),
      ...(body.province !== undefined ? { province: body.province } : {}),
      ...(body.role ? { role: body.role } : {}),
      ...(body.sources ? { sources: body.sources } : {}),
      ...(body.rateLimit ? { rateLimit: body.rateLimit } : {}),
    });
    this.rt.logger.info(
      {
        actor: admin.name,
        clientId: client.id,
        role: client.role,
        province: client.provinceCode,
        communes: client.communeCodes,
      },
      'client created',
    );
    return { ...client, token };
  }

  /** Changes a client (its rate limit); applies from its next request, in every replica within 5 s. Audited. */
  @Patch('clients/:ref')
  @Roles('admin')
  async update(
    @Req() req: FastifyRequest,
    @Param('ref') ref: string,
    @Body() body: UpdateClientDto,
  ): Promise<PublicClient> {
    const admin = principal(req);
    const client = await this.rt.clients.update(ref, { rateLimit: body.rateLimit });
    await this.rt.audit.record({
      at: new Date().toISOString(),
      actor: admin.name,
      action: 'client.update',
      subject: `client:${client.id}`,
      scope: { client: client.name, rateLimit: body.rateLimit },
      outcome: { rateLimit: client.rateLimit ?? null },
    });
    this.rt.logger.info(
      { actor: admin.name, clientId: client.id, rateLimit: client.rateLimit ?? 'default' },
      'client updated',
    );
    return client;
  }

  @Get('clients')
  @Roles('admin', 'operator')
  async list(): Promise<{ clients: PublicClient[] }> {
    return { clients: await this.rt.clients.list() };
  }

  /** Every subscriber with its checkpoint and lag. */
  @Get('subscriptions')
  @Roles('admin', 'operator')
  async subscriptions(): Promise<unknown> {
    return { head: (await this.rt.store.head()).position, subscriptions: await this.rt.subscriptions.lag() };
  }
}
