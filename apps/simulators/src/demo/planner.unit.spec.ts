import { existsSync } from 'node:fs';
import { AdminUnits, EventValidator, findRepoFile, type DossierSubmitted } from '#lgsp/contracts';
import { BIRTH_REGISTRATION } from './catalogue.js';
import {
  DEFAULT_MIX,
  FEE_DEADLINE_NOTE,
  FEE_NOT_PAID_NOTE,
  STATUS,
  feeRequestNote,
  planLifecycle,
  renderEvent,
  renderStep,
  postsEvent,
  type DossierPlan,
  type Step,
} from './planner.js';
import { Random } from './random.js';

const OFFICIAL = (() => {
  try {
    return findRepoFile('../shared/data/admin-units-2025.json');
  } catch {
    return undefined;
  }
})();
const units =
  OFFICIAL !== undefined && existsSync(OFFICIAL) ? AdminUnits.load(OFFICIAL) : AdminUnits.sample();
const communes = units.provinces().flatMap((p) => units.communesOf(p.code));
const validator = new EventValidator({ adminUnits: units });
const AT = new Date('2025-11-23T02:15:00Z');
const CTX = { dossierCode: 'X-251123-0001', at: AT, receivedAt: AT, id: 'x', expectedVersion: 0 };

function render(plan: DossierPlan, code = `${plan.agencyCode}-251123-0042`) {
  return plan.steps.map((_, i) =>
    renderStep(plan, i, {
      dossierCode: code,
      at: new Date(AT.getTime() + i * 60_000),
      receivedAt: AT,
      id: `e-${plan.index}-${i}`,
    }),
  );
}

const plans = Array.from({ length: 2000 }, (_, i) =>
  planLifecycle(Random.forLifecycle('unit', i), i, communes),
);

