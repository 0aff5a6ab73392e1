import type {
  Mismatch,
  MismatchCategory,
  ReconciliationRun,
  ReconciliationScope,
} from '#lgsp/reconciliation';
import { intFlag, query, requireArg, type Ctx } from './command.js';
import { follow } from './follow.js';
import { printListing } from './listing.js';
import { EXIT, UsageError } from './io.js';
import { formatCount, formatDuration, percent } from './progress.js';
import { describeScope } from './scope.js';
import { reconciliationScope } from './scope.js';
import { difference, fields, table } from './table.js';

/** The categories in the order operators read them (the hub's MISMATCH_CATEGORIES). */
const CATEGORIES = [
  'missing-in-target',
  'stale-status',
  'wrong-field',
  'not-erased-in-target',
  'unexpected-extra',
  'missing-civil-record',
] as const satisfies readonly MismatchCategory[];

const TARGETS = 'portal, one-stop-shop, civil-registry or payments';

/**
 * `reconcile run`: starts a run and, unless --no-wait, follows it to the end. Exit 0 when it found no
 * mismatch, 5 when it found some, 6 when it failed.
 */
export async function reconcileRun(ctx: Ctx): Promise<number> {
  const target = ctx.flags.target;
  if (!target) throw new UsageError(`reconcile run needs --target (${TARGETS})`);
  const scope: ReconciliationScope = reconciliationScope(ctx);
  const { run } = await ctx.api.call<{ run: ReconciliationRun }>('POST', '/v1/admin/reconciliations', {
    target,
    ...(Object.keys(scope).length > 0 ? { scope } : {}),
  });
  if (!ctx.flags.wait) {
    ctx.out.print(`${describeRun(run)}\nfollow it with: lgsp reconcile show ${run.id}`, { run });
    return EXIT.ok;
  }
  const path = `/v1/admin/reconciliations/${encodeURIComponent(run.id)}?limit=1`;
  const { last, interrupted } = await follow(
    ctx,
    run,
    async () => (await ctx.api.call<{ run: ReconciliationRun }>('GET', path)).run,
    (r) => r.state !== 'running',
    (r) => ({
      done: r.progress.compared,
      total: r.progress.expected,
      text:
        `reconcile ${r.target} ${r.state}: compared ${formatCount(r.progress.compared)}/${formatCount(r.progress.expected)} ` +
        `(${percent(r.progress.compared, r.progress.expected)}), scanned ${formatCount(r.progress.scanned)}, ` +
        `${formatCount(r.mismatches.total)} mismatches`,
    }),
  );
  if (interrupted) {
    ctx.io.stderr.write(
      `lgsp: interrupted; reconciliation ${last.id} goes on in the hub (lgsp reconcile show ${last.id})\n`,
    );
    return EXIT.interrupted;
  }
  // --json: the run and the first page of its mismatches (--limit, default 100), `next` for the rest.
  const page = ctx.out.json
    ? await ctx.api.call<{ mismatches: (Mismatch & { seq: number })[]; next?: number }>(
        'GET',
        `/v1/admin/reconciliations/${encodeURIComponent(last.id)}${query({ limit: intFlag(ctx.flags, 'limit', 1, 1000) ?? 100 })}`,
      )
    : undefined;
  ctx.out.print(summary(last), {
    run: last,
    ...(page === undefined
      ? {}
      : { mismatches: page.mismatches, ...(page.next === undefined ? {} : { next: page.next }) }),
  });
  if (last.state === 'failed') {
    ctx.io.stderr.write(`lgsp: reconciliation ${last.id} failed: ${last.error ?? 'no reason given'}\n`);
    return EXIT.incomplete;
  }
  return findingsExit(last);
}

/**
 * 0 when nothing is open; {@link EXIT.unfixable} when every open finding is a record only the system
 * holds (capture or acknowledge it: no replay can fix it); {@link EXIT.mismatches} otherwise (a replay
 * from the run fixes those).
 */
export function findingsExit(run: ReconciliationRun): number {
  const resolved = run.mismatches.resolved ?? 0;
  const open = run.mismatches.total - resolved;
  if (open <= 0) return EXIT.ok;
  const openExtras = (run.mismatches.byCategory['unexpected-extra'] ?? 0) - resolved;
  return openExtras >= open ? EXIT.unfixable : EXIT.mismatches;
}

