import { DomainError } from '#lgsp/contracts';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { TokenExpiredError } from '../client.js';
import type { JwtClaims, JwtVerifier } from './jwt-login.js';

/** What the verifier checks a token against (`auth.jwt` in the configuration). */
export interface JoseVerifierSettings {
  issuer: string;
  audience: string | string[];
  jwksUrl: string;
  algorithms: string[];
  clockToleranceSeconds: number;
}

/**
 * jose's codes for a token at fault (malformed, badly signed, signed by a key the set does not hold,
 * an algorithm not allowed, a claim that does not hold). Anything else, such as a key set that cannot
 * be fetched or parsed, is the identity provider's or the network's fault.
 */
const TOKEN_FAULTS = new Set([
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWT_INVALID',
  'ERR_JWS_INVALID',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWK_INVALID',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
]);

/**
 * Verifies JWTs with jose against the identity provider's remote key set, which jose caches (ten
 * minutes at most) and fetches again, at most every 30 s, when a token names a key it does not hold
 * (the provider rotated its keys). The only module that imports jose.
 */
export class JoseJwtVerifier implements JwtVerifier {
  private readonly keys: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly settings: JoseVerifierSettings) {
    this.keys = createRemoteJWKSet(new URL(settings.jwksUrl), {
      timeoutDuration: 5000,
      cooldownDuration: 30_000,
      cacheMaxAge: 600_000,
    });
  }

  async verify(token: string): Promise<JwtClaims> {
    const { issuer, audience, algorithms, clockToleranceSeconds } = this.settings;
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        issuer,
        audience,
        algorithms,
        clockTolerance: clockToleranceSeconds,
        requiredClaims: ['sub', 'exp'],
      });
      return payload;
    } catch (e) {
      const code = (e as { code?: unknown } | null)?.code;
      if (code === 'ERR_JWT_EXPIRED') throw new TokenExpiredError();
      if (typeof code === 'string' && TOKEN_FAULTS.has(code))
        throw new DomainError('unauthenticated', 'the token is not valid');
      throw new DomainError('unavailable', "the identity provider's key set cannot be read", [], {
        cause: e,
      });
    }
  }
}
