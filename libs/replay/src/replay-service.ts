import { randomUUID } from 'node:crypto';
import { TokenBucket } from '#lgsp/connectors';
import { DomainError } from '#lgsp/contracts';
import type { EventStore } from '#lgsp/event-store';
import type { AuditLog } from '#lgsp/security';
import { LeaseKeeper, type LeaseKeeperOptions } from '#lgsp/subscriptions';
import { silentLogger, systemClock, tracing, type Clock, type Logger } from '#lgsp/observability';
import type {
  ReconciliationLookup,
  ReplayCommand,
  ReplayPlan,
  ReplayProgress,
  ReplayRun,
  ReplaySendResult,
  ReplayStore,
  ReplayTarget,
} from './model.js';
import { selectReplay } from './planner.js';

/** Items per chunk a run may ask for. */
export const MAX_CHUNK_SIZE = 1000;
const RATE_WINDOW_MS = 60_000;

export interface ReplayServiceOptions {
  store: ReplayStore;
  /** The targets running in this hub, by name; a replay reaches only its own. */
  targets: ReadonlyMap<string, ReplayTarget>;
  /**
   * Targets not in `targets`, found by name when a replay is planned or resumed (e.g. `kafka:<consumer>`,
   * one per registered consumer); undefined for an unknown name.
   */
  resolveTarget?: (name: string) => Promise<ReplayTarget | undefined>;
  events: Pick<EventStore, 'readAll' | 'head'>;
  audit?: AuditLog;
  /** Plans of more items than this need `confirm: true` to run (`replay.confirmAbove`). */
  confirmAbove: number;
  /** Items per chunk unless a run says otherwise (`replay.chunkSize`). */
  chunkSize: number;
  /** How often the executor looks for runs to execute when idle (`replay.pollMs`). */
  pollMs: number;
  clock?: Clock;
  logger?: Logger;
  reconciliation?: ReconciliationLookup;
  /** Several hub processes on one store: a run executes only where its lease is held. */
  lease?: ReplayLeaseOptions;
}

/**
 * Hub processes sharing one store (PostgreSQL replicas): each run is executed only by the process
 * holding its lease `replay:<id>`, which renews it every TTL/3 and stops the run before its next item
 * once it can no longer trust it (80% of the TTL without a renewal). When the holder dies, another
 * process takes the lease after the TTL and resumes the run from its cursor.
 */
export type ReplayLeaseOptions = LeaseKeeperOptions;

export interface StartReplayOptions {
  /** The operator (client name). */
  by: string;
  /** Required when the plan is larger than `confirmAbove`. */
  confirm?: boolean;
  chunkSize?: number;
  /** Items per second; default the target's call rate divided by its calls per item. */
  ratePerSecond?: number;
}

interface Execution {
  stop: AbortController;
  /** Settles when the run has stopped sending (its progress saved); never rejects. */
  ran: Promise<void>;
  /** Settles once the run's lease is given up as well. */
  done: Promise<void>;
  /**
   * Set by a pause or cancel of this process: the lease is kept until the command is stored, so that
   * no other process finds the run free, and still `running`, in between.
   */
  keepLease?: Promise<void>;
}

/**
 * Plans and runs replays to one target at a time, and executes the `running` runs in the background.
 *
 * A run's items are sent chunk by chunk through a token bucket at the run's rate, and its cursor is
 * saved after each chunk: a hub killed mid-run sends again at most the chunk in flight (sending a
 * dossier's state twice changes nothing). A pause or cancel stops the run before its next item; on
 * `start` every run left `running` (by a restart) resumes where its cursor is.
 */
export class ReplayService {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly executions = new Map<string, Execution>();
  /** Runs an operator's command is stopping: the executor leaves them alone meanwhile. */
  private readonly commanding = new Set<string>();
  /** Per run, (time, done) after each chunk, for the rate over the last minute. */
  private readonly samples = new Map<string, { at: number; done: number }[]>();
  private loop: Promise<void> | undefined;
  private stopping: AbortController | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: ReplayServiceOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * The dry run (audited as `replay.plan`): no target or subscriber is called. Without `target`, the
   * scope's reconciliation run names it. A refused plan is audited too, with the reason.
   * @throws DomainError `not-found` for a target not running here, `invalid` for a bad scope or a
   *   missing target.
   */
  async plan(target: string | undefined, scope: unknown, by: string): Promise<ReplayPlan> {
    try {
      const name = await this.targetName(target, scope);
      const { plan } = await selectReplay(await this.planOptions(name, scope));
      await this.options.audit?.record({
        at: this.now(),
        actor: by,
        action: 'replay.plan',
        subject: name,
        scope: { target: name, ...plan.scope },
        outcome: summary(plan),
      });
      return plan;
    } catch (err) {
      return this.refused('replay.plan', target, scope, by, err);
    }
  }

