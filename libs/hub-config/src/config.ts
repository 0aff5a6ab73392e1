import { integer, settingsObject } from './schema.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import {
  applyConnectorEnv,
  CONNECTORS_DEFAULTS,
  CONNECTORS_SCHEMA,
  SIMULATORS_DEFAULTS,
  SIMULATORS_SCHEMA,
  type ConnectorsConfig,
  type SimulatorsConfig,
} from './connectors.js';
import type { Env } from './env.js';
import {
  applyHttpEnv,
  checkHttp,
  HTTP_DEFAULTS,
  HTTP_SCHEMA,
  RATE_LIMIT_DEFAULTS,
  RATE_LIMIT_SCHEMA,
  type HttpConfig,
  type RateLimitConfig,
} from './http.js';
import { applyKafkaEnv, KAFKA_DEFAULTS, KAFKA_SCHEMA, type KafkaConfig } from './kafka.js';
import {
  applyLogEnv,
  applyMetricsEnv,
  applyTracingEnv,
  checkTracing,
  LOG_DEFAULTS,
  LOG_SCHEMA,
  METRICS_DEFAULTS,
  METRICS_SCHEMA,
  TRACING_DEFAULTS,
  TRACING_SCHEMA,
  type LogConfig,
  type MetricsConfig,
  type TracingConfig,
} from './observability.js';
import {
  applyStorageEnv,
  STORAGE_DEFAULTS,
  STORAGE_SCHEMA_PROPERTIES,
  SUBSCRIPTIONS_DEFAULTS,
  SUBSCRIPTIONS_SCHEMA,
  type StorageConfig,
  type SubscriptionsConfig,
} from './storage.js';

import { applyAuthEnv, AUTH_DEFAULTS, AUTH_SCHEMA, checkAuth, type AuthConfig } from './auth.js';
import {
  applyCheckpointsEnv,
  CHECKPOINTS_DEFAULTS,
  CHECKPOINTS_SCHEMA,
  type CheckpointsConfig,
} from './checkpoints.js';
import { applyPrivacyEnv, PRIVACY_DEFAULTS, PRIVACY_SCHEMA, type PrivacyConfig } from './privacy.js';
import { applyIngestEnv, checkIngest, INGEST_DEFAULTS, INGEST_SCHEMA, type IngestConfig } from './ingest.js';
import { applyRolesEnv, checkRoles, HUB_ROLES, ROLES_SCHEMA, type HubRole } from './roles.js';
import {
  applyWebhooksEnv,
  checkWebhooks,
  WEBHOOKS_DEFAULTS,
  WEBHOOKS_SCHEMA,
  type WebhooksConfig,
} from './webhooks.js';

/**
 * The hub's configuration: one JSON file (`LGSP_CONFIG`) plus environment overrides. Every value
 * has a documented default; a bad value stops start-up with its path and the reason. Each area (its
 * settings, defaults, schema and variables) lives in a module of its own; this one puts them together.
 */
export interface HubConfig extends StorageConfig {
  /**
   * What this process runs: `api`, `relay`, `projection`, `connectors`, `webhooks`, `replay` (see
   * {@link HUB_ROLES}). Processes with different roles share a PostgreSQL store; the embedded SQLite
   * store runs them all. @defaultValue every role (env `LGSP_ROLES`: `all` or a comma-separated list)
   */
  roles: HubRole[];
  http: HttpConfig;
  rateLimit: RateLimitConfig;
  /** Client tokens (expiry, rotation) and JWT logins (README, "Clients and credentials"). */
  auth: AuthConfig;
  metrics: MetricsConfig;
  kafka: KafkaConfig;
  ingest: IngestConfig;
  adminUnits: {
    /**
     * The administrative-unit list (format of the national list, 34 provinces / 3,321 communes).
     * null uses the small sample shipped in `reference/`. @defaultValue null (env `LGSP_ADMIN_UNITS_FILE`)
     */
    file: string | null;
  };
  subscriptions: SubscriptionsConfig;
  connectors: ConnectorsConfig;
  replay: {
    /** A replay of more items (dossiers or events) than this needs an explicit confirmation. @defaultValue 1000 */
    confirmAbove: number;
    /** Items per chunk; a replay's cursor is saved after each chunk. @defaultValue 100 */
    chunkSize: number;
    /** How often the replay executor looks for work when idle, in ms. @defaultValue 500 */
    pollMs: number;
  };
  simulators: SimulatorsConfig;
  /** Webhook subscriptions and their delivery (README, "Webhooks"). */
  webhooks: WebhooksConfig;
  /** Signed checkpoints of the event log (README, "Signed checkpoints"). */
  checkpoints: CheckpointsConfig;
  /** Personal data: sealed per subject, erasure, retention (README, "Personal data"). */
  privacy: PrivacyConfig;
  log: LogConfig;
  /** OpenTelemetry tracing, off by default (README, "Tracing"). */
  tracing: TracingConfig;
}

