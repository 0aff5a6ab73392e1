import type { HubMetrics, MismatchSample, ReplaySample } from '#lgsp/observability';
import { MISMATCH_CATEGORIES, type ReconciliationRun } from '#lgsp/reconciliation';
import { REPLAY_STATES, type ReplayRun } from '#lgsp/replay';

/** Runs read per scrape, newest first: the latest of each target is among them unless one target floods. */
const RECENT_RUNS = 200;

/**
 * The mismatches of each target's latest completed reconciliation run, every category present (0 when
 * none), so that a category that cleared reads 0 rather than vanishing.
 */
export function latestMismatches(runs: readonly ReconciliationRun[]): MismatchSample[] {
  const seen = new Map<string, MismatchSample>();
  for (const run of runs) {
    if (run.state !== 'completed' || seen.has(run.target)) continue;
    const byCategory: Record<string, number> = {};
    for (const category of MISMATCH_CATEGORIES)
      byCategory[category] = run.mismatches.byCategory[category] ?? 0;
    seen.set(run.target, { target: run.target, byCategory });
  }
  return [...seen.values()];
}

/** Each target's latest replay run (the runs come newest first). */
export function latestReplays(runs: readonly ReplayRun[]): ReplaySample[] {
  const seen = new Map<string, ReplaySample>();
  for (const run of runs) {
    if (seen.has(run.target)) continue;
    seen.set(run.target, {
      target: run.target,
      state: run.state,
      total: run.total,
      done: run.done,
      failed: run.failed,
    });
  }
  return [...seen.values()];
}

/** Lets a scrape sample the reconciliation runs' mismatches and the replays' progress. */
export function sampleOperations(
  metrics: HubMetrics,
  parts: {
    reconciliation: { list(query: { limit: number }): Promise<ReconciliationRun[]> };
    replay: { list(query: { limit: number }): Promise<ReplayRun[]> };
  },
): void {
  metrics.samplers.mismatches = async () =>
    latestMismatches(await parts.reconciliation.list({ limit: RECENT_RUNS }));
  metrics.samplers.replays = {
    states: REPLAY_STATES,
    sample: async () => latestReplays(await parts.replay.list({ limit: RECENT_RUNS })),
  };
}
