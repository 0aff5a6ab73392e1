import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { inspect } from 'node:util';
import { ConfigError, kafkaSummary, loadConfig, type Env } from './index.js';

const PASSWORD = 'p4ss-w0rd-never-shown';

const dir = mkdtempSync(join(tmpdir(), 'lgsp-cfg-kafka-'));
const write = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
};
// Any PEM certificate will do for the checks here: Node's own root CAs.
const CA = write('ca.crt', rootCertificates[0]!);
const CERT = write('client.crt', rootCertificates[1]!);
const KEY = write(
  'client.key',
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string,
);

const problemsOf = (env: Env): readonly string[] => {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
};

const SECURED: Env = {
  LGSP_KAFKA_BROKERS: 'kafka-1.example:9093',
  LGSP_KAFKA_TLS: 'true',
  LGSP_KAFKA_TLS_CA_FILE: CA,
  LGSP_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
  LGSP_KAFKA_SASL_USERNAME: 'lgsp-hub',
};

describe('Kafka TLS and SASL settings', () => {
  it('are off by default', () => {
    expect(loadConfig({}).kafka).toMatchObject({
      tls: { enabled: false, caFile: null, certFile: null, keyFile: null },
      sasl: null,
    });
  });

  it('read TLS files and SASL from the environment, the password from LGSP_KAFKA_SASL_PASSWORD', () => {
    const { kafka } = loadConfig({
      ...SECURED,
      LGSP_KAFKA_TLS_CERT_FILE: CERT,
      LGSP_KAFKA_TLS_KEY_FILE: KEY,
      LGSP_KAFKA_SASL_PASSWORD: PASSWORD,
    });
    expect(kafka.tls).toEqual({ enabled: true, caFile: CA, certFile: CERT, keyFile: KEY });
    expect(kafka.sasl).toMatchObject({
      mechanism: 'scram-sha-512',
      username: 'lgsp-hub',
      passwordFile: null,
    });
    expect(kafka.sasl?.password?.reveal()).toBe(PASSWORD);
    expect(kafka.sasl?.password?.origin).toBe('LGSP_KAFKA_SASL_PASSWORD');
  });

  it('read the password from a file named in the configuration file, without its line break', () => {
    const config = write(
      'hub.json',
      JSON.stringify({
        kafka: {
          tls: { enabled: true },
          sasl: { mechanism: 'plain', username: 'hub', passwordFile: write('password', `${PASSWORD}\n`) },
        },
      }),
    );
    const { kafka } = loadConfig({ LGSP_CONFIG: config });
    expect(kafka.sasl?.password?.reveal()).toBe(PASSWORD);
    expect(kafka.sasl?.password?.origin).toBe(join(dir, 'password'));
    // LGSP_KAFKA_SASL_PASSWORD_FILE names one too, over the file's.
    const other = write('other-password', 'another\r\n');
    expect(
      loadConfig({
        LGSP_CONFIG: config,
        LGSP_KAFKA_SASL_PASSWORD_FILE: other,
      }).kafka.sasl?.password?.reveal(),
    ).toBe('another');
  });

  it('never show the password: in JSON, in a printed config, as text, or in the log summary', () => {
    const config = loadConfig({ ...SECURED, LGSP_KAFKA_SASL_PASSWORD: PASSWORD });
    const password = config.kafka.sasl!.password!;
    expect(JSON.stringify(config)).not.toContain(PASSWORD);
    expect(JSON.stringify(config.kafka.sasl)).toContain('"password":"[redacted]"');
    expect(inspect(config, { depth: null })).not.toContain(PASSWORD);
    expect(`${password}`).toBe('[redacted]');
    const summary = kafkaSummary(config.kafka);
    expect(JSON.stringify(summary)).not.toContain(PASSWORD);
    expect(summary).toMatchObject({
      brokers: ['kafka-1.example:9093'],
      tls: { ca: CA, clientCertificate: 'none' },
      sasl: { mechanism: 'scram-sha-512', username: 'lgsp-hub', passwordFrom: 'LGSP_KAFKA_SASL_PASSWORD' },
    });
  });

  it('refuse what cannot work, naming the setting, and never with the password in the message', () => {
    const problems = [
      ...problemsOf({ ...SECURED, LGSP_KAFKA_SASL_MECHANISM: 'gssapi', LGSP_KAFKA_SASL_PASSWORD: PASSWORD }),
      ...problemsOf({ ...SECURED }),
      ...problemsOf({
        ...SECURED,
        LGSP_KAFKA_SASL_PASSWORD: PASSWORD,
        LGSP_KAFKA_SASL_PASSWORD_FILE: write('pw', PASSWORD),
      }),
      ...problemsOf({ ...SECURED, LGSP_KAFKA_TLS: 'false', LGSP_KAFKA_SASL_PASSWORD: PASSWORD }),
      ...problemsOf({
        LGSP_KAFKA_SASL_MECHANISM: 'plain',
        LGSP_KAFKA_SASL_USERNAME: 'u',
        LGSP_KAFKA_SASL_PASSWORD: PASSWORD,
      }),
      ...problemsOf({ ...SECURED, LGSP_KAFKA_SASL_PASSWORD_FILE: join(dir, 'missing') }),
      ...problemsOf({ ...SECURED, LGSP_KAFKA_SASL_PASSWORD_FILE: write('empty', '\n') }),
      ...problemsOf({ LGSP_KAFKA_SASL_PASSWORD: PASSWORD }),
    ];
    expect(problems).toEqual([
      'LGSP_KAFKA_SASL_MECHANISM: must be one of scram-sha-512, scram-sha-256, plain',
      'kafka.sasl: no password: set LGSP_KAFKA_SASL_PASSWORD, or kafka.sasl.passwordFile (LGSP_KAFKA_SASL_PASSWORD_FILE)',
      'LGSP_KAFKA_SASL_PASSWORD and kafka.sasl.passwordFile (LGSP_KAFKA_SASL_PASSWORD_FILE): give one',
      'kafka.tls.caFile is set but kafka.tls.enabled is false (LGSP_KAFKA_TLS=true)',
      'kafka.sasl: PLAIN sends the password as it is: only over TLS (kafka.tls.enabled)',
      `kafka.sasl.passwordFile: cannot read ${join(dir, 'missing')}: ENOENT`,
      `kafka.sasl.passwordFile: ${join(dir, 'empty')} is empty`,
      'LGSP_KAFKA_SASL_PASSWORD is set but SASL is not configured',
    ]);
    expect(problems.join('\n')).not.toContain(PASSWORD);
  });

  it('refuse TLS files that are not what they should be, and a password in the configuration file', () => {
    expect(
      problemsOf({
        LGSP_KAFKA_TLS: 'true',
        LGSP_KAFKA_TLS_CA_FILE: KEY,
        LGSP_KAFKA_TLS_KEY_FILE: CERT,
      }),
    ).toEqual([
      `kafka.tls.caFile: ${KEY} is not a PEM certificate`,
      `kafka.tls.keyFile: ${CERT} is not an unencrypted PEM private key`,
      'kafka.tls.certFile and kafka.tls.keyFile: give both (a client certificate and its key), or neither',
    ]);
    const config = write(
      'with-password.json',
      JSON.stringify({
        kafka: { sasl: { mechanism: 'scram-sha-256', username: 'hub', password: PASSWORD } },
      }),
    );
    const problems = problemsOf({ LGSP_CONFIG: config });
    expect(problems).toEqual([`${config}: /kafka/sasl/password is not a known setting`]);
  });
});

