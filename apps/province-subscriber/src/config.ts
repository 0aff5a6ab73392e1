import { resolve } from 'node:path';

/**
 * The subscriber's settings, from environment variables. Every optional value has its default
 * written here; a bad value stops start-up with the variable's name and the reason.
 */
export interface SubscriberConfig {
  /** The province whose topic is read, 2 digits (env `PROVINCE`, required). */
  province: string;
  /** `<topicPrefix>.events.province.<province>`. */
  topic: string;
  /** Bootstrap brokers, `host:port` (env `KAFKA_BROKERS`, comma-separated, required). */
  brokers: string[];
  /** @defaultValue `province-<province>-view` (env `KAFKA_GROUP_ID`) */
  groupId: string;
  /** @defaultValue `province-<province>-subscriber` (env `KAFKA_CLIENT_ID`) */
  clientId: string;
  /** Where `view.json` is kept. @defaultValue `./data/province-<province>` (env `DATA_DIR`) */
  dataDir: string;
  /** TLS to the brokers. @defaultValue false, true when SASL is configured (env `KAFKA_SSL`) */
  ssl: boolean;
  /** SASL/SCRAM-SHA-512 credentials (env `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD`); none by default. */
  sasl?: { mechanism: 'scram-sha-512'; username: string; password: string };
}

/** The hub's topic prefix in production (env `KAFKA_TOPIC_PREFIX`; tests use their own). */
export const DEFAULT_TOPIC_PREFIX = 'lgsp';

/** A setting that cannot be used, named by its environment variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

const PROVINCE_CODE = /^[0-9]{2}$/;
const BROKER = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/;
const TOPIC_PREFIX = /^[A-Za-z0-9._-]{1,200}$/;

/** The topic of one province's events. */
export const provinceTopic = (province: string, prefix: string = DEFAULT_TOPIC_PREFIX): string =>
  `${prefix}.events.province.${province}`;

function text(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function flag(env: Readonly<Record<string, string | undefined>>, name: string): boolean | undefined {
  const value = text(env, name)?.toLowerCase();
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(name, `must be true or false, got ${JSON.stringify(value)}`);
}

/**
 * Reads the settings from `env`.
 * @throws ConfigError naming the first variable that is missing or wrong.
 */
export function loadSubscriberConfig(env: Readonly<Record<string, string | undefined>>): SubscriberConfig {
  const province = text(env, 'PROVINCE');
  if (province === undefined) throw new ConfigError('PROVINCE', 'is required, e.g. PROVINCE=51');
  if (!PROVINCE_CODE.test(province)) {
    throw new ConfigError('PROVINCE', `must be a 2-digit province code, got ${JSON.stringify(province)}`);
  }

  const brokerList = text(env, 'KAFKA_BROKERS');
  if (brokerList === undefined) {
    throw new ConfigError('KAFKA_BROKERS', 'is required, e.g. KAFKA_BROKERS=127.0.0.1:19092');
  }
  const brokers = brokerList
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker !== '');
  const badBroker = brokers.find((broker) => !BROKER.test(broker));
  if (brokers.length === 0 || badBroker !== undefined) {
    throw new ConfigError(
      'KAFKA_BROKERS',
      `must be a comma-separated list of host:port, got ${JSON.stringify(badBroker ?? brokerList)}`,
    );
  }

  const prefix = text(env, 'KAFKA_TOPIC_PREFIX') ?? DEFAULT_TOPIC_PREFIX;
  if (!TOPIC_PREFIX.test(prefix)) {
    throw new ConfigError(
      'KAFKA_TOPIC_PREFIX',
      `may hold only letters, digits, ".", "_" and "-", got ${JSON.stringify(prefix)}`,
    );
  }

  const username = text(env, 'KAFKA_SASL_USERNAME');
  const password = env['KAFKA_SASL_PASSWORD'];
  if ((username === undefined) !== (password === undefined || password === '')) {
    const missing = username === undefined ? 'KAFKA_SASL_USERNAME' : 'KAFKA_SASL_PASSWORD';
    throw new ConfigError(missing, 'is required when the other SASL variable is set');
  }
  const sasl =
    username !== undefined && password !== undefined
      ? { mechanism: 'scram-sha-512' as const, username, password }
      : undefined;

  const config: SubscriberConfig = {
    province,
    topic: provinceTopic(province, prefix),
    brokers,
    groupId: text(env, 'KAFKA_GROUP_ID') ?? `province-${province}-view`,
    clientId: text(env, 'KAFKA_CLIENT_ID') ?? `province-${province}-subscriber`,
    dataDir: resolve(text(env, 'DATA_DIR') ?? `./data/province-${province}`),
    ssl: flag(env, 'KAFKA_SSL') ?? sasl !== undefined,
  };
  if (sasl !== undefined) config.sasl = sasl;
  return config;
}
