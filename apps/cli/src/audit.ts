import type { AuditEntry } from '#lgsp/security';
import { intFlag, type Ctx } from './command.js';
import { EXIT } from './io.js';
import { printListing } from './listing.js';
import { cell } from './table.js';

/** `audit`: the operators' audit log, oldest first, by action prefix and subject. */
export async function audit(ctx: Ctx): Promise<number> {
  return printListing<AuditEntry>(ctx, {
    path: '/v1/admin/audit',
    key: 'entries',
    params: () => ({
      after: intFlag(ctx.flags, 'after', 0, Number.MAX_SAFE_INTEGER),
      action: ctx.flags.action,
      subject: ctx.flags.subject,
    }),
    columns: ['ID', 'AT', 'ACTOR', 'ACTION', 'SUBJECT', 'SCOPE', 'OUTCOME'],
    row: (e) => [e.id, e.at, e.actor, e.action, e.subject, cell(e.scope, 60), cell(e.outcome, 60)],
  });
}

/** `audit verify`: the hub recomputes the audit log's hash chain; exit 7 when it is broken. */
export async function auditVerify(ctx: Ctx): Promise<number> {
  const verdict = await ctx.api.call<{ ok: boolean; entries: number; brokenAt?: number }>(
    'GET',
    '/v1/admin/audit/verify',
  );
  ctx.out.print(
    verdict.ok
      ? `audit chain holds: ${verdict.entries} entries`
      : `audit chain broken at entry ${verdict.brokenAt} (${verdict.entries} entries before it verified)`,
    verdict,
  );
  return verdict.ok ? EXIT.ok : EXIT.chainBroken;
}
