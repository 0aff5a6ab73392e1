import { randomUUID } from 'node:crypto';
import type { CloudEvent, Commune } from '#lgsp/contracts';
import { BIRTH_REGISTRATION } from './catalogue.js';
import { HubUnavailableError, type HubClient, type Problem, type ResponseRecorder } from './hub-client.js';
import {
  dossierDay,
  planLifecycle,
  renderStep,
  type DossierPlan,
  type Mix,
  type Variation,
} from './planner.js';
import { Random } from './random.js';

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
    private readonly hub: HubClient,
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

/** One dossier the run played. */
export interface DossierRecord {
  dossierCode: string;
  provinceCode: string;
  communeCode: string;
  procedureCode: string;
  variation: Variation;
  finalStatus: number;
  events: number;
}

export interface RunOptions {
  count: number;
  durationMs: number;
  rate: number;
  eventRate: number;
  concurrency: number;
  stepDelayMs: number;
  mode: 'structured' | 'batch';
  batchSize: number;
  mix: Mix;
  seed: string;
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

  progressLine(count: number): string {
    const seconds = this.elapsedMs() / 1000;
    const errors = Object.entries(this.errors())
      .map(([k, n]) => `${k}×${n}`)
      .join(' ');
    return (
      `[demo] ${this.completed}/${Number.isFinite(count) ? count : this.started} lifecycles` +
      (this.failed > 0 ? ` (${this.failed} failed)` : '') +
      ` · ${this.eventsAppended} events · ${(this.eventsAppended / Math.max(seconds, 0.001)).toFixed(1)} events/s` +
      ` · errors: ${errors || 'none'}` +
      (this.codeConflicts > 0 ? ` · codes taken elsewhere: ${this.codeConflicts}` : '')
    );
  }
}

const describeProblem = (status: number, problem: Problem | undefined): string => {
  const pointers = (problem?.errors ?? []).map((e) => `${e.pointer} ${e.message}`).join('; ');
  return `${status} ${problem?.detail ?? problem?.title ?? ''}${pointers ? ` (${pointers})` : ''}`.trim();
};

/**
 * Plays the lifecycles of a run against the hub: at most `concurrency` at once, started at `rate`
 * per second, until `count` are done or `durationMs` has passed. Lifecycle `i` follows the plan of
 * (seed, i), so a seed repeats a run whatever the timing. The first failure stops new lifecycles.
 */
export class DemoRunner {
  readonly dossiers: DossierRecord[] = [];
  private readonly codes = new DossierCodes();
  private readonly eventPacer: Pacer;
  private stopping = false;

  constructor(
    private readonly hub: HubClient,
    private readonly clients: ClientTokens,
    private readonly communes: readonly Commune[],
    private readonly options: RunOptions,
    /** Shared with the HubClient, which records every answer and retry in it. */
    readonly stats: RunStats,
  ) {
    this.eventPacer = new Pacer(options.eventRate);
  }

  /** Starts no new lifecycle; those in flight finish. */
  stop(): void {
    this.stopping = true;
    this.stats.interrupted = true;
  }

  async run(): Promise<RunStats> {
    const { count, durationMs, concurrency } = this.options;
    const deadline = this.stats.startedAt + durationMs;
    const starts = new Pacer(this.options.rate);
    const inFlight = new Set<Promise<void>>();
    for (let index = 0; index < count && !this.stopping; index++) {
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      await starts.take();
      if (this.stopping || Date.now() >= deadline) break;
      const plan = planLifecycle(
        Random.forLifecycle(this.options.seed, index),
        index,
        this.communes,
        this.options.mix,
      );
      this.stats.started++;
      const playing: Promise<void> = this.play(plan).finally(() => inFlight.delete(playing));
      inFlight.add(playing);
    }
    await Promise.all(inFlight);
    return this.stats;
  }

  private async play(plan: DossierPlan): Promise<void> {
    try {
      const record = await this.playSteps(plan);
      this.dossiers.push(record);
      this.stats.completed++;
      this.stats.variations.set(plan.variation, (this.stats.variations.get(plan.variation) ?? 0) + 1);
      this.stats.finalStatuses.set(
        plan.finalStatus,
        (this.stats.finalStatuses.get(plan.finalStatus) ?? 0) + 1,
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

  private async playSteps(plan: DossierPlan): Promise<DossierRecord> {
    const token = await this.clients.tokenFor(plan.commune);
    const chunk = this.options.mode === 'batch' ? this.options.batchSize : 1;
    const total = plan.steps.length;

    // Claim a code: the submitted event (and, in batch mode, the steps sent with it) at expectedversion 0.
    let dossierCode: string;
    let receivedAt: Date;
    for (;;) {
      receivedAt = new Date();
      dossierCode = this.codes.next(plan.agencyCode, receivedAt);
      const outcome = await this.send(
        token,
        this.render(plan, 0, Math.min(chunk, total), dossierCode, receivedAt),
      );
      if (outcome === 'conflict') {
        this.stats.codeConflicts++;
        this.codes.taken(dossierCode);
        continue;
      }
      this.codes.claimed(dossierCode);
      break;
    }
    for (let from = chunk; from < total; from += chunk) {
      if (this.options.stepDelayMs > 0) await new Promise((r) => setTimeout(r, this.options.stepDelayMs));
      const events = this.render(plan, from, Math.min(from + chunk, total), dossierCode, receivedAt);
      if ((await this.send(token, events)) === 'conflict') {
        throw new LifecycleError(
          `409 on dossier ${dossierCode} at version ${from}: another producer wrote to a dossier this run owns`,
        );
      }
    }
    return {
      dossierCode,
      provinceCode: plan.commune.provinceCode,
      communeCode: plan.commune.code,
      procedureCode: plan.procedure.code,
      variation: plan.variation,
      finalStatus: plan.finalStatus,
      events: total,
    };
  }

  private render(
    plan: DossierPlan,
    from: number,
    to: number,
    dossierCode: string,
    receivedAt: Date,
  ): CloudEvent[] {
    const at = from === 0 ? receivedAt : new Date();
    const events: CloudEvent[] = [];
    for (let i = from; i < to; i++)
      events.push(renderStep(plan, i, { dossierCode, at, receivedAt, id: randomUUID() }));
    return events;
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
