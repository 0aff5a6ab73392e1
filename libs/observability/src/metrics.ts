import { DOMAIN_ERROR_CODES, EVENT_TYPES } from '#lgsp/contracts';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface LagSample {
  name: string;
  lagEvents: number;
  lagSeconds: number;
  checkpoint: number;
}

const KNOWN_TYPES: ReadonlySet<unknown> = new Set(EVENT_TYPES);
const KNOWN_CODES: ReadonlySet<unknown> = new Set(DOMAIN_ERROR_CODES);
const KAFKA_OUTCOMES: ReadonlySet<unknown> = new Set(['appended', 'duplicate', 'dead-lettered', 'retrying']);

/**
 * The `type` label of an event: the type when it is one of the catalogue's, else `invalid`. A label
 * value is never taken from input that may have failed validation: each distinct value is a series
 * kept for the life of the process and shown on `/metrics`.
 */
export const eventTypeLabel = (type: unknown): string =>
  KNOWN_TYPES.has(type) ? (type as string) : 'invalid';

/** An error code label: a DomainError code, else `other`. */
export const errorCodeLabel = (code: unknown): string => (KNOWN_CODES.has(code) ? (code as string) : 'other');

/** Why the HTTP layer refused a request before serving it; see the hub's rate limits. */
export type RateLimitPolicy = 'client' | 'address' | 'metrics';

/** A webhook's progress as the metrics show it. */
export interface WebhookSample {
  id: string;
  state: 'active' | 'disabled';
  lagEvents: number;
  lagSeconds: number;
  parked: number;
  /** True while every try has failed since the last success (the endpoint is disabled if it lasts). */
  failing?: boolean;
}

/** A connector's state as the metrics show it, sampled at scrape time. */
export interface ConnectorSample {
  /** The connector's target, e.g. `portal`. */
  target: string;
  /** Undefined in a process that does not run the connectors: its breaker takes no calls. */
  circuit?: CircuitStateLabel;
  /** Dossiers parked for the target. */
  parked: number;
}

export type CircuitStateLabel = 'closed' | 'open' | 'half-open';
const CIRCUIT_STATES: readonly CircuitStateLabel[] = ['closed', 'open', 'half-open'];

/** The mismatches of the latest completed reconciliation run of a target, by category (every category, 0 included). */
export interface MismatchSample {
  target: string;
  byCategory: Readonly<Record<string, number>>;
}

/** The latest replay run of a target. */
export interface ReplaySample {
  target: string;
  /** One of `states`. */
  state: string;
  total: number;
  done: number;
  failed: number;
}

/** What the scrape samples from the hub's parts; each is set by the hub when the part runs. */
export interface MetricsSamplers {
  connectors?: () => Promise<readonly ConnectorSample[]>;
  mismatches?: () => Promise<readonly MismatchSample[]>;
  /** `states` is the closed set of replay states (a gauge per state, 1 for the run's). */
  replays?: { states: readonly string[]; sample: () => Promise<readonly ReplaySample[]> };
}

const HTTP_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
]);
/** Connector call outcomes: `ok` and the ConnectorError codes. */
const CALL_OUTCOMES: ReadonlySet<string> = new Set([
  'ok',
  'network',
  'timeout',
  'unavailable',
  'rate-limited',
  'circuit-open',
  'rejected',
  'mapping',
]);
/**
 * What a connector call was made for: `sync` (an outbound delivery of a dossier's state), `poll` (the
 * result of work the hub started there: a payment's status, a civil registration's result), `capture`
 * (the national portal's feed of online submissions).
 */
export type ConnectorOperation = 'sync' | 'poll' | 'capture';
const CALL_OPERATIONS: ReadonlySet<string> = new Set<ConnectorOperation>(['sync', 'poll', 'capture']);
/** Seconds, for calls to external systems (the national portal is known to be slow). */
const CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const WAIT_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/**
 * The `route` label of an HTTP request: the route pattern the router matched (`/v1/dossiers/:code`),
 * never the path, whose parameters are the caller's text (dossier codes, names); `unmatched` when no
 * route matched.
 */
export const routeLabel = (pattern: string | undefined): string =>
  pattern === undefined || pattern === '' ? 'unmatched' : pattern;

/**
 * The hub's Prometheus metrics, in a registry of their own. Labels are set only through the methods
 * below, each of which bounds its values to a closed set.
 */
