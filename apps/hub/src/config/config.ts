import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';

/**
 * The hub's configuration: one JSON file (`LGSP_CONFIG`) plus environment overrides. Every value
 * has a documented default; a bad value stops start-up with its path and the reason.
 */
export interface HubConfig {
  http: {
    /** @defaultValue "0.0.0.0" (env `LGSP_HTTP_HOST`) */
    host: string;
    /** @defaultValue 3000 (env `LGSP_HTTP_PORT`) */
    port: number;
    /** Largest request body accepted, in bytes; larger gets 413. @defaultValue 1048576 */
    bodyLimitBytes: number;
    /** A connection that has not sent a request's headers this long after it began is answered 408 and closed. @defaultValue 10000 */
    headersTimeoutMs: number;
    /**
     * A request whose headers and body have not all arrived this long after it began is answered 408
     * and closed; 0 = no limit. A response, however long (the SSE tail), is not limited. @defaultValue 60000
     */
    requestTimeoutMs: number;
    /** An idle keep-alive connection is closed after this (longer than a load balancer's idle timeout, often 60 s). @defaultValue 72000 */
    keepAliveTimeoutMs: number;
    /**
     * Connections one remote address (an IPv6 /64) may hold open; more are closed at once. 0 = no cap.
     * Room for a client that opens a connection per request in flight, and for many behind one NAT or
     * load balancer. @defaultValue 1024
     */
    maxConnectionsPerAddress: number;
  };
  /**
   * Token buckets per process (replicas each count their own). A refused request gets 429 with
   * `Retry-After` and the `RateLimit-Policy` / `RateLimit` headers. Health probes are never limited.
   */
  rateLimit: {
    /**
     * Each authenticated client, unless the client has a limit of its own (`lgsp clients create|update
     * --rate-limit`). Enough for a commune's bulk load or a province's few hundred events a second, and
     * well below what one process serves (about 13,000 requests/s on 2 cores), so that one client cannot
     * take the hub from the others. @defaultValue 1000 units/s, burst 2000 (a unit is a request; a read of the log, one per 10 events)
     */
    client: RateLimitSettings;
    /**
     * Each admin and operator client (the bootstrap admin included) without a limit of its own: the
     * hub's own operators and their tools (the CLI, reconciliation checks paging the whole log), high
     * enough to stop only a runaway script. @defaultValue 20000 units/s, burst 40000
     */
    operator: RateLimitSettings;
    /**
     * Each remote address, for the requests that have no valid token (none, a bad one, the payment
     * callbacks): throttles token guessing and floods of bad tokens. @defaultValue 100 requests/s, burst 200
     */
    address: RateLimitSettings;
    /** Each remote address, for `/metrics`. @defaultValue 10 requests/s, burst 20 */
    metrics: RateLimitSettings;
    /**
     * A refused request is answered after this long (at most its `Retry-After`), so a client that keeps
     * sending regardless holds each connection that long instead of costing the hub a refusal per
     * round trip; at most `refusalsHeld` wait at once, beyond that they are answered at once.
     * @defaultValue 1000 ms, 10000 held
     */
    refusalDelayMs: number;
    refusalsHeld: number;
  };
  metrics: {
    /**
     * When set, `/metrics` answers only `Authorization: Bearer <token>` (16 characters or more; never
     * logged). null: open, as probes and Prometheus inside the cluster expect. @defaultValue null (env `LGSP_METRICS_TOKEN`)
     */
    token: string | null;
    /** When set, `/metrics` is served on this port only (a listener of its own), not on `http.port`. @defaultValue null (env `LGSP_METRICS_PORT`) */
    port: number | null;
    /** The address of that listener; null: `http.host`. @defaultValue null */
    host: string | null;
  };
  /** Folder of the embedded store and the generated admin token. @defaultValue "./data" (env `LGSP_DATA_DIR`) */
  dataDir: string;
  /**
   * `sqlite`: the embedded store, in `dataDir`, for one hub process. A `postgres://user@host:port/db`
   * URL: the production store, which several hub processes can share. @defaultValue "sqlite" (env `LGSP_STORE`)
   */
  store: string;
  postgres: {
    /** Schema holding the hub's tables; created when missing. @defaultValue "public" (env `LGSP_POSTGRES_SCHEMA`) */
    schema: string;
    /** Connections per hub process. @defaultValue 10 */
    poolSize: number;
  };
  /**
   * Names this hub process among the replicas sharing a PostgreSQL store (subscriber leases, logs).
   * null: `<hostname>:<pid>:<random>`. @defaultValue null (env `LGSP_INSTANCE_ID`)
   */
  instanceId: string | null;
  kafka: {
    /** Bootstrap brokers; empty = no Kafka. @defaultValue [] (env `LGSP_KAFKA_BROKERS`, comma-separated) */
    brokers: string[];
    /** Names the hub in the brokers' logs and quotas. @defaultValue "lgsp-hub" */
    clientId: string;
    /** First segment of every topic: `<prefix>.events.province.<code>`, `<prefix>.ingest`, `<prefix>.ingest.dlq`, `<prefix>.replay.<client>`. @defaultValue "lgsp" (env `LGSP_KAFKA_TOPIC_PREFIX`) */
    topicPrefix: string;
    /** How the hub creates the topics it needs when they do not exist. @defaultValue 6 partitions, replication factor 1 */
    topics: { partitions: number; replicationFactor: number };
    /** Publishes every stored event to its province topic. @defaultValue enabled, 200 events per produce */
    relay: { enabled: boolean; batchSize: number };
    /** Consumes the ingest topic in a consumer group. @defaultValue enabled, group "lgsp-hub-ingest" */
    ingest: { enabled: boolean; groupId: string };
    /**
     * Replays to a Kafka consumer (target `kafka:<client name>`, topic `<prefix>.replay.<client name>`):
     * events per second a run sends unless it says otherwise, and events per produce request.
     * @defaultValue 1000 events/s, 200 events per produce
     */
    replay: { ratePerSecond: number; batchSize: number };
  };
  ingest: {
    /** Most events in one batch request; more gets 413. @defaultValue 1000 */
    maxBatchEvents: number;
  };
  adminUnits: {
    /**
     * The administrative-unit list (format of the national list, 34 provinces / 3,321 communes).
     * null uses the small sample shipped in `reference/`. @defaultValue null (env `LGSP_ADMIN_UNITS_FILE`)
     */
    file: string | null;
  };
  subscriptions: {
    /** Events a subscriber reads per batch. @defaultValue 500 */
    batchSize: number;
    /**
     * With a PostgreSQL store, each subscriber runs in one replica at a time, under a lease that lapses
     * this long after its holder stopped renewing it; another replica takes over within about 1⅓ of it.
     * @defaultValue 10000 (env `LGSP_LEASE_TTL_MS`)
     */
    leaseTtlMs: number;
  };
  /**
   * The connectors to the external systems. By default every one is enabled and points at the
   * simulators' default addresses (`npm run simulators`, or `simulators.embedded`), so the hub runs end
   * to end on a laptop. `LGSP_CONNECTORS` picks the enabled ones: `all`, `none`, or a comma-separated
   * list of `portal`, `one-stop-shop`, `civil-registry`, `payments`.
   */
  connectors: {
    /**
     * The circuit breaker of each target (an explicit state machine: closed → open after
     * `failureThreshold` consecutive failures or `failureRatio` of at least `minimumCalls` calls in
     * `windowMs`; open → half-open after `coolDownMs`; half-open → closed after `halfOpenTrials`
     * successes, or open again on a failure). A connector's own `breaker` overrides these keys.
     * @defaultValue 5 failures, ratio 0.5 over 30 s with at least 10 calls, 30 s cool-down, 1 trial
     */
    breaker: BreakerSettings;
    /** The national portal: outbound sync (`connector.portal`) and capture of online submissions. */
    portal: ConnectorSettings & {
      /** @defaultValue "lgsp" (env `LGSP_PORTAL_USERNAME`) */
      username: string;
      /** Never logged. @defaultValue "lgsp" (env `LGSP_PORTAL_PASSWORD`) */
      password: string;
      /** Polls the portal for dossiers citizens submitted online and appends them as `dossier.submitted`. @defaultValue enabled, every 5000 ms, 100 per page */
      onlineCapture: { enabled: boolean; pollIntervalMs: number; pageSize: number };
    };
    /** The province's one-stop-shop: outbound sync (`connector.one-stop-shop`). */
    oneStopShop: ConnectorSettings & {
      /** Sent as `X-API-Key` when set; never logged. @defaultValue null (env `LGSP_ONE_STOP_SHOP_API_KEY`) */
      apiKey: string | null;
    };
    /** The civil registry: birth registrations out (`connector.civil-registry`), results polled back in. */
    civilRegistry: ConnectorSettings & {
      /** How often undecided registrations are polled. @defaultValue 2000 */
      pollIntervalMs: number;
    };
    /** The payment platform: payments requested when a fee is due (`connector.payments`), callbacks and polls back in. */
    payments: ConnectorSettings & {
      /** `MaDoiTac`. @defaultValue "LGSP" */
      partnerCode: string;
      /** Shared secret of `MaXacThuc`; never logged. @defaultValue "lgsp-dev-secret", the simulator's (env `LGSP_PAYMENTS_SECRET`) */
      secret: string;
      /** How often pending transactions are queried (growing to 30× for those that stay pending). @defaultValue 2000 */
      pollIntervalMs: number;
    };
  };
  replay: {
    /** A replay of more items (dossiers or events) than this needs an explicit confirmation. @defaultValue 1000 */
    confirmAbove: number;
    /** Items per chunk; a replay's cursor is saved after each chunk. @defaultValue 100 */
    chunkSize: number;
    /** How often the replay executor looks for work when idle, in ms. @defaultValue 500 */
    pollMs: number;
  };
  simulators: {
    /**
     * Starts the four simulators inside the hub process, each on the port of its connector's URL, with
     * the payment platform's callbacks sent to this hub. For demos and laptops (`npm start`); never in
     * production. @defaultValue false (env `LGSP_SIMULATORS=embedded`)
     */
    embedded: boolean;
  };
  log: {
    /** @defaultValue "info" (env `LGSP_LOG_LEVEL`) */
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  };
}

