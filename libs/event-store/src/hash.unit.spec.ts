import { canonicalJson } from '#lgsp/event-store';

describe('canonical JSON', () => {
  it('ignores key order', () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
  });

  it('matches JSON.stringify of the key-sorted value for every kind of value', () => {
    const sortDeep = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(sortDeep)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.keys(v)
                .sort()
                .map((k) => [k, sortDeep((v as Record<string, unknown>)[k])]),
            )
          : v;
    const samples: unknown[] = [
      null,
      true,
      0,
      -0,
      1.5e21,
      'Đắk Lắk "quoted" \\ \n',
      [],
      {},
      { z: [1, { y: null, b: 'x' }], a: { d: false, c: 'Hoà' }, Z: 1, é: 2, undef: undefined },
    ];
    for (const s of samples) expect(canonicalJson(s)).toBe(JSON.stringify(sortDeep(s)));
  });
});
