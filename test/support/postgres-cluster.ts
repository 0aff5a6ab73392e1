// A PostgreSQL cluster of a test's own (initdb in a temp dir, a postmaster on a free port), so that a
// test may stop, restart and kill the database server without disturbing the shared server at
// 127.0.0.1:5432 that the other tests use. Like kafka.ts, it and the two files it imports
// (postgres-binaries.ts: finding and running the server binaries; postgres-processes.ts: ports,
// signals, the watchdog) use only erasable TypeScript, so plain Node can import it (with
// test/support/ts-hooks.mjs, which maps their .js imports to the .ts files) as well as jest.
//
// Nothing outlives the test process: each postmaster has a watchdog (a shell reading a pipe from this
// process) that shuts it down and removes its files when the pipe closes, which happens however this
// process ends, even by SIGKILL; and a process 'exit' handler shuts down the postmasters still running.
//
// Speed: a new cluster is a copy of a template data dir (initdb + CREATE DATABASE test, built by the
// first call and kept in the temp dir as lgsp-pg-template-<hash>, 46 MB), then a start: about 1 s here
// instead of 2.5 s. Delete the template at will; the next call builds it again.
import {
  chownSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  appendFileSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  OS_USER,
  findPostgresBinaries,
  runToEnd,
  serverEnv,
  serverUser,
  type OsUser,
  type PostgresBinaries,
} from './postgres-binaries.js';
import {
  HOST,
  SUPERUSER,
  armWatchdog,
  exitedWithin,
  fileSize,
  freePort,
  message,
  note,
  postmasters,
  probe,
  processesIn,
  signal,
  sleep,
  type ExitInfo,
  type Postmaster,
} from './postgres-processes.js';

export type { PostgresBinaries } from './postgres-binaries.js';
export { findPostgresBinaries } from './postgres-binaries.js';

export interface PostgresCluster {
  /** postgres://postgres@127.0.0.1:<port>/test (trust authentication, superuser `postgres`). */
  readonly url: string;
  /** The TCP port on 127.0.0.1; the same for the life of the cluster, restarts included. */
  readonly port: number;
  readonly dataDir: string;
  /** The server's log (stderr), appended to by every start. */
  readonly logFile: string;
  /** The postmaster's process id while it runs. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Starts the server on the same port and data, and waits until it accepts connections. No-op when running. */
  start(): Promise<void>;
  /** Shuts the server down: `fast` (the default) rolls back open transactions and disconnects clients
   * (57P01), then checkpoints; `immediate` quits without a checkpoint (crash recovery at next start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** stop('fast') then start(). */
  restart(): Promise<void>;
  /** A crash: SIGKILL to the postmaster, then to its remaining children; the next start() recovers. */
  kill(): Promise<void>;
  /** Stops the server and removes all its files. The cluster cannot be started again. */
  destroy(): Promise<void>;
  /** The last lines of the server log. */
  logTail(lines?: number): string;
}

export interface PostgresClusterOptions {
  /** The TCP port; by default one the OS says is free (another is tried when it is taken meanwhile). */
  port?: number;
  /** How long start() waits for the server to accept connections; default 60 s. */
  startTimeoutMs?: number;
}

const DATABASE = 'test';
const STOP_TIMEOUT_MS = 60_000;
const INITDB_ARGS = ['-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'];
// Appended to postgresql.conf. The port (-p) and the Unix socket folder (-k) are given at each start,
// so that a copy of a data dir runs anywhere.
const SETTINGS = [
  '',
  '# postgres-cluster.ts (a test cluster)',
  "listen_addresses = '127.0.0.1'",
  'max_connections = 100',
  'shared_buffers = 16MB',
  'fsync = on',
  'synchronous_commit = on',
  'full_page_writes = on',
  "timezone = 'UTC'",
  "log_timezone = 'UTC'",
  'logging_collector = off',
  '',
];

class Cluster implements PostgresCluster {
  port: number;
  readonly dataDir: string;
  readonly logFile: string;
  private readonly root: string;
  private readonly binaries: PostgresBinaries;
  private readonly user: OsUser | undefined;
  private readonly startTimeoutMs: number;
  private readonly socketDir: string;
  private server: Postmaster | undefined;
  private destroyed = false;
  /** The database the readiness check connects to: `postgres` until `test` exists. */
  database = 'postgres';

  constructor(
    root: string,
    port: number,
    binaries: PostgresBinaries,
    user: OsUser | undefined,
    timeout: number,
  ) {
    this.root = root;
    this.port = port;
    this.binaries = binaries;
    this.user = user;
    this.startTimeoutMs = timeout;
    this.dataDir = join(root, 'data');
    this.logFile = join(root, 'server.log');
    // A Unix socket path is at most 107 bytes; with a longer temp dir the server listens on TCP only.
    this.socketDir = root.length + '/.s.PGSQL.65535.lock'.length <= 107 ? root : '';
  }

  get url(): string {
    return `postgres://${SUPERUSER}@${HOST}:${this.port}/${DATABASE}`;
  }

  get pid(): number | undefined {
    return this.running ? this.server?.pid : undefined;
  }

