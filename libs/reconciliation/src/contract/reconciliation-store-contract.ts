import type { Mismatch, ReconciliationRun, ReconciliationStore } from '../model.js';
import { contractSuite, type StoreHarness } from '#lgsp/storage/testing';

/** A run as the suite writes it: running, nothing scanned yet; `overrides` change what a test needs. */
export const run = (id: string, overrides: Partial<ReconciliationRun> = {}): ReconciliationRun => ({
  id,
  target: 'portal',
  scope: { provinceCode: '15', from: '2026-11-01T00:00:00+07:00', dossiers: ['000.00.15.H12-250701-0001'] },
  state: 'running',
  by: 'ops-hanoi',
  startedAt: '2026-11-23T08:00:00.000Z',
  progress: { expected: 0, scanned: 0, compared: 0 },
  mismatches: { total: 0, dossiers: 0, byCategory: {} },
  ...overrides,
});

const mismatch = (n: number, overrides: Partial<Mismatch> = {}): Mismatch => ({
  dossier: `000.00.15.H12-250701-${String(n).padStart(4, '0')}`,
  system: 'portal',
  field: 'TrangThaiHoSo',
  expected: 4,
  actual: 2,
  category: 'stale-status',
  detectedAt: '2026-11-23T08:00:01.000Z',
  ...overrides,
});

const withoutSeq = <T extends { seq: number }>({ seq: _seq, ...rest }: T) => rest;

