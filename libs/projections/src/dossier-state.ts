import type { EventStore, StoredEvent } from '#lgsp/event-store';
import { evolveDossier, isDossierViewEvent, type DossierView } from './dossier-view.js';

/** The stream of a dossier's events is `dossier-<dossierCode>`. */
export const DOSSIER_STREAM_PREFIX = 'dossier-';

/** A dossier's state as of one event of its stream, folded from the stream with {@link evolveDossier}. */
export interface DossierState {
  dossier: string;
  /** The projected view as of the last event (the same fold as the dossier projection). */
  view: DossierView;
  /** The dossier's events (of the view's types) from the first through that event, in order. */
  events: StoredEvent[];
}

export interface ReadDossierStateOptions {
  /** Fold only the events up to this stream version (the whole stream when omitted). */
  throughVersion?: number;
  /**
   * A state read before: only the events after it are read, folded onto its view and added to its
   * events; it is returned as it is when the stream has nothing later.
   */
  after?: DossierState;
  /**
   * Events per page read.
   * @defaultValue 1000
   */
  pageSize?: number;
}

/**
 * Reads a dossier's stream page by page and folds the events the view understands with
 * {@link evolveDossier}: the state connectors send and compare, and the one the dossier projection
 * holds. Undefined when the stream (through `throughVersion`) has no such event.
 */
export async function readDossierState(
  store: Pick<EventStore, 'readStream'>,
  dossier: string,
  options: ReadDossierStateOptions = {},
): Promise<DossierState | undefined> {
  const { after, throughVersion = Number.MAX_SAFE_INTEGER, pageSize = 1000 } = options;
  const stream = `${DOSSIER_STREAM_PREFIX}${dossier}`;
  let view = after?.view;
  const events: StoredEvent[] = [];
  for (let from = after === undefined ? 1 : after.view.streamVersion + 1; from <= throughVersion;) {
    const limit = Math.min(pageSize, throughVersion - from + 1);
    const page = await store.readStream(stream, { fromVersion: from, limit });
    for (const e of page) {
      if (e.streamVersion > throughVersion || !isDossierViewEvent(e)) continue;
      view = evolveDossier(view, e);
      events.push(e);
    }
    const last = page.at(-1);
    if (last === undefined || page.length < limit) break;
    from = last.streamVersion + 1;
  }
  if (after !== undefined && events.length === 0) return after;
  if (view === undefined) return undefined;
  return { dossier, view, events: after === undefined ? events : [...after.events, ...events] };
}
