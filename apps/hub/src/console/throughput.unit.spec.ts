import { ThroughputSampler } from './throughput.js';

describe('ThroughputSampler', () => {
  it('gives the append rate between samples, and none before two', async () => {
    let now = 0;
    let head = 100;
    const sampler = new ThroughputSampler(
      async () => head,
      10_000,
      3,
      () => now,
    );
    await sampler.sample();
    expect(sampler.rate).toBeUndefined();
    now += 10_000;
    head += 500;
    await sampler.sample();
    expect(sampler.rate).toBe(50);
    now += 500; // too soon: ignored
    head += 1000;
    await sampler.sample();
    expect(sampler.series()).toEqual([50]);
    now += 9_500;
    await sampler.sample();
    now += 10_000;
    await sampler.sample();
    expect(sampler.series()).toEqual([100, 0]); // only the last 3 samples are kept
    expect(sampler.head).toBe(1600);
  });
});
