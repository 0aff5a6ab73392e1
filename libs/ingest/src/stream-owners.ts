import { GenerationCache, type EventStore, type StoredEvent } from '#lgsp/event-store';
import type { StreamOwner } from '#lgsp/security';

export const TRANSFERRED_TYPE = 'vn.gov.lgsp.dossier.transferred.v1';

/** A stream as ownership sees it: its version and, unless it is empty, its owner. */
export interface StreamState {
  version: number;
  owner: StreamOwner | undefined;
}

export const EMPTY_STREAM: StreamState = { version: 0, owner: undefined };

/** What ownership reads of an event: its type, data and the codes it names. */
export interface OwnershipFacts {
  type: string;
  data?: unknown;
  provinceCode?: string | undefined;
  communeCode?: string | undefined;
}

/**
 * The owner after one more event: the first event's commune and province own the stream; a
 * `dossier.transferred` naming `toCommuneCode` and `toProvinceCode` hands it to that commune. An event
 * without codes (none of the catalogue's) makes an owner no province or commune client covers.
 */
export function evolveOwner(owner: StreamOwner | undefined, event: OwnershipFacts): StreamOwner {
  if (owner === undefined) {
    return { provinceCode: event.provinceCode ?? '', communeCode: event.communeCode ?? '' };
  }
  if (event.type === TRANSFERRED_TYPE) {
    const data = event.data as { toProvinceCode?: unknown; toCommuneCode?: unknown } | null | undefined;
    if (typeof data?.toProvinceCode === 'string' && typeof data.toCommuneCode === 'string') {
      return { provinceCode: data.toProvinceCode, communeCode: data.toCommuneCode };
    }
  }
  return owner;
}

const PAGE = 1000;

/**
 * The owner and version of each dossier stream, folded from the stream and kept in a bounded cache.
 * What it knows may be behind another writer (another hub process); ingest appends with the version it
 * checked ownership at, so a stale entry shows up as a version conflict, and the entry is refreshed.
 */
export class StreamOwners {
  private readonly cache: GenerationCache<StreamState>;

  constructor(
    private readonly store: Pick<EventStore, 'readStream'>,
    /** Streams kept (the least recently used go first). @defaultValue 100000 */
    maxEntries = 100_000,
  ) {
    this.cache = new GenerationCache(maxEntries);
  }

  /** The state as last known here, without reading the store; undefined when this stream is not cached. */
  cached(stream: string): StreamState | undefined {
    return this.cache.get(stream);
  }

  /** The state as last known here, read from the store when this stream is not cached. */
  async known(stream: string): Promise<StreamState> {
    return this.cache.get(stream) ?? this.refresh(stream);
  }

  /** The state at the stream's head: the events appended since the cached version are read and folded. */
  async refresh(stream: string): Promise<StreamState> {
    let state = this.cache.get(stream) ?? EMPTY_STREAM;
    for (;;) {
      const events: StoredEvent[] = await this.store.readStream(stream, {
        fromVersion: state.version + 1,
        limit: PAGE,
      });
      for (const e of events) state = { version: e.streamVersion, owner: evolveOwner(state.owner, e) };
      if (events.length < PAGE) break;
    }
    // An empty stream is not kept: a reader naming streams that do not exist must not evict real ones.
    if (state.version > 0) this.remember(stream, state);
    return this.cache.get(stream) ?? state;
  }

  /** Records a state this process saw committed; an older one than the cached never replaces it. */
  remember(stream: string, state: StreamState): void {
    const cached = this.cache.get(stream);
    if (cached === undefined || cached.version <= state.version) this.cache.set(stream, state);
  }
}