/** A token bucket: the sustained rate and what may go at once. */
export interface RateLimitSettings {
  ratePerSecond: number;
  burst: number;
}

export interface BreakerSettings {
  failureThreshold: number;
  failureRatio: number;
  windowMs: number;
  minimumCalls: number;
  coolDownMs: number;
  halfOpenTrials: number;
}

/** What every connector has. */
export interface ConnectorSettings {
  /** @defaultValue true (env `LGSP_CONNECTORS`) */
  enabled: boolean;
  /** Base URL of the system's API; the simulator's by default (env `LGSP_<SYSTEM>_URL`). */
  url: string;
  /** Attempts of a dossier's delivery before it parks (a data error parks at once). @defaultValue 6 */
  maxAttempts: number;
  /** Calls per second the system is sent at most. @defaultValue 20 */
  ratePerSecond: number;
  /** Overrides of `connectors.breaker` for this target. @defaultValue {} */
  breaker: Partial<BreakerSettings>;
}

export const CONNECTOR_NAMES = ['portal', 'one-stop-shop', 'civil-registry', 'payments'] as const;

export const DEFAULT_CONFIG: HubConfig = {
  http: {
    host: '0.0.0.0',
    port: 3000,
    bodyLimitBytes: 1_048_576,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 60_000,
    keepAliveTimeoutMs: 72_000,
    maxConnectionsPerAddress: 1024,
  },
  rateLimit: {
    client: { ratePerSecond: 1000, burst: 2000 },
    operator: { ratePerSecond: 20_000, burst: 40_000 },
    address: { ratePerSecond: 100, burst: 200 },
    metrics: { ratePerSecond: 10, burst: 20 },
    refusalDelayMs: 1000,
    refusalsHeld: 10_000,
  },
  metrics: { token: null, port: null, host: null },
  dataDir: './data',
  store: 'sqlite',
  postgres: { schema: 'public', poolSize: 10 },
  instanceId: null,
  kafka: {
    brokers: [],
    clientId: 'lgsp-hub',
    topicPrefix: 'lgsp',
    topics: { partitions: 6, replicationFactor: 1 },
    relay: { enabled: true, batchSize: 200 },
    ingest: { enabled: true, groupId: 'lgsp-hub-ingest' },
    replay: { ratePerSecond: 1000, batchSize: 200 },
  },
  ingest: { maxBatchEvents: 1000 },
  adminUnits: { file: null },
  subscriptions: { batchSize: 500, leaseTtlMs: 10_000 },
  connectors: {
    breaker: {
      failureThreshold: 5,
      failureRatio: 0.5,
      windowMs: 30_000,
      minimumCalls: 10,
      coolDownMs: 30_000,
      halfOpenTrials: 1,
    },
    portal: {
      enabled: true,
      url: 'http://127.0.0.1:4101',
      username: 'lgsp',
      password: 'lgsp',
      maxAttempts: 6,
      ratePerSecond: 20,
      breaker: {},
      onlineCapture: { enabled: true, pollIntervalMs: 5000, pageSize: 100 },
    },
    oneStopShop: {
      enabled: true,
      url: 'http://127.0.0.1:4102',
      apiKey: null,
      maxAttempts: 6,
      ratePerSecond: 20,
      breaker: {},
    },
    civilRegistry: {
      enabled: true,
      url: 'http://127.0.0.1:4103',
      maxAttempts: 6,
      ratePerSecond: 20,
      breaker: {},
      pollIntervalMs: 2000,
    },
    payments: {
      enabled: true,
      url: 'http://127.0.0.1:4104',
      partnerCode: 'LGSP',
      secret: 'lgsp-dev-secret',
      maxAttempts: 6,
      ratePerSecond: 20,
      breaker: {},
      pollIntervalMs: 2000,
    },
  },
  replay: { confirmAbove: 1000, chunkSize: 100, pollMs: 500 },
  simulators: { embedded: false },
  log: { level: 'info' },
};