  /**
   * Plans again and starts the run (audited as `replay.run`); the executor sends it in the background.
   * A plan with nothing to send is completed at once. A refused run is audited too, with the reason.
   * @throws DomainError `conflict` when the plan needs confirmation and `confirm` is not true (nothing
   *   starts), `invalid` for a bad chunk size or rate.
   */
  async run(
    target: string | undefined,
    scope: unknown,
    options: StartReplayOptions,
  ): Promise<{ replay: ReplayProgress; plan: ReplayPlan }> {
    try {
      return await this.startRun(await this.targetName(target, scope), scope, options);
    } catch (err) {
      return this.refused('replay.run', target, scope, options.by, err);
    }
  }

  private async startRun(
    target: string,
    scope: unknown,
    options: StartReplayOptions,
  ): Promise<{ replay: ReplayProgress; plan: ReplayPlan }> {
    const chunkSize = options.chunkSize ?? this.options.chunkSize;
    if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE)
      throw new DomainError('invalid', `chunkSize must be an integer from 1 to ${MAX_CHUNK_SIZE}`, [
        { pointer: '/chunkSize', message: `must be an integer from 1 to ${MAX_CHUNK_SIZE}` },
      ]);
    if (options.ratePerSecond !== undefined && !(options.ratePerSecond > 0))
      throw new DomainError('invalid', 'ratePerSecond must be above 0', [
        { pointer: '/ratePerSecond', message: 'must be above 0' },
      ]);
    const planOptions = await this.planOptions(target, scope);
    const { plan, items } = await selectReplay(planOptions);
    if (plan.confirmationRequired && options.confirm !== true)
      throw new DomainError(
        'conflict',
        `the replay would send ${items.length} ${plan.unit === 'dossier' ? 'dossiers' : 'events'} to ${target}, more than ${this.options.confirmAbove}: send confirm: true to run it`,
      );
    const { target: t } = planOptions;
    const at = this.now();
    let run: ReplayRun = {
      id: randomUUID(),
      target,
      scope: plan.scope,
      unit: plan.unit,
      state: 'running',
      by: options.by,
      createdAt: at,
      updatedAt: at,
      total: items.length,
      done: 0,
      failed: 0,
      chunkSize,
      ratePerSecond: options.ratePerSecond ?? t.ratePerSecond / Math.max(1, t.callsPerItem),
    };
    await this.options.store.create(run, items);
    await this.options.audit?.record({
      at,
      actor: options.by,
      action: 'replay.run',
      subject: `replay:${run.id}`,
      scope: { target, ...plan.scope },
      outcome: { ...summary(plan), state: run.state, chunkSize, ratePerSecond: run.ratePerSecond },
    });
    this.logger.info(
      { replay: run.id, target, items: run.total, by: options.by, logPosition: plan.logPosition },
      'replay started',
    );
    if (items.length === 0) {
      // Nothing to send: done now, so the caller sees the end in its answer instead of polling for it.
      await this.finish(run.id, 'complete');
      run = (await this.options.store.get(run.id)) ?? run;
    } else this.wake?.();
    return { replay: this.progress(run), plan };
  }

  /** The replay's target: as given, or the reconciliation run's when the scope names one. */
  private async targetName(target: string | undefined, scope: unknown): Promise<string> {
    if (target !== undefined) return target;
    const runId =
      typeof scope === 'object' && scope !== null && !Array.isArray(scope)
        ? (scope as Record<string, unknown>).reconciliationRun
        : undefined;
    if (typeof runId !== 'string' || runId.length === 0)
      throw new DomainError('invalid', 'target is required unless scope.reconciliationRun names a run', [
        { pointer: '/target', message: 'is required without scope.reconciliationRun' },
      ]);
    const run = await this.options.reconciliation?.(runId);
    if (run === undefined) throw new DomainError('not-found', `no reconciliation run ${runId}`);
    return run.target;
  }

  /** Audits a refused plan or run (`outcome.refused`, the code and the reason), then throws `err` on. */
  private async refused(
    action: 'replay.plan' | 'replay.run',
    target: string | undefined,
    scope: unknown,
    by: string,
    err: unknown,
  ): Promise<never> {
    if (err instanceof DomainError) {
      const runId =
        typeof scope === 'object' && scope !== null
          ? (scope as Record<string, unknown>).reconciliationRun
          : undefined;
      await this.options.audit
        ?.record({
          at: this.now(),
          actor: by,
          action,
          subject: (target ?? (typeof runId === 'string' ? `reconciliation:${runId}` : 'replay')).slice(
            0,
            200,
          ),
          scope: {
            ...(target === undefined ? {} : { target }),
            ...(typeof runId === 'string' ? { reconciliationRun: runId.slice(0, 200) } : {}),
          },
          outcome: { refused: true, code: err.code, reason: err.message },
        })
        .catch((e: unknown) => this.logger.error({ err: e }, 'replay refusal audit entry not recorded'));
    }
    throw err;
  }

  /** Stops the run before its next item (audited as `replay.pause`). */
  pause(id: string, by: string, note?: string): Promise<ReplayProgress> {
    return this.command(id, 'pause', by, note);
  }

  /** Runs a paused (or failed) run again from its cursor (audited as `replay.resume`). */
  resume(id: string, by: string, note?: string): Promise<ReplayProgress> {
    return this.command(id, 'resume', by, note);
  }

  /** Ends the run for good (audited as `replay.cancel`). */
  cancel(id: string, by: string, note?: string): Promise<ReplayProgress> {
    return this.command(id, 'cancel', by, note);
  }

  async get(id: string): Promise<ReplayProgress> {
    const run = await this.options.store.get(id);
    if (!run) throw new DomainError('not-found', `no replay ${id}`);
    return this.progress(run);
  }

  async list(query: { limit: number; after?: string }): Promise<ReplayProgress[]> {
    return (await this.options.store.list(query)).map((r) => this.progress(r));
  }

  /** Starts the executor: every run left `running` resumes, new runs start as they are created. */
  start(): void {
    if (this.loop) return;
    const stopping = new AbortController();
    this.stopping = stopping;
    this.loop = this.execute(stopping.signal);
  }

  /** Stops the executor: runs in flight stop before their next item and stay `running` for the next start. */
  async stop(): Promise<void> {
    this.stopping?.abort();
    this.wake?.();
    await this.loop;
    this.loop = undefined;
    this.stopping = undefined;
  }

  private async execute(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        for (const run of await this.options.store.running()) {
          if (this.executions.has(run.id) || this.commanding.has(run.id)) continue;
          const stop = new AbortController();
          const lease = await this.takeLease(run.id, () => stop.abort());
          // Another process runs it (or the lease store is down: try again at the next poll).
          if (lease === undefined) continue;
          // The list may predate the lease: the process that held it may have paused the run, or moved
          // its cursor, since. Only the run as stored now, under the lease, is executed.
          const current = await this.options.store.get(run.id).catch((err: unknown) => {
            void lease.release();
            throw err;
          });
          if (current?.state !== 'running' || this.commanding.has(run.id)) {
            await lease.release();
            continue;
          }
          const ran = this.runOne(current, AbortSignal.any([signal, stop.signal]), lease);
          const execution: Execution = {
            stop,
            ran,
            done: ran.then(async () => {
              this.executions.delete(run.id);
              await execution.keepLease;
              await lease.release();
            }),
          };
          this.executions.set(run.id, execution);
        }
      } catch (err) {
        this.logger.error({ err }, 'replay executor cannot read the running replays');
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          this.wake = undefined;
          resolve();
        };
        this.wake = done;
        this.clock.sleep(this.options.pollMs, signal).then(done, done);
      });
    }
    await Promise.all([...this.executions.values()].map((e) => e.done));
  }

  /** Sends the run's items from its cursor until it ends, is paused or cancelled, or the hub stops. */
  private async runOne(initial: ReplayRun, signal: AbortSignal, lease: RunLease): Promise<void> {
    const { store } = this.options;
    const id = initial.id;
    let bucket: TokenBucket | undefined;
    const onAbort = () => bucket?.stop();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const target = await this.target(initial.target);
      if (target === undefined) {
        await this.finish(id, 'fail', `target ${initial.target} is not running in this hub`);
        return;
      }
      bucket = new TokenBucket(
        `replay:${id}`,
        { ratePerSecond: initial.ratePerSecond, burst: Math.max(1, Math.ceil(initial.ratePerSecond / 10)) },
        this.clock,
      );
      if (signal.aborted) return;
      const batchSize =
        target.sendBatch === undefined ? 1 : Math.max(1, Math.min(target.batchSize ?? 1, initial.chunkSize));
      let run = initial;
      let checkedAt = this.clock.now();
      this.sample(id, run.done);
      while (run.state === 'running' && run.done < run.total && !signal.aborted) {
        const items = await store.items(id, run.done, run.chunkSize);
        if (items.length === 0) break;
        let { done, failed } = run;
        let error: unknown;
        for (let i = 0; i < items.length && !signal.aborted && lease.trusted(); i += batchSize) {
          // Another hub process may have paused or cancelled the run.
          if (this.clock.now() - checkedAt >= this.options.pollMs) {
            checkedAt = this.clock.now();
            if ((await store.get(id))?.state !== 'running') break;
          }
          const batch = items.slice(i, i + batchSize);
          try {
            for (let n = 0; n < batch.length; n++) await bucket.acquire(signal);
            const results = await sendAll(target, batch, id, signal);
            done += batch.length;
            failed += results.filter((r) => r === 'failed').length;
          } catch (err) {
            if (!signal.aborted) error = err;
            break;
          }
        }
        run = await store.advance(id, done, failed, this.now());
        this.sample(id, run.done);
        if (error !== undefined) {
          const message = error instanceof Error ? error.message : String(error);
          this.logger.error({ replay: id, target: target.name, done: run.done, err: error }, 'replay failed');
          await this.finish(id, 'fail', message);
          return;
        }
      }
      if (run.state === 'running' && run.done >= run.total && !signal.aborted)
        await this.finish(id, 'complete');
    } catch (err) {
      // The hub's own store failed: the run stays as stored and is picked up again by the next poll.
      this.logger.error({ replay: id, err }, 'replay interrupted by a store failure');
    } finally {
      signal.removeEventListener('abort', onAbort);
      bucket?.stop();
    }
  }

  /**
   * The run's lease for this process, kept renewed until released; `lost` is called when it can no
   * longer be trusted. Without lease options (one process on the store) every run is this process's.
   * Undefined when another process holds it, or the lease store cannot be reached.
   */
  private async takeLease(id: string, lost: () => void): Promise<RunLease | undefined> {
    const options = this.options.lease;
    if (options === undefined) return UNLEASED;
    let keeper: LeaseKeeper | undefined;
    try {
      keeper = await LeaseKeeper.take(options, `replay:${id}`, {
        lost: () => {
          this.logger.warn({ replay: id, holder: options.holder }, 'replay lease lost: the run stops here');
          lost();
        },
      });
    } catch (err) {
      this.logger.error({ replay: id, err }, 'replay lease store unavailable');
      return undefined;
    }
    if (keeper === undefined) return undefined;
    this.logger.info({ replay: id, holder: options.holder, epoch: keeper.lease.epoch }, 'replay lease taken');
    const held = keeper;
    return {
      trusted: () => held.check(),
      // Never throws: a lease not given up lapses by itself.
      release: () => held.release().catch(() => undefined),
    };
  }

  /** Ends a run (complete or fail) and audits it as the system's doing. */
  private async finish(id: string, command: 'complete' | 'fail', error?: string): Promise<void> {
    let run: ReplayRun;
    try {
      run = await this.options.store.transition(id, command, this.now(), error);
    } catch (err) {
      // A pause or cancel got there first.
      if (err instanceof DomainError && err.code === 'conflict') return;
      throw err;
    }
    this.logger.info(
      { replay: id, target: run.target, state: run.state, done: run.done, failed: run.failed },
      `replay ${run.state}`,
    );
    await this.options.audit
      ?.record({
        at: run.updatedAt,
        actor: 'system',
        action: `replay.${command}`,
        subject: `replay:${id}`,
        scope: { target: run.target, ...run.scope },
        outcome: outcome(run),
      })
      .catch((err: unknown) => this.logger.error({ replay: id, err }, 'replay audit entry not recorded'));
  }

  private async command(
    id: string,
    command: ReplayCommand,
    by: string,
    note?: string,
  ): Promise<ReplayProgress> {
    this.commanding.add(id);
    let stored: (() => void) | undefined;
    let run: ReplayRun;
    try {
      const running = this.executions.get(id);
      if (command !== 'resume' && running) {
        // Stop at once: the item in flight is aborted and the chunk's progress so far is saved; the
        // lease is given up only once the command is stored.
        running.keepLease = new Promise<void>((resolve) => (stored = resolve));
        running.stop.abort();
        await running.ran;
      }
      run = await this.options.store.transition(id, command, this.now());
    } finally {
      stored?.();
      this.commanding.delete(id);
    }
    await this.options.audit?.record({
      at: run.updatedAt,
      actor: by,
      action: `replay.${command}`,
      subject: `replay:${id}`,
      scope: { target: run.target, ...run.scope },
      outcome: { ...outcome(run), ...(note === undefined ? {} : { note }) },
    });
    this.logger.info(
      { replay: id, target: run.target, by, state: run.state, done: run.done },
      `replay ${command}`,
    );
    if (command === 'resume') this.wake?.();
    return this.progress(run);
  }

  private async target(name: string): Promise<ReplayTarget | undefined> {
    return this.options.targets.get(name) ?? (await this.options.resolveTarget?.(name));
  }

  private async planOptions(target: string, scope: unknown) {
    const t = await this.target(target);
    if (t === undefined) throw new DomainError('not-found', `no replay target ${target} runs in this hub`);
    return {
      events: this.options.events,
      target: t,
      scope,
      confirmAbove: this.options.confirmAbove,
      ...(this.options.reconciliation ? { reconciliation: this.options.reconciliation } : {}),
    };
  }

  private sample(id: string, done: number): void {
    const now = this.clock.now();
    const list = (this.samples.get(id) ?? []).filter((s) => s.at >= now - RATE_WINDOW_MS);
    list.push({ at: now, done });
    this.samples.set(id, list);
  }

  private progress(run: ReplayRun): ReplayProgress {
    const now = this.clock.now();
    const window = (this.samples.get(run.id) ?? []).filter((s) => s.at >= now - RATE_WINDOW_MS);
    const first = window[0];
    const last = window.at(-1);
    const seconds = first && last ? (last.at - first.at) / 1000 : 0;
    const rate = first && last && seconds > 0 ? (last.done - first.done) / seconds : 0;
    const left = run.total - run.done;
    const etaSeconds =
      run.state !== 'running' ? null : Math.ceil(left / (rate > 0 ? rate : run.ratePerSecond));
    return { ...run, rate: Math.round(rate * 100) / 100, etaSeconds };
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

/** The right of this process to execute one run. */
interface RunLease {
  /** False once the lease may have lapsed: the run must not send another item. */
  trusted(): boolean;
  /** Stops renewing and gives the lease up. Never throws. */
  release(): Promise<void>;
}

const UNLEASED: RunLease = { trusted: () => true, release: () => Promise.resolve() };

/**
 * One result per item, through the target's batch call when it has one; in a span of its own trace
 * (the operator's replay, not any request), whose per-item spans link to the stored trace contexts.
 */
function sendAll(
  target: ReplayTarget,
  items: readonly string[],
  replayId: string,
  signal: AbortSignal,
): Promise<ReplaySendResult[]> {
  return tracing().span(
    `replay ${target.name}`,
    {
      root: true,
      attributes: {
        'lgsp.replay.id': replayId,
        'lgsp.target': target.name,
        'lgsp.replay.items': items.length,
      },
    },
    () => sendItems(target, items, replayId, signal),
  );
}

async function sendItems(
  target: ReplayTarget,
  items: readonly string[],
  replayId: string,
  signal: AbortSignal,
): Promise<ReplaySendResult[]> {
  if (target.sendBatch === undefined || items.length === 1)
    return [await target.send(items[0]!, replayId, signal)];
  const results = await target.sendBatch(items, replayId, signal);
  if (results.length !== items.length)
    throw new Error(
      `target ${target.name} answered ${results.length} results for a batch of ${items.length} items`,
    );
  return results;
}

function summary(plan: ReplayPlan): Record<string, unknown> {
  return {
    items: plan.unit === 'dossier' ? plan.dossiers.length : plan.events,
    dossiers: plan.dossiers.length,
    events: plan.events,
    calls: plan.calls,
    estimatedSeconds: plan.estimatedSeconds,
    logPosition: plan.logPosition,
  };
}

function outcome(run: ReplayRun): Record<string, unknown> {
  return {
    state: run.state,
    total: run.total,
    done: run.done,
    failed: run.failed,
    ...(run.error === undefined ? {} : { error: run.error }),
  };
}
