import { randomUUID } from 'node:crypto';
import type { CloudEvent, Commune } from '#lgsp/contracts';
import { BIRTH_REGISTRATION } from './catalogue.js';
import {
  HubUnavailableError,
  type DemoHub,
  type DossierSnapshot,
  type Problem,
  type ResponseRecorder,
} from './hub-client.js';
import { paymentRef } from '#lgsp/connectors';
import type { PaymentSandbox } from './payment-sandbox.js';
import {
  dossierDay,
  isAwait,
  planLifecycle,
  postsEvent,
  renderEvent,
  type DossierPlan,
  type Mix,
  type Step,
  type Variation,
} from './planner.js';
import { Random } from './random.js';
import { waitForOutcome, waitingFor, type ExternalOutcome, type WaitingFor } from './waiting.js';

/** The largest 4-digit daily counter of a dossier code. */
const MAX_DAILY_COUNTER = 9999;

/**
 * Issues dossier codes `{agency}-{yyMMdd}-{4-digit counter}`. The counter only proposes a code: the
 * code is the run's once the hub appended its submitted event with `expectedversion` 0 (the stream did
 * not exist). A 409 there means another producer (another demo run, another replica) holds that code;
 * {@link DossierCodes.taken} then makes the next proposals skip ahead in growing strides (1, 2, 4, …
 * 64), so a run started after another one on the same day gets past its codes in a few requests.
 * Gaps in a day's counter are harmless; a per-process counter alone is the real-world bug that gave
 * two replicas the same dossier code.
 */
export class DossierCodes {
  private readonly counters = new Map<string, { last: number; stride: number }>();

  next(agencyCode: string, at: Date): string {
    const day = dossierDay(at);
    const key = `${agencyCode}-${day}`;
    const counter = this.counters.get(key) ?? { last: 0, stride: 1 };
    const proposed = counter.last + counter.stride;
    if (proposed > MAX_DAILY_COUNTER) {
      throw new LifecycleError(
        `the daily counter of agency ${agencyCode} for ${day} is exhausted (9999 dossiers)`,
      );
    }
    this.counters.set(key, { last: proposed, stride: counter.stride });
    return `${key}-${String(proposed).padStart(4, '0')}`;
  }

  /** Another producer holds `code`: the next proposal of its agency and day skips twice as far. */
  taken(code: string): void {
    const counter = this.counters.get(code.slice(0, -5));
    if (counter !== undefined && counter.last === Number(code.slice(-4))) {
      counter.stride = Math.min(64, counter.stride * 2);
    }
  }

  /** A claim succeeded: its agency and day go back to steps of 1. */
  claimed(code: string): void {
    const counter = this.counters.get(code.slice(0, -5));
    if (counter !== undefined) counter.stride = 1;
  }
}

/** A lifecycle could not be played as planned; the run stops starting new ones. */
export class LifecycleError extends Error {
  override readonly name = 'LifecycleError';
}

/** Spaces out `take()` calls to `perSecond` (0: no limit). */
export class Pacer {
  private nextAt = 0;

  constructor(private readonly perSecond: number) {}

  async take(units = 1): Promise<void> {
    if (!(this.perSecond > 0)) return;
    const now = Date.now();
    const start = Math.max(this.nextAt, now);
    this.nextAt = start + (units * 1000) / this.perSecond;
    if (start > now) await new Promise((r) => setTimeout(r, start - now));
  }
}

/** Where the demo's clients come from: one per province or per commune, created on first use. */
export interface ClientTokens {
  tokenFor(commune: Commune): Promise<string>;
  readonly created: number;
}

export class CreatedClients implements ClientTokens {
  private readonly tokens = new Map<string, Promise<string>>();
  private readonly runId = randomUUID().slice(0, 8);

  constructor(
    private readonly hub: Pick<DemoHub, 'createClient'>,
    private readonly adminToken: string,
    private readonly role: 'province' | 'commune',
  ) {}

  get created(): number {
    return this.tokens.size;
  }

