import { randomBytes } from 'node:crypto';
import { DomainError, type CloudEvent, type Issue } from '#lgsp/contracts';
import { maskIdNumbers, systemClock, type Clock, type Logger } from '#lgsp/observability';
import type { AuditLog } from '#lgsp/security';
import {
  MISMATCH_CATEGORIES,
  RECONCILIATION_TARGETS,
  type ExpectedDossier,
  type ExtraAction,
  type ExtraResolution,
  type ListQuery,
  type Mismatch,
  type MismatchCategory,
  type ReconcileContext,
  type ReconciliationRun,
  type ReconciliationScope,
  type ReconciliationStore,
  type ReconciliationTarget,
  type TargetReconciler,
} from './model.js';

/** The most dossier codes a scope may list. */
export const MAX_SCOPE_DOSSIERS = 100_000;

/** The error of a run that was `running` when the hub stopped. */
export const INTERRUPTED = 'interrupted by a restart';

/** What the log implies for a scope, and the position it was read up to. */
export type ExpectedState = (
  scope: ReconciliationScope,
  signal: AbortSignal,
) => Promise<{ dossiers: ReadonlyMap<string, ExpectedDossier>; logPosition: number }>;

export interface ReconciliationServiceOptions {
  store: ReconciliationStore;
  /** The targets whose connector is enabled in this hub; a run of another target is refused. */
  reconcilers: ReadonlyMap<string, TargetReconciler>;
  expected: ExpectedState;
  /** One `reconciliation.run` entry per finished run. */
  audit?: AuditLog;
  clock?: Pick<Clock, 'now'>;
  logger?: Logger;
  /**
   * The shortest time between two saves of a running run's progress.
   * @defaultValue 500
   */
  progressMs?: number;
  /**
   * Mismatches saved per write.
   * @defaultValue 500
   */
  batchSize?: number;
  /**
   * Where a captured extra is appended (the hub's ingest, acting as the system: NFC, schema
   * validation, deduplication on (source, id)). Without it, capture is refused.
   */
  sink?: { append(events: readonly CloudEvent[]): Promise<readonly { position: number }[]> };
}

/** An operator's capture or acknowledgement of an `unexpected-extra` finding. */
export interface ResolveExtraRequest {
  action: ExtraAction;
  /** The operator (client name). */
  by: string;
  /** Required to acknowledge: why the record may stay in the system. */
  note?: string;
}

/** A page of a run's mismatches; `next` is the cursor of the following page when there is one. */
export interface MismatchPage {
  mismatches: (Mismatch & { seq: number })[];
  next?: number;
}

const SCOPE_KEYS = new Set(['provinceCode', 'communeCode', 'from', 'to', 'dossiers']);
const RFC3339 =
  /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$/;
const DOSSIER_CODE = /^[0-9A-Za-z][0-9A-Za-z._-]{0,79}$/;

/**
 * Starts reconciliation runs and keeps their results. A run is created `running` and returned at once;
 * in the background it builds the expected state from the log, lets the target's reconciler compare
 * the system with it, saves mismatches in batches and the progress at most every `progressMs`, and
 * ends `completed` (with counts) or `failed` (with a message free of personal data).
 *
 * A run lives in the process that started it: {@link recover}, called at start-up, marks the runs
 * left `running` by a stopped hub as `failed` ("interrupted by a restart"); they are started again by
 * hand. On a PostgreSQL schema shared by replicas this also marks the runs another live replica is
 * running; that replica overwrites the state with the real outcome when its run ends.
 */
export class ReconciliationService {
  private readonly store: ReconciliationStore;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly progressMs: number;
  private readonly batchSize: number;
  private readonly active = new Map<string, { done: Promise<void>; abort: AbortController }>();

  constructor(private readonly options: ReconciliationServiceOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.progressMs = options.progressMs ?? 500;
    this.batchSize = options.batchSize ?? 500;
  }

  /** The targets a run can be started for. */
  get targets(): string[] {
    return [...this.options.reconcilers.keys()];
  }

