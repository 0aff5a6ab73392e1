import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import { type EventStore } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { PostgresEventStore } from '#lgsp/event-store/postgres';
import { dossierCode, post, submitted } from '../support/events.js';
import { createCommuneClient, runCli, startHubProcess, tempDir } from '../support/hub-process.js';
import { fuzzSeed, oddEvents } from '../support/odd-events.js';
import { POSTGRES_URL, dropSchema, pgClient, queryIn, schemaName } from '../support/postgres.js';

const run = promisify(execFile);

/** Events in each fuzzed store: more than one page (2,000 rows) of the readers. */
const EVENTS = 2_600;
const seed = fuzzSeed();
/** The positions tampered with: p on the first page, q on the second. */
const p = 1_000 + (seed % 900);
const q = 2_000 + (seed % 600);

/** Appends the fuzzed events in calls of 1 to 200 events, as clients would; returns the last record's hash. */
async function fill(store: EventStore): Promise<string> {
  const events = oddEvents(EVENTS, { seed, streams: 120 });
  for (let i = 0, size = 1; i < events.length; i += size, size = (size * 7) % 200 || 1) {
    await store.append(events.slice(i, i + size));
  }
  const [last] = await store.readAll({ after: EVENTS - 1 });
  expect(last?.position).toBe(EVENTS);
  return last!.hash;
}

/** One stored byte changed: the data text's last character (always ASCII in JSON) becomes another. */
const CHANGE_ONE_BYTE = `UPDATE events SET data = substr(data, 1, length(data) - 1) ||
  CASE WHEN substr(data, length(data)) = '}' THEN ']' ELSE '}' END WHERE position = ${p}`;
const DELETE_ROW = `DELETE FROM events WHERE position = ${p}`;
const SWAP_ROWS = [
  `UPDATE events SET position = -1 WHERE position = ${p}`,
  `UPDATE events SET position = ${p} WHERE position = ${q}`,
  `UPDATE events SET position = ${q} WHERE position = -1`,
];

/** What each tampering must make `lgsp verify` print, and its exit code. */
const BROKEN: [string, string[], RegExp][] = [
  ['one byte changed', [CHANGE_ONE_BYTE], new RegExp(`^chain broken at position ${p}: modified \\(`)],
  ['a row deleted', [DELETE_ROW], new RegExp(`^chain broken at position ${p}: missing \\(`)],
  [
    'two rows swapped',
    SWAP_ROWS,
    new RegExp(`^chain broken at position ${p}: out of order \\(.*at position ${q}\\)`),
  ],
];

