// A PostgreSQL cluster of a test's own (initdb in a temp dir, a postmaster on a free port), so that a
// test may stop, restart and kill the database server without disturbing the shared server at
// 127.0.0.1:5432 that the other tests use. Like kafka.ts, this file uses only erasable TypeScript, so
// plain Node can import it as well as jest.
//
// Nothing outlives the test process: each postmaster has a watchdog (a shell reading a pipe from this
// process) that shuts it down and removes its files when the pipe closes, which happens however this
// process ends, even by SIGKILL; and a process 'exit' handler shuts down the postmasters still running.
//
// Speed: a new cluster is a copy of a template data dir (initdb + CREATE DATABASE test, built by the
// first call and kept in the temp dir as lgsp-pg-template-<hash>, 46 MB), then a start: about 1 s here
// instead of 2.5 s. Delete the template at will; the next call builds it again.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  appendFileSync,
  chownSync,
  closeSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { runInThisContext } from 'node:vm';
import pg from 'pg';

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

export interface PostgresBinaries {
  binDir: string;
  initdb: string;
  postgres: string;
}

const HOST = '127.0.0.1';
const SUPERUSER = 'postgres';
const OS_USER = 'postgres';
const DATABASE = 'test';
const STOP_TIMEOUT_MS = 60_000;
const SERVER_BINARIES = ['initdb', 'postgres'] as const;
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

function note(message: string): void {
  process.stderr.write(`[postgres-cluster] ${message}\n`);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The folders that may hold the server binaries, most likely first. */
function binDirCandidates(): string[] {
  const dirs: string[] = [];
  const add = (dir: string | undefined) => {
    if (dir && !dirs.includes(dir)) dirs.push(dir);
  };
  add(process.env.POSTGRES_BIN_DIR);
  try {
    const out = execFileSync('pg_config', ['--bindir'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    add(out.trim());
  } catch {
    // no pg_config: PATH and the usual install folders
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of SERVER_BINARIES) {
      const file = join(dir, name);
      if (dir !== '' && isExecutable(file)) add(dirname(realpathSync(file))); // a symlink names the real bin dir
    }
  }
  const versioned = (parent: string, pattern: RegExp, bin: (entry: string) => string) => {
    let entries: string[];
    try {
      entries = readdirSync(parent).filter((entry) => pattern.test(entry));
    } catch {
      return;
    }
    const version = (entry: string) => Number(/(\d+(?:\.\d+)?)/.exec(entry)?.[1] ?? 0);
    entries.sort((a, b) => version(b) - version(a)); // highest version first
    for (const entry of entries) add(bin(entry));
  };
  versioned('/usr/lib/postgresql', /^\d+(\.\d+)?$/, (entry) => `/usr/lib/postgresql/${entry}/bin`);
  versioned('/usr', /^pgsql-\d+(\.\d+)?$/, (entry) => `/usr/${entry}/bin`);
  return dirs;
}

/** initdb and postgres: POSTGRES_BIN_DIR, `pg_config --bindir`, PATH, then /usr/lib/postgresql/<highest>/bin. */
export function findPostgresBinaries(): PostgresBinaries {
  const dirs = binDirCandidates();
  const partial: string[] = [];
  for (const binDir of dirs) {
    const present = SERVER_BINARIES.filter((name) => isExecutable(join(binDir, name)));
    if (present.length === SERVER_BINARIES.length) {
      return { binDir, initdb: join(binDir, 'initdb'), postgres: join(binDir, 'postgres') };
    }
    if (present.length > 0) {
      const missing = SERVER_BINARIES.filter((name) => !present.includes(name));
      partial.push(`${binDir} has ${present.join(', ')} but no ${missing.join(', ')}`);
    }
  }
  const where = dirs.length > 0 ? `looked in ${dirs.join(', ')}` : 'no pg_config, none on PATH';
  throw new Error(
    `PostgreSQL server binaries not found: no folder with both initdb and postgres (${where}` +
      (partial.length > 0 ? `; ${partial.join('; ')}` : '') +
      '). This test needs the PostgreSQL server binaries (initdb, postgres; e.g. the Debian package ' +
      'postgresql-15) to run a cluster of its own; set POSTGRES_BIN_DIR to their folder if they are elsewhere.',
  );
}

interface OsUser {
  uid: number;
  gid: number;
}

/** Whom to run initdb and postgres as: the `postgres` OS user when this process is root (they refuse root). */
function serverUser(): OsUser | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  try {
    const id = (flag: string) =>
      Number(
        execFileSync('id', [flag, OS_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim(),
      );
    const user = { uid: id('-u'), gid: id('-g') };
    if (Number.isInteger(user.uid) && Number.isInteger(user.gid) && user.uid !== 0) return user;
    throw new Error(`id says uid ${user.uid}, gid ${user.gid}`);
  } catch (error) {
    throw new Error(
      `this test runs as root, and initdb and postgres refuse to run as root: it needs an OS user ` +
        `"${OS_USER}" (not root) to run them as, and there is none (${message(error).trim()})`,
      { cause: error },
    );
  }
}

/** The environment of initdb and postgres: no PG* variables, and C messages (the log is parsed). */
function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PG')) env[key] = value;
  env.LC_ALL = 'C';
  return env;
}

function runToEnd(
  file: string,
  args: string[],
  options: { cwd: string; user: OsUser | undefined },
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: serverEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.user ?? {}),
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** A port the OS says is free on 127.0.0.1 (it may be taken again before the server binds it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: HOST, port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The process ids whose working directory is dir: a postmaster and all its children chdir to the data dir. */
function processesIn(dir: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return []; // no procfs (not Linux): only the postmaster itself is known
  }
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) === dir) pids.push(Number(entry));
    } catch {
      // gone, a zombie, or not ours to look at
    }
  }
  return pids;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

