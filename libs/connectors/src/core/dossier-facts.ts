import type { DossierStatusChanged, DossierSubmitted } from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';

/**
 * What a target needs beyond the `DossierView` (#lgsp/projections), which by design keeps no citizen ID, no summary
 * and only the sum of the fees: taken from the dossier's own events by {@link dossierFacts}.
 */
export interface DossierFacts {
  applicantIdNumber?: string;
  summary?: string;
  fees: readonly { code?: string; name: string; amount: number }[];
  /** When the status last became 10 (result returned). */
  returnedAt?: string;
  /** One per status change that names its handler, in stream order. */
  progress: readonly {
    status: number;
    changedAt: string;
    handler: { name: string; title?: string; department?: string };
    note?: string;
  }[];
}

/**
 * Folds a dossier's events (in stream order) into its {@link DossierFacts}. A status change without
 * a handler makes no progress record, since the targets require one. Pure.
 */
export function dossierFacts(events: readonly Pick<StoredEvent, 'type' | 'data'>[]): DossierFacts {
  const facts: { -readonly [K in keyof DossierFacts]: DossierFacts[K] } = { fees: [], progress: [] };
  for (const e of events) {
    if (e.type === 'vn.gov.lgsp.dossier.submitted.v1') {
      const d = e.data as DossierSubmitted;
      facts.applicantIdNumber = d.applicant.idNumber;
      if (d.summary === undefined) delete facts.summary;
      else facts.summary = d.summary;
      facts.fees = d.fees ?? [];
    } else if (e.type === 'vn.gov.lgsp.dossier.status-changed.v1') {
      const d = e.data as DossierStatusChanged;
      if (d.status === 10) facts.returnedAt = d.changedAt;
      else delete facts.returnedAt;
      if (d.handler !== undefined) {
        facts.progress = [
          ...facts.progress,
          {
            status: d.status,
            changedAt: d.changedAt,
            handler: d.handler,
            ...(d.note === undefined ? {} : { note: d.note }),
          },
        ];
      }
    }
  }
  return facts;
}
