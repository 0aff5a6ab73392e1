import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface LagSample {
  name: string;
  lagEvents: number;
  lagSeconds: number;
  checkpoint: number;
}

/** The hub's Prometheus metrics, in a registry of their own. */
export class HubMetrics {
  readonly registry = new Registry();
  readonly ingestedEvents = new Counter({
    name: 'lgsp_ingest_events_total',
    help: 'Events received on ingest, by event type and outcome (appended, duplicate, rejected).',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly ingestRequests = new Counter({
    name: 'lgsp_ingest_requests_total',
    help: 'Ingest requests by transport, CloudEvents mode and response status.',
    labelNames: ['transport', 'mode', 'status'] as const,
    registers: [this.registry],
  });
  readonly appendSeconds = new Histogram({
    name: 'lgsp_store_append_seconds',
    help: 'Time from an append call to its durable commit.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly relayedEvents = new Counter({
    name: 'lgsp_kafka_relayed_events_total',
    help: 'Events the broker acknowledged on their province topic.',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  readonly kafkaIngest = new Counter({
    name: 'lgsp_kafka_ingest_messages_total',
    help: 'Messages of the Kafka ingest topic, by outcome (appended, duplicate, dead-lettered, retrying) and error code.',
    labelNames: ['outcome', 'code'] as const,
    registers: [this.registry],
  });
  readonly headPosition = new Gauge({
    name: 'lgsp_store_head_position',
    help: 'Global position of the last committed event.',
    registers: [this.registry],
  });
  private lagEvents = new Gauge({
    name: 'lgsp_subscriber_lag_events',
    help: 'Events committed but not yet processed by the subscriber.',
    labelNames: ['subscriber'] as const,
    registers: [this.registry],
  });
  private lagSeconds = new Gauge({
    name: 'lgsp_subscriber_lag_seconds',
    help: 'Age of the oldest event the subscriber has not processed (0 when caught up).',
    labelNames: ['subscriber'] as const,
    registers: [this.registry],
  });
  private checkpoint = new Gauge({
    name: 'lgsp_subscriber_checkpoint_position',
    help: 'Last global position the subscriber finished.',
    labelNames: ['subscriber'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'lgsp_' });
  }

  /** Lag is sampled when Prometheus scrapes, so the numbers are never stale. */
  async render(sampleLag?: () => Promise<readonly LagSample[]>): Promise<string> {
    if (sampleLag) {
      for (const s of await sampleLag()) {
        this.lagEvents.set({ subscriber: s.name }, s.lagEvents);
        this.lagSeconds.set({ subscriber: s.name }, s.lagSeconds);
        this.checkpoint.set({ subscriber: s.name }, s.checkpoint);
      }
    }
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
