import { DomainError } from '#lgsp/contracts';
import {
  BOOTSTRAP_ADMIN,
  ClientNameTakenError,
  ClientService,
  TokenExpiredError,
  assertIngestScope,
  bearerToken,
  coversOwner,
  hashToken,
  inReadScope,
  readScope,
  sourceAllowed,
  type Client,
  type ClientChanges,
  type ClientStore,
  type CommuneDirectory,
  type RateLimit,
  type TokenHolder,
} from '#lgsp/security';

interface MemoryRow {
  client: Client;
  hash: string;
  previous?: { hash: string; issuedAt: string; expiresAt: string };
}

class MemoryClientStore implements ClientStore {
  readonly rows: MemoryRow[] = [];
  readonly calls = { findByTokenHash: 0, list: 0 };
  /** Another process takes the name between the service's check and its insert. */
  raceOnInsert = false;
  async insert(client: Client, hash: string): Promise<void> {
    if (this.raceOnInsert) throw new ClientNameTakenError(client.name);
    this.rows.push({ client, hash });
  }
  async findByTokenHash(hash: string): Promise<TokenHolder | undefined> {
    this.calls.findByTokenHash += 1;
    const row = this.rows.find((r) => r.hash === hash || r.previous?.hash === hash);
    if (!row) return undefined;
    if (row.hash === hash)
      return { client: row.client, issuedAt: row.client.tokenIssuedAt ?? row.client.createdAt };
    return { client: row.client, issuedAt: row.previous!.issuedAt, expiresAt: row.previous!.expiresAt };
  }
  async findByName(name: string): Promise<Client | undefined> {
    return this.rows.find((r) => r.client.name === name)?.client;
  }
  async list(): Promise<Client[]> {
    this.calls.list += 1;
    return this.rows.map((r) => r.client);
  }
  async update(id: string, changes: ClientChanges): Promise<Client | undefined> {
    const row = this.rows.find((r) => r.client.id === id);
    if (!row) return undefined;
    if (changes.rateLimit !== undefined) {
      const { rateLimit: _old, ...rest } = row.client;
      row.client = { ...rest, ...(changes.rateLimit ? { rateLimit: changes.rateLimit } : {}) };
    }
    return row.client;
  }
  async rotateToken(id: string, hash: string, issuedAt: string, previousExpiresAt: string) {
    const row = this.rows.find((r) => r.client.id === id && r.client.revokedAt === undefined);
    if (!row) return undefined;
    const previousIssuedAt = row.client.tokenIssuedAt ?? row.client.createdAt;
    row.previous = { hash: row.hash, issuedAt: previousIssuedAt, expiresAt: previousExpiresAt };
    row.hash = hash;
    row.client = { ...row.client, tokenIssuedAt: issuedAt };
    return row.client;
  }
  async revoke(id: string, at: string): Promise<Client | undefined> {
    const row = this.rows.find((r) => r.client.id === id);
    if (!row) return undefined;
    delete row.previous;
    row.client = { ...row.client, revokedAt: row.client.revokedAt ?? at };
    return row.client;
  }
}

const units = {
  hasProvince: (p: string) => ['51', '79'].includes(p),
  provinceOfCommune: (c: string) => ({ '21040': '51', '21043': '51', '26734': '79' })[c],
} satisfies CommuneDirectory & { hasProvince(p: string): boolean };

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
const ev = (
  provinceCode: string,
  communeCode: string,
  source = `/communes/${communeCode}/one-stop-shop`,
) => ({
  specversion: '1.0' as const,
  id: 'x',
  source,
  type: 't',
  data: { provinceCode, communeCode },
});

