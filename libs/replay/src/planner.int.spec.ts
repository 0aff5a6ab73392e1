import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StoredEvent } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import type { ReplayTarget } from './model.js';
import { planReplay, selectReplay } from './planner.js';
import { dossierEvent } from './replay.testing.js';

const SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';
const STATUS = 'vn.gov.lgsp.dossier.status-changed.v1';
const PAID = 'vn.gov.lgsp.payment.completed.v1';

let dir: string;
let store: SqliteEventStore;
/** Every event appended, as stored. */
let log: StoredEvent[];

/** A target that records each call: the planner must make none. */
function fakeTarget(overrides: Partial<ReplayTarget> = {}): ReplayTarget & { calls: string[] } {
  const calls: string[] = [];
  return {
    name: 'portal',
    unit: 'dossier',
    ratePerSecond: 20,
    callsPerItem: 2,
    calls,
    send: async (item) => {
      calls.push(item);
      return 'sent';
    },
    ...overrides,
  };
}

async function append(dossier: string, type: string, province: string, commune: string): Promise<void> {
  await store.append([dossierEvent(dossier, type, { provinceCode: province, communeCode: commune })]); // Distinct recording times, so windows can split the log.
  await new Promise((r) => setTimeout(r, 3));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'replay-plan-'));
  store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  // Positions: 1 A sub, 2 B sub, 3 C sub (other province), 4 A status, 5 D sub, 6 B paid, 7 not a dossier.
  await append('A', SUBMITTED, '51', '21040');
  await append('B', SUBMITTED, '51', '21041');
  await append('C', SUBMITTED, '01', '00004');
  await append('A', STATUS, '51', '21040');
  await append('D', SUBMITTED, '51', '21040');
  await append('B', PAID, '51', '21041');
  await store.append([
    {
      stream: 'client-ops',
      expectedVersion: 'any',
      id: randomUUID(),
      source: '/hub',
      type: SUBMITTED,
      data: {},
      extensions: {},
      provinceCode: '51',
    },
  ]);
  log = await store.readAll({ limit: 100 });
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const ref = (position: number) => {
  const e = log[position - 1]!;
  return { position, recordedAt: e.recordedAt, type: e.type, dossier: e.stream.slice('dossier-'.length) };
};

