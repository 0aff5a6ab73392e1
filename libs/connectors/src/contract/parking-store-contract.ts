import {
  InvalidSkipError,
  NotParkedError,
  PARKED_BY_CONNECTOR,
  type ParkRequest,
  type ParkingStore,
} from '../core/parking/parking-store.js';
import { contractSuite, type StoreHarness } from '#lgsp/storage/testing';

const PORTAL = 'national-portal';
const REGISTRY = 'civil-registry';
/** Beyond 2^32, so a position that does not survive as a 64-bit integer fails the suite. */
const BIG = 2 ** 40;

const request = (overrides: Partial<ParkRequest> = {}): ParkRequest => ({
  reason: 'national-portal refused the request with 422: NgayTiepNhan is not yyyyMMddHHmmss',
  kind: 'data',
  attempts: 1,
  firstPosition: BIG + 10,
  lastError: 'rejected 422: national-portal refused the request with 422',
  parkedAt: '2026-11-23T08:00:00.000Z',
  ...overrides,
});

/**
 * The behaviours every `ParkingStore` adapter must have. Run on every backend by the store's
 * spec (`describeOnEveryBackend`), each test on an empty store.
 */
export const describeParkingStoreContract = contractSuite<StoreHarness<ParkingStore>>(
  'ParkingStore',
  (harness) => {
    let store: ParkingStore;
    beforeEach(() => {
      store = harness.store;
    });
    /** Parks `dossier` for the portal (first held position BIG + 10) and holds it through `position`. */
    const parkHeldThrough = async (dossier: string, position: number): Promise<void> => {
      await store.park(PORTAL, dossier, request());
      await store.hold(PORTAL, dossier, position);
    };

    it('parks one dossier for one target only, with its reason, and records who parked it', async () => {
      const parked = await store.park(PORTAL, 'H51.21040-250701-0001', request());
      expect(parked).toEqual({
        ...request(),
        id: expect.any(Number),
        target: PORTAL,
        dossier: 'H51.21040-250701-0001',
        lastPosition: BIG + 10,
      });
      expect(await store.isParked(PORTAL, 'H51.21040-250701-0001')).toBe(true);
      expect(await store.isParked(PORTAL, 'H51.21040-250701-0002')).toBe(false);
      expect(await store.isParked(REGISTRY, 'H51.21040-250701-0001')).toBe(false);
      expect(await store.get(PORTAL, 'H51.21040-250701-0001')).toEqual(parked);
      expect(await store.get(REGISTRY, 'H51.21040-250701-0001')).toBeUndefined();
      expect(await store.history(PORTAL, 'H51.21040-250701-0001')).toEqual([
        {
          target: PORTAL,
          dossier: 'H51.21040-250701-0001',
          action: 'parked',
          at: '2026-11-23T08:00:00.000Z',
          by: PARKED_BY_CONNECTOR,
          note: request().reason,
          kind: 'data',
          attempts: 1,
          lastError: request().lastError,
          fromPosition: BIG + 10,
          throughPosition: BIG + 10,
        },
      ]);
      expect(await store.history(REGISTRY, 'H51.21040-250701-0001')).toEqual([]);
    });

    it('keeps the first parking when a parked pair parks again', async () => {
      const first = await store.park(PORTAL, 'D1', request());
      const again = await store.park(PORTAL, 'D1', request({ reason: 'later', firstPosition: BIG + 99 }));
      expect(again).toEqual(first);
      expect(await store.history(PORTAL, 'D1')).toHaveLength(1);
    });

    it('holds later events behind a parking, raising its last position, and holds nothing unparked', async () => {
      await store.park(PORTAL, 'D1', request());
      expect(await store.hold(PORTAL, 'D1', BIG + 20)).toBe(true);
      expect(await store.hold(PORTAL, 'D1', BIG + 15)).toBe(true);
      expect(await store.get(PORTAL, 'D1')).toMatchObject({
        firstPosition: BIG + 10,
        lastPosition: BIG + 20,
      });
      expect(await store.hold(PORTAL, 'D2', BIG + 21)).toBe(false);
      expect(await store.hold(REGISTRY, 'D1', BIG + 22)).toBe(false);
      expect(await store.isParked(PORTAL, 'D2')).toBe(false);
      expect(await store.isParked(REGISTRY, 'D1')).toBe(false);
    });

    it('lists parkings in parking order, by target, a page at a time', async () => {
      await store.park(PORTAL, 'D1', request({ firstPosition: 1 }));
      await store.park(REGISTRY, 'D1', request({ firstPosition: 2, kind: 'retriable', attempts: 6 }));
      await store.park(PORTAL, 'D2', request({ firstPosition: 3 }));
      await store.park(PORTAL, 'D3', request({ firstPosition: 4 }));
      const all = await store.list({ limit: 10 });
      expect(all.map((i) => [i.target, i.dossier])).toEqual([
        [PORTAL, 'D1'],
        [REGISTRY, 'D1'],
        [PORTAL, 'D2'],
        [PORTAL, 'D3'],
      ]);
      expect(all[1]).toMatchObject({ kind: 'retriable', attempts: 6 });
      const page1 = await store.list({ target: PORTAL, limit: 2 });
      expect(page1.map((i) => i.dossier)).toEqual(['D1', 'D2']);
      const page2 = await store.list({ target: PORTAL, limit: 2, after: page1[1]!.id });
      expect(page2.map((i) => i.dossier)).toEqual(['D3']);
      expect(await store.list({ target: PORTAL, limit: 2, after: page2[0]!.id })).toEqual([]);
      expect(await store.list({ target: 'payments', limit: 10 })).toEqual([]);
    });

    it('counts the parked dossiers per target, leaving out resolved parkings', async () => {
      expect(await store.countByTarget()).toEqual(new Map());
      await store.park(PORTAL, 'D1', request({ firstPosition: 1 }));
      await store.park(PORTAL, 'D2', request({ firstPosition: 2 }));
      await store.park(REGISTRY, 'D1', request({ firstPosition: 3 }));
      expect(await store.countByTarget()).toEqual(
        new Map([
          [PORTAL, 2],
          [REGISTRY, 1],
        ]),
      );
      await store.retry(PORTAL, 'D1', { by: 'op', at: '2026-01-01T00:00:00Z' });
      expect(await store.countByTarget()).toEqual(
        new Map([
          [PORTAL, 1],
          [REGISTRY, 1],
        ]),
      );
    });

    it('retries: the parking ends, and who, when and which positions are recorded', async () => {
      await parkHeldThrough('D1', BIG + 30);
      const entry = await store.retry(PORTAL, 'D1', {
        by: 'ops-anh',
        at: '2026-11-23T09:00:00.000Z',
        note: 'fixed the receipt date in the one-stop-shop',
      });
      expect(entry).toEqual({
        target: PORTAL,
        dossier: 'D1',
        action: 'retried',
        at: '2026-11-23T09:00:00.000Z',
        by: 'ops-anh',
        note: 'fixed the receipt date in the one-stop-shop',
        kind: 'data',
        attempts: 1,
        lastError: request().lastError,
        fromPosition: BIG + 10,
        throughPosition: BIG + 30,
      });
      expect(await store.isParked(PORTAL, 'D1')).toBe(false);
      expect(await store.list({ limit: 10 })).toEqual([]);
      expect((await store.history(PORTAL, 'D1')).map((e) => e.action)).toEqual(['parked', 'retried']);
      expect((await store.history(PORTAL, 'D1'))[1]).toEqual(entry);

      const parkedAgain = await store.park(PORTAL, 'D1', request({ firstPosition: BIG + 31 }));
      expect(parkedAgain.lastPosition).toBe(BIG + 31);
      expect((await store.history(PORTAL, 'D1')).map((e) => e.action)).toEqual([
        'parked',
        'retried',
        'parked',
      ]);
    });

    it('skips the held events, through the last held position unless told where', async () => {
      await parkHeldThrough('D1', BIG + 12);
      const skipped = await store.skip(PORTAL, 'D1', { by: 'ops-binh', at: '2026-11-23T09:05:00.000Z' });
      expect(skipped).toMatchObject({
        action: 'skipped',
        by: 'ops-binh',
        at: '2026-11-23T09:05:00.000Z',
        fromPosition: BIG + 10,
        throughPosition: BIG + 12,
      });
      expect(skipped.note).toBeUndefined();
      expect(await store.isParked(PORTAL, 'D1')).toBe(false);

      await parkHeldThrough('D2', BIG + 40);
      const partly = await store.skip(PORTAL, 'D2', {
        by: 'ops-binh',
        at: '2026-11-23T09:06:00.000Z',
        note: 'the portal holds this dossier already',
        throughPosition: BIG + 10,
      });
      expect(partly).toMatchObject({ fromPosition: BIG + 10, throughPosition: BIG + 10 });
      expect((await store.history(PORTAL, 'D2')).map((e) => [e.action, e.note])).toEqual([
        ['parked', request().reason],
        ['skipped', 'the portal holds this dossier already'],
      ]);
    });

    it('refuses a skip that ends before the first held event, leaving the parking as it was', async () => {
      await store.park(PORTAL, 'D1', request());
      const refused = await store
        .skip(PORTAL, 'D1', { by: 'ops', at: '2026-11-23T09:00:00.000Z', throughPosition: BIG + 9 })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(InvalidSkipError);
      expect(refused).toMatchObject({ code: 'invalid', retriable: false });
      expect(await store.isParked(PORTAL, 'D1')).toBe(true);
      expect(await store.history(PORTAL, 'D1')).toHaveLength(1);
    });

    it('refuses to retry or skip a pair that is not parked', async () => {
      await store.park(REGISTRY, 'D1', request());
      const at = '2026-11-23T09:00:00.000Z';
      await expect(store.retry(PORTAL, 'D1', { by: 'ops', at })).rejects.toThrow(NotParkedError);
      await expect(store.skip(PORTAL, 'D1', { by: 'ops', at })).rejects.toMatchObject({
        code: 'not-found',
        message: 'dossier D1 is not parked for national-portal',
      });
      expect(await store.history(PORTAL, 'D1')).toEqual([]);
    });

    it('parks a pair once and resolves it once when two workers race', async () => {
      const other = await harness.another();
      for (let round = 0; round < 5; round++) {
        const dossier = `race-${round}`;
        const [a, b] = await Promise.all([
          store.park(PORTAL, dossier, request({ reason: 'here' })),
          other.park(PORTAL, dossier, request({ reason: 'there' })),
        ]);
        expect(a).toEqual(b);
        expect(await other.isParked(PORTAL, dossier)).toBe(true);
        const at = '2026-11-23T09:00:00.000Z';
        const outcomes = await Promise.allSettled([
          store.retry(PORTAL, dossier, { by: 'ops-a', at }),
          other.skip(PORTAL, dossier, { by: 'ops-b', at }),
        ]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
        expect(refused[0]).toBeInstanceOf(NotParkedError);
        expect((await store.history(PORTAL, dossier)).map((e) => e.action)).toHaveLength(2);
      }
    });

    it('keeps the last position each target took of a dossier, only rising, beside its parkings', async () => {
      const dossier = 'H51.21040-250701-0007';
      expect(await store.syncOf(dossier)).toEqual([]);
      await store.delivered([
        { target: PORTAL, dossier, position: BIG + 3, at: '2026-11-23T08:00:00.000Z' },
        { target: REGISTRY, dossier, position: 4, at: '2026-11-23T08:00:01.000Z' },
        { target: PORTAL, dossier: 'other', position: BIG + 9, at: '2026-11-23T08:00:02.000Z' },
      ]);
      // A late write of an older delivery changes nothing; a newer one moves the position and the time.
      await store.delivered([{ target: PORTAL, dossier, position: 2, at: '2026-11-23T09:00:00.000Z' }]);
      await store.delivered([{ target: REGISTRY, dossier, position: 8, at: '2026-11-23T09:00:00.000Z' }]);
      await store.park('webhook:wh_1', dossier, request({ reason: 'refused 5 times', firstPosition: 9 }));
      expect(await store.syncOf(dossier)).toEqual([
        { target: REGISTRY, lastPosition: 8, lastDeliveredAt: '2026-11-23T09:00:00.000Z', parked: false },
        { target: PORTAL, lastPosition: BIG + 3, lastDeliveredAt: '2026-11-23T08:00:00.000Z', parked: false },
        {
          target: 'webhook:wh_1',
          lastPosition: null,
          lastDeliveredAt: null,
          parked: true,
          parkedReason: 'refused 5 times',
        },
      ]);
      await store.park(PORTAL, dossier, request());
      expect((await store.syncOf(dossier)).find((s) => s.target === PORTAL)).toEqual({
        target: PORTAL,
        lastPosition: BIG + 3,
        lastDeliveredAt: '2026-11-23T08:00:00.000Z',
        parked: true,
        parkedReason: request().reason,
      });
      await store.retry(PORTAL, dossier, { by: 'ops', at: '2026-11-23T10:00:00.000Z' });
      expect((await store.syncOf(dossier)).find((s) => s.target === PORTAL)?.parked).toBe(false);
    });
  },
);