/** `reconcile capture|acknowledge RUN SEQ [--note]`: what an operator does about an unexpected extra. */
export async function reconcileResolve(ctx: Ctx, action: 'capture' | 'acknowledge'): Promise<number> {
  const id = requireArg(ctx, 'a reconciliation run ID', `reconcile ${action}`);
  const seq = ctx.args[1];
  if (seq === undefined || !/^[1-9][0-9]*$/.test(seq))
    throw new UsageError(`reconcile ${action} needs the finding's SEQ (see lgsp reconcile show ${id})`);
  if (action === 'acknowledge' && !ctx.flags.note)
    throw new UsageError('reconcile acknowledge needs --note NOTE: why the record may stay in the system');
  const r = await ctx.api.call<{ mismatch: Mismatch & { seq: number }; run: ReconciliationRun }>(
    'POST',
    `/v1/admin/reconciliations/${encodeURIComponent(id)}/mismatches/${seq}/${action}`,
    ctx.flags.note === undefined ? {} : { note: ctx.flags.note },
  );
  const m = r.mismatch;
  ctx.out.print(
    fields([
      ['finding', `${m.seq} of ${id}: ${m.dossier} in ${m.system} (${m.category})`],
      ['resolution', m.resolution?.action],
      ['by', m.resolution?.by],
      ['at', m.resolution?.at],
      ['log position', m.resolution?.position],
      ['note', m.resolution?.note],
    ]),
    r,
  );
  return EXIT.ok;
}

/** `reconcile show ID`: the run and a page of its mismatches. */
export async function reconcileShow(ctx: Ctx): Promise<number> {
  const id = requireArg(ctx, 'a reconciliation run ID', 'reconcile show');
  const category = ctx.flags.category;
  if (category !== undefined && !(CATEGORIES as readonly string[]).includes(category))
    throw new UsageError(`--category must be one of ${CATEGORIES.join(', ')}`);
  const limit = intFlag(ctx.flags, 'limit', 1, 1000);
  const after = intFlag(ctx.flags, 'after', 0, Number.MAX_SAFE_INTEGER);
  const r = await ctx.api.call<{
    run: ReconciliationRun;
    mismatches: (Mismatch & { seq: number })[];
    next?: number;
  }>('GET', `/v1/admin/reconciliations/${encodeURIComponent(id)}${query({ limit, after, category })}`);
  const rows = r.mismatches.map((m) => {
    const [expected, actual] = difference(m.expected, m.actual);
    return [
      m.seq,
      m.dossier,
      m.system,
      m.field,
      expected,
      actual,
      m.category,
      m.resolution === undefined
        ? m.category === 'unexpected-extra'
          ? 'open (no replay fixes it)'
          : '-'
        : m.resolution.action,
      m.detectedAt,
    ];
  });
  const cut = rows.some((row) => String(row[4]).startsWith('@'));
  ctx.out.print(
    `${summary(r.run)}\n\n` +
      table(
        ['SEQ', 'DOSSIER', 'SYSTEM', 'FIELD', 'EXPECTED', 'ACTUAL', 'CATEGORY', 'RESOLUTION', 'DETECTED'],
        rows,
      ) +
      (cut
        ? '\n@N: the long values from their first difference, at character N (--json gives them whole)'
        : '') +
      (r.next === undefined ? '' : `\nmore: --after ${r.next}`),
    r,
  );
  return r.run.state === 'completed' ? findingsExit(r.run) : EXIT.ok;
}

/** `reconcile list`: the runs, newest first. */
export async function reconcileList(ctx: Ctx): Promise<number> {
  return printListing<ReconciliationRun>(ctx, {
    path: '/v1/admin/reconciliations',
    key: 'runs',
    params: () => ({ after: ctx.flags.after }),
    columns: ['ID', 'TARGET', 'STATE', 'STARTED', 'FINISHED', 'BY', 'COMPARED', 'MISMATCHES', 'SCOPE'],
    row: (run) => [
      run.id,
      run.target,
      run.state,
      run.startedAt,
      run.finishedAt ?? '-',
      run.by,
      `${formatCount(run.progress.compared)}/${formatCount(run.progress.expected)}`,
      run.mismatches.total,
      describeScope(run.scope),
    ],
  });
}

function describeRun(run: ReconciliationRun): string {
  const took =
    run.finishedAt === undefined
      ? undefined
      : formatDuration((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000);
  return fields([
    ['reconciliation', run.id],
    ['target', run.target],
    ['state', took === undefined ? run.state : `${run.state} in ${took}`],
    ['scope', describeScope(run.scope)],
    ['by', run.by],
    ['started', run.startedAt],
    ['finished', run.finishedAt],
    ['log position', run.logPosition],
    [
      'progress',
      `expected ${formatCount(run.progress.expected)}, scanned ${formatCount(run.progress.scanned)}, ` +
        `compared ${formatCount(run.progress.compared)}`,
    ],
    ['error', run.error],
  ]);
}

/** The run, then its mismatch counts per category. */
function summary(run: ReconciliationRun): string {
  const { mismatches } = run;
  return (
    `${describeRun(run)}\n\n` +
    table(
      ['CATEGORY', 'MISMATCHES'],
      [
        ...CATEGORIES.map((c) => [c, mismatches.byCategory[c] ?? 0]),
        [
          'total',
          `${mismatches.total} (${mismatches.dossiers} dossier${mismatches.dossiers === 1 ? '' : 's'})`,
        ],
        ...((mismatches.resolved ?? 0) > 0 ? [['captured or acknowledged', mismatches.resolved]] : []),
      ],
    )
  );
}