describe(`lgsp verify on a fuzzed store (fast-check seed ${seed}, positions ${p} and ${q})`, () => {
  describe('SQLite', () => {
    let dataDir: string;
    let head: string;
    const scratch: string[] = [];

    beforeAll(async () => {
      dataDir = tempDir('lgsp-verify-');
      const store = SqliteEventStore.open({ file: join(dataDir, 'events.db') });
      try {
        head = await fill(store);
      } finally {
        await store.close();
      }
    });

    afterAll(() => {
      for (const dir of [dataDir, ...scratch]) rmSync(dir, { recursive: true, force: true });
    });

    /** A fresh copy of the store's file, changed by `sql`. */
    function tamperedCopy(sql: string[]): string {
      const dir = mkdtempSync(join(tmpdir(), 'lgsp-verify-copy-'));
      scratch.push(dir);
      const file = join(dir, 'events.db');
      copyFileSync(join(dataDir, 'events.db'), file);
      const db = new DatabaseSync(file);
      for (const statement of sql) db.exec(statement);
      db.close();
      return file;
    }

    it('holds on the configured store and on a copy: exit 0, the count and the head hash', async () => {
      const holds = `chain holds: ${EVENTS} events, head hash ${head}\n`;
      const configured = await runCli(['verify'], { LGSP_DATA_DIR: dataDir });
      expect(configured).toMatchObject({ code: 0, stdout: holds });
      expect(await runCli(['verify', '--store', 'sqlite', '--data-dir', dataDir], {})).toMatchObject({
        code: 0,
        stdout: holds,
      });
      const copy = await runCli(['verify', '--file', tamperedCopy([]), '--json'], {});
      expect(copy.code).toBe(0);
      expect(JSON.parse(copy.stdout)).toMatchObject({
        ok: true,
        events: EVENTS,
        head: { position: EVENTS, hash: head },
      });
    });

    it.each(BROKEN)('names the position when %s (exit 7)', async (_what, sql, printed) => {
      const file = tamperedCopy(sql);
      const human = await runCli(['verify', '--file', file], {});
      expect(human.code).toBe(7);
      expect(human.stdout).toMatch(printed);
      expect(human.stdout).toContain(`\n${p - 1} events before it verified`);
      const json = await runCli(['verify', '--file', file, '--json'], {});
      expect(json.code).toBe(7);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, events: p - 1, break: { position: p } });
    });
  });

  describe('PostgreSQL', () => {
    const schema = schemaName('verify');
    const copies: string[] = [];
    let head: string;

    beforeAll(async () => {
      const store = await PostgresEventStore.open({ connectionString: POSTGRES_URL, schema, poolSize: 2 });
      try {
        head = await fill(store);
      } finally {
        await store.close();
      }
    });

    afterAll(async () => {
      for (const s of [schema, ...copies]) await dropSchema(s);
    });

    /** A fresh copy of the schema's event store in another schema, changed by `sql`. */
    async function tamperedCopy(sql: string[]): Promise<string> {
      const copy = schemaName('verify_copy');
      copies.push(copy);
      const from = (table: string) => `${schema}.${table}`;
      await queryIn(schema, `CREATE SCHEMA ${copy}`);
      await queryIn(schema, `CREATE TABLE ${copy}.events (LIKE ${from('events')} INCLUDING ALL)`);
      await queryIn(schema, `INSERT INTO ${copy}.events SELECT * FROM ${from('events')}`);
      await queryIn(schema, `CREATE TABLE ${copy}.schema_version AS SELECT * FROM ${from('schema_version')}`);
      for (const statement of sql) await queryIn(copy, statement);
      return copy;
    }

    it('holds on the live schema: exit 0, the count and the head hash', async () => {
      const verified = await runCli(['verify', '--store', POSTGRES_URL, '--schema', schema], {});
      expect(verified).toMatchObject({
        code: 0,
        stdout: `chain holds: ${EVENTS} events, head hash ${head}\n`,
      });
      const configured = await runCli(['verify', '--json'], {
        LGSP_STORE: POSTGRES_URL,
        LGSP_POSTGRES_SCHEMA: schema,
      });
      expect(configured.code).toBe(0);
      expect(JSON.parse(configured.stdout)).toMatchObject({ ok: true, events: EVENTS, head: { hash: head } });
    });

    it('holds on a pg_dump backup restored into another database', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'lgsp-verify-dump-'));
      const database = schemaName('verify_restore');
      const restored = new URL(POSTGRES_URL);
      restored.pathname = `/${database}`;
      const admin = await pgClient();
      try {
        await run('pg_dump', [
          '--format=custom',
          `--schema=${schema}`,
          `--file=${join(dir, 'store.dump')}`,
          `--dbname=${POSTGRES_URL}`,
        ]);
        await admin.query(`CREATE DATABASE ${database}`);
        await run('pg_restore', ['--no-owner', `--dbname=${restored.href}`, join(dir, 'store.dump')]);
        const verified = await runCli(['verify', '--store', restored.href, '--schema', schema], {});
        expect(verified).toMatchObject({
          code: 0,
          stdout: `chain holds: ${EVENTS} events, head hash ${head}\n`,
        });
      } finally {
        await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        await admin.end();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it.each(BROKEN)('names the position when %s (exit 7)', async (_what, sql, printed) => {
      const copy = await tamperedCopy(sql);
      const verified = await runCli(['verify', '--store', POSTGRES_URL, '--schema', copy], {});
      expect(verified.code).toBe(7);
      expect(verified.stdout).toMatch(printed);
      expect(verified.stdout).toContain(`\n${p - 1} events before it verified`);
    });
  });
});

describe('lgsp verify on the store of a running hub', () => {
  it('holds while the hub runs and after it stopped, with the same head', async () => {
    const hub = await startHubProcess();
    try {
      const token = await createCommuneClient(hub, 'verify-commune');
      for (let i = 0; i < 3; i++) {
        const answer = await post(hub.url, token, submitted(dossierCode()));
        expect(answer.status).toBe(201);
      }
      const running = await runCli(['verify', '--data-dir', hub.dataDir], {});
      expect(running.code).toBe(0);
      expect(running.stdout).toMatch(/^chain holds: 3 events, head hash [0-9a-f]{64}\n$/);
      await hub.stop();
      expect(await runCli(['verify'], { LGSP_DATA_DIR: hub.dataDir })).toMatchObject({
        code: 0,
        stdout: running.stdout,
      });
    } finally {
      await hub.stop();
      rmSync(hub.dataDir, { recursive: true, force: true });
    }
  });
});

describe('lgsp verify when the store cannot be read', () => {
  it('exits 4 with a clear message that never shows the password, and 2 on contradictory flags', async () => {
    const down = await runCli(
      ['verify', '--store', 'postgres://lgsp:s3cret@127.0.0.1:1/test', '--schema', 'x'],
      {},
    );
    expect(down.code).toBe(4);
    expect(down.stderr).toMatch(/cannot connect to PostgreSQL: .*127\.0\.0\.1:1/);
    expect(down.stderr + down.stdout).not.toContain('s3cret');
    const missing = await runCli(['verify', '--file', '/nonexistent/events.db'], {});
    expect(missing).toMatchObject({ code: 4, stdout: '' });
    expect(missing.stderr).toBe('lgsp: no event store at /nonexistent/events.db: the file does not exist\n');
    const empty = tempDir('lgsp-verify-empty-');
    try {
      const none = await runCli(['verify', '--data-dir', empty], {});
      expect(none.code).toBe(4);
      expect(none.stderr).toContain(`no event store at ${join(empty, 'events.db')}`);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    expect((await runCli(['verify', '--file', 'a.db', '--store', POSTGRES_URL], {})).code).toBe(2);
    expect((await runCli(['verify', '--store', 'mysql://x/y'], {})).code).toBe(78);
  });
});
