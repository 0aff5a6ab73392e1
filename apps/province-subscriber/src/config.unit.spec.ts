import { resolve } from 'node:path';
import { ConfigError, loadSubscriberConfig, provinceTopic } from './config.js';

const BASE = { PROVINCE: '51', KAFKA_BROKERS: '127.0.0.1:19092' };

describe('loadSubscriberConfig', () => {
  it('needs only PROVINCE and KAFKA_BROKERS, and derives the rest from the province', () => {
    expect(loadSubscriberConfig(BASE)).toEqual({
      province: '51',
      topic: 'lgsp.events.province.51',
      brokers: ['127.0.0.1:19092'],
      groupId: 'province-51-view',
      clientId: 'province-51-subscriber',
      dataDir: resolve('data/province-51'),
      ssl: false,
    });
  });

  it('takes the optional settings from the environment', () => {
    const config = loadSubscriberConfig({
      ...BASE,
      KAFKA_BROKERS: ' kafka-1.lgsp.example:9093 , kafka-2.lgsp.example:9093,',
      KAFKA_GROUP_ID: 'province-51-view-test',
      KAFKA_CLIENT_ID: 'qn-subscriber',
      KAFKA_TOPIC_PREFIX: 'lgsp-test-1',
      DATA_DIR: '/var/lib/province-51',
      KAFKA_SASL_USERNAME: 'province-51',
      KAFKA_SASL_PASSWORD: 's3cret',
    });
    expect(config).toMatchObject({
      topic: 'lgsp-test-1.events.province.51',
      brokers: ['kafka-1.lgsp.example:9093', 'kafka-2.lgsp.example:9093'],
      groupId: 'province-51-view-test',
      clientId: 'qn-subscriber',
      dataDir: '/var/lib/province-51',
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'province-51', password: 's3cret' },
    });
    expect(loadSubscriberConfig({ ...BASE, KAFKA_SSL: 'true' }).ssl).toBe(true);
  });

  it.each([
    [{ KAFKA_BROKERS: '127.0.0.1:19092' }, 'PROVINCE: is required, e.g. PROVINCE=51'],
    [{ ...BASE, PROVINCE: '5' }, 'PROVINCE: must be a 2-digit province code, got "5"'],
    [{ PROVINCE: '51' }, 'KAFKA_BROKERS: is required, e.g. KAFKA_BROKERS=127.0.0.1:19092'],
    [
      { ...BASE, KAFKA_BROKERS: '127.0.0.1' },
      'KAFKA_BROKERS: must be a comma-separated list of host:port, got "127.0.0.1"',
    ],
    [
      { ...BASE, KAFKA_TOPIC_PREFIX: 'a/b' },
      'KAFKA_TOPIC_PREFIX: may hold only letters, digits, ".", "_" and "-", got "a/b"',
    ],
    [{ ...BASE, KAFKA_SSL: 'yes' }, 'KAFKA_SSL: must be true or false, got "yes"'],
    [
      { ...BASE, KAFKA_SASL_USERNAME: 'p51' },
      'KAFKA_SASL_PASSWORD: is required when the other SASL variable is set',
    ],
    [
      { ...BASE, KAFKA_SASL_PASSWORD: 'x' },
      'KAFKA_SASL_USERNAME: is required when the other SASL variable is set',
    ],
  ])('rejects %j', (env, message) => {
    let error: unknown;
    try {
      loadSubscriberConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(message);
  });

  it('never puts the SASL password in an error', () => {
    let message = '';
    try {
      loadSubscriberConfig({ ...BASE, KAFKA_SASL_PASSWORD: 'hunter2' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe('KAFKA_SASL_USERNAME: is required when the other SASL variable is set');
  });
});

describe('provinceTopic', () => {
  it('is the topic of the contract', () => {
    expect(provinceTopic('08')).toBe('lgsp.events.province.08');
  });
});
