import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreUnavailableError, type SqlDatabase } from '#lgsp/storage';
import { PostgresDatabase } from '#lgsp/storage/postgres';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { POSTGRES_URL, dropSchema } from '../../../../test/support/postgres.js';

/** The data of one test on one backend: connections to it, and how to dispose of it. */
export interface BackendData {
  /** Another connection to the same data, as a second process (or a restarted one) opens it. */
  connect(): Promise<SqlDatabase>;
  /** Closes every connection and deletes the data. */
  close(): Promise<void>;
}

/** A backend a contract suite runs on. */
export interface Backend {
  name: string;
  /** Fresh, empty data for one test. */
  create(): Promise<BackendData>;
}

/** A SQLite file in a directory of its own, one WAL connection per `connect`. */
export const sqliteFile: Backend = {
  name: 'sqlite',
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'lgsp-storage-'));
    const opened: SqlDatabase[] = [];
    return {
      async connect() {
        const db = SqliteDatabase.open(join(dir, 'data.db'));
        opened.push(db);
        return db;
      },
      async close() {
        for (const db of opened) await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** SQLite in memory, as unit tests use it: every `connect` is the one connection (memory is not shared). */
export const sqliteMemory: Backend = {
  name: 'sqlite in memory',
  async create() {
    const db = SqliteDatabase.open(':memory:');
    return { connect: async () => db, close: () => db.close() };
  },
};

/** A PostgreSQL schema of its own on the test server, one pool per `connect`. */
export const postgresSchema: Backend = {
  name: 'postgres',
  async create() {
    const schema = `storage_test_${randomBytes(6).toString('hex')}`;
    const opened: SqlDatabase[] = [];
    return {
      async connect() {
        const db = PostgresDatabase.open({ connectionString: POSTGRES_URL, schema, poolSize: 4 });
        opened.push(db);
        return db;
      },
      async close() {
        for (const db of opened) await db.close();
        await dropSchema(schema);
      },
    };
  },
};

export const BACKENDS: readonly Backend[] = [sqliteFile, sqliteMemory, postgresSchema];

/**
 * A test of a SQL store's spec: opening the store twice on one database (SQLite in memory) records
 * `component` at `version` in `schema_version`, once.
 */
export function itVersionsItsTables(
  title: string,
  open: (db: SqlDatabase) => Promise<unknown>,
  component: string,
  version = 1,
): void {
  it(title, async () => {
    const db = SqliteDatabase.open(':memory:');
    try {
      await open(db);
      await open(db);
      expect(await db.versions()).toEqual([{ component, version }]);
    } finally {
      await db.close();
    }
  });
}

/**
 * The test of a SQL store's spec that an unreachable server, then an ended pool, is
 * StoreUnavailableError: `open` on a PostgreSQL database whose server cannot be reached (nothing
 * listens on its port) rejects with it, and so does what `unreachable` tries there; then `ended` tries
 * a store that `open` built on a fresh PostgreSQL schema after its pool has ended.
 */
export function itReportsUnavailable<S>(
  open: (db: SqlDatabase) => Promise<S>,
  ended: (store: S) => Promise<void>,
  unreachable: (db: SqlDatabase) => Promise<void> = async () => undefined,
): void {
  it('reports an unreachable server or an ended pool as StoreUnavailableError', async () => {
    await withUnreachablePostgres(async (nowhere) => {
      await expect(open(nowhere)).rejects.toThrow(StoreUnavailableError);
      await unreachable(nowhere);
    });
    const data = await postgresSchema.create();
    try {
      const ending = await data.connect();
      const store = await open(ending);
      await ending.close();
      await ended(store);
    } finally {
      await data.close();
    }
  });
}

/** Runs `fn` with a PostgreSQL database whose server cannot be reached (nothing listens on its port), closed after. */
export async function withUnreachablePostgres(fn: (db: SqlDatabase) => Promise<void>): Promise<void> {
  const nowhere = PostgresDatabase.open({
    connectionString: 'postgres://postgres@127.0.0.1:1/test',
    schema: 'x',
  });
  try {
    await fn(nowhere);
  } finally {
    await nowhere.close();
  }
}

/** What every store contract suite is handed for one test. */
export interface StoreHarness<S> {
  store: S;
  /** Another store on the same data. */
  another(): Promise<S>;
  close(): Promise<void>;
}

/** A harness factory on `backend` for stores that `open` builds on a database. */
export function storeHarness<S>(
  backend: Backend,
  open: (db: SqlDatabase) => Promise<S>,
): () => Promise<StoreHarness<S>> {
  return async () => {
    const data = await backend.create();
    const another = async () => open(await data.connect());
    return { store: await another(), another, close: () => data.close() };
  };
}

/**
 * Runs a store's contract suite on every backend: `describeContract(name, factory)` is the suite as
 * its library declares it, `open` builds the store on a database (migrating its tables).
 */
export function describeOnEveryBackend<S>(
  describeContract: (name: string, factory: () => Promise<StoreHarness<S>>) => void,
  open: (db: SqlDatabase) => Promise<S>,
  backends: readonly Backend[] = BACKENDS,
): void {
  for (const backend of backends) describeContract(backend.name, storeHarness(backend, open));
}

/**
 * The harness of the running test, for a contract suite: built by `factory` before each test of the
 * enclosing `describe`, closed after it. Read it inside a test (`h.store`, `h.another()`); outside
 * one there is none.
 */
export function harnessPerTest<H extends { close(): Promise<void> }>(factory: () => Promise<H>): H {
  let current: H | undefined;
  beforeEach(async () => {
    current = await factory();
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return new Proxy({} as H, {
    get(_, key) {
      if (!current) throw new Error('a contract harness is there only while a test runs');
      const value: unknown = Reflect.get(current, key);
      return typeof value === 'function' ? value.bind(current) : value;
    },
  });
}

/**
 * A store's contract suite, declared once: `tests` registers the suite's tests against the harness of
 * the running test. The result is what a backend's spec calls, with the backend's name and a harness
 * factory (see {@link describeOnEveryBackend}).
 */
export function contractSuite<H extends { close(): Promise<void> }>(
  title: string,
  tests: (harness: H) => void,
): (name: string, factory: () => Promise<H>) => void {
  return (name, factory) => describe(`${title} contract: ${name}`, () => tests(harnessPerTest(factory)));
}
