import { DomainError, withAllVersions } from '#lgsp/contracts';
import type { EventStore, StoredEvent } from '#lgsp/event-store';
import type { EventRef, ReconciliationLookup, ReplayPlan, ReplayScope, ReplayTarget } from './model.js';
import { validateReplayScope } from './scope.js';

const DOSSIER_STREAM_PREFIX = 'dossier-';
const READ_PAGE = 1000;

export interface PlanReplayOptions {
  events: Pick<EventStore, 'readAll' | 'head'>;
  target: ReplayTarget;
  /** As the operator sent it: validated here. */
  scope: unknown;
  /** Plans of more items than this need the operator's confirmation to run. */
  confirmAbove: number;
  /** Resolves `scope.reconciliationRun`; without it such a scope is refused. */
  reconciliation?: ReconciliationLookup;
  /** Events per read of the log. @defaultValue 1000 */
  pageSize?: number;
}

/** A plan and the items a run of it sends, in order (dossier codes, or event positions as strings). */
export interface ReplaySelection {
  plan: ReplayPlan;
  items: string[];
}

/**
 * The dry run: reads the log up to its head (in pages, filtered by the scope) and tells exactly what a
 * replay would send to the target, with counts and an estimate at the target's rate. It only reads.
 *
 * @throws DomainError `invalid` for a bad scope (pointers under `/scope`), `not-found` for an unknown
 *   reconciliation run.
 */
export async function planReplay(options: PlanReplayOptions): Promise<ReplayPlan> {
  return (await selectReplay(options)).plan;
}

/** {@link planReplay} with the items a run would send. */
export async function selectReplay(options: PlanReplayOptions): Promise<ReplaySelection> {
  const { target, events, confirmAbove } = options;
  const scope = validateReplayScope(options.scope);
  const { only, extras } = await dossierCriterion(scope, target, options.reconciliation);
  const from = scope.from === undefined ? -Infinity : Date.parse(scope.from);
  const to = scope.to === undefined ? Infinity : Date.parse(scope.to);
  const selected = (e: StoredEvent): string | undefined => {
    const dossier = e.stream.startsWith(DOSSIER_STREAM_PREFIX)
      ? e.stream.slice(DOSSIER_STREAM_PREFIX.length)
      : undefined;
    if (target.unit === 'dossier' && dossier === undefined) return undefined;
    if (target.accepts !== undefined && !target.accepts(e)) return undefined;
    if (only !== undefined && (dossier === undefined || !only.has(dossier))) return undefined;
    const at = Date.parse(e.recordedAt);
    if (at < from || at >= to) return undefined;
    return dossier ?? '';
  };

  const logPosition = (await events.head()).position;
  const pageSize = options.pageSize ?? READ_PAGE;
  /** Per dossier, the position of its last selected event; Map order is re-sorted below. */
  const lastOf = new Map<string, number>();
  const positions: string[] = [];
  let count = 0;
  let first: EventRef | undefined;
  let last: EventRef | undefined;
  for (let after = 0; after < logPosition;) {
    const page = await events.readAll({
      after,
      limit: Math.min(pageSize, logPosition - after),
      // A type names every version of its family: the target sends each at the version it receives.
      ...(scope.types ? { types: withAllVersions(scope.types) } : {}),
      ...(scope.provinceCode ? { provinceCodes: [scope.provinceCode] } : {}),
      ...(scope.communeCode ? { communeCodes: [scope.communeCode] } : {}),
    });
    for (const e of page) {
      if (e.position > logPosition) break;
      const dossier = selected(e);
      if (dossier === undefined) continue;
      count++;
      const ref: EventRef = { position: e.position, recordedAt: e.recordedAt, type: e.type, dossier };
      first ??= ref;
      last = ref;
      if (dossier !== '') lastOf.set(dossier, e.position);
      if (target.unit === 'event') positions.push(String(e.position));
    }
    const end = page.at(-1);
    if (end === undefined || page.length < Math.min(pageSize, logPosition - after)) break;
    after = end.position;
  }

  const dossiers = [...lastOf.entries()].sort((a, b) => a[1] - b[1]).map(([d]) => d);
  const items = target.unit === 'dossier' ? dossiers : positions;
  const calls = items.length * target.callsPerItem;
  const plan: ReplayPlan = {
    target: target.name,
    scope,
    unit: target.unit,
    dossiers,
    events: count,
    ...(first ? { firstEvent: first } : {}),
    ...(last ? { lastEvent: last } : {}),
    calls,
    ratePerSecond: target.ratePerSecond,
    estimatedSeconds: Math.ceil((calls / target.ratePerSecond) * 10) / 10,
    confirmationRequired: items.length > confirmAbove,
    logPosition,
    ...(extras.length === 0
      ? {}
      : {
          cannotFix: {
            category: 'unexpected-extra' as const,
            dossiers: extras,
            advice:
              `${extras.length} record${extras.length === 1 ? '' : 's'} ${extras.length === 1 ? 'is' : 'are'} in ${target.name} and never in the log: ` +
              'a replay sends the log and cannot remove or explain them. Capture each into the log as an event ' +
              `from ${target.name}, or acknowledge it with a note.`,
          },
        }),
    ...(target.effects === undefined ? {} : { effects: target.effects }),
  };
  return { plan, items };
}

/**
 * The dossiers the scope allows (its list, and the reconciliation run's), or undefined for all; and
 * the run's open extras, which no replay can fix.
 */
async function dossierCriterion(
  scope: ReplayScope,
  target: ReplayTarget,
  reconciliation: ReconciliationLookup | undefined,
): Promise<{ only: Set<string> | undefined; extras: string[] }> {
  let only = scope.dossiers === undefined ? undefined : new Set(scope.dossiers);
  const runId = scope.reconciliationRun;
  if (runId === undefined) return { only, extras: [] };
  const pointer = '/scope/reconciliationRun';
  if (reconciliation === undefined)
    throw new DomainError('invalid', 'reconciliation runs are not available in this hub', [
      { pointer, message: 'no reconciliation runs here' },
    ]);
  const run = await reconciliation(runId);
  if (run === undefined) throw new DomainError('not-found', `no reconciliation run ${runId}`);
  if (run.target !== target.name)
    throw new DomainError(
      'invalid',
      `reconciliation run ${runId} covers ${run.target}, not the replay's target ${target.name}`,
      [{ pointer, message: `covers ${run.target}, not ${target.name}` }],
    );
  const extras = new Set(run.extras ?? []);
  const mismatched = new Set(run.dossiers.filter((d) => !extras.has(d)));
  only = only === undefined ? mismatched : new Set([...only].filter((d) => mismatched.has(d)));
  const listed = scope.dossiers === undefined ? undefined : new Set(scope.dossiers);
  return { only, extras: [...extras].filter((d) => listed === undefined || listed.has(d)) };
}
