import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BOOLEAN, integer, positive, settingsObject } from './schema.js';
import type { Env } from './env.js';
import { Secret } from './secret.js';

export const KAFKA_SASL_MECHANISMS = ['scram-sha-512', 'scram-sha-256', 'plain'] as const;

/** TLS to the brokers (README, "Connecting to a secured Kafka cluster"). Files hold PEM text. */
export interface KafkaTlsConfig {
  /** @defaultValue false (env `LGSP_KAFKA_TLS=true`) */
  enabled: boolean;
  /** The CA certificates that signed the brokers' certificates; null: Node's default CAs. @defaultValue null (env `LGSP_KAFKA_TLS_CA_FILE`) */
  caFile: string | null;
  /** A client certificate, for brokers that require one (mutual TLS), with its `keyFile`. @defaultValue null (env `LGSP_KAFKA_TLS_CERT_FILE`) */
  certFile: string | null;
  /** The client certificate's private key, unencrypted, readable only by the hub's user. @defaultValue null (env `LGSP_KAFKA_TLS_KEY_FILE`) */
  keyFile: string | null;
}

/** SASL authentication to the brokers. */
export interface KafkaSaslConfig {
  /** `scram-sha-512`, `scram-sha-256`, or `plain` (only over TLS). (env `LGSP_KAFKA_SASL_MECHANISM`) */
  mechanism: (typeof KAFKA_SASL_MECHANISMS)[number];
  /** (env `LGSP_KAFKA_SASL_USERNAME`) */
  username: string;
  /**
   * A file holding the password (a trailing line break is ignored). The password may come from the
   * environment instead (`LGSP_KAFKA_SASL_PASSWORD`); never from the configuration file.
   * @defaultValue null (env `LGSP_KAFKA_SASL_PASSWORD_FILE`)
   */
  passwordFile: string | null;
  /** The password, read at start-up from `LGSP_KAFKA_SASL_PASSWORD` or `passwordFile`; shown as `[redacted]`. */
  password?: Secret;
}

export interface KafkaConfig {
  /** Bootstrap brokers; empty = no Kafka. @defaultValue [] (env `LGSP_KAFKA_BROKERS`, comma-separated) */
  brokers: string[];
  /** Names the hub in the brokers' logs and quotas. @defaultValue "lgsp-hub" */
  clientId: string;
  tls: KafkaTlsConfig;
  /** null: no SASL. @defaultValue null (on with `LGSP_KAFKA_SASL_MECHANISM` and `LGSP_KAFKA_SASL_USERNAME`) */
  sasl: KafkaSaslConfig | null;
  /** First segment of every topic: `<prefix>.events.province.<code>`, `<prefix>.ingest`, `<prefix>.ingest.dlq`, `<prefix>.replay.<client>`. @defaultValue "lgsp" (env `LGSP_KAFKA_TOPIC_PREFIX`) */
  topicPrefix: string;
  /** How the hub creates the topics it needs when they do not exist. @defaultValue 6 partitions, replication factor 1 */
  topics: { partitions: number; replicationFactor: number };
  /**
   * Publishes every stored event to its province topic. `eventVersions`: the version of each event family
   * a province topic carries, by province code or `*` for the others, e.g.
   * `{"79": {"dossier.submitted": 2}}`; a family not named goes at version 1 (README, "Event versions").
   * @defaultValue enabled, 200 events per produce, every family at version 1
   */
  relay: { enabled: boolean; batchSize: number; eventVersions: Record<string, Record<string, number>> };
  /** Consumes the ingest topic in a consumer group. @defaultValue enabled, group "lgsp-hub-ingest" */
  ingest: { enabled: boolean; groupId: string };
  /**
   * Replays to a Kafka consumer (target `kafka:<client name>`, topic `<prefix>.replay.<client name>`):
   * events per second a run sends unless it says otherwise, and events per produce request.
   * @defaultValue 1000 events/s, 200 events per produce
   */
  replay: { ratePerSecond: number; batchSize: number };
}

export const KAFKA_DEFAULTS: KafkaConfig = {
  brokers: [],
  clientId: 'lgsp-hub',
  tls: { enabled: false, caFile: null, certFile: null, keyFile: null },
  sasl: null,
  topicPrefix: 'lgsp',
  topics: { partitions: 6, replicationFactor: 1 },
  relay: { enabled: true, batchSize: 200, eventVersions: {} },
  ingest: { enabled: true, groupId: 'lgsp-hub-ingest' },
  replay: { ratePerSecond: 1000, batchSize: 200 },
};

const FILE = { type: ['string', 'null'], minLength: 1 } as const;

