// The PostgreSQL cluster harness itself: a cluster of the test's own starts on a port of its own,
// keeps its data across a restart and a crash (SIGKILL), disconnects its clients when stopped, and
// leaves nothing behind: not after destroy(), and not after its test process dies.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startPostgresCluster, type PostgresCluster } from './postgres-cluster.js';

const HELPER = fileURLToPath(new URL('./postgres-cluster.ts', import.meta.url));
const TS_HOOKS = fileURLToPath(new URL('./ts-hooks.mjs', import.meta.url));

const clusters: PostgresCluster[] = [];
afterAll(async () => {
  await Promise.all(clusters.map((cluster) => cluster.destroy()));
}, 60_000);

async function cluster(options: { port?: number } = {}): Promise<PostgresCluster> {
  const started = await startPostgresCluster(options);
  clusters.push(started);
  return started;
}

async function connect(target: PostgresCluster): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  return client;
}

async function query<T extends pg.QueryResultRow>(target: PostgresCluster, sql: string): Promise<T[]> {
  const client = await connect(target);
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** The first error or end of a client's connection. */
function connectionLoss(client: pg.Client): Promise<Error & { code?: string }> {
  return new Promise((resolve) => {
    client.on('error', resolve); // on, not once: pg may report the loss twice (the server's error, then the close)
    client.once('end', () => resolve(new Error('connection ended')));
  });
}

function gone(pid: number): boolean {
  try {
    return /\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); // a zombie waiting to be reaped is gone too
  } catch {
    return true;
  }
}

async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

function listening(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

describe('startPostgresCluster', () => {
  it('starts a server of its own on 127.0.0.1, with the database test, trust authentication and fsync on', async () => {
    const pgc = await cluster();
    expect(pgc.url).toBe(`postgres://postgres@127.0.0.1:${pgc.port}/test`);
    expect(pgc.port).not.toBe(5432);
    expect(pgc.running).toBe(true);
    expect(existsSync(`${pgc.dataDir}/PG_VERSION`)).toBe(true);
    const [row] = await query<Record<string, string>>(
      pgc,
      `SELECT current_database() AS db, current_user AS "user", current_setting('data_directory') AS dir,
              current_setting('server_encoding') AS encoding, current_setting('fsync') AS fsync,
              current_setting('listen_addresses') AS listen, current_setting('max_connections') AS max`,
    );
    expect(row).toEqual({
      db: 'test',
      user: 'postgres',
      dir: pgc.dataDir,
      encoding: 'UTF8',
      fsync: 'on',
      listen: '127.0.0.1',
      max: '100',
    });
  });

  it('restart() keeps the port and the data', async () => {
    const pgc = await cluster();
    await query(pgc, 'CREATE TABLE notes (body text NOT NULL)');
    await query(pgc, "INSERT INTO notes VALUES ('before the restart')");
    const { port, url } = pgc;
    const pid = pgc.pid;

    await pgc.restart();

    expect(pgc.port).toBe(port);
    expect(pgc.url).toBe(url);
    expect(pgc.pid).not.toBe(pid);
    expect(await query(pgc, 'SELECT body FROM notes')).toEqual([{ body: 'before the restart' }]);
  });

  it('kill() is a crash: committed rows survive recovery, an open transaction does not', async () => {
    const pgc = await cluster();
    await query(pgc, 'CREATE TABLE notes (body text NOT NULL)');
    await query(pgc, "INSERT INTO notes VALUES ('committed')");
    const open = await connect(pgc);
    const lost = connectionLoss(open);
    await open.query('BEGIN');
    await open.query("INSERT INTO notes VALUES ('never committed')");
    const pid = pgc.pid!;

    await pgc.kill();

    expect(pgc.running).toBe(false);
    expect(gone(pid)).toBe(true);
    expect((await lost).message).toMatch(/terminat|ended|ECONNRESET/i);
    await expect(query(pgc, 'SELECT 1')).rejects.toThrow();

    await pgc.start();
    expect(await query(pgc, 'SELECT body FROM notes')).toEqual([{ body: 'committed' }]);
    expect(pgc.logTail(1000)).toMatch(/not properly shut down; automatic recovery in progress/);
    await open.end().catch(() => undefined);
  });

  it("stop('fast') disconnects a connected client (57P01); start() brings the server back", async () => {
    const pgc = await cluster();
    const client = await connect(pgc);
    const lost = connectionLoss(client);

    await pgc.stop('fast');

    const error = await lost;
    expect(error.code === '57P01' || /terminat/i.test(error.message)).toBe(true);
    await expect(client.query('SELECT 1')).rejects.toThrow();
    await expect(query(pgc, 'SELECT 1')).rejects.toThrow();
    expect(pgc.running).toBe(false);
    await pgc.stop(); // stopping a stopped server does nothing

    await pgc.start();
    expect(await query(pgc, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it("stop('immediate') then start() recovers the committed data", async () => {
    const pgc = await cluster();
    await query(pgc, "CREATE TABLE notes AS SELECT 'kept' AS body");

    await pgc.stop('immediate');
    await pgc.start();

    expect(await query(pgc, 'SELECT body FROM notes')).toEqual([{ body: 'kept' }]);
  });

  it('destroy() stops the server and removes its files; the cluster cannot start again', async () => {
    const pgc = await cluster();
    const pid = pgc.pid!;
    const root = dirname(pgc.dataDir);
    expect(existsSync(root)).toBe(true);

    await pgc.destroy();

    expect(existsSync(root)).toBe(false);
    expect(gone(pid)).toBe(true);
    await expect(query(pgc, 'SELECT 1')).rejects.toThrow();
    await pgc.destroy(); // twice is fine
    await expect(pgc.start()).rejects.toThrow(/destroyed/);
  });

  it('a port that is taken fails clearly and leaves nothing behind', async () => {
    const blocker = createServer();
    const port = await listening(blocker);
    try {
      const attempt = startPostgresCluster({ port });
      await expect(attempt).rejects.toThrow(new RegExp(`port ${port} is already in use`));
      const dataDir = /data dir (\S+)\)/.exec(
        ((await attempt.catch((error: Error) => error)) as Error).message,
      )?.[1];
      expect(dataDir).toBeDefined();
      expect(existsSync(dirname(dataDir!))).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it.each(['exits without destroy()', 'is killed (SIGKILL)'])(
    'leaves no server and no files behind when its test process %s',
    async (how) => {
      // A separate Node process (ts-hooks.mjs maps the helper's .js imports to its .ts files).
      const script = `
        import { startPostgresCluster } from ${JSON.stringify(HELPER)};
        const pgc = await startPostgresCluster();
        process.stdout.write(JSON.stringify({ pid: pgc.pid, dataDir: pgc.dataDir }) + '\\n');
        if (process.argv[1] === 'exit') process.exit(0);
        setInterval(() => undefined, 1000);
      `;
      const child = spawn(
        process.execPath,
        [
          '--import',
          TS_HOOKS,
          '--input-type=module',
          '-e',
          script,
          how.startsWith('exits') ? 'exit' : 'wait',
        ],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (text: string) => {
          out += text;
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        child.once('exit', (code) =>
          out.includes('\n') ? undefined : reject(new Error(`child exited: ${code}`)),
        );
      });
      const { pid, dataDir } = JSON.parse(line) as { pid: number; dataDir: string };
      expect(gone(pid)).toBe(false);
      if (!how.startsWith('exits')) child.kill('SIGKILL');

      expect(await eventually(() => gone(pid), 15_000)).toBe(true);
      expect(await eventually(() => !existsSync(dirname(dataDir)), 15_000)).toBe(true);
    },
    60_000,
  );
});
