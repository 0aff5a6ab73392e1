import {
  corruptRecord,
  FaultInjector,
  latencyMs,
  mulberry32,
  parseFaultConfig,
  SimInputError,
  toNfd,
} from './faults.js';

describe('mulberry32', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const seqA = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe('parseFaultConfig', () => {
  it('turns outage {forMs} into a window starting now', () => {
    const c = parseFaultConfig({ outage: { forMs: 30_000 } }, 1_000);
    expect(c.outages).toEqual([{ fromMs: 1_000, toMs: 31_000 }]);
  });

  it('names the path of a bad value', () => {
    expect(() => parseFaultConfig({ errorRate: 2 }, 0)).toThrow(
      new SimInputError('faults.errorRate: expected a number in [0, 1], got 2'),
    );
    expect(() => parseFaultConfig({ latency: { kind: 'normal' } }, 0)).toThrow(/faults.latency.kind/);
    expect(() => parseFaultConfig({ eror: 1 }, 0)).toThrow(/faults.eror: unknown setting/);
  });
});

describe('latencyMs', () => {
  it('draws from each distribution', () => {
    expect(latencyMs({ kind: 'fixed', ms: 7 }, 0.9)).toBe(7);
    expect(latencyMs({ kind: 'uniform', minMs: 10, maxMs: 20 }, 0.5)).toBe(15);
    expect(latencyMs({ kind: 'exponential', meanMs: 100 }, 1 - Math.exp(-1))).toBeCloseTo(100);
    expect(latencyMs(undefined, 0.5)).toBe(0);
  });
});

describe('FaultInjector', () => {
  const outcomes = (injector: FaultInjector, n: number): string[] =>
    Array.from({ length: n }, () => {
      const d = injector.decide('op');
      return `${d.reject?.status ?? 200}/${d.dropWrite ? 'drop' : 'keep'}/${d.nfd ? 'nfd' : 'nfc'}`;
    });

  it('repeats the same decisions after reconfiguring with the same seed', () => {
    const injector = new FaultInjector({ now: () => 0 });
    const config = parseFaultConfig({ seed: 7, errorRate: 0.3, dropWrites: 0.2, nfd: 0.5 }, 0);
    injector.configure(config);
    const first = outcomes(injector, 50);
    injector.configure(config);
    expect(outcomes(injector, 50)).toEqual(first);
    expect(first.filter((o) => o.startsWith('200')).length).toBeGreaterThan(20);
    expect(first.some((o) => !o.startsWith('200'))).toBe(true);
  });

  it('answers 503 inside an outage window and not after it', () => {
    let now = 0;
    const injector = new FaultInjector({ now: () => now });
    injector.configure(parseFaultConfig({ outage: { forMs: 1000 } }, now));
    expect(injector.decide('op').reject).toEqual({ status: 503, reason: 'outage', retryAfterS: 1 });
    now = 1000;
    expect(injector.decide('op').reject).toBeUndefined();
  });

  it('rate-limits with a token bucket and a Retry-After', () => {
    let now = 0;
    const injector = new FaultInjector({ now: () => now });
    injector.configure(parseFaultConfig({ rateLimit: { perSecond: 2, burst: 2 } }, now));
    expect(injector.decide('op').reject).toBeUndefined();
    expect(injector.decide('op').reject).toBeUndefined();
    expect(injector.decide('op').reject).toEqual({ status: 429, reason: 'rate-limit', retryAfterS: 1 });
    now = 500;
    expect(injector.decide('op').reject).toBeUndefined();
  });

  it('applies faults only to the named operations', () => {
    const injector = new FaultInjector({ now: () => 0 });
    injector.configure(parseFaultConfig({ errorRate: 1, operations: ['DongBoHoSoMC'] }, 0));
    expect(injector.decide('TraCuuHoSo').reject).toBeUndefined();
    expect(injector.decide('DongBoHoSoMC').reject?.reason).toBe('error');
  });

  it('corrupts the named field', () => {
    const injector = new FaultInjector({ now: () => 0 });
    injector.configure(parseFaultConfig({ corrupt: { rate: 1, field: 'ChuHoSo' } }, 0));
    expect(injector.decide('op').corrupt).toEqual(expect.objectContaining({ field: 'ChuHoSo' }));
  });
});

describe('toNfd', () => {
  it('decomposes Vietnamese letters in nested values, leaving Đ as it is', () => {
    const out = toNfd({ ChuHoSo: 'Nguyễn Văn Đức', list: ['Hòa'], n: 1 });
    expect(out.ChuHoSo).not.toBe('Nguyễn Văn Đức');
    expect(out.ChuHoSo.normalize('NFC')).toBe('Nguyễn Văn Đức');
    expect(out.ChuHoSo.startsWith('Nguy')).toBe(true);
    expect(out.list[0]!.length).toBe(4);
    expect(out.n).toBe(1);
  });
});

describe('corruptRecord', () => {
  it('changes the named field, or one picked among the others, never a kept one', () => {
    const named = { MaHoSo: 'A', ChuHoSo: 'Lê Văn Tám', TrangThaiHoSo: 4 };
    expect(corruptRecord(named, { field: 'TrangThaiHoSo', pick: 0 }, ['MaHoSo'])).toBe('TrangThaiHoSo');
    expect(named.TrangThaiHoSo).toBe(5);
    const picked = { MaHoSo: 'A', ChuHoSo: 'Lê Văn Tám', TrangThaiHoSo: 4 };
    expect(corruptRecord(picked, { pick: 0 }, ['MaHoSo'])).toBe('ChuHoSo');
    expect(picked).toEqual({ MaHoSo: 'A', ChuHoSo: 'Lê Văn Tá#', TrangThaiHoSo: 4 });
    expect(corruptRecord({ MaHoSo: 'A' }, { pick: 0.5 }, ['MaHoSo'])).toBeUndefined();
  });
});
