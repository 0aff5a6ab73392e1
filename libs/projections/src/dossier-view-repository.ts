import type { StoredEvent } from '#lgsp/event-store';
import type { DossierView } from './dossier-view.js';

/** The component name the dossier views are versioned under in `schema_version`, in every adapter. */
export const DOSSIER_VIEWS_COMPONENT = 'projection.dossiers';

/** What one {@link DossierViewRepository.applyBatch} call did. */
export interface ApplyBatchResult {
  /** Events folded into a view. */
  applied: number;
  /** Events already reflected in their view (redelivery) or about no dossier. */
  skipped: number;
  /** Dossiers whose view was written. */
  dossiers: number;
}

/** Options of {@link DossierViewRepository.applyBatch}. */
export interface ApplyBatchOptions {
  /** The log position the views reflect once the batch is applied, saved with the views (all or nothing). */
  checkpoint?: number;
}

/** Where dossier views live. Implementations apply a batch atomically and idempotently. */
export interface DossierViewRepository {
  get(dossierCode: string): Promise<DossierView | undefined>;
  /**
   * Folds events (in position order) into their dossiers' views, all or nothing. An event at or before
   * the position a view already reflects is skipped.
   */
  applyBatch(events: readonly StoredEvent[], options?: ApplyBatchOptions): Promise<ApplyBatchResult>;
  /** The last checkpoint saved by {@link DossierViewRepository.applyBatch}, 0 when none was. */
  checkpoint(): Promise<number>;
}
