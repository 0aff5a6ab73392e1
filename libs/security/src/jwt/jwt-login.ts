import { DomainError } from '#lgsp/contracts';
import { systemClock, type Clock } from '#lgsp/observability';
import { ROLES, TokenExpiredError, type Client, type Role, type UnitDirectory } from '../client.js';
import { hashToken } from '../tokens.js';

/** A JWT's claims, as the verifier returns them once the token holds. */
export type JwtClaims = Readonly<Record<string, unknown>>;

/** Checks a JWT's signature and registered claims: the hub's door to a JOSE library. */
export interface JwtVerifier {
  /**
   * The claims of a token whose signature (by a key of the identity provider's set, with an allowed
   * algorithm), issuer, audience, `exp` and `sub` hold.
   * @throws TokenExpiredError past its `exp`; DomainError `unauthenticated` for any other fault of the
   *   token; `unavailable` when the identity provider's key set cannot be read.
   */
  verify(token: string): Promise<JwtClaims>;
}

/** How a verified token's claims give a hub role and scope (`auth.jwt` in the configuration). */
export interface JwtMapping {
  roleClaim: string;
  roleMap: Readonly<Record<string, Role>>;
  provinceClaim: string;
  communesClaim: string;
}

const PROVINCE = /^[0-9]{2}$/;
const COMMUNE = /^[0-9]{5}$/;

/** The claim `name`, or, when the token has no claim of that name, the value at that dotted path. */
function claimAt(claims: JwtClaims, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  let value: unknown = claims;
  for (const part of name.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** A claim holding a list: an array of strings, or one string of items separated by commas or spaces. */
function listClaim(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/**
 * The principal of a verified token: a client named `jwt:<sub>` with the strongest hub role its roles
 * map to, and, for a province or commune role, the scope its claims give.
 * @throws DomainError `unauthenticated` without a usable `sub`; `forbidden` when no role maps, or a
 *   province or commune role comes without a known province or communes of one province.
 */
export function jwtPrincipal(claims: JwtClaims, mapping: JwtMapping, units: UnitDirectory): Client {
  const { sub, iat } = claims;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 200)
    throw new DomainError('unauthenticated', 'the token is not valid');
  const mapped = new Set(
    listClaim(claimAt(claims, mapping.roleClaim)).flatMap((r) => {
      const role = Object.hasOwn(mapping.roleMap, r) ? mapping.roleMap[r] : undefined;
      return role ? [role] : [];
    }),
  );
  const role = ROLES.find((r) => mapped.has(r));
  if (!role) throw new DomainError('forbidden', "the token's roles give no role in the hub");
  const principal: Client = {
    id: `jwt:${sub}`,
    name: `jwt:${sub}`,
    role,
    communeCodes: [],
    sources: [],
    createdAt: new Date(typeof iat === 'number' && Number.isFinite(iat) ? iat * 1000 : 0).toISOString(),
  };
  if (role === 'province') {
    const code = claimAt(claims, mapping.provinceClaim);
    if (typeof code !== 'string' || !PROVINCE.test(code) || !units.hasProvince(code)) {
      throw new DomainError(
        'forbidden',
        `a province login needs a known province code in the claim ${mapping.provinceClaim}`,
      );
    }
    return { ...principal, provinceCode: code };
  }
  if (role === 'commune') {
    const communes = [...new Set(listClaim(claimAt(claims, mapping.communesClaim)))];
    const provinces = new Set(
      communes.map((c) => (COMMUNE.test(c) ? units.provinceOfCommune(c) : undefined)),
    );
    const [province] = provinces;
    if (communes.length === 0 || provinces.size !== 1 || province === undefined) {
      throw new DomainError(
        'forbidden',
        `a commune login needs known commune codes of one province in the claim ${mapping.communesClaim}`,
      );
    }
    return { ...principal, provinceCode: province, communeCodes: communes };
  }
  return principal;
}

/** Options of {@link JwtLogin}. */
export interface JwtLoginOptions {
  /** The leeway the verifier gives `exp`, applied to the tokens remembered too. @defaultValue 5 */
  clockToleranceSeconds?: number;
  /** Tokens remembered at most. @defaultValue 10000 */
  maxRemembered?: number;
  /** @defaultValue systemClock */
  clock?: Pick<Clock, 'now'>;
}

interface Remembered {
  client: Client;
  /** When the token stops working, by the clock, its leeway included. */
  until: number;
}

/**
 * Logins with JWTs of the province's identity provider. A verified token is remembered (by its hash)
 * until its `exp`, so that a system's repeated requests cost one verification, and a token seen for
 * the first time asks `mayLookUp` first, as an unknown client token does, so that a flood of forged
 * tokens is throttled before any signature is checked.
 */
export class JwtLogin {
  private readonly remembered = new Map<string, Remembered>();
  private readonly leewayMs: number;
  private readonly maxRemembered: number;
  private readonly now: () => number;

  constructor(
    private readonly verifier: JwtVerifier,
    private readonly mapping: JwtMapping,
    private readonly units: UnitDirectory,
    options: JwtLoginOptions = {},
  ) {
    this.leewayMs = (options.clockToleranceSeconds ?? 5) * 1000;
    this.maxRemembered = options.maxRemembered ?? 10_000;
    const clock = options.clock ?? systemClock;
    this.now = () => clock.now();
  }

  /**
   * The principal of a JWT, or undefined when `mayLookUp` answers false for a token not seen yet.
   * @throws TokenExpiredError, DomainError `unauthenticated` for a token that does not hold, `forbidden`
   *   for one whose roles give nothing, `unavailable` when the key set cannot be read.
   */
  async authenticate(token: string, mayLookUp?: () => boolean): Promise<Client | undefined> {
    const key = hashToken(token);
    const known = this.remembered.get(key);
    if (known) {
      if (this.now() < known.until) return known.client;
      this.remembered.delete(key);
      throw new TokenExpiredError();
    }
    if (mayLookUp && !mayLookUp()) return undefined;
    const claims = await this.verifier.verify(token);
    const client = jwtPrincipal(claims, this.mapping, this.units);
    if (typeof claims.exp === 'number')
      this.remember(key, { client, until: claims.exp * 1000 + this.leewayMs });
    return client;
  }

  private remember(key: string, entry: Remembered): void {
    if (this.remembered.size >= this.maxRemembered) {
      const now = this.now();
      for (const [k, e] of this.remembered) if (e.until <= now) this.remembered.delete(k);
      // Still full: the oldest goes (it is verified again if it comes back).
      if (this.remembered.size >= this.maxRemembered) {
        const [oldest] = this.remembered.keys();
        if (oldest !== undefined) this.remembered.delete(oldest);
      }
    }
    this.remembered.set(key, entry);
  }
}
