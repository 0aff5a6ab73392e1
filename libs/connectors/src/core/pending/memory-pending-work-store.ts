import type { PendingItem, PendingWorkStore } from './pending-work-store.js';

/** A {@link PendingWorkStore} in memory, for tests and single-run tools: nothing survives a restart. */
export class InMemoryPendingWorkStore implements PendingWorkStore {
  private readonly items = new Map<string, PendingItem>();

  async schedule(item: Omit<PendingItem, 'attempts'> & { attempts?: number }): Promise<boolean> {
    const id = keyOf(item.target, item.key);
    if (this.items.has(id)) return false;
    this.items.set(id, { ...item, attempts: item.attempts ?? 0, payload: clone(item.payload) });
    return true;
  }

  async due(target: string, now: number, limit: number): Promise<PendingItem[]> {
    return [...this.items.values()]
      .filter((i) => i.target === target && i.dueAt <= now)
      .sort((a, b) => a.dueAt - b.dueAt || a.key.localeCompare(b.key))
      .slice(0, limit)
      .map((i) => ({ ...i, payload: clone(i.payload) }));
  }

  async reschedule(
    target: string,
    key: string,
    dueAt: number,
    attempts: number,
    payload?: unknown,
  ): Promise<void> {
    const item = this.items.get(keyOf(target, key));
    if (item === undefined) return;
    item.dueAt = dueAt;
    item.attempts = attempts;
    if (payload !== undefined) item.payload = clone(payload);
  }

  async complete(target: string, key: string): Promise<void> {
    this.items.delete(keyOf(target, key));
  }

  async get(target: string, key: string): Promise<PendingItem | undefined> {
    const item = this.items.get(keyOf(target, key));
    return item === undefined ? undefined : { ...item, payload: clone(item.payload) };
  }

  async count(target: string): Promise<number> {
    let n = 0;
    for (const i of this.items.values()) if (i.target === target) n++;
    return n;
  }
}

const keyOf = (target: string, key: string): string => `${target}\u0000${key}`;
const clone = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
