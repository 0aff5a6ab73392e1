import { settingsObject } from './schema.js';
import { intFromEnv, type Env } from './env.js';

export interface MetricsConfig {
  /**
   * When set, `/metrics` answers only `Authorization: Bearer <token>` (16 characters or more; never
   * logged). null: open, as probes and Prometheus inside the cluster expect. @defaultValue null (env `LGSP_METRICS_TOKEN`)
   */
  token: string | null;
  /** When set, `/metrics` is served on this port only (a listener of its own), not on `http.port`. @defaultValue null (env `LGSP_METRICS_PORT`) */
  port: number | null;
  /** The address of that listener; null: `http.host`. @defaultValue null */
  host: string | null;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

export interface LogConfig {
  /** @defaultValue "info" (env `LGSP_LOG_LEVEL`) */
  level: (typeof LOG_LEVELS)[number];
  /**
   * `json`: one JSON object per line; `pretty`: readable lines and a start-up summary; `auto`: pretty
   * when stdout is a terminal, JSON otherwise. @defaultValue "auto" (env `LGSP_LOG_FORMAT`)
   */
  format: (typeof LOG_FORMATS)[number];
}

export const METRICS_DEFAULTS: MetricsConfig = { token: null, port: null, host: null };
export const LOG_DEFAULTS: LogConfig = { level: 'info', format: 'auto' };

export const METRICS_SCHEMA = settingsObject({
  token: { type: ['string', 'null'], minLength: 16, maxLength: 500, pattern: '^[\\x21-\\x7e]+$' },
  port: { type: ['integer', 'null'], minimum: 0, maximum: 65535 },
  host: { type: ['string', 'null'], minLength: 1 },
});

export const LOG_SCHEMA = settingsObject({ level: { enum: LOG_LEVELS }, format: { enum: LOG_FORMATS } });

export function applyMetricsEnv(metrics: MetricsConfig, env: Env, problems: string[]): void {
  if (env.LGSP_METRICS_TOKEN) {
    if (!/^[\x21-\x7e]{16,500}$/.test(env.LGSP_METRICS_TOKEN))
      problems.push('LGSP_METRICS_TOKEN: 16 to 500 printable ASCII characters, no spaces');
    else metrics.token = env.LGSP_METRICS_TOKEN;
  }
  const port = intFromEnv(env, problems, 'LGSP_METRICS_PORT', 0, 65535);
  if (port !== undefined) metrics.port = port;
}

export function applyLogEnv(log: LogConfig, env: Env, problems: string[]): void {
  if (env.LGSP_LOG_LEVEL) {
    const level = LOG_LEVELS.find((l) => l === env.LGSP_LOG_LEVEL);
    if (level === undefined) problems.push(`LGSP_LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}`);
    else log.level = level;
  }
  if (env.LGSP_LOG_FORMAT) {
    const format = LOG_FORMATS.find((f) => f === env.LGSP_LOG_FORMAT);
    if (format === undefined) problems.push(`LGSP_LOG_FORMAT: must be one of ${LOG_FORMATS.join(', ')}`);
    else log.format = format;
  }
}

/**
 * OpenTelemetry tracing (README, "Tracing"). Set by the standard `OTEL_*` variables; the exporter reads
 * its own (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`,
 * `OTEL_BSP_*`…) when it starts.
 */
export interface TracingConfig {
  /**
   * `otlp`: spans exported over OTLP/HTTP. `none`: no SDK loaded, spans are `@opentelemetry/api` no-ops.
   * Off unless asked for, unlike the OpenTelemetry default. @defaultValue "none" (env `OTEL_TRACES_EXPORTER`;
   * `OTEL_SDK_DISABLED=true` forces `none`)
   */
  exporter: 'none' | 'otlp';
  /** The spans' `service.name`. @defaultValue "lgsp-hub" (env `OTEL_SERVICE_NAME`) */
  serviceName: string;
  /**
   * false: `@opentelemetry/api` is not even loaded (the benchmark's baseline for "no instrumentation");
   * the traceparents are still stored and passed through. @defaultValue true (env `LGSP_TRACING_LOAD_API`)
   */
  loadApi: boolean;
  /**
   * Which traces are recorded. @defaultValue "parentbased_always_on" (env `OTEL_TRACES_SAMPLER`: `always_on`,
   * `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off`, `parentbased_traceidratio`)
   */
  sampler: (typeof TRACE_SAMPLERS)[number];
  /** The ratio of the `…traceidratio` samplers, 0 to 1. @defaultValue 1 (env `OTEL_TRACES_SAMPLER_ARG`) */
  samplerRatio: number;
  /**
   * The batch span processor (env `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_EXPORT_TIMEOUT`,
   * `OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`). @defaultValue 5000 ms, 30000 ms, 2048, 512
   */
  batch: {
    scheduledDelayMs: number;
    exportTimeoutMs: number;
    maxQueueSize: number;
    maxExportBatchSize: number;
  };
}

export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

export const TRACING_DEFAULTS: TracingConfig = {
  exporter: 'none',
  serviceName: 'lgsp-hub',
  loadApi: true,
  sampler: 'parentbased_always_on',
  samplerRatio: 1,
  batch: { scheduledDelayMs: 5000, exportTimeoutMs: 30_000, maxQueueSize: 2048, maxExportBatchSize: 512 },
};

export const TRACING_SCHEMA = settingsObject({
  exporter: { enum: ['none', 'otlp'] },
  serviceName: { type: 'string', minLength: 1, maxLength: 200 },
  loadApi: { type: 'boolean' },
  sampler: { enum: TRACE_SAMPLERS },
  samplerRatio: { type: 'number', minimum: 0, maximum: 1 },
  batch: settingsObject({
    scheduledDelayMs: { type: 'integer', minimum: 1, maximum: 3_600_000 },
    exportTimeoutMs: { type: 'integer', minimum: 1, maximum: 3_600_000 },
    maxQueueSize: { type: 'integer', minimum: 1, maximum: 10_000_000 },
    maxExportBatchSize: { type: 'integer', minimum: 1, maximum: 10_000_000 },
  }),
});

/** The exporter's protocols the hub has: OTLP/HTTP with JSON (`@opentelemetry/exporter-trace-otlp-http`). */
const OTLP_PROTOCOLS = ['http/json'];

export function applyTracingEnv(tracing: TracingConfig, env: Env, problems: string[]): void {
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter) {
    if (exporter === 'otlp' || exporter === 'none') tracing.exporter = exporter;
    else problems.push(`OTEL_TRACES_EXPORTER: "${exporter}" is not supported; use otlp or none`);
  }
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') tracing.exporter = 'none';
  if (env.OTEL_SERVICE_NAME) tracing.serviceName = env.OTEL_SERVICE_NAME;
  for (const name of ['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] as const) {
    const protocol = env[name]?.trim();
    if (protocol && !OTLP_PROTOCOLS.includes(protocol))
      problems.push(`${name}: "${protocol}" is not supported; the hub exports ${OTLP_PROTOCOLS.join(', ')}`);
  }
  const sampler = env.OTEL_TRACES_SAMPLER?.trim();
  if (sampler) {
    const known = TRACE_SAMPLERS.find((s) => s === sampler);
    if (known === undefined)
      problems.push(`OTEL_TRACES_SAMPLER: must be one of ${TRACE_SAMPLERS.join(', ')}`);
    else tracing.sampler = known;
  }
  const ratio = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  if (ratio) {
    const n = Number(ratio);
    if (!Number.isFinite(n) || n < 0 || n > 1)
      problems.push('OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1');
    else tracing.samplerRatio = n;
  }
  const b = tracing.batch;
  b.scheduledDelayMs =
    intFromEnv(env, problems, 'OTEL_BSP_SCHEDULE_DELAY', 1, 3_600_000) ?? b.scheduledDelayMs;
  b.exportTimeoutMs = intFromEnv(env, problems, 'OTEL_BSP_EXPORT_TIMEOUT', 1, 3_600_000) ?? b.exportTimeoutMs;
  b.maxQueueSize = intFromEnv(env, problems, 'OTEL_BSP_MAX_QUEUE_SIZE', 1, 10_000_000) ?? b.maxQueueSize;
  b.maxExportBatchSize =
    intFromEnv(env, problems, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 1, 10_000_000) ?? b.maxExportBatchSize;
  const load = env.LGSP_TRACING_LOAD_API?.trim();
  if (load) {
    if (load === 'true' || load === 'false') tracing.loadApi = load === 'true';
    else problems.push('LGSP_TRACING_LOAD_API: must be true or false');
  }
}

export function checkTracing(tracing: TracingConfig, problems: string[]): void {
  if (tracing.batch.maxExportBatchSize > tracing.batch.maxQueueSize)
    problems.push('tracing.batch: maxExportBatchSize must not exceed maxQueueSize (OTEL_BSP_*)');
  if (tracing.exporter !== 'none' && !tracing.loadApi)
    problems.push(
      'tracing: an exporter needs the OpenTelemetry API (LGSP_TRACING_LOAD_API=false with OTEL_TRACES_EXPORTER=otlp)',
    );
}