  /**
   * Validates and starts a run; resolves once it is stored as `running`.
   * @throws DomainError `invalid` (pointers into `/target` and `/scope`), `not-found` when the target's
   *   connector is not enabled in this hub.
   */
  async start(target: string, scope: ReconciliationScope = {}, by: string): Promise<ReconciliationRun> {
    if (!(RECONCILIATION_TARGETS as readonly string[]).includes(target)) {
      throw new DomainError('invalid', `unknown reconciliation target ${JSON.stringify(target)}`, [
        { pointer: '/target', message: `must be one of ${RECONCILIATION_TARGETS.join(', ')}` },
      ]);
    }
    const reconciler = this.options.reconcilers.get(target);
    if (!reconciler) throw new DomainError('not-found', `the ${target} connector is not enabled in this hub`);
    const checked = validateScope(scope);
    const run: ReconciliationRun = {
      id: `rc-${randomBytes(6).toString('hex')}`,
      target: target as ReconciliationTarget,
      scope: checked,
      state: 'running',
      by,
      startedAt: this.now(),
      progress: { expected: 0, scanned: 0, compared: 0 },
      mismatches: { total: 0, dossiers: 0, byCategory: {} },
    };
    await this.store.create(run);
    this.options.logger?.info(
      { run: run.id, target, by, scope: describeScope(checked) },
      'reconciliation run started',
    );
    const abort = new AbortController();
    const done = this.execute(structuredClone(run), reconciler, abort.signal).finally(() =>
      this.active.delete(run.id),
    );
    this.active.set(run.id, { done, abort });
    return run;
  }

  /** @throws DomainError `not-found` for an unknown id. */
  async get(id: string): Promise<ReconciliationRun> {
    const run = await this.store.get(id);
    if (!run) throw new DomainError('not-found', `no reconciliation run ${id}`);
    return run;
  }

  /** Newest first; `after` is the id of the last run of the previous page. */
  list(query: ListQuery): Promise<ReconciliationRun[]> {
    return this.store.list(query);
  }

  /** @throws DomainError `not-found` for an unknown run. */
  async mismatches(
    id: string,
    query: { limit: number; after?: number; category?: MismatchCategory },
  ): Promise<MismatchPage> {
    await this.get(id);
    const found = await this.store.mismatches(id, { ...query, limit: query.limit + 1 });
    const page = found.slice(0, query.limit);
    return found.length > query.limit ? { mismatches: page, next: page.at(-1)!.seq } : { mismatches: page };
  }