  tokenFor(commune: Commune): Promise<string> {
    const key = this.role === 'province' ? commune.provinceCode : commune.code;
    let token = this.tokens.get(key);
    if (token === undefined) {
      const name = `demo-${this.runId}-${this.role}-${key}`;
      token = this.hub.createClient(
        this.adminToken,
        this.role === 'province' ? { name, province: key } : { name, communes: [key] },
      );
      this.tokens.set(key, token);
    }
    return token;
  }
}

export class GivenClient implements ClientTokens {
  readonly created = 0;
  constructor(private readonly token: string) {}
  tokenFor(): Promise<string> {
    return Promise.resolve(this.token);
  }
}

/** A lifecycle that waited for an external system longer than the wait timeout, or was interrupted. */
export interface Stalled {
  dossierCode: string;
  index: number;
  variation: Variation;
  waitingFor: WaitingFor;
  reason: 'timeout' | 'interrupted';
  waitedMs: number;
  /** The dossier as the hub's view last showed it. */
  status: number | undefined;
  paymentState: DossierSnapshot['payment']['state'] | undefined;
}

/** One dossier the run played. */
export interface DossierRecord {
  dossierCode: string;
  provinceCode: string;
  communeCode: string;
  procedureCode: string;
  variation: Variation;
  /** The status the dossier ended in: the last one posted, or (with connectors) seen in the hub's view. */
  finalStatus: number;
  /** Events in the dossier's stream when the demo left it, with connectors the hub's own included. */
  events: number;
  /** With connectors: the outcomes of the external systems, in order. */
  outcomes?: ExternalOutcome[];
  /** With connectors: present when the lifecycle stalled. */
  stalled?: Pick<Stalled, 'waitingFor' | 'reason' | 'waitedMs' | 'status' | 'paymentState'>;
}

export interface RunOptions {
  /** Infinity with --duration alone. */
  count: number;
  /** Milliseconds; Infinity without --duration. */
  durationMs: number;
  rate: number;
  eventRate: number;
  concurrency: number;
  stepDelayMs: number;
  mode: 'structured' | 'batch';
  batchSize: number;
  mix: Mix;
  seed: string;
  /** Payments and civil-status results come through the hub's connectors (see PlanOptions). @defaultValue false */
  connectors: boolean;
  /** Fee requests before a dossier whose payments fail is stopped. @defaultValue 3 */
  paymentAttempts: number;
  /** How long a lifecycle waits for an external system before it is reported as stalled. @defaultValue 120 000 ms */
  waitTimeoutMs: number;
  /** Pause between two reads of a waiting dossier's view. @defaultValue 1000 ms */
  pollMs: number;
  /**
   * With connectors: how long after the fee request of a `payment-abandoned` dossier the commune
   * waits before it stops processing (8). @defaultValue 5000 ms
   */
  paymentDeadlineMs: number;
}

/** Everything counted during a run; the summary is a snapshot of it. */
export class RunStats implements ResponseRecorder {
  readonly startedAt = Date.now();
  started = 0;
  completed = 0;
  failed = 0;
  eventsAppended = 0;
  duplicates = 0;
  codeConflicts = 0;
  networkErrors = 0;
  retries = 0;
  births = 0;
  /** Lifecycles waiting on an external system now (they hold no concurrency slot meanwhile). */
  waiting = 0;
  stalled = 0;
  /** The first 1000 stalled lifecycles (`stalled` counts them all). */
  readonly stalledList: Stalled[] = [];
  readonly outcomes = new Map<ExternalOutcome, number>();
  readonly responses = new Map<number, number>();
  readonly variations = new Map<Variation, number>();
  readonly finalStatuses = new Map<number, number>();
  readonly failures: string[] = [];
  unavailable = false;
  interrupted = false;

  response(status: number): void {
    this.responses.set(status, (this.responses.get(status) ?? 0) + 1);
  }
  networkError(): void {
    this.networkErrors++;
  }
  retry(): void {
    this.retries++;
  }

  elapsedMs(): number {
    return Date.now() - this.startedAt;
  }

