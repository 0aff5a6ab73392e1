import { DomainError } from '#lgsp/contracts';
import { maskIdNumbers } from '#lgsp/observability';
import { PERSONAL_FIELDS } from '../personal-fields.js';

/** The component name of the erasure tables in `schema_version`. */
export const ERASURES_COMPONENT = 'personal-data-erasures';

/** The CloudEvents `source` of the hub's `person.erased` events. */
export const ERASURE_SOURCE = '/lgsp-hub/privacy';

/** `requested` → `erased` (the subject's keys destroyed, every notice appended) or `refused` (a legal basis cited). */
export type ErasureState = 'requested' | 'erased' | 'refused';

export const ERASURE_TRANSITIONS: Readonly<Record<ErasureState, readonly ErasureState[]>> = {
  requested: ['erased', 'refused'],
  erased: [],
  refused: [],
};

/** When the request must be answered and completed (Decree 356/2025), as RFC 3339 UTC instants. */
export interface ErasureDeadlines {
  /** The end (Vietnam time) of the n-th working day after the request's day. */
  acknowledgeBy: string;
  /** The request's time plus the completion period, in days. */
  completeBy: string;
  /** Processors or third parties held copies when it was asked (connectors, webhooks, a Kafka relay): the longer period. */
  thirdParties: boolean;
}

/** A dossier procedure a state agency keeps by law, and the basis a refusal cites. */
export interface ErasureExemption {
  procedure: string;
  basis: string;
}

/** What an approved erasure did. */
export interface ErasureOutcome {
  /** Keys of the subject destroyed (every key it ever had). */
  keysDestroyed: number;
  /** Dossiers of the subject (their working-copy keys destroyed too). */
  dossiers: number;
  /** `person.erased` events appended (one per dossier where the subject has a role). */
  notices: number;
}

/**
 * One erasure request as stored: never the subject's identifier in clear, only its reference (a keyed
 * hash) and a masked form.
 */
export interface ErasureRecord {
  id: string;
  state: ErasureState;
  /** keys.ref(subjectId). */
  subjectRef: string;
  /** The identifier masked: `*********234` for a citizen ID; a surrogate (`dossier:<code>:<role>`) as it is. */
  subject: string;
  /** The client (name, as the audit log names actors) who asked. */
  requestedBy: string;
  requestedAt: string;
  note?: string;
  deadlines: ErasureDeadlines;
  exemptions: ErasureExemption[];
  decidedBy?: string;
  decidedAt?: string;
  refusal?: { basis: string; note?: string };
  outcome?: ErasureOutcome;
}

/** A request as the API shows it: with its deadlines checked against the clock at read time. */
export interface ErasureView extends ErasureRecord {
  overdue: { acknowledge: boolean; complete: boolean };
}

/** Deadline settings (`privacy.erasure`). */
export interface ErasureDeadlineSettings {
  acknowledgeWorkingDays: number;
  completeDays: number;
  completeDaysWithThirdParties: number;
  /** YYYY-MM-DD, Vietnam time. */
  holidays: readonly string[];
}

/** The most characters of a refusal's basis and of a note. */
export const MAX_BASIS_LENGTH = 1000;
export const MAX_NOTE_LENGTH = 1000;

const VIETNAM_OFFSET_MS = 7 * 3600_000;
const DAY_MS = 24 * 3600_000;

/** The instant `n` working days after `requestedAt`'s day ends (Vietnam time; weekends and `holidays` skipped). */
export function workingDaysAfter(requestedAt: number, n: number, holidays: readonly string[]): number {
  const skip = new Set(holidays);
  // Midnight (Vietnam time) starting the request's day, as a UTC epoch shifted into local time.
  let local = Math.floor((requestedAt + VIETNAM_OFFSET_MS) / DAY_MS) * DAY_MS;
  for (let counted = 0; counted < n;) {
    local += DAY_MS;
    const date = new Date(local);
    const weekday = date.getUTCDay();
    if (weekday === 0 || weekday === 6 || skip.has(date.toISOString().slice(0, 10))) continue;
    counted++;
  }
  return local + DAY_MS - 1 - VIETNAM_OFFSET_MS;
}

/** The deadlines of a request made at `requestedAt`. */
export function erasureDeadlines(
  requestedAt: number,
  thirdParties: boolean,
  settings: ErasureDeadlineSettings,
): ErasureDeadlines {
  const days = thirdParties ? settings.completeDaysWithThirdParties : settings.completeDays;
  return {
    acknowledgeBy: new Date(
      workingDaysAfter(requestedAt, settings.acknowledgeWorkingDays, settings.holidays),
    ).toISOString(),
    completeBy: new Date(requestedAt + days * DAY_MS).toISOString(),
    thirdParties,
  };
}

/** The request with its overdue flags at `now`: a deadline passed while it is still undecided. */
export function erasureView(record: ErasureRecord, now: number): ErasureView {
  const open = record.state === 'requested';
  return {
    ...record,
    overdue: {
      acknowledge: open && now > Date.parse(record.deadlines.acknowledgeBy),
      complete: open && now > Date.parse(record.deadlines.completeBy),
    },
  };
}

/**
 * The roles a surrogate subject may name (those of {@link PERSONAL_FIELDS}, and `co-applicant` of a
 * `dossier.submitted.v2` list, which a surrogate names with its place: `co-applicant-2`).
 */
export const SUBJECT_ROLES: readonly string[] = [
  ...new Set([
    ...Object.values(PERSONAL_FIELDS).flatMap((specs) => specs.map((s) => s.role)),
    'co-applicant',
  ]),
];

const CITIZEN_ID = /^(?:[0-9]{12}|[0-9]{9})$/;
const SURROGATE = /^dossier:([A-Za-z0-9._-]{1,80}):([a-z][a-z-]{0,49}?)(?:-[0-9]{1,2})?$/;

/**
 * Checks an erasure's subject: a citizen ID (12 or 9 digits) or a surrogate `dossier:<dossierCode>:<role>`;
 * returns its masked form.
 * @throws DomainError `invalid` (pointer `/subjectId`), whose message does not repeat the value.
 */
export function checkSubjectId(subjectId: unknown): string {
  if (typeof subjectId === 'string') {
    if (CITIZEN_ID.test(subjectId)) return maskIdNumbers(subjectId);
    const surrogate = SURROGATE.exec(subjectId);
    if (surrogate !== null && SUBJECT_ROLES.includes(surrogate[2]!)) return subjectId;
  }
  throw new DomainError('invalid', 'the request body is not valid', [
    {
      pointer: '/subjectId',
      message: `must be a citizen ID (12 or 9 digits) or dossier:<dossierCode>:<role> (role ${SUBJECT_ROLES.join(', ')})`,
    },
  ]);
}

/**
 * Checks a refusal's legal basis: required, non-empty, at most {@link MAX_BASIS_LENGTH} characters.
 * @throws DomainError `invalid` (pointer `/basis`).
 */
export function checkBasis(basis: unknown): string {
  if (typeof basis === 'string' && basis.trim().length > 0 && basis.length <= MAX_BASIS_LENGTH) return basis;
  throw new DomainError('invalid', 'the request body is not valid', [
    {
      pointer: '/basis',
      message: `is required: the legal basis of the refusal, 1 to ${MAX_BASIS_LENGTH} characters`,
    },
  ]);
}
