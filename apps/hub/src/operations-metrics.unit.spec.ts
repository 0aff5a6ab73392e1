import { MISMATCH_CATEGORIES, type ReconciliationRun } from '#lgsp/reconciliation';
import type { ReplayRun } from '#lgsp/replay';
import { latestMismatches, latestReplays } from './operations-metrics.js';

const run = (
  id: string,
  target: string,
  state: ReconciliationRun['state'],
  stale: number,
): ReconciliationRun =>
  ({
    id,
    target,
    scope: {},
    state,
    by: 'ops',
    startedAt: '2026-12-06T00:00:00Z',
    progress: { expected: 0, scanned: 0, compared: 0 },
    mismatches: { total: stale, dossiers: stale, byCategory: { 'stale-status': stale } },
  }) as ReconciliationRun;

const replay = (id: string, target: string, state: ReplayRun['state'], done: number): ReplayRun =>
  ({ id, target, state, total: 10, done, failed: 0 }) as ReplayRun;

describe('operations metrics', () => {
  it('takes the newest completed reconciliation run of each target, with every category', () => {
    const samples = latestMismatches([
      run('r4', 'portal', 'running', 9),
      run('r3', 'portal', 'completed', 2),
      run('r2', 'one-stop-shop', 'failed', 7),
      run('r1', 'portal', 'completed', 5),
    ]);
    expect(samples).toHaveLength(1);
    expect(samples[0]!.target).toBe('portal');
    expect(Object.keys(samples[0]!.byCategory).sort()).toEqual([...MISMATCH_CATEGORIES].sort());
    expect(samples[0]!.byCategory['stale-status']).toBe(2);
    expect(samples[0]!.byCategory['wrong-field']).toBe(0);
  });

  it('takes the newest replay run of each target, whatever its state', () => {
    expect(
      latestReplays([
        replay('p2', 'portal', 'paused', 3),
        replay('p1', 'portal', 'completed', 10),
        replay('w1', 'webhook:wh_1', 'running', 1),
      ]),
    ).toEqual([
      { target: 'portal', state: 'paused', total: 10, done: 3, failed: 0 },
      { target: 'webhook:wh_1', state: 'running', total: 10, done: 1, failed: 0 },
    ]);
  });
});
