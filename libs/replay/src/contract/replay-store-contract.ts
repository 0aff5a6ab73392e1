import type { ReplayRun, ReplayStore } from '../model.js';
import { contractSuite } from '#lgsp/storage/testing';

/** One empty store for one test, and how to dispose of it. */
export interface ReplayStoreContractHarness {
  store: ReplayStore;
  /** Another store on the same data, as a restarted hub opens it. */
  another(): Promise<ReplayStore>;
  close(): Promise<void>;
}

const AT = '2026-11-23T08:00:00.000Z';
const LATER = '2026-11-23T08:05:00.000Z';

const run = (id: string, overrides: Partial<ReplayRun> = {}): ReplayRun => ({
  id,
  target: 'portal',
  scope: { dossiers: ['000.00.51.H56-251123-0001'], from: '2025-11-23T00:00:00+07:00' },
  unit: 'dossier',
  state: 'running',
  by: 'ops',
  createdAt: AT,
  updatedAt: AT,
  total: 3,
  done: 0,
  failed: 0,
  chunkSize: 2,
  ratePerSecond: 12.5,
  ...overrides,
});

/** The behaviour every ReplayStore adapter shares; run on every backend (SQLite file and memory, PostgreSQL). */
export const describeReplayStoreContract = contractSuite<ReplayStoreContractHarness>('ReplayStore', (h) => {
  it('keeps a run as given and its items in order, read in pages', async () => {
    const items = Array.from({ length: 12_345 }, (_, i) => `D-${String(12_345 - i).padStart(5, '0')}`);
    await h.store.create(run('r1', { total: items.length }), items);
    expect(await h.store.get('r1')).toEqual(run('r1', { total: items.length }));
    expect(await h.store.get('nope')).toBeUndefined();
    expect(await h.store.items('r1', 0, 3)).toEqual(items.slice(0, 3));
    expect(await h.store.items('r1', 5000, 4)).toEqual(items.slice(5000, 5004));
    expect(await h.store.items('r1', 12_343, 10)).toEqual(items.slice(12_343));
    expect(await h.store.items('r1', 12_345, 10)).toEqual([]);
    const pages: string[] = [];
    for (let from = 0; from < items.length; from += 1000)
      pages.push(...(await h.store.items('r1', from, 1000)));
    expect(pages).toEqual(items);
    expect(await (await h.another()).items('r1', 0, 2)).toEqual(items.slice(0, 2));
  });

  it('lists runs newest first, paged by the last id seen', async () => {
    for (const id of ['a', 'b', 'c', 'd']) await h.store.create(run(id), ['x']);
    expect((await h.store.list({ limit: 10 })).map((r) => r.id)).toEqual(['d', 'c', 'b', 'a']);
    expect((await h.store.list({ limit: 2 })).map((r) => r.id)).toEqual(['d', 'c']);
    expect((await h.store.list({ limit: 2, after: 'c' })).map((r) => r.id)).toEqual(['b', 'a']);
    expect(await h.store.list({ limit: 2, after: 'a' })).toEqual([]);
  });

  it('advances the cursor only while the run is running: a pause or cancel in between wins', async () => {
    await h.store.create(run('r1'), ['a', 'b', 'c']);
    expect(await h.store.advance('r1', 2, 1, LATER)).toEqual(
      run('r1', { done: 2, failed: 1, updatedAt: LATER }),
    );
    await h.store.transition('r1', 'pause', LATER);
    const after = await h.store.advance('r1', 3, 1, '2026-11-23T09:00:00.000Z');
    expect(after).toMatchObject({ state: 'paused', done: 2, failed: 1, updatedAt: LATER });
    await h.store.transition('r1', 'cancel', LATER);
    expect(await h.store.advance('r1', 3, 1, LATER)).toMatchObject({ state: 'cancelled', done: 2 });
    await expect(h.store.advance('nope', 1, 0, LATER)).rejects.toMatchObject({ code: 'not-found' });
  });

  it('moves through the state machine and refuses any other move with a conflict', async () => {
    await h.store.create(run('r1'), ['a']);
    expect(await h.store.transition('r1', 'pause', LATER)).toEqual(
      run('r1', { state: 'paused', updatedAt: LATER }),
    );
    await expect(h.store.transition('r1', 'pause', LATER)).rejects.toMatchObject({ code: 'conflict' });
    await expect(h.store.transition('r1', 'complete', LATER)).rejects.toMatchObject({ code: 'conflict' });
    expect(await h.store.transition('r1', 'resume', LATER)).toMatchObject({ state: 'running' });
    const failed = await h.store.transition('r1', 'fail', LATER, 'the event store is unreadable');
    expect(failed).toMatchObject({
      state: 'failed',
      finishedAt: LATER,
      error: 'the event store is unreadable',
    });
    expect(await h.store.get('r1')).toEqual(failed);
    // Resuming a failed run clears its error and end.
    const resumed = await h.store.transition('r1', 'resume', '2026-11-23T09:00:00.000Z');
    expect(resumed).toEqual(run('r1', { updatedAt: '2026-11-23T09:00:00.000Z' }));
    expect(await h.store.get('r1')).toEqual(resumed);
    expect(await h.store.transition('r1', 'complete', LATER)).toMatchObject({
      state: 'completed',
      finishedAt: LATER,
    });
    for (const command of ['pause', 'resume', 'cancel', 'fail', 'complete'] as const)
      await expect(h.store.transition('r1', command, LATER)).rejects.toMatchObject({ code: 'conflict' });
    await expect(h.store.transition('nope', 'pause', LATER)).rejects.toMatchObject({ code: 'not-found' });
  });

  it('tells which runs are running, oldest first, to a store opened again', async () => {
    for (const id of ['a', 'b', 'c', 'd']) await h.store.create(run(id), ['x']);
    await h.store.transition('b', 'pause', LATER);
    await h.store.transition('d', 'cancel', LATER);
    const again = await h.another();
    expect((await again.running()).map((r) => r.id)).toEqual(['a', 'c']);
    await again.transition('b', 'resume', LATER);
    expect((await h.store.running()).map((r) => r.id)).toEqual(['a', 'b', 'c']);
  });

  it('applies one of two concurrent moves of the same run', async () => {
    await h.store.create(run('r1'), ['x']);
    const other = await h.another();
    const outcomes = await Promise.allSettled([
      h.store.transition('r1', 'pause', LATER),
      other.transition('r1', 'complete', LATER),
      h.store.transition('r1', 'fail', LATER, 'x'),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(refused.map((o) => (o.reason as { code: string }).code)).toEqual(['conflict', 'conflict']);
  });
});
