import pg from 'pg';
import type { Notification } from 'pg';
import type { Unsubscribe } from '../port.js';

/** How the notifier reaches PostgreSQL and the store it serves. */
export interface AppendNotifierOptions {
  connectionString: string;
  applicationName: string;
  /** The NOTIFY channel of the store's schema. */
  channel: string;
  /** Delay before the LISTEN connection is re-established after it failed. */
  reconnectMs: number;
  /** The store's head now, to catch up after a reconnection. */
  head(): Promise<number>;
  isClosed(): boolean;
}

/**
 * The store's `onAppended`: calls the listeners after each of the store's own commits and, through a
 * dedicated LISTEN connection, after the commits of every other store instance on the schema (their
 * INSERTs NOTIFY the new head). Each head is reported once, in increasing order.
 */
export class AppendNotifier {
  private readonly listeners = new Set<(head: number) => void>();
  private notifiedHead = 0;
  private listenClient: pg.Client | undefined;
  private listenTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: AppendNotifierOptions) {}

  /** Starts listening, with `head` as the last head already known. */
  async start(head: number): Promise<void> {
    this.notifiedHead = head;
    await this.listen();
  }

  onAppended(listener: (head: number) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  notify(head: number): void {
    if (head <= this.notifiedHead) return;
    this.notifiedHead = head;
    for (const listener of this.listeners) {
      try {
        listener(head);
      } catch {
        // A listener's failure must not affect the writer or the other listeners.
      }
    }
  }

  /** Forgets the listeners and closes the LISTEN connection (once the store is closed). */
  async close(): Promise<void> {
    this.listeners.clear();
    if (this.listenTimer) clearTimeout(this.listenTimer);
    const client = this.listenClient;
    this.listenClient = undefined;
    await client?.end().catch(() => undefined);
  }

  /** Opens the LISTEN connection; on failure it retries, and after reconnecting catches up from the head. */
  private async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.options.connectionString,
      application_name: `${this.options.applicationName} listen`,
    });
    const retry = () => {
      if (this.listenClient === client) this.listenClient = undefined;
      void client.end().catch(() => undefined);
      if (this.options.isClosed() || this.listenTimer) return;
      this.listenTimer = setTimeout(() => {
        this.listenTimer = undefined;
        if (this.options.isClosed()) return;
        this.listen()
          .then(() => this.options.head())
          .then((h) => this.notify(h))
          .catch(() => retry());
      }, this.options.reconnectMs);
      this.listenTimer.unref();
    };
    client.on('error', retry);
    client.on('end', () => {
      if (!this.options.isClosed() && this.listenClient === client) retry();
    });
    client.on('notification', (message: Notification) => {
      if (message.channel !== this.options.channel) return;
      const head = Number(message.payload);
      if (Number.isSafeInteger(head)) this.notify(head);
    });
    await client.connect();
    await client.query(`LISTEN ${client.escapeIdentifier(this.options.channel)}`);
    if (this.options.isClosed()) {
      await client.end();
      return;
    }
    this.listenClient = client;
  }
}
