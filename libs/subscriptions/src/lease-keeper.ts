import { performance } from 'node:perf_hooks';
import type { Lease, LeaseStore } from '#lgsp/event-store';

/** Share of the TTL after the last successful renewal (or acquisition) during which the holder still acts. */
const LEASE_TRUSTED_SHARE = 0.8;

/** What a lease keeper needs: the store, who this process is, and how long a lease lasts. */
export interface LeaseKeeperOptions {
  store: Pick<LeaseStore, 'acquire' | 'renew' | 'release'>;
  /** This process's id, unique among the processes sharing the store (`LGSP_INSTANCE_ID`). */
  holder: string;
  /** A lease lapses this long after its last renewal. */
  ttlMs: number;
}

/** What a keeper reports to its holder. */
export interface LeaseKeeperEvents {
  /** The lease is no longer this process's to act on: a renewal was refused, or none succeeded in time. */
  lost(reason: string): void;
  /** A renewal failed (the store unreachable); the lease stays trusted until its deadline. */
  renewalFailed?(err: unknown): void;
}

/**
 * One lease held by this process (a subscriber's, a replay run's), renewed every TTL/3 until it is
 * released or lost. The holder acts only while {@link LeaseKeeper.check} is true: until 80% of the TTL
 * has passed since the last successful renewal was sent, which leaves the other 20% for clock drift
 * and a slow write before another process may take the lease over.
 */
export class LeaseKeeper {
  private deadline: number;
  private readonly timer: ReturnType<typeof setInterval>;
  private renewing = false;
  private stopped = false;
  private released = false;

  private constructor(
    private readonly options: LeaseKeeperOptions,
    readonly lease: Lease,
    sentAt: number,
    private readonly events: LeaseKeeperEvents,
  ) {
    this.deadline = sentAt + options.ttlMs * LEASE_TRUSTED_SHARE;
    this.timer = setInterval(() => void this.renew(), Math.max(1, Math.floor(options.ttlMs / 3)));
    this.timer.unref();
  }

  /**
   * Takes the lease `name` when it is free and keeps it renewed; undefined when another process holds it.
   * @throws when the lease store cannot be reached.
   */
  static async take(
    options: LeaseKeeperOptions,
    name: string,
    events: LeaseKeeperEvents,
  ): Promise<LeaseKeeper | undefined> {
    const sentAt = performance.now();
    const lease = await options.store.acquire(name, options.holder, options.ttlMs);
    return lease === undefined ? undefined : new LeaseKeeper(options, lease, sentAt, events);
  }

  /** True while the lease may be acted on; no side effect (see `check`). */
  get trusted(): boolean {
    return !this.stopped && performance.now() < this.deadline;
  }

  /** True while the lease may be acted on; once its deadline has passed, reports it lost. */
  check(): boolean {
    if (!this.stopped && performance.now() >= this.deadline)
      this.lose('no successful renewal within the lease');
    return !this.stopped;
  }

  /** Stops renewing, without giving the lease up (it was lost another way, e.g. a fenced write). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /**
   * Stops renewing and gives the lease up, so another process takes over without waiting; only while it
   * is still this holder's epoch, so a successor's lease is never touched. Gives it up once.
   * @throws when the lease store cannot be reached (the lease then lapses by itself).
   */
  async release(): Promise<void> {
    this.stop();
    if (this.released) return;
    this.released = true;
    await this.options.store.release(this.lease);
  }

  private async renew(): Promise<void> {
    if (this.renewing || !this.check()) return;
    this.renewing = true;
    const sentAt = performance.now();
    try {
      if (await this.options.store.renew(this.lease, this.options.ttlMs)) {
        this.deadline = sentAt + this.options.ttlMs * LEASE_TRUSTED_SHARE;
      } else {
        this.lose('the lease lapsed or was taken over');
      }
    } catch (err) {
      // Not lost yet: the deadline runs out by itself if renewals keep failing.
      this.events.renewalFailed?.(err);
    } finally {
      this.renewing = false;
    }
  }

  private lose(reason: string): void {
    if (this.stopped) return;
    this.stop();
    this.events.lost(reason);
  }
}
