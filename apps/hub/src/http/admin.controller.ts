import { Body, Controller, Get, HttpCode, Inject, Param, Patch, Post } from '@nestjs/common';
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
import type { EventStore } from '#lgsp/event-store';
import type { Logger } from '#lgsp/observability';
import { ClientService, ROLES, type AuditLog, type Client, type RateLimit, type Role } from '#lgsp/security';
import { Caller, Roles } from './roles.js';
import { AUDIT_LOG, EVENT_STORE, LOGGER, SUBSCRIPTIONS, type SubscriptionLags } from './tokens.js';

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
  constructor(
    @Inject(ClientService) private readonly clients: ClientService,
    @Inject(AUDIT_LOG) private readonly audit: AuditLog,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(SUBSCRIPTIONS) private readonly subscribers: SubscriptionLags,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Creates a client; the token is in this response only. */
  @Post('clients')
  @Roles('admin')
  @HttpCode(201)
  async create(
    @Caller() admin: Client,
    @Body() body: CreateClientDto,
  ): Promise<PublicClient & { token: string }> {
    const { client, token } = await this.clients.create({
      name: body.name,
      ...(body.communes ? { communes: body.communes } : {}),
      ...(body.province !== undefined ? { province: body.province } : {}),
      ...(body.role ? { role: body.role } : {}),
      ...(body.sources ? { sources: body.sources } : {}),
      ...(body.rateLimit ? { rateLimit: body.rateLimit } : {}),
    });
    this.logger.info(
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
    @Caller() admin: Client,
    @Param('ref') ref: string,
    @Body() body: UpdateClientDto,
  ): Promise<PublicClient> {
    const client = await this.clients.update(ref, { rateLimit: body.rateLimit });
    await this.audit.record({
      at: new Date().toISOString(),
      actor: admin.name,
      action: 'client.update',
      subject: `client:${client.id}`,
      scope: { client: client.name, rateLimit: body.rateLimit },
      outcome: { rateLimit: client.rateLimit ?? null },
    });
    this.logger.info(
      { actor: admin.name, clientId: client.id, rateLimit: client.rateLimit ?? 'default' },
      'client updated',
    );
    return client;
  }

  /**
   * Gives a client a new token, in this response only; the previous one keeps working for
   * `auth.rotationOverlapSeconds`. Audited.
   */
  @Post('clients/:ref/rotate-token')
  @Roles('admin')
  @HttpCode(200)
  async rotateToken(
    @Caller() admin: Client,
    @Param('ref') ref: string,
  ): Promise<{ client: PublicClient; token: string; previousTokenExpiresAt: string }> {
    const { client, token, previousTokenExpiresAt } = await this.clients.rotateToken(ref);
    await this.audit.record({
      at: new Date().toISOString(),
      actor: admin.name,
      action: 'client.rotate-token',
      subject: `client:${client.id}`,
      scope: { client: client.name },
      outcome: { tokenIssuedAt: client.tokenIssuedAt ?? null, previousTokenExpiresAt },
    });
    this.logger.info(
      { actor: admin.name, clientId: client.id, previousTokenExpiresAt },
      'client token rotated',
    );
    return { client, token, previousTokenExpiresAt };
  }

  /** Revokes a client: every token of it is refused from now on (in another replica within 5 s). Audited. */
  @Post('clients/:ref/revoke')
  @Roles('admin')
  @HttpCode(200)
  async revoke(@Caller() admin: Client, @Param('ref') ref: string): Promise<{ client: PublicClient }> {
    const client = await this.clients.revoke(ref);
    await this.audit.record({
      at: new Date().toISOString(),
      actor: admin.name,
      action: 'client.revoke',
      subject: `client:${client.id}`,
      scope: { client: client.name },
      outcome: { revokedAt: client.revokedAt ?? null },
    });
    this.logger.info({ actor: admin.name, clientId: client.id }, 'client revoked');
    return { client };
  }

  @Get('clients')
  @Roles('admin', 'operator')
  async list(): Promise<{ clients: PublicClient[] }> {
    return { clients: await this.clients.list() };
  }

  /** Every subscriber with its checkpoint and lag. */
  @Get('subscriptions')
  @Roles('admin', 'operator')
  async subscriptions(): Promise<unknown> {
    return { head: (await this.store.head()).position, subscriptions: await this.subscribers.lag() };
  }
}
