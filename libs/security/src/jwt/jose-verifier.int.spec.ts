import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type GenerateKeyPairResult, type JWTPayload } from 'jose';
import { DomainError } from '#lgsp/contracts';
import { JoseJwtVerifier, TokenExpiredError, type JoseVerifierSettings } from '#lgsp/security';

/** A local identity provider: key pairs, and a JWKS served over HTTP with the answer the test sets. */
describe('JoseJwtVerifier against a local identity provider', () => {
  const ISSUER = 'https://sso.example/realms/lgsp';
  const AUDIENCE = 'lgsp-hub';
  let server: Server;
  let jwksUrl: string;
  let answer: { status: number; body: string };
  let fetches = 0;
  let es256: GenerateKeyPairResult;
  let rs256: GenerateKeyPairResult;
  let stranger: GenerateKeyPairResult;

  beforeAll(async () => {
    es256 = await generateKeyPair('ES256');
    rs256 = await generateKeyPair('RS256');
    stranger = await generateKeyPair('ES256');
    const keys = [
      { ...(await exportJWK(es256.publicKey)), kid: 'es-1', alg: 'ES256', use: 'sig' },
      { ...(await exportJWK(rs256.publicKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' },
    ];
    answer = { status: 200, body: JSON.stringify({ keys }) };
    server = createServer((_req, res) => {
      fetches += 1;
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const verifier = (over: Partial<JoseVerifierSettings> = {}) =>
    new JoseJwtVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUrl,
      algorithms: ['ES256'],
      clockToleranceSeconds: 5,
      ...over,
    });

  interface Signing {
    key?: GenerateKeyPairResult['privateKey'];
    kid?: string;
    alg?: string;
    iss?: string;
    aud?: string;
    /** Seconds from now; null: no exp claim. */
    exp?: number | null;
    claims?: JWTPayload;
  }
  const sign = ({
    key,
    kid = 'es-1',
    alg = 'ES256',
    iss = ISSUER,
    aud = AUDIENCE,
    exp = 300,
    claims,
  }: Signing) => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({ roles: ['lgsp-operator'], ...claims })
      .setProtectedHeader({ alg, kid, typ: 'JWT' })
      .setIssuer(iss)
      .setAudience(aud)
      .setSubject('user-1')
      .setIssuedAt(now - 10);
    if (exp !== null) jwt.setExpirationTime(now + exp);
    return jwt.sign(key ?? es256.privateKey);
  };

  const refusal = async (token: string, v = verifier()) => {
    const error = await v.verify(token).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
    return { code: error.code, message: error.message };
  };
  const NOT_VALID = { code: 'unauthenticated', message: 'the token is not valid' };

  it('accepts a token signed by a key of the set, with its claims', async () => {
    const claims = await verifier().verify(await sign({ claims: { province_code: '51' } }));
    expect(claims).toMatchObject({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'user-1',
      roles: ['lgsp-operator'],
      province_code: '51',
    });
  });

  it('refuses an expired token as expired, allowing the clock tolerance', async () => {
    const expired = await sign({ exp: -60 });
    await expect(verifier().verify(expired)).rejects.toThrow(TokenExpiredError);
    expect(await refusal(expired)).toEqual({ code: 'unauthenticated', message: 'the token has expired' });
    await expect(verifier().verify(await sign({ exp: -2 }))).resolves.toMatchObject({ sub: 'user-1' });
  });

  it('refuses a wrong audience, a wrong issuer, an unknown key, a forged signature and a token without exp', async () => {
    expect(await refusal(await sign({ aud: 'another-app' }))).toEqual(NOT_VALID);
    expect(await refusal(await sign({ iss: 'https://sso.example/realms/other' }))).toEqual(NOT_VALID);
    expect(await refusal(await sign({ key: stranger.privateKey, kid: 'es-unknown' }))).toEqual(NOT_VALID);
    expect(await refusal(await sign({ key: stranger.privateKey, kid: 'es-1' }))).toEqual(NOT_VALID);
    expect(await refusal(await sign({ exp: null }))).toEqual(NOT_VALID);
  });

  it('refuses an algorithm not allowed, even signed by a key of the set, and anything malformed', async () => {
    const rsa = await sign({ key: rs256.privateKey, kid: 'rs-1', alg: 'RS256' });
    expect(await refusal(rsa)).toEqual(NOT_VALID);
    await expect(verifier({ algorithms: ['ES256', 'RS256'] }).verify(rsa)).resolves.toMatchObject({
      sub: 'user-1',
    });
    const hmac = await new SignJWT({ sub: 'user-1' })
      .setProtectedHeader({ alg: 'HS256', kid: 'es-1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('a shared secret of thirty-two bytes'));
    expect(await refusal(hmac)).toEqual(NOT_VALID);
    const [header, payload] = (await sign({})).split('.');
    expect(await refusal(`${header}.${payload}.`)).toEqual(NOT_VALID);
    expect(await refusal(`${header}.bm90IGpzb24.c2ln`)).toEqual(NOT_VALID);
    expect(await refusal('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyLTEifQ.')).toEqual(NOT_VALID);
  });

  it('answers unavailable when the key set cannot be read, and reads it again once it can', async () => {
    const token = await sign({});
    const before = fetches;
    const saved = answer;
    answer = { status: 500, body: 'down' };
    const fresh = verifier();
    expect(await refusal(token, fresh)).toEqual({
      code: 'unavailable',
      message: "the identity provider's key set cannot be read",
    });
    answer = { status: 200, body: 'not json' };
    expect((await refusal(token, fresh)).code).toBe('unavailable');
    answer = saved;
    await expect(fresh.verify(token)).resolves.toMatchObject({ sub: 'user-1' });
    expect(fetches - before).toBe(3);
    // Cached: another token costs no fetch.
    await fresh.verify(await sign({ claims: { n: 2 } }));
    expect(fetches - before).toBe(3);

    const closed = verifier({ jwksUrl: 'http://127.0.0.1:9/certs' });
    expect((await refusal(token, closed)).code).toBe('unavailable');
  });
});
