import type { ReconciliationScope } from '#lgsp/reconciliation';
import type { ReplayScope } from '#lgsp/replay';
import { listFlag, type Ctx } from './command.js';
import { UsageError } from './io.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

/** The scope flags every reconciliation takes: --province, --commune, --from, --to, --dossiers(-file). */
export function reconciliationScope(ctx: Ctx): ReconciliationScope {
  const { flags } = ctx;
  for (const name of ['from', 'to'] as const) {
    const v = flags[name];
    if (v !== undefined && !RFC3339.test(v))
      throw new UsageError(
        `--${name} must be an RFC 3339 instant with its offset, e.g. 2026-11-01T00:00:00+07:00`,
      );
  }
  const dossiers = dossierList(ctx);
  return {
    ...(flags.province === undefined ? {} : { provinceCode: flags.province }),
    ...(flags.commune === undefined ? {} : { communeCode: flags.commune }),
    ...(flags.from === undefined ? {} : { from: flags.from }),
    ...(flags.to === undefined ? {} : { to: flags.to }),
    ...(dossiers === undefined ? {} : { dossiers }),
  };
}

/** A replay's scope: the reconciliation flags, and --types and --from-reconciliation. */
export function replayScope(ctx: Ctx): ReplayScope {
  const types = listFlag(ctx.flags.types);
  if (types !== undefined && types.length === 0)
    throw new UsageError('--types needs at least one event type');
  const run = ctx.flags['from-reconciliation'];
  return {
    ...reconciliationScope(ctx),
    ...(types === undefined ? {} : { types }),
    ...(run === undefined ? {} : { reconciliationRun: run }),
  };
}

/** `province 79, from …, 3 dossiers`, or `everything` for an empty scope. */
export function describeScope(scope: ReplayScope): string {
  const parts = [
    scope.provinceCode && `province ${scope.provinceCode}`,
    scope.communeCode && `commune ${scope.communeCode}`,
    scope.from && `from ${scope.from}`,
    scope.to && `to ${scope.to}`,
    scope.dossiers && `${scope.dossiers.length} dossier${scope.dossiers.length === 1 ? '' : 's'}`,
    scope.types && `types ${scope.types.join(',')}`,
    scope.reconciliationRun && `mismatches of reconciliation ${scope.reconciliationRun}`,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'everything';
}

/**
 * The dossier codes of --dossiers (comma-separated) or --dossiers-file (one or more per line,
 * separated by commas or spaces; `#` starts a comment line).
 */
function dossierList(ctx: Ctx): string[] | undefined {
  const { dossiers } = ctx.flags;
  const file = ctx.flags['dossiers-file'];
  if (dossiers !== undefined && file !== undefined)
    throw new UsageError('give --dossiers or --dossiers-file, not both');
  let codes: string[] | undefined;
  if (dossiers !== undefined) codes = listFlag(dossiers);
  if (file !== undefined) {
    let text: string;
    try {
      text = ctx.io.readFile(file);
    } catch (e) {
      throw new UsageError(`cannot read --dossiers-file ${file}: ${(e as Error).message}`);
    }
    codes = text
      .split(/\r?\n/)
      .filter((line) => !line.trimStart().startsWith('#'))
      .flatMap((line) => line.split(/[\s,]+/))
      .filter(Boolean);
  }
  if (codes !== undefined && codes.length === 0)
    throw new UsageError(`${file === undefined ? '--dossiers' : `--dossiers-file ${file}`} lists no dossier`);
  return codes === undefined ? undefined : [...new Set(codes)];
}
