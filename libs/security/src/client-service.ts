import { randomUUID } from 'node:crypto';
import { DomainError, type Issue } from '#lgsp/contracts';
import { ROLES, boundTo, type Client, type ClientStore, type Role } from './client.js';
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
}

/** The bootstrap admin is not a stored client: it is the credential the operator gave the hub. */
export const BOOTSTRAP_ADMIN: Client = {
  id: 'bootstrap-admin',
  name: 'bootstrap-admin',
  role: 'admin',
  communeCodes: [],
  sources: [],
  createdAt: new Date(0).toISOString(),
};

export class ClientService {
  private readonly cache = new Map<string, Client>();
  private adminTokenHash: string | undefined;

  constructor(
    private readonly store: ClientStore,
    private readonly units: UnitDirectory,
  ) {}

  /** Accepts this token as the bootstrap admin credential (kept only as a hash). */
  setAdminToken(token: string): void {
    this.adminTokenHash = hashToken(token);
  }

  authenticate(token: string): Client | undefined {
    const hash = hashToken(token);
    if (hash === this.adminTokenHash) return BOOTSTRAP_ADMIN;
    const cached = this.cache.get(hash);
    if (cached) return cached;
    const client = this.store.findByTokenHash(hash);
    if (client) this.cache.set(hash, client);
    return client;
  }

  /** Creates a client and returns its token, which is never stored or shown again. */
  create(input: CreateClientInput): { client: Client; token: string } {
    const client = this.validate(input);
    const token = generateToken();
    this.store.insert(client, hashToken(token));
    this.bound = undefined;
    return { client, token };
  }

  list(): Client[] {
    return this.store.list();
  }

  /** The client a CloudEvents `source` is bound to, for transports that carry no token (Kafka). */
  clientForSource(source: string): Client | undefined {
    this.bound ??= this.store.list().filter((c) => c.sources.length > 0);
    return this.bound.find((c) => boundTo(c, source));
  }

  private bound: Client[] | undefined;

  private validate(input: CreateClientInput): Client {
    const issues: Issue[] = [];
    const name = typeof input.name === 'string' ? input.name.normalize('NFC').trim() : '';
    if (!name || name.length > 100)
      issues.push({ pointer: '/name', message: 'name must be 1 to 100 characters' });
    else if (this.store.findByName(name))
      issues.push({ pointer: '/name', message: `a client named ${name} exists` });

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
    const taken = this.store.list().filter((c) => c.sources.length > 0);
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

    if (issues.length > 0 || !role) throw new DomainError('invalid', 'the client is not valid', issues);
    return {
      id: randomUUID(),
      name,
      role,
      ...(provinceCode ? { provinceCode } : {}),
      communeCodes: role === 'commune' ? communes : [],
      sources,
      createdAt: new Date().toISOString(),
    };
  }
}