  /** Responses that were not 200 or 201, by status, and network errors. */
  errors(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [status, n] of [...this.responses].sort(([a], [b]) => a - b)) {
      // A 409 on a claim is the expected answer for a code another producer holds.
      const unexpected = status === 409 ? n - this.codeConflicts : n;
      if (status !== 200 && status !== 201 && unexpected > 0) out[String(status)] = unexpected;
    }
    if (this.networkErrors > 0) out['network'] = this.networkErrors;
    return out;
  }

  stall(stalled: Stalled): void {
    this.stalled++;
    if (this.stalledList.length < 1000) this.stalledList.push(stalled);
  }

  outcome(outcome: ExternalOutcome): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }

  /** @param connectors show the lifecycles waiting on external systems and those stalled */
  progressLine(count: number, connectors = false): string {
    const seconds = this.elapsedMs() / 1000;
    const errors = Object.entries(this.errors())
      .map(([k, n]) => `${k}×${n}`)
      .join(' ');
    return (
      `[demo] ${this.completed}/${Number.isFinite(count) ? count : this.started} lifecycles` +
      (this.failed > 0 ? ` (${this.failed} failed)` : '') +
      ` · ${this.eventsAppended} events · ${(this.eventsAppended / Math.max(seconds, 0.001)).toFixed(1)} events/s` +
      ` · errors: ${errors || 'none'}` +
      (this.codeConflicts > 0 ? ` · codes taken elsewhere: ${this.codeConflicts}` : '') +
      (connectors ? ` · ${this.waiting} waiting on external systems · ${this.stalled} stalled` : '')
    );
  }
}

const describeProblem = (status: number, problem: Problem | undefined): string => {
  const pointers = (problem?.errors ?? []).map((e) => `${e.pointer} ${e.message}`).join('; ');
  return `${status} ${problem?.detail ?? problem?.title ?? ''}${pointers ? ` (${pointers})` : ''}`.trim();
};

/**
 * Counts free places among `n`; `acquire` waits, first come first served, for one to be released.
 * A lifecycle holds one while it posts events and releases it while it waits on an external system.
 */
export class Slots {
  private readonly queue: (() => void)[] = [];

  constructor(private free: number) {}

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }

  release(): void {
    const next = this.queue.shift();
    if (next !== undefined) next();
    else this.free++;
  }
}

/** Conflicts after which a dossier that the hub's connectors also write to is given up. */
const MAX_SHARED_STREAM_CONFLICTS = 10;

/**
 * Plays the lifecycles of a run against the hub: at most `concurrency` posting at once, started at
 * `rate` per second, until `count` are done or `durationMs` has passed. Lifecycle `i` follows the
 * plan of (seed, i), so a seed repeats a run whatever the timing. The first failure stops new
 * lifecycles. With connectors, a lifecycle at an `await-*` step leaves its slot to others while it
 * polls the hub's view of its dossier; after `waitTimeoutMs` it ends as stalled, which is counted
 * and listed but does not stop the run.
 */
export class DemoRunner {
  readonly dossiers: DossierRecord[] = [];
  private readonly codes = new DossierCodes();
  private readonly eventPacer: Pacer;
  private readonly stopped = new AbortController();
  private stopping = false;

  constructor(
    private readonly hub: DemoHub,
    private readonly clients: ClientTokens,
    private readonly communes: readonly Commune[],
    private readonly options: RunOptions,
    /** Shared with the HubClient, which records every answer and retry in it. */
    readonly stats: RunStats,
    /** With connectors, where the citizens of `payment-abandoned` dossiers abandon their payments. */
    private readonly payments?: PaymentSandbox,
  ) {
    this.eventPacer = new Pacer(options.eventRate);
  }

  /** Starts no new lifecycle; those posting finish, those waiting end at once as stalled (`interrupted`). */
  stop(): void {
    this.stopping = true;
    this.stats.interrupted = true;
    this.stopped.abort();
  }

  /** The plan of lifecycle `index` of this run. */
  plan(index: number): DossierPlan {
    return planLifecycle(
      Random.forLifecycle(this.options.seed, index),
      index,
      this.communes,
      this.options.mix,
      {
        connectors: this.options.connectors,
        paymentAttempts: this.options.paymentAttempts,
      },
    );
  }

