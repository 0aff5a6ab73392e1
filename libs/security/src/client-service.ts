import { randomUUID } from 'node:crypto';
import { DomainError, pointerToken, type Issue } from '#lgsp/contracts';
import { systemClock, type Clock } from '#lgsp/observability';
import {
  ROLES,
  TokenExpiredError,
  boundTo,
  nameTakenIssue,
  type Client,
  type ClientChanges,
  type ClientStore,
  type Role,
  type TokenHolder,
  type UnitDirectory,
} from './client.js';
import type { JwtLogin } from './jwt/jwt-login.js';
import type { RateLimit } from './rate-limit.js';
import { generateToken, hashToken, looksLikeJwt } from './tokens.js';

export interface CreateClientInput {
  name: string;
  role?: Role;
  communes?: readonly string[];
  province?: string;
  /** CloudEvents sources the client produces under on Kafka; see `Client.sources`. */
  sources?: readonly string[];
  /** A request rate limit of its own; see `Client.rateLimit`. */
  rateLimit?: RateLimit;
}

/** The largest rate and burst a client's own limit may have. */
export const MAX_CLIENT_RATE = 1_000_000;

/** The bootstrap admin is not a stored client: it is the credential the operator gave the hub. */
export const BOOTSTRAP_ADMIN: Client = {
  id: 'bootstrap-admin',
  name: 'bootstrap-admin',
  role: 'admin',
  communeCodes: [],
  sources: [],
  createdAt: new Date(0).toISOString(),
};

interface Cached {
  holder: TokenHolder;
  /** When it was read from the store, by the service's clock. */
  loadedAt: number;
}

interface BoundClients {
  clients: Client[];
  /** When the load began, by the service's clock. */
  loadedAt: number;
}

/** Options of {@link ClientService}. */
export interface ClientServiceOptions {
  /**
   * Least time between two reloads of the source-bound clients after a source matched none, so that
   * a client another hub process created is found without every unknown source costing a query.
   * @defaultValue 1000
   */
  sourceReloadMs?: number;
  /**
   * Age after which an authenticated client is read again from the store (in the background: the
   * request is served with what was read before), so that a change made through another hub process
   * (a rotation and a revocation too) applies here too; the source-bound clients are read again after
   * this age as well. Changes made through this service apply at once. @defaultValue 5000
   */
  refreshMs?: number;
  /** The clock of cache ages, token issue times and expiry, for tests. @defaultValue systemClock */
  clock?: Pick<Clock, 'now'>;
  /** A token older than this many seconds is refused as expired; null: tokens do not expire. @defaultValue null */
  tokenTtlSeconds?: number | null;
  /** After a rotation, the previous token keeps working this many seconds. @defaultValue 86400 */
  rotationOverlapSeconds?: number;
  /** Logins with the identity provider's JWTs; absent: a JWT is an unknown token like any other. */
  jwt?: Pick<JwtLogin, 'authenticate'>;
}

/** What a rotation gives: the new token (shown once) and until when the previous one works. */
export interface RotatedToken {
  client: Client;
  token: string;
  previousTokenExpiresAt: string;
}

/**
 * Creates clients, rotates and revokes their tokens, and authenticates bearers: the bootstrap admin
 * token, a client's token, or (with `jwt`) a JWT of the identity provider. Several hub processes may
 * share one store: a client created by one is seen by the others, by token at once, by source within
 * `sourceReloadMs`; a change to a client (a rotation and a revocation too) is seen by the others
 * within `refreshMs`, and by this one at once.
 */
