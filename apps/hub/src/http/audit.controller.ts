import { Controller, Get, Inject, Optional, Query } from '@nestjs/common';
import { DomainError } from '#lgsp/contracts';
import type { AuditEntry, AuditLog } from '#lgsp/security';
import { IntQuery, MAX_PAGE, OneQuery, text } from './query.js';
import { Roles } from './roles.js';
import { AUDIT_LOG } from './tokens.js';

/** An optional text query parameter given at most once. */
function textQuery(name: string): OneQuery {
  return new OneQuery(
    text(0, 200),
    `query parameter ${name} must be given once, up to 200 characters`,
    'must be one value of up to 200 characters',
  );
}

/**
 * The operators' audit log: who planned, ran, paused, resumed or cancelled what, and with what outcome.
 * Admin or operator. Oldest first; `next` is the cursor of the following page when this one is full.
 */
@Roles('admin', 'operator')
@Controller('v1/admin/audit')
export class AuditController {
  constructor(@Optional() @Inject(AUDIT_LOG) private readonly audit?: AuditLog) {}

  @Get()
  async list(
    @Query('limit', new IntQuery(100, 1, MAX_PAGE)) limit: number,
    @Query('after', new IntQuery(0, 0, Number.MAX_SAFE_INTEGER)) after: number,
    @Query('action', textQuery('action')) action: string | undefined,
    @Query('subject', textQuery('subject')) subject: string | undefined,
  ): Promise<{ entries: AuditEntry[]; next?: number }> {
    // A hub built without an audit log has no such resource.
    const audit = this.audit;
    if (audit === undefined) throw new DomainError('not-found', 'this hub keeps no audit log');
    const entries = await audit.list({
      limit,
      ...(after > 0 ? { after } : {}),
      // An empty value filters nothing, as an absent one.
      ...(action ? { action } : {}),
      ...(subject ? { subject } : {}),
    });
    const last = entries[entries.length - 1];
    return entries.length === limit && last ? { entries, next: last.id } : { entries };
  }

  /** Recomputes the audit log's hash chain: `{ok, entries}` or `{ok: false, entries, brokenAt}`. */
  @Get('verify')
  async verify(): Promise<{ ok: boolean; entries: number; brokenAt?: number }> {
    const verify = this.audit?.verify?.bind(this.audit);
    if (verify === undefined) throw new DomainError('not-found', 'this hub keeps no chained audit log');
    return verify();
  }
}