describe('demo lifecycle planner', () => {
  it('renders only events that the hub accepts (schemas and administrative units)', () => {
    for (const plan of plans) {
      const events = render(plan);
      expect(validator.validate(events)).toEqual([]);
      events.forEach((e, i) => expect(e['expectedversion']).toBe(i));
    }
  });

  it('is repeatable: the same seed and index give the same plan', () => {
    expect(planLifecycle(Random.forLifecycle('unit', 7), 7, communes)).toEqual(plans[7]);
    expect(planLifecycle(Random.forLifecycle('other', 7), 7, communes)).not.toEqual(plans[7]);
  });

  it('follows the national status codes from submission to the final status', () => {
    for (const plan of plans) {
      const statuses = plan.steps.flatMap((s) => (s.kind === 'status' ? [s.status] : []));
      expect(plan.steps[0]).toEqual({ kind: 'submitted' });
      expect(statuses.at(-1)).toBe(plan.finalStatus);
      const expectedFinal =
        { rejected: 3, withdrawn: 7, 'payment-abandoned': 8 }[plan.variation as string] ?? STATUS.returned;
      expect(plan.finalStatus).toBe(expectedFinal);
      let previous: number = STATUS.submitted;
      for (const step of plan.steps) {
        if (step.kind !== 'status') continue;
        expect(step.previousStatus).toBe(previous);
        previous = step.status;
      }
      if (plan.finalStatus === STATUS.returned) {
        expect(statuses.slice(-2)).toEqual([STATUS.finished, STATUS.returned]);
        const feeTotal = plan.fees.reduce((s, f) => s + f.amount, 0);
        const paid = plan.steps.filter((s) => s.kind === 'payment-completed');
        expect(paid.length).toBe(feeTotal > 0 ? 1 : 0);
        if (feeTotal > 0) {
          // fee due, then paid, before the dossier is finished
          const feeDue = plan.steps.findIndex((s) => s.kind === 'status' && s.status === STATUS.feeDue);
          const paidAt = plan.steps.findIndex((s) => s.kind === 'payment-completed');
          const finished = plan.steps.findIndex((s) => s.kind === 'status' && s.status === STATUS.finished);
          expect(feeDue).toBeGreaterThan(0);
          expect(paidAt).toBeGreaterThan(feeDue);
          expect(finished).toBeGreaterThan(paidAt);
        }
      }
      if (plan.variation === 'supplemented') expect(statuses).toContain(STATUS.documentsRequested);
      if (plan.variation === 'payment-retried') {
        expect(plan.steps.map((s) => s.kind)).toContain('payment-failed');
      }
    }
  });

  it('passes birth registrations that complete through the civil registry', () => {
    const births = plans.filter((p) => p.procedure.code === BIRTH_REGISTRATION);
    expect(births.length / plans.length).toBeCloseTo(DEFAULT_MIX.birth, 1);
    for (const plan of births) {
      const registered = plan.steps.filter((s) => s.kind === 'civil-status-registered').length;
      expect(registered).toBe(plan.finalStatus === STATUS.returned ? 1 : 0);
      const event = render(plan).find((e) => e.type === 'vn.gov.lgsp.civil-status.registered.v1');
      if (event === undefined) continue;
      const { person, registeredAt } = event.data as {
        person: { dateOfBirth: string; sex: string; idNumber: string };
        registeredAt: string;
      };
      expect(person.dateOfBirth < registeredAt.slice(0, 10)).toBe(true);
      // century and sex digit, then the 2 digits of the birth year
      expect(person.idNumber.slice(3, 6)).toBe(
        `${person.sex === 'female' ? 3 : 2}${person.dateOfBirth.slice(2, 4)}`,
      );
    }
    const other = plans.filter((p) => p.procedure.code !== BIRTH_REGISTRATION);
    expect(other.every((p) => p.steps.every((s) => s.kind !== 'civil-status-registered'))).toBe(true);
  });

  it('mixes the variations in the configured shares', () => {
    const share = (v: string) => plans.filter((p) => p.variation === v).length / plans.length;
    expect(share('rejected')).toBeCloseTo(DEFAULT_MIX.rejected, 1);
    expect(share('supplemented')).toBeCloseTo(DEFAULT_MIX.supplemented, 1);
    expect(share('withdrawn')).toBeCloseTo(DEFAULT_MIX.withdrawn, 1);
    const onlyRejected = planLifecycle(Random.forLifecycle('x', 1), 1, communes, {
      ...DEFAULT_MIX,
      rejected: 1,
    });
    expect(onlyRejected.variation).toBe('rejected');
    expect(onlyRejected.steps).toHaveLength(2);
  });

  it('plays an abandoned payment as a fee request, then processing stopped (8) after the deadline', () => {
    const abandoned = plans.filter((p) => p.variation === 'payment-abandoned');
    const withFee = plans.filter((p) => p.fees.some((f) => f.amount > 0)).length;
    expect(abandoned.length / withFee).toBeCloseTo(DEFAULT_MIX.paymentAbandoned, 1);
    expect(abandoned.length).toBeGreaterThan(20);
    for (const plan of abandoned) {
      expect(plan.fees.some((f) => f.amount > 0)).toBe(true);
      expect(plan.finalStatus).toBe(STATUS.stopped);
      expect(plan.steps.map((s) => s.kind)).not.toContain('payment-completed');
      expect(plan.steps.map((s) => s.kind)).not.toContain('civil-status-registered');
      expect(plan.steps.slice(-2)).toEqual([
        expect.objectContaining({ kind: 'status', status: STATUS.feeDue }),
        expect.objectContaining({
          kind: 'status',
          status: STATUS.stopped,
          previousStatus: STATUS.feeDue,
          note: FEE_DEADLINE_NOTE,
        }),
      ]);
    }
    // no fee, nothing to abandon: the share falls back to completed
    const noFee = plans.find((p) => p.fees.every((f) => f.amount === 0)) as DossierPlan;
    const onlyAbandoned = planLifecycle(Random.forLifecycle('unit', noFee.index), noFee.index, communes, {
      ...DEFAULT_MIX,
      paymentAbandoned: 1,
    });
    expect(onlyAbandoned.variation).toBe('completed');
  });

  it('uses real communes, names with diacritics and dossier codes in the national shape', () => {
    const plan = plans[0] as DossierPlan;
    expect(units.commune(plan.commune.code)?.provinceCode).toBe(plan.commune.provinceCode);
    expect(
      plans.some((p) =>
        /[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]/i.test(p.applicant.fullName),
      ),
    ).toBe(true);
    const [submitted] = render(plan);
    expect((submitted?.data as { dossierCode: string }).dossierCode).toMatch(
      /^000\.[0-9]{2}\.[0-9]{3}\.H[0-9]{2}-[0-9]{6}-[0-9]{4}$/,
    );
  });
});

