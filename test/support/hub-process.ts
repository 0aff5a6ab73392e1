import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder of package.json), whether this file runs from test/ or dist/test/. */
export const REPO_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || dir.endsWith('/dist')) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above test/support');
    dir = parent;
  }
  return dir;
})();

export const HUB_ENTRY = join(REPO_ROOT, 'dist/apps/hub/src/main.js');
export const CLI_ENTRY = join(REPO_ROOT, 'bin/lgsp.js');
export const DEMO_ENTRY = join(REPO_ROOT, 'dist/apps/simulators/src/demo/main.js');
export const OFFICIAL_ADMIN_UNITS = resolve(REPO_ROOT, '../shared/data/admin-units-2025.json');

export interface HubProcess {
  url: string;
  dataDir: string;
  adminToken: string;
  child: ChildProcess;
  /** Every line the hub wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL, no chance to flush anything. */
  kill(): Promise<void>;
  /**
   * {@link stop}, then the data folder removed: for a hub whose files nobody reads afterwards (the
   * benchmarks' hubs leave 60–100 MB each). @returns the exit code, as `stop`.
   */
  discard(): Promise<number | null>;
}

export interface StartOptions {
  dataDir?: string;
  adminToken?: string;
  env?: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  timeoutMs?: number;
}

export function tempDir(prefix = 'lgsp-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Starts `node dist/apps/hub/src/main.js` (what `npm start` runs) and waits until it listens. */
export async function startHubProcess(options: StartOptions = {}): Promise<HubProcess> {
  const dataDir = options.dataDir ?? tempDir();
  const adminToken = options.adminToken ?? `admin-${Math.random().toString(36).slice(2)}`;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), HUB_ENTRY], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      LGSP_DATA_DIR: dataDir,
      LGSP_HTTP_PORT: '0',
      LGSP_HTTP_HOST: '127.0.0.1',
      LGSP_ADMIN_TOKEN: adminToken,
      LGSP_ADMIN_UNITS_FILE: OFFICIAL_ADMIN_UNITS,
      // The connectors are on by default (pointed at the simulators); a test that wants one says so.
      LGSP_CONNECTORS: 'none',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));

  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(
      () => rej(new Error(`hub did not start in time:\n${out}`)),
      options.timeoutMs ?? 20_000,
    );
    const check = (): void => {
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const rec = JSON.parse(line) as { msg?: string; url?: string };
          if (rec.msg === 'lgsp-hub listening' && rec.url) {
            clearTimeout(timer);
            child.stdout?.off('data', check);
            return res(rec.url);
          }
        } catch {
          /* a partial line; wait for more */
        }
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`hub exited with ${code} before listening:\n${out}`));
    });
  });

  return {
    url,
    dataDir,
    adminToken,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
    async discard() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Waits until every subscriber has processed the whole log; returns how far behind they were and how long it took. */
export async function waitForSubscribers(
  url: string,
  adminToken: string,
): Promise<{ events: number; seconds: number }> {
  const started = performance.now();
  let initial: number | undefined;
  for (;;) {
    const res = await fetch(`${url}/v1/admin/subscriptions`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    const body = (await res.json()) as { subscriptions: { lagEvents: number }[] };
    const lag = Math.max(0, ...body.subscriptions.map((s) => s.lagEvents));
    initial ??= lag;
    if (lag === 0) return { events: initial, seconds: (performance.now() - started) / 1000 };
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `node dist/apps/simulators/src/demo/main.js` as `npm run demo` would, with the national units. */
export async function runDemo(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNode(DEMO_ENTRY, args, { LGSP_ADMIN_UNITS_FILE: OFFICIAL_ADMIN_UNITS, ...env });
}

/** Runs the lgsp CLI as a user would. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNode(CLI_ENTRY, args, env);
}

/** Runs a script of the project with Node 24 and `env` (plus PATH), collecting its output. */
async function runNode(
  entry: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [entry, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((res) => child.once('exit', res));
  return { code, stdout, stderr };
}

/** Polls until `check` returns a value other than undefined. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Creates a commune client with the lgsp CLI, as an operator would, and returns its token. */
export async function createCommuneClient(
  hub: HubProcess,
  name: string,
  communes = '21040',
  extraArgs: string[] = [],
): Promise<string> {
  const args = ['clients', 'create', '--name', name, '--communes', communes, ...extraArgs, '--json'];
  const created = await runCli(args, {
    LGSP_URL: hub.url,
    LGSP_TOKEN: hub.adminToken,
  });
  if (created.code !== 0) throw new Error(`lgsp clients create failed (${created.code}): ${created.stderr}`);
  return (JSON.parse(created.stdout) as { token: string }).token;
}