const RATE_LIMIT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ratePerSecond: { type: 'number', exclusiveMinimum: 0, maximum: 1_000_000 },
    burst: { type: 'integer', minimum: 1, maximum: 1_000_000 },
  },
} as const;

const BREAKER_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    failureThreshold: { type: 'integer', minimum: 1, maximum: 1000 },
    failureRatio: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    windowMs: { type: 'integer', minimum: 100, maximum: 3_600_000 },
    minimumCalls: { type: 'integer', minimum: 1, maximum: 100_000 },
    coolDownMs: { type: 'integer', minimum: 10, maximum: 3_600_000 },
    halfOpenTrials: { type: 'integer', minimum: 1, maximum: 1000 },
  },
} as const;

function connectorSchema(own: Record<string, unknown>) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      enabled: { type: 'boolean' },
      url: { type: 'string', pattern: '^https?://[^\\s]+$' },
      maxAttempts: { type: 'integer', minimum: 1, maximum: 100 },
      ratePerSecond: { type: 'number', exclusiveMinimum: 0, maximum: 10_000 },
      breaker: BREAKER_SCHEMA,
      ...own,
    },
  } as const;
}

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    http: {
      type: 'object',
      additionalProperties: false,
      properties: {
        host: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        bodyLimitBytes: { type: 'integer', minimum: 1024, maximum: 104_857_600 },
        headersTimeoutMs: { type: 'integer', minimum: 100, maximum: 600_000 },
        requestTimeoutMs: { type: 'integer', minimum: 0, maximum: 3_600_000 },
        keepAliveTimeoutMs: { type: 'integer', minimum: 100, maximum: 3_600_000 },
        maxConnectionsPerAddress: { type: 'integer', minimum: 0, maximum: 1_000_000 },
      },
    },
    rateLimit: {
      type: 'object',
      additionalProperties: false,
      properties: {
        client: RATE_LIMIT_SCHEMA,
        operator: RATE_LIMIT_SCHEMA,
        address: RATE_LIMIT_SCHEMA,
        metrics: RATE_LIMIT_SCHEMA,
        refusalDelayMs: { type: 'integer', minimum: 0, maximum: 60_000 },
        refusalsHeld: { type: 'integer', minimum: 0, maximum: 1_000_000 },
      },
    },
    metrics: {
      type: 'object',
      additionalProperties: false,
      properties: {
        token: { type: ['string', 'null'], minLength: 16, maxLength: 500, pattern: '^[\\x21-\\x7e]+$' },
        port: { type: ['integer', 'null'], minimum: 0, maximum: 65535 },
        host: { type: ['string', 'null'], minLength: 1 },
      },
    },
    dataDir: { type: 'string', minLength: 1 },
    store: {
      type: 'string',
      pattern: '^(sqlite|postgres(ql)?://.+)$',
    },
    postgres: {
      type: 'object',
      additionalProperties: false,
      properties: {
        schema: { type: 'string', pattern: '^[a-z_][a-z0-9_]{0,62}$' },
        poolSize: { type: 'integer', minimum: 2, maximum: 200 },
      },
    },
    instanceId: { type: ['string', 'null'], pattern: '^[^\\s]{1,200}$' },
    kafka: {
      type: 'object',
      additionalProperties: false,
      properties: {
        brokers: { type: 'array', items: { type: 'string', pattern: '^[^\\s:]+:[0-9]{1,5}$' } },
        clientId: { type: 'string', minLength: 1, maxLength: 100 },
        topicPrefix: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,100}$' },
        topics: {
          type: 'object',
          additionalProperties: false,
          properties: {
            partitions: { type: 'integer', minimum: 1, maximum: 1000 },
            replicationFactor: { type: 'integer', minimum: 1, maximum: 10 },
          },
        },
        relay: {
          type: 'object',
          additionalProperties: false,
          properties: {
            enabled: { type: 'boolean' },
            batchSize: { type: 'integer', minimum: 1, maximum: 10_000 },
          },
        },
        ingest: {
          type: 'object',
          additionalProperties: false,
          properties: {
            enabled: { type: 'boolean' },
            groupId: { type: 'string', minLength: 1, maxLength: 200 },
          },
        },
        replay: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ratePerSecond: { type: 'number', exclusiveMinimum: 0, maximum: 1_000_000 },
            batchSize: { type: 'integer', minimum: 1, maximum: 10_000 },
          },
        },
      },
    },
    ingest: {
      type: 'object',
      additionalProperties: false,
      properties: { maxBatchEvents: { type: 'integer', minimum: 1, maximum: 10_000 } },
    },
    adminUnits: {
      type: 'object',
      additionalProperties: false,
      properties: { file: { type: ['string', 'null'], minLength: 1 } },
    },
    subscriptions: {
      type: 'object',
      additionalProperties: false,
      properties: {
        batchSize: { type: 'integer', minimum: 1, maximum: 10_000 },
        leaseTtlMs: { type: 'integer', minimum: 300, maximum: 600_000 },
      },
    },
    connectors: {
      type: 'object',
      additionalProperties: false,
      properties: {
        breaker: BREAKER_SCHEMA,
        portal: connectorSchema({
          username: { type: 'string', minLength: 1, maxLength: 200 },
          password: { type: 'string', minLength: 1, maxLength: 200 },
          onlineCapture: {
            type: 'object',
            additionalProperties: false,
            properties: {
              enabled: { type: 'boolean' },
              pollIntervalMs: { type: 'integer', minimum: 100, maximum: 3_600_000 },
              pageSize: { type: 'integer', minimum: 1, maximum: 1000 },
            },
          },
        }),
        oneStopShop: connectorSchema({ apiKey: { type: ['string', 'null'], minLength: 1, maxLength: 500 } }),
        civilRegistry: connectorSchema({
          pollIntervalMs: { type: 'integer', minimum: 100, maximum: 3_600_000 },
        }),
        payments: connectorSchema({
          partnerCode: { type: 'string', minLength: 1, maxLength: 50 },
          secret: { type: 'string', minLength: 1, maxLength: 500 },
          pollIntervalMs: { type: 'integer', minimum: 100, maximum: 3_600_000 },
        }),
      },
    },
    replay: {
      type: 'object',
      additionalProperties: false,
      properties: {
        confirmAbove: { type: 'integer', minimum: 0, maximum: 100_000_000 },
        chunkSize: { type: 'integer', minimum: 1, maximum: 1000 },
        pollMs: { type: 'integer', minimum: 10, maximum: 60_000 },
      },
    },
    simulators: {
      type: 'object',
      additionalProperties: false,
      properties: { embedded: { type: 'boolean' } },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      properties: { level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] } },
    },
  },
} as const;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const validate = new Ajv2020({ allErrors: true }).compile(schema);

