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
import { cell, fields, table } from './table.js';

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
  ctx.out.print(summary(last), { run: last });
  if (last.state === 'failed') {
    ctx.io.stderr.write(`lgsp: reconciliation ${last.id} failed: ${last.error ?? 'no reason given'}\n`);
    return EXIT.incomplete;
  }
  return last.mismatches.total > 0 ? EXIT.mismatches : EXIT.ok;
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
  ctx.out.print(
    `${summary(r.run)}\n\n` +
      table(
        ['DOSSIER', 'SYSTEM', 'FIELD', 'EXPECTED', 'ACTUAL', 'CATEGORY', 'DETECTED'],
        r.mismatches.map((m) => [
          m.dossier,
          m.system,
          m.field,
          cell(m.expected),
          cell(m.actual),
          m.category,
          m.detectedAt,
        ]),
      ) +
      (r.next === undefined ? '' : `\nmore: --after ${r.next}`),
    r,
  );
  return EXIT.ok;
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
      ],
    )
  );
}
