import { DomainError } from '#lgsp/contracts';
import {
  JwtLogin,
  TokenExpiredError,
  jwtPrincipal,
  type JwtClaims,
  type JwtMapping,
  type UnitDirectory,
} from '#lgsp/security';

const units: UnitDirectory = {
  hasProvince: (p) => ['51', '79'].includes(p),
  provinceOfCommune: (c) => ({ '21040': '51', '21043': '51', '26734': '79' })[c],
};

const mapping: JwtMapping = {
  roleClaim: 'roles',
  roleMap: {
    'lgsp-admin': 'admin',
    'lgsp-operator': 'operator',
    'province-system': 'province',
    'commune-system': 'commune',
  },
  provinceClaim: 'province_code',
  communesClaim: 'commune_codes',
};

const IAT = Date.parse('2026-12-01T00:00:00.000Z') / 1000;
const claims = (over: Record<string, unknown> = {}): JwtClaims => ({
  iss: 'https://idp.example',
  aud: 'lgsp-hub',
  sub: 'user-1',
  iat: IAT,
  exp: IAT + 300,
  ...over,
});

const refusal = (f: () => unknown): DomainError => {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
};

describe('jwtPrincipal: the claims of a verified token as a hub principal', () => {
  it('maps an identity-provider role to the hub role, naming the principal after sub', () => {
    expect(jwtPrincipal(claims({ roles: ['lgsp-operator'] }), mapping, units)).toStrictEqual({
      id: 'jwt:user-1',
      name: 'jwt:user-1',
      role: 'operator',
      communeCodes: [],
      sources: [],
      createdAt: '2026-12-01T00:00:00.000Z',
    });
  });

  it('takes the strongest of several mapped roles, ignoring roles that map to nothing', () => {
    const roles = ['offline_access', 'province-system', 'lgsp-operator', 'uma_authorization'];
    expect(jwtPrincipal(claims({ roles, province_code: '51' }), mapping, units).role).toBe('operator');
    expect(jwtPrincipal(claims({ roles: ['lgsp-operator', 'lgsp-admin'] }), mapping, units).role).toBe(
      'admin',
    );
  });

  it('reads roles from a space-separated string, from a dotted path, or from a claim named with dots', () => {
    expect(jwtPrincipal(claims({ roles: 'openid lgsp-operator' }), mapping, units).role).toBe('operator');
    const keycloak = { ...mapping, roleClaim: 'realm_access.roles' };
    expect(jwtPrincipal(claims({ realm_access: { roles: ['lgsp-admin'] } }), keycloak, units).role).toBe(
      'admin',
    );
    const namespaced = { ...mapping, roleClaim: 'https://lgsp.vn/roles' };
    expect(jwtPrincipal(claims({ 'https://lgsp.vn/roles': ['lgsp-operator'] }), namespaced, units).role).toBe(
      'operator',
    );
  });

  it('refuses a valid token whose roles map to nothing with 403 (forbidden)', () => {
    for (const over of [
      { roles: ['offline_access'] },
      { roles: [] },
      {},
      { roles: 42 },
      { roles: [{ name: 'lgsp-admin' }] },
      { roles: ['toString', '__proto__'] },
    ]) {
      const error = refusal(() => jwtPrincipal(claims(over), mapping, units));
      expect([over, error.code, error.message]).toEqual([
        over,
        'forbidden',
        "the token's roles give no role in the hub",
      ]);
    }
  });

  it('gives a province login the province of its claim, refusing a missing or unknown one', () => {
    const p = jwtPrincipal(claims({ roles: ['province-system'], province_code: '51' }), mapping, units);
    expect(p).toMatchObject({ role: 'province', provinceCode: '51', communeCodes: [] });
    for (const code of [undefined, '99', '5', 51, ['51']]) {
      const error = refusal(() =>
        jwtPrincipal(claims({ roles: ['province-system'], province_code: code }), mapping, units),
      );
      expect([code, error.code]).toEqual([code, 'forbidden']);
      expect(error.message).toContain('province_code');
    }
  });

  it('gives a commune login its communes and their province, all in one province and known', () => {
    const list = jwtPrincipal(
      claims({ roles: ['commune-system'], commune_codes: ['21040', '21043'] }),
      mapping,
      units,
    );
    expect(list).toMatchObject({ role: 'commune', provinceCode: '51', communeCodes: ['21040', '21043'] });
    const text = jwtPrincipal(
      claims({ roles: ['commune-system'], commune_codes: '21040,21043' }),
      mapping,
      units,
    );
    expect(text.communeCodes).toEqual(['21040', '21043']);
    for (const communes of [['21040', '26734'], ['21040', '99999'], [], undefined, ['2104']]) {
      const error = refusal(() =>
        jwtPrincipal(claims({ roles: ['commune-system'], commune_codes: communes }), mapping, units),
      );
      expect([communes, error.code]).toEqual([communes, 'forbidden']);
    }
  });

  it('refuses a token without a usable sub as not valid (401)', () => {
    for (const sub of [undefined, '', 7, 'x'.repeat(201)]) {
      const error = refusal(() => jwtPrincipal(claims({ sub, roles: ['lgsp-admin'] }), mapping, units));
      expect([sub, error.code, error.message]).toEqual([sub, 'unauthenticated', 'the token is not valid']);
    }
  });
});

