import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import type { ParkedItem, ParkingHistoryEntry, ParkingStore } from '#lgsp/connectors';
import { DomainError } from '#lgsp/contracts';
import type { Logger } from '#lgsp/observability';
import type { Client } from '#lgsp/security';
import { IntQuery, MAX_PAGE, OneQuery, text } from './query.js';
import { Caller, Roles } from './roles.js';
import { CONNECTORS, LOGGER, WEBHOOKS } from './tokens.js';
import { WEBHOOK_TARGET_PREFIX, type WebhookService } from '#lgsp/webhooks';
import type { Redelivery, RunningConnector, RunningConnectors } from '../connectors/connectors.js';

export class RetryParkedDto {
  @IsOptional()
  @IsString()
  @Length(1, 1000)
  note?: string;
}

export class SkipParkedDto extends RetryParkedDto {
  /** Last log position dropped for the target; default the parking's last held position. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  throughPosition?: number;
}

/** A target whose parkings can be resolved: a connector, or a webhook (which drops skipped deliveries). */
interface ParkedTarget extends RunningConnector {
  /** The parking was skipped through `throughPosition`: drop what the target held of the dossier. */
  skipped?(dossier: string, throughPosition: number): Promise<void>;
}

/**
 * The parked (target, dossier) pairs of the running connectors: list, retry (the dossier is delivered
 * again), skip (its held events are dropped for that target) and each pair's history. Admin or operator.
 */
@Roles('admin', 'operator')
@Controller('v1/admin/parked')
export class ParkedController {
  constructor(
    @Inject(CONNECTORS) private readonly connectors: RunningConnectors,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(WEBHOOKS) private readonly webhooks: WebhookService | undefined,
  ) {}

  @Get()
  async list(
    @Query('limit', new IntQuery(100, 1, MAX_PAGE)) limit: number,
    @Query('after', new IntQuery(0, 0, Number.MAX_SAFE_INTEGER)) after: number,
    @Query(
      'target',
      new OneQuery(text(), 'query parameter target must be given once', 'must be one target name'),
    )
    target: string | undefined,
  ): Promise<{ parked: ParkedItem[] }> {
    if (target !== undefined) await this.connector(target);
    const parking = this.connectors.parking;
    if (parking === undefined) return { parked: [] };
    return {
      parked: await parking.list({ limit, ...(after > 0 ? { after } : {}), ...(target ? { target } : {}) }),
    };
  }

  /**
   * Resolves the parking as retried and sends the dossier's current state to the target again;
   * `delivery` tells whether it went through or parked again.
   */
  @Post(':target/:dossier/retry')
  @HttpCode(200)
  async retry(
    @Caller() operator: Client,
    @Param('target') target: string,
    @Param('dossier') dossier: string,
    @Body() body: RetryParkedDto = {},
  ): Promise<{ entry: ParkingHistoryEntry; delivery: Redelivery }> {
    const { connector, parking } = await this.connector(target);
    const entry = await parking.retry(target, dossier, {
      by: operator.name,
      at: new Date().toISOString(),
      ...(body.note === undefined ? {} : { note: body.note }),
    });
    this.logger.info(
      { actor: operator.name, target, dossier, from: entry.fromPosition, through: entry.throughPosition },
      'parked dossier retried',
    );
    return { entry, delivery: await connector.redeliver(dossier) };
  }

  /** Resolves the parking by dropping the dossier's held events for the target. */
  @Post(':target/:dossier/skip')
  @HttpCode(200)
  async skip(
    @Caller() operator: Client,
    @Param('target') target: string,
    @Param('dossier') dossier: string,
    @Body() body: SkipParkedDto = {},
  ): Promise<{ entry: ParkingHistoryEntry }> {
    const { connector, parking } = await this.connector(target);
    const entry = await parking.skip(target, dossier, {
      by: operator.name,
      at: new Date().toISOString(),
      ...(body.note === undefined ? {} : { note: body.note }),
      ...(body.throughPosition === undefined ? {} : { throughPosition: body.throughPosition }),
    });
    this.logger.info(
      { actor: operator.name, target, dossier, from: entry.fromPosition, through: entry.throughPosition },
      'parked dossier skipped',
    );
    await connector.skipped?.(dossier, entry.throughPosition);
    return { entry };
  }

  @Get(':target/:dossier/history')
  async history(
    @Param('target') target: string,
    @Param('dossier') dossier: string,
  ): Promise<{ history: ParkingHistoryEntry[] }> {
    const { parking } = await this.connector(target);
    const history = await parking.history(target, dossier);
    if (history.length === 0)
      throw new DomainError('not-found', `dossier ${dossier} has never been parked for ${target}`);
    return { history };
  }

  /** The running connector of `target`, or the webhook of `webhook:<id>`; only those targets exist. */
  private async connector(target: string): Promise<{ connector: ParkedTarget; parking: ParkingStore }> {
    if (target.startsWith(WEBHOOK_TARGET_PREFIX) && this.webhooks && this.connectors.parking) {
      const webhooks = this.webhooks;
      const id = target.slice(WEBHOOK_TARGET_PREFIX.length);
      if ((await webhooks.record(id)) === undefined) throw new DomainError('not-found', `no webhook ${id}`);
      return {
        parking: this.connectors.parking,
        connector: {
          redeliver: async (dossier) =>
            (await webhooks.retryParked(id, dossier)) > 0 ? 'queued' : 'nothing',
          skipped: async (dossier, through) => {
            await webhooks.skipParked(id, dossier, through);
          },
        },
      };
    }
    const connector = this.connectors.byTarget.get(target);
    const parking = this.connectors.parking;
    if (connector === undefined || parking === undefined)
      throw new DomainError('not-found', `no connector runs for target ${target}`);
    return { connector, parking };
  }
}