  async run(): Promise<RunStats> {
    const { count, durationMs, concurrency } = this.options;
    const deadline = this.stats.startedAt + durationMs;
    const starts = new Pacer(this.options.rate);
    const slots = new Slots(concurrency);
    const inFlight = new Set<Promise<void>>();
    for (let index = 0; index < count && !this.stopping; index++) {
      await slots.acquire();
      await starts.take();
      if (this.stopping || Date.now() >= deadline) {
        slots.release();
        break;
      }
      const plan = this.plan(index);
      this.stats.started++;
      const playing: Promise<void> = this.play(plan, slots).finally(() => {
        slots.release();
        inFlight.delete(playing);
      });
      inFlight.add(playing);
    }
    await Promise.all(inFlight);
    return this.stats;
  }

  private async play(plan: DossierPlan, slots: Slots): Promise<void> {
    try {
      const record = await this.playSteps(plan, slots);
      this.dossiers.push(record);
      if (record.stalled !== undefined) {
        this.stats.stall({
          dossierCode: record.dossierCode,
          index: plan.index,
          variation: plan.variation,
          ...record.stalled,
        });
        return;
      }
      this.stats.completed++;
      this.stats.variations.set(plan.variation, (this.stats.variations.get(plan.variation) ?? 0) + 1);
      this.stats.finalStatuses.set(
        record.finalStatus,
        (this.stats.finalStatuses.get(record.finalStatus) ?? 0) + 1,
      );
      if (plan.procedure.code === BIRTH_REGISTRATION) this.stats.births++;
    } catch (e) {
      this.stats.failed++;
      this.stopping = true;
      if (e instanceof HubUnavailableError) this.stats.unavailable = true;
      if (this.stats.failures.length < 10) {
        this.stats.failures.push(
          `lifecycle ${plan.index} (${plan.procedure.code}, commune ${plan.commune.code}): ${(e as Error).message}`,
        );
      }
    }
  }