export class HubMetrics {
  readonly registry = new Registry();
  private readonly ingestedEvents = this.counter(
    'lgsp_ingest_events_total',
    'Events received on ingest, by event type and outcome (appended, duplicate, rejected).',
    ['type', 'outcome'],
  );
  private readonly ingestRequests = this.counter(
    'lgsp_ingest_requests_total',
    'Ingest requests by transport, CloudEvents mode and response status.',
    ['transport', 'mode', 'status'],
  );
  private readonly appendSeconds = new Histogram({
    name: 'lgsp_store_append_seconds',
    help: 'Time from an append call to its durable commit.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly relayedEvents = this.counter(
    'lgsp_kafka_relayed_events_total',
    'Events the broker acknowledged on their province topic.',
    ['topic'],
  );
  private readonly unreadableEvents = this.counter(
    'lgsp_event_conversion_failures_total',
    'Stored events a consumer could not read at the version it receives (an upcaster or downcaster failed), by consumer kind (relay, webhooks, projection, connectors) and stored event type.',
    ['consumer', 'type'],
  );
  private readonly kafkaIngest = this.counter(
    'lgsp_kafka_ingest_messages_total',
    'Messages of the Kafka ingest topic, by outcome (appended, duplicate, dead-lettered, retrying) and error code.',
    ['outcome', 'code'],
  );
  private readonly rateLimited = this.counter(
    'lgsp_http_rate_limited_total',
    'Requests answered 429, by rate limit (client, address, metrics).',
    ['limit'],
  );
  private readonly connectionsRefused = this.counter(
    'lgsp_http_connections_refused_total',
    'Connections closed at once because their address had http.maxConnectionsPerAddress open.',
  );
  readonly headPosition = this.gauge(
    'lgsp_store_head_position',
    'Global position of the last committed event.',
  );
  private lagEvents = this.gauge(
    'lgsp_subscriber_lag_events',
    'Events committed but not yet processed by the subscriber.',
    ['subscriber'],
  );
  private lagSeconds = this.gauge(
    'lgsp_subscriber_lag_seconds',
    'Age of the oldest event the subscriber has not processed (0 when caught up).',
    ['subscriber'],
  );
  private checkpoint = this.gauge(
    'lgsp_subscriber_checkpoint_position',
    'Last global position the subscriber finished.',
    ['subscriber'],
  );

  private readonly webhookDeliveries = this.counter(
    'lgsp_webhook_deliveries_total',
    'Webhook delivery tries by endpoint and outcome (delivered, retry, parked, disabled).',
    ['webhook', 'outcome'],
  );
  private readonly webhookSeconds = new Histogram({
    name: 'lgsp_webhook_delivery_seconds',
    help: 'Duration of one webhook delivery try, from the request to the end of the answer.',
    labelNames: ['webhook'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
    registers: [this.registry],
  });
  private readonly webhooksDisabled = this.counter(
    'lgsp_webhook_disabled_total',
    'Webhooks the delivery disabled, by reason (gone: a 410; failing: continuous failure).',
    ['reason'],
  );
  private readonly webhookLagEvents = this.gauge(
    'lgsp_webhook_lag_events',
    'Events of the log after the webhook checkpoint.',
    ['webhook'],
  );
  private readonly webhookLagSeconds = this.gauge(
    'lgsp_webhook_lag_seconds',
    'Age of the oldest event the webhook has not been delivered (0 when caught up).',
    ['webhook'],
  );
  private readonly webhookParked = this.gauge(
    'lgsp_webhook_parked_dossiers',
    'Dossiers parked for the webhook endpoint.',
    ['webhook'],
  );
  private readonly webhookState = this.gauge(
    'lgsp_webhook_state',
    "1 for the webhook endpoint's current state (active or disabled), 0 for the other.",
    ['webhook', 'state'],
  );
  private readonly webhookRateLimitWait = new Histogram({
    name: 'lgsp_webhook_rate_limit_wait_seconds',
    help: "Time a webhook delivery queued for the endpoint's rate limit (deliveries served at once are not counted).",
    labelNames: ['webhook'],
    buckets: WAIT_BUCKETS,
    registers: [this.registry],
  });

  private readonly connectorCalls = this.counter(
    'lgsp_connector_calls_total',
    'Calls of a connector to its external system, by operation (sync, poll, capture) and outcome (ok, or the error code: network, timeout, unavailable, rate-limited, circuit-open, rejected, mapping).',
    ['target', 'operation', 'outcome'],
  );
  private readonly connectorSeconds = new Histogram({
    name: 'lgsp_connector_call_seconds',
    help: 'Duration of one call of a connector to its external system, by operation (refusals by the open circuit are not counted).',
    labelNames: ['target', 'operation'],
    buckets: CALL_BUCKETS,
    registers: [this.registry],
  });
  private readonly connectorRateLimitWait = new Histogram({
    name: 'lgsp_connector_rate_limit_wait_seconds',
    help: "Time a connector call queued for the target's rate limit (calls served at once are not counted).",
    labelNames: ['target'],
    buckets: WAIT_BUCKETS,
    registers: [this.registry],
  });
  private readonly connectorCircuit = this.gauge(
    'lgsp_connector_circuit_state',
    "1 for the connector circuit breaker's current state (closed, open, half-open), 0 for the others.",
    ['target', 'state'],
  );
  private readonly connectorParked = this.gauge(
    'lgsp_connector_parked_dossiers',
    'Dossiers parked for the connector target.',
    ['target'],
  );
  private readonly mismatches = this.gauge(
    'lgsp_reconciliation_mismatches',
    'Mismatches found by the latest completed reconciliation run of the target, by category.',
    ['target', 'category'],
  );
  private readonly replayItems = this.gauge(
    'lgsp_replay_items',
    'Items (dossiers or events) of the latest replay run of the target: total, done, failed.',
    ['target', 'kind'],
  );
  private readonly replayState = this.gauge(
    'lgsp_replay_state',
    "1 for the state of the target's latest replay run, 0 for the other states.",
    ['target', 'state'],
  );
  private readonly httpSeconds = new Histogram({
    name: 'lgsp_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status, from the request to the end of the answer.',
    labelNames: ['method', 'route', 'status'],
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });

  private readonly hubRole = this.gauge(
    'lgsp_hub_role',
    'Roles of the hub process (LGSP_ROLES): 1 for each role it runs, 0 for the others.',
    ['role'],
  );

  /** What the scrape samples; see {@link MetricsSamplers}. */
  readonly samplers: MetricsSamplers = {};

  private readonly webhookFailing = this.gauge(
    'lgsp_webhook_failing',
    "1 while the webhook endpoint's tries have all failed since its last success (webhooks have no circuit breaker: a failing endpoint is retried, then disabled), else 0.",
    ['webhook'],
  );

  /** Samples every webhook at scrape time; set by the hub when webhooks are on. */
  webhookSampler: (() => Promise<readonly WebhookSample[]>) | undefined;

  /** A counter or gauge of the hub's registry; label values are set by the methods below. */
  private counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) {
    return new Counter<L>({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) {
    return new Gauge<L>({ name, help, labelNames, registers: [this.registry] });
  }

  /**
   * @param options.defaultMetrics Node's default metrics (`process_*`, `nodejs_*`), under their standard
   *   names so that stock Node.js dashboards read them. @defaultValue true
   */
  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The roles this process runs among `all` (set once at start-up). */
  roles(all: readonly string[], running: readonly string[]): void {
    for (const role of all) this.hubRole.set({ role }, running.includes(role) ? 1 : 0);
  }

  /** One event appended by ingest, and how long its append took. */
  eventAppended(type: unknown, seconds: number): void {
    this.ingestedEvents.inc({ type: eventTypeLabel(type), outcome: 'appended' });
    this.appendSeconds.observe(seconds);
  }

  /** One event ingest found already stored. */
  eventDuplicate(type: unknown): void {
    this.ingestedEvents.inc({ type: eventTypeLabel(type), outcome: 'duplicate' });
  }

  /** One event ingest refused with the DomainError `code`. */
  eventRejected(type: unknown, code: unknown): void {
    this.ingestedEvents.inc({ type: eventTypeLabel(type), outcome: `rejected-${errorCodeLabel(code)}` });
  }

  /** One HTTP ingest request answered 2xx. */
  ingestRequest(mode: 'structured' | 'batch' | 'binary', status: 200 | 201): void {
    this.ingestRequests.inc({ transport: 'http', mode, status: status === 200 ? '200' : '201' });
  }

  /** Events the broker acknowledged on `topic` (one per province: the province codes are checked at ingest). */
  relayed(topic: string, count: number): void {
    this.relayedEvents.inc({ topic }, count);
  }

  /**
   * A stored event of `type` that a consumer (`relay`, `webhooks`, `projection`, `connectors`) could not
   * read at the version it receives: parked (or left out) for that consumer.
   */
  eventUnreadable(consumer: 'relay' | 'webhooks' | 'projection' | 'connectors', type: unknown): void {
    this.unreadableEvents.inc({ consumer, type: eventTypeLabel(type) });
  }

  /** What became of one record of the Kafka ingest topic; `code` for a dead-lettered or retrying one. */
  kafkaIngested(outcome: string, code?: string): void {
    this.kafkaIngest.inc({
      outcome: KAFKA_OUTCOMES.has(outcome) ? outcome : 'other',
      code: code === undefined ? '' : code === 'error' ? 'error' : errorCodeLabel(code),
    });
  }

  /** One request answered 429 by `limit`. */
  requestRateLimited(limit: RateLimitPolicy): void {
    this.rateLimited.inc({ limit });
  }

  /** One connection closed at once by the per-address cap. */
  connectionRefused(): void {
    this.connectionsRefused.inc();
  }

  /** One webhook delivery try and its outcome. */
  webhookAttempt(webhook: string, outcome: string, seconds: number): void {
    // The labelled children are kept per webhook: this runs for every delivery.
    let children = this.webhookChildren.get(webhook);
    if (children === undefined) {
      children = { seconds: this.webhookSeconds.labels({ webhook }), outcomes: new Map() };
      this.webhookChildren.set(webhook, children);
    }
    let counter = children.outcomes.get(outcome);
    if (counter === undefined) {
      counter = this.webhookDeliveries.labels({ webhook, outcome });
      children.outcomes.set(outcome, counter);
    }
    counter.inc();
    children.seconds.observe(seconds);
  }

  private readonly webhookChildren = new Map<
    string,
    { seconds: { observe(v: number): void }; outcomes: Map<string, { inc(): void }> }
  >();

  /** A webhook delivery waited `seconds` for the endpoint's rate limit. */
  webhookRateLimitWaited(webhook: string, seconds: number): void {
    this.webhookRateLimitWait.observe({ webhook }, seconds);
  }

  /**
   * One call of a connector to `target` for `operation`: `ok` or the ConnectorError code, and how long
   * it took.
   */
  connectorCall(target: string, operation: ConnectorOperation, outcome: string, seconds: number): void {
    const label = CALL_OUTCOMES.has(outcome) ? outcome : 'other';
    const op = CALL_OPERATIONS.has(operation) ? operation : 'other';
    this.connectorCalls.inc({ target, operation: op, outcome: label });
    // A refusal by the open circuit never reached the target: it has no duration.
    if (label !== 'circuit-open') this.connectorSeconds.observe({ target, operation: op }, seconds);
  }

  /** A connector call waited `seconds` for the target's rate limit. */
  connectorRateLimitWaited(target: string, seconds: number): void {
    this.connectorRateLimitWait.observe({ target }, seconds);
  }

  /** One HTTP request answered; `route` is the router's pattern (see {@link routeLabel}). */
  httpRequest(method: string, route: string | undefined, status: number, seconds: number): void {
    // The labelled child is kept per (method, route, status): this runs for every request.
    const key = `${method} ${status} ${route ?? ''}`;
    let child = this.httpChildren.get(key);
    if (child === undefined) {
      child = this.httpSeconds.labels({
        method: HTTP_METHODS.has(method) ? method : 'other',
        route: routeLabel(route),
        status: Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : 'other',
      });
      // Keys come from the router and the closed sets above, save an odd method: bound the map anyway.
      if (this.httpChildren.size < 10_000) this.httpChildren.set(key, child);
    }
    child.observe(seconds);
  }

  private readonly httpChildren = new Map<string, { observe(v: number): void }>();

  /** A webhook the delivery disabled. */
  webhookDisabled(reason: 'gone' | 'failing'): void {
    this.webhooksDisabled.inc({ reason });
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
    if (this.webhookSampler) {
      this.webhookLagEvents.reset();
      this.webhookLagSeconds.reset();
      this.webhookParked.reset();
      this.webhookState.reset();
      this.webhookFailing.reset();
      for (const w of await this.webhookSampler()) {
        this.webhookFailing.set({ webhook: w.id }, w.failing === true ? 1 : 0);
        this.webhookLagEvents.set({ webhook: w.id }, w.lagEvents);
        this.webhookLagSeconds.set({ webhook: w.id }, w.lagSeconds);
        this.webhookParked.set({ webhook: w.id }, w.parked);
        this.webhookState.set({ webhook: w.id, state: 'active' }, w.state === 'active' ? 1 : 0);
        this.webhookState.set({ webhook: w.id, state: 'disabled' }, w.state === 'disabled' ? 1 : 0);
      }
    }
    await this.sample();
    return this.registry.metrics();
  }

  private async sample(): Promise<void> {
    const { connectors, mismatches, replays } = this.samplers;
    if (connectors) {
      this.connectorCircuit.reset();
      this.connectorParked.reset();
      for (const c of await connectors()) {
        if (c.circuit !== undefined)
          for (const state of CIRCUIT_STATES)
            this.connectorCircuit.set({ target: c.target, state }, c.circuit === state ? 1 : 0);
        this.connectorParked.set({ target: c.target }, c.parked);
      }
    }
    if (mismatches) {
      this.mismatches.reset();
      for (const m of await mismatches())
        for (const [category, n] of Object.entries(m.byCategory))
          this.mismatches.set({ target: m.target, category }, n);
    }
    if (replays) {
      this.replayItems.reset();
      this.replayState.reset();
      for (const r of await replays.sample()) {
        this.replayItems.set({ target: r.target, kind: 'total' }, r.total);
        this.replayItems.set({ target: r.target, kind: 'done' }, r.done);
        this.replayItems.set({ target: r.target, kind: 'failed' }, r.failed);
        for (const state of replays.states)
          this.replayState.set({ target: r.target, state }, r.state === state ? 1 : 0);
      }
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
