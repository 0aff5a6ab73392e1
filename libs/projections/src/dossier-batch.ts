import type { StoredEvent } from '#lgsp/event-store';
import { dossierCodeOf, evolveDossier, type DossierView } from './dossier-view.js';

/** A dossier's view as a repository stores it, with the position of the last event folded into it. */
export interface StoredDossierView {
  view: DossierView;
  lastPosition: number;
}

/** What {@link foldBatch} made of a batch. */
export interface FoldedBatch {
  /** The views the batch changed, by dossier code, to be written. */
  changed: Map<string, StoredDossierView>;
  /** Events folded into a view. */
  applied: number;
  /** Events already reflected in their view (redelivery) or about no dossier. */
  skipped: number;
}

/**
 * The fold every {@link DossierViewRepository} applies to a batch: events (in position order) go into
 * their dossier's view, except those at or before the position the stored view already reflects.
 * `stored` is asked once per dossier, the first time the batch names it.
 * @throws whatever `evolveDossier` throws for a malformed event; the caller then writes nothing.
 */
export function foldBatch(
  events: readonly StoredEvent[],
  stored: (dossierCode: string) => StoredDossierView | undefined,
): FoldedBatch {
  const current = new Map<string, StoredDossierView | undefined>();
  const changed = new Map<string, StoredDossierView>();
  let applied = 0;
  let skipped = 0;
  for (const event of events) {
    const code = dossierCodeOf(event);
    if (code === undefined) {
      skipped += 1;
      continue;
    }
    let entry = current.get(code);
    if (entry === undefined && !current.has(code)) {
      entry = stored(code);
      current.set(code, entry);
    }
    if (entry !== undefined && event.position <= entry.lastPosition) {
      skipped += 1;
      continue;
    }
    entry = { view: evolveDossier(entry?.view, event), lastPosition: event.position };
    current.set(code, entry);
    changed.set(code, entry);
    applied += 1;
  }
  return { changed, applied, skipped };
}

/** @throws RangeError unless `checkpoint` is absent or a non-negative integer. */
export function assertCheckpoint(checkpoint: number | undefined): void {
  if (checkpoint !== undefined && (!Number.isSafeInteger(checkpoint) || checkpoint < 0)) {
    throw new RangeError(`checkpoint must be a non-negative integer, got ${checkpoint}`);
  }
}
