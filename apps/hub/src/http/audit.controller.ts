import { Controller, Get, Inject, Query } from '@nestjs/common';
import { DomainError } from '#lgsp/contracts';
import type { AuditEntry, AuditLog } from '#lgsp/security';
import { Roles } from './roles.js';
import { RUNTIME } from './tokens.js';
import { intParam } from './wire.js';
import type { HubRuntime } from '../runtime.js';

const MAX_LIMIT = 1000;

/**
 * The operators' audit log: who planned, ran, paused, resumed or cancelled what, and with what outcome.
 * Admin or operator. Oldest first; `next` is the cursor of the following page when this one is full.
 */
@Roles('admin', 'operator')
@Controller('v1/admin/audit')
export class AuditController {
  constructor(@Inject(RUNTIME) private readonly rt: HubRuntime) {}

  @Get()
  async list(@Query() query: Record<string, unknown>): Promise<{ entries: AuditEntry[]; next?: number }> {
    const limit = intParam(query, 'limit', 100, 1, MAX_LIMIT);
    const after = intParam(query, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
    const action = textParam(query, 'action');
    const subject = textParam(query, 'subject');
    // A runtime built without an audit log (none is wired yet) has no such resource.
    const audit = (this.rt as HubRuntime & { audit?: AuditLog }).audit;
    if (audit === undefined) throw new DomainError('not-found', 'this hub keeps no audit log');
    const entries = await audit.list({
      limit,
      ...(after > 0 ? { after } : {}),
      ...(action === undefined ? {} : { action }),
      ...(subject === undefined ? {} : { subject }),
    });
    const last = entries[entries.length - 1];
    return entries.length === limit && last ? { entries, next: last.id } : { entries };
  }
}

/** An optional text query parameter given at most once. */
function textParam(query: Record<string, unknown>, name: string): string | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || raw.length > 200)
    throw new DomainError('malformed', `query parameter ${name} must be given once, up to 200 characters`, [
      { pointer: `/${name}`, message: 'must be one value of up to 200 characters' },
    ]);
  return raw;
}