  /**
   * Captures an `unexpected-extra` into the log (the system's record as an event from that system:
   * it happened there), or acknowledges it with a note; audited as `reconciliation.capture` or
   * `reconciliation.acknowledge`, refusals included. An acknowledged record is not open again in later
   * runs. A replay cannot fix such a finding: it sends the log, which never had the record.
   * @throws DomainError `not-found` (run or finding), `invalid` (not an extra, no note), `conflict`
   *   (resolved already, the run still running, the system cannot tell its record as an event, or
   *   no longer holds it).
   */
  async resolveExtra(
    runId: string,
    seq: number,
    request: ResolveExtraRequest,
  ): Promise<{ mismatch: Mismatch & { seq: number }; run: ReconciliationRun }> {
    const audit = (outcome: Record<string, unknown>, subject = `reconciliation:${runId}`) =>
      this.options.audit
        ?.record({
          at: this.now(),
          actor: request.by,
          action: request.action === 'captured' ? 'reconciliation.capture' : 'reconciliation.acknowledge',
          subject: subject.slice(0, 200),
          scope: { run: runId.slice(0, 100), seq },
          outcome,
        })
        .catch((err: unknown) =>
          this.options.logger?.error({ run: runId, err }, 'reconciliation resolution could not be audited'),
        );
    try {
      const run = await this.get(runId);
      if (run.state === 'running')
        throw new DomainError('conflict', `reconciliation run ${runId} is still running: wait for its end`);
      const found = await this.store.mismatch(runId, seq);
      if (found === undefined)
        throw new DomainError('not-found', `no finding ${seq} in reconciliation run ${runId}`);
      if (found.category !== 'unexpected-extra')
        throw new DomainError(
          'invalid',
          `finding ${seq} is ${found.category}: only unexpected-extra findings are captured or acknowledged; a replay fixes the others`,
        );
      if (found.resolution !== undefined)
        throw new DomainError(
          'conflict',
          `finding ${seq} was ${found.resolution.action} already by ${found.resolution.by}`,
        );
      const note = request.note?.trim();
      if (request.action === 'acknowledged' && !note)
        throw new DomainError('invalid', 'an acknowledgement needs a note: why the record may stay', [
          { pointer: '/note', message: 'is required' },
        ]);
      const resolution: ExtraResolution = {
        action: request.action,
        by: request.by,
        at: this.now(),
        ...(note ? { note } : {}),
      };
      if (request.action === 'captured') resolution.position = await this.capture(run, found.dossier);
      if (!(await this.store.resolve(runId, seq, resolution)))
        throw new DomainError('conflict', `finding ${seq} was resolved meanwhile`);
      const updated: ReconciliationRun = {
        ...run,
        mismatches: { ...run.mismatches, resolved: (run.mismatches.resolved ?? 0) + 1 },
      };
      await this.store.update(updated);
      await audit(
        {
          dossier: found.dossier,
          system: found.system,
          action: resolution.action,
          ...(resolution.position === undefined ? {} : { position: resolution.position }),
          ...(note ? { note } : {}),
        },
        `reconciliation:${runId}`,
      );
      this.options.logger?.info(
        {
          run: runId,
          seq,
          dossier: found.dossier,
          target: run.target,
          by: request.by,
          action: request.action,
        },
        `unexpected extra ${request.action}`,
      );
      return { mismatch: { ...found, resolution }, run: updated };
    } catch (err) {
      if (err instanceof DomainError) await audit({ refused: true, code: err.code, reason: err.message });
      throw err;
    }
  }

  /** Appends the system's record of `dossier` as an event from that system; its log position. */
  private async capture(run: ReconciliationRun, dossier: string): Promise<number> {
    const reconciler = this.options.reconcilers.get(run.target);
    const sink = this.options.sink;
    if (reconciler?.capture === undefined || sink === undefined)
      throw new DomainError(
        'conflict',
        `${run.target} cannot tell its records as events: acknowledge the extra with a note instead`,
      );
    const told = await reconciler.capture(dossier);
    const events = told === undefined ? [] : Array.isArray(told) ? told : [told as CloudEvent];
    if (events.length === 0)
      throw new DomainError('conflict', `${run.target} no longer holds ${dossier}: nothing to capture`);
    const appended = await sink.append(events);
    const last = appended.at(-1);
    if (last === undefined || appended.length !== events.length)
      throw new Error(`the ingest did not answer for every event of ${dossier}`);
    return last.position;
  }

  /** Resolves with the run once it has finished (at once for a run not running in this process). */
  async whenDone(id: string): Promise<ReconciliationRun> {
    await this.active.get(id)?.done;
    return this.get(id);
  }

  /**
   * Marks the runs left `running` by a stopped hub as `failed` ("interrupted by a restart"), each with
   * its audit entry. Call once at start-up, before any run starts; returns how many were marked.
   */
  async recover(): Promise<number> {
    const interrupted: ReconciliationRun[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.store.list({ limit: 200, ...(after === undefined ? {} : { after }) });
      interrupted.push(...page.filter((r) => r.state === 'running' && !this.active.has(r.id)));
      if (page.length < 200) break;
      after = page.at(-1)!.id;
    }
    for (const run of interrupted) {
      const failed: ReconciliationRun = {
        ...run,
        state: 'failed',
        finishedAt: this.now(),
        error: INTERRUPTED,
      };
      await this.store.update(failed);
      await this.auditRun(failed);
      this.options.logger?.warn(
        { run: run.id, target: run.target },
        'reconciliation run interrupted by a restart',
      );
    }
    return interrupted.length;
  }

