import type { ErasureView } from '#lgsp/privacy';
import { requireArg, type Ctx } from './command.js';
import { printListing } from './listing.js';
import { EXIT, UsageError } from './io.js';
import { cell, fields } from './table.js';

/** The wire type of `/v1/admin/erasures`, as the hub's privacy library defines it. */
export type Erasure = ErasureView;

const path = (id: string, action = ''): string =>
  `/v1/admin/erasures/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;

const overdue = (late: boolean): string => (late ? ' (OVERDUE)' : '');

/** `erased`, `refused: <basis>`, or `requested` with what is overdue. */
function stateLine(e: Erasure): string {
  if (e.state === 'refused') return `refused: ${e.refusal?.basis ?? ''}`;
  if (e.state === 'erased') return 'erased';
  const late = [e.overdue.acknowledge && 'answer', e.overdue.complete && 'completion'].filter(Boolean);
  return late.length > 0 ? `requested, ${late.join(' and ')} overdue` : 'requested';
}

/** An erasure request as an operator reads it: never the subject ID, only its masked form and reference. */
export function describeErasure(e: Erasure): string {
  return fields([
    ['erasure', e.id],
    ['state', stateLine(e)],
    ['subject', `${e.subject} (ref ${e.subjectRef})`],
    ['requested', `${e.requestedAt} by ${e.requestedBy}`],
    ['note', e.note],
    ['answer by', `${e.deadlines.acknowledgeBy}${overdue(e.overdue.acknowledge)}`],
    [
      'complete by',
      `${e.deadlines.completeBy}${overdue(e.overdue.complete)}${e.deadlines.thirdParties ? ' (third parties hold copies)' : ''}`,
    ],
    [
      'exemptions',
      e.exemptions.length === 0
        ? undefined
        : e.exemptions.map((x) => `${x.procedure}: ${x.basis}`).join('; '),
    ],
    ['decided', e.decidedAt === undefined ? undefined : `${e.decidedAt} by ${e.decidedBy ?? '?'}`],
    ['refusal note', e.refusal?.note],
    [
      'erased',
      e.outcome === undefined
        ? undefined
        : `${e.outcome.keysDestroyed} key(s) destroyed, ${e.outcome.dossiers} dossier(s), ${e.outcome.notices} person.erased notice(s)`,
    ],
  ]);
}

/** `erasure request SUBJECT_ID [--note TEXT]`. */
export async function erasureRequest(ctx: Ctx): Promise<number> {
  const subjectId = requireArg(ctx, 'a citizen ID or dossier:<code>:<role>', 'erasure request');
  const note = ctx.flags.note;
  const r = await ctx.api.call<{ erasure: Erasure }>('POST', '/v1/admin/erasures', {
    subjectId,
    ...(note === undefined ? {} : { note }),
  });
  ctx.out.print(describeErasure(r.erasure), r);
  return EXIT.ok;
}

/** `erasure list [--limit N] [--after ID]`. */
export async function erasureList(ctx: Ctx): Promise<number> {
  return printListing<Erasure>(ctx, {
    path: '/v1/admin/erasures',
    key: 'erasures',
    params: () => ({ after: ctx.flags.after }),
    columns: ['ID', 'STATE', 'SUBJECT', 'REQUESTED', 'ANSWER BY', 'COMPLETE BY'],
    row: (e) => [
      e.id,
      cell(stateLine(e), 40),
      e.subject,
      e.requestedAt,
      `${e.deadlines.acknowledgeBy}${overdue(e.overdue.acknowledge)}`,
      `${e.deadlines.completeBy}${overdue(e.overdue.complete)}`,
    ],
  });
}

/** `erasure show ID`. */
export async function erasureShow(ctx: Ctx): Promise<number> {
  const id = requireArg(ctx, 'an erasure ID', 'erasure show');
  const r = await ctx.api.call<{ erasure: Erasure }>('GET', path(id));
  ctx.out.print(describeErasure(r.erasure), r);
  return EXIT.ok;
}

/** `erasure approve ID`: the subject's keys are destroyed and every dossier gets a person.erased notice. */
export async function erasureApprove(ctx: Ctx): Promise<number> {
  const id = requireArg(ctx, 'an erasure ID', 'erasure approve');
  const r = await ctx.api.call<{ erasure: Erasure }>('POST', path(id, 'approve'), {});
  ctx.out.print(describeErasure(r.erasure), r);
  return EXIT.ok;
}

/** `erasure refuse ID --basis TEXT [--note TEXT]`. */
export async function erasureRefuse(ctx: Ctx): Promise<number> {
  const id = requireArg(ctx, 'an erasure ID', 'erasure refuse');
  const { basis, note } = ctx.flags;
  if (basis === undefined || basis.trim() === '')
    throw new UsageError('erasure refuse needs --basis: the legal basis of the refusal');
  const r = await ctx.api.call<{ erasure: Erasure }>('POST', path(id, 'refuse'), {
    basis,
    ...(note === undefined ? {} : { note }),
  });
  ctx.out.print(describeErasure(r.erasure), r);
  return EXIT.ok;
}
