import type { AuditEntry } from '#lgsp/security';
import { intFlag, query, type Ctx } from './command.js';
import { EXIT } from './io.js';
import { cell, table } from './table.js';

/** `audit`: the operators' audit log, oldest first, by action prefix and subject. */
export async function audit(ctx: Ctx): Promise<number> {
  const limit = intFlag(ctx.flags, 'limit', 1, 1000);
  const after = intFlag(ctx.flags, 'after', 0, Number.MAX_SAFE_INTEGER);
  const r = await ctx.api.call<{ entries: AuditEntry[]; next?: number }>(
    'GET',
    `/v1/admin/audit${query({ limit, after, action: ctx.flags.action, subject: ctx.flags.subject })}`,
  );
  ctx.out.print(
    table(
      ['ID', 'AT', 'ACTOR', 'ACTION', 'SUBJECT', 'SCOPE', 'OUTCOME'],
      r.entries.map((e) => [
        e.id,
        e.at,
        e.actor,
        e.action,
        e.subject,
        cell(e.scope, 60),
        cell(e.outcome, 60),
      ]),
    ) + (r.next === undefined ? '' : `\nmore: --after ${r.next}`),
    r,
  );
  return EXIT.ok;
}