  get running(): boolean {
    return this.server !== undefined && this.server.exit === undefined;
  }

  logTail(lines = 40, fromOffset = 0): string {
    let text: string;
    try {
      text = readFileSync(this.logFile).subarray(fromOffset).toString('utf8');
    } catch {
      return '(no server log)';
    }
    return text.trimEnd().split('\n').slice(-lines).join('\n') || '(empty)';
  }

  async init(): Promise<void> {
    const args = ['-D', this.dataDir, ...INITDB_ARGS];
    const result = await runToEnd(this.binaries.initdb, args, { cwd: this.root, user: this.user });
    if (result.code !== 0) {
      throw new Error(
        `initdb (${this.binaries.initdb}) failed with code ${result.code}` +
          (this.user ? ` running as OS user "${OS_USER}" (can it reach ${this.root}?)` : '') +
          `:\n${result.output.trim().split('\n').slice(-20).join('\n')}`,
      );
    }
    appendFileSync(join(this.dataDir, 'postgresql.conf'), SETTINGS.join('\n'));
  }

  /** Creates the database `test` and connects to it from then on. */
  async createDatabase(): Promise<void> {
    const client = new pg.Client({
      host: HOST,
      port: this.port,
      user: SUPERUSER,
      database: 'postgres',
      ssl: false,
    });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await client.end();
    }
    this.database = DATABASE;
  }

  async start(): Promise<void> {
    if (this.destroyed) throw new Error(`the PostgreSQL cluster in ${this.root} was destroyed`);
    if (this.running) return;
    this.server = undefined;
    const logOffset = fileSize(this.logFile);
    const fd = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      const args = ['-D', this.dataDir, '-p', String(this.port), '-k', this.socketDir];
      child = spawn(this.binaries.postgres, args, {
        cwd: this.root,
        env: serverEnv(),
        stdio: ['ignore', fd, fd],
        ...(this.user ?? {}),
      });
    } finally {
      closeSync(fd); // the child has its own copy
    }
    child.unref(); // a test that forgets destroy() does not keep the process alive: the exit handler ends it
    const pid = child.pid ?? -1;
    let watchdog: ChildProcess | undefined;
    const server: Postmaster = {
      child,
      pid,
      exit: undefined,
      exited: Promise.resolve({ code: null, signal: null }),
    };
    server.exited = new Promise((resolve) => {
      const finish = (info: ExitInfo) => {
        if (server.exit) return;
        server.exit = info;
        postmasters().delete(pid);
        watchdog?.stdin?.end('disarm\n');
        resolve(info);
      };
      child.once('error', (error) => finish({ code: null, signal: null, error }));
      child.once('exit', (code, signal) => finish({ code, signal }));
    });
    this.server = server;
    if (pid > 0) {
      postmasters().add(pid);
      watchdog = armWatchdog(pid, this.root);
    }
    try {
      await this.waitUntilReady(server, logOffset);
    } catch (error) {
      if (this.running) await this.kill().catch(() => undefined);
      this.server = undefined;
      throw error;
    }
  }

  private startError(what: string, logOffset: number, cause?: unknown): Error {
    const log = this.logTail(10_000, logOffset);
    const portTaken = /could not bind .*Address already in use/.test(log);
    const error = new Error(
      `PostgreSQL (${this.binaries.postgres}, data dir ${this.dataDir}) on ${HOST}:${this.port} ${what}` +
        (portTaken ? ` (port ${this.port} is already in use)` : '') +
        `.\nServer log (${this.logFile}), last lines:\n${this.logTail(30, logOffset)}`,
      cause === undefined ? undefined : { cause },
    );
    if (portTaken) Object.assign(error, { code: 'EADDRINUSE' });
    return error;
  }

  private async waitUntilReady(server: Postmaster, logOffset: number): Promise<void> {
    const deadline = Date.now() + this.startTimeoutMs;
    for (;;) {
      if (server.exit) {
        const { code, signal, error } = server.exit;
        const how = error
          ? `could not be run: ${error.message}`
          : `exited during startup (code ${code}, signal ${signal})`;
        throw this.startError(how, logOffset, error);
      }
      const found = await Promise.race([
        probe(this.port, this.database),
        server.exited.then(() => undefined),
      ]);
      if (found === undefined) continue; // exited meanwhile
      if (typeof found === 'string') {
        if (found === this.dataDir) return;
        // Another server answered on the port: ours cannot bind it.
        throw Object.assign(
          this.startError(`found another server (data dir ${found}) answering on its port`, logOffset),
          { code: 'EADDRINUSE' },
        );
      }
      if (Date.now() >= deadline) {
        throw this.startError(
          `did not accept connections within ${this.startTimeoutMs} ms (last attempt: ${found.message})`,
          logOffset,
          found,
        );
      }
      await Promise.race([sleep(50), server.exited]);
    }
  }

  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    const server = this.server;
    if (!server || !this.running) return;
    signal(server.pid, mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    if (!(await exitedWithin(server, STOP_TIMEOUT_MS))) {
      note(`postmaster ${server.pid} did not stop (${mode}) within ${STOP_TIMEOUT_MS} ms: killing it`);
      signal(server.pid, 'SIGKILL');
      await exitedWithin(server);
      await this.killStragglers();
    }
  }

  async restart(): Promise<void> {
    await this.stop('fast');
    await this.start();
  }

  async kill(): Promise<void> {
    const server = this.server;
    if (!server || !this.running) return;
    signal(server.pid, 'SIGKILL');
    await exitedWithin(server);
    // Its children notice the postmaster's death on their own, but a busy backend only after its
    // query; they hold the shared memory that the next start needs free. Kill them too, as in a crash.
    await this.killStragglers();
  }

  private async killStragglers(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const pids = processesIn(this.dataDir);
      if (pids.length === 0) return;
      if (Date.now() >= deadline) {
        throw new Error(
          `PostgreSQL processes ${pids.join(', ')} (data dir ${this.dataDir}) survived SIGKILL`,
        );
      }
      for (const pid of pids) signal(pid, 'SIGKILL');
      await sleep(20);
    }
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    try {
      await this.stop('immediate');
      await this.killStragglers();
    } finally {
      rmSync(this.root, { recursive: true, force: true, maxRetries: 3 });
    }
  }
}