type Env = Record<string, string | undefined>;

/** Reads the file named by `LGSP_CONFIG` (if any), applies environment overrides, validates. */
export function loadConfig(env: Env = process.env): HubConfig {
  let fromFile: unknown = {};
  const file = env.LGSP_CONFIG;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError([`LGSP_CONFIG: cannot read ${file}: ${(e as Error).message}`]);
    }
    try {
      fromFile = JSON.parse(text);
    } catch (e) {
      throw new ConfigError([`${file}: not valid JSON: ${(e as Error).message}`]);
    }
    if (fromFile === null || typeof fromFile !== 'object' || Array.isArray(fromFile)) {
      throw new ConfigError([`${file}: must hold a JSON object`]);
    }
  }
  const problems: string[] = [];
  if (!validate(fromFile)) {
    for (const e of validate.errors ?? []) {
      const where =
        e.keyword === 'additionalProperties'
          ? `${e.instancePath}/${String(e.params.additionalProperty)}`
          : e.instancePath;
      const what = e.keyword === 'additionalProperties' ? 'is not a known setting' : e.message;
      problems.push(`${file ?? 'config'}: ${where || '/'} ${what}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const merged = deepMerge(DEFAULT_CONFIG, fromFile as Partial<HubConfig>);
  applyEnv(merged, env, problems);
  checkCombinations(merged, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  merged.dataDir = resolve(merged.dataDir);
  if (merged.adminUnits.file) merged.adminUnits.file = resolve(merged.adminUnits.file);
  return merged;
}

function applyEnv(c: HubConfig, env: Env, problems: string[]): void {
  const int = (name: string, min: number, max: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}: "${raw}" must be an integer from ${min} to ${max}`);
      return undefined;
    }
    return n;
  };
  const port = int('LGSP_HTTP_PORT', 0, 65535);
  if (port !== undefined) c.http.port = port;
  if (env.LGSP_HTTP_HOST) c.http.host = env.LGSP_HTTP_HOST;
  if (env.LGSP_DATA_DIR) c.dataDir = env.LGSP_DATA_DIR;
  if (env.LGSP_STORE) {
    if (!/^(sqlite|postgres(ql)?:\/\/.+)$/.test(env.LGSP_STORE)) {
      problems.push(`LGSP_STORE: must be "sqlite" or a postgres:// URL, got "${redactUrl(env.LGSP_STORE)}"`);
    } else c.store = env.LGSP_STORE;
  }
  if (env.LGSP_POSTGRES_SCHEMA) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(env.LGSP_POSTGRES_SCHEMA)) {
      problems.push('LGSP_POSTGRES_SCHEMA: lower-case letters, digits and "_", not starting with a digit');
    } else c.postgres.schema = env.LGSP_POSTGRES_SCHEMA;
  }
  if (env.LGSP_INSTANCE_ID) {
    if (!/^[^\s]{1,200}$/.test(env.LGSP_INSTANCE_ID))
      problems.push('LGSP_INSTANCE_ID: 1 to 200 characters, no spaces');
    else c.instanceId = env.LGSP_INSTANCE_ID;
  }
  const leaseTtl = int('LGSP_LEASE_TTL_MS', 300, 600_000);
  if (leaseTtl !== undefined) c.subscriptions.leaseTtlMs = leaseTtl;
  if (env.LGSP_KAFKA_BROKERS) {
    const brokers = env.LGSP_KAFKA_BROKERS.split(',')
      .map((b) => b.trim())
      .filter(Boolean);
    const bad = brokers.filter((b) => !/^[^\s:]+:[0-9]{1,5}$/.test(b));
    if (bad.length > 0) problems.push(`LGSP_KAFKA_BROKERS: ${bad.join(', ')} must be host:port`);
    else c.kafka.brokers = brokers;
  }
  if (env.LGSP_KAFKA_TOPIC_PREFIX) {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(env.LGSP_KAFKA_TOPIC_PREFIX)) {
      problems.push('LGSP_KAFKA_TOPIC_PREFIX: letters, digits, ".", "_" and "-" only');
    } else c.kafka.topicPrefix = env.LGSP_KAFKA_TOPIC_PREFIX;
  }
  if (env.LGSP_METRICS_TOKEN) {
    if (!/^[\x21-\x7e]{16,500}$/.test(env.LGSP_METRICS_TOKEN))
      problems.push('LGSP_METRICS_TOKEN: 16 to 500 printable ASCII characters, no spaces');
    else c.metrics.token = env.LGSP_METRICS_TOKEN;
  }
  const metricsPort = int('LGSP_METRICS_PORT', 0, 65535);
  if (metricsPort !== undefined) c.metrics.port = metricsPort;
  applyConnectorEnv(c, env, problems);
  if (env.LGSP_ADMIN_UNITS_FILE) c.adminUnits.file = env.LGSP_ADMIN_UNITS_FILE;
  if (env.LGSP_LOG_LEVEL) {
    const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
    if (!levels.includes(env.LGSP_LOG_LEVEL))
      problems.push(`LGSP_LOG_LEVEL: must be one of ${levels.join(', ')}`);
    else c.log.level = env.LGSP_LOG_LEVEL as HubConfig['log']['level'];
  }
}

