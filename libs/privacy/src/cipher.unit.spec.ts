import { createSecretKey, randomBytes } from 'node:crypto';
import {
  PERSON_PREFIX,
  SEALED_PREFIX,
  isSealed,
  open,
  seal,
  sealPerson,
  sealedKid,
  sealedParts,
} from './index.js';

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

describe("sealPerson (a person's fields in one AES-256-GCM operation)", () => {
  const person = { fullName: 'Nguyễn Thị Hoà', idNumber: '051190001234', phone: '0912345678' };

  it('gives each field a string that opens alone to that field, none holding anything in clear', () => {
    const k = key();
    const sealed = sealPerson('kid-1', k, person);
    expect(Object.keys(sealed)).toEqual(['fullName', 'idNumber', 'phone']);
    for (const [field, s] of Object.entries(sealed)) {
      expect(s.startsWith(`${PERSON_PREFIX}kid-1:${field}:`)).toBe(true);
      expect(isSealed(s)).toBe(true);
      expect(sealedKid(s)).toBe('kid-1');
      expect(sealedParts(s)).toMatchObject({ kid: 'kid-1', field });
      expect(open(s, k)).toBe(person[field as keyof typeof person]);
      expect(s).not.toMatch(/Nguy|051190001234|0912345678/);
      expect(Buffer.from(sealedParts(s)!.body, 'base64url').toString('latin1')).not.toMatch(
        /Nguy|051190001234|0912345678/,
      );
    }
    // One operation: the fields share one body (one IV, one tag).
    expect(new Set(Object.values(sealed).map((s) => sealedParts(s)!.body)).size).toBe(1);
  });

  it('seals the same person differently each time (a fresh IV)', () => {
    const k = key();
    expect(sealPerson('kid-1', k, person).fullName).not.toBe(sealPerson('kid-1', k, person).fullName);
  });

  it('reuses a body sealed before for the same values under the same kid, and only then', () => {
    const k = key();
    const bodies = new Map<string, string>();
    const cache = {
      body: (kid: string, json: string) => bodies.get(`${kid} ${json}`),
      sealed: (kid: string, json: string, body: string) => void bodies.set(`${kid} ${json}`, body),
    };
    const first = sealPerson('kid-1', k, person, cache);
    expect(bodies.size).toBe(1);
    expect(sealPerson('kid-1', k, person, cache)).toEqual(first);
    expect(open(first.idNumber!, k)).toBe('051190001234');
    // Another value, another kid, or the fields in another order: a new operation, a new body.
    const moved = sealPerson('kid-1', k, { ...person, phone: '0987654321' }, cache);
    const other = sealPerson('kid-2', k, person, cache);
    const reordered = sealPerson(
      'kid-1',
      k,
      { phone: person.phone, fullName: person.fullName, idNumber: person.idNumber },
      cache,
    );
    const bodyOf = (sealed: Record<string, string>) => sealedParts(sealed.fullName!)!.body;
    expect(new Set([first, moved, other, reordered].map(bodyOf)).size).toBe(4);
    expect(bodies.size).toBe(4);
    expect(open(moved.phone!, k)).toBe('0987654321');
    expect(open(other.fullName!, k)).toBe(person.fullName);
  });

  it('refuses an altered body, another kid, another key, and a field the person does not hold', () => {
    const k = key();
    const s = sealPerson('kid-1', k, person).fullName!;
    const { body } = sealedParts(s)!;
    const raw = Buffer.from(body, 'base64url');
    for (const at of [0, 12, 30, raw.length - 1]) {
      const changed = Buffer.from(raw);
      changed[at]! ^= 0x01;
      expect(() => open(s.replace(body, changed.toString('base64url')), k)).toThrow();
    }
    expect(() => open(s.replace('kid-1', 'kid-2'), k)).toThrow();
    expect(() => open(s, key())).toThrow();
    expect(() => open(s.replace(':fullName:', ':email:'), k)).toThrow('no field email');
    // Another field of the same person is what the selector names: the body holds only this person.
    expect(open(s.replace(':fullName:', ':phone:'), k)).toBe('0912345678');
    expect(() => sealPerson('kid-1', k, { 'a:b': 'x' })).toThrow('cannot be named');
  });

  it('knows a malformed pd2 string from a sealed one', () => {
    expect(sealedParts(`${PERSON_PREFIX}kid-1:AAAA`)).toBeUndefined();
    expect(sealedParts(`${PERSON_PREFIX}kid-1::AAAA`)).toBeUndefined();
    expect(sealedParts(`${PERSON_PREFIX}:fullName:AAAA`)).toBeUndefined();
    expect(() => open(`${PERSON_PREFIX}kid-1:fullName:AAAA`, key())).toThrow('truncated');
  });
});