export const DEFAULT_CONFIG: HubConfig = {
  roles: [...HUB_ROLES],
  http: HTTP_DEFAULTS,
  rateLimit: RATE_LIMIT_DEFAULTS,
  auth: AUTH_DEFAULTS,
  metrics: METRICS_DEFAULTS,
  ...STORAGE_DEFAULTS,
  kafka: KAFKA_DEFAULTS,
  ingest: INGEST_DEFAULTS,
  adminUnits: { file: null },
  subscriptions: SUBSCRIPTIONS_DEFAULTS,
  connectors: CONNECTORS_DEFAULTS,
  replay: { confirmAbove: 1000, chunkSize: 100, pollMs: 500 },
  simulators: SIMULATORS_DEFAULTS,
  webhooks: WEBHOOKS_DEFAULTS,
  checkpoints: CHECKPOINTS_DEFAULTS,
  privacy: PRIVACY_DEFAULTS,
  log: LOG_DEFAULTS,
  tracing: TRACING_DEFAULTS,
};

const schema = settingsObject({
  roles: ROLES_SCHEMA,
  http: HTTP_SCHEMA,
  rateLimit: RATE_LIMIT_SCHEMA,
  auth: AUTH_SCHEMA,
  metrics: METRICS_SCHEMA,
  ...STORAGE_SCHEMA_PROPERTIES,
  kafka: KAFKA_SCHEMA,
  ingest: INGEST_SCHEMA,
  adminUnits: settingsObject({ file: { type: ['string', 'null'], minLength: 1 } }),
  subscriptions: SUBSCRIPTIONS_SCHEMA,
  connectors: CONNECTORS_SCHEMA,
  replay: settingsObject({
    confirmAbove: integer(0, 100_000_000),
    chunkSize: integer(1, 1000),
    pollMs: integer(10, 60_000),
  }),
  simulators: SIMULATORS_SCHEMA,
  webhooks: WEBHOOKS_SCHEMA,
  checkpoints: CHECKPOINTS_SCHEMA,
  privacy: PRIVACY_SCHEMA,
  log: LOG_SCHEMA,
  tracing: TRACING_SCHEMA,
});

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const validate = new Ajv2020({ allErrors: true }).compile(schema);

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
  merged.roles = HUB_ROLES.filter((r) => merged.roles.includes(r));
  if (merged.adminUnits.file) merged.adminUnits.file = resolve(merged.adminUnits.file);
  if (merged.checkpoints.keyFile) merged.checkpoints.keyFile = resolve(merged.checkpoints.keyFile);
  if (merged.privacy.masterKeyFile) merged.privacy.masterKeyFile = resolve(merged.privacy.masterKeyFile);
  return merged;
}

/** Every area's variables, in one order, so that several bad ones are listed the same way each time. */
function applyEnv(c: HubConfig, env: Env, problems: string[]): void {
  applyRolesEnv(c, env, problems);
  applyHttpEnv(c.http, env, problems);
  applyStorageEnv(c, env, problems);
  applyKafkaEnv(c.kafka, env, problems);
  applyMetricsEnv(c.metrics, env, problems);
  applyConnectorEnv(c, env, problems);
  applyIngestEnv(c.ingest, env, problems);
  applyWebhooksEnv(c.webhooks, env, problems);
  applyAuthEnv(c.auth, env, problems);
  applyCheckpointsEnv(c.checkpoints, env);
  applyPrivacyEnv(c.privacy, env, problems);
  if (env.LGSP_ADMIN_UNITS_FILE) c.adminUnits.file = env.LGSP_ADMIN_UNITS_FILE;
  applyLogEnv(c.log, env, problems);
  applyTracingEnv(c.tracing, env, problems);
}

/** Rules between settings, checked once every source is applied. */
function checkCombinations(c: HubConfig, problems: string[]): void {
  checkRoles(c, problems);
  checkHttp(c.http, problems);
  checkIngest(c.ingest, problems);
  checkWebhooks(c.webhooks, problems);
  checkAuth(c.auth, problems);
  checkTracing(c.tracing, problems);
  if (c.metrics.port !== null && c.metrics.port !== 0 && c.metrics.port === c.http.port)
    problems.push(`metrics.port (${c.metrics.port}) must differ from http.port`);
}

function deepMerge<T>(base: T, over: unknown): T {
  if (over === undefined) return structuredClone(base);
  if (base === null || typeof base !== 'object' || Array.isArray(base)) return over as T;
  const out = structuredClone(base) as Record<string, unknown>;
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) {
    out[k] = deepMerge((base as Record<string, unknown>)[k], v);
  }
  return out as T;
}
