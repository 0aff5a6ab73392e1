import type { ReplayCommand, ReplayRun, ReplayStore } from './model.js';
import { applyCommand, unknownRun } from './store-rules.js';

/** Runs in memory, for tests and a hub without a durable store. */
export class InMemoryReplayStore implements ReplayStore {
  private readonly runs = new Map<string, { run: ReplayRun; items: string[]; seq: number }>();
  private seq = 0;

  async create(run: ReplayRun, items: readonly string[]): Promise<void> {
    this.runs.set(run.id, { run: { ...run }, items: [...items], seq: ++this.seq });
  }

  async get(id: string): Promise<ReplayRun | undefined> {
    const found = this.runs.get(id);
    return found && { ...found.run };
  }

  async list(query: { limit: number; after?: string }): Promise<ReplayRun[]> {
    const before = query.after === undefined ? Infinity : (this.runs.get(query.after)?.seq ?? 0);
    return [...this.runs.values()]
      .filter((r) => r.seq < before)
      .sort((a, b) => b.seq - a.seq)
      .slice(0, query.limit)
      .map((r) => ({ ...r.run }));
  }

  async items(id: string, from: number, limit: number): Promise<string[]> {
    return this.runs.get(id)?.items.slice(from, from + limit) ?? [];
  }

  async advance(id: string, done: number, failed: number, at: string): Promise<ReplayRun> {
    const found = this.runs.get(id);
    if (!found) throw unknownRun(id);
    if (found.run.state === 'running') found.run = { ...found.run, done, failed, updatedAt: at };
    return { ...found.run };
  }

  async transition(id: string, command: ReplayCommand, at: string, error?: string): Promise<ReplayRun> {
    const found = this.runs.get(id);
    if (!found) throw unknownRun(id);
    found.run = applyCommand(found.run, command, at, error);
    return { ...found.run };
  }

  async running(): Promise<ReplayRun[]> {
    return [...this.runs.values()]
      .filter((r) => r.run.state === 'running')
      .sort((a, b) => a.seq - b.seq)
      .map((r) => ({ ...r.run }));
  }
}