function isPortTaken(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}

/** The first start, on another free port when the chosen one was taken between freePort() and the bind. */
async function launch(cluster: Cluster, fixedPort: boolean): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await cluster.start();
    } catch (error) {
      if (!isPortTaken(error) || fixedPort || attempt >= 5) throw error;
      cluster.port = await freePort();
    }
  }
}

/** A new temp dir, owned by the server's OS user. realpath: kill() finds the server's processes by their cwd. */
function newRoot(prefix: string, user: OsUser | undefined): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  if (user) chownSync(root, user.uid, user.gid);
  return root;
}

/**
 * A cleanly shut down data dir with the database `test`, built once (initdb, start, CREATE DATABASE,
 * stop) and kept in the temp dir for every later cluster of these binaries and settings: copying it
 * takes a tenth of the time. Built aside and renamed into place, so concurrent test processes never
 * see half of one.
 */
async function clusterTemplate(binaries: PostgresBinaries, user: OsUser | undefined): Promise<string> {
  const key = createHash('sha256')
    .update(
      [
        binaries.postgres,
        statSync(binaries.postgres).mtimeMs,
        INITDB_ARGS,
        SETTINGS,
        user?.uid ?? process.getuid?.(),
      ]
        .flat()
        .join('\n'),
    )
    .digest('hex')
    .slice(0, 12);
  const template = join(tmpdir(), `lgsp-pg-template-${key}`);
  if (existsSync(join(template, 'data', 'PG_VERSION'))) return template;
  const root = newRoot('lgsp-pg-template-build-', user);
  const build = new Cluster(root, await freePort(), binaries, user, 60_000);
  try {
    await build.init();
    await launch(build, false);
    await build.createDatabase();
    await build.stop('fast');
  } catch (error) {
    await build.destroy().catch(() => undefined);
    throw error;
  }
  try {
    renameSync(root, template);
  } catch (error) {
    rmSync(root, { recursive: true, force: true }); // another process built it meanwhile
    if (!existsSync(join(template, 'data', 'PG_VERSION'))) throw error;
  }
  return template;
}

async function copyDir(from: string, to: string): Promise<void> {
  // cp -a keeps the owner (the server's OS user) and the modes (postgres wants 0700 on the data dir).
  const result = await runToEnd('cp', ['-a', from, to], { cwd: '/', user: undefined });
  if (result.code !== 0) throw new Error(`cp -a ${from} ${to} failed: ${result.output.trim()}`);
}

/**
 * Creates a PostgreSQL cluster in a new temp dir (superuser `postgres`, trust authentication, UTF8,
 * the database `test`) and starts it on 127.0.0.1. The data dir is a copy of a template that the first
 * call builds with initdb (see clusterTemplate). Throws when the server binaries, or (as root) the
 * `postgres` OS user, are missing: a test that needs its own cluster never skips.
 */
export async function startPostgresCluster(options: PostgresClusterOptions = {}): Promise<PostgresCluster> {
  const binaries = findPostgresBinaries();
  const user = serverUser();
  for (let attempt = 1; ; attempt++) {
    const template = await clusterTemplate(binaries, user);
    const root = newRoot('lgsp-pg-', user);
    const port = options.port ?? (await freePort());
    const cluster = new Cluster(root, port, binaries, user, options.startTimeoutMs ?? 60_000);
    cluster.database = DATABASE;
    try {
      await copyDir(join(template, 'data'), cluster.dataDir);
      await launch(cluster, options.port !== undefined);
      return cluster;
    } catch (error) {
      await cluster.destroy().catch((cleanup) => note(`cleaning up ${root}: ${message(cleanup)}`));
      if (isPortTaken(error) || attempt >= 2) throw error;
      // A template that does not start (damaged by a temp cleaner, say) is built again, once.
      note(`a cluster copied from ${template} did not start, building the template again: ${message(error)}`);
      rmSync(template, { recursive: true, force: true });
    }
  }
}
