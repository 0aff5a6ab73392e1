import type {
  ListQuery,
  Mismatch,
  MismatchCategory,
  ReconciliationRun,
  ReconciliationStore,
} from '../model.js';

/**
 * Runs and mismatches in memory, for tests and a hub without a durable store. Values are copied in
 * and out, and `expected`/`actual` go through JSON like the databases' columns, so callers see what
 * a durable store would give back.
 */
export class InMemoryReconciliationStore implements ReconciliationStore {
  /** In creation order; `list` walks it backwards. */
  private readonly runs = new Map<string, ReconciliationRun>();
  private readonly found = new Map<string, (Mismatch & { seq: number })[]>();
  private seq = 0;

  async create(run: ReconciliationRun): Promise<void> {
    if (this.runs.has(run.id)) throw new Error(`reconciliation run ${run.id} exists already`);
    this.runs.set(run.id, structuredClone(run));
    this.found.set(run.id, []);
  }

  async update(run: ReconciliationRun): Promise<void> {
    const current = this.runs.get(run.id);
    if (!current) return;
    const { id, target, scope, by, startedAt } = current;
    this.runs.set(run.id, { ...structuredClone(run), id, target, scope, by, startedAt });
  }

  async addMismatches(runId: string, mismatches: readonly Mismatch[]): Promise<void> {
    const list = this.found.get(runId) ?? [];
    this.found.set(runId, list);
    for (const m of mismatches) {
      list.push({
        seq: ++this.seq,
        dossier: m.dossier,
        system: m.system,
        field: m.field,
        expected: JSON.parse(JSON.stringify(m.expected ?? null)),
        actual: JSON.parse(JSON.stringify(m.actual ?? null)),
        category: m.category,
        detectedAt: m.detectedAt,
      });
    }
  }

  async get(id: string): Promise<ReconciliationRun | undefined> {
    const run = this.runs.get(id);
    return run && structuredClone(run);
  }

  async list(query: ListQuery): Promise<ReconciliationRun[]> {
    const newestFirst = [...this.runs.values()].reverse();
    const start = query.after === undefined ? 0 : newestFirst.findIndex((r) => r.id === query.after) + 1;
    if (start === 0 && query.after !== undefined) return [];
    return newestFirst.slice(start, start + query.limit).map((r) => structuredClone(r));
  }

  async mismatches(
    runId: string,
    query: { limit: number; after?: number; category?: MismatchCategory },
  ): Promise<(Mismatch & { seq: number })[]> {
    const after = query.after ?? 0;
    return (this.found.get(runId) ?? [])
      .filter((m) => m.seq > after && (query.category === undefined || m.category === query.category))
      .slice(0, query.limit)
      .map((m) => structuredClone(m));
  }
}
