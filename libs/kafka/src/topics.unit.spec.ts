import { DomainError } from '#lgsp/contracts';
import { KafkaTopics, topicSettings } from '#lgsp/kafka';

/** What `fn` throws; undefined when it returns. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('KafkaTopics', () => {
  it('names the contract topics with the default prefix', () => {
    const topics = new KafkaTopics();
    expect(topics.province('51')).toBe('lgsp.events.province.51');
    expect(topics.ingest).toBe('lgsp.ingest');
    expect(topics.deadLetter).toBe('lgsp.ingest.dlq');
  });

  it('puts a configured prefix in front of every name', () => {
    const topics = new KafkaTopics({ prefix: 'test-3f9a.lgsp' });
    expect(topics.province('08')).toBe('test-3f9a.lgsp.events.province.08');
    expect(topics.ingest).toBe('test-3f9a.lgsp.ingest');
    expect(topics.deadLetter).toBe('test-3f9a.lgsp.ingest.dlq');
  });

  it('refuses a prefix Kafka would refuse', () => {
    expect(() => new KafkaTopics({ prefix: 'lgsp hub' })).toThrow(/not usable/);
    expect(() => new KafkaTopics({ prefix: '' })).toThrow(/non-empty/);
    expect(() => new KafkaTopics({ prefix: 'x'.repeat(240) })).toThrow(/249/);
  });

  it('refuses a province code that is not two digits, as a data error', () => {
    const topics = new KafkaTopics();
    for (const code of ['5', '051', 'ab', '../x', '']) {
      const error = thrownBy(() => topics.province(code));
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: 'invalid', retriable: false });
    }
  });

  it("names a consumer's replay topic under the prefix", () => {
    expect(new KafkaTopics().replay('commune-21040')).toBe('lgsp.replay.commune-21040');
    expect(new KafkaTopics({ prefix: 't1' }).replay('So_51.a')).toBe('t1.replay.So_51.a');
  });

  it('refuses a consumer name that cannot be a topic segment, as a data error', () => {
    const topics = new KafkaTopics();
    for (const name of ['', 'so 51', 'a/b', 'Sở-51', 'x'.repeat(240)]) {
      const error = thrownBy(() => topics.replay(name));
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: 'invalid', retriable: false });
      expect((error as Error).message).toMatch(/cannot name a Kafka replay topic/);
    }
  });

  it('reads the province back from a province topic only', () => {
    const topics = new KafkaTopics({ prefix: 't1' });
    expect(topics.provinceOf('t1.events.province.51')).toBe('51');
    expect(topics.provinceOf('t1.ingest')).toBeUndefined();
    expect(topics.provinceOf('t2.events.province.51')).toBeUndefined();
    expect(topics.provinceOf('t1.events.province.5x')).toBeUndefined();
  });
});

describe('topicSettings', () => {
  it('fills in the defaults', () => {
    expect(topicSettings(undefined, 'x')).toEqual({ partitions: 6, replicationFactor: 1, config: {} });
    expect(topicSettings({ replicationFactor: 3 }, 'x')).toMatchObject({
      partitions: 6,
      replicationFactor: 3,
    });
  });

  it('names the bad value', () => {
    expect(() => topicSettings({ partitions: 0 }, 'provinceTopics')).toThrow(
      'provinceTopics.partitions must be an integer ≥ 1, got 0',
    );
    expect(() => topicSettings({ replicationFactor: 1.5 }, 'createTopics')).toThrow(
      /createTopics.replicationFactor/,
    );
  });
});
