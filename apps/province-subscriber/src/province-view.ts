/**
 * The province's local view: per dossier, its national status, the last position applied and how
 * many events were applied. Pure: no I/O, no framework.
 */
import type { ProvinceEvent } from './cloudevent-message.js';

/** The event type that carries a dossier's national status code (1–10). */
export const STATUS_CHANGED_TYPE = 'vn.gov.lgsp.dossier.status-changed.v1';

export interface DossierState {
  /** National status code 1–10 of the newest status-changed event; null before the first one. */
  status: number | null;
  /** Global position (`lgsp_position`) of the newest event applied. */
  lastPosition: number;
  /** Stream version (`lgsp_stream_version`) of the newest event applied. */
  streamVersion: number;
  eventCount: number;
  lastEventType: string;
  /** The `ce_id` of every event applied, by `ce_source`: the duplicate filter. */
  seen: ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * Whether the event was applied already: the hub delivers at least once, and a relay restart or a
 * replay sends an event again with the same (`ce_source`, `ce_id`). An event belongs to one dossier,
 * so the dossier's own list of ids decides.
 */
export function isDuplicate(
  dossier: DossierState | undefined,
  event: Pick<ProvinceEvent, 'source' | 'id'>,
): boolean {
  return dossier?.seen.get(event.source)?.has(event.id) ?? false;
}

const statusOf = (event: ProvinceEvent): number | undefined => {
  if (event.type !== STATUS_CHANGED_TYPE || typeof event.data !== 'object' || event.data === null) {
    return undefined;
  }
  const status = (event.data as { status?: unknown }).status;
  return Number.isInteger(status) && (status as number) >= 1 && (status as number) <= 10
    ? (status as number)
    : undefined;
};

/**
 * The dossier's state after one more event (not a duplicate: check {@link isDuplicate} first). Events
 * of a dossier arrive in stream order; one that is older than the newest applied (a partial replay)
 * is counted but changes neither the status nor the last position. Types the view does not know are
 * counted too, so new event types need no change here.
 */
export function evolve(dossier: DossierState | undefined, event: ProvinceEvent): DossierState {
  const seen = new Map(dossier?.seen ?? []);
  seen.set(event.source, new Set([...(seen.get(event.source) ?? []), event.id]));
  const eventCount = (dossier?.eventCount ?? 0) + 1;
  if (dossier !== undefined && event.position <= dossier.lastPosition)
    return { ...dossier, eventCount, seen };
  return {
    status: statusOf(event) ?? dossier?.status ?? null,
    lastPosition: event.position,
    streamVersion: event.streamVersion,
    eventCount,
    lastEventType: event.type,
    seen,
  };
}

export type ApplyResult =
  { outcome: 'applied'; dossier: DossierState } | { outcome: 'duplicate'; dossier: DossierState };

/** `view.json`: the view as it is written to disk. */
export interface ProvinceViewJson {
  province: string;
  /** Since the view was created: events applied, duplicates dropped, messages that could not be read. */
  totals: { applied: number; duplicates: number; rejected: number };
  dossiers: Record<
    string,
    Omit<DossierState, 'seen'> & {
      /** `ce_id`s by `ce_source`. */
      seen: Record<string, string[]>;
    }
  >;
}

/** The view of one province's dossiers, built from its topic. */
export class ProvinceView {
  private readonly dossiers = new Map<string, DossierState>();
  private readonly totals = { applied: 0, duplicates: 0, rejected: 0 };

  constructor(readonly province: string) {}

  /** Applies an event unless it is a duplicate. */
  apply(event: ProvinceEvent): ApplyResult {
    const current = this.dossiers.get(event.dossierCode);
    if (current !== undefined && isDuplicate(current, event)) {
      this.totals.duplicates++;
      return { outcome: 'duplicate', dossier: current };
    }
    const dossier = evolve(current, event);
    this.dossiers.set(event.dossierCode, dossier);
    this.totals.applied++;
    return { outcome: 'applied', dossier };
  }

  /** Counts a message that could not be read as an event. */
  reject(): void {
    this.totals.rejected++;
  }

  dossier(dossierCode: string): DossierState | undefined {
    return this.dossiers.get(dossierCode);
  }

  get dossierCount(): number {
    return this.dossiers.size;
  }

  toJSON(): ProvinceViewJson {
    return {
      province: this.province,
      totals: { ...this.totals },
      dossiers: Object.fromEntries(
        [...this.dossiers].map(([code, { seen, ...rest }]) => [
          code,
          { ...rest, seen: Object.fromEntries([...seen].map(([source, ids]) => [source, [...ids]])) },
        ]),
      ),
    };
  }

  /**
   * The view written by {@link toJSON}.
   * @throws Error naming the first value that does not fit.
   */
  static fromJSON(json: unknown): ProvinceView {
    const fail = (path: string, what: string): never => {
      throw new Error(`view: ${path} must be ${what}`);
    };
    const record = (value: unknown, path: string): Record<string, unknown> =>
      typeof value === 'object' && value !== null && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : fail(path, 'an object');
    const count = (value: unknown, path: string): number =>
      Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : fail(path, 'a count');
    const text = (value: unknown, path: string): string =>
      typeof value === 'string' ? value : fail(path, 'a string');

    const root = record(json, '$');
    const view = new ProvinceView(text(root['province'], '$.province'));
    const totals = record(root['totals'], '$.totals');
    view.totals.applied = count(totals['applied'], '$.totals.applied');
    view.totals.duplicates = count(totals['duplicates'], '$.totals.duplicates');
    view.totals.rejected = count(totals['rejected'], '$.totals.rejected');
    for (const [code, value] of Object.entries(record(root['dossiers'], '$.dossiers'))) {
      const path = `$.dossiers[${JSON.stringify(code)}]`;
      const d = record(value, path);
      const seen = new Map<string, Set<string>>();
      for (const [source, ids] of Object.entries(record(d['seen'], `${path}.seen`))) {
        if (!Array.isArray(ids)) fail(`${path}.seen`, 'arrays of ids by source');
        seen.set(source, new Set((ids as unknown[]).map((id) => text(id, `${path}.seen`))));
      }
      view.dossiers.set(code, {
        status: d['status'] === null ? null : count(d['status'], `${path}.status`),
        lastPosition: count(d['lastPosition'], `${path}.lastPosition`),
        streamVersion: count(d['streamVersion'], `${path}.streamVersion`),
        eventCount: count(d['eventCount'], `${path}.eventCount`),
        lastEventType: text(d['lastEventType'], `${path}.lastEventType`),
        seen,
      });
    }
    return view;
  }
}
