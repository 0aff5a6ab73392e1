import type { PendingItem, PendingWorkStore } from '../core/pending/pending-work-store.js';
import { contractSuite, type StoreHarness } from '#lgsp/storage/testing';

const PAYMENTS = 'payments';
const REGISTRY = 'civil-registry';
/** Beyond 2^32, so a due time that does not survive as a 64-bit integer fails the suite. */
const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);

const item = (key: string, overrides: Partial<PendingItem> = {}): Omit<PendingItem, 'attempts'> => ({
  target: PAYMENTS,
  key,
  dossier: `000.00.15.H12-250701-${key.slice(-4).padStart(4, '0')}`,
  payload: { amount: 50_000, name: 'Nguyễn Văn A', nested: { list: [1, 2] } },
  dueAt: T0,
  createdAt: '2026-11-23T08:00:00.000Z',
  ...overrides,
});

/** The behaviour every PendingWorkStore adapter shares; run on every backend (SQLite file and memory, PostgreSQL). */
export const describePendingWorkStoreContract = contractSuite<StoreHarness<PendingWorkStore>>(
  'PendingWorkStore',
  (h) => {
    it('keeps an item with its payload, and a second schedule of the same key changes nothing', async () => {
      expect(await h.store.schedule(item('REF-0001'))).toBe(true);
      expect(await h.store.schedule(item('REF-0001', { dueAt: T0 + 5000, payload: { other: true } }))).toBe(
        false,
      );
      expect(await h.store.get(PAYMENTS, 'REF-0001')).toEqual({ ...item('REF-0001'), attempts: 0 });
      expect(await h.store.count(PAYMENTS)).toBe(1);
    });

    it('keeps the replay that asked for an item, and none for an item of live traffic', async () => {
      await h.store.schedule(item('REF-0001', { replay: 'rp-1' }));
      await h.store.schedule(item('REF-0002'));
      expect(await h.store.get(PAYMENTS, 'REF-0001')).toMatchObject({ replay: 'rp-1' });
      expect(await h.store.get(PAYMENTS, 'REF-0002')).not.toHaveProperty('replay');
      expect((await h.store.due(PAYMENTS, T0 + 1e9, 10)).map((i) => i.replay)).toEqual(['rp-1', undefined]);
    });

    it('gives only the due items of one target, the earliest first, up to the limit', async () => {
      await h.store.schedule(item('REF-0003', { dueAt: T0 + 30 }));
      await h.store.schedule(item('REF-0001', { dueAt: T0 + 10 }));
      await h.store.schedule(item('REF-0002', { dueAt: T0 + 20 }));
      await h.store.schedule(item('REF-0009', { dueAt: T0 + 1000 }));
      await h.store.schedule(item('LT-0001', { target: REGISTRY, dueAt: T0 }));
      const due = await h.store.due(PAYMENTS, T0 + 30, 10);
      expect(due.map((i) => i.key)).toEqual(['REF-0001', 'REF-0002', 'REF-0003']);
      expect((await h.store.due(PAYMENTS, T0 + 30, 2)).map((i) => i.key)).toEqual(['REF-0001', 'REF-0002']);
      expect(await h.store.due(PAYMENTS, T0, 10)).toEqual([]);
      expect((await h.store.due(REGISTRY, T0, 10)).map((i) => i.key)).toEqual(['LT-0001']);
      expect(await h.store.count(PAYMENTS)).toBe(4);
      expect(await h.store.count(REGISTRY)).toBe(1);
    });

    it('reschedules with the polls made, keeping the payload unless a new one is given', async () => {
      await h.store.schedule(item('REF-0001'));
      await h.store.reschedule(PAYMENTS, 'REF-0001', T0 + 60_000, 3);
      expect(await h.store.due(PAYMENTS, T0 + 59_999, 10)).toEqual([]);
      const [again] = await h.store.due(PAYMENTS, T0 + 60_000, 10);
      expect(again).toEqual({ ...item('REF-0001'), dueAt: T0 + 60_000, attempts: 3 });
      await h.store.reschedule(PAYMENTS, 'REF-0001', T0 + 70_000, 4, { lastStatus: 3 });
      expect(await h.store.get(PAYMENTS, 'REF-0001')).toMatchObject({
        attempts: 4,
        dueAt: T0 + 70_000,
        payload: { lastStatus: 3 },
      });
    });

    it('forgets a completed item; completing or rescheduling an unknown one is a no-op', async () => {
      await h.store.schedule(item('REF-0001'));
      await h.store.complete(PAYMENTS, 'REF-0001');
      await h.store.complete(PAYMENTS, 'REF-0001');
      await h.store.reschedule(PAYMENTS, 'REF-0002', T0, 1);
      expect(await h.store.get(PAYMENTS, 'REF-0001')).toBeUndefined();
      expect(await h.store.get(PAYMENTS, 'REF-0002')).toBeUndefined();
      expect(await h.store.count(PAYMENTS)).toBe(0);
      // Once completed, the same work can be scheduled again.
      expect(await h.store.schedule(item('REF-0001'))).toBe(true);
    });

    it('shows the items to another store on the same data (a restarted hub resumes them)', async () => {
      await h.store.schedule(item('REF-0001', { payload: 'Trần Thị Bích' }));
      const other = await h.another();
      expect(await other.get(PAYMENTS, 'REF-0001')).toMatchObject({ payload: 'Trần Thị Bích' });
      expect(await other.schedule(item('REF-0001'))).toBe(false);
      await other.complete(PAYMENTS, 'REF-0001');
      expect(await h.store.count(PAYMENTS)).toBe(0);
    });

    it('keeps one item when many schedule the same key at once', async () => {
      const other = await h.another();
      const added = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? h.store : other).schedule(item('REF-0001'))),
      );
      expect(added.filter(Boolean)).toHaveLength(1);
      expect(await h.store.count(PAYMENTS)).toBe(1);
    });
  },
);
