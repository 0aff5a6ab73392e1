import type { EventStore } from '#lgsp/event-store';
import type { Subscriber } from './subscriber.js';
import {
  SubscriptionRunner,
  type SubscriptionLag,
  type SubscriptionRunnerOptions,
} from './subscription-runner.js';

/** Options of {@link Subscriptions}. */
export interface SubscriptionsOptions extends SubscriptionRunnerOptions {
  store: EventStore;
}

/** Options of {@link Subscriptions.register}. */
export interface RegisterOptions {
  /**
   * The store this subscriber reads, when not the manager's: the same log seen through another layer
   * (a subscriber that needs only what is stored, positions and hashes, reads the store below one that
   * opens personal data, and opens nothing). Its checkpoint is kept in that store's `checkpoints`.
   */
  store?: EventStore;
}

/** The in-process subscribers of one store: one {@link SubscriptionRunner} each, started and stopped together. */
export class Subscriptions {
  private readonly runners = new Map<string, SubscriptionRunner>();
  private started = false;

  constructor(private readonly options: SubscriptionsOptions) {}

  /**
   * Adds a subscriber; it starts at once when the manager is already started.
   * @throws TypeError when another subscriber has the same name (they would share a checkpoint).
   */
  register(subscriber: Subscriber, options: RegisterOptions = {}): SubscriptionRunner {
    if (this.runners.has(subscriber.name))
      throw new TypeError(`subscriber ${subscriber.name} is already registered`);
    const runner = new SubscriptionRunner(options.store ?? this.options.store, subscriber, this.options);
    this.runners.set(subscriber.name, runner);
    if (this.started) runner.start();
    return runner;
  }

  runner(name: string): SubscriptionRunner | undefined {
    return this.runners.get(name);
  }

  list(): SubscriptionRunner[] {
    return [...this.runners.values()];
  }

  async start(): Promise<void> {
    this.started = true;
    for (const runner of this.runners.values()) runner.start();
  }

  /** Stops every subscriber, each after its batch in flight. */
  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
  }

  /** Lag of every subscriber, in registration order. */
  async lag(): Promise<SubscriptionLag[]> {
    return Promise.all([...this.runners.values()].map((r) => r.lag()));
  }
}
