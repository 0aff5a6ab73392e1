import { EventConversionError, toNewestVersion } from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import { silentLogger, type Logger } from '#lgsp/observability';
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
  /** Told of each event that cannot be read at the newest version (metrics). */
  onUnreadable?: (event: StoredEvent, error: EventConversionError) => void;
  logger?: Logger;
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
  private readonly onUnreadable: DossierProjectionOptions['onUnreadable'];
  private readonly logger: Logger;

  constructor(
    private readonly repository: DossierViewRepository,
    options: DossierProjectionOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.coalesceMs = options.coalesceMs ?? 50;
    this.ownCheckpoint = { load: () => repository.checkpoint() };
    this.onUnreadable = options.onUnreadable;
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Folds the batch, each event read at its newest version. One that cannot be (an upcaster's bug, data
   * stored before its schema held) is left out of its view, logged with its position and counted: the
   * rest of the log goes on; a fixed upcaster and a rebuild of the view take it in.
   */
  async handle(events: readonly StoredEvent[], page: Page): Promise<void> {
    const readable: StoredEvent[] = [];
    for (const event of events) {
      try {
        readable.push(toNewestVersion(event));
      } catch (err) {
        if (!(err instanceof EventConversionError)) throw err;
        this.logger.error(
          {
            subscriber: this.name,
            position: event.position,
            stream: event.stream,
            type: event.type,
            err: err.message,
          },
          'event left out of the dossier view: it cannot be read at the newest version',
        );
        this.onUnreadable?.(event, err);
      }
    }
    await this.repository.applyBatch(readable, { checkpoint: page.checkpoint });
  }
}
