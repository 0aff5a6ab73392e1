import { silentLogger, type Logger } from '#lgsp/observability';
import type { KafkaClient } from './client.js';
import { BrokerError, type KafkaRefusal } from './errors.js';

/**
 * What the hub knows of its connection to the cluster. Only `refused` is the hub's fault (its
 * credentials or certificates): an unreachable broker is an outage the relay and the ingest consumer
 * ride out, and it never holds up HTTP ingest.
 */
export type KafkaConnectionState =
  | { state: 'checking' }
  | { state: 'connected'; brokers: number }
  | { state: 'unreachable'; detail: string }
  | { state: 'refused'; refusal: KafkaRefusal; detail: string };

export interface KafkaConnectionCheckOptions {
  client: KafkaClient;
  /** How often a check that did not connect runs again, in ms. @defaultValue 30000 */
  recheckMs?: number;
  logger?: Logger;
}

/**
 * Connects to the cluster once at start, and again every `recheckMs` until it succeeds, so that
 * readiness can name a refused password or certificate instead of leaving the relay to retry silently.
 */
export class KafkaConnectionCheck {
  private current: KafkaConnectionState = { state: 'checking' };
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly recheckMs: number;
  private readonly logger: Logger;

  constructor(private readonly options: KafkaConnectionCheckOptions) {
    this.recheckMs = options.recheckMs ?? 30_000;
    this.logger = options.logger ?? silentLogger;
  }

  get state(): KafkaConnectionState {
    return this.current;
  }

  /** Runs the first check; resolves with its outcome (never rejects). */
  async start(): Promise<KafkaConnectionState> {
    this.stopped = false;
    return this.check();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async check(): Promise<KafkaConnectionState> {
    const admin = this.options.client.admin();
    const before = this.current.state;
    try {
      const { brokers } = await admin.describeCluster();
      this.current = { state: 'connected', brokers };
      if (before !== 'connected') this.logger.info({ brokers }, 'Kafka connection checked');
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      if (err instanceof BrokerError && err.refusal) {
        this.current = { state: 'refused', refusal: err.refusal, detail };
        // The message names the cause (credentials or certificate), never a password.
        this.logger.error({ refusal: err.refusal, err: detail }, 'Kafka refused the connection');
      } else {
        this.current = { state: 'unreachable', detail };
        if (before !== 'unreachable') this.logger.warn({ err: detail }, 'Kafka is not reachable yet');
      }
      if (!this.stopped) {
        this.timer = setTimeout(() => void this.check(), this.recheckMs);
        this.timer.unref();
      }
    } finally {
      await admin.close().catch(() => undefined);
    }
    return this.current;
  }
}
