import type {
  CloudEvent,
  Commune,
  DossierStatusChanged,
  DossierSubmitted,
  Handler,
  RegisteredPerson,
} from '#lgsp/contracts';
import {
  BANK_CODES,
  BIRTH_PROCEDURE,
  FAMILY_NAMES,
  GIVEN_NAMES_FEMALE,
  GIVEN_NAMES_MALE,
  ID_PLACE_CODES,
  MIDDLE_NAMES_FEMALE,
  MIDDLE_NAMES_MALE,
  PAYMENT_FAILURES,
  PROCEDURES,
  RECEPTION_DEPARTMENT,
  RECEPTION_TITLE,
  REJECTION_REASONS,
  SIGNER_TITLE,
  SUPPLEMENT_REQUESTS,
  WITHDRAWAL_NOTES,
  type Procedure,
} from './catalogue.js';
import { formatVn, paymentRef as platformRef } from '#lgsp/connectors';
import type { Random } from './random.js';

/** National dossier status codes (domain.md) that the lifecycles use. */
export const STATUS = {
  submitted: 1,
  received: 2,
  rejected: 3,
  processing: 4,
  documentsRequested: 5,
  feeDue: 6,
  withdrawn: 7,
  stopped: 8,
  finished: 9,
  returned: 10,
} as const;

/**
 * How a dossier's life goes:
 * - `completed`: received, in processing, (fee due, paid), finished, result returned;
 * - `rejected`: refused at intake (status 3);
 * - `supplemented`: documents requested during processing (5), then resumed (4) and completed;
 * - `withdrawn`: the applicant withdraws it after intake (7);
 * - `payment-retried`: the first payment fails, the second completes; then as `completed`
 *   (dossiers without a fee fall back to `completed`);
 * - `payment-abandoned`: the fee is requested (6) and the citizen never pays; after the payment
 *   deadline the commune stops processing (8) (dossiers without a fee fall back to `completed`).
 */
export type Variation =
  'completed' | 'rejected' | 'supplemented' | 'withdrawn' | 'payment-retried' | 'payment-abandoned';
export const VARIATIONS: readonly Variation[] = [
  'completed',
  'rejected',
  'supplemented',
  'withdrawn',
  'payment-retried',
  'payment-abandoned',
];

/** The share of each variation other than `completed` (which takes the rest), and of birth registrations. */
export interface Mix {
  rejected: number;
  supplemented: number;
  withdrawn: number;
  paymentRetried: number;
  /** Share of dossiers whose citizen never pays the fee (the commune stops them after the deadline). */
  paymentAbandoned: number;
  /** Share of dossiers that are birth registrations (procedure 1.001193). */
  birth: number;
  /** Share of dossiers submitted online (the rest in person, a few by post). */
  online: number;
}

/**
 * The default mix: @defaultValue rejected 5%, supplemented 10%, withdrawn 3%, payment retried 5%,
 * payment abandoned 5%, births 30%, online 60%.
 */
export const DEFAULT_MIX: Mix = {
  rejected: 0.05,
  supplemented: 0.1,
  withdrawn: 0.03,
  paymentRetried: 0.05,
  paymentAbandoned: 0.05,
  birth: 0.3,
  online: 0.6,
};

/** The child of a birth registration. */
export interface Child {
  fullName: string;
  sex: RegisteredPerson['sex'];
  /** Days between birth and the submission of the dossier. */
  ageDays: number;
  /** The personal ID the registration gives the child, but for the 2 digits of the birth year. */
  idPlace: string;
  idSerial: string;
}

/**
 * A step the demo posts, or (with connectors) one where it waits for what the hub captures from an
 * external system: `await-payment` after a fee-due status until the dossier's payment is paid (go on
 * with the next steps) or failed (play `ifFailed` instead of the rest); `await-civil-registry` after
 * a birth dossier entered processing until the registry finished it (status 9: go on) or rejected
 * it (status 3: stop).
 */