describe('birth registrations carry the registration to request from the civil registry', () => {
  it('puts civilRegistration on every birth dossier, the same child the registry registers', () => {
    const births = plans.filter((p) => p.procedure.code === BIRTH_REGISTRATION);
    for (const plan of births) {
      const events = render(plan);
      const submitted = events[0]?.data as DossierSubmitted;
      const request = submitted.civilRegistration;
      expect(request).toMatchObject({ registrationType: 'birth', placeOfBirth: expect.any(String) });
      const parent = plan.birth?.applicantIs === 'mother' ? request?.mother : request?.father;
      expect(parent).toEqual({ fullName: plan.applicant.fullName, idNumber: plan.applicant.idNumber });
      expect(request?.[plan.birth?.applicantIs === 'mother' ? 'father' : 'mother']).toBeUndefined();
      expect((request?.person.dateOfBirth ?? '') < (submitted.receivedAt ?? '')).toBe(true);
      const registered = events.find((e) => e.type === 'vn.gov.lgsp.civil-status.registered.v1');
      if (registered !== undefined) {
        const { person } = registered.data as {
          person: { fullName: string; sex: string; dateOfBirth: string };
        };
        expect(request?.person).toEqual({
          fullName: person.fullName,
          sex: person.sex,
          dateOfBirth: person.dateOfBirth,
        });
      }
    }
    for (const plan of plans.filter((p) => p.procedure.code !== BIRTH_REGISTRATION)) {
      expect(plan.birth).toBeUndefined();
      expect((render(plan)[0]?.data as DossierSubmitted).civilRegistration).toBeUndefined();
    }
  });
});