  /** Stops the runs in progress; each ends `failed` ("interrupted: the hub is stopping"). */
  async close(): Promise<void> {
    const running = [...this.active.values()];
    for (const r of running) r.abort.abort();
    await Promise.all(running.map((r) => r.done));
  }

  private async execute(
    run: ReconciliationRun,
    reconciler: TargetReconciler,
    signal: AbortSignal,
  ): Promise<void> {
    const started = Date.now();
    const dossiers = new Set<string>();
    let pending: Mismatch[] = [];
    let lastSave = Date.now();
    let dirty = false;
    // Writes go one after the other, so a late progress save never overwrites the final state.
    let writes: Promise<void> = Promise.resolve();
    let writeError: unknown;
    const write = (fn: () => Promise<void>) => {
      writes = writes.then(fn).catch((err: unknown) => {
        writeError ??= err;
      });
      return writes;
    };
    const saveRun = () => {
      const snapshot = structuredClone(run);
      dirty = false;
      lastSave = Date.now();
      return write(() => this.store.update(snapshot));
    };
    const flush = async () => {
      if (pending.length === 0) return writes;
      const batch = pending;
      pending = [];
      // Records acknowledged in an earlier run are listed with that acknowledgement, not open again.
      const extras = batch.filter((m) => m.category === 'unexpected-extra').map((m) => m.dossier);
      const known = extras.length === 0 ? new Map() : await this.store.acknowledged(run.target, extras);
      for (const m of batch) {
        const ack = m.category === 'unexpected-extra' ? known.get(m.dossier) : undefined;
        if (ack !== undefined) {
          m.resolution = ack;
          run.mismatches.resolved = (run.mismatches.resolved ?? 0) + 1;
        }
        run.mismatches.total++;
        run.mismatches.byCategory[m.category] = (run.mismatches.byCategory[m.category] ?? 0) + 1;
        dossiers.add(m.dossier);
      }
      run.mismatches.dossiers = dossiers.size;
      dirty = true;
      return write(() => this.store.addMismatches(run.id, batch));
    };
    // Progress reported between two batches (a scan with few mismatches yields rarely) is saved by the timer.
    const timer = setInterval(() => {
      if (dirty && Date.now() - lastSave >= this.progressMs) void saveRun();
    }, this.progressMs);
    timer.unref();
    const context: ReconcileContext = {
      scanned: (count) => {
        run.progress.scanned = count;
        dirty = true;
      },
      compared: (count) => {
        run.progress.compared = count;
        dirty = true;
      },
      clock: this.clock,
      signal,
    };
    try {
      const expected = await this.options.expected(run.scope, signal);
      run.logPosition = expected.logPosition;
      run.progress.expected = expected.dossiers.size;
      await saveRun();
      for await (const batch of reconciler.reconcile(expected.dossiers, run.scope, context)) {
        pending.push(...batch);
        if (pending.length >= this.batchSize) await flush();
        if (writeError !== undefined) throw writeError;
        if (signal.aborted) throw new Error('interrupted: the hub is stopping');
        if (dirty && Date.now() - lastSave >= this.progressMs) await saveRun();
      }
      if (signal.aborted) throw new Error('interrupted: the hub is stopping');
      await flush();
      if (writeError !== undefined) throw writeError;
      run.state = 'completed';
    } catch (err) {
      run.state = 'failed';
      run.error = failureMessage(signal.aborted ? new Error('interrupted: the hub is stopping') : err);
      // What was found before the failure is kept, with its counts.
      if (writeError === undefined) await flush();
    } finally {
      clearInterval(timer);
    }
    run.finishedAt = this.now();
    writeError = undefined;
    await saveRun();
    const log = this.options.logger;
    if (writeError !== undefined) {
      log?.error({ run: run.id, err: writeError }, 'reconciliation run outcome could not be saved');
    } else if (run.state === 'completed') {
      log?.info(
        {
          run: run.id,
          target: run.target,
          mismatches: run.mismatches,
          seconds: (Date.now() - started) / 1000,
        },
        'reconciliation run completed',
      );
    } else {
      log?.warn({ run: run.id, target: run.target, error: run.error }, 'reconciliation run failed');
    }
    await this.auditRun(run);
  }

