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
import { formatVn } from '#lgsp/connectors';
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
 *   (dossiers without a fee fall back to `completed`).
 */
export type Variation = 'completed' | 'rejected' | 'supplemented' | 'withdrawn' | 'payment-retried';
export const VARIATIONS: readonly Variation[] = [
  'completed',
  'rejected',
  'supplemented',
  'withdrawn',
  'payment-retried',
];

/** The share of each variation other than `completed` (which takes the rest), and of birth registrations. */
export interface Mix {
  rejected: number;
  supplemented: number;
  withdrawn: number;
  paymentRetried: number;
  /** Share of dossiers that are birth registrations (procedure 1.001193). */
  birth: number;
  /** Share of dossiers submitted online (the rest in person, a few by post). */
  online: number;
}

/** The default mix: @defaultValue rejected 5%, supplemented 10%, withdrawn 3%, payment retried 5%, births 30%, online 60%. */
export const DEFAULT_MIX: Mix = {
  rejected: 0.05,
  supplemented: 0.1,
  withdrawn: 0.03,
  paymentRetried: 0.05,
  birth: 0.3,
  online: 0.6,
};

export type Step =
  | { kind: 'submitted' }
  | { kind: 'status'; status: number; previousStatus: number; handler: Handler; note?: string }
  | { kind: 'payment-failed'; attempt: number; reason: string }
  | { kind: 'payment-completed'; attempt: number; transactionId: string; amount: number; bankCode: string }
  | {
      kind: 'civil-status-registered';
      child: {
        fullName: string;
        sex: RegisteredPerson['sex'];
        /** Days between birth and the submission of the dossier. */
        ageDays: number;
        /** The personal ID the registration gives the child, but for the 2 digits of the birth year. */
        idPlace: string;
        idSerial: string;
      };
    };

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
  steps: Step[];
  /** The status the dossier ends in. */
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
  ];
  let r = rng.next();
  for (const [variation, share] of shares) {
    if (r < share) return variation;
    r -= share;
  }
  return 'completed';
}

/**
 * Plans one dossier lifecycle. Pure: the same generator state, communes and mix give the same plan.
 * @param communes where dossiers are submitted (non-empty)
 */
export function planLifecycle(
  rng: Random,
  index: number,
  communes: readonly Commune[],
  mix: Mix = DEFAULT_MIX,
): DossierPlan {
  const commune = rng.pick(communes);
  const birth = rng.chance(mix.birth);
  const procedure: Procedure = birth
    ? BIRTH_PROCEDURE
    : rng.weighted(PROCEDURES.map((p) => [p, p.weight] as const));
  const sex = rng.chance(0.5) ? 'male' : 'female';
  const birthYear = rng.int(1955, 2005);
  const applicantName = personName(rng, sex);
  const family = applicantName.split(' ')[0] ?? 'Nguyễn';
  const fees = procedure.fees(rng);
  const feeTotal = fees.reduce((sum, f) => sum + f.amount, 0);
  const variation = pickVariation(rng, mix, feeTotal > 0);
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

  const steps: Step[] = [{ kind: 'submitted' }];
  let status: number = STATUS.submitted;
  const move = (to: number, handler: Handler, note?: string): void => {
    steps.push({ kind: 'status', status: to, previousStatus: status, handler, ...(note ? { note } : {}) });
    status = to;
  };

  if (variation === 'rejected') {
    move(STATUS.rejected, receptionist, rng.pick(REJECTION_REASONS));
  } else {
    move(STATUS.received, receptionist);
    const withdrawnBeforeProcessing = variation === 'withdrawn' && rng.chance(0.5);
    if (!withdrawnBeforeProcessing) move(STATUS.processing, officer);
    if (variation === 'withdrawn') {
      move(STATUS.withdrawn, receptionist, rng.pick(WITHDRAWAL_NOTES));
    } else {
      if (variation === 'supplemented') {
        move(STATUS.documentsRequested, officer, rng.pick(SUPPLEMENT_REQUESTS));
        move(STATUS.processing, officer, 'Công dân đã bổ sung hồ sơ');
      }
      if (feeTotal > 0) {
        move(STATUS.feeDue, officer);
        let attempt = 1;
        if (variation === 'payment-retried') {
          steps.push({ kind: 'payment-failed', attempt, reason: rng.pick(PAYMENT_FAILURES) });
          attempt++;
        }
        steps.push({
          kind: 'payment-completed',
          attempt,
          transactionId: rng.digits(12),
          amount: feeTotal,
          bankCode: rng.pick(BANK_CODES),
        });
      }
      if (birth) {
        const sex = rng.chance(0.5) ? 'male' : 'female';
        steps.push({
          kind: 'civil-status-registered',
          child: {
            fullName: personName(rng, sex, family),
            sex,
            ageDays: rng.int(1, 59),
            idPlace: rng.pick(ID_PLACE_CODES),
            idSerial: rng.digits(6),
          },
        });
      }
      move(STATUS.finished, signer);
      move(STATUS.returned, receptionist);
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
}

const STATUS_SOURCE = (commune: Commune): string => `/communes/${commune.code}/one-stop-shop`;
/** Payments and civil-status results come from those systems, as the connectors would capture them. */
export const PAYMENT_SOURCE = '/national/payment-platform';
export const CIVIL_REGISTRY_SOURCE = '/national/civil-registry';

/**
 * The CloudEvent of step `stepIndex` of a plan, with `expectedversion` = `stepIndex` (the stream
 * holds exactly the earlier steps), so the hub refuses it if the dossier's history is not what this
 * run wrote.
 */
export function renderStep(plan: DossierPlan, stepIndex: number, ctx: RenderContext): CloudEvent {
  const step = plan.steps[stepIndex];
  if (step === undefined) throw new RangeError(`dossier plan ${plan.index} has no step ${stepIndex}`);
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
    expectedversion: stepIndex,
    data,
  });
  const paymentRef = (attempt: number): string => `${ctx.dossierCode}-TT${attempt}`;
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
      return envelope('vn.gov.lgsp.payment.failed.v1', PAYMENT_SOURCE, {
        ...where,
        paymentRef: paymentRef(step.attempt),
        failedAt: time,
        reason: step.reason,
      });
    case 'payment-completed':
      return envelope('vn.gov.lgsp.payment.completed.v1', PAYMENT_SOURCE, {
        ...where,
        paymentRef: paymentRef(step.attempt),
        transactionId: step.transactionId,
        amount: step.amount,
        paidAt: time,
        bankCode: step.bankCode,
      });
    case 'civil-status-registered': {
      const { child } = step;
      const dateOfBirth = vietnamDate(new Date(ctx.receivedAt.getTime() - child.ageDays * 86_400_000));
      // Born in the 21st century: 2 for a boy, 3 for a girl.
      const centuryAndSex = child.sex === 'female' ? 3 : 2;
      const person: RegisteredPerson = {
        fullName: child.fullName,
        sex: child.sex,
        dateOfBirth,
        idNumber: `${child.idPlace}${centuryAndSex}${dateOfBirth.slice(2, 4)}${child.idSerial}`,
      };
      const counter = Number(ctx.dossierCode.slice(-4));
      return envelope('vn.gov.lgsp.civil-status.registered.v1', CIVIL_REGISTRY_SOURCE, {
        ...where,
        registrationType: 'birth',
        registrationNumber: `${counter}/${vietnamDate(ctx.at).slice(0, 4)}`,
        registeredAt: time,
        person,
      });
    }
  }
}
