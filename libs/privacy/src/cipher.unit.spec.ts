import { createSecretKey, randomBytes } from 'node:crypto';
import { SEALED_PREFIX, isSealed, open, seal, sealedKid } from './index.js';

const key = () => createSecretKey(randomBytes(32));

describe('seal and open (AES-256-GCM per value)', () => {
  it.each([['Nguyễn Thị Hoà'], ['051190001234'], [42], [null], [{ nested: ['x', 1] }]])(
    'opens what it sealed: %j',
    (value) => {
      const k = key();
      const sealed = seal('kid-1', k, value);
      expect(sealed.startsWith(`${SEALED_PREFIX}kid-1:`)).toBe(true);
      expect(isSealed(sealed)).toBe(true);
      expect(sealedKid(sealed)).toBe('kid-1');
      expect(open(sealed, k)).toEqual(value);
    },
  );

  it('seals the same value differently each time (a fresh IV), and never holds it in clear', () => {
    const k = key();
    const a = seal('kid-1', k, 'Nguyễn Thị Hoà');
    const b = seal('kid-1', k, 'Nguyễn Thị Hoà');
    expect(a).not.toBe(b);
    for (const s of [a, b]) {
      expect(s).not.toContain('Nguy');
      expect(
        Buffer.from(s.slice(`${SEALED_PREFIX}kid-1:`.length), 'base64url').toString('latin1'),
      ).not.toContain('Nguy');
    }
  });

  it('refuses a value altered anywhere in its body, and one whose kid was changed', () => {
    const k = key();
    const sealed = seal('kid-1', k, '051190001234');
    const prefix = `${SEALED_PREFIX}kid-1:`;
    const raw = Buffer.from(sealed.slice(prefix.length), 'base64url');
    for (const at of [0, 12, 20, raw.length - 1]) {
      const changed = Buffer.from(raw);
      changed[at]! ^= 0x01;
      expect(() => open(prefix + changed.toString('base64url'), k)).toThrow();
    }
    // The kid is authenticated: the same body under another kid does not open.
    expect(() => open(sealed.replace('kid-1', 'kid-2'), k)).toThrow();
    expect(() => open(`${prefix}AAAA`, k)).toThrow('truncated');
  });

  it('does not open with another key', () => {
    const sealed = seal('kid-1', key(), 'Trần Văn Dũng');
    expect(() => open(sealed, key())).toThrow();
  });

  it('knows a sealed string from any other', () => {
    expect(sealedKid('Nguyễn Thị Hoà')).toBeUndefined();
    expect(sealedKid(`${SEALED_PREFIX}:abc`)).toBeUndefined();
    expect(sealedKid(`${SEALED_PREFIX}nocolon`)).toBeUndefined();
    expect(isSealed(42)).toBe(false);
    expect(() => open('Nguyễn Thị Hoà', key())).toThrow('not a sealed value');
  });
});