export type Step =
  | { kind: 'submitted' }
  | { kind: 'status'; status: number; previousStatus: number; handler: Handler; note?: string }
  | { kind: 'payment-failed'; attempt: number; reason: string }
  | { kind: 'payment-completed'; attempt: number; transactionId: string; amount: number; bankCode: string }
  | { kind: 'civil-status-registered'; child: Child }
  | { kind: 'await-payment'; attempt: number; ifFailed: Step[] }
  | { kind: 'await-civil-registry' }
  | { kind: 'abandon-payment'; attempt: number }
  | { kind: 'await-payment-deadline'; attempt: number };

/**
 * The steps that wait instead of posting an event; `await-payment-deadline` (with connectors, after
 * the fee request of a `payment-abandoned` dossier) waits out the payment deadline, during which the
 * payment must stay undecided.
 */
export type AwaitStep = Extract<
  Step,
  { kind: 'await-payment' | 'await-civil-registry' | 'await-payment-deadline' }
>;

export const isAwait = (step: Step): step is AwaitStep =>
  step.kind === 'await-payment' ||
  step.kind === 'await-civil-registry' ||
  step.kind === 'await-payment-deadline';

/**
 * Whether the demo posts a step as an event: not a wait, and not `abandon-payment` (with connectors,
 * before the fee request of a `payment-abandoned` dossier: the demo, playing the citizen, tells the
 * payment platform's sandbox that this payment will never be made).
 */
export const postsEvent = (step: Step): boolean => !isAwait(step) && step.kind !== 'abandon-payment';

/** How the lifecycles are planned. */
export interface PlanOptions {
  /**
   * Payments and civil-status results come from the external systems through the hub's connectors:
   * the plan waits for them instead of posting them. @defaultValue false
   */
  connectors: boolean;
  /** With connectors: fee requests (status 6) before the dossier is stopped (8). @defaultValue 3 */
  paymentAttempts: number;
}

export const DEFAULT_PLAN_OPTIONS: PlanOptions = { connectors: false, paymentAttempts: 3 };

/** One dossier's lifecycle, without the two things only the run knows: its code and the clock. */
export interface DossierPlan {
  index: number;
  variation: Variation;
  procedure: { code: string; name: string; days: number };
  commune: Commune;
  agencyCode: string;
  channel: DossierSubmitted['channel'];
  applicant: { fullName: string; idNumber: string };
  summary: string;
  fees: { code: string; name: string; amount: number }[];
  /** Birth registrations: the child, and which parent the applicant is. */
  birth?: { child: Child; applicantIs: 'mother' | 'father'; placeOfBirth: string };
  steps: Step[];
  /**
   * The status the dossier ends in; with connectors, the one it ends in when the payment completes
   * and the registry finishes the registration at the first try.
   */
  finalStatus: number;
}

/**
 * The electronic ID of a commune's people's committee, `000.<2 digits>.<3 digits>.H<province>`, made
 * from the commune and province codes: the real IDs (Decision 20/2020/QĐ-TTg) are not in any list the
 * hub ships, and this keeps one stable, valid ID per commune.
 */
export function agencyCodeOf(commune: Commune): string {
  return `000.${commune.code.slice(0, 2)}.${commune.code.slice(2)}.H${commune.provinceCode}`;
}

function personName(rng: Random, sex: 'male' | 'female', family: string = rng.pick(FAMILY_NAMES)): string {
  const middle = rng.pick(sex === 'male' ? MIDDLE_NAMES_MALE : MIDDLE_NAMES_FEMALE);
  const given = rng.pick(sex === 'male' ? GIVEN_NAMES_MALE : GIVEN_NAMES_FEMALE);
  return `${family} ${middle} ${given}`.normalize('NFC');
}

/** A 12-digit citizen ID (place, century and sex, year, 6 digits) or, for 5%, a legacy 9-digit one. */
function idNumber(rng: Random, sex: 'male' | 'female', birthYear: number): string {
  if (rng.chance(0.05)) return rng.digits(9);
  const century = birthYear >= 2000 ? 2 : 0;
  return `${rng.pick(ID_PLACE_CODES)}${century + (sex === 'female' ? 1 : 0)}${String(birthYear % 100).padStart(2, '0')}${rng.digits(6)}`;
}

