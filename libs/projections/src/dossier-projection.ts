import type { StoredEvent } from '#lgsp/event-store';
import type { Subscriber, SubscriberFilter } from '#lgsp/subscriptions';
import { DOSSIER_VIEW_EVENT_TYPES } from './dossier-view.js';
import type { DossierViewRepository } from './dossier-view-repository.js';

/** Options of {@link DossierProjection}. */
export interface DossierProjectionOptions {
  /**
   * Events read per batch.
   * @defaultValue 500
   */
  batchSize?: number;
  /**
   * Gathers the commits of a burst into one batch; see `Subscriber.coalesceMs`.
   * @defaultValue 50
   */
  coalesceMs?: number;
}

/** Keeps the dossier views up to date: a subscriber over the dossier, payment and civil-status events. */
export class DossierProjection implements Subscriber {
  readonly name = 'projection.dossiers';
  readonly filter: SubscriberFilter = { types: DOSSIER_VIEW_EVENT_TYPES };
  readonly batchSize: number;
  readonly coalesceMs: number;

  constructor(
    private readonly repository: DossierViewRepository,
    options: DossierProjectionOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.coalesceMs = options.coalesceMs ?? 50;
  }

  async handle(events: readonly StoredEvent[]): Promise<void> {
    await this.repository.applyBatch(events);
  }
}
