import { DomainError } from '#lgsp/contracts';
import {
  BOOTSTRAP_ADMIN,
  ClientService,
  assertIngestScope,
  bearerToken,
  hashToken,
  inReadScope,
  readScope,
  type Client,
  type ClientStore,
} from '#lgsp/security';

class MemoryClientStore implements ClientStore {
  readonly rows: { client: Client; hash: string }[] = [];
  insert(client: Client, hash: string): void {
    this.rows.push({ client, hash });
  }
  findByTokenHash(hash: string): Client | undefined {
    return this.rows.find((r) => r.hash === hash)?.client;
  }
  findByName(name: string): Client | undefined {
    return this.rows.find((r) => r.client.name === name)?.client;
  }
  list(): Client[] {
    return this.rows.map((r) => r.client);
  }
}

const units = {
  hasProvince: (p: string) => ['51', '79'].includes(p),
  provinceOfCommune: (c: string) => ({ '21040': '51', '21043': '51', '26734': '79' })[c],
};

const commune: Client = {
  id: '1',
  name: 'c',
  role: 'commune',
  provinceCode: '51',
  communeCodes: ['21040'],
  sources: [],
  createdAt: '',
};
const province: Client = {
  id: '2',
  name: 'p',
  role: 'province',
  provinceCode: '51',
  communeCodes: [],
  sources: [],
  createdAt: '',
};
const ev = (provinceCode: string, communeCode: string) => ({
  specversion: '1.0' as const,
  id: 'x',
  source: 's',
  type: 't',
  data: { provinceCode, communeCode },
});

describe('clients and tokens', () => {
  it('stores only the hash of a new token and authenticates with the token', () => {
    const store = new MemoryClientStore();
    const service = new ClientService(store, units);
    const { client, token } = service.create({ name: 'Bình Sơn', communes: ['21040', '21043'] });
    expect(client).toMatchObject({ role: 'commune', provinceCode: '51', communeCodes: ['21040', '21043'] });
    expect(token).toMatch(/^lgsp_[A-Za-z0-9_-]{43}$/);
    expect(store.rows[0]!.hash).toBe(hashToken(token));
    expect(JSON.stringify(store.rows)).not.toContain(token);
    expect(service.authenticate(token)?.id).toBe(client.id);
    expect(service.authenticate(`${token}x`)).toBeUndefined();
  });

  it('accepts the bootstrap admin token', () => {
    const service = new ClientService(new MemoryClientStore(), units);
    service.setAdminToken('secret-admin');
    expect(service.authenticate('secret-admin')).toBe(BOOTSTRAP_ADMIN);
  });

  it('refuses unknown codes, mixed scopes and duplicate names with a pointer to each', () => {
    const service = new ClientService(new MemoryClientStore(), units);
    service.create({ name: 'a', province: '51' });
    const attempt = (input: Parameters<ClientService['create']>[0]) => {
      try {
        service.create(input);
      } catch (e) {
        return (e as DomainError).issues.map((i) => i.pointer);
      }
      throw new Error('expected a refusal');
    };
    expect(attempt({ name: 'a', province: '51' })).toEqual(['/name']);
    expect(attempt({ name: 'b', communes: ['21040', '99999'] })).toEqual(['/communes/1']);
    expect(attempt({ name: 'c', communes: ['21040', '26734'] })).toEqual(['/communes']);
    expect(attempt({ name: 'd', province: '99' })).toEqual(['/province']);
    expect(attempt({ name: 'e' })).toEqual(['/role']);
  });

  it('binds clients to CloudEvents sources for Kafka ingest, exact or by prefix, never overlapping', () => {
    const service = new ClientService(new MemoryClientStore(), units);
    const exact = service.create({
      name: 'x',
      communes: ['21040'],
      sources: ['/communes/21040/one-stop-shop'],
    }).client;
    const prefix = service.create({ name: 'y', province: '79', sources: ['/provinces/79/*'] }).client;
    expect(service.clientForSource('/communes/21040/one-stop-shop')?.id).toBe(exact.id);
    expect(service.clientForSource('/communes/21040/civil-registry')).toBeUndefined();
    expect(service.clientForSource('/provinces/79/portal')?.id).toBe(prefix.id);
    const refused = (input: Parameters<ClientService['create']>[0]) => {
      try {
        service.create(input);
      } catch (e) {
        return (e as DomainError).issues.map((i) => `${i.pointer} ${i.message}`);
      }
      throw new Error('expected a refusal');
    };
    expect(refused({ name: 'z1', communes: ['21040'], sources: ['/provinces/79/sub'] })).toEqual([
      '/sources/0 /provinces/79/sub overlaps a source of client y',
    ]);
    expect(refused({ name: 'z2', communes: ['21040'], sources: ['/communes/*'] })[0]).toMatch(
      /overlaps a source of client x/,
    );
    expect(refused({ name: 'z3', communes: ['21040'], sources: ['has space'] })[0]).toMatch(/^\/sources\/0 /);
    expect(refused({ name: 'z4', role: 'operator', sources: ['/ops'] })).toEqual([
      '/sources only commune and province clients produce events',
    ]);
  });

  it('reads a bearer token from the Authorization header', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('scope', () => {
  it('lets a commune client ingest only its communes, pointing at each event outside', () => {
    expect(() => assertIngestScope(commune, [ev('51', '21040')], true)).not.toThrow();
    try {
      assertIngestScope(commune, [ev('51', '21040'), ev('51', '21043')], false);
      throw new Error('expected forbidden');
    } catch (e) {
      expect((e as DomainError).code).toBe('forbidden');
      expect((e as DomainError).issues.map((i) => i.pointer)).toEqual(['/1/data/communeCode']);
    }
  });

  it('lets a province client ingest only its province, and an operator not at all', () => {
    expect(() => assertIngestScope(province, [ev('51', '21043')], true)).not.toThrow();
    expect(() => assertIngestScope(province, [ev('79', '26734')], true)).toThrow(DomainError);
    expect(() => assertIngestScope({ ...province, role: 'operator' }, [ev('51', '21043')], true)).toThrow(
      /may not ingest/,
    );
  });

  it('scopes reads to the province or the communes', () => {
    expect(inReadScope(readScope(commune), '51', '21040')).toBe(true);
    expect(inReadScope(readScope(commune), '51', '21043')).toBe(false);
    expect(inReadScope(readScope(province), '51', '21043')).toBe(true);
    expect(inReadScope(readScope(province), '79', '26734')).toBe(false);
    expect(inReadScope(readScope(BOOTSTRAP_ADMIN), '79', '26734')).toBe(true);
  });
});