function pickVariation(rng: Random, mix: Mix, hasFee: boolean): Variation {
  const shares: [Variation, number][] = [
    ['rejected', mix.rejected],
    ['supplemented', mix.supplemented],
    ['withdrawn', mix.withdrawn],
    [hasFee ? 'payment-retried' : 'completed', mix.paymentRetried],
    [hasFee ? 'payment-abandoned' : 'completed', mix.paymentAbandoned],
  ];
  let r = rng.next();
  for (const [variation, share] of shares) {
    if (r < share) return variation;
    r -= share;
  }
  return 'completed';
}

/** The note of the n-th fee request (n ≥ 2), after the previous payment failed. */
export const feeRequestNote = (attempt: number): string =>
  `Thanh toán không thành công, đề nghị nộp phí lần ${attempt}`;
/** The note of the stop (status 8) once every fee request failed. */
export const FEE_NOT_PAID_NOTE = 'Công dân không hoàn thành nghĩa vụ tài chính, dừng xử lý hồ sơ';
/** The note of the stop (status 8) of a `payment-abandoned` dossier: the payment deadline passed. */
export const FEE_DEADLINE_NOTE = 'Quá hạn nộp phí, lệ phí, công dân không thanh toán: dừng xử lý hồ sơ';

/**
 * Plans one dossier lifecycle. Pure: the same generator state, communes, mix and options give the
 * same plan.
 * @param communes where dossiers are submitted (non-empty)
 */