/** The behaviour every ReconciliationStore adapter shares; run on every backend (SQLite file and memory, PostgreSQL). */
export const describeReconciliationStoreContract = contractSuite<StoreHarness<ReconciliationStore>>(
  'ReconciliationStore',
  (h) => {
    it('keeps a created run as given, and knows no other id', async () => {
      await h.store.create(run('r1'));
      expect(await h.store.get('r1')).toEqual(run('r1'));
      expect(await h.store.get('r2')).toBeUndefined();
    });

    it('replaces the mutable fields on update, keeping what the run was started with', async () => {
      await h.store.create(run('r1'));
      const done = run('r1', {
        state: 'completed',
        finishedAt: '2026-11-23T08:01:00.000Z',
        logPosition: 2 ** 40,
        progress: { expected: 3, scanned: 5, compared: 3 },
        mismatches: { total: 4, dossiers: 2, byCategory: { 'stale-status': 3, 'wrong-field': 1 } },
      });
      await h.store.update({ ...done, by: 'someone-else', target: 'payments', scope: {} });
      expect(await h.store.get('r1')).toEqual(done);
      await h.store.update(run('r1', { state: 'failed', error: 'the portal refused the export (503)' }));
      const failed = await h.store.get('r1');
      expect(failed).toEqual(run('r1', { state: 'failed', error: 'the portal refused the export (503)' }));
      expect(failed).not.toHaveProperty('finishedAt');
      expect(failed).not.toHaveProperty('logPosition');
    });

    it('lists runs newest first, a page after the last id seen', async () => {
      for (const id of ['a', 'b', 'c', 'd', 'e']) await h.store.create(run(id));
      const ids = async (query: { limit: number; after?: string }) =>
        (await h.store.list(query)).map((r) => r.id);
      expect(await ids({ limit: 10 })).toEqual(['e', 'd', 'c', 'b', 'a']);
      expect(await ids({ limit: 2 })).toEqual(['e', 'd']);
      expect(await ids({ limit: 2, after: 'd' })).toEqual(['c', 'b']);
      expect(await ids({ limit: 2, after: 'b' })).toEqual(['a']);
      expect(await ids({ limit: 2, after: 'a' })).toEqual([]);
      expect(await ids({ limit: 2, after: 'unknown' })).toEqual([]);
      expect((await h.store.list({ limit: 1 }))[0]).toEqual(run('e'));
    });

    it("keeps a run's mismatches in the order added, with JSON values (absent as null) and increasing seq", async () => {
      await h.store.create(run('r1'));
      const first = [
        mismatch(1),
        mismatch(2, {
          field: 'HoTenNguoiNop',
          category: 'wrong-field',
          expected: 'Nguyễn Văn A',
          actual: 'Nguyễn Văn A'.normalize('NFD'),
        }),
        mismatch(3, {
          field: '*',
          category: 'missing-in-target',
          expected: { MaHoSo: 'X', list: [1, 'a'] },
          actual: null,
        }),
      ];
      await h.store.addMismatches('r1', first);
      await h.store.addMismatches('r1', [
        mismatch(4, { category: 'unexpected-extra', expected: undefined, actual: true }),
      ]);
      await h.store.addMismatches('r1', []);
      const all = await h.store.mismatches('r1', { limit: 10 });
      expect(all.map(withoutSeq)).toEqual([
        ...first,
        mismatch(4, { category: 'unexpected-extra', expected: null, actual: true }),
      ]);
      const seqs = all.map((m) => m.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      expect(new Set(seqs).size).toBe(4);
      // Stored as given: an NFD name in the system is itself the finding.
      expect(all[1]?.actual).toBe('Nguyễn Văn A'.normalize('NFD'));
    });

    it('pages mismatches by seq and filters them by category', async () => {
      await h.store.create(run('r1'));
      await h.store.create(run('r2'));
      const categories = ['stale-status', 'wrong-field', 'missing-in-target'] as const;
      await h.store.addMismatches(
        'r1',
        Array.from({ length: 9 }, (_, i) => mismatch(i + 1, { category: categories[i % 3]! })),
      );
      await h.store.addMismatches('r2', [mismatch(100)]);
      const page1 = await h.store.mismatches('r1', { limit: 4 });
      const page2 = await h.store.mismatches('r1', { limit: 4, after: page1.at(-1)!.seq });
      const page3 = await h.store.mismatches('r1', { limit: 4, after: page2.at(-1)!.seq });
      expect([...page1, ...page2, ...page3].map((m) => m.dossier.slice(-4))).toEqual([
        '0001',
        '0002',
        '0003',
        '0004',
        '0005',
        '0006',
        '0007',
        '0008',
        '0009',
      ]);
      expect(page3).toHaveLength(1);
      const wrong = await h.store.mismatches('r1', { limit: 2, category: 'wrong-field' });
      expect(wrong.map((m) => m.dossier.slice(-4))).toEqual(['0002', '0005']);
      const more = await h.store.mismatches('r1', {
        limit: 2,
        category: 'wrong-field',
        after: wrong[1]!.seq,
      });
      expect(more.map((m) => m.dossier.slice(-4))).toEqual(['0008']);
      expect(await h.store.mismatches('r1', { limit: 5, category: 'missing-civil-record' })).toEqual([]);
      expect((await h.store.mismatches('r2', { limit: 5 })).map((m) => m.dossier.slice(-4))).toEqual([
        '0100',
      ]);
      expect(await h.store.mismatches('unknown', { limit: 5 })).toEqual([]);
    });

    it('shows runs and mismatches to another store on the same data (a restarted hub reads them)', async () => {
      await h.store.create(run('r1'));
      await h.store.addMismatches('r1', [mismatch(1)]);
      const other = await h.another();
      expect(await other.get('r1')).toEqual(run('r1'));
      await other.update(run('r1', { state: 'completed', finishedAt: '2026-11-23T08:02:00.000Z' }));
      await other.addMismatches('r1', [mismatch(2)]);
      await other.create(run('r2'));
      expect((await h.store.get('r1'))?.state).toBe('completed');
      expect((await h.store.mismatches('r1', { limit: 10 })).map((m) => m.dossier.slice(-4))).toEqual([
        '0001',
        '0002',
      ]);
      expect((await h.store.list({ limit: 10 })).map((r) => r.id)).toEqual(['r2', 'r1']);
    });

    it('records a resolution once, finds a finding by seq, and remembers acknowledgements per record', async () => {
      await h.store.create(run('r1'));
      await h.store.addMismatches('r1', [
        mismatch(1, { category: 'unexpected-extra', expected: null, actual: { MaHoSo: 'x' } }),
        mismatch(2, { category: 'unexpected-extra', expected: null, actual: { MaHoSo: 'y' } }),
      ]);
      const [first, second] = await h.store.mismatches('r1', { limit: 10 });
      expect(await h.store.mismatch('r1', first!.seq)).toEqual(first);
      expect(await h.store.mismatch('r2', first!.seq)).toBeUndefined();
      const ack = {
        action: 'acknowledged' as const,
        by: 'ops',
        at: '2026-11-23T09:00:00.000Z',
        note: 'test record',
      };
      expect(await h.store.resolve('r1', first!.seq, ack)).toBe(true);
      expect(await h.store.resolve('r1', first!.seq, { ...ack, by: 'other' })).toBe(false);
      const captured = {
        action: 'captured' as const,
        by: 'ops',
        at: '2026-11-23T09:01:00.000Z',
        position: 2 ** 40,
      };
      expect(await h.store.resolve('r1', second!.seq, captured)).toBe(true);
      expect((await h.store.mismatch('r1', first!.seq))?.resolution).toEqual(ack);
      expect((await h.store.mismatch('r1', second!.seq))?.resolution).toEqual(captured);
      // Only the acknowledgement is remembered for later runs; a captured record is in the log now.
      expect(await h.store.acknowledged('portal', [first!.dossier, second!.dossier, 'other'])).toEqual(
        new Map([[first!.dossier, { ...ack, fromRun: 'r1' }]]),
      );
      expect(await h.store.acknowledged('one-stop-shop', [first!.dossier])).toEqual(new Map());
      // A finding written with an inherited resolution keeps it.
      await h.store.create(run('r2'));
      await h.store.addMismatches('r2', [
        mismatch(1, { category: 'unexpected-extra', resolution: { ...ack, fromRun: 'r1' } }),
      ]);
      expect((await h.store.mismatches('r2', { limit: 1 }))[0]?.resolution).toEqual({
        ...ack,
        fromRun: 'r1',
      });
    });

    it('refuses a second run with the same id', async () => {
      await h.store.create(run('r1'));
      await expect(h.store.create(run('r1', { by: 'other' }))).rejects.toThrow();
      expect((await h.store.get('r1'))?.by).toBe('ops-hanoi');
    });
  },
);
