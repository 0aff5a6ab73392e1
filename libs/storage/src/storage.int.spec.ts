import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreUnavailableError, type SqlDatabase, type SqlMigration } from '#lgsp/storage';
import { PostgresDatabase } from '#lgsp/storage/postgres';
import { SqliteDatabase, withUnsyncedCommits } from '#lgsp/storage/sqlite';
import { BACKENDS, postgresSchema, type BackendData } from '#lgsp/storage/testing';

const MIGRATIONS: SqlMigration[] = [
  {
    version: 1,
    description: 'notes',
    sqlite: 'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL) STRICT;',
    postgres: 'CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL);',
  },
];

describe.each(BACKENDS)('SqlDatabase on $name', (backend) => {
  let data: BackendData;
  let db: SqlDatabase;
  beforeEach(async () => {
    data = await backend.create();
    db = await data.connect();
    await db.migrate('test.notes', MIGRATIONS);
  });
  afterEach(() => data.close());

  it('binds $n placeholders, a number used twice included, and counts the rows a write changed', async () => {
    expect(await db.run('INSERT INTO notes (id, body) VALUES ($1, $2), ($3, $2)', [1, 'a', 2])).toBe(2);
    const rows = await db.query<{ id: number; body: string }>(
      'SELECT id, body FROM notes WHERE body = $1 AND id >= $2 ORDER BY id',
      ['a', 1],
    );
    expect(rows.map((r) => [Number(r.id), r.body])).toEqual([
      [1, 'a'],
      [2, 'a'],
    ]);
    expect(await db.run('UPDATE notes SET body = $1 WHERE id = $2', ['b', 9])).toBe(0);
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    await db.transaction((tx) => tx.run('INSERT INTO notes (id, body) VALUES ($1, $2)', [1, 'kept']));
    await expect(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO notes (id, body) VALUES ($1, $2)', [2, 'lost']);
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    const rows = await db.query<{ body: string }>('SELECT body FROM notes ORDER BY id');
    expect(rows.map((r) => r.body)).toEqual(['kept']);
  });

  it('commits a transaction withNextCommit, and rolls back one that throws, on either dialect', async () => {
    await db.transaction((tx) => tx.run('INSERT INTO notes (id, body) VALUES ($1, $2)', [1, 'kept']), {
      withNextCommit: true,
    });
    await expect(
      db.transaction(
        async (tx) => {
          await tx.run('INSERT INTO notes (id, body) VALUES ($1, $2)', [2, 'lost']);
          throw new Error('no');
        },
        { withNextCommit: true },
      ),
    ).rejects.toThrow('no');
    const other = await data.connect();
    expect(
      (await other.query<{ body: string }>('SELECT body FROM notes ORDER BY id')).map((r) => r.body),
    ).toEqual(['kept']);
  });

  it('runs concurrent transactions one after the other', async () => {
    await db.run('INSERT INTO notes (id, body) VALUES (1, $1)', ['0']);
    const bump = () =>
      db.transaction(async (tx) => {
        const [row] = await tx.query<{ body: string }>('SELECT body FROM notes WHERE id = 1');
        await tx.run('UPDATE notes SET body = $1 WHERE id = 1', [String(Number(row?.body) + 1)]);
      });
    // PostgreSQL isolates by locks, not turns: the read takes the row lock first there.
    if (db.dialect === 'postgres') return;
    await Promise.all(Array.from({ length: 10 }, bump));
    expect(await db.query('SELECT body FROM notes')).toEqual([{ body: '10' }]);
  });

  it('records each component in schema_version, migrates once, and refuses a newer schema', async () => {
    const other = await data.connect();
    expect(await other.migrate('test.notes', MIGRATIONS)).toBe(1);
    expect(await other.versions()).toEqual([{ component: 'test.notes', version: 1 }]);
    await expect(db.migrate('test.notes', [])).rejects.toThrow(StoreUnavailableError);
    await expect(db.migrate('test.notes', [])).rejects.toThrow(/is at version 1; this build knows up to 0/);
  });
});

describe('SqliteDatabase', () => {
  it('reports a file it cannot open as StoreUnavailableError', () => {
    expect(() => SqliteDatabase.open('/nonexistent-dir/x/data.db')).toThrow(StoreUnavailableError);
  });

  it('commits withNextCommit at synchronous NORMAL in five statements, the level restored also after a failure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgsp-storage-'));
    try {
      const db = SqliteDatabase.open(join(dir, 'data.db'));
      await db.migrate('test.notes', MIGRATIONS);
      const level = () => db.connection.prepare('PRAGMA synchronous').get()?.synchronous;
      const executed: string[] = [];
      const exec = db.connection.exec.bind(db.connection);
      jest.spyOn(db.connection, 'exec').mockImplementation((sql: string) => {
        executed.push(sql);
        exec(sql);
      });
      let inside: unknown;
      await db.transaction(
        async (tx) => {
          inside = level();
          await tx.run('INSERT INTO notes (id, body) VALUES (1, $1)', ['kept']);
        },
        { withNextCommit: true },
      );
      expect(inside).toBe(1); // NORMAL
      expect(executed).toEqual([
        'PRAGMA synchronous = NORMAL',
        'BEGIN IMMEDIATE',
        'COMMIT',
        'PRAGMA synchronous = 2',
      ]);
      expect(level()).toBe(2);
      await expect(
        db.transaction(() => Promise.reject(new Error('no')), { withNextCommit: true }),
      ).rejects.toThrow('no');
      expect(level()).toBe(2);
      expect(db.connection.isTransaction).toBe(false);
      // An ordinary transaction does not touch the level.
      executed.length = 0;
      await db.transaction((tx) => tx.run('UPDATE notes SET body = $1', ['again']));
      expect(executed).toEqual(['BEGIN IMMEDIATE', 'COMMIT']);
      await db.close();
      const again = SqliteDatabase.open(join(dir, 'data.db'));
      expect(await again.query('SELECT body FROM notes')).toEqual([{ body: 'again' }]);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('withUnsyncedCommits: an autocommit at NORMAL, the level restored when it throws', () => {
    const db = SqliteDatabase.open(':memory:');
    const level = () => db.connection.prepare('PRAGMA synchronous').get()?.synchronous;
    expect(withUnsyncedCommits(db.connection, () => level())).toBe(1);
    expect(level()).toBe(2);
    expect(() =>
      withUnsyncedCommits(db.connection, () => {
        throw new Error('no');
      }),
    ).toThrow('no');
    expect(level()).toBe(2);
    void db.close();
  });
});

describe('PostgresDatabase', () => {
  it('reports an unreachable server and an ended pool as StoreUnavailableError', async () => {
    const unreachable = PostgresDatabase.open({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      schema: 'unreachable',
    });
    await expect(unreachable.migrate('test.notes', MIGRATIONS)).rejects.toThrow(StoreUnavailableError);
    await expect(unreachable.query('SELECT 1')).rejects.toMatchObject({
      code: 'unavailable',
      retriable: true,
    });
    await expect(unreachable.transaction((tx) => tx.run('SELECT 1'))).rejects.toThrow(StoreUnavailableError);
    await unreachable.close();
  });

  it('reports a statement or a transaction on an ended pool as StoreUnavailableError', async () => {
    const data = await postgresSchema.create();
    const db = await data.connect();
    try {
      await db.migrate('test.notes', MIGRATIONS);
      await db.close();
      await expect(db.query('SELECT 1')).rejects.toMatchObject({ code: 'unavailable', retriable: true });
      await expect(db.transaction((tx) => tx.run('SELECT 1'))).rejects.toThrow(StoreUnavailableError);
    } finally {
      await data.close();
    }
  });
});
