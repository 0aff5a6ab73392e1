import { DomainError } from '#lgsp/contracts';
import type { AuditEntry, AuditLog, NewAuditEntry } from '#lgsp/security';
import type {
  ExpectedDossier,
  Mismatch,
  ReconcileContext,
  ReconciliationRun,
  ReconciliationScope,
  ReconciliationTarget,
  TargetReconciler,
} from './model.js';
import { INTERRUPTED, ReconciliationService, type ReconciliationServiceOptions } from './service.js';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { SqlReconciliationStore } from './store/sql-reconciliation-store.js';

class FakeAudit implements AuditLog {
  readonly entries: AuditEntry[] = [];
  async record(entry: NewAuditEntry): Promise<AuditEntry> {
    const saved = { id: this.entries.length + 1, ...entry };
    this.entries.push(saved);
    return saved;
  }
  async list(query: { limit: number; after?: number }): Promise<AuditEntry[]> {
    return this.entries.filter((e) => e.id > (query.after ?? 0)).slice(0, query.limit);
  }
}

/** A reconciler that plays a script: each step reports progress, yields a batch, or waits for a gate. */
type Step = { scanned?: number; compared?: number; yield?: Mismatch[]; wait?: Promise<void>; fail?: Error };

class ScriptedReconciler implements TargetReconciler {
  readonly calls: { expected: ReadonlyMap<string, ExpectedDossier>; scope: ReconciliationScope }[] = [];
  constructor(
    readonly target: ReconciliationTarget,
    private readonly steps: Step[],
  ) {}
  async *reconcile(
    expected: ReadonlyMap<string, ExpectedDossier>,
    scope: ReconciliationScope,
    context: ReconcileContext,
  ): AsyncIterable<Mismatch[]> {
    this.calls.push({ expected, scope });
    for (const step of this.steps) {
      if (step.scanned !== undefined) context.scanned(step.scanned);
      if (step.compared !== undefined) context.compared(step.compared);
      if (step.wait) await step.wait;
      if (step.fail) throw step.fail;
      if (step.yield) yield step.yield;
    }
  }
}

const gate = () => {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
};

const code = (n: number) => `000.00.15.H12-250701-${String(n).padStart(4, '0')}`;
const mismatch = (
  n: number,
  category: Mismatch['category'] = 'stale-status',
  field = 'TrangThaiHoSo',
): Mismatch => ({
  dossier: code(n),
  system: 'portal',
  field,
  expected: 4,
  actual: 2,
  category,
  detectedAt: '2026-11-23T08:00:01.000Z',
});
const expectedOf = (count: number) =>
  new Map(
    Array.from({ length: count }, (_, i) => [
      code(i + 1),
      { dossier: code(i + 1) } as unknown as ExpectedDossier,
    ]),
  );
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function setup(steps: Step[], overrides: Partial<ReconciliationServiceOptions> = {}) {
  const store = await SqlReconciliationStore.open(SqliteDatabase.open(':memory:'));
  const audit = new FakeAudit();
  const reconciler = new ScriptedReconciler('portal', steps);
  const expectedScopes: ReconciliationScope[] = [];
  const service = new ReconciliationService({
    store,
    audit,
    reconcilers: new Map([['portal', reconciler]]),
    expected: async (scope) => {
      expectedScopes.push(scope);
      return { dossiers: expectedOf(5), logPosition: 1234 };
    },
    clock: { now: () => Date.parse('2026-11-23T08:00:00.000Z') },
    progressMs: 10,
    batchSize: 3,
    ...overrides,
  });
  return { store, audit, reconciler, service, expectedScopes };
}

