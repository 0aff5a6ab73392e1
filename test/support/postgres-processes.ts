// The processes of a test cluster: free ports, finding and signalling a postmaster and its children,
// the watchdog and exit handler that keep a postmaster from outliving the test process, probes.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { runInThisContext } from 'node:vm';
import pg from 'pg';

export const HOST = '127.0.0.1';
export const SUPERUSER = 'postgres';

export function note(message: string): void {
  process.stderr.write(`[postgres-cluster] ${message}\n`);
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port the OS says is free on 127.0.0.1 (it may be taken again before the server binds it). */
export async function freePort(): Promise<number> {
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

export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The process ids whose working directory is dir: a postmaster and all its children chdir to the data dir. */
export function processesIn(dir: string): number[] {
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

export function signal(pid: number, name: NodeJS.Signals): void {
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

export function postmasters(): Set<number> {
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

export function armWatchdog(pid: number, root: string): ChildProcess {
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

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

export interface Postmaster {
  child: ChildProcess;
  pid: number;
  exit: ExitInfo | undefined;
  exited: Promise<ExitInfo>;
}

/** Waits for the postmaster to exit (keeping this process alive meanwhile); false after timeoutMs. */
export async function exitedWithin(server: Postmaster, timeoutMs?: number): Promise<boolean> {
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
export async function probe(port: number, database: string): Promise<string | Error> {
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
