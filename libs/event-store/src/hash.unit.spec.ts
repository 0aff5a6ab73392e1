import { GENESIS_HASH, canonicalJson, recordHash, verifyChain, type StoredEvent } from '#lgsp/event-store';

const base = (position: number, prevHash: string): StoredEvent => {
  const e = {
    position,
    stream: 'dossier-X-1',
    streamVersion: position,
    id: `e${position}`,
    source: '/communes/21040',
    type: 'vn.gov.lgsp.dossier.status-changed.v1',
    data: { b: 1, a: 'Nguyễn' },
    extensions: {},
    recordedAt: '2026-01-01T00:00:00.000Z',
  };
  return { ...e, prevHash, hash: recordHash(prevHash, e) };
};

describe('hash chain', () => {
  it('canonical JSON ignores key order', () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
  });

  it('verifies a linked chain and finds the first tampered record', () => {
    const first = base(1, GENESIS_HASH);
    const second = base(2, first.hash);
    expect(verifyChain([first, second])).toEqual({ ok: true });
    const tampered = { ...second, data: { a: 'Nguyen', b: 1 } };
    expect(verifyChain([first, tampered])).toEqual({ ok: false, position: 2, reason: 'hash mismatch' });
    const unlinked = base(2, GENESIS_HASH);
    expect(verifyChain([first, unlinked])).toEqual({
      ok: false,
      position: 2,
      reason: 'prevHash does not link',
    });
  });
});

describe('canonical JSON', () => {
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