describe('JwtLogin', () => {
  const operatorToken = 'eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJvcCJ9.c2ln';

  const harness = (verified: JwtClaims | Error, options: { maxRemembered?: number } = {}) => {
    let now = IAT * 1000;
    const verifications: string[] = [];
    const verifier = {
      verify: async (token: string) => {
        verifications.push(token);
        if (verified instanceof Error) throw verified;
        return verified;
      },
    };
    const login = new JwtLogin(verifier, mapping, units, {
      clock: { now: () => now },
      clockToleranceSeconds: 5,
      ...options,
    });
    return { login, verifications, setNow: (ms: number) => (now = ms) };
  };

  it('verifies a token once, then serves it from memory until its exp and leeway, then refuses it as expired', async () => {
    const { login, verifications, setNow } = harness(claims({ roles: ['lgsp-operator'] }));
    expect(await login.authenticate(operatorToken)).toMatchObject({ name: 'jwt:user-1', role: 'operator' });
    expect(await login.authenticate(operatorToken)).toMatchObject({ role: 'operator' });
    expect(verifications).toHaveLength(1);
    setNow((IAT + 304) * 1000 + 999);
    expect(await login.authenticate(operatorToken)).toMatchObject({ role: 'operator' });
    setNow((IAT + 305) * 1000);
    await expect(login.authenticate(operatorToken)).rejects.toThrow(TokenExpiredError);
  });

  it('asks mayLookUp before verifying a token it has not seen, and verifies nothing when refused', async () => {
    const { login, verifications } = harness(claims({ roles: ['lgsp-operator'] }));
    expect(await login.authenticate(operatorToken, () => false)).toBeUndefined();
    expect(verifications).toHaveLength(0);
    let asked = 0;
    expect(await login.authenticate(operatorToken, () => (asked++, true))).toMatchObject({
      role: 'operator',
    });
    expect(await login.authenticate(operatorToken, () => (asked++, false))).toMatchObject({
      role: 'operator',
    });
    expect(asked).toBe(1);
  });

  it('passes on the verifier’s refusal, and does not remember a token whose roles map to nothing', async () => {
    const invalid = harness(new DomainError('unauthenticated', 'the token is not valid'));
    await expect(invalid.login.authenticate(operatorToken)).rejects.toMatchObject({
      code: 'unauthenticated',
      message: 'the token is not valid',
    });
    const unmapped = harness(claims({ roles: ['nothing'] }));
    await expect(unmapped.login.authenticate(operatorToken)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(unmapped.login.authenticate(operatorToken)).rejects.toMatchObject({ code: 'forbidden' });
    expect(unmapped.verifications).toHaveLength(2);
  });

  it('remembers at most maxRemembered tokens, dropping expired ones first, then the oldest', async () => {
    const { login, verifications, setNow } = harness(claims({ roles: ['lgsp-operator'] }), {
      maxRemembered: 2,
    });
    const token = (n: number) => `eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJvcCJ9.${n}`;
    await login.authenticate(token(1));
    await login.authenticate(token(2));
    await login.authenticate(token(3));
    expect(verifications).toEqual([token(1), token(2), token(3)]);
    await login.authenticate(token(3));
    await login.authenticate(token(2));
    expect(verifications).toHaveLength(3);
    await login.authenticate(token(1));
    expect(verifications).toHaveLength(4);
    setNow((IAT + 400) * 1000);
    await expect(login.authenticate(token(1))).rejects.toThrow(TokenExpiredError);
  });
});
