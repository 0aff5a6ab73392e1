import type { StoredEvent } from '#lgsp/event-store';
import type { OwnCheckpoint, Page, Subscriber, SubscriberFilter } from '#lgsp/subscriptions';
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

/** The subscriber name of {@link DossierProjection}. */
export const DOSSIER_PROJECTION_NAME = 'projection.dossiers';

/**
 * Keeps the dossier views up to date: a subscriber over the dossier, payment and civil-status events.
 * Its checkpoint lives in the repository, saved in the same transaction as each batch's views.
 */
export class DossierProjection implements Subscriber {
  readonly name = DOSSIER_PROJECTION_NAME;
  readonly filter: SubscriberFilter = { types: DOSSIER_VIEW_EVENT_TYPES };
  readonly batchSize: number;
  readonly coalesceMs: number;
  readonly ownCheckpoint: OwnCheckpoint;

  constructor(
    private readonly repository: DossierViewRepository,
    options: DossierProjectionOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.coalesceMs = options.coalesceMs ?? 50;
    this.ownCheckpoint = { load: () => repository.checkpoint() };
  }

  async handle(events: readonly StoredEvent[], page: Page): Promise<void> {
    await this.repository.applyBatch(events, { checkpoint: page.checkpoint });
  }
}