describe('planReplay', () => {
  it('lists every dossier in the order of its last event, with counts, first and last event and the estimate', async () => {
    const target = fakeTarget();
    const plan = await planReplay({ events: store, target, scope: {}, confirmAbove: 1000, pageSize: 2 });
    expect(plan).toEqual({
      target: 'portal',
      scope: {},
      unit: 'dossier',
      dossiers: ['C', 'A', 'D', 'B'],
      events: 6,
      firstEvent: ref(1),
      lastEvent: ref(6),
      calls: 8,
      ratePerSecond: 20,
      estimatedSeconds: 0.4,
      confirmationRequired: false,
      logPosition: 7,
    });
    expect(target.calls).toEqual([]);
  });

  it('narrows by dossier list, types, province and commune; every criterion must hold', async () => {
    const plan = (scope: unknown) =>
      planReplay({ events: store, target: fakeTarget(), scope, confirmAbove: 10 });
    expect((await plan({ dossiers: ['B', 'A', 'Z'] })).dossiers).toEqual(['A', 'B']);
    expect(await plan({ types: [SUBMITTED] })).toMatchObject({
      dossiers: ['A', 'B', 'C', 'D'],
      events: 4,
      lastEvent: ref(5),
    });
    expect(await plan({ provinceCode: '51' })).toMatchObject({ dossiers: ['A', 'D', 'B'], events: 5 });
    expect(await plan({ communeCode: '21041' })).toMatchObject({ dossiers: ['B'], events: 2 });
    expect(await plan({ provinceCode: '51', types: [PAID, STATUS], dossiers: ['A'] })).toMatchObject({
      dossiers: ['A'],
      events: 1,
      firstEvent: ref(4),
      lastEvent: ref(4),
      calls: 2,
    });
    const none = await plan({ communeCode: '99999' });
    expect(none).toMatchObject({ dossiers: [], events: 0, calls: 0, estimatedSeconds: 0 });
    expect(none.firstEvent).toBeUndefined();
  });

  it('takes the window on the recording time: from included, to excluded', async () => {
    const plan = await planReplay({
      events: store,
      target: fakeTarget(),
      scope: { from: log[1]!.recordedAt, to: log[4]!.recordedAt },
      confirmAbove: 10,
    });
    expect(plan).toMatchObject({
      dossiers: ['B', 'C', 'A'],
      events: 3,
      firstEvent: ref(2),
      lastEvent: ref(4),
    });
  });

  it('asks for confirmation above the threshold, and estimates at the target’s call rate', async () => {
    const target = fakeTarget({ ratePerSecond: 0.5, callsPerItem: 3 });
    const at = (confirmAbove: number) => planReplay({ events: store, target, scope: {}, confirmAbove });
    expect(await at(4)).toMatchObject({ confirmationRequired: false, calls: 12, estimatedSeconds: 24 });
    expect(await at(3)).toMatchObject({ confirmationRequired: true });
    expect(target.calls).toEqual([]);
  });

  it('gives events as items to an event target, dossier streams or not', async () => {
    const { plan, items } = await selectReplay({
      events: store,
      target: fakeTarget({ name: 'kafka:erp', unit: 'event', callsPerItem: 1 }),
      scope: { provinceCode: '51' },
      confirmAbove: 5,
    });
    expect(items).toEqual(['1', '2', '4', '5', '6', '7']);
    expect(plan).toMatchObject({
      events: 6,
      calls: 6,
      confirmationRequired: true,
      dossiers: ['A', 'D', 'B'],
    });
  });

  it('takes the dossiers with mismatches of a reconciliation run of the same target', async () => {
    const reconciliation = async (id: string) =>
      id === 'rec-1'
        ? { target: 'portal', dossiers: ['D', 'B'] }
        : id === 'rec-2'
          ? { target: 'payments', dossiers: ['A'] }
          : undefined;
    const plan = (scope: unknown) =>
      planReplay({ events: store, target: fakeTarget(), scope, confirmAbove: 10, reconciliation });
    expect((await plan({ reconciliationRun: 'rec-1' })).dossiers).toEqual(['D', 'B']);
    expect((await plan({ reconciliationRun: 'rec-1', dossiers: ['B', 'A'] })).dossiers).toEqual(['B']);
    await expect(plan({ reconciliationRun: 'rec-2' })).rejects.toMatchObject({
      code: 'invalid',
      issues: [{ pointer: '/scope/reconciliationRun', message: 'covers payments, not portal' }],
    });
    await expect(plan({ reconciliationRun: 'rec-9' })).rejects.toMatchObject({ code: 'not-found' });
    await expect(
      planReplay({
        events: store,
        target: fakeTarget(),
        scope: { reconciliationRun: 'rec-1' },
        confirmAbove: 1,
      }),
    ).rejects.toMatchObject({ code: 'invalid' });
  });

  it('refuses a bad scope with a pointer to each bad field', async () => {
    const err = await planReplay({
      events: store,
      target: fakeTarget(),
      scope: {
        dossiers: ['A', ''],
        from: '2025-11-23 08:00',
        types: ['vn.gov.lgsp.nothing.v1'],
        provinceCode: '5',
        communeCode: 21040,
        colour: 'red',
      },
      confirmAbove: 10,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid' });
    expect((err as { issues: { pointer: string }[] }).issues.map((i) => i.pointer).sort()).toEqual([
      '/scope/colour',
      '/scope/communeCode',
      '/scope/dossiers/1',
      '/scope/from',
      '/scope/provinceCode',
      '/scope/types/0',
    ]);
    await expect(
      planReplay({
        events: store,
        target: fakeTarget(),
        scope: { from: '2025-11-23T10:00:00+07:00', to: '2025-11-23T03:00:00Z' },
        confirmAbove: 10,
      }),
    ).rejects.toMatchObject({ issues: [{ pointer: '/scope/to' }] });
    await expect(
      planReplay({ events: store, target: fakeTarget(), scope: ['A'], confirmAbove: 10 }),
    ).rejects.toMatchObject({ code: 'invalid', issues: [{ pointer: '/scope' }] });
  });

  it('stops at the log position it started at, whatever is appended while it reads', async () => {
    const events = {
      readAll: store.readAll.bind(store),
      head: async () => {
        const head = await store.head();
        await append('E', SUBMITTED, '51', '21040');
        return head;
      },
    };
    const plan = await planReplay({ events, target: fakeTarget(), scope: {}, confirmAbove: 10, pageSize: 3 });
    expect(plan.logPosition).toBe(7);
    expect(plan.dossiers).toEqual(['C', 'A', 'D', 'B']);
    expect(
      (await planReplay({ events: store, target: fakeTarget(), scope: {}, confirmAbove: 10 })).dossiers,
    ).toEqual(['C', 'A', 'D', 'B', 'E']);
  });
});

describe('planReplay and event versions', () => {
  it('takes every version of a type the scope names: old v1 and new v2 submissions alike', async () => {
    const own = SqliteEventStore.open({ file: join(dir, 'versions.db') });
    try {
      const unit = { provinceCode: '51', communeCode: '21040' };
      await own.append([dossierEvent('OLD', SUBMITTED, unit)]);
      await own.append([dossierEvent('NEW', 'vn.gov.lgsp.dossier.submitted.v2', unit)]);
      await own.append([dossierEvent('NEW', STATUS, unit)]);
      const plan = await planReplay({
        events: own,
        target: fakeTarget(),
        scope: { types: [SUBMITTED] },
        confirmAbove: 10,
      });
      expect(plan).toMatchObject({ dossiers: ['OLD', 'NEW'], events: 2, scope: { types: [SUBMITTED] } });
    } finally {
      await own.close();
    }
  });
});