export const KAFKA_SCHEMA = settingsObject({
  brokers: { type: 'array', items: { type: 'string', pattern: '^[^\\s:]+:[0-9]{1,5}$' } },
  clientId: { type: 'string', minLength: 1, maxLength: 100 },
  tls: settingsObject({
    enabled: BOOLEAN,
    caFile: FILE,
    certFile: FILE,
    keyFile: FILE,
  }),
  sasl: {
    ...settingsObject({
      mechanism: { enum: KAFKA_SASL_MECHANISMS },
      username: { type: 'string', minLength: 1, maxLength: 200 },
      passwordFile: FILE,
    }),
    type: ['object', 'null'],
    required: ['mechanism', 'username'],
  },
  topicPrefix: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,100}$' },
  topics: settingsObject({
    partitions: integer(1, 1000),
    replicationFactor: integer(1, 10),
  }),
  relay: settingsObject({
    enabled: BOOLEAN,
    batchSize: integer(1, 10_000),
    // The families and their versions are checked against the catalogue when the relay starts.
    eventVersions: {
      type: 'object',
      propertyNames: { pattern: '^([0-9]{2}|\\*)$' },
      additionalProperties: {
        type: 'object',
        propertyNames: { minLength: 1, maxLength: 100 },
        additionalProperties: integer(1, 100),
      },
    },
  }),
  ingest: settingsObject({
    enabled: BOOLEAN,
    groupId: { type: 'string', minLength: 1, maxLength: 200 },
  }),
  replay: settingsObject({
    ratePerSecond: positive(1_000_000),
    batchSize: integer(1, 10_000),
  }),
});

export function applyKafkaEnv(kafka: KafkaConfig, env: Env, problems: string[]): void {
  if (env.LGSP_KAFKA_BROKERS) {
    const brokers = env.LGSP_KAFKA_BROKERS.split(',')
      .map((b) => b.trim())
      .filter(Boolean);
    const bad = brokers.filter((b) => !/^[^\s:]+:[0-9]{1,5}$/.test(b));
    if (bad.length > 0) problems.push(`LGSP_KAFKA_BROKERS: ${bad.join(', ')} must be host:port`);
    else kafka.brokers = brokers;
  }
  if (env.LGSP_KAFKA_TOPIC_PREFIX) {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(env.LGSP_KAFKA_TOPIC_PREFIX)) {
      problems.push('LGSP_KAFKA_TOPIC_PREFIX: letters, digits, ".", "_" and "-" only');
    } else kafka.topicPrefix = env.LGSP_KAFKA_TOPIC_PREFIX;
  }
  applyKafkaTlsEnv(kafka.tls, env, problems);
  applyKafkaSaslEnv(kafka, env, problems);
  checkKafkaSecurity(kafka, env, problems);
}

function applyKafkaTlsEnv(tls: KafkaTlsConfig, env: Env, problems: string[]): void {
  const enabled = env.LGSP_KAFKA_TLS;
  if (enabled === 'true') tls.enabled = true;
  else if (enabled === 'false') tls.enabled = false;
  else if (enabled) problems.push('LGSP_KAFKA_TLS: must be true or false');
  if (env.LGSP_KAFKA_TLS_CA_FILE) tls.caFile = env.LGSP_KAFKA_TLS_CA_FILE;
  if (env.LGSP_KAFKA_TLS_CERT_FILE) tls.certFile = env.LGSP_KAFKA_TLS_CERT_FILE;
  if (env.LGSP_KAFKA_TLS_KEY_FILE) tls.keyFile = env.LGSP_KAFKA_TLS_KEY_FILE;
}

/**
 * `LGSP_KAFKA_SASL_MECHANISM` and `LGSP_KAFKA_SASL_USERNAME` override the file's `kafka.sasl`, and
 * together turn SASL on when the file has none.
 */
function applyKafkaSaslEnv(kafka: KafkaConfig, env: Env, problems: string[]): void {
  const mechanism = env.LGSP_KAFKA_SASL_MECHANISM || undefined;
  const username = env.LGSP_KAFKA_SASL_USERNAME || undefined;
  const passwordFile = env.LGSP_KAFKA_SASL_PASSWORD_FILE || undefined;
  const known = KAFKA_SASL_MECHANISMS.find((m) => m === mechanism?.toLowerCase());
  if (mechanism && !known) {
    problems.push(`LGSP_KAFKA_SASL_MECHANISM: must be one of ${KAFKA_SASL_MECHANISMS.join(', ')}`);
    return;
  }
  if (!kafka.sasl) {
    if (!known && !username && !passwordFile) return;
    if (!known || !username) {
      problems.push(
        'LGSP_KAFKA_SASL_MECHANISM and LGSP_KAFKA_SASL_USERNAME: give both, or set kafka.sasl in the file',
      );
      return;
    }
    kafka.sasl = { mechanism: known, username, passwordFile: null };
  }
  kafka.sasl.passwordFile ??= null;
  if (known) kafka.sasl.mechanism = known;
  if (username) kafka.sasl.username = username;
  if (passwordFile) kafka.sasl.passwordFile = passwordFile;
}

