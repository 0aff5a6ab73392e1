import { DomainError } from '#lgsp/contracts';
import { verifyChain } from '../chain.js';
import { ANY_VERSION, type EventStore, type StoredEvent } from '../port.js';
import { waitFor, type ContractContext } from './context.js';

/** The hash chain, checkpoints, re-opening, notifications and long streams. */
export function describeDurabilityContract(ctx: ContractContext): void {
  const { name, event, everything } = ctx;
  let harness: ContractContext['harness'];
  let store: EventStore;
  // Registered after the suite's own beforeEach, so it sees this test's fresh store.
  beforeEach(() => {
    harness = ctx.harness;
    store = ctx.store;
  });

  it('chains every record to the previous one so verifyChain accepts the whole log and spots tampering', async () => {
    await store.append([
      event({ stream: 'A' }),
      event({ stream: 'B', data: { text: 'Thủ tục hành chính' } }),
    ]);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.append([event({ stream: `C${i % 3}` })])));
    await store.append([event({ stream: 'A', data: { amount: 8000, list: [3, 1, 2], flag: false } })]);
    const all = await everything();
    expect(all).toHaveLength(23);
    expect(verifyChain(all)).toEqual({ ok: true });
    expect(verifyChain(all.slice(10), all[9]?.hash)).toEqual({ ok: true });
    const tampered = all.map((e) => (e.position === 5 ? { ...e, data: { status: 9 } } : e));
    expect(verifyChain(tampered)).toEqual({
      ok: false,
      position: 5,
      kind: 'modified',
      reason: 'stored hash does not match the record',
    });
  });

  it('saves, loads and lists checkpoints', async () => {
    await saveCheckpoints(store);
    await expectSavedCheckpoints(store);
  });

  it('keeps events, the chain and checkpoints across re-opening', async () => {
    if (!harness?.reopen) throw new Error(`the ${name} harness must provide reopen()`);
    await store.append([event({ stream: 'A' }), event({ stream: 'B' })]);
    await store.checkpoints.save('relay.kafka', 2);
    // The suite's helpers (everything) read the re-opened store too.
    store = ctx.store = await harness.reopen();
    expect(await store.checkpoints.load('relay.kafka')).toBe(2);
    const [r] = await store.append([event({ stream: 'A', expectedVersion: 1 })]);
    expect(r).toMatchObject({ position: 3, streamVersion: 2 });
    expect(verifyChain(await everything())).toEqual({ ok: true });
  });

  it('tells onAppended listeners the new head after the commit, once the events are readable', async () => {
    const heads: number[] = [];
    const seen: Promise<number>[] = [];
    const unsubscribe = store.onAppended((head) => {
      heads.push(head);
      seen.push(store.readAll({ limit: 1_000_000 }).then((all) => all.length));
    });
    await Promise.all([store.append([event()]), store.append([event(), event()])]);
    await store.append([event({ id: 'dup', source: '/d' })]);
    await waitFor(() => heads.at(-1) === 4);
    expect([...heads].sort((a, b) => a - b)).toEqual(heads);
    const counts = await Promise.all(seen);
    heads.forEach((head, i) => expect(counts[i]).toBeGreaterThanOrEqual(head));
    const before = heads.length;
    await store.append([event({ id: 'dup', source: '/d' })]);
    unsubscribe();
    await store.append([event()]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heads).toHaveLength(before);
  });

  it('keeps a 5,000-event stream in order and reads it back in pages', async () => {
    const stream = 'dossier-large';
    for (let batch = 0; batch < 10; batch++) {
      await store.append(
        Array.from({ length: 500 }, (_, i) =>
          event({
            stream,
            expectedVersion: i === 0 ? batch * 500 : ANY_VERSION,
            data: { n: batch * 500 + i },
          }),
        ),
      );
    }
    expect(await store.streamVersion(stream)).toBe(5000);
    const read: StoredEvent[] = [];
    for (;;) {
      const page = await store.readStream(stream, { fromVersion: read.length + 1, limit: 700 });
      read.push(...page);
      if (page.length < 700) break;
    }
    expect(read.map((e) => e.streamVersion)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    expect(read.map((e) => (e.data as { n: number }).n)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(read.map((e) => e.position)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    expect(verifyChain(read)).toEqual({ ok: true });
  });
}

/** Saves checkpoints of two subscribers in a new store (and fails to save a negative one). */
export async function saveCheckpoints(store: EventStore): Promise<void> {
  expect(await store.checkpoints.load('projection.dossiers')).toBe(0);
  await store.checkpoints.save('projection.dossiers', 41);
  await store.checkpoints.save('projection.dossiers', 42);
  await store.checkpoints.save('relay.kafka', 7);
  await expect(store.checkpoints.save('relay.kafka', -1)).rejects.toBeInstanceOf(DomainError);
}

/** Checks that `store` loads and lists what {@link saveCheckpoints} saved. */
export async function expectSavedCheckpoints(store: EventStore): Promise<void> {
  expect(await store.checkpoints.load('projection.dossiers')).toBe(42);
  const list = await store.checkpoints.list();
  expect(list.map(({ subscriber, position }) => ({ subscriber, position }))).toEqual([
    { subscriber: 'projection.dossiers', position: 42 },
    { subscriber: 'relay.kafka', position: 7 },
  ]);
  expect(Date.parse(list[0]?.updatedAt ?? '')).not.toBeNaN();
}