describe('lifecycles planned for the connectors', () => {
  const options = { connectors: true, paymentAttempts: 3 };
  const connected = Array.from({ length: 2000 }, (_, i) =>
    planLifecycle(Random.forLifecycle('unit', i), i, communes, DEFAULT_MIX, options),
  );

  /** Every path through a plan: the steps played when the k-th payment succeeds (or none does). */
  function paths(steps: readonly Step[]): Step[][] {
    const i = steps.findIndex((s) => s.kind === 'await-payment');
    const step = steps[i];
    if (step?.kind !== 'await-payment') return [[...steps]];
    const before = steps.slice(0, i + 1);
    return [[...steps], ...paths(step.ifFailed).map((rest) => [...before, ...rest])];
  }

  /** The events of a path, with the stream versions the hub's own events would take. */
  function renderPath(plan: DossierPlan, steps: readonly Step[]) {
    return steps.filter(postsEvent).map((step, i) =>
      renderEvent(plan, step, {
        dossierCode: `${plan.agencyCode}-251123-0042`,
        at: new Date(AT.getTime() + i * 60_000),
        receivedAt: AT,
        id: `c-${plan.index}-${i}`,
        expectedVersion: i,
      }),
    );
  }

  it('posts no payment or civil-status event and waits where the external systems decide', () => {
    for (const plan of connected) {
      for (const path of paths(plan.steps)) {
        expect(validator.validate(renderPath(plan, path))).toEqual([]);
        const kinds = path.map((s) => s.kind);
        expect(kinds).not.toContain('payment-completed');
        expect(kinds).not.toContain('payment-failed');
        expect(kinds).not.toContain('civil-status-registered');
        path.forEach((step, i) => {
          if (step.kind === 'status' && step.status === STATUS.feeDue) {
            expect(path[i + 1]?.kind).toBe(
              plan.variation === 'payment-abandoned' ? 'await-payment-deadline' : 'await-payment',
            );
          }
        });
      }
    }
    expect(connected.some((p) => p.variation === 'payment-retried')).toBe(false);
  });

  it('requests the fee again after a failed payment, at most paymentAttempts times, then stops with 8', () => {
    const withFee = connected.filter((p) => p.steps.some((s) => s.kind === 'await-payment'));
    expect(withFee.length).toBeGreaterThan(100);
    for (const plan of withFee) {
      const all = paths(plan.steps);
      expect(all).toHaveLength(options.paymentAttempts + 1);
      all.forEach((path, k) => {
        const awaits = path.filter((s) => s.kind === 'await-payment');
        const feeRequests = path.filter((s) => s.kind === 'status' && s.status === STATUS.feeDue);
        if (k < options.paymentAttempts) {
          // the (k+1)-th payment succeeds: finished, then returned
          expect(awaits.map((s) => s.attempt)).toEqual(Array.from({ length: k + 1 }, (_, j) => j + 1));
          expect(feeRequests).toHaveLength(k + 1);
          expect(path.slice(-2)).toMatchObject([
            { kind: 'status', status: STATUS.finished, previousStatus: STATUS.feeDue },
            { kind: 'status', status: STATUS.returned, previousStatus: STATUS.finished },
          ]);
          feeRequests
            .slice(1)
            .forEach((s, j) =>
              expect(s).toMatchObject({ previousStatus: STATUS.feeDue, note: feeRequestNote(j + 2) }),
            );
        } else {
          expect(feeRequests).toHaveLength(options.paymentAttempts);
          expect(path.at(-1)).toMatchObject({
            kind: 'status',
            status: STATUS.stopped,
            previousStatus: STATUS.feeDue,
            note: FEE_NOT_PAID_NOTE,
          });
        }
      });
    }
  });

  it('abandons a payment at the platform before its fee request, then waits out the deadline and stops (8)', () => {
    const abandoned = connected.filter((p) => p.variation === 'payment-abandoned');
    expect(abandoned.length).toBeGreaterThan(20);
    for (const plan of abandoned) {
      expect(plan.procedure.code).not.toBe(BIRTH_REGISTRATION);
      expect(plan.steps.slice(-4)).toEqual([
        { kind: 'abandon-payment', attempt: 1 },
        expect.objectContaining({ kind: 'status', status: STATUS.feeDue }),
        { kind: 'await-payment-deadline', attempt: 1 },
        expect.objectContaining({ kind: 'status', status: STATUS.stopped, note: FEE_DEADLINE_NOTE }),
      ]);
      expect(plan.steps.filter((s) => s.kind === 'await-payment')).toEqual([]);
      expect(() => renderEvent(plan, { kind: 'abandon-payment', attempt: 1 }, { ...CTX })).toThrow(
        /abandon-payment .* posts no event/,
      );
    }
    // the same dossiers as without connectors
    const alone = plans.filter((p) => p.variation === 'payment-abandoned').map((p) => p.index);
    const births = new Set(plans.filter((p) => p.procedure.code === BIRTH_REGISTRATION).map((p) => p.index));
    expect(abandoned.map((p) => p.index)).toEqual(alone.filter((i) => !births.has(i)));
  });

  it('leaves a birth dossier in processing to the civil registry, then returns the result', () => {
    const births = connected.filter((p) => p.procedure.code === BIRTH_REGISTRATION);
    expect(births.length).toBeGreaterThan(100);
    for (const plan of births) {
      const statuses = plan.steps.flatMap((s) => (s.kind === 'status' ? [s.status] : []));
      expect(plan.steps.some((s) => s.kind === 'await-payment')).toBe(false);
      if (!statuses.includes(STATUS.processing)) {
        expect([STATUS.rejected, STATUS.withdrawn]).toContain(plan.finalStatus);
        continue;
      }
      expect(plan.steps.slice(-2)).toEqual([
        { kind: 'await-civil-registry' },
        expect.objectContaining({ kind: 'status', status: STATUS.returned, previousStatus: STATUS.finished }),
      ]);
      expect(statuses).toEqual([STATUS.received, STATUS.processing, STATUS.returned]);
    }
  });

  it('plays the same dossiers as without connectors, from the same seed', () => {
    connected.forEach((plan, i) => {
      const alone = plans[i] as DossierPlan;
      expect(plan.commune).toEqual(alone.commune);
      expect(plan.procedure).toEqual(alone.procedure);
      expect(plan.applicant.fullName).toBe(alone.applicant.fullName);
      expect(plan.fees).toEqual(alone.fees);
      expect(plan.birth?.child).toEqual(alone.birth?.child);
    });
  });
});
