import type { EventRef, ReplayPlan, ReplayProgress, ReplayScope, ReplayState } from '#lgsp/replay';
import { ApiError } from './api.js';
import { intFlag, positiveFlag, requireArg, type Ctx } from './command.js';
import { follow } from './follow.js';
import { printListing } from './listing.js';
import { EXIT, UsageError } from './io.js';
import { formatCount, formatDuration, percent } from './progress.js';
import { describeScope, replayScope } from './scope.js';
import { fields, table } from './table.js';

const FINAL: readonly ReplayState[] = ['completed', 'cancelled', 'failed'];
const TARGETS = 'portal, one-stop-shop, civil-registry, payments or kafka:<consumer>';

/** Whether an answer to the confirmation question is a yes (`y`, `yes`, any case). */
export const isYes = (answer: string): boolean => /^\s*y(es)?\s*$/i.test(answer);

/** The target and scope of `replay plan` and `replay run`; with --from-reconciliation the run names the target. */
function request(ctx: Ctx, command: string): { target?: string; scope?: ReplayScope } {
  const target = ctx.flags.target;
  const scope = replayScope(ctx);
  if (!target && scope.reconciliationRun === undefined)
    throw new UsageError(`${command} needs --target (${TARGETS}) or --from-reconciliation ID`);
  return { ...(target ? { target } : {}), ...(Object.keys(scope).length > 0 ? { scope } : {}) };
}

/** 0, or {@link EXIT.unfixable} when the plan leaves out findings a replay cannot fix. */
const planExit = (plan: ReplayPlan): number => (plan.cannotFix ? EXIT.unfixable : EXIT.ok);

/** `replay plan`: what a replay would send, without sending anything. */
export async function replayPlan(ctx: Ctx): Promise<number> {
  const shown = intFlag(ctx.flags, 'limit', 0, 100_000) ?? 20;
  const { plan } = await ctx.api.call<{ plan: ReplayPlan }>(
    'POST',
    '/v1/admin/replays/plan',
    request(ctx, 'replay plan'),
  );
  ctx.out.print(describePlan(plan, shown), { plan });
  return planExit(plan);
}

/**
 * `replay run`: starts a replay and follows it to its end. A plan above the hub's size limit needs
 * confirmation: asked on the terminal, or given with --yes; without either nothing starts (exit 2).
 * Exit 0 only when the replay completed; 6 when it was cancelled or failed, or confirmation declined.
 */
export async function replayRun(ctx: Ctx): Promise<number> {
  const base = {
    ...request(ctx, 'replay run'),
    ...optional('chunkSize', intFlag(ctx.flags, 'chunk-size', 1, 1000)),
    ...optional('ratePerSecond', positiveFlag(ctx.flags, 'rate')),
  };
  const start = (confirm: boolean) =>
    ctx.api.call<{ replay: ReplayProgress; plan: ReplayPlan }>('POST', '/v1/admin/replays', {
      ...base,
      ...(confirm ? { confirm: true } : {}),
    });
  let started: { replay: ReplayProgress; plan: ReplayPlan };
  let planShown = false;
  try {
    started = await start(ctx.flags.yes === true);
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 409) || ctx.flags.yes) throw e;
    if (!ctx.io.ask) {
      ctx.io.stderr.write(
        `lgsp: ${e.message}\nlgsp: this replay needs confirmation and there is no terminal to ask on: ` +
          `check it with lgsp replay plan, then run again with --yes\n`,
      );
      return EXIT.usage;
    }
    const { plan } = await ctx.api.call<{ plan: ReplayPlan }>('POST', '/v1/admin/replays/plan', {
      ...(base.target ? { target: base.target } : {}),
      ...(base.scope ? { scope: base.scope } : {}),
    });
    ctx.io.stderr.write(`${describePlan(plan, 20)}\n\n`);
    const answer = await ctx.io.ask(
      `Replay ${formatCount(plan.dossiers.length)} ${plan.unit}s (${formatCount(plan.events)} events) to ` +
        `${plan.target}, about ${formatDuration(plan.estimatedSeconds)}? [y/N] `,
    );
    if (!isYes(answer)) {
      ctx.io.stderr.write('lgsp: not confirmed; nothing was started\n');
      return EXIT.incomplete;
    }
    planShown = true;
    started = await start(true);
  }
  const { plan } = started;
  if (!ctx.out.json && !planShown) ctx.io.stdout.write(`${describePlan(plan, 20)}\n\n`);
  if (!ctx.flags.wait) {
    ctx.out.print(
      `${describeReplay(started.replay)}\nfollow it with: lgsp replay status ${started.replay.id}`,
      started,
    );
    return EXIT.ok;
  }
  const path = `/v1/admin/replays/${encodeURIComponent(started.replay.id)}`;
  const { last, interrupted } = await follow(
    ctx,
    started.replay,
    async () => (await ctx.api.call<{ replay: ReplayProgress }>('GET', path)).replay,
    (r) => FINAL.includes(r.state),
    (r) => ({ done: r.done, total: r.total, text: progressText(r) }),
  );
  if (interrupted) {
    ctx.io.stderr.write(
      `lgsp: interrupted; replay ${last.id} goes on in the hub (lgsp replay status ${last.id}, lgsp replay pause ${last.id})\n`,
    );
    return EXIT.interrupted;
  }
  ctx.out.print(describeReplay(last), { replay: last, plan });
  if (last.state === 'completed') return planExit(plan);
  ctx.io.stderr.write(`lgsp: replay ${last.id} ${last.state}${last.error ? `: ${last.error}` : ''}\n`);
  return EXIT.incomplete;
}

