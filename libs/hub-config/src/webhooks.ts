import type { Env } from './env.js';
import { BOOLEAN, integer, positive, settingsObject } from './schema.js';

export interface WebhooksConfig {
  /** Webhook subscriptions and their delivery. @defaultValue true */
  enabled: boolean;
  /**
   * Allows `http` targets and private, loopback and link-local addresses (tests, closed networks).
   * Otherwise a webhook must be `https` to a public address, checked at creation and at each connection.
   * @defaultValue false (env `LGSP_WEBHOOKS_ALLOW_INSECURE=true`)
   */
  allowInsecureTargets: boolean;
  /** Dossiers in flight at once per endpoint (one dossier's events are never concurrent). @defaultValue 16 */
  concurrency: number;
  /** An endpoint's throttle when its webhook names none. @defaultValue 50 */
  ratePerSecond: number;
  /** The greatest `ratePerSecond` a webhook may ask. @defaultValue 1000 */
  maxRatePerSecond: number;
  /** Whole-request timeout of one try, in ms. @defaultValue 15000 */
  timeoutMs: number;
  /**
   * Delays before the 2nd, 3rd… tries, in seconds; once spent, the dossier parks for that endpoint.
   * @defaultValue [5, 300, 1800, 7200, 18000, 36000, 36000] (about 27.6 h with the first try)
   */
  retryDelaysSeconds: number[];
  /** Each delay is drawn within ±jitter of it. @defaultValue 0.2 */
  jitter: number;
  /** An endpoint failing every try for this long is disabled. @defaultValue 432000 (5 days) */
  disableAfterSeconds: number;
  /** How long a rotated-out secret keeps signing (a second signature). @defaultValue 86400 */
  secretOverlapSeconds: number;
  /** How often the delivery looks for changes made by other replicas, in ms. @defaultValue 1000 */
  pollMs: number;
  /** Deliveries queued per endpoint at most; beyond it the endpoint's cursor waits. @defaultValue 20000 */
  maxQueued: number;
  /** Lines of the attempts log older than this are deleted. @defaultValue 604800 (7 days) */
  attemptRetentionSeconds: number;
}

export const WEBHOOKS_DEFAULTS: WebhooksConfig = {
  enabled: true,
  allowInsecureTargets: false,
  concurrency: 16,
  ratePerSecond: 50,
  maxRatePerSecond: 1000,
  timeoutMs: 15_000,
  retryDelaysSeconds: [5, 300, 1800, 7200, 18_000, 36_000, 36_000],
  jitter: 0.2,
  disableAfterSeconds: 432_000,
  secretOverlapSeconds: 86_400,
  pollMs: 1000,
  maxQueued: 20_000,
  attemptRetentionSeconds: 604_800,
};

export const WEBHOOKS_SCHEMA = settingsObject({
  enabled: BOOLEAN,
  allowInsecureTargets: BOOLEAN,
  concurrency: integer(1, 256),
  ratePerSecond: positive(10_000),
  maxRatePerSecond: positive(100_000),
  timeoutMs: integer(100, 120_000),
  retryDelaysSeconds: {
    type: 'array',
    items: { type: 'number', minimum: 0, maximum: 7 * 24 * 3600 },
    maxItems: 50,
  },
  jitter: { type: 'number', minimum: 0, maximum: 1 },
  disableAfterSeconds: positive(365 * 24 * 3600),
  secretOverlapSeconds: integer(0, 30 * 24 * 3600),
  pollMs: integer(10, 60_000),
  maxQueued: integer(100, 10_000_000),
  attemptRetentionSeconds: integer(60, 10 * 365 * 24 * 3600),
});

export function applyWebhooksEnv(webhooks: WebhooksConfig, env: Env, problems: string[]): void {
  const insecure = env.LGSP_WEBHOOKS_ALLOW_INSECURE;
  if (insecure === undefined || insecure === '') return;
  if (insecure === 'true') webhooks.allowInsecureTargets = true;
  else if (insecure === 'false') webhooks.allowInsecureTargets = false;
  else problems.push('LGSP_WEBHOOKS_ALLOW_INSECURE: must be true or false');
}

export function checkWebhooks(webhooks: WebhooksConfig, problems: string[]): void {
  if (webhooks.ratePerSecond > webhooks.maxRatePerSecond)
    problems.push('webhooks.ratePerSecond must not exceed webhooks.maxRatePerSecond');
}