export function planLifecycle(
  rng: Random,
  index: number,
  communes: readonly Commune[],
  mix: Mix = DEFAULT_MIX,
  options: PlanOptions = DEFAULT_PLAN_OPTIONS,
): DossierPlan {
  const commune = rng.pick(communes);
  const birth = rng.chance(mix.birth);
  const procedure: Procedure = birth
    ? BIRTH_PROCEDURE
    : rng.weighted(PROCEDURES.map((p) => [p, p.weight] as const));
  const sex = rng.chance(0.5) ? 'male' : 'female';
  const drawnBirthYear = rng.int(1955, 2005);
  // The parent of a newborn was born between 1980 and 2004.
  const birthYear = birth ? 1980 + ((drawnBirthYear - 1955) % 25) : drawnBirthYear;
  const applicantName = personName(rng, sex);
  const family = applicantName.split(' ')[0] ?? 'Nguyễn';
  const fees = procedure.fees(rng);
  const feeTotal = fees.reduce((sum, f) => sum + f.amount, 0);
  const drawn = pickVariation(rng, mix, feeTotal > 0);
  // With connectors the payment platform decides whether a payment fails, and the civil registry
  // whether a birth dossier needs documents: those variations are played as `completed`; the
  // registry finishes a birth dossier with no fee requested, so none is abandoned either.
  const variation: Variation =
    options.connectors &&
    (drawn === 'payment-retried' || (birth && (drawn === 'supplemented' || drawn === 'payment-abandoned')))
      ? 'completed'
      : drawn;
  const online = rng.chance(mix.online);
  const channel: DossierPlan['channel'] = online ? 'online' : rng.chance(0.05) ? 'postal' : 'in-person';

  const receptionist: Handler = {
    name: personName(rng, rng.chance(0.6) ? 'female' : 'male'),
    title: RECEPTION_TITLE,
    department: RECEPTION_DEPARTMENT,
  };
  const officer: Handler = {
    name: personName(rng, rng.chance(0.5) ? 'female' : 'male'),
    title: procedure.handlerTitle,
    department: `UBND ${commune.name}`,
  };
  const signer: Handler = {
    name: personName(rng, rng.chance(0.3) ? 'female' : 'male'),
    title: SIGNER_TITLE,
    department: `UBND ${commune.name}`,
  };
  let child: Child | undefined;
  if (birth) {
    const childSex = rng.chance(0.5) ? 'male' : 'female';
    child = {
      fullName: personName(rng, childSex, family),
      sex: childSex,
      ageDays: rng.int(1, 59),
      idPlace: rng.pick(ID_PLACE_CODES),
      idSerial: rng.digits(6),
    };
  }

  const steps: Step[] = [{ kind: 'submitted' }];
  let status: number = STATUS.submitted;
  const statusStep = (to: number, from: number, handler: Handler, note?: string): Step => ({
    kind: 'status',
    status: to,
    previousStatus: from,
    handler,
    ...(note ? { note } : {}),
  });
  const move = (to: number, handler: Handler, note?: string): void => {
    steps.push(statusStep(to, status, handler, note));
    status = to;
  };
  /** With connectors: what follows failed payment `attempt` (another fee request, or the stop). */
  const afterFailedPayment = (attempt: number, rest: readonly Step[]): Step[] =>
    attempt < options.paymentAttempts
      ? [
          statusStep(STATUS.feeDue, STATUS.feeDue, officer, feeRequestNote(attempt + 1)),
          { kind: 'await-payment', attempt: attempt + 1, ifFailed: afterFailedPayment(attempt + 1, rest) },
          ...rest,
        ]
      : [statusStep(STATUS.stopped, STATUS.feeDue, officer, FEE_NOT_PAID_NOTE)];
  const byRegistry = options.connectors && birth;

  if (variation === 'rejected') {
    move(STATUS.rejected, receptionist, rng.pick(REJECTION_REASONS));
  } else {
    move(STATUS.received, receptionist);
    // A birth dossier in processing belongs to the civil registry: it is withdrawn before.
    const withdrawnBeforeProcessing = variation === 'withdrawn' && (rng.chance(0.5) || byRegistry);
    if (!withdrawnBeforeProcessing) move(STATUS.processing, officer);
    if (variation === 'withdrawn') {
      move(STATUS.withdrawn, receptionist, rng.pick(WITHDRAWAL_NOTES));
    } else if (byRegistry) {
      // The registry's results (documents requested and resumed, then finished or rejected) come
      // through the hub; the copies' fee is not requested, as the registry finishes the dossier.
      steps.push({ kind: 'await-civil-registry' });
      status = STATUS.finished;
      move(STATUS.returned, receptionist);
    } else {
      if (variation === 'supplemented') {
        move(STATUS.documentsRequested, officer, rng.pick(SUPPLEMENT_REQUESTS));
        move(STATUS.processing, officer, 'Công dân đã bổ sung hồ sơ');
      }
      let awaitPayment: Extract<Step, { kind: 'await-payment' }> | undefined;
      if (variation === 'payment-abandoned') {
        // The citizen never pays: with connectors the demo says so to the payment platform before
        // the fee request (so that it leaves that payment pending) and waits out the deadline.
        if (options.connectors) steps.push({ kind: 'abandon-payment', attempt: 1 });
        move(STATUS.feeDue, officer);
        if (options.connectors) steps.push({ kind: 'await-payment-deadline', attempt: 1 });
        move(STATUS.stopped, officer, FEE_DEADLINE_NOTE);
      } else {
        if (feeTotal > 0) {
          move(STATUS.feeDue, officer);
          let attempt = 1;
          if (variation === 'payment-retried') {
            steps.push({ kind: 'payment-failed', attempt, reason: rng.pick(PAYMENT_FAILURES) });
            attempt++;
          }
          const completed: Step = {
            kind: 'payment-completed',
            attempt,
            transactionId: rng.digits(12),
            amount: feeTotal,
            bankCode: rng.pick(BANK_CODES),
          };
          if (options.connectors) {
            awaitPayment = { kind: 'await-payment', attempt: 1, ifFailed: [] };
            steps.push(awaitPayment);
          } else {
            steps.push(completed);
          }
        }
        if (child !== undefined) steps.push({ kind: 'civil-status-registered', child });
        const beforeFinished = steps.length;
        move(STATUS.finished, signer);
        move(STATUS.returned, receptionist);
        if (awaitPayment !== undefined)
          awaitPayment.ifFailed = afterFailedPayment(1, steps.slice(beforeFinished));
      }
    }
  }

  return {
    index,
    variation,
    procedure: { code: procedure.code, name: procedure.name, days: procedure.days },
    commune,
    agencyCode: agencyCodeOf(commune),
    channel,
    applicant: { fullName: applicantName, idNumber: idNumber(rng, sex, birthYear) },
    summary: procedure.summary(applicantName),
    fees,
    ...(child === undefined
      ? {}
      : {
          birth: {
            child,
            applicantIs: sex === 'female' ? ('mother' as const) : ('father' as const),
            placeOfBirth: `Trạm Y tế ${commune.name}`,
          },
        }),
    steps,
    finalStatus: status,
  };
}

