import {
  applicantOf,
  citizenIdOf,
  toNewestVersion,
  type DossierStatusChanged,
  type DossierSubmittedV2,
} from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';

/**
 * What a target needs beyond the `DossierView` (#lgsp/projections), which by design keeps no citizen ID, no summary
 * and only the sum of the fees: taken from the dossier's own events by {@link dossierFacts}.
 */
export interface DossierFacts {
  /** The applicant's citizen ID (12 digits, else a legacy 9-digit one), for targets that take one. */
  applicantIdNumber?: string;
  /**
   * Every citizen and legacy ID among the applicant's documents, 12-digit ones first (the portal's
   * `DinhDanhCHS`); passports and VNeID accounts have no place at the targets.
   */
  applicantIds?: readonly string[];
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

/** The dossier's submission at the newest version (`dossier.submitted.v2`), if `e` is one of any version. */
export function submissionData(e: Pick<StoredEvent, 'type' | 'data'>): DossierSubmittedV2 | undefined {
  if (!e.type.startsWith('vn.gov.lgsp.dossier.submitted.')) return undefined;
  const newest = toNewestVersion(e);
  return newest.type === 'vn.gov.lgsp.dossier.submitted.v2' ? (newest.data as DossierSubmittedV2) : undefined;
}

/**
 * Folds a dossier's events (in stream order) into its {@link DossierFacts}; a submission of any version
 * is read at the newest. A status change without a handler makes no progress record, since the targets
 * require one. Pure.
 * @throws EventConversionError for a submission that cannot be read at the newest version.
 */
export function dossierFacts(events: readonly Pick<StoredEvent, 'type' | 'data'>[]): DossierFacts {
  const facts: { -readonly [K in keyof DossierFacts]: DossierFacts[K] } = { fees: [], progress: [] };
  for (const e of events) {
    const d = submissionData(e);
    if (d !== undefined) {
      const applicant = applicantOf(d);
      const id = citizenIdOf(applicant);
      if (id === undefined) delete facts.applicantIdNumber;
      else facts.applicantIdNumber = id;
      facts.applicantIds = applicantIds(applicant?.documents);
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

/**
 * The citizen IDs among a person's documents (a VNeID account's number is one), then the legacy ones;
 * an erased list reads as itself.
 */
function applicantIds(documents: unknown): string[] {
  if (typeof documents === 'string') return [documents];
  if (!Array.isArray(documents)) return [];
  const of = (kind: string) =>
    (documents as { kind?: unknown; number?: unknown }[]).flatMap((doc) =>
      doc.kind === kind && typeof doc.number === 'string' ? [doc.number] : [],
    );
  return [...new Set([...of('citizen-id'), ...of('vneid'), ...of('legacy-id')])];
}