/** The file's text, or a problem naming the file and why it cannot be read (never its content). */
function readSetting(setting: string, file: string, problems: string[]): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    problems.push(`${setting}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    return undefined;
  }
}

/**
 * Reads the SASL password and checks the TLS files (PEM that Node can load), so that a bad path or file
 * stops start-up with its setting's name; no message holds the password or a key.
 */
function checkKafkaSecurity(kafka: KafkaConfig, env: Env, problems: string[]): void {
  const { tls, sasl } = kafka;
  for (const name of ['caFile', 'certFile', 'keyFile'] as const) {
    const file = tls[name];
    if (file === null) continue;
    const setting = `kafka.tls.${name}`;
    if (!tls.enabled) {
      problems.push(`${setting} is set but kafka.tls.enabled is false (LGSP_KAFKA_TLS=true)`);
      continue;
    }
    tls[name] = resolve(file);
    const text = readSetting(setting, tls[name], problems);
    if (text === undefined) continue;
    try {
      if (name === 'keyFile') createPrivateKey(text);
      else new X509Certificate(text);
    } catch {
      problems.push(
        name === 'keyFile'
          ? `${setting}: ${tls[name]} is not an unencrypted PEM private key`
          : `${setting}: ${tls[name]} is not a PEM certificate`,
      );
    }
  }
  if ((tls.certFile === null) !== (tls.keyFile === null)) {
    problems.push(
      'kafka.tls.certFile and kafka.tls.keyFile: give both (a client certificate and its key), or neither',
    );
  }
  if (!sasl) {
    // A SASL variable that did not turn SASL on has reported its problem already.
    const saslVariables =
      env.LGSP_KAFKA_SASL_MECHANISM || env.LGSP_KAFKA_SASL_USERNAME || env.LGSP_KAFKA_SASL_PASSWORD_FILE;
    if (env.LGSP_KAFKA_SASL_PASSWORD && !saslVariables)
      problems.push('LGSP_KAFKA_SASL_PASSWORD is set but SASL is not configured');
    return;
  }
  if (sasl.mechanism === 'plain' && !tls.enabled) {
    problems.push('kafka.sasl: PLAIN sends the password as it is: only over TLS (kafka.tls.enabled)');
  }
  const fromEnv = env.LGSP_KAFKA_SASL_PASSWORD;
  if (fromEnv && sasl.passwordFile) {
    problems.push(
      'LGSP_KAFKA_SASL_PASSWORD and kafka.sasl.passwordFile (LGSP_KAFKA_SASL_PASSWORD_FILE): give one',
    );
  } else if (fromEnv) {
    sasl.password = new Secret(fromEnv, 'LGSP_KAFKA_SASL_PASSWORD');
  } else if (sasl.passwordFile) {
    sasl.passwordFile = resolve(sasl.passwordFile);
    const text = readSetting('kafka.sasl.passwordFile', sasl.passwordFile, problems);
    const password = text?.replace(/\r?\n$/, '');
    if (password === '') problems.push(`kafka.sasl.passwordFile: ${sasl.passwordFile} is empty`);
    else if (password !== undefined) sasl.password = new Secret(password, sasl.passwordFile);
  } else {
    problems.push(
      'kafka.sasl: no password: set LGSP_KAFKA_SASL_PASSWORD, or kafka.sasl.passwordFile (LGSP_KAFKA_SASL_PASSWORD_FILE)',
    );
  }
}

/**
 * What the log may say about the Kafka settings: addresses, TLS files, the SASL user and where its
 * password came from; never the password.
 */
export function kafkaSummary(kafka: KafkaConfig): Record<string, unknown> {
  const { tls, sasl } = kafka;
  return {
    brokers: kafka.brokers,
    clientId: kafka.clientId,
    tls: tls.enabled ? { ca: tls.caFile ?? 'default CAs', clientCertificate: tls.certFile ?? 'none' } : false,
    sasl: sasl
      ? {
          mechanism: sasl.mechanism,
          username: sasl.username,
          passwordFrom: sasl.password?.origin ?? null,
        }
      : false,
    topicPrefix: kafka.topicPrefix,
    relay: kafka.relay.enabled,
    ingest: kafka.ingest.enabled,
  };
}
