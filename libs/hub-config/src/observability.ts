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