  private async auditRun(run: ReconciliationRun): Promise<void> {
    if (!this.options.audit) return;
    try {
      await this.options.audit.record({
        at: run.finishedAt ?? this.now(),
        actor: run.by,
        action: 'reconciliation.run',
        subject: `reconciliation:${run.id}`,
        scope: { target: run.target, ...run.scope },
        outcome: {
          state: run.state,
          ...(run.logPosition === undefined ? {} : { logPosition: run.logPosition }),
          progress: run.progress,
          mismatches: run.mismatches,
          ...(run.error === undefined ? {} : { error: run.error }),
        },
      });
    } catch (err) {
      this.options.logger?.error({ run: run.id, err }, 'reconciliation run could not be audited');
    }
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

/**
 * The scope as stored: only the given criteria, dossier codes once each in the given order.
 * @throws DomainError `invalid` with one pointer per bad member.
 */
export function validateScope(scope: unknown): ReconciliationScope {
  const issues: Issue[] = [];
  const bad = (pointer: string, message: string) => issues.push({ pointer: `/scope${pointer}`, message });
  if (scope === null || typeof scope !== 'object' || Array.isArray(scope)) {
    throw new DomainError('invalid', 'the scope must be an object', [
      { pointer: '/scope', message: 'must be an object' },
    ]);
  }
  const s = scope as Record<string, unknown>;
  for (const key of Object.keys(s)) if (!SCOPE_KEYS.has(key)) bad(`/${key}`, 'is not a scope criterion');
  const out: ReconciliationScope = {};
  if (s.provinceCode !== undefined) {
    if (typeof s.provinceCode === 'string' && /^[0-9]{2}$/.test(s.provinceCode))
      out.provinceCode = s.provinceCode;
    else bad('/provinceCode', 'must be a 2-digit province code');
  }
  if (s.communeCode !== undefined) {
    if (typeof s.communeCode === 'string' && /^[0-9]{5}$/.test(s.communeCode))
      out.communeCode = s.communeCode;
    else bad('/communeCode', 'must be a 5-digit commune code');
  }
  for (const key of ['from', 'to'] as const) {
    const value = s[key];
    if (value === undefined) continue;
    if (typeof value === 'string' && RFC3339.test(value) && !Number.isNaN(Date.parse(value)))
      out[key] = value;
    else bad(`/${key}`, 'must be an RFC 3339 date-time with an offset');
  }
  if (out.from !== undefined && out.to !== undefined && Date.parse(out.from) >= Date.parse(out.to)) {
    bad('/to', 'must be after from');
  }
  if (s.dossiers !== undefined) {
    if (!Array.isArray(s.dossiers)) bad('/dossiers', 'must be an array of dossier codes');
    else if (s.dossiers.length > MAX_SCOPE_DOSSIERS)
      bad('/dossiers', `must list at most ${MAX_SCOPE_DOSSIERS} dossiers`);
    else {
      const codes = new Set<string>();
      s.dossiers.forEach((code: unknown, i) => {
        if (typeof code === 'string' && DOSSIER_CODE.test(code)) codes.add(code);
        else if (issues.length < 20) bad(`/dossiers/${i}`, 'must be a dossier code');
      });
      out.dossiers = [...codes];
    }
  }
  if (issues.length > 0) throw new DomainError('invalid', 'the reconciliation scope is not valid', issues);
  return out;
}

/** The scope for a log line: the criteria, and how many dossiers rather than which. */
const describeScope = (scope: ReconciliationScope) => {
  const { dossiers, ...rest } = scope;
  return dossiers === undefined ? rest : { ...rest, dossiers: dossiers.length };
};

/** One line, cut to 500 characters, with ID numbers masked: a reconciler's error never carries a citizen's data. */
const failureMessage = (err: unknown): string =>
  maskIdNumbers(err instanceof Error ? err.message : String(err)).slice(0, 500);

export const isMismatchCategory = (value: unknown): value is MismatchCategory =>
  (MISMATCH_CATEGORIES as readonly unknown[]).includes(value);
