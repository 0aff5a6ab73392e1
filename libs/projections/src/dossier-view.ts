import {
  DomainError,
  applicantOf,
  toNewestVersion,
  type CivilStatusRegistered,
  type DossierStatusChanged,
  type DossierSubmittedV2,
  type DossierTransferred,
  type EventType,
  type PaymentCompleted,
  type PaymentFailed,
} from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';

/** English names of the national dossier status codes (domain.md). */
export const DOSSIER_STATUS_NAMES: Readonly<Record<number, string>> = {
  1: 'new submission',
  2: 'received',
  3: 'rejected at intake',
  4: 'in processing',
  5: 'documents requested',
  6: 'fee or tax due',
  7: 'withdrawn by the applicant',
  8: 'processing stopped',
  9: 'processing finished',
  10: 'result returned',
};

/** Vietnamese names of the national dossier status codes, as the one-stop-shop software shows them. */
export const DOSSIER_STATUS_NAMES_VI: Readonly<Record<number, string>> = {
  1: 'Mới đăng ký',
  2: 'Đã tiếp nhận',
  3: 'Từ chối tiếp nhận',
  4: 'Đang xử lý',
  5: 'Yêu cầu bổ sung hồ sơ',
  6: 'Chờ nộp phí, lệ phí',
  7: 'Công dân rút hồ sơ',
  8: 'Dừng xử lý',
  9: 'Đã xử lý xong',
  10: 'Đã trả kết quả',
};

/** A status name in both languages, for readers in either (`statusLabel` of the dossier's read). */
export interface DossierStatusLabel {
  vi: string;
  en: string;
}

/** The name of a national status code in Vietnamese and English; undefined outside 1–10. */
export function dossierStatusLabel(status: number | undefined): DossierStatusLabel | undefined {
  if (status === undefined) return undefined;
  const vi = DOSSIER_STATUS_NAMES_VI[status];
  const en = DOSSIER_STATUS_NAMES[status];
  return vi === undefined || en === undefined ? undefined : { vi, en };
}

/** The status code that puts a dossier's payment in the `due` state. */
export const FEE_DUE_STATUS = 6;

/** The types the view folds: every version of each (older ones are read as the newest, see `toNewestVersion`). */
export const DOSSIER_VIEW_EVENT_TYPES = [
  'vn.gov.lgsp.dossier.submitted.v1',
  'vn.gov.lgsp.dossier.submitted.v2',
  'vn.gov.lgsp.dossier.status-changed.v1',
  'vn.gov.lgsp.dossier.transferred.v1',
  'vn.gov.lgsp.payment.completed.v1',
  'vn.gov.lgsp.payment.failed.v1',
  'vn.gov.lgsp.civil-status.registered.v1',
] as const satisfies readonly EventType[];

export type DossierViewEventType = (typeof DOSSIER_VIEW_EVENT_TYPES)[number];

/** The types of {@link DOSSIER_VIEW_EVENT_TYPES} at their newest version: what the fold reads. */
type NewestViewEventType = Exclude<DossierViewEventType, 'vn.gov.lgsp.dossier.submitted.v1'>;

export type PaymentState = 'none' | 'due' | 'paid' | 'failed';

export interface DossierPayment {
  state: PaymentState;
  /** Sum of the fees declared at submission, whole VND. */
  amountDue: number;
  /** Sum of the distinct completed payments, whole VND. */
  amountPaid: number;
  paymentRef?: string;
  /** The last completed transaction. */
  transactionId?: string;
  /** Every transaction counted in amountPaid: a repeated bank callback is not counted twice. */
  transactionIds: string[];
  paidAt?: string;
  /** Present while the state is `failed`. */
  failureReason?: string;
}

/**
 * The projected state of one dossier. It holds no citizen ID number: the applicant is kept by name
 * only, and civil-status registrations without the registered person.
 */
export interface DossierView {
  dossierCode: string;
  provinceCode: string;
  communeCode: string;
  procedureCode?: string;
  procedureName?: string;
  /** The agency that received the dossier. */
  agencyCode?: string;
  channel?: DossierSubmittedV2['channel'];
  /** The person with role `applicant` (`persons` of `dossier.submitted.v2`; the applicant of v1). */
  applicant?: { fullName: string };
  /** How many co-applicants the submission names (absent when none). */
  coApplicants?: number;
  /** National status code 1–10; absent until a status-changed event. */
  status?: number;
  statusName?: string;
  receivedAt?: string;
  dueAt?: string;
  payment: DossierPayment;
  civilStatus?: {
    registrationType: CivilStatusRegistered['registrationType'];
    registrationNumber: string;
    registeredAt: string;
  };
  /** How many times the dossier moved between agencies. */
  transfers: number;
  /** The agency handling the dossier now. */
  currentAgencyCode?: string;
  /** Version of the dossier's stream after the last applied event. */
  streamVersion: number;
  eventCount: number;
  firstPosition: number;
  lastPosition: number;
  lastEventType: string;
  /** recordedAt of the last applied event. */
  lastChangedAt: string;
  /** `time` of the last applied event, when it had one. */
  lastEventTime?: string;
}

/** True for the event types {@link evolveDossier} understands. */
export function isDossierViewEvent(event: Pick<StoredEvent, 'type'>): boolean {
  return (DOSSIER_VIEW_EVENT_TYPES as readonly string[]).includes(event.type);
}

/** The dossier an event is about, or undefined when the event is not one the view understands. */
export function dossierCodeOf(event: Pick<StoredEvent, 'type' | 'data'>): string | undefined {
  if (!isDossierViewEvent(event)) return undefined;
  const code = (event.data as { dossierCode?: unknown } | null)?.dossierCode;
  return typeof code === 'string' && code.length > 0 ? code : undefined;
}