/** Rules between settings, checked once every source is applied. */
function checkCombinations(c: HubConfig, problems: string[]): void {
  const { headersTimeoutMs, requestTimeoutMs } = c.http;
  if (requestTimeoutMs > 0 && headersTimeoutMs > requestTimeoutMs)
    problems.push(
      `http.headersTimeoutMs (${headersTimeoutMs}) must not exceed http.requestTimeoutMs (${requestTimeoutMs})`,
    );
  if (c.metrics.port !== null && c.metrics.port !== 0 && c.metrics.port === c.http.port)
    problems.push(`metrics.port (${c.metrics.port}) must differ from http.port`);
}

function applyConnectorEnv(c: HubConfig, env: Env, problems: string[]): void {
  const { portal, oneStopShop, civilRegistry, payments } = c.connectors;
  const byName = { portal, 'one-stop-shop': oneStopShop, 'civil-registry': civilRegistry, payments };
  const list = env.LGSP_CONNECTORS?.trim();
  if (list) {
    const names =
      list === 'all' ? [...CONNECTOR_NAMES] : list === 'none' ? [] : list.split(',').map((n) => n.trim());
    const unknown = names.filter((n) => !(CONNECTOR_NAMES as readonly string[]).includes(n));
    if (unknown.length > 0)
      problems.push(
        `LGSP_CONNECTORS: unknown ${unknown.map((n) => `"${n}"`).join(', ')}; use all, none or a list of ${CONNECTOR_NAMES.join(', ')}`,
      );
    else for (const [name, settings] of Object.entries(byName)) settings.enabled = names.includes(name);
  }
  if (env.LGSP_PORTAL_ENABLED) {
    if (env.LGSP_PORTAL_ENABLED !== 'true' && env.LGSP_PORTAL_ENABLED !== 'false')
      problems.push(`LGSP_PORTAL_ENABLED: must be "true" or "false", got "${env.LGSP_PORTAL_ENABLED}"`);
    else portal.enabled = env.LGSP_PORTAL_ENABLED === 'true';
  }
  const urls: [string, ConnectorSettings][] = [
    ['LGSP_PORTAL_URL', portal],
    ['LGSP_ONE_STOP_SHOP_URL', oneStopShop],
    ['LGSP_CIVIL_REGISTRY_URL', civilRegistry],
    ['LGSP_PAYMENTS_URL', payments],
  ];
  for (const [name, settings] of urls) {
    const value = env[name];
    if (!value) continue;
    if (!/^https?:\/\/\S+$/.test(value))
      problems.push(`${name}: must be an http:// or https:// URL, got "${redactUrl(value)}"`);
    else settings.url = value;
  }
  if (env.LGSP_PORTAL_USERNAME) portal.username = env.LGSP_PORTAL_USERNAME;
  if (env.LGSP_PORTAL_PASSWORD) portal.password = env.LGSP_PORTAL_PASSWORD;
  if (env.LGSP_ONE_STOP_SHOP_API_KEY) oneStopShop.apiKey = env.LGSP_ONE_STOP_SHOP_API_KEY;
  if (env.LGSP_PAYMENTS_SECRET) payments.secret = env.LGSP_PAYMENTS_SECRET;
  if (env.LGSP_SIMULATORS) {
    if (env.LGSP_SIMULATORS !== 'embedded' && env.LGSP_SIMULATORS !== 'off')
      problems.push(`LGSP_SIMULATORS: must be "embedded" or "off", got "${env.LGSP_SIMULATORS}"`);
    else c.simulators.embedded = env.LGSP_SIMULATORS === 'embedded';
  }
}

/** The store's URL without its password, for logs and messages. */
export const redactUrl = (url: string): string => url.replace(/\/\/[^@/]*@/, '//***@');

function deepMerge<T>(base: T, over: unknown): T {
  if (over === undefined) return structuredClone(base);
  if (base === null || typeof base !== 'object' || Array.isArray(base)) return over as T;
  const out = structuredClone(base) as Record<string, unknown>;
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) {
    out[k] = deepMerge((base as Record<string, unknown>)[k], v);
  }
  return out as T;
}