// Jest gives each test file a copy of `process` whose 'exit' listeners never run; the exit handler is
// registered on the real one (the same object outside jest). One handler per process, for every
// postmaster of every test file the process runs.
const realProcess = runInThisContext('process') as NodeJS.Process;
const REGISTRY = Symbol.for('lgsp.test.postgres-cluster.postmasters');

function postmasters(): Set<number> {
  const holder = realProcess as unknown as Record<symbol, Set<number> | undefined>;
  let pids = holder[REGISTRY];
  if (!pids) {
    const created = new Set<number>();
    // Immediate shutdown: the postmaster ends its children and frees its shared memory at once, with
    // no checkpoint. The watchdog sends SIGKILL if it is still there 10 s later.
    realProcess.on('exit', () => {
      for (const pid of created) {
        try {
          realProcess.kill(pid, 'SIGQUIT');
        } catch {
          // already gone
        }
      }
    });
    holder[REGISTRY] = created;
    pids = created;
  }
  return pids;
}

// $1 postmaster pid, $2 the cluster's temp dir. It waits for a line on stdin: `disarm` when the
// postmaster stopped normally; end of file when this process ended, however it ended. A zombie counts
// as gone (an orphaned postmaster may wait a while for init to reap it).
const WATCHDOG = `trap '' INT TERM HUP
alive() {
  if [ -d /proc/self ]; then [ -r "/proc/$1/stat" ] && ! grep -q ') [ZX] ' "/proc/$1/stat" 2>/dev/null
  else kill -0 "$1" 2>/dev/null; fi
}
read -r line
[ "$line" = disarm ] && exit 0
kill -QUIT "$1" 2>/dev/null
i=0
while alive "$1" && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if alive "$1"; then kill -KILL "$1" 2>/dev/null; sleep 0.5; fi
rm -rf -- "$2"
`;

function armWatchdog(pid: number, root: string): ChildProcess {
  const watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'postgres-cluster-watchdog', String(pid), root], {
    cwd: '/',
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.once('error', (error) => note(`no watchdog for postmaster ${pid}: ${message(error)}`));
  watchdog.stdin?.on('error', () => undefined); // it may be gone already when disarmed
  (watchdog.stdin as Socket | null)?.unref?.();
  watchdog.unref();
  return watchdog;
}

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

interface Postmaster {
  child: ChildProcess;
  pid: number;
  exit: ExitInfo | undefined;
  exited: Promise<ExitInfo>;
}

/** Waits for the postmaster to exit (keeping this process alive meanwhile); false after timeoutMs. */
async function exitedWithin(server: Postmaster, timeoutMs?: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  server.child.ref();
  try {
    return await Promise.race([
      server.exited.then(() => true),
      new Promise<boolean>((resolve) => {
        if (timeoutMs !== undefined) timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    server.child.unref();
  }
}

/** What a connection attempt found: the data directory of the server that answered, or the error. */
async function probe(port: number, database: string): Promise<string | Error> {
  const client = new pg.Client({
    host: HOST,
    port,
    user: SUPERUSER,
    database,
    ssl: false,
    connectionTimeoutMillis: 2000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query<{ data_directory: string }>('SHOW data_directory');
    return result.rows[0]?.data_directory ?? '';
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  } finally {
    void client.end().catch(() => undefined);
  }
}

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
