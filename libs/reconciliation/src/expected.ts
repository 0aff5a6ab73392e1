import { EventConversionError, toNewestVersion } from '#lgsp/contracts';
import type { EventStore, StoredEvent } from '#lgsp/event-store';
import { DOSSIER_VIEW_EVENT_TYPES, dossierCodeOf, evolveDossier, type DossierView } from '#lgsp/projections';
import type { ExpectedDossier, ReconciliationScope } from './model.js';

export interface ExpectedDossiersOptions {
  /**
   * Events read per page of the global log.
   * @defaultValue 10000
   */
  pageSize?: number;
  /** Read up to this position (default: the head when the scan starts). */
  upTo?: number;
  signal?: AbortSignal;
  /** Called after each page with the number of events read so far. */
  onPage?: (eventsRead: number) => void;
}

export interface ExpectedDossiers {
  dossiers: Map<string, ExpectedDossier>;
  /** The log position the dossiers reflect. */
  logPosition: number;
}

/**
 * The dossiers of `scope` as the log implies them: one pass over the global log in pages (never one
 * read per stream, so 100,000 dossiers cost a few dozen reads), folding each dossier's view events
 * with `evolveDossier`. The scope is judged on the folded view: its province and commune, the
 * `recordedAt` of its last event (`from` inclusive, `to` exclusive) and the dossier list. The scan
 * stops at the head seen when it starts, so the result is one consistent position of the log.
 */
export async function expectedDossiers(
  store: Pick<EventStore, 'readAll' | 'head'>,
  scope: ReconciliationScope,
  options: ExpectedDossiersOptions = {},
): Promise<ExpectedDossiers> {
  const pageSize = options.pageSize ?? 10_000;
  const upTo = options.upTo ?? (await store.head()).position;
  const listed = scope.dossiers === undefined ? undefined : new Set(scope.dossiers);
  const folded = new Map<string, { view: DossierView; events: StoredEvent[] }>();
  let after = 0;
  let read = 0;
  while (after < upTo) {
    options.signal?.throwIfAborted();
    const page = await store.readAll({ after, limit: pageSize, types: DOSSIER_VIEW_EVENT_TYPES });
    if (page.length === 0) break;
    for (const event of page) {
      if (event.position > upTo) break;
      const code = dossierCodeOf(event);
      if (code === undefined || (listed !== undefined && !listed.has(code))) continue;
      // As the dossier projection does: an event that cannot be read at the newest version is left out
      // (it is counted and parked where it is consumed), so one bad event does not fail the whole run.
      if (!readable(event)) continue;
      const entry = folded.get(code);
      if (entry === undefined) folded.set(code, { view: evolveDossier(undefined, event), events: [event] });
      else {
        entry.view = evolveDossier(entry.view, event);
        entry.events.push(event);
      }
    }
    read += page.length;
    options.onPage?.(read);
    after = page.at(-1)!.position;
  }
  const dossiers = new Map<string, ExpectedDossier>();
  for (const [dossier, { view, events }] of folded) {
    if (inScope(view, scope, listed)) dossiers.set(dossier, { dossier, view, events });
  }
  return { dossiers, logPosition: upTo };
}

/** Whether a folded view is in `scope`; `listed` is the scope's dossier list as a set. */
export function inScope(
  view: DossierView,
  scope: ReconciliationScope,
  listed: ReadonlySet<string> | undefined = scope.dossiers && new Set(scope.dossiers),
): boolean {
  if (scope.provinceCode !== undefined && view.provinceCode !== scope.provinceCode) return false;
  if (scope.communeCode !== undefined && view.communeCode !== scope.communeCode) return false;
  if (listed !== undefined && !listed.has(view.dossierCode)) return false;
  const last = Date.parse(view.lastChangedAt);
  if (scope.from !== undefined && last < Date.parse(scope.from)) return false;
  if (scope.to !== undefined && last >= Date.parse(scope.to)) return false;
  return true;
}

/** Whether the event reads at the newest version of its type (see `toNewestVersion`). */
function readable(event: StoredEvent): boolean {
  try {
    toNewestVersion(event);
    return true;
  } catch (err) {
    if (err instanceof EventConversionError) return false;
    throw err;
  }
}
