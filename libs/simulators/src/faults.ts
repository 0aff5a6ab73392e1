/**
 * Faults a simulator injects, set at run time through `PUT /_sim/faults` and seeded so that the same
 * seed and the same sequence of calls give the same decisions.
 *
 * Every decision draws exactly {@link DRAWS_PER_DECISION} numbers from the PRNG, whatever the
 * outcome, so one call's fault never shifts the decisions of the calls after it. Outage windows and
 * the rate limit depend on the clock only.
 */

import { systemClock, type Clock } from '#lgsp/observability';

/** mulberry32: a 32-bit seeded PRNG returning numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type LatencyConfig =
  | { kind: 'fixed'; ms: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  | { kind: 'exponential'; meanMs: number };

export interface OutageWindow {
  /** Epoch milliseconds, inclusive. */
  fromMs: number;
  /** Epoch milliseconds, exclusive. */
  toMs: number;
}

export interface FaultConfig {
  /** PRNG seed; @defaultValue 1 */
  seed: number;
  /** @defaultValue no latency */
  latency?: LatencyConfig;
  /** Share of calls answered with a 5xx (500, 502 with an HTML page, or 504); @defaultValue 0 */
  errorRate: number;
  /** Absolute windows answered with 503. `outage: {forMs}` in the input adds one starting now. */
  outages: OutageWindow[];
  /** Token bucket; calls over it get 429 with `Retry-After` (seconds). @defaultValue none */
  rateLimit?: { perSecond: number; burst: number };
  /** Share of writes answered with success but not stored; @defaultValue 0 */
  dropWrites: number;
  /** Share of writes whose stored record gets one field changed (`field`, or a random one). */
  corrupt: { rate: number; field?: string };
  /** Share of calls whose text is stored/returned in NFD; @defaultValue 0 */
  nfd: number;
  /** Payments only: share of callbacks sent twice; @defaultValue 0 */
  duplicateCallbacks: number;
  /**
   * Payments only: share of settled payments whose `ThoiGianGD` (callback and QUERY) is written in
   * 12-hour time without AM/PM (`yyyyMMddhhmmss`), a defect seen in the field; @defaultValue 0
   */
  twelveHourTime: number;
  /** Faults apply only to these operations; @defaultValue all operations */
  operations?: string[];
}

export const DRAWS_PER_DECISION = 7;

/** Bad simulator input: answered with a 400 in the simulator's own error style. */
export class SimInputError extends Error {
  override readonly name = 'SimInputError';
}