describe('ReconciliationService', () => {
  it('starts a run as running and completes it with the counts, saving mismatches in batches', async () => {
    const { store, reconciler, service, expectedScopes } = await setup([
      { scanned: 2, yield: [mismatch(1), mismatch(2, 'wrong-field', 'HoTenNguoiNop')] },
      { scanned: 4, yield: [mismatch(2), mismatch(3, 'missing-in-target', '*')] },
      { scanned: 5, compared: 5, yield: [mismatch(4, 'unexpected-extra', '*')] },
    ]);
    const added: number[] = [];
    const addMismatches = store.addMismatches.bind(store);
    store.addMismatches = async (id, batch) => {
      added.push(batch.length);
      return addMismatches(id, batch);
    };
    const scope = { provinceCode: '15', dossiers: [code(1), code(2), code(1)] };
    const run = await service.start('portal', scope, 'ops-hanoi');
    expect(run).toMatchObject({
      id: expect.stringMatching(/^rc-[0-9a-f]{12}$/),
      target: 'portal',
      state: 'running',
      by: 'ops-hanoi',
      startedAt: '2026-11-23T08:00:00.000Z',
      // Codes once each, in the given order.
      scope: { provinceCode: '15', dossiers: [code(1), code(2)] },
    });
    expect((await store.get(run.id))?.state).toBe('running');
    const done = await service.whenDone(run.id);
    expect(done).toEqual({
      ...run,
      state: 'completed',
      finishedAt: '2026-11-23T08:00:00.000Z',
      logPosition: 1234,
      progress: { expected: 5, scanned: 5, compared: 5 },
      mismatches: {
        total: 5,
        dossiers: 4,
        byCategory: { 'stale-status': 2, 'wrong-field': 1, 'missing-in-target': 1, 'unexpected-extra': 1 },
      },
    });
    expect(expectedScopes).toEqual([run.scope]);
    expect(reconciler.calls[0]?.expected.size).toBe(5);
    expect(reconciler.calls[0]?.scope).toEqual(run.scope);
    // Batches of at least batchSize (3) while running, the rest at the end.
    expect(added).toEqual([4, 1]);
    const page = await service.mismatches(run.id, { limit: 3 });
    expect(page.mismatches.map((m) => m.dossier)).toEqual([code(1), code(2), code(2)]);
    expect(page.next).toBe(page.mismatches[2]?.seq);
    const rest = await service.mismatches(run.id, { limit: 3, after: page.next! });
    expect(rest.mismatches.map((m) => m.category)).toEqual(['missing-in-target', 'unexpected-extra']);
    expect(rest.next).toBeUndefined();
    const wrong = await service.mismatches(run.id, { limit: 10, category: 'wrong-field' });
    expect(wrong.mismatches.map((m) => m.field)).toEqual(['HoTenNguoiNop']);
  });

  it('saves the progress while the reconciler is still scanning, before any mismatch', async () => {
    const scanning = gate();
    const { store, service } = await setup([
      { scanned: 40_000, compared: 39_000, wait: scanning.wait },
      { scanned: 100_000 },
    ]);
    const run = await service.start('portal', {}, 'ops');
    await sleep(60);
    expect(await store.get(run.id)).toMatchObject({
      state: 'running',
      logPosition: 1234,
      progress: { expected: 5, scanned: 40_000, compared: 39_000 },
    });
    scanning.open();
    expect((await service.whenDone(run.id)).progress).toEqual({
      expected: 5,
      scanned: 100_000,
      compared: 39_000,
    });
  });

  it('writes one audit entry per run when it finishes, as the operator who started it', async () => {
    const { audit, service } = await setup([{ yield: [mismatch(1)] }]);
    const run = await service.start(
      'portal',
      { communeCode: '00001', from: '2026-11-01T00:00:00+07:00' },
      'ops',
    );
    await service.whenDone(run.id);
    expect(audit.entries).toEqual([
      {
        id: 1,
        at: '2026-11-23T08:00:00.000Z',
        actor: 'ops',
        action: 'reconciliation.run',
        subject: `reconciliation:${run.id}`,
        scope: { target: 'portal', communeCode: '00001', from: '2026-11-01T00:00:00+07:00' },
        outcome: {
          state: 'completed',
          logPosition: 1234,
          progress: { expected: 5, scanned: 0, compared: 0 },
          mismatches: { total: 1, dossiers: 1, byCategory: { 'stale-status': 1 } },
        },
      },
    ]);
  });

  it('fails a run whose reconciler throws, keeping what it found, with the ID numbers masked', async () => {
    const { audit, service } = await setup([
      { yield: [mismatch(1)] },
      { fail: new Error('portal export page 3 refused (502) for 001099012345') },
    ]);
    const run = await service.start('portal', {}, 'ops');
    const done = await service.whenDone(run.id);
    expect(done).toMatchObject({
      state: 'failed',
      finishedAt: '2026-11-23T08:00:00.000Z',
      error: 'portal export page 3 refused (502) for *********345',
      mismatches: { total: 1, dossiers: 1 },
    });
    expect((await service.mismatches(run.id, { limit: 10 })).mismatches).toHaveLength(1);
    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]?.outcome).toMatchObject({ state: 'failed', error: done.error });
  });

  it('fails a run whose expected state cannot be read, without calling the reconciler', async () => {
    const { reconciler, service, audit } = await setup([], {
      expected: async () => {
        throw new Error('the event store is unavailable');
      },
    });
    const run = await service.start('portal', {}, 'ops');
    expect(await service.whenDone(run.id)).toMatchObject({
      state: 'failed',
      error: 'the event store is unavailable',
    });
    expect(reconciler.calls).toHaveLength(0);
    expect(audit.entries[0]?.outcome).toMatchObject({ state: 'failed' });
  });

  it('refuses an unknown target (invalid) and a target whose connector is not enabled (not-found)', async () => {
    const { store, service } = await setup([]);
    await expect(service.start('kafka', {}, 'ops')).rejects.toMatchObject({
      code: 'invalid',
      issues: [{ pointer: '/target', message: expect.stringContaining('portal') }],
    });
    await expect(service.start('payments', {}, 'ops')).rejects.toMatchObject({ code: 'not-found' });
    expect(await store.list({ limit: 10 })).toEqual([]);
  });

  it('refuses a bad scope with one pointer per bad member, storing nothing', async () => {
    const { store, service } = await setup([]);
    const attempt = (scope: unknown) =>
      service.start('portal', scope as ReconciliationScope, 'ops').then(
        () => [],
        (err: unknown) => {
          expect(err).toBeInstanceOf(DomainError);
          expect((err as DomainError).code).toBe('invalid');
          return (err as DomainError).issues.map((i) => i.pointer);
        },
      );
    expect(
      await attempt({
        provinceCode: '1',
        communeCode: 'abcde',
        from: '2026-11-01',
        to: '2026-11-01T00:00:00',
        dossiers: [code(1), '', 7],
        district: '001',
      }),
    ).toEqual([
      '/scope/district',
      '/scope/provinceCode',
      '/scope/communeCode',
      '/scope/from',
      '/scope/to',
      '/scope/dossiers/1',
      '/scope/dossiers/2',
    ]);
    expect(await attempt({ from: '2026-11-02T00:00:00+07:00', to: '2026-11-01T17:00:00Z' })).toEqual([
      '/scope/to',
    ]);
    expect(await attempt({ from: '2026-11-02T00:00:00+07:00', to: '2026-11-01T17:00:00.000Z' })).toEqual([
      '/scope/to',
    ]);
    expect(await attempt({ dossiers: Array.from({ length: 100_001 }, (_, i) => code(i)) })).toEqual([
      '/scope/dossiers',
    ]);
    expect(await attempt({ dossiers: code(1) })).toEqual(['/scope/dossiers']);
    expect(await attempt([])).toEqual(['/scope']);
    expect(await store.list({ limit: 10 })).toEqual([]);
    // The limits themselves are accepted.
    const run = await service.start(
      'portal',
      {
        from: '2026-11-01T00:00:00+07:00',
        to: '2026-11-01T17:00:00.001Z',
        dossiers: Array.from({ length: 100_000 }, (_, i) => code(i)),
      },
      'ops',
    );
    await service.whenDone(run.id);
  });

  it('marks the runs a stopped hub left running as failed at start-up, each audited', async () => {
    const store = await SqlReconciliationStore.open(SqliteDatabase.open(':memory:'));
    const left: ReconciliationRun = {
      id: 'rc-left',
      target: 'portal',
      scope: { provinceCode: '15' },
      state: 'running',
      by: 'ops',
      startedAt: '2026-11-23T07:00:00.000Z',
      logPosition: 99,
      progress: { expected: 10, scanned: 4, compared: 4 },
      mismatches: { total: 1, dossiers: 1, byCategory: { 'wrong-field': 1 } },
    };
    await store.create(left);
    await store.create({
      ...left,
      id: 'rc-done',
      state: 'completed',
      finishedAt: '2026-11-23T07:01:00.000Z',
    });
    const audit = new FakeAudit();
    const restarted = new ReconciliationService({
      store,
      audit,
      reconcilers: new Map(),
      expected: async () => ({ dossiers: new Map(), logPosition: 0 }),
      clock: { now: () => Date.parse('2026-11-23T08:00:00.000Z') },
    });
    expect(await restarted.recover()).toBe(1);
    expect(await restarted.get('rc-left')).toEqual({
      ...left,
      state: 'failed',
      finishedAt: '2026-11-23T08:00:00.000Z',
      error: INTERRUPTED,
    });
    expect((await restarted.get('rc-done')).state).toBe('completed');
    expect(audit.entries.map((e) => [e.subject, e.outcome.state, e.outcome.error])).toEqual([
      ['reconciliation:rc-left', 'failed', INTERRUPTED],
    ]);
    expect(await restarted.recover()).toBe(0);
  });

  it('does not mark its own running runs at recovery, and close() stops them as failed', async () => {
    const stuck = gate();
    const { service } = await setup([{ scanned: 1, wait: stuck.wait }]);
    const run = await service.start('portal', {}, 'ops');
    expect(await service.recover()).toBe(0);
    const closing = service.close();
    stuck.open();
    await closing;
    expect(await service.get(run.id)).toMatchObject({
      state: 'failed',
      error: 'interrupted: the hub is stopping',
    });
  });

  it('answers not-found for an unknown run', async () => {
    const { service } = await setup([]);
    await expect(service.get('rc-nope')).rejects.toMatchObject({ code: 'not-found' });
    await expect(service.mismatches('rc-nope', { limit: 10 })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('lists runs newest first', async () => {
    const { service } = await setup([]);
    const a = await service.start('portal', {}, 'ops');
    const b = await service.start('portal', {}, 'ops');
    await Promise.all([service.whenDone(a.id), service.whenDone(b.id)]);
    expect((await service.list({ limit: 10 })).map((r) => r.id)).toEqual([b.id, a.id]);
    expect((await service.list({ limit: 10, after: b.id })).map((r) => r.id)).toEqual([a.id]);
  });

  describe('unexpected extras: capture or acknowledge', () => {
    const extra = (n: number) => mismatch(n, 'unexpected-extra', '*');
    const event = (dossier: string) => ({
      specversion: '1.0' as const,
      id: `portal-online:${dossier}`,
      source: '/national/portal',
      type: 'vn.gov.lgsp.dossier.submitted.v1',
      data: { dossierCode: dossier },
    });

    async function finishedRun(
      steps: Step[],
      overrides: Partial<ReconciliationServiceOptions> = {},
      capture?: TargetReconciler['capture'],
    ) {
      const appended: unknown[] = [];
      const ctx = await setup(steps, {
        sink: {
          append: async (events) => {
            appended.push(...events);
            return events.map((_, i) => ({ position: 100 + appended.length - events.length + i }));
          },
        },
        ...overrides,
      });
      if (capture) Object.assign(ctx.reconciler, { capture });
      const run = await ctx.service.start('portal', {}, 'ops');
      await ctx.service.whenDone(run.id);
      const page = await ctx.service.mismatches(run.id, { limit: 10 });
      return { ...ctx, run, page, appended };
    }

    it('captures an extra into the log as the system tells it, once, and counts it resolved', async () => {
      const captured: string[] = [];
      const { service, run, page, appended, audit } = await finishedRun(
        [{ yield: [extra(7), mismatch(1)] }],
        {},
        async (dossier) => {
          captured.push(dossier);
          return event(dossier);
        },
      );
      const seq = page.mismatches[0]!.seq;
      const done = await service.resolveExtra(run.id, seq, { action: 'captured', by: 'ops' });
      expect(done.mismatch.resolution).toEqual({
        action: 'captured',
        by: 'ops',
        at: expect.any(String),
        position: 100,
      });
      expect(done.run.mismatches).toMatchObject({ total: 2, resolved: 1 });
      expect(appended).toEqual([event(code(7))]);
      expect(captured).toEqual([code(7)]);
      await expect(
        service.resolveExtra(run.id, seq, { action: 'captured', by: 'ops' }),
      ).rejects.toMatchObject({
        code: 'conflict',
      });
      // Only extras: a replay fixes the others.
      await expect(
        service.resolveExtra(run.id, page.mismatches[1]!.seq, {
          action: 'acknowledged',
          by: 'ops',
          note: 'x',
        }),
      ).rejects.toMatchObject({
        code: 'invalid',
        message: expect.stringMatching(/a replay fixes the others/),
      });
      expect(appended).toHaveLength(1);
      expect(
        audit.entries.filter(
          (e) => e.action.startsWith('reconciliation.c') || e.action.startsWith('reconciliation.a'),
        ),
      ).toEqual([
        expect.objectContaining({
          actor: 'ops',
          action: 'reconciliation.capture',
          outcome: { dossier: code(7), system: 'portal', action: 'captured', position: 100 },
        }),
        expect.objectContaining({
          action: 'reconciliation.capture',
          outcome: expect.objectContaining({ refused: true, code: 'conflict' }),
        }),
        expect.objectContaining({
          action: 'reconciliation.acknowledge',
          outcome: expect.objectContaining({ refused: true, code: 'invalid' }),
        }),
      ]);
    });

    it('captures a record told as several events, in order, at the position of the last', async () => {
      const told = (dossier: string) => [
        event(dossier),
        { ...event(dossier), id: `${dossier}/status/4`, type: 'vn.gov.lgsp.dossier.status-changed.v1' },
      ];
      const { service, run, page, appended } = await finishedRun([{ yield: [extra(8)] }], {}, async (d) =>
        told(d),
      );
      const done = await service.resolveExtra(run.id, page.mismatches[0]!.seq, {
        action: 'captured',
        by: 'ops',
      });
      expect(appended).toEqual(told(code(8)));
      expect(done.mismatch.resolution).toMatchObject({ action: 'captured', position: 101 });
    });

    it('refuses a capture of a record told as no event at all', async () => {
      const { service, run, page, appended } = await finishedRun([{ yield: [extra(9)] }], {}, async () => []);
      await expect(
        service.resolveExtra(run.id, page.mismatches[0]!.seq, { action: 'captured', by: 'ops' }),
      ).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/nothing to capture/) });
      expect(appended).toEqual([]);
    });

    it('refuses a capture where the system cannot tell its record, or holds it no more', async () => {
      const none = await finishedRun([{ yield: [extra(7)] }]);
      const seq = none.page.mismatches[0]!.seq;
      await expect(
        none.service.resolveExtra(none.run.id, seq, { action: 'captured', by: 'ops' }),
      ).rejects.toMatchObject({
        code: 'conflict',
        message: expect.stringMatching(/acknowledge the extra with a note instead/),
      });
      const gone = await finishedRun([{ yield: [extra(7)] }], {}, async () => undefined);
      await expect(
        gone.service.resolveExtra(gone.run.id, gone.page.mismatches[0]!.seq, {
          action: 'captured',
          by: 'ops',
        }),
      ).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/no longer holds/) });
      expect(gone.appended).toEqual([]);
      await expect(
        gone.service.resolveExtra('rc-none', 1, { action: 'captured', by: 'ops' }),
      ).rejects.toMatchObject({
        code: 'not-found',
      });
      await expect(
        gone.service.resolveExtra(gone.run.id, 999, { action: 'captured', by: 'ops' }),
      ).rejects.toMatchObject({
        code: 'not-found',
      });
    });

    it('acknowledges an extra only with a note, and a later run inherits it: the record is not open again', async () => {
      const { service, run, page, store, audit } = await finishedRun([{ yield: [extra(7), extra(8)] }]);
      const seq = page.mismatches[0]!.seq;
      await expect(
        service.resolveExtra(run.id, seq, { action: 'acknowledged', by: 'ops', note: '  ' }),
      ).rejects.toMatchObject({
        code: 'invalid',
      });
      await service.resolveExtra(run.id, seq, {
        action: 'acknowledged',
        by: 'ops',
        note: 'a test record of the portal',
      });
      expect(audit.entries.at(-1)).toMatchObject({
        action: 'reconciliation.acknowledge',
        outcome: { dossier: code(7), action: 'acknowledged', note: 'a test record of the portal' },
      });

      const later = new ReconciliationService({
        store,
        reconcilers: new Map([
          ['portal', new ScriptedReconciler('portal', [{ yield: [extra(7), extra(8)] }])],
        ]),
        expected: async () => ({ dossiers: expectedOf(5), logPosition: 1 }),
      });
      const next = await later.start('portal', {}, 'ops');
      const ended = await later.whenDone(next.id);
      expect(ended.mismatches).toMatchObject({ total: 2, resolved: 1 });
      const listed = (await later.mismatches(next.id, { limit: 10 })).mismatches;
      expect(listed.map((m) => [m.dossier, m.resolution?.action, m.resolution?.fromRun])).toEqual([
        [code(7), 'acknowledged', run.id],
        [code(8), undefined, undefined],
      ]);
    });
  });
});