export class ClientService {
  /** Positive hits only: an unknown token is looked up again, it may have been created elsewhere. */
  private readonly cache = new Map<string, Cached>();
  private adminTokenHash: string | undefined;
  /** The clients bound to sources, as last loaded from the store. */
  private bound: BoundClients | undefined;
  private loadingBound: Promise<BoundClients> | undefined;
  /** Grows at each create(), so that a load begun before it does not overwrite the invalidation. */
  private boundGeneration = 0;
  private readonly sourceReloadMs: number;
  private readonly refreshMs: number;
  private readonly ttlMs: number | null;
  private readonly overlapMs: number;
  private readonly jwt: Pick<JwtLogin, 'authenticate'> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly store: ClientStore,
    private readonly units: UnitDirectory,
    options: ClientServiceOptions = {},
  ) {
    this.sourceReloadMs = options.sourceReloadMs ?? 1000;
    this.refreshMs = options.refreshMs ?? 5000;
    this.ttlMs = options.tokenTtlSeconds == null ? null : options.tokenTtlSeconds * 1000;
    this.overlapMs = (options.rotationOverlapSeconds ?? 86_400) * 1000;
    this.jwt = options.jwt;
    const clock = options.clock ?? systemClock;
    this.now = () => clock.now();
  }

  /** Accepts this token as the bootstrap admin credential (kept only as a hash). */
  setAdminToken(token: string): void {
    this.adminTokenHash = hashToken(token);
  }

  /**
   * The client a token belongs to, or undefined for a token that is not valid (unknown, or of a revoked
   * client). A JWT goes to the `jwt` login when there is one.
   * @param mayLookUp asked before a token this process does not know yet is looked up in the store (or
   *   verified, a JWT); when it answers false the token is taken as unknown without a look-up (rate
   *   limits use it so that a flood of guessed tokens costs no queries).
   * @throws TokenExpiredError for a token past `tokenTtlSeconds` or the overlap of a rotation; for a JWT,
   *   what {@link JwtLogin.authenticate} throws.
   */
  async authenticate(token: string, mayLookUp?: () => boolean): Promise<Client | undefined> {
    const hash = hashToken(token);
    if (hash === this.adminTokenHash) return BOOTSTRAP_ADMIN;
    if (this.jwt && looksLikeJwt(token)) return this.jwt.authenticate(token, mayLookUp);
    const cached = this.cache.get(hash);
    if (cached) {
      if (this.now() - cached.loadedAt >= this.refreshMs) this.refresh(hash, cached);
      return this.valid(cached.holder);
    }
    if (mayLookUp && !mayLookUp()) return undefined;
    const loadedAt = this.now();
    const holder = await this.store.findByTokenHash(hash);
    if (!holder) return undefined;
    this.cache.set(hash, { holder, loadedAt });
    return this.valid(holder);
  }

  /** The client of a token found, when the token still works. */
  private valid(holder: TokenHolder): Client | undefined {
    if (holder.client.revokedAt !== undefined) return undefined;
    const now = this.now();
    if (holder.expiresAt !== undefined && now >= Date.parse(holder.expiresAt)) throw new TokenExpiredError();
    if (this.ttlMs !== null && now >= Date.parse(holder.issuedAt) + this.ttlMs) throw new TokenExpiredError();
    return holder.client;
  }

  /**
   * Gives the client named `ref` (or with that id) a new token, shown only in the answer; its current
   * token keeps working for `rotationOverlapSeconds` (an older one still in its overlap stops at once).
   * @throws DomainError `not-found` when there is no such client, `conflict` when it is revoked.
   */
  async rotateToken(ref: string): Promise<RotatedToken> {
    const found = await this.find(ref);
    if (found.revokedAt !== undefined) throw revokedConflict(found);
    const token = generateToken();
    const now = this.now();
    const previousTokenExpiresAt = new Date(now + this.overlapMs).toISOString();
    const client = await this.store.rotateToken(
      found.id,
      hashToken(token),
      new Date(now).toISOString(),
      previousTokenExpiresAt,
    );
    // Revoked (or deleted) by another process since it was read.
    if (!client) throw revokedConflict(found);
    this.forget(client.id);
    return { client, token, previousTokenExpiresAt };
  }

  /**
   * Revokes the client named `ref` (or with that id): every token of it is refused from now on in this
   * process, within `refreshMs` in the others. Revoking it again changes nothing.
   * @throws DomainError `not-found` when there is no such client.
   */
  async revoke(ref: string): Promise<Client> {
    const found = await this.find(ref);
    const client = await this.store.revoke(found.id, new Date(this.now()).toISOString());
    if (!client) throw new DomainError('not-found', 'no client has this name or id');
    this.forget(client.id);
    this.invalidateBound();
    return client;
  }

  /** The client named `ref`, or with that id. */
  private async find(ref: string): Promise<Client> {
    const found = (await this.store.findByName(ref)) ?? (await this.store.list()).find((c) => c.id === ref);
    if (!found) throw new DomainError('not-found', 'no client has this name or id');
    return found;
  }

  /** Drops every cached token of a client: the next request reads it (and its tokens' times) again. */
  private forget(id: string): void {
    for (const [hash, entry] of this.cache) if (entry.holder.client.id === id) this.cache.delete(hash);
  }

  private invalidateBound(): void {
    this.bound = undefined;
    this.loadingBound = undefined;
    this.boundGeneration += 1;
  }

  /**
   * Applies `changes` to the client named `ref` (or with that id) and returns it as stored; this process
   * uses the change from its next request on.
   * @throws DomainError `not-found` when there is no such client, `invalid` for a bad change.
   */
  async update(ref: string, changes: ClientChanges): Promise<Client> {
    const issues: Issue[] = [];
    if (changes.rateLimit) checkRateLimit(changes.rateLimit, '/rateLimit', issues);
    if (issues.length > 0) throw new DomainError('invalid', 'the change is not valid', issues);
    const found = await this.find(ref);
    const rateLimit = changes.rateLimit && {
      ratePerSecond: changes.rateLimit.ratePerSecond,
      burst: changes.rateLimit.burst,
    };
    const updated = await this.store.update(found.id, rateLimit === undefined ? {} : { rateLimit });
    if (!updated) throw new DomainError('not-found', 'no client has this name or id');
    const loadedAt = this.now();
    for (const [hash, entry] of this.cache) {
      if (entry.holder.client.id === updated.id)
        this.cache.set(hash, { holder: { ...entry.holder, client: updated }, loadedAt });
    }
    this.invalidateBound();
    return updated;
  }

  /** Reads a cached client again; a result is kept only if nothing replaced the entry meanwhile. */
  private refresh(hash: string, entry: Cached): void {
    entry.loadedAt = this.now(); // one refresh at a time per token
    this.store.findByTokenHash(hash).then(
      (holder) => {
        if (this.cache.get(hash) !== entry) return;
        if (holder) this.cache.set(hash, { holder, loadedAt: entry.loadedAt });
        else this.cache.delete(hash);
      },
      // The store is down: keep serving what was read; the next refresh tries again.
      () => undefined,
    );
  }

  /**
   * Creates a client and returns its token, which is never stored or shown again.
   * @throws DomainError (`invalid`) with an issue per bad field, also when another process took the name first.
   */
  async create(input: CreateClientInput): Promise<{ client: Client; token: string }> {
    const client = await this.validate(input);
    const token = generateToken();
    await this.store.insert(client, hashToken(token));
    this.invalidateBound();
    return { client, token };
  }

  list(): Promise<Client[]> {
    return this.store.list();
  }

  /** The client a CloudEvents `source` is bound to, for transports that carry no token (Kafka). */
  async clientForSource(source: string): Promise<Client | undefined> {
    // Read again after refreshMs even when it keeps matching, so that a revocation made through another
    // process applies here too.
    const current = this.bound;
    const bound =
      current && this.now() - current.loadedAt < this.refreshMs ? current : await this.loadBound();
    const client = bound.clients.find((c) => boundTo(c, source));
    if (client || this.now() - bound.loadedAt < this.sourceReloadMs) return client;
    return (await this.loadBound()).clients.find((c) => boundTo(c, source));
  }

  /** One load at a time: callers arriving while it runs share it. */
  private loadBound(): Promise<BoundClients> {
    if (this.loadingBound) return this.loadingBound;
    const generation = this.boundGeneration;
    const loadedAt = this.now();
    const loading = this.store.list().then((all) => {
      const bound = {
        clients: all.filter((c) => c.sources.length > 0 && c.revokedAt === undefined),
        loadedAt,
      };
      // A create() since the load began may be missing from it: keep it for this caller only.
      if (generation === this.boundGeneration) this.bound = bound;
      return bound;
    });
    this.loadingBound = loading;
    const done = () => {
      if (this.loadingBound === loading) this.loadingBound = undefined;
    };
    loading.then(done, done);
    return loading;
  }

  private async validate(input: CreateClientInput): Promise<Client> {
    const issues: Issue[] = [];
    const name = typeof input.name === 'string' ? input.name.normalize('NFC').trim() : '';
    if (!name || name.length > 100)
      issues.push({ pointer: '/name', message: 'name must be 1 to 100 characters' });
    else if (await this.store.findByName(name)) issues.push(nameTakenIssue(name));

    const communes = [...new Set(input.communes ?? [])];
    const province = input.province;
    const role: Role | undefined =
      input.role ?? (communes.length > 0 ? 'commune' : province !== undefined ? 'province' : undefined);
    if (!role || !ROLES.includes(role)) {
      issues.push({
        pointer: '/role',
        message: `role must be one of ${ROLES.join(', ')}, or give communes or a province`,
      });
    }

    let provinceCode: string | undefined;
    if (role === 'commune') {
      if (communes.length === 0)
        issues.push({ pointer: '/communes', message: 'a commune client needs communes' });
      if (province !== undefined)
        issues.push({ pointer: '/province', message: 'give communes or a province, not both' });
      const provinces = new Set<string>();
      communes.forEach((c, i) => {
        const p = /^[0-9]{5}$/.test(c) ? this.units.provinceOfCommune(c) : undefined;
        if (p === undefined) issues.push({ pointer: `/communes/${i}`, message: `unknown commune code ${c}` });
        else provinces.add(p);
      });
      if (provinces.size > 1) {
        issues.push({ pointer: '/communes', message: 'the communes of one client must be in one province' });
      }
      provinceCode = [...provinces][0];
    } else if (role === 'province') {
      if (province === undefined || !/^[0-9]{2}$/.test(province) || !this.units.hasProvince(province)) {
        issues.push({ pointer: '/province', message: `unknown province code ${province ?? '(none)'}` });
      }
      if (communes.length > 0)
        issues.push({ pointer: '/communes', message: 'give communes or a province, not both' });
      provinceCode = province;
    } else if (role && (communes.length > 0 || province !== undefined)) {
      issues.push({ pointer: '/role', message: `role ${role} takes no communes or province` });
    }

    const sources = [...new Set(input.sources ?? [])];
    if (sources.length > 0 && role !== 'commune' && role !== 'province') {
      issues.push({ pointer: '/sources', message: 'only commune and province clients produce events' });
    }
    // A revoked client's sources are free for the client that replaces it.
    const taken = (await this.store.list()).filter((c) => c.sources.length > 0 && c.revokedAt === undefined);
    sources.forEach((s, i) => {
      if (typeof s !== 'string' || !/^[^\s*]+\*?$/.test(s) || s.length > 200) {
        issues.push({
          pointer: `/sources/${i}`,
          message: 'a source is a URI-reference without spaces, optionally ending in *',
        });
        return;
      }
      const probe = s.endsWith('*') ? s.slice(0, -1) : s;
      const owner = taken.find(
        (c) => boundTo(c, probe) || c.sources.some((t) => t.startsWith(probe) && s.endsWith('*')),
      );
      if (owner)
        issues.push({ pointer: `/sources/${i}`, message: `${s} overlaps a source of client ${owner.name}` });
    });

    if (input.rateLimit !== undefined) checkRateLimit(input.rateLimit, '/rateLimit', issues);

    if (issues.length > 0 || !role) throw new DomainError('invalid', 'the client is not valid', issues);
    return {
      id: randomUUID(),
      name,
      role,
      ...(provinceCode ? { provinceCode } : {}),
      communeCodes: role === 'commune' ? communes : [],
      sources,
      ...(input.rateLimit
        ? { rateLimit: { ratePerSecond: input.rateLimit.ratePerSecond, burst: input.rateLimit.burst } }
        : {}),
      createdAt: new Date(this.now()).toISOString(),
    };
  }
}

const revokedConflict = (client: Client): DomainError =>
  new DomainError('conflict', `client ${client.name} is revoked; create a new client`);

function checkRateLimit(limit: RateLimit, pointer: string, issues: Issue[]): void {
  if (typeof limit !== 'object' || limit === null) {
    issues.push({ pointer, message: 'a rate limit is {ratePerSecond, burst}' });
    return;
  }
  const { ratePerSecond, burst, ...other } = limit;
  for (const key of Object.keys(other))
    issues.push({
      pointer: `${pointer}/${pointerToken(key)}`,
      message: 'a rate limit has ratePerSecond and burst only',
    });
  if (typeof ratePerSecond !== 'number' || !(ratePerSecond > 0) || ratePerSecond > MAX_CLIENT_RATE)
    issues.push({
      pointer: `${pointer}/ratePerSecond`,
      message: `requests per second: a number above 0, at most ${MAX_CLIENT_RATE}`,
    });
  if (!Number.isInteger(burst) || burst < 1 || burst > MAX_CLIENT_RATE)
    issues.push({ pointer: `${pointer}/burst`, message: `an integer from 1 to ${MAX_CLIENT_RATE}` });
}