export function defaultFaultConfig(seed = 1): FaultConfig {
  return {
    seed,
    errorRate: 0,
    outages: [],
    dropWrites: 0,
    corrupt: { rate: 0 },
    nfd: 0,
    duplicateCallbacks: 0,
    twelveHourTime: 0,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown, path: string, min = 0, max = Number.POSITIVE_INFINITY): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new SimInputError(`${path}: expected a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

function rate(v: unknown, path: string): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  return num(v, path, 0, 1);
}

/** Validates `PUT /_sim/faults` input; unknown keys and bad values fail with the path of the value. */
export function parseFaultConfig(input: unknown, nowMs: number): FaultConfig {
  if (!isRecord(input)) throw new SimInputError('faults: expected a JSON object');
  const known = new Set([
    'seed',
    'latency',
    'errorRate',
    'outage',
    'outages',
    'rateLimit',
    'dropWrites',
    'corrupt',
    'nfd',
    'duplicateCallbacks',
    'twelveHourTime',
    'operations',
  ]);
  for (const key of Object.keys(input)) {
    if (!known.has(key)) throw new SimInputError(`faults.${key}: unknown setting`);
  }
  const config = defaultFaultConfig(
    input.seed === undefined ? 1 : num(input.seed, 'faults.seed', 0, 0xffffffff),
  );
  if (input.latency !== undefined) config.latency = parseLatency(input.latency);
  if (input.errorRate !== undefined) config.errorRate = rate(input.errorRate, 'faults.errorRate');
  if (input.outages !== undefined) {
    if (!Array.isArray(input.outages)) throw new SimInputError('faults.outages: expected an array');
    config.outages = input.outages.map((w: unknown, i) => {
      const path = `faults.outages[${i}]`;
      if (!isRecord(w)) throw new SimInputError(`${path}: expected {fromMs, toMs}`);
      const fromMs = timeMs(w.from ?? w.fromMs, `${path}.fromMs`);
      const toMs = timeMs(w.to ?? w.toMs, `${path}.toMs`);
      if (toMs <= fromMs) throw new SimInputError(`${path}: toMs must be after fromMs`);
      return { fromMs, toMs };
    });
  }
  if (input.outage !== undefined) {
    if (!isRecord(input.outage)) throw new SimInputError('faults.outage: expected {forMs, afterMs?}');
    const afterMs =
      input.outage.afterMs === undefined ? 0 : num(input.outage.afterMs, 'faults.outage.afterMs');
    const forMs = num(input.outage.forMs, 'faults.outage.forMs', 1);
    config.outages.push({ fromMs: nowMs + afterMs, toMs: nowMs + afterMs + forMs });
  }
  if (input.rateLimit !== undefined) {
    const r = input.rateLimit;
    if (!isRecord(r)) throw new SimInputError('faults.rateLimit: expected {perSecond, burst?}');
    const perSecond = num(r.perSecond, 'faults.rateLimit.perSecond', 0.001);
    config.rateLimit = {
      perSecond,
      burst:
        r.burst === undefined ? Math.max(1, Math.ceil(perSecond)) : num(r.burst, 'faults.rateLimit.burst', 1),
    };
  }
  if (input.dropWrites !== undefined) config.dropWrites = rate(input.dropWrites, 'faults.dropWrites');
  if (input.corrupt !== undefined) {
    const c = input.corrupt;
    if (typeof c === 'number') config.corrupt = { rate: rate(c, 'faults.corrupt') };
    else if (isRecord(c)) {
      config.corrupt = { rate: c.rate === undefined ? 1 : rate(c.rate, 'faults.corrupt.rate') };
      if (c.field !== undefined) {
        if (typeof c.field !== 'string' || c.field === '') {
          throw new SimInputError('faults.corrupt.field: expected a field name');
        }
        config.corrupt.field = c.field;
      }
    } else throw new SimInputError('faults.corrupt: expected a rate or {rate, field?}');
  }
  if (input.nfd !== undefined) config.nfd = rate(input.nfd, 'faults.nfd');
  if (input.duplicateCallbacks !== undefined) {
    config.duplicateCallbacks = rate(input.duplicateCallbacks, 'faults.duplicateCallbacks');
  }
  if (input.twelveHourTime !== undefined) {
    config.twelveHourTime = rate(input.twelveHourTime, 'faults.twelveHourTime');
  }
  if (input.operations !== undefined) {
    const ops = input.operations;
    if (!Array.isArray(ops) || !ops.every((o) => typeof o === 'string')) {
      throw new SimInputError('faults.operations: expected an array of operation names');
    }
    config.operations = ops as string[];
  }
  return config;
}

function timeMs(v: unknown, path: string): number {
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    if (Number.isNaN(ms)) throw new SimInputError(`${path}: not an ISO-8601 time: ${JSON.stringify(v)}`);
    return ms;
  }
  return num(v, path);
}

function parseLatency(v: unknown): LatencyConfig {
  if (typeof v === 'number') return { kind: 'fixed', ms: num(v, 'faults.latency') };
  if (!isRecord(v)) throw new SimInputError('faults.latency: expected a number or {kind, ...}');
  switch (v.kind) {
    case 'fixed':
      return { kind: 'fixed', ms: num(v.ms, 'faults.latency.ms') };
    case 'uniform': {
      const minMs = num(v.minMs, 'faults.latency.minMs');
      const maxMs = num(v.maxMs, 'faults.latency.maxMs', minMs);
      return { kind: 'uniform', minMs, maxMs };
    }
    case 'exponential':
      return { kind: 'exponential', meanMs: num(v.meanMs, 'faults.latency.meanMs') };
    default:
      throw new SimInputError(
        `faults.latency.kind: expected fixed, uniform or exponential, got ${JSON.stringify(v.kind)}`,
      );
  }
}

/** What happens to one call. */
export interface FaultDecision {
  latencyMs: number;
  /** `undefined`: the call goes through. */
  reject?: { status: number; reason: 'error' | 'outage' | 'rate-limit'; retryAfterS?: number };
  dropWrite: boolean;
  /** Set when the stored record gets a field changed; `pick` in [0,1) chooses a random field. */
  corrupt?: { field?: string; pick: number };
  nfd: boolean;
}

const CALLBACK_STREAM = 0x9e3779b9;
const TIME_STREAM = 0x85ebca6b;

const NO_FAULT: FaultDecision = { latencyMs: 0, dropWrite: false, nfd: false };

export class FaultInjector {
  private config: FaultConfig;
  private random: () => number;
  private callbackRandom: () => number;
  private timeRandom: () => number;
  private tokens = 0;
  private refilledAtMs = 0;

  private readonly now: () => number;

  constructor(clock: Pick<Clock, 'now'> = systemClock) {
    this.now = () => clock.now();
    this.config = defaultFaultConfig();
    this.random = mulberry32(this.config.seed);
    this.callbackRandom = mulberry32(this.config.seed ^ CALLBACK_STREAM);
    this.timeRandom = mulberry32(this.config.seed ^ TIME_STREAM);
  }

  get current(): FaultConfig {
    return this.config;
  }

  /** Replaces the whole configuration and restarts the PRNG from its seed. */
  configure(config: FaultConfig): void {
    this.config = config;
    this.random = mulberry32(config.seed);
    this.callbackRandom = mulberry32(config.seed ^ CALLBACK_STREAM);
    this.timeRandom = mulberry32(config.seed ^ TIME_STREAM);
    if (config.rateLimit) {
      this.tokens = config.rateLimit.burst;
      this.refilledAtMs = this.now();
    }
  }

  reset(): void {
    this.configure(defaultFaultConfig());
  }

  decide(operation: string): FaultDecision {
    const c = this.config;
    if (c.operations && !c.operations.includes(operation)) return NO_FAULT;
    const draws = Array.from({ length: DRAWS_PER_DECISION }, () => this.random()) as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const [dLatency, dError, dStatus, dDrop, dCorrupt, dPick, dNfd] = draws;
    const decision: FaultDecision = {
      latencyMs: latencyMs(c.latency, dLatency),
      dropWrite: dDrop < c.dropWrites,
      nfd: dNfd < c.nfd,
    };
    if (dCorrupt < c.corrupt.rate) {
      decision.corrupt =
        c.corrupt.field === undefined ? { pick: dPick } : { field: c.corrupt.field, pick: dPick };
    }
    const nowMs = this.now();
    const outage = c.outages.find((w) => nowMs >= w.fromMs && nowMs < w.toMs);
    if (outage) {
      decision.reject = {
        status: 503,
        reason: 'outage',
        retryAfterS: Math.max(1, Math.ceil((outage.toMs - nowMs) / 1000)),
      };
    } else if (c.rateLimit && !this.takeToken(c.rateLimit, nowMs)) {
      decision.reject = {
        status: 429,
        reason: 'rate-limit',
        retryAfterS: Math.max(1, Math.ceil((1 - this.tokens) / c.rateLimit.perSecond)),
      };
    } else if (dError < c.errorRate) {
      decision.reject = { status: dStatus < 0.5 ? 500 : dStatus < 0.75 ? 502 : 504, reason: 'error' };
    }
    return decision;
  }

  /**
   * Payments: whether this callback is sent twice. Drawn from its own PRNG stream so that callbacks,
   * which fire on timers, never shift the decisions of the calls.
   */
  duplicateCallback(): boolean {
    return this.callbackRandom() < this.config.duplicateCallbacks;
  }

  /** Payments: whether this result's `ThoiGianGD` is written in 12-hour time (its own PRNG stream). */
  twelveHourTime(): boolean {
    return this.timeRandom() < this.config.twelveHourTime;
  }

  private takeToken(limit: { perSecond: number; burst: number }, nowMs: number): boolean {
    this.tokens = Math.min(limit.burst, this.tokens + ((nowMs - this.refilledAtMs) / 1000) * limit.perSecond);
    this.refilledAtMs = nowMs;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

/** Draws a latency from the distribution with one uniform number `u` in [0, 1). */
export function latencyMs(config: LatencyConfig | undefined, u: number): number {
  if (!config) return 0;
  switch (config.kind) {
    case 'fixed':
      return config.ms;
    case 'uniform':
      return config.minMs + u * (config.maxMs - config.minMs);
    case 'exponential':
      return -Math.log(1 - u) * config.meanMs;
  }
}

/** Every string inside `value` in Unicode NFD (Vietnamese letters decomposed into base + marks). */
export function toNfd<T>(value: T): T {
  if (typeof value === 'string') return value.normalize('NFD') as T;
  if (Array.isArray(value)) return value.map((v: unknown) => toNfd(v)) as T;
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toNfd(v)])) as T;
  }
  return value;
}

/**
 * Changes one top-level string or number field of `record` in place (`field`, or one picked with
 * `pick` among the fields not in `keep`) and returns its name, or `undefined` if none fits.
 */
export function corruptRecord(
  record: Record<string, unknown>,
  corrupt: { field?: string; pick: number },
  keep: readonly string[],
): string | undefined {
  const candidates = Object.keys(record)
    .filter((k) => !keep.includes(k))
    .filter((k) => typeof record[k] === 'string' || typeof record[k] === 'number')
    .sort();
  const field = corrupt.field ?? candidates[Math.floor(corrupt.pick * candidates.length)];
  if (field === undefined) return undefined;
  const value = record[field];
  if (typeof value === 'number') record[field] = value + 1;
  else if (typeof value === 'string') record[field] = value === '' ? '?' : `${value.slice(0, -1)}#`;
  else record[field] = '#';
  return field;
}
