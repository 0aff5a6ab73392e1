import { Controller, Get, Inject, Optional, Query } from '@nestjs/common';
import { CHECKPOINT_EXPORT_FORMAT, type CheckpointExport } from '#lgsp/checkpoints';
import { DomainError } from '#lgsp/contracts';
import { IntQuery, MAX_PAGE } from '../http/query.js';
import { Roles } from '../http/roles.js';
import { CHECKPOINTS } from '../http/tokens.js';
import type { CheckpointReader } from './checkpoint-parts.js';

/**
 * The signed checkpoints of the log, for anchoring elsewhere (`lgsp checkpoints export`): the public key
 * (PEM; every key, when the hub has signed with more than one) and, per checkpoint, its position, chain hash, time, the exact signed message and the signature.
 * Admin or operator. Position order; `next` is the `after` of the following page when this one is full.
 */
@Roles('admin', 'operator')
@Controller('v1/admin/checkpoints')
export class CheckpointsController {
  constructor(@Optional() @Inject(CHECKPOINTS) private readonly checkpoints?: CheckpointReader) {}

  @Get()
  async list(
    @Query('limit', new IntQuery(MAX_PAGE, 1, MAX_PAGE)) limit: number,
    @Query('after', new IntQuery(0, 0, Number.MAX_SAFE_INTEGER)) after: number,
  ): Promise<CheckpointExport & { next?: number }> {
    const reader = this.checkpoints;
    if (reader === undefined) throw new DomainError('not-found', 'this hub signs no checkpoints');
    const [key, keys, checkpoints] = await Promise.all([
      reader.key(),
      reader.keys(),
      reader.list(after, limit),
    ]);
    const last = checkpoints.at(-1);
    return {
      format: CHECKPOINT_EXPORT_FORMAT,
      algorithm: 'Ed25519',
      keyId: key.keyId,
      publicKey: key.publicKey,
      // Every key that may have signed a checkpoint, when there has been more than one.
      ...(keys.length > 1 ? { keys } : {}),
      checkpoints,
      ...(checkpoints.length === limit && last ? { next: last.position } : {}),
    };
  }
}