const VIETNAM_OFFSET_MS = 7 * 3600_000;

/** RFC 3339 in Vietnam time, as the one-stop shops send it: `2025-11-23T09:15:00+07:00`. */
export function vietnamTime(at: Date): string {
  return formatVn(at, 'iso');
}

/** The calendar date in Vietnam, `yyyy-MM-dd`. */
export function vietnamDate(at: Date): string {
  return new Date(at.getTime() + VIETNAM_OFFSET_MS).toISOString().slice(0, 10);
}

/** `yyMMdd` of the day in Vietnam, the middle part of a dossier code. */
export function dossierDay(at: Date): string {
  return vietnamDate(at).slice(2).replaceAll('-', '');
}

/** 17:00 Vietnam time, `days` calendar days after `at` (at least the next day). */
function dueAt(at: Date, days: number): string {
  const day = new Date(at.getTime() + Math.max(1, days) * 86_400_000);
  return `${vietnamDate(day)}T17:00:00+07:00`;
}

/** What a rendered event needs besides the plan. */
export interface RenderContext {
  dossierCode: string;
  /** When the event happens (its `time` and business time). */
  at: Date;
  /** When the dossier was received (the time of its submitted event). */
  receivedAt: Date;
  /** The CloudEvents id, unique per event and run. */
  id: string;
  /**
   * The stream's version before this event. @defaultValue the step's index, which holds while the
   * demo alone writes to the dossier; with connectors the hub appends events too.
   */
  expectedVersion?: number;
}

const STATUS_SOURCE = (commune: Commune): string => `/communes/${commune.code}/one-stop-shop`;
/** Payments and civil-status results come from those systems, as the connectors would capture them. */
export const PAYMENT_SOURCE = '/national/payment-platform';
export const CIVIL_REGISTRY_SOURCE = '/national/civil-registry';
/**
 * Without the connectors the demo is the commune's own software, which records payments (the
 * one-stop-shop's payment desk) and registrations (the civil-status software) under its sources.
 */
const COMMUNE_PAYMENT_SOURCE = STATUS_SOURCE;
const COMMUNE_CIVIL_STATUS_SOURCE = (commune: Commune): string => `/communes/${commune.code}/civil-status`;

/**
 * The CloudEvent of step `stepIndex` of a plan, with `expectedversion` = `stepIndex` (the stream
 * holds exactly the earlier steps), so the hub refuses it if the dossier's history is not what this
 * run wrote.
 */
export function renderStep(plan: DossierPlan, stepIndex: number, ctx: RenderContext): CloudEvent {
  const step = plan.steps[stepIndex];
  if (step === undefined) throw new RangeError(`dossier plan ${plan.index} has no step ${stepIndex}`);
  return renderEvent(plan, step, { ...ctx, expectedVersion: ctx.expectedVersion ?? stepIndex });
}

/** The date of birth of a plan's child, `yyyy-MM-dd`: `ageDays` before the dossier was received. */
function dateOfBirth(child: Child, receivedAt: Date): string {
  return vietnamDate(new Date(receivedAt.getTime() - child.ageDays * 86_400_000));
}

/**
 * The CloudEvent of one step of a plan (a step of its `steps` or of a failure branch).
 * @throws RangeError for a step that posts nothing ({@link postsEvent}).
 */
