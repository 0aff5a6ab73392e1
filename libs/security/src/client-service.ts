import { randomUUID } from 'node:crypto';
import { DomainError, pointerToken, type Issue } from '#lgsp/contracts';
import { systemClock, type Clock } from '#lgsp/observability';
import {
  ROLES,
  boundTo,
  nameTakenIssue,
  type Client,
  type ClientChanges,
  type ClientStore,
  type Role,
} from './client.js';
import type { RateLimit } from './rate-limit.js';
import { generateToken, hashToken } from './tokens.js';

/** What the service needs to know of the administrative units. */
export interface UnitDirectory {
  hasProvince(code: string): boolean;
  provinceOfCommune(code: string): string | undefined;
}

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
  client: Client;
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
   * applies here too. Changes made through this service apply at once. @defaultValue 5000
   */
  refreshMs?: number;
  /** The clock of cache ages, for tests. @defaultValue systemClock */
  clock?: Pick<Clock, 'now'>;
}

/**
 * Creates clients and authenticates their tokens. Several hub processes may share one store: a client
 * created by one is seen by the others, by token at once, by source within `sourceReloadMs`; a change
 * to a client is seen by the others within `refreshMs`.
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
  private readonly now: () => number;

  constructor(
    private readonly store: ClientStore,
    private readonly units: UnitDirectory,
    options: ClientServiceOptions = {},
  ) {
    this.sourceReloadMs = options.sourceReloadMs ?? 1000;
    this.refreshMs = options.refreshMs ?? 5000;
    const clock = options.clock ?? systemClock;
    this.now = () => clock.now();
  }

  /** Accepts this token as the bootstrap admin credential (kept only as a hash). */
  setAdminToken(token: string): void {
    this.adminTokenHash = hashToken(token);
  }

  /**
   * The client a token belongs to, or undefined.
   * @param mayLookUp asked before a token this process does not know yet is looked up in the store;
   *   when it answers false the token is taken as unknown without a look-up (rate limits use it so
   *   that a flood of guessed tokens costs no queries).
   */
  async authenticate(token: string, mayLookUp?: () => boolean): Promise<Client | undefined> {
    const hash = hashToken(token);
    if (hash === this.adminTokenHash) return BOOTSTRAP_ADMIN;
    const cached = this.cache.get(hash);
    if (cached) {
      if (this.now() - cached.loadedAt >= this.refreshMs) this.refresh(hash, cached);
      return cached.client;
    }
    if (mayLookUp && !mayLookUp()) return undefined;
    const loadedAt = this.now();
    const client = await this.store.findByTokenHash(hash);
    if (client) this.cache.set(hash, { client, loadedAt });
    return client;
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
    const found = (await this.store.findByName(ref)) ?? (await this.store.list()).find((c) => c.id === ref);
    const rateLimit = changes.rateLimit && {
      ratePerSecond: changes.rateLimit.ratePerSecond,
      burst: changes.rateLimit.burst,
    };
    const updated =
      found && (await this.store.update(found.id, rateLimit === undefined ? {} : { rateLimit }));
    if (!updated) throw new DomainError('not-found', 'no client has this name or id');
    const loadedAt = this.now();
    for (const [hash, entry] of this.cache) {
      if (entry.client.id === updated.id) this.cache.set(hash, { client: updated, loadedAt });
    }
    this.bound = undefined;
    this.loadingBound = undefined;
    this.boundGeneration += 1;
    return updated;
  }

  /** Reads a cached client again; a result is kept only if nothing replaced the entry meanwhile. */
  private refresh(hash: string, entry: Cached): void {
    entry.loadedAt = this.now(); // one refresh at a time per token
    this.store.findByTokenHash(hash).then(
      (client) => {
        if (this.cache.get(hash) !== entry) return;
        if (client) this.cache.set(hash, { client, loadedAt: entry.loadedAt });
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
    this.bound = undefined;
    this.loadingBound = undefined;
    this.boundGeneration += 1;
    return { client, token };
  }

  list(): Promise<Client[]> {
    return this.store.list();
  }

  /** The client a CloudEvents `source` is bound to, for transports that carry no token (Kafka). */
  async clientForSource(source: string): Promise<Client | undefined> {
    const bound = this.bound ?? (await this.loadBound());
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
      const bound = { clients: all.filter((c) => c.sources.length > 0), loadedAt };
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
    const taken = (await this.store.list()).filter((c) => c.sources.length > 0);
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
      createdAt: new Date().toISOString(),
    };
  }
}

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