/** `replay status ID`. */
export async function replayStatus(ctx: Ctx): Promise<number> {
  const id = requireArg(ctx, 'a replay ID', 'replay status');
  const r = await ctx.api.call<{ replay: ReplayProgress }>(
    'GET',
    `/v1/admin/replays/${encodeURIComponent(id)}`,
  );
  ctx.out.print(describeReplay(r.replay), r);
  return EXIT.ok;
}

/** `replay list`: the replays, newest first. */
export async function replayList(ctx: Ctx): Promise<number> {
  return printListing<ReplayProgress>(ctx, {
    path: '/v1/admin/replays',
    key: 'replays',
    params: () => ({ after: ctx.flags.after }),
    columns: ['ID', 'TARGET', 'STATE', 'DONE', 'FAILED', 'RATE', 'ETA', 'BY', 'CREATED', 'SCOPE'],
    row: (p) => [
      p.id,
      p.target,
      p.state,
      `${formatCount(p.done)}/${formatCount(p.total)}`,
      p.failed,
      `${p.rate.toFixed(1)}/s`,
      formatDuration(p.etaSeconds),
      p.by,
      p.createdAt,
      describeScope(p.scope),
    ],
  });
}

/** `replay pause|resume|cancel ID [--note …]`: one move of the run's state machine. */
export async function replayCommand(ctx: Ctx, command: 'pause' | 'resume' | 'cancel'): Promise<number> {
  const id = requireArg(ctx, 'a replay ID', `replay ${command}`);
  const r = await ctx.api.call<{ replay: ReplayProgress }>(
    'POST',
    `/v1/admin/replays/${encodeURIComponent(id)}/${command}`,
    ctx.flags.note === undefined ? {} : { note: ctx.flags.note },
  );
  const p = r.replay;
  ctx.out.print(
    `replay ${p.id} to ${p.target}: ${p.state} (${formatCount(p.done)}/${formatCount(p.total)} done, ${p.failed} failed)`,
    r,
  );
  return EXIT.ok;
}

function progressText(r: ReplayProgress): string {
  return (
    `replay ${r.target} ${r.state}: ${formatCount(r.done)}/${formatCount(r.total)} (${percent(r.done, r.total)}), ` +
    `${r.rate.toFixed(1)}/s, ETA ${formatDuration(r.etaSeconds)}${r.failed > 0 ? `, ${r.failed} failed` : ''}`
  );
}

const eventRef = (e: EventRef | undefined): string | undefined =>
  e && `#${e.position} ${e.recordedAt} ${e.type} ${e.dossier}`;

/** The plan as an operator reads it: counts, first and last events, estimate, the first `shown` dossiers. */
export function describePlan(plan: ReplayPlan, shown: number): string {
  const head = fields([
    ['replay plan to', `${plan.target} (one call set per ${plan.unit})`],
    ['scope', describeScope(plan.scope)],
    ['dossiers', formatCount(plan.dossiers.length)],
    ['events', formatCount(plan.events)],
    ['calls', `${formatCount(plan.calls)} at ${plan.ratePerSecond}/s`],
    ['estimated', formatDuration(plan.estimatedSeconds)],
    ['first event', eventRef(plan.firstEvent) ?? '-'],
    ['last event', eventRef(plan.lastEvent) ?? '-'],
    ['log position', plan.logPosition],
    ['confirmation', plan.confirmationRequired ? 'required to run (--yes)' : 'not required'],
  ]);
  const notes = [
    ...(plan.effects === undefined ? [] : [`Caused by this replay: ${plan.effects}.`]),
    ...(plan.cannotFix === undefined
      ? []
      : [
          `Not fixable by a replay (${plan.cannotFix.category}, left out): ${plan.cannotFix.advice}\n` +
            `  ${plan.cannotFix.dossiers.slice(0, shown).join(', ')}` +
            (plan.cannotFix.dossiers.length > shown
              ? ` … and ${formatCount(plan.cannotFix.dossiers.length - shown)} more`
              : '') +
            `\n  lgsp reconcile capture|acknowledge ${plan.scope.reconciliationRun ?? 'RUN'} SEQ (see lgsp reconcile show)`,
        ]),
  ];
  const first = plan.dossiers.slice(0, shown);
  const more = plan.dossiers.length - first.length;
  const tail = notes.length === 0 ? '' : `\n\n${notes.join('\n\n')}`;
  if (first.length === 0) return `${head}${tail}`;
  return (
    `${head}\n\n${table(
      [`FIRST ${first.length} DOSSIERS`],
      first.map((d) => [d]),
    )}` +
    (more > 0 ? `\n… and ${formatCount(more)} more (--json lists them all)` : '') +
    tail
  );
}

export function describeReplay(p: ReplayProgress): string {
  return fields([
    ['replay', p.id],
    ['target', p.target],
    ['state', p.state],
    ['scope', describeScope(p.scope)],
    ['progress', `${formatCount(p.done)}/${formatCount(p.total)} ${p.unit}s (${percent(p.done, p.total)})`],
    ['failed', p.failed],
    ['rate', `${p.rate.toFixed(1)}/s (limit ${p.ratePerSecond}/s, chunks of ${p.chunkSize})`],
    ['eta', formatDuration(p.etaSeconds)],
    ['by', p.by],
    ['created', p.createdAt],
    ['updated', p.updatedAt],
    ['finished', p.finishedAt],
    ['error', p.error],
  ]);
}

const optional = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;