export function renderEvent(
  plan: DossierPlan,
  step: Step,
  ctx: RenderContext & { expectedVersion: number },
): CloudEvent {
  const time = vietnamTime(ctx.at);
  const where = {
    dossierCode: ctx.dossierCode,
    provinceCode: plan.commune.provinceCode,
    communeCode: plan.commune.code,
  };
  const envelope = (type: string, source: string, data: unknown): CloudEvent => ({
    specversion: '1.0',
    id: ctx.id,
    source,
    type,
    time,
    datacontenttype: 'application/json',
    expectedversion: ctx.expectedVersion,
    data,
  });
  const paymentRef = (attempt: number): string => platformRef(ctx.dossierCode, attempt);
  switch (step.kind) {
    case 'submitted': {
      const data: DossierSubmitted = {
        ...where,
        procedureCode: plan.procedure.code,
        procedureName: plan.procedure.name,
        agencyCode: plan.agencyCode,
        channel: plan.channel,
        applicant: plan.applicant,
        receivedAt: time,
        dueAt: dueAt(ctx.at, plan.procedure.days),
        summary: plan.summary,
        fees: plan.fees,
      };
      if (plan.birth !== undefined) {
        const { child, applicantIs, placeOfBirth } = plan.birth;
        data.civilRegistration = {
          registrationType: 'birth',
          person: {
            fullName: child.fullName,
            dateOfBirth: dateOfBirth(child, ctx.receivedAt),
            sex: child.sex,
          },
          placeOfBirth,
          [applicantIs]: { fullName: plan.applicant.fullName, idNumber: plan.applicant.idNumber },
        };
      }
      return envelope('vn.gov.lgsp.dossier.submitted.v1', STATUS_SOURCE(plan.commune), data);
    }
    case 'status': {
      const data: DossierStatusChanged = {
        ...where,
        status: step.status,
        previousStatus: step.previousStatus,
        changedAt: time,
        handler: step.handler,
        ...(step.note === undefined ? {} : { note: step.note }),
      };
      return envelope('vn.gov.lgsp.dossier.status-changed.v1', STATUS_SOURCE(plan.commune), data);
    }
    case 'payment-failed':
      return envelope('vn.gov.lgsp.payment.failed.v1', COMMUNE_PAYMENT_SOURCE(plan.commune), {
        ...where,
        paymentRef: paymentRef(step.attempt),
        failedAt: time,
        reason: step.reason,
      });
    case 'payment-completed':
      return envelope('vn.gov.lgsp.payment.completed.v1', COMMUNE_PAYMENT_SOURCE(plan.commune), {
        ...where,
        paymentRef: paymentRef(step.attempt),
        transactionId: step.transactionId,
        amount: step.amount,
        paidAt: time,
        bankCode: step.bankCode,
      });
    case 'civil-status-registered': {
      const { child } = step;
      const born = dateOfBirth(child, ctx.receivedAt);
      // Born in the 21st century: 2 for a boy, 3 for a girl.
      const centuryAndSex = child.sex === 'female' ? 3 : 2;
      const person: RegisteredPerson = {
        fullName: child.fullName,
        sex: child.sex,
        dateOfBirth: born,
        idNumber: `${child.idPlace}${centuryAndSex}${born.slice(2, 4)}${child.idSerial}`,
      };
      const counter = Number(ctx.dossierCode.slice(-4));
      return envelope('vn.gov.lgsp.civil-status.registered.v1', COMMUNE_CIVIL_STATUS_SOURCE(plan.commune), {
        ...where,
        registrationType: 'birth',
        registrationNumber: `${counter}/${vietnamDate(ctx.at).slice(0, 4)}`,
        registeredAt: time,
        person,
      });
    }
    case 'await-payment':
    case 'await-civil-registry':
    case 'await-payment-deadline':
    case 'abandon-payment':
      throw new RangeError(`step ${step.kind} of dossier plan ${plan.index} posts no event`);
  }
}