/**
 * Applies one event to a dossier's view and returns the new view; the input is not modified. An event
 * of an older version is read at the newest (`toNewestVersion`). An event at or before
 * `view.lastPosition` returns the view unchanged, so redelivery is harmless.
 * @throws DomainError (`invalid`) for an event type outside {@link DOSSIER_VIEW_EVENT_TYPES}.
 * @throws EventConversionError for an event of an older version that cannot be read at the newest.
 */
export function evolveDossier(view: DossierView | undefined, event: StoredEvent): DossierView {
  if (view !== undefined && event.position <= view.lastPosition) return view;
  if (!isDossierViewEvent(event)) {
    throw new DomainError('invalid', `event type ${event.type} does not belong to the dossier view`);
  }
  const newest = toNewestVersion(event);
  return APPLY[newest.type as NewestViewEventType](
    track(view ?? initial(event), event),
    newest.data as never,
  );
}

/** How each event type changes the view, given its data at the newest version. */
const APPLY: Record<NewestViewEventType, (view: DossierView, data: never) => DossierView> = {
  'vn.gov.lgsp.dossier.submitted.v2': submitted,
  'vn.gov.lgsp.dossier.status-changed.v1': statusChanged,
  'vn.gov.lgsp.dossier.transferred.v1': transferred,
  'vn.gov.lgsp.payment.completed.v1': paymentCompleted,
  'vn.gov.lgsp.payment.failed.v1': paymentFailed,
  'vn.gov.lgsp.civil-status.registered.v1': civilStatusRegistered,
};

function initial(event: StoredEvent): DossierView {
  const data = event.data as { dossierCode: string; provinceCode: string; communeCode: string };
  return {
    dossierCode: data.dossierCode,
    provinceCode: data.provinceCode,
    communeCode: data.communeCode,
    payment: { state: 'none', amountDue: 0, amountPaid: 0, transactionIds: [] },
    transfers: 0,
    streamVersion: 0,
    eventCount: 0,
    firstPosition: event.position,
    lastPosition: 0,
    lastEventType: event.type,
    lastChangedAt: event.recordedAt,
  };
}

function track(view: DossierView, event: StoredEvent): DossierView {
  const next: DossierView = {
    ...view,
    streamVersion: event.streamVersion,
    eventCount: view.eventCount + 1,
    lastPosition: event.position,
    lastEventType: event.type,
    lastChangedAt: event.recordedAt,
  };
  if (event.time === undefined) delete next.lastEventTime;
  else next.lastEventTime = event.time;
  return next;
}

function submitted(view: DossierView, d: DossierSubmittedV2): DossierView {
  const coApplicants = d.persons.filter((p) => p.role === 'co-applicant').length;
  const next: DossierView = {
    ...view,
    dossierCode: d.dossierCode,
    provinceCode: d.provinceCode,
    communeCode: d.communeCode,
    procedureCode: d.procedureCode,
    agencyCode: d.agencyCode,
    currentAgencyCode: view.transfers > 0 ? view.currentAgencyCode : d.agencyCode,
    channel: d.channel,
    applicant: { fullName: applicantOf(d)?.fullName ?? '' },
    receivedAt: d.receivedAt,
    payment: { ...view.payment, amountDue: (d.fees ?? []).reduce((sum, fee) => sum + fee.amount, 0) },
  };
  if (d.procedureName !== undefined) next.procedureName = d.procedureName;
  if (d.dueAt !== undefined) next.dueAt = d.dueAt;
  if (coApplicants > 0) next.coApplicants = coApplicants;
  else delete next.coApplicants;
  return next;
}

function statusChanged(view: DossierView, d: DossierStatusChanged): DossierView {
  const next: DossierView = { ...view, status: d.status };
  const name = DOSSIER_STATUS_NAMES[d.status];
  if (name === undefined) delete next.statusName;
  else next.statusName = name;
  if (d.dueAt !== undefined) next.dueAt = d.dueAt;
  if (d.status === FEE_DUE_STATUS && view.payment.state !== 'paid') {
    const { failureReason: _cleared, ...payment } = view.payment;
    next.payment = { ...payment, state: 'due' };
  }
  return next;
}

/** A transfer to another commune hands the dossier (and who may read it) to that commune. */
function transferred(view: DossierView, d: DossierTransferred): DossierView {
  const next = { ...view, transfers: view.transfers + 1, currentAgencyCode: d.toAgencyCode };
  if (d.toProvinceCode !== undefined && d.toCommuneCode !== undefined) {
    next.provinceCode = d.toProvinceCode;
    next.communeCode = d.toCommuneCode;
  }
  return next;
}

function paymentCompleted(view: DossierView, d: PaymentCompleted): DossierView {
  const { failureReason: _cleared, ...payment } = view.payment;
  const counted = payment.transactionIds.includes(d.transactionId);
  return {
    ...view,
    payment: {
      ...payment,
      state: 'paid',
      amountPaid: counted ? payment.amountPaid : payment.amountPaid + d.amount,
      paymentRef: d.paymentRef,
      transactionId: d.transactionId,
      transactionIds: counted ? payment.transactionIds : [...payment.transactionIds, d.transactionId],
      paidAt: d.paidAt,
    },
  };
}

function paymentFailed(view: DossierView, d: PaymentFailed): DossierView {
  if (view.payment.state === 'paid') return view;
  return {
    ...view,
    payment: { ...view.payment, state: 'failed', paymentRef: d.paymentRef, failureReason: d.reason },
  };
}

function civilStatusRegistered(view: DossierView, d: CivilStatusRegistered): DossierView {
  return {
    ...view,
    civilStatus: {
      registrationType: d.registrationType,
      registrationNumber: d.registrationNumber,
      registeredAt: d.registeredAt,
    },
  };
}
