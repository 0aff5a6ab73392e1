import { randomBytes } from 'node:crypto';
import { StoreUnavailableError, verifyRecords, type ChainSource } from '#lgsp/event-store';
import { PostgresEventStore, openPostgresChainSource } from '#lgsp/event-store/postgres';
import { appendChainEvents, chainEvent as event } from '../contract/context.js';
import { POSTGRES_URL as url, dropSchema, pgClient, queryIn } from '../../../../test/support/postgres.js';

let schema: string;
const sources: ChainSource[] = [];
const stores: PostgresEventStore[] = [];

async function storeOf(count: number): Promise<PostgresEventStore> {
  const store = await PostgresEventStore.open({ connectionString: url, schema, poolSize: 2 });
  stores.push(store);
  await appendChainEvents(store, count);
  return store;
}

async function open(inSchema = schema): Promise<ChainSource> {
  const source = await openPostgresChainSource({ connectionString: url, schema: inSchema });
  sources.push(source);
  return source;
}

async function schemaExists(name: string): Promise<boolean> {
  const client = await pgClient();
  try {
    const { rows } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name]);
    return rows.length > 0;
  } finally {
    await client.end();
  }
}

beforeEach(() => {
  schema = `chain_${randomBytes(6).toString('hex')}`;
});

afterEach(async () => {
  for (const s of sources.splice(0)) await s.close();
  for (const s of stores.splice(0)) await s.close();
  await dropSchema(schema);
});

describe('openPostgresChainSource', () => {
  it('reads every record in position order, page after page, and the chain holds to the store’s head', async () => {
    const store = await storeOf(2_500);
    const [last] = await store.readAll({ after: 2_499 });
    const source = await open();
    expect(source.name).toBe(`PostgreSQL ${new URL(url).host}${new URL(url).pathname}, schema ${schema}`);
    expect(await source.head()).toBe(2_500);
    expect(await verifyRecords(source.records())).toEqual({
      ok: true,
      events: 2_500,
      head: { position: 2_500, hash: last!.hash },
    });
  });

  it('reads one snapshot while hubs append', async () => {
    const store = await storeOf(2_100);
    const source = await open();
    const records = source.records()[Symbol.asyncIterator]();
    const first = await records.next();
    await store.append(Array.from({ length: 100 }, (_, i) => event(2_100 + i)));
    async function* walk() {
      for (let r = first; !r.done; r = await records.next()) yield r.value;
    }
    expect(await verifyRecords(walk())).toMatchObject({ ok: true, events: 2_100 });
  });

  it('names the first break of a schema changed behind the hub’s back', async () => {
    await storeOf(300);
    const verdict = async () => {
      const source = await open();
      const v = await verifyRecords(source.records());
      await source.close();
      return v;
    };
    await queryIn(
      schema,
      `UPDATE events SET data = replace(data, '"n":120', '"n":121') WHERE position = 121`,
    );
    expect(await verdict()).toMatchObject({
      ok: false,
      events: 120,
      break: { position: 121, kind: 'modified' },
    });
    await queryIn(
      schema,
      `UPDATE events SET data = replace(data, '"n":121', '"n":120') WHERE position = 121`,
    );
    await queryIn(schema, 'UPDATE events SET position = -1 WHERE position = 30');
    await queryIn(schema, 'UPDATE events SET position = 30 WHERE position = 200');
    await queryIn(schema, 'UPDATE events SET position = 200 WHERE position = -1');
    expect(await verdict()).toMatchObject({
      ok: false,
      events: 29,
      break: { position: 30, kind: 'out-of-order', foundAt: 200 },
    });
    await queryIn(schema, 'DELETE FROM events WHERE position = 7');
    expect(await verdict()).toMatchObject({ ok: false, events: 6, break: { position: 7, kind: 'missing' } });
  });

  it('refuses, as unavailable and without creating anything, a schema with no event store and an unreachable server', async () => {
    await expect(open()).rejects.toThrow(
      `PostgreSQL ${new URL(url).host}/test, schema ${schema} holds no event store`,
    );
    expect(await schemaExists(schema)).toBe(false);
    const client = await pgClient();
    try {
      await client.query(`CREATE SCHEMA ${client.escapeIdentifier(schema)}`);
    } finally {
      await client.end();
    }
    await expect(open()).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(
      await queryIn(schema, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [
        schema,
      ]),
    ).toEqual([]);

    const down = openPostgresChainSource({
      connectionString: 'postgres://lgsp:s3cret@127.0.0.1:1/test',
      schema,
    });
    await expect(down).rejects.toBeInstanceOf(StoreUnavailableError);
    const message = await down.catch((err: Error) => err.message);
    expect(message).toMatch(/cannot connect to PostgreSQL.*127\.0\.0\.1:1/);
    expect(message).not.toContain('s3cret');
  });
});
