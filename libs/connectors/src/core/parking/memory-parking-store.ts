import {
  NotParkedError,
  parkedEntry,
  resolutionEntry,
  type ListParkedQuery,
  type ParkRequest,
  type ParkedItem,
  type ParkingHistoryEntry,
  type ParkingResolution,
  type ParkingStore,
  type SkipResolution,
} from './parking-store.js';

/** Parking in memory, for one process's tests and simulations. Passes the same contract suite. */
export class InMemoryParkingStore implements ParkingStore {
  private readonly parked = new Map<string, ParkedItem>();
  private readonly entries: ParkingHistoryEntry[] = [];
  private nextId = 1;

  async park(target: string, dossier: string, request: ParkRequest): Promise<ParkedItem> {
    const existing = this.parked.get(key(target, dossier));
    if (existing) return { ...existing };
    const item: ParkedItem = {
      ...request,
      id: this.nextId++,
      target,
      dossier,
      lastPosition: request.firstPosition,
    };
    this.parked.set(key(target, dossier), item);
    this.entries.push(parkedEntry(item));
    return { ...item };
  }

  async isParked(target: string, dossier: string): Promise<boolean> {
    return this.parked.has(key(target, dossier));
  }

  async hold(target: string, dossier: string, position: number): Promise<boolean> {
    const item = this.parked.get(key(target, dossier));
    if (!item) return false;
    item.lastPosition = Math.max(item.lastPosition, position);
    return true;
  }

  async get(target: string, dossier: string): Promise<ParkedItem | undefined> {
    const item = this.parked.get(key(target, dossier));
    return item && { ...item };
  }

  async list(query: ListParkedQuery): Promise<ParkedItem[]> {
    return [...this.parked.values()]
      .filter((i) => (query.target === undefined || i.target === query.target) && i.id > (query.after ?? 0))
      .sort((a, b) => a.id - b.id)
      .slice(0, query.limit)
      .map((i) => ({ ...i }));
  }

  async retry(target: string, dossier: string, resolution: ParkingResolution): Promise<ParkingHistoryEntry> {
    return this.resolve(target, dossier, 'retried', resolution);
  }

  async skip(target: string, dossier: string, resolution: SkipResolution): Promise<ParkingHistoryEntry> {
    return this.resolve(target, dossier, 'skipped', resolution);
  }

  async history(target: string, dossier: string): Promise<ParkingHistoryEntry[]> {
    return this.entries.filter((e) => e.target === target && e.dossier === dossier).map((e) => ({ ...e }));
  }

  private resolve(
    target: string,
    dossier: string,
    action: 'retried' | 'skipped',
    resolution: SkipResolution,
  ): ParkingHistoryEntry {
    const item = this.parked.get(key(target, dossier));
    if (!item) throw new NotParkedError(target, dossier);
    const entry = resolutionEntry(item, action, resolution);
    this.parked.delete(key(target, dossier));
    this.entries.push(entry);
    return { ...entry };
  }
}

const key = (target: string, dossier: string) => JSON.stringify([target, dossier]);
