export { ConfigError, DEFAULT_CONFIG, loadConfig, type HubConfig } from './config.js';
export {
  CONNECTOR_NAMES,
  type BreakerSettings,
  type ConnectorSettings,
  type ConnectorsConfig,
  type SimulatorsConfig,
} from './connectors.js';
export { redactUrl, type Env } from './env.js';
export type { HttpConfig, RateLimitConfig, RateLimitSettings } from './http.js';
export { kafkaSummary, type KafkaConfig, type KafkaSaslConfig, type KafkaTlsConfig } from './kafka.js';
export { Secret } from './secret.js';
export type { LogConfig, MetricsConfig, TracingConfig } from './observability.js';
export type { StorageConfig, SubscriptionsConfig } from './storage.js';
export type { IngestConfig } from './ingest.js';
export type { WebhooksConfig } from './webhooks.js';
export type { AuthConfig, JwtConfig } from './auth.js';
export type { CheckpointsConfig } from './checkpoints.js';
export type { PrivacyConfig } from './privacy.js';
export { HUB_ROLES, parseRoles, runsAllRoles, type HubRole } from './roles.js';
