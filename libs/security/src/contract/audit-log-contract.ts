import { DomainError } from '#lgsp/contracts';
import type { AuditLog, NewAuditEntry } from '../audit.js';
import { contractSuite } from '#lgsp/storage/testing';

/** One empty log for one test, and how to dispose of it. */
export interface AuditLogContractHarness {
  store: AuditLog;
  /** Another log on the same data, as a second hub process opens it. */
  another(): Promise<AuditLog>;
  /** Closes every log the harness opened and deletes their data. */
  close(): Promise<void>;
}

const entry = (overrides: Partial<NewAuditEntry> = {}): NewAuditEntry => ({
  at: '2026-11-23T09:00:00.000Z',
  actor: 'ops',
  action: 'replay.run',
  subject: 'replay:r-1',
  scope: { target: 'portal', dossiers: ['000.00.15.H12-250701-0001'] },
  outcome: { state: 'running', total: 1 },
  ...overrides,
});

/** The behaviours every `AuditLog` adapter must have; run on every backend (SQLite file and memory, PostgreSQL). */
export const describeAuditLogContract = contractSuite<AuditLogContractHarness>('AuditLog', (harness) => {
  let log: AuditLog;
  beforeEach(() => {
    log = harness.store;
  });

  it('appends: every record is a new entry with a greater id, and lists return them oldest first', async () => {
    const first = await log.record(entry());
    const second = await log.record(entry());
    const third = await log.record(entry({ action: 'replay.pause', outcome: { state: 'paused' } }));
    const { hash, ...content } = first;
    expect(content).toEqual({ id: first.id, ...entry() });
    // A chained log gives each entry its hash (see SqlAuditLog); an unchained one gives none.
    if (hash !== undefined) expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(second.id).toBeGreaterThan(first.id);
    expect(third.id).toBeGreaterThan(second.id);
    expect(await log.list({ limit: 10 })).toEqual([first, second, third]);
    expect((log as unknown as Record<string, unknown>).update).toBeUndefined();
    expect((log as unknown as Record<string, unknown>).delete).toBeUndefined();
  });

  it('pages with after and limit, covering every entry exactly once', async () => {
    const recorded = [];
    for (let i = 1; i <= 7; i++) recorded.push(await log.record(entry({ subject: `replay:r-${i}` })));
    const seen = [];
    let after = 0;
    for (;;) {
      const page = await log.list({ limit: 3, after });
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(3);
      seen.push(...page);
      after = page[page.length - 1]!.id;
    }
    expect(seen).toEqual(recorded);
    expect(await log.list({ limit: 2, after: recorded[4]!.id })).toEqual(recorded.slice(5, 7));
    expect(await log.list({ limit: 5, after: recorded[6]!.id })).toEqual([]);
  });

  it('filters by action prefix and by exact subject, alone, together and after a cursor', async () => {
    const plan = await log.record(entry({ action: 'replay.plan', subject: 'portal' }));
    const run = await log.record(entry({ action: 'replay.run', subject: 'replay:r-1' }));
    const rec = await log.record(
      entry({ action: 'reconciliation.run', subject: 'reconciliation:c-1', scope: { target: 'portal' } }),
    );
    const pause = await log.record(entry({ action: 'replay.pause', subject: 'replay:r-1' }));
    const other = await log.record(entry({ action: 'replay.run', subject: 'replay:r-10' }));

    expect(await log.list({ limit: 10, action: 'replay.' })).toEqual([plan, run, pause, other]);
    expect(await log.list({ limit: 10, action: 'reconciliation.run' })).toEqual([rec]);
    expect(await log.list({ limit: 10, subject: 'replay:r-1' })).toEqual([run, pause]);
    expect(await log.list({ limit: 10, action: 'replay.run', subject: 'replay:r-1' })).toEqual([run]);
    expect(await log.list({ limit: 10, action: 'replay.', after: run.id })).toEqual([pause, other]);
    expect(await log.list({ limit: 1, action: 'replay.', after: run.id })).toEqual([pause]);
    expect(await log.list({ limit: 10, action: 'replay.resume' })).toEqual([]);
  });

  it('takes the action prefix literally: _ and % are not wildcards', async () => {
    const underscore = await log.record(entry({ action: 'replay_x.run' }));
    await log.record(entry({ action: 'replayAx.run' }));
    await log.record(entry({ action: 'replay.run' }));
    expect(await log.list({ limit: 10, action: 'replay_' })).toEqual([underscore]);
    expect(await log.list({ limit: 10, action: '%' })).toEqual([]);
  });

  it('round-trips scope and outcome as JSON (nested, Vietnamese text, null, numbers), copied', async () => {
    const scope = {
      target: 'civil-registry',
      provinceCode: '79',
      window: { from: '2026-11-01T00:00:00+07:00', to: null },
      types: ['gov.vn.lgsp.dossier.received.v1'],
      note: 'Đối soát lần 2 — xã Bình Sơn',
    };
    const outcome = { state: 'completed', counts: { sent: 12, failed: 0 }, rate: 12.5, confirmed: true };
    const recorded = await log.record(entry({ scope, outcome }));
    scope.types.push('changed after recording');
    outcome.counts.sent = -1;
    const [listed] = await log.list({ limit: 1, after: recorded.id - 1 });
    expect(listed).toEqual(recorded);
    expect(listed!.scope).toEqual({
      target: 'civil-registry',
      provinceCode: '79',
      window: { from: '2026-11-01T00:00:00+07:00', to: null },
      types: ['gov.vn.lgsp.dossier.received.v1'],
      note: 'Đối soát lần 2 — xã Bình Sơn',
    });
    expect(listed!.outcome).toEqual({
      state: 'completed',
      counts: { sent: 12, failed: 0 },
      rate: 12.5,
      confirmed: true,
    });
  });

  it('two logs on the same data share one sequence, also when both record at once', async () => {
    const other = await harness.another();
    const a = await log.record(entry({ actor: 'hub-a' }));
    const b = await other.record(entry({ actor: 'hub-b' }));
    expect(b.id).toBeGreaterThan(a.id);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? log : other).record(entry({ subject: `replay:c-${i}` }))),
    );
    const all = await other.list({ limit: 100 });
    expect(all).toHaveLength(22);
    expect(await log.list({ limit: 100 })).toEqual(all);
    const ids = all.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(22);
    expect(new Set(all.map((e) => e.subject)).size).toBe(21);
  });

  it('refuses an entry without actor, action or subject, or with a scope that is not an object', async () => {
    for (const bad of [
      entry({ actor: '' }),
      entry({ action: '' }),
      entry({ subject: '' }),
      entry({ scope: ['portal'] as unknown as Record<string, unknown> }),
      entry({ outcome: null as unknown as Record<string, unknown> }),
    ]) {
      await expect(log.record(bad)).rejects.toMatchObject({ code: 'malformed' });
    }
    expect(await log.list({ limit: 10 })).toEqual([]);
    await expect(log.list({ limit: 0 })).rejects.toThrow(DomainError);
    await expect(log.list({ limit: 10, after: -1 })).rejects.toMatchObject({ code: 'malformed' });
  });
});
