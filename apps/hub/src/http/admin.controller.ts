import { Body, Controller, Get, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { ROLES, type Client, type Role } from '#lgsp/security';
import type { FastifyRequest } from 'fastify';
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
}

type PublicClient = Omit<Client, never>;

@Controller('v1/admin')
export class AdminController {
  constructor(@Inject(RUNTIME) private readonly rt: HubRuntime) {}

  /** Creates a client; the token is in this response only. */
  @Post('clients')
  @HttpCode(201)
  async create(
    @Req() req: FastifyRequest,
    @Body() body: CreateClientDto,
  ): Promise<PublicClient & { token: string }> {
    const admin = principal(req, 'admin');
    const { client, token } = await this.rt.clients.create({
      name: body.name,
      ...(body.communes ? { communes: body.communes } : {}),
      ...(body.province !== undefined ? { province: body.province } : {}),
      ...(body.role ? { role: body.role } : {}),
      ...(body.sources ? { sources: body.sources } : {}),
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

  @Get('clients')
  async list(@Req() req: FastifyRequest): Promise<{ clients: PublicClient[] }> {
    principal(req, 'admin', 'operator');
    return { clients: await this.rt.clients.list() };
  }

  /** Every subscriber with its checkpoint and lag. */
  @Get('subscriptions')
  async subscriptions(@Req() req: FastifyRequest): Promise<unknown> {
    principal(req, 'admin', 'operator');
    return { head: (await this.rt.store.head()).position, subscriptions: await this.rt.subscriptions.lag() };
  }
}