describe('the versions the relay sends each province topic', () => {
  it('default to none (version 1 of every family), and are read from the configuration file', () => {
    expect(loadConfig({}).kafka.relay.eventVersions).toEqual({});
    const config = write(
      'versions.json',
      JSON.stringify({ kafka: { relay: { eventVersions: { '79': { 'dossier.submitted': 2 }, '*': {} } } } }),
    );
    expect(loadConfig({ LGSP_CONFIG: config }).kafka.relay).toEqual({
      enabled: true,
      batchSize: 200,
      eventVersions: { '79': { 'dossier.submitted': 2 }, '*': {} },
    });
  });

  it('refuse a key that is not a province code or *, and a version that is not a whole number', () => {
    const config = write(
      'bad-versions.json',
      JSON.stringify({
        kafka: { relay: { eventVersions: { '7': {}, '51': { 'dossier.submitted': 'v2' } } } },
      }),
    );
    const problems = problemsOf({ LGSP_CONFIG: config }).map((p) => p.slice(p.indexOf(': ') + 2));
    expect(problems).toEqual([
      '/kafka/relay/eventVersions must match pattern "^([0-9]{2}|\\*)$"',
      '/kafka/relay/eventVersions property name must be valid',
      '/kafka/relay/eventVersions/51/dossier.submitted must be integer',
    ]);
  });
});
