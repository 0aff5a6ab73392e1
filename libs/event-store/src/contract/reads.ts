import { type EventStore, type EventToAppend, type ReadAllOptions, type StoredEvent } from '../port.js';
import { PAYMENT_COMPLETED, STATUS_CHANGED, SUBMITTED, type ContractContext } from './context.js';

/** Reading the log: filters and paging. */
export function describeReadContract(ctx: ContractContext): void {
  const { event, everything } = ctx;
  let store: EventStore;
  // Registered after the suite's own beforeEach, so it sees this test's fresh store.
  beforeEach(() => {
    store = ctx.store;
  });

  it('filters readAll by position, limit, types, provinces and communes; an empty list matches nothing', async () => {
    await expectReadAllFilters(store, event);
  });

  it('pages through every filter shape exactly as a plain filter over the whole log would, with no gap or repeat', async () => {
    // 3 provinces of 3 communes each, a commune with 3 events in the whole log, events without codes.
    const communes = [
      '51:21040',
      '51:21043',
      '51:21046',
      '08:02230',
      '08:02233',
      '08:02236',
      '01:00004',
      '01:00008',
      '01:00011',
    ];
    const types = [SUBMITTED, STATUS_CHANGED, STATUS_CHANGED, PAYMENT_COMPLETED];
    let random = 7;
    const next = (n: number) => (random = (random * 48_271) % 2_147_483_647) % n;
    const sparseAt = new Set([5, 333, 598]);
    for (let batch = 0; batch < 6; batch++) {
      await store.append(
        Array.from({ length: 100 }, (_, i) => {
          const n = batch * 100 + i;
          const [provinceCode, communeCode] = sparseAt.has(n)
            ? ['31', '11311']
            : n % 50 === 17
              ? [undefined, undefined]
              : (communes[next(communes.length)] ?? '').split(':');
          return event({
            stream: `dossier-${n % 40}`,
            type: types[next(types.length)],
            provinceCode,
            communeCode,
          });
        }),
      );
    }
    const all = await everything();
    expect(all).toHaveLength(600);
    const matches = (o: ReadAllOptions) => (e: StoredEvent) =>
      (!o.types || o.types.includes(e.type)) &&
      (!o.provinceCodes || o.provinceCodes.includes(e.provinceCode ?? '')) &&
      (!o.communeCodes || o.communeCodes.includes(e.communeCode ?? ''));
    const shapes: ReadAllOptions[] = [
      { communeCodes: ['21043'] },
      { communeCodes: ['21043', '02233', '00011'] },
      { communeCodes: ['00004', '00004'] },
      { communeCodes: ['11311'] },
      { communeCodes: ['11311', '99999'] },
      { provinceCodes: ['08'] },
      { provinceCodes: ['51', '01'] },
      { provinceCodes: ['31'] },
      { types: [PAYMENT_COMPLETED] },
      { types: [SUBMITTED, PAYMENT_COMPLETED] },
      { types: [STATUS_CHANGED], communeCodes: ['21040', '02236'] },
      { types: [SUBMITTED, PAYMENT_COMPLETED], provinceCodes: ['51', '08'] },
      { types: [PAYMENT_COMPLETED], provinceCodes: ['01'], communeCodes: ['00004', '21040'] },
    ];
    for (const shape of shapes) {
      const expected = all.filter(matches(shape)).map((e) => e.position);
      for (const limit of [1, 7, 100]) {
        const paged: number[] = [];
        for (;;) {
          const after = paged.at(-1) ?? 0;
          const page = await store.readAll({ ...shape, after, limit });
          expect(page.length).toBeLessThanOrEqual(limit);
          expect(page.every(matches(shape))).toBe(true);
          expect(page[0]?.position ?? Infinity).toBeGreaterThan(after);
          paged.push(...page.map((e) => e.position));
          if (page.length < limit) break;
        }
        expect({ shape, limit, positions: paged }).toEqual({ shape, limit, positions: expected });
      }
      const middle = expected[Math.floor(expected.length / 2)] ?? 0;
      expect((await store.readAll({ ...shape, after: middle })).map((e) => e.position)).toEqual(
        expected.filter((p) => p > middle),
      );
    }
    expect((await store.readAll({ communeCodes: ['11311'] })).map((e) => e.position)).toEqual([6, 334, 599]);
    expect(await store.readAll({ communeCodes: ['11311'], after: 599 })).toEqual([]);
    expect(await store.readAll({ provinceCodes: ['08'], after: 10_000 })).toEqual([]);
    expect(await store.readAll({ communeCodes: ['21043'] })).toEqual(
      all.filter((e) => e.communeCode === '21043'),
    );
  });
}

/** Appends five events of various types and places to an empty `store` and checks readAll's filters on them. */
export async function expectReadAllFilters(
  store: EventStore,
  event: (overrides?: Partial<EventToAppend>) => EventToAppend,
): Promise<void> {
  await store.append([
    event({ type: SUBMITTED, provinceCode: '51', communeCode: '21040' }),
    event({ type: STATUS_CHANGED, provinceCode: '51', communeCode: '21043' }),
    event({ type: PAYMENT_COMPLETED, provinceCode: '08', communeCode: '02230' }),
    event({ type: STATUS_CHANGED, provinceCode: '08', communeCode: '02230' }),
    event({ type: SUBMITTED, provinceCode: undefined, communeCode: undefined }),
  ]);
  const positions = async (o: ReadAllOptions) => (await store.readAll(o)).map((e) => e.position);
  expect(await positions({})).toEqual([1, 2, 3, 4, 5]);
  expect(await positions({ after: 2 })).toEqual([3, 4, 5]);
  expect(await positions({ after: 1, limit: 2 })).toEqual([2, 3]);
  expect(await positions({ types: [STATUS_CHANGED] })).toEqual([2, 4]);
  expect(await positions({ types: [SUBMITTED, PAYMENT_COMPLETED] })).toEqual([1, 3, 5]);
  expect(await positions({ provinceCodes: ['08'] })).toEqual([3, 4]);
  expect(await positions({ provinceCodes: ['51', '08'], after: 1 })).toEqual([2, 3, 4]);
  expect(await positions({ communeCodes: ['21043', '02230'] })).toEqual([2, 3, 4]);
  expect(await positions({ types: [STATUS_CHANGED], provinceCodes: ['51'] })).toEqual([2]);
  expect(
    await positions({ types: [STATUS_CHANGED], provinceCodes: ['08'], communeCodes: ['02230'] }),
  ).toEqual([4]);
  expect(await positions({ types: [] })).toEqual([]);
  expect(await positions({ provinceCodes: [] })).toEqual([]);
  expect(await positions({ communeCodes: [] })).toEqual([]);
  expect(await positions({ limit: 0 })).toEqual([]);
}