describe('clients and tokens', () => {
  it('stores only the hash of a new token and authenticates with the token', async () => {
    const store = new MemoryClientStore();
    const service = new ClientService(store, units);
    const { client, token } = await service.create({ name: 'Bình Sơn', communes: ['21040', '21043'] });
    expect(client).toMatchObject({ role: 'commune', provinceCode: '51', communeCodes: ['21040', '21043'] });
    expect(token).toMatch(/^lgsp_[A-Za-z0-9_-]{43}$/);
    expect(store.rows[0]!.hash).toBe(hashToken(token));
    expect(JSON.stringify(store.rows)).not.toContain(token);
    expect((await service.authenticate(token))?.id).toBe(client.id);
    expect(await service.authenticate(`${token}x`)).toBeUndefined();
  });

  it('accepts the bootstrap admin token', async () => {
    const service = new ClientService(new MemoryClientStore(), units);
    service.setAdminToken('secret-admin');
    expect(await service.authenticate('secret-admin')).toBe(BOOTSTRAP_ADMIN);
  });

  it('refuses unknown codes, mixed scopes and duplicate names with a pointer to each', async () => {
    const service = new ClientService(new MemoryClientStore(), units);
    await service.create({ name: 'a', province: '51' });
    const attempt = async (input: Parameters<ClientService['create']>[0]) => {
      try {
        await service.create(input);
      } catch (e) {
        return (e as DomainError).issues.map((i) => i.pointer);
      }
      throw new Error('expected a refusal');
    };
    expect(await attempt({ name: 'a', province: '51' })).toEqual(['/name']);
    expect(await attempt({ name: 'b', communes: ['21040', '99999'] })).toEqual(['/communes/1']);
    expect(await attempt({ name: 'c', communes: ['21040', '26734'] })).toEqual(['/communes']);
    expect(await attempt({ name: 'd', province: '99' })).toEqual(['/province']);
    expect(await attempt({ name: 'e' })).toEqual(['/role']);
  });

  it('binds clients to CloudEvents sources for Kafka ingest, exact or by prefix, never overlapping', async () => {
    const service = new ClientService(new MemoryClientStore(), units);
    const exact = (
      await service.create({
        name: 'x',
        communes: ['21040'],
        sources: ['/communes/21040/one-stop-shop'],
      })
    ).client;
    const prefix = (await service.create({ name: 'y', province: '79', sources: ['/provinces/79/*'] })).client;
    expect((await service.clientForSource('/communes/21040/one-stop-shop'))?.id).toBe(exact.id);
    expect(await service.clientForSource('/communes/21040/civil-registry')).toBeUndefined();
    expect((await service.clientForSource('/provinces/79/portal'))?.id).toBe(prefix.id);
    const refused = async (input: Parameters<ClientService['create']>[0]) => {
      try {
        await service.create(input);
      } catch (e) {
        return (e as DomainError).issues.map((i) => `${i.pointer} ${i.message}`);
      }
      throw new Error('expected a refusal');
    };
    expect(await refused({ name: 'z1', communes: ['21040'], sources: ['/provinces/79/sub'] })).toEqual([
      '/sources/0 /provinces/79/sub overlaps a source of client y',
    ]);
    expect((await refused({ name: 'z2', communes: ['21040'], sources: ['/communes/*'] }))[0]).toMatch(
      /overlaps a source of client x/,
    );
    expect((await refused({ name: 'z3', communes: ['21040'], sources: ['has space'] }))[0]).toMatch(
      /^\/sources\/0 /,
    );
    expect(await refused({ name: 'z4', role: 'operator', sources: ['/ops'] })).toEqual([
      '/sources only commune and province clients produce events',
    ]);
  });

  it('finds a token created by another service on the same store, caching only the hit', async () => {
    const store = new MemoryClientStore();
    const here = new ClientService(store, units);
    const there = new ClientService(store, units);
    const token = 'lgsp_not-yet-created';
    expect(await here.authenticate(token)).toBeUndefined();
    const { client, token: created } = await there.create({ name: 'b', province: '51' });
    expect((await here.authenticate(created))?.id).toBe(client.id);
    expect((await here.authenticate(created))?.id).toBe(client.id);
    expect(store.calls.findByTokenHash).toBe(2);
  });

  it('reloads the source-bound clients on a miss, at most once per interval, one load at a time', async () => {
    const store = new MemoryClientStore();
    let now = 0;
    const here = new ClientService(store, units, { clock: { now: () => now } });
    const there = new ClientService(store, units);
    expect(await here.clientForSource('/communes/21040/a')).toBeUndefined();
    expect(store.calls.list).toBe(1);
    await there.create({ name: 'x', communes: ['21040'], sources: ['/communes/21040/*'] });
    const loads = () => store.calls.list - 2; // create() lists the clients once, to check the sources

    now = 999;
    expect(await here.clientForSource('/communes/21040/a')).toBeUndefined();
    expect(loads()).toBe(0);
    now = 1000;
    const found = await Promise.all([
      here.clientForSource('/communes/21040/a'),
      here.clientForSource('/communes/21040/b'),
    ]);
    expect(found.map((c) => c?.name)).toEqual(['x', 'x']);
    expect(loads()).toBe(1);
    // A hit, or a miss within the interval, costs no load.
    expect(await here.clientForSource('/communes/21040/c')).toMatchObject({ name: 'x' });
    expect(await here.clientForSource('/elsewhere')).toBeUndefined();
    expect(loads()).toBe(1);
  });

  it('refuses a name a store reports taken, as the service does when it sees it taken', async () => {
    const store = new MemoryClientStore();
    store.raceOnInsert = true;
    const service = new ClientService(store, units);
    const error = await service.create({ name: 'a', province: '51' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'invalid', issues: [{ pointer: '/name' }] });
    store.raceOnInsert = false;
    await service.create({ name: 'a', province: '51' });
    const again = await service.create({ name: 'a', province: '51' }).catch((e: unknown) => e);
    expect(again).toMatchObject({ code: 'invalid', issues: [{ pointer: '/name' }] });
    expect((again as DomainError).issues).toEqual((error as DomainError).issues);
  });

  it('keeps a rate limit given at creation, refusing a bad one with a pointer to each field', async () => {
    const service = new ClientService(new MemoryClientStore(), units);
    const { client, token } = await service.create({
      name: 'bulk',
      communes: ['21040'],
      rateLimit: { ratePerSecond: 2.5, burst: 10 },
    });
    expect(client.rateLimit).toEqual({ ratePerSecond: 2.5, burst: 10 });
    expect((await service.authenticate(token))?.rateLimit).toEqual({ ratePerSecond: 2.5, burst: 10 });
    for (const [rateLimit, pointers] of [
      [{ ratePerSecond: 0, burst: 1 }, ['/rateLimit/ratePerSecond']],
      [{ ratePerSecond: 1, burst: 0.5 }, ['/rateLimit/burst']],
      [{ ratePerSecond: 2_000_000, burst: 2_000_000 }, ['/rateLimit/ratePerSecond', '/rateLimit/burst']],
      [{ ratePerSecond: '5', burst: 5, window: 1 }, ['/rateLimit/window', '/rateLimit/ratePerSecond']],
      ['fast', ['/rateLimit']],
    ] as const) {
      const refused = await service
        .create({ name: 'refused', province: '51', rateLimit: rateLimit as RateLimit })
        .catch((e: unknown) => e as DomainError);
      expect(refused).toMatchObject({ code: 'invalid' });
      expect((refused as DomainError).issues.map((i) => i.pointer)).toEqual(pointers);
    }
  });

  it('updates a client by name or id, applying at once to its cached token, and refuses an unknown one', async () => {
    const store = new MemoryClientStore();
    const service = new ClientService(store, units);
    const { client, token } = await service.create({ name: 'c1', communes: ['21040'] });
    expect((await service.authenticate(token))?.rateLimit).toBeUndefined();
    const lookups = store.calls.findByTokenHash;

    const limited = await service.update('c1', { rateLimit: { ratePerSecond: 1, burst: 2 } });
    expect(limited).toMatchObject({ id: client.id, rateLimit: { ratePerSecond: 1, burst: 2 } });
    expect((await service.authenticate(token))?.rateLimit).toEqual({ ratePerSecond: 1, burst: 2 });
    expect(store.calls.findByTokenHash).toBe(lookups);

    expect((await service.update(client.id, { rateLimit: null })).rateLimit).toBeUndefined();
    expect((await service.authenticate(token))?.rateLimit).toBeUndefined();

    await expect(service.update('nobody', { rateLimit: null })).rejects.toMatchObject({ code: 'not-found' });
    await expect(service.update('c1', { rateLimit: { ratePerSecond: -1, burst: 1 } })).rejects.toMatchObject({
      code: 'invalid',
      issues: [{ pointer: '/rateLimit/ratePerSecond' }],
    });
  });

  it('reads a cached client again after refreshMs, in the background, so another process’s change applies', async () => {
    const store = new MemoryClientStore();
    let now = 0;
    const here = new ClientService(store, units, { clock: { now: () => now }, refreshMs: 5000 });
    const there = new ClientService(store, units);
    const { token } = await there.create({ name: 'c1', communes: ['21040'] });
    expect((await here.authenticate(token))?.rateLimit).toBeUndefined();
    await there.update('c1', { rateLimit: { ratePerSecond: 1, burst: 1 } });
    now = 4999;
    expect((await here.authenticate(token))?.rateLimit).toBeUndefined();
    now = 5000;
    const lookups = store.calls.findByTokenHash;
    // The stale client serves this request and the ones arriving while the read runs: one read.
    expect(
      (await Promise.all([here.authenticate(token), here.authenticate(token)])).map((c) => c?.rateLimit),
    ).toEqual([undefined, undefined]);
    expect(store.calls.findByTokenHash).toBe(lookups + 1);
    await new Promise((r) => setImmediate(r));
    expect((await here.authenticate(token))?.rateLimit).toEqual({ ratePerSecond: 1, burst: 1 });
  });

  it('looks an unknown token up only when mayLookUp allows it', async () => {
    const store = new MemoryClientStore();
    const service = new ClientService(store, units);
    const { token } = await service.create({ name: 'c1', communes: ['21040'] });
    let asked = 0;
    expect(await service.authenticate(token, () => (asked++, false))).toBeUndefined();
    expect(store.calls.findByTokenHash).toBe(0);
    expect(await service.authenticate(token, () => (asked++, true))).toMatchObject({ name: 'c1' });
    // Known now: no question asked.
    expect(await service.authenticate(token, () => (asked++, false))).toMatchObject({ name: 'c1' });
    expect(asked).toBe(2);
    expect(store.calls.findByTokenHash).toBe(1);
  });

  it('reads a bearer token from the Authorization header', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('token rotation, revocation and expiry', () => {
  const T0 = Date.parse('2026-12-01T00:00:00.000Z');
  const expired = { code: 'unauthenticated', message: 'the token has expired' };

  it('rotates: the new token works at once, the previous one until the overlap ends, an older one not at all', async () => {
    const store = new MemoryClientStore();
    let now = T0;
    const clock = { now: () => now };
    const service = new ClientService(store, units, { clock, rotationOverlapSeconds: 60 });
    const { client, token: first } = await service.create({ name: 'c', communes: ['21040'] });
    expect(await service.authenticate(first)).toMatchObject({ id: client.id });

    now = T0 + 1000;
    const rotated = await service.rotateToken('c');
    expect(rotated.token).toMatch(/^lgsp_[A-Za-z0-9_-]{43}$/);
    expect(rotated.previousTokenExpiresAt).toBe('2026-12-01T00:01:01.000Z');
    expect(rotated.client).toMatchObject({ id: client.id, tokenIssuedAt: '2026-12-01T00:00:01.000Z' });
    expect(await service.authenticate(rotated.token)).toMatchObject({ id: client.id });
    now = T0 + 60_999;
    expect(await service.authenticate(first)).toMatchObject({ id: client.id });
    now = T0 + 61_000;
    await expect(service.authenticate(first)).rejects.toThrow(TokenExpiredError);
    await expect(service.authenticate(first)).rejects.toMatchObject(expired);
    expect(await service.authenticate(rotated.token)).toMatchObject({ id: client.id });

    const again = await service.rotateToken(client.id);
    expect(await service.authenticate(first)).toBeUndefined();
    expect(await service.authenticate(rotated.token)).toMatchObject({ id: client.id });
    expect(await service.authenticate(again.token)).toMatchObject({ id: client.id });
    const stored = JSON.stringify(store.rows);
    for (const token of [first, rotated.token, again.token]) expect(stored).not.toContain(token);
    expect(store.rows[0]!.hash).toBe(hashToken(again.token));

    await expect(service.rotateToken('nobody')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('applies a rotation made by another process within refreshMs', async () => {
    const store = new MemoryClientStore();
    let now = T0;
    const clock = { now: () => now };
    const here = new ClientService(store, units, { clock, refreshMs: 5000 });
    const there = new ClientService(store, units, { clock, rotationOverlapSeconds: 0 });
    const { token } = await there.create({ name: 'c', province: '51' });
    expect(await here.authenticate(token)).toMatchObject({ name: 'c' });
    await there.rotateToken('c');
    await expect(there.authenticate(token)).rejects.toMatchObject(expired);
    // What this process read before serves until it is read again, at refreshMs, in the background.
    now = T0 + 4999;
    expect(await here.authenticate(token)).toMatchObject({ name: 'c' });
    now = T0 + 5000;
    expect(await here.authenticate(token)).toMatchObject({ name: 'c' });
    await new Promise((r) => setImmediate(r));
    await expect(here.authenticate(token)).rejects.toMatchObject(expired);
  });

  it('revokes: every token of the client refused at once, its sources freed, a second revocation keeping the first time', async () => {
    const store = new MemoryClientStore();
    let now = T0;
    const clock = { now: () => now };
    const service = new ClientService(store, units, { clock, rotationOverlapSeconds: 3600 });
    const other = new ClientService(store, units, { clock, refreshMs: 5000 });
    const { client, token: first } = await service.create({
      name: 'c',
      communes: ['21040'],
      sources: ['/communes/21040/*'],
    });
    const { token: second } = await service.rotateToken('c');
    expect(await service.authenticate(first)).toMatchObject({ id: client.id });
    expect(await other.authenticate(second)).toMatchObject({ id: client.id });
    expect(await service.clientForSource('/communes/21040/one-stop-shop')).toMatchObject({ id: client.id });
    expect(await other.clientForSource('/communes/21040/one-stop-shop')).toMatchObject({ id: client.id });

    now = T0 + 10;
    const revoked = await service.revoke('c');
    expect(revoked).toMatchObject({ id: client.id, revokedAt: '2026-12-01T00:00:00.010Z' });
    expect(await service.authenticate(first)).toBeUndefined();
    expect(await service.authenticate(second)).toBeUndefined();
    expect(await service.clientForSource('/communes/21040/one-stop-shop')).toBeUndefined();
    await expect(service.rotateToken('c')).rejects.toMatchObject({
      code: 'conflict',
      message: 'client c is revoked; create a new client',
    });
    now = T0 + 20;
    expect((await service.revoke(client.id)).revokedAt).toBe(revoked.revokedAt);

    // Another process refuses it once it reads the client again.
    now = T0 + 5000;
    await other.authenticate(second);
    await new Promise((r) => setImmediate(r));
    expect(await other.authenticate(second)).toBeUndefined();
    expect(await other.clientForSource('/communes/21040/one-stop-shop')).toBeUndefined();

    const replacement = await service.create({
      name: 'c2',
      communes: ['21040'],
      sources: ['/communes/21040/*'],
    });
    expect(await service.clientForSource('/communes/21040/one-stop-shop')).toMatchObject({
      id: replacement.client.id,
    });
    await expect(service.revoke('nobody')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('refuses a token older than tokenTtlSeconds as expired, a rotated one counting from its rotation', async () => {
    const store = new MemoryClientStore();
    let now = T0;
    const clock = { now: () => now };
    const service = new ClientService(store, units, {
      clock,
      tokenTtlSeconds: 3600,
      rotationOverlapSeconds: 7200,
    });
    const { token: first } = await service.create({ name: 'c', province: '51' });
    now = T0 + 3_599_999;
    expect(await service.authenticate(first)).toMatchObject({ name: 'c' });
    const { token: second } = await service.rotateToken('c');
    now = T0 + 3_600_000;
    // Still in the rotation's overlap, but older than the TTL.
    await expect(service.authenticate(first)).rejects.toMatchObject(expired);
    expect(await service.authenticate(second)).toMatchObject({ name: 'c' });
    now = T0 + 3_599_999 + 3_600_000;
    await expect(service.authenticate(second)).rejects.toMatchObject(expired);
    // The bootstrap admin token does not expire.
    service.setAdminToken('secret-admin');
    expect(await service.authenticate('secret-admin')).toBe(BOOTSTRAP_ADMIN);
  });

  it('hands a JWT-shaped token to the JWT login, and every other token to the store', async () => {
    const store = new MemoryClientStore();
    const jwtToken = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
    const principal: Client = { ...province, id: 'jwt:x', name: 'jwt:x' };
    const seen: string[] = [];
    const jwt = {
      authenticate: async (token: string) => (seen.push(token), token === jwtToken ? principal : undefined),
    };
    const service = new ClientService(store, units, { jwt });
    service.setAdminToken('eyJhZG1pbiJ9.eyJ9.eA');
    const { token } = await service.create({ name: 'c', province: '51' });
    expect(await service.authenticate(jwtToken)).toBe(principal);
    expect(await service.authenticate(token)).toMatchObject({ name: 'c' });
    expect(await service.authenticate('eyJhZG1pbiJ9.eyJ9.eA')).toBe(BOOTSTRAP_ADMIN);
    expect(seen).toEqual([jwtToken]);
    // Without a JWT login, a JWT is looked up as any token, and is unknown.
    expect(await new ClientService(store, units).authenticate(jwtToken)).toBeUndefined();
  });
});

describe('scope', () => {
  it('lets a commune client ingest only its communes, pointing at each event outside', () => {
    expect(() => assertIngestScope(commune, [ev('51', '21040')], true, units)).not.toThrow();
    try {
      assertIngestScope(commune, [ev('51', '21040'), ev('51', '21043', '/communes/21040')], false, units);
      throw new Error('expected forbidden');
    } catch (e) {
      expect((e as DomainError).code).toBe('forbidden');
      expect((e as DomainError).issues.map((i) => i.pointer)).toEqual(['/1/data/communeCode']);
    }
  });

  it('lets a province client ingest only its province, and an operator not at all', () => {
    expect(() => assertIngestScope(province, [ev('51', '21043')], true, units)).not.toThrow();
    expect(() => assertIngestScope(province, [ev('79', '26734')], true, units)).toThrow(DomainError);
    expect(() =>
      assertIngestScope({ ...province, role: 'operator' }, [ev('51', '21043')], true, units),
    ).toThrow(/may not ingest/);
  });

  it('binds each client to its sources: its own, or by default those under its communes or province', () => {
    const sources = (client: Client, source: string) => sourceAllowed(client, source, units);
    expect(sources(commune, '/communes/21040')).toBe(true);
    expect(sources(commune, '/communes/21040/one-stop-shop')).toBe(true);
    expect(sources(commune, '/communes/210401')).toBe(false);
    expect(sources(commune, '/communes/21043/one-stop-shop')).toBe(false);
    expect(sources(commune, '/provinces/51')).toBe(false);
    expect(sources(commune, '/national/portal')).toBe(false);
    expect(sources(province, '/provinces/51/lgsp')).toBe(true);
    expect(sources(province, '/communes/21043')).toBe(true);
    expect(sources(province, '/communes/26734')).toBe(false);
    expect(sources(province, '/provinces/79')).toBe(false);
    const bound = { ...commune, sources: ['/communes/21040/oss/*'] };
    expect(sources(bound, '/communes/21040/oss/a')).toBe(true);
    expect(sources(bound, '/communes/21040')).toBe(false);
    expect(sources(BOOTSTRAP_ADMIN, '/anything')).toBe(true);
    expect(sources({ ...province, role: 'operator' }, '/provinces/51')).toBe(false);
  });

  it('refuses an event under a source the client may not use, pointing at it', () => {
    const error = (() => {
      try {
        assertIngestScope(commune, [ev('51', '21040', '/communes/21043/one-stop-shop')], true, units);
      } catch (e) {
        return e as DomainError;
      }
      throw new Error('expected forbidden');
    })();
    expect(error.code).toBe('forbidden');
    expect(error.issues.map((i) => i.pointer)).toEqual(['/source']);
  });

  it('lets a client cover a stream owner inside its scope only', () => {
    expect(coversOwner(commune, { provinceCode: '51', communeCode: '21040' })).toBe(true);
    expect(coversOwner(commune, { provinceCode: '51', communeCode: '21043' })).toBe(false);
    expect(coversOwner(province, { provinceCode: '51', communeCode: '21043' })).toBe(true);
    expect(coversOwner(province, { provinceCode: '79', communeCode: '26734' })).toBe(false);
    expect(coversOwner({ ...province, role: 'operator' }, { provinceCode: '51', communeCode: '21043' })).toBe(
      false,
    );
    expect(coversOwner(BOOTSTRAP_ADMIN, { provinceCode: '79', communeCode: '26734' })).toBe(true);
  });

  it('scopes reads to the province or the communes', () => {
    expect(inReadScope(readScope(commune), '51', '21040')).toBe(true);
    expect(inReadScope(readScope(commune), '51', '21043')).toBe(false);
    expect(inReadScope(readScope(province), '51', '21043')).toBe(true);
    expect(inReadScope(readScope(province), '79', '26734')).toBe(false);
    expect(inReadScope(readScope(BOOTSTRAP_ADMIN), '79', '26734')).toBe(true);
  });
});