  /**
   * Posts the plan's steps in order, `batchSize` at a time in batch mode (a batch never spans a
   * waiting step). `version` is the stream's version as far as the demo knows: the events it
   * appended, and after a wait the version of the hub's view, which holds the connectors' events.
   */
  private async playSteps(plan: DossierPlan, slots: Slots): Promise<DossierRecord> {
    const token = await this.clients.tokenFor(plan.commune);
    const chunk = this.options.mode === 'batch' ? this.options.batchSize : 1;
    let dossierCode = '';
    let receivedAt = new Date();
    const segmentEnd = (steps: readonly Step[], from: number): number => {
      let to = from;
      while (to < steps.length && to - from < chunk && postsEvent(steps[to] as Step)) to++;
      return to;
    };
    const events = (steps: readonly Step[], from: number, to: number, version: number, at: Date) =>
      steps.slice(from, to).map((step, k) =>
        renderEvent(plan, step, {
          dossierCode,
          at,
          receivedAt,
          id: randomUUID(),
          expectedVersion: version + k,
        }),
      );
    const lastStatus = (steps: readonly Step[], from: number, to: number, status: number): number =>
      steps.slice(from, to).reduce((s, step) => (step.kind === 'status' ? step.status : s), status);

    // Claim a code: the submitted event (and, in batch mode, the steps sent with it) at expectedversion 0.
    let steps: readonly Step[] = plan.steps;
    let at = segmentEnd(steps, 0);
    for (;;) {
      receivedAt = new Date();
      dossierCode = this.codes.next(plan.agencyCode, receivedAt);
      const outcome = await this.send(token, events(steps, 0, at, 0, receivedAt));
      if (outcome === 'conflict') {
        this.stats.codeConflicts++;
        this.codes.taken(dossierCode);
        continue;
      }
      this.codes.claimed(dossierCode);
      break;
    }
    let version = at;
    let status = lastStatus(steps, 0, at, 0);
    const outcomes: ExternalOutcome[] = [];
    const record = (extra: Partial<DossierRecord> = {}): DossierRecord => ({
      dossierCode,
      provinceCode: plan.commune.provinceCode,
      communeCode: plan.commune.code,
      procedureCode: plan.procedure.code,
      variation: plan.variation,
      finalStatus: status,
      events: version,
      ...(this.options.connectors ? { outcomes } : {}),
      ...extra,
    });

    while (at < steps.length) {
      const step = steps[at] as Step;
      if (step.kind === 'abandon-payment') {
        // Before the fee request, so that the platform opens the payment as one that stays pending.
        if (this.payments === undefined) {
          throw new LifecycleError('no payment platform to abandon a payment on (payment-abandoned)');
        }
        await this.payments.abandon(paymentRef(dossierCode, step.attempt));
        at++;
        continue;
      }
      if (isAwait(step)) {
        this.stats.waiting++;
        slots.release();
        let result;
        try {
          result = await waitForOutcome(this.hub, token, dossierCode, step, version, {
            timeoutMs:
              step.kind === 'await-payment-deadline'
                ? this.options.paymentDeadlineMs
                : this.options.waitTimeoutMs,
            pollMs: this.options.pollMs,
            signal: this.stopped.signal,
          });
        } finally {
          this.stats.waiting--;
          await slots.acquire();
        }
        if (step.kind === 'await-payment-deadline') {
          if (result.kind === 'decided') {
            throw new LifecycleError(
              `dossier ${dossierCode}: the payment platform settled payment ${paymentRef(dossierCode, step.attempt)} (${result.outcome}) that its citizen abandoned; is the hub's payment platform the simulator the demo told (--payment-platform)?`,
            );
          }
          if (result.reason === 'timeout') {
            // The deadline passed with the payment still undecided: the commune stops processing.
            outcomes.push('payment-abandoned');
            this.stats.outcome('payment-abandoned');
            version = Math.max(version, result.view?.streamVersion ?? 0);
            at++;
            continue;
          }
        }
        if (result.kind === 'stalled') {
          return record({
            finalStatus: result.view?.status ?? status,
            events: Math.max(version, result.view?.streamVersion ?? 0),
            stalled: {
              waitingFor: waitingFor(step),
              reason: result.reason,
              waitedMs: result.waitedMs,
              status: result.view?.status,
              paymentState: result.view?.payment.state,
            },
          });
        }
        outcomes.push(result.outcome);
        this.stats.outcome(result.outcome);
        version = result.view.streamVersion;
        switch (result.outcome) {
          case 'payment-failed':
            steps = step.kind === 'await-payment' ? step.ifFailed : [];
            at = 0;
            break;
          case 'registry-finished':
          case 'registry-rejected':
            status = result.view.status ?? status;
            at = result.outcome === 'registry-rejected' ? steps.length : at + 1;
            break;
          case 'paid':
            at++;
        }
        continue;
      }
      if (this.options.stepDelayMs > 0) await new Promise((r) => setTimeout(r, this.options.stepDelayMs));
      const to = segmentEnd(steps, at);
      for (let conflicts = 0; ; conflicts++) {
        if ((await this.send(token, events(steps, at, to, version, new Date()))) === 'appended') break;
        if (!this.options.connectors || conflicts >= MAX_SHARED_STREAM_CONFLICTS) {
          throw new LifecycleError(
            `409 on dossier ${dossierCode} at version ${version}: ${
              this.options.connectors
                ? `the stream kept moving ahead of the hub's view ${conflicts + 1} times`
                : 'another producer wrote to a dossier this run owns'
            }`,
          );
        }
        // The hub's connectors appended to the dossier after the view the demo read: read it again.
        await new Promise((r) => setTimeout(r, this.options.pollMs));
        const view = await this.hub.dossier(token, dossierCode);
        if (view !== undefined) version = Math.max(version, view.streamVersion);
      }
      status = lastStatus(steps, at, to, status);
      version += to - at;
      at = to;
    }
    return record();
  }

  private async send(token: string, events: CloudEvent[]): Promise<'appended' | 'conflict'> {
    await this.eventPacer.take(events.length);
    const outcome = await this.hub.append(token, events, this.options.mode === 'batch');
    switch (outcome.kind) {
      case 'appended':
        this.stats.eventsAppended += events.length - outcome.duplicates;
        this.stats.duplicates += outcome.duplicates;
        return 'appended';
      case 'conflict':
        return 'conflict';
      case 'refused':
        throw new LifecycleError(
          `the hub refused ${(events[0]?.data as { dossierCode?: string })?.dossierCode}: ${describeProblem(outcome.status, outcome.problem)}`,
        );
    }
  }
}
