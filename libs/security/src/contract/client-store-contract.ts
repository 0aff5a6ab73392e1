import { randomUUID } from 'node:crypto';
import { DomainError } from '#lgsp/contracts';
import { ClientNameTakenError, type Client, type ClientStore, type UnitDirectory } from '../client.js';
import { ClientService } from '../client-service.js';
import { contractSuite } from '#lgsp/storage/testing';

/** One empty store for one test, and how to dispose of it. */
export interface ClientStoreContractHarness {
  store: ClientStore;
  /** Another store on the same data, as a second hub process opens it. */
  another(): Promise<ClientStore>;
  /** Closes every store the harness opened and deletes their data. */
  close(): Promise<void>;
}

const units: UnitDirectory = {
  hasProvince: (p) => ['51', '79'].includes(p),
  provinceOfCommune: (c) => ({ '21040': '51', '21043': '51', '26734': '79' })[c],
};

/**
 * The behaviours every `ClientStore` adapter must have, alone and under a `ClientService` shared by
 * two processes. Run on every backend by the store's spec
 * (`describeOnEveryBackend`), each test on an empty store.
 */
export const describeClientStoreContract = contractSuite<ClientStoreContractHarness>(
  'ClientStore',
  (harness) => {
    let store: ClientStore;
    beforeEach(() => {
      store = harness.store;
    });

    const client = (overrides: Partial<Client> = {}): Client => ({
      id: randomUUID(),
      name: 'Xã Bình Sơn',
      role: 'commune',
      provinceCode: '51',
      communeCodes: ['21040', '21043'],
      sources: ['/communes/21040/*'],
      createdAt: new Date().toISOString(),
      ...overrides,
    });

    it('inserts, finds by token hash and by name, and lists the oldest first', async () => {
      const commune = client({ createdAt: '2025-07-01T00:00:00.000Z' });
      const operator: Client = {
        id: randomUUID(),
        name: 'ops',
        role: 'operator',
        communeCodes: [],
        sources: [],
        createdAt: '2025-06-30T00:00:00.000Z',
      };
      await store.insert(commune, 'hash-commune');
      await store.insert(operator, 'hash-operator');

      expect(await store.findByTokenHash('hash-commune')).toEqual({
        client: commune,
        issuedAt: commune.createdAt,
      });
      expect(await store.findByTokenHash('hash-operator')).toEqual({
        client: operator,
        issuedAt: operator.createdAt,
      });
      expect(await store.findByTokenHash('hash-none')).toBeUndefined();
      expect(await store.findByName('Xã Bình Sơn')).toEqual(commune);
      expect(await store.findByName('nobody')).toBeUndefined();
      expect(await store.list()).toEqual([operator, commune]);
      expect(await (await harness.another()).list()).toEqual([operator, commune]);
    });

    it('lists clients created in the same millisecond in the order they were inserted, by any process', async () => {
      const other = await harness.another();
      const createdAt = '2025-07-01T00:00:00.000Z';
      const inserted = ['c-z', 'c-m', 'c-a', 'c-q'].map((id, i) =>
        client({ id, name: `same-${i}`, createdAt }),
      );
      for (const [i, c] of inserted.entries()) await (i % 2 ? other : store).insert(c, `hash-${c.id}`);
      expect(await store.list()).toEqual(inserted);
      expect(await other.list()).toEqual(inserted);
    });

    it('refuses a second client of the same name as an invalid /name, storing nothing of it', async () => {
      await store.insert(client(), 'hash-1');
      const refused = await store.insert(client({ role: 'operator' }), 'hash-2').catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ClientNameTakenError);
      expect(refused).toMatchObject({
        code: 'invalid',
        retriable: false,
        issues: [{ pointer: '/name', message: 'a client named Xã Bình Sơn exists' }],
      });
      expect(await store.findByTokenHash('hash-2')).toBeUndefined();
      expect(await store.list()).toHaveLength(1);
    });

    it('creates one client when two processes create the same name at once, refusing the other', async () => {
      const here = new ClientService(store, units);
      const there = new ClientService(await harness.another(), units);
      for (let round = 0; round < 5; round++) {
        const outcomes = await Promise.allSettled([
          here.create({ name: `race-${round}`, province: '51' }),
          there.create({ name: `race-${round}`, province: '51' }),
        ]);
        const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        expect(refused).toHaveLength(1);
        expect(refused[0]).toBeInstanceOf(DomainError);
        expect(refused[0]).toMatchObject({
          code: 'invalid',
          issues: [{ pointer: '/name', message: `a client named race-${round} exists` }],
        });
      }
      expect((await store.list()).map((c) => c.name).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `race-${i}`));
    });

    it('keeps a rate limit, changes and clears it by id, and another process reads the change', async () => {
      const limited = client({
        rateLimit: { ratePerSecond: 2.5, burst: 10 },
        createdAt: '2025-07-01T00:00:00.000Z',
      });
      const plain = client({ name: 'plain', sources: [], createdAt: '2025-07-02T00:00:00.000Z' });
      await store.insert(limited, 'hash-limited');
      await store.insert(plain, 'hash-plain');
      const other = await harness.another();
      expect((await other.findByTokenHash('hash-limited'))?.client).toEqual(limited);
      expect((await other.findByTokenHash('hash-plain'))?.client.rateLimit).toBeUndefined();

      const changed = { ...plain, rateLimit: { ratePerSecond: 0.5, burst: 1 } };
      expect(await store.update(plain.id, { rateLimit: { ratePerSecond: 0.5, burst: 1 } })).toEqual(changed);
      expect((await other.findByTokenHash('hash-plain'))?.client).toEqual(changed);
      expect(await store.update(limited.id, { rateLimit: null })).toEqual({
        ...limited,
        rateLimit: undefined,
      });
      expect((await other.findByName(limited.name))?.rateLimit).toBeUndefined();
      expect(await store.update(limited.id, {})).toEqual({ ...limited, rateLimit: undefined });
      expect(await store.update(randomUUID(), { rateLimit: null })).toBeUndefined();
      expect((await store.list()).map((c) => c.rateLimit)).toEqual([undefined, changed.rateLimit]);
    });

    it('applies a rate limit changed through one process to the other within refreshMs', async () => {
      const here = new ClientService(store, units, { refreshMs: 100 });
      const there = new ClientService(await harness.another(), units);
      const { token } = await here.create({ name: 'c1', communes: ['21040'] });
      expect((await here.authenticate(token))?.rateLimit).toBeUndefined();
      await there.update('c1', { rateLimit: { ratePerSecond: 3, burst: 6 } });
      const start = Date.now();
      let seen: Client | undefined;
      while (seen?.rateLimit === undefined && Date.now() - start < 3000) {
        seen = await here.authenticate(token);
        if (seen?.rateLimit === undefined) await new Promise((r) => setTimeout(r, 20));
      }
      expect(seen?.rateLimit).toEqual({ ratePerSecond: 3, burst: 6 });
      expect(Date.now() - start).toBeLessThan(1000);
    });

    it('rotates a token: the new hash is current, the replaced one works until its overlap ends, an older one is gone', async () => {
      const c = client({ createdAt: '2025-07-01T00:00:00.000Z' });
      await store.insert(c, 'hash-1');
      const rotated = { ...c, tokenIssuedAt: '2026-12-01T00:00:00.000Z' };
      expect(
        await store.rotateToken(c.id, 'hash-2', '2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z'),
      ).toEqual(rotated);
      const other = await harness.another();
      expect(await other.findByTokenHash('hash-2')).toEqual({
        client: rotated,
        issuedAt: '2026-12-01T00:00:00.000Z',
      });
      expect(await other.findByTokenHash('hash-1')).toEqual({
        client: rotated,
        issuedAt: '2025-07-01T00:00:00.000Z',
        expiresAt: '2026-12-02T00:00:00.000Z',
      });
      expect(await other.findByName(c.name)).toEqual(rotated);

      const again = { ...c, tokenIssuedAt: '2026-12-03T00:00:00.000Z' };
      expect(
        await other.rotateToken(c.id, 'hash-3', '2026-12-03T00:00:00.000Z', '2026-12-04T00:00:00.000Z'),
      ).toEqual(again);
      expect(await store.findByTokenHash('hash-1')).toBeUndefined();
      expect(await store.findByTokenHash('hash-2')).toEqual({
        client: again,
        issuedAt: '2026-12-01T00:00:00.000Z',
        expiresAt: '2026-12-04T00:00:00.000Z',
      });
      expect(await store.findByTokenHash('hash-3')).toEqual({
        client: again,
        issuedAt: '2026-12-03T00:00:00.000Z',
      });
      expect(await store.list()).toEqual([again]);
      expect(await store.rotateToken(randomUUID(), 'hash-4', '2026-12-03', '2026-12-04')).toBeUndefined();
      expect(await store.findByTokenHash('hash-4')).toBeUndefined();
    });

    it('revokes a client once: its first revocation time kept, its replaced token forgotten, no rotation after', async () => {
      const c = client({ createdAt: '2025-07-01T00:00:00.000Z' });
      const kept = client({ name: 'kept', sources: [], createdAt: '2025-07-02T00:00:00.000Z' });
      await store.insert(c, 'hash-1');
      await store.insert(kept, 'hash-kept');
      await store.rotateToken(c.id, 'hash-2', '2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z');
      const revoked = {
        ...c,
        tokenIssuedAt: '2026-12-01T00:00:00.000Z',
        revokedAt: '2026-12-01T01:00:00.000Z',
      };
      expect(await store.revoke(c.id, '2026-12-01T01:00:00.000Z')).toEqual(revoked);
      expect(await (await harness.another()).revoke(c.id, '2026-12-01T02:00:00.000Z')).toEqual(revoked);
      expect(await store.findByTokenHash('hash-2')).toEqual({
        client: revoked,
        issuedAt: '2026-12-01T00:00:00.000Z',
      });
      expect(await store.findByTokenHash('hash-1')).toBeUndefined();
      expect(
        await store.rotateToken(c.id, 'hash-3', '2026-12-01T03:00:00.000Z', '2026-12-02'),
      ).toBeUndefined();
      expect(await store.findByTokenHash('hash-3')).toBeUndefined();
      expect(await store.list()).toEqual([revoked, kept]);
      expect(await store.findByTokenHash('hash-kept')).toEqual({ client: kept, issuedAt: kept.createdAt });
      expect(await store.revoke(randomUUID(), '2026-12-01T01:00:00.000Z')).toBeUndefined();
    });

    it('refuses the tokens of a client revoked through another process within refreshMs', async () => {
      const here = new ClientService(store, units, { refreshMs: 100 });
      const there = new ClientService(await harness.another(), units);
      const { token } = await here.create({ name: 'c1', communes: ['21040'] });
      expect(await here.authenticate(token)).toMatchObject({ name: 'c1' });
      await there.revoke('c1');
      expect(await there.authenticate(token)).toBeUndefined();
      const start = Date.now();
      while ((await here.authenticate(token)) !== undefined && Date.now() - start < 3000)
        await new Promise((r) => setTimeout(r, 20));
      expect(await here.authenticate(token)).toBeUndefined();
      expect(Date.now() - start).toBeLessThan(1000);
    });

    it('authenticates a token created by another process, once it exists', async () => {
      const here = new ClientService(store, units);
      const there = new ClientService(await harness.another(), units);
      await here.create({ name: 'first', province: '79' });
      expect(await here.list()).toHaveLength(1);
      const { client: created, token } = await there.create({ name: 'second', communes: ['21040'] });
      expect(await here.authenticate(token)).toEqual(created);
      expect((await here.list()).map((c) => c.name)).toEqual(['first', 'second']);
    });

    it('finds the client of a source bound by another process within about a second', async () => {
      const here = new ClientService(store, units);
      const there = new ClientService(await harness.another(), units);
      const source = '/communes/21040/one-stop-shop';
      expect(await here.clientForSource(source)).toBeUndefined();
      const { client: bound } = await there.create({
        name: 'binh-son',
        communes: ['21040'],
        sources: ['/communes/21040/*'],
      });
      const start = Date.now();
      let found: Client | undefined;
      while (found === undefined && Date.now() - start < 3000) {
        found = await here.clientForSource(source);
        if (found === undefined) await new Promise((r) => setTimeout(r, 20));
      }
      expect(found).toEqual(bound);
      expect(Date.now() - start).toBeLessThan(1500);
    });
  },
);
