import { runInNewContext } from 'node:vm';
import { normalizeNfc } from './normalize.js';

const NFD_NGUYEN = 'Nguye\u0302\u0303n';

describe('normalizeNfc', () => {
  it('composes NFD Vietnamese', () => {
    expect(NFD_NGUYEN).not.toBe('Nguyễn');
    expect(normalizeNfc(NFD_NGUYEN)).toBe('Nguyễn');
    expect(normalizeNfc('Ho\u0300a Bi\u0300nh')).toBe('Hòa Bình');
  });

  it('leaves Đ/đ, ASCII and NFC text unchanged', () => {
    expect(normalizeNfc('Đặng Văn Đức')).toBe('Đặng Văn Đức');
    expect(normalizeNfc('000.00.15.H12-250701-0001')).toBe('000.00.15.H12-250701-0001');
    // Both are valid NFC and stay different strings.
    expect(normalizeNfc('Hoá')).toBe('Hoá');
    expect(normalizeNfc('Hóa')).toBe('Hóa');
    expect(normalizeNfc('Hoá')).not.toBe(normalizeNfc('Hóa'));
  });

  it('normalises values and keys deeply, in a copy', () => {
    const input = {
      applicant: { fullName: NFD_NGUYEN, aliases: [NFD_NGUYEN, 'An'] },
      ['ghi chu\u0301']: 'Tra\u0309 ke\u0302\u0301t qua\u0309',
      amount: 5000,
      paid: true,
      nothing: null,
    };
    const out = normalizeNfc(input);
    expect(out).toEqual({
      applicant: { fullName: 'Nguyễn', aliases: ['Nguyễn', 'An'] },
      'ghi chú': 'Trả kết quả',
      amount: 5000,
      paid: true,
      nothing: null,
    });
    expect(out).not.toBe(input);
    expect(out.applicant).not.toBe(input.applicant);
    expect(input.applicant.fullName).toBe(NFD_NGUYEN);
  });

  it('returns non-plain objects and primitives as they are', () => {
    const date = new Date(0);
    const buffer = Buffer.from('x');
    const out = normalizeNfc({ date, buffer, n: 1n, u: undefined });
    expect(out.date).toBe(date);
    expect(out.buffer).toBe(buffer);
    expect(out.n).toBe(1n);
    expect(normalizeNfc(42)).toBe(42);
    expect(normalizeNfc(undefined)).toBeUndefined();
  });

  it('keeps an own __proto__ key as data, never as the prototype', () => {
    const input: unknown = JSON.parse('{"__proto__": {"polluted": "yes"}, "a": "b"}');
    const out = normalizeNfc(input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(out['polluted']).toBeUndefined();
  });

  it('normalises plain objects created in another realm (a VM context, structuredClone)', () => {
    const foreign = runInNewContext('({ applicant: { fullName: name }, list: [name] })', {
      name: NFD_NGUYEN,
    }) as {
      applicant: { fullName: string };
      list: string[];
    };
    expect(Object.getPrototypeOf(foreign)).not.toBe(Object.prototype);
    const out = normalizeNfc(foreign);
    expect(out.applicant.fullName).toBe('Nguyễn');
    expect(out.list[0]).toBe('Nguyễn');
  });
});
