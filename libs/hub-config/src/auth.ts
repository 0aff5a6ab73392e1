import type { Env } from './env.js';
import { integer, settingsObject } from './schema.js';

/** The hub's roles a role of the identity provider can map to (`Role` of `#lgsp/security`). */
export const JWT_MAPPABLE_ROLES = ['admin', 'operator', 'province', 'commune'] as const;

/** Signature algorithms a JWT may use: asymmetric only, since the keys come from a public JWKS. */
export const JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

/** Logins with JWTs from the province's identity provider (README, "Clients and credentials"). */
export interface JwtConfig {
  /** The `iss` every token must carry, exactly. (env `LGSP_JWT_ISSUER`) */
  issuer: string;
  /** The `aud` every token must carry (one of them, when a list). (env `LGSP_JWT_AUDIENCE`) */
  audience: string | string[];
  /**
   * The identity provider's JSON Web Key Set: `https`, or `http` to a loopback address (tests).
   * (env `LGSP_JWT_JWKS_URL`)
   */
  jwksUrl: string;
  /** The signature algorithms accepted. @defaultValue ["RS256", "ES256"] */
  algorithms: string[];
  /**
   * The claim holding the user's roles: a string (space-separated roles) or an array of strings. A
   * name that is not a claim is read as a dotted path (`realm_access.roles`). @defaultValue "roles"
   */
  roleClaim: string;
  /**
   * The hub role of each identity-provider role; roles not listed give nothing. When a token maps
   * to several, the strongest counts (admin, operator, province, commune).
   * (env `LGSP_JWT_ROLE_MAP`, `idpRole=hubRole,…`) @defaultValue {}
   */
  roleMap: Record<string, (typeof JWT_MAPPABLE_ROLES)[number]>;
  /** The claim holding a province login's 2-digit province code. @defaultValue "province_code" */
  provinceClaim: string;
  /**
   * The claim holding a commune login's 5-digit commune codes (an array, or a string separated by
   * commas or spaces). @defaultValue "commune_codes"
   */
  communesClaim: string;
  /** Leeway for `exp`, `nbf` and `iat` against the hub's clock, in seconds. @defaultValue 5 */
  clockToleranceSeconds: number;
}

export interface AuthConfig {
  /**
   * A client token older than this is refused (401, "the token has expired"); rotate it before.
   * null: tokens do not expire. @defaultValue null
   */
  tokenTtlSeconds: number | null;
  /** After a rotation, the previous token keeps working this long. @defaultValue 86400 */
  rotationOverlapSeconds: number;
  /** JWT logins; null: only the hub's own tokens are accepted. @defaultValue null */
  jwt: JwtConfig | null;
}

export const AUTH_DEFAULTS: AuthConfig = {
  tokenTtlSeconds: null,
  rotationOverlapSeconds: 86_400,
  jwt: null,
};

/** The defaults of the JWT settings a configuration may leave out. */
export const JWT_DEFAULTS: Omit<JwtConfig, 'issuer' | 'audience' | 'jwksUrl'> = {
  algorithms: ['RS256', 'ES256'],
  roleClaim: 'roles',
  roleMap: {},
  provinceClaim: 'province_code',
  communesClaim: 'commune_codes',
  clockToleranceSeconds: 5,
};

const CLAIM = { type: 'string', minLength: 1, maxLength: 200 } as const;
const TEN_YEARS = 10 * 365 * 24 * 3600;

export const AUTH_SCHEMA = settingsObject({
  tokenTtlSeconds: { type: ['integer', 'null'], minimum: 1, maximum: TEN_YEARS },
  rotationOverlapSeconds: integer(0, 30 * 24 * 3600),
  jwt: {
    ...settingsObject({
      issuer: { type: 'string', minLength: 1 },
      audience: {
        anyOf: [
          { type: 'string', minLength: 1 },
          { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
        ],
      },
      jwksUrl: { type: 'string', minLength: 1 },
      algorithms: { type: 'array', items: { enum: JWT_ALGORITHMS }, minItems: 1, uniqueItems: true },
      roleClaim: CLAIM,
      roleMap: {
        type: 'object',
        additionalProperties: { enum: JWT_MAPPABLE_ROLES },
        propertyNames: { type: 'string', minLength: 1 },
      },
      provinceClaim: CLAIM,
      communesClaim: CLAIM,
      clockToleranceSeconds: integer(0, 300),
    }),
    type: ['object', 'null'],
    required: ['issuer', 'audience', 'jwksUrl'],
  },
});

/**
 * `LGSP_JWT_ISSUER`, `LGSP_JWT_AUDIENCE` (comma-separated for several), `LGSP_JWT_JWKS_URL` and
 * `LGSP_JWT_ROLE_MAP` (`idpRole=hubRole,…`) override the file's `auth.jwt`; the first three together
 * turn JWT logins on when the file has none.
 */
export function applyAuthEnv(auth: AuthConfig, env: Env, problems: string[]): void {
  const issuer = env.LGSP_JWT_ISSUER || undefined;
  const audience = env.LGSP_JWT_AUDIENCE || undefined;
  const jwksUrl = env.LGSP_JWT_JWKS_URL || undefined;
  const roleMap = env.LGSP_JWT_ROLE_MAP || undefined;
  if (!issuer && !audience && !jwksUrl && !roleMap) return;
  if (!auth.jwt) {
    if (!issuer || !audience || !jwksUrl) {
      problems.push(
        'LGSP_JWT_ISSUER, LGSP_JWT_AUDIENCE and LGSP_JWT_JWKS_URL: give all three, or set auth.jwt in the file',
      );
      return;
    }
    auth.jwt = { issuer, audience, jwksUrl, ...structuredClone(JWT_DEFAULTS) };
  }
  const jwt = auth.jwt;
  if (issuer) jwt.issuer = issuer;
  if (audience) {
    const list = audience
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean);
    jwt.audience = list.length === 1 ? list[0]! : list;
  }
  if (jwksUrl) jwt.jwksUrl = jwksUrl;
  if (roleMap) {
    const map: JwtConfig['roleMap'] = {};
    for (const pair of roleMap.split(',')) {
      const [idpRole, hubRole, ...rest] = pair.split('=').map((s) => s.trim());
      const role = JWT_MAPPABLE_ROLES.find((r) => r === hubRole);
      if (!idpRole || !role || rest.length > 0) {
        problems.push(
          `LGSP_JWT_ROLE_MAP: "${pair}" must be idpRole=hubRole, hubRole one of ${JWT_MAPPABLE_ROLES.join(', ')}`,
        );
        return;
      }
      map[idpRole] = role;
    }
    jwt.roleMap = map;
  }
}

/**
 * Fills the defaults of a JWT section given in the file (the merge with the defaults stops at
 * `auth.jwt`, null by default), and checks the JWKS address.
 */
export function checkAuth(auth: AuthConfig, problems: string[]): void {
  if (!auth.jwt) return;
  auth.jwt = { ...structuredClone(JWT_DEFAULTS), ...auth.jwt };
  let url: URL | undefined;
  try {
    url = new URL(auth.jwt.jwksUrl);
  } catch {
    problems.push('auth.jwt.jwksUrl: not a URL');
    return;
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    problems.push('auth.jwt.jwksUrl: must be https (http only to localhost, 127.0.0.1 or [::1])');
  }
}
