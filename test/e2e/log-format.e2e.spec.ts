import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  HUB_ENTRY,
  OFFICIAL_ADMIN_UNITS,
  REPO_ROOT,
  eventually,
  startHubProcess,
  tempDir,
} from '../support/hub-process.js';

/**
 * What a person sees when starting the hub: readable lines and a start-up summary on a terminal
 * (a pseudo-terminal from util-linux `script`) or when asked (`LGSP_LOG_FORMAT=pretty`), JSON
 * otherwise; never the admin token; NestJS's route mappings only at debug.
 */

interface Started {
  child: ChildProcess;
  output(): string;
  /** SIGTERM to the hub process itself, and its exit code. */
  stop(): Promise<number | null>;
}

/** Starts the hub with no LGSP_ADMIN_TOKEN (it creates its token file), `viaTerminal` inside a pseudo-terminal. */
function startPlain(dataDir: string, env: Record<string, string>, viaTerminal: boolean): Started {
  const hubEnv = {
    PATH: process.env.PATH ?? '',
    LGSP_DATA_DIR: dataDir,
    LGSP_HTTP_PORT: '0',
    LGSP_HTTP_HOST: '127.0.0.1',
    LGSP_ADMIN_UNITS_FILE: OFFICIAL_ADMIN_UNITS,
    LGSP_CONNECTORS: 'none',
    ...env,
  };
  const child = viaTerminal
    ? spawn('script', ['-qfec', `exec '${process.execPath}' '${HUB_ENTRY}'`, '/dev/null'], {
        cwd: REPO_ROOT,
        env: hubEnv,
        stdio: ['pipe', 'pipe', 'pipe'],
      })
    : spawn(process.execPath, [HUB_ENTRY], {
        cwd: REPO_ROOT,
        env: hubEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      // Under `script` the hub is script's child; it is told, and script ends with it.
      const pid = viaTerminal
        ? Number(
            execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
              .trim()
              .split('\n')[0],
          )
        : child.pid!;
      process.kill(pid, 'SIGTERM');
      return exited;
    },
  };
}

// eslint-disable-next-line no-control-regex
const plain = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');

describe('logs for people', () => {
  it.each([
    ['on a terminal (log.format auto)', {}, true],
    ['when asked (LGSP_LOG_FORMAT=pretty) on a pipe', { LGSP_LOG_FORMAT: 'pretty' }, false],
  ] as const)('%s: readable lines and a start-up summary, without the admin token', async (_, env, tty) => {
    const dataDir = tempDir('lgsp-logs-e2e-');
    const hub = startPlain(dataDir, env, tty);
    try {
      const url = await eventually(async () => {
        const m = /API {10}(http:\/\/127\.0\.0\.1:[0-9]+)/.exec(plain(hub.output()));
        return m?.[1];
      }, 20_000);
      await eventually(async () => (plain(hub.output()).includes('JSON logs:') ? true : undefined));
      const text = plain(hub.output());
      const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
      expect(token.length).toBeGreaterThan(20);
      expect(text).not.toContain(token);
      expect(text).toContain('lgsp-hub is ready');
      expect(text).toMatch(/admin token {2}in \S*admin-token \(readable by this user only; created now\)/);
      expect(text).toContain(`curl ${url}/health/ready`);
      expect(text).toContain('npm run -s lgsp -- subscriptions');
      // Readable lines: time, level, message; not one JSON object.
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      expect(lines.filter((l) => l.startsWith('{'))).toEqual([]);
      expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: lgsp-hub listening/m);
      expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: created an admin credential/m);
      // NestJS's route mappings are at debug, below the default level.
      expect(text).not.toContain('Mapped {');
      expect(lines.length).toBeLessThan(25);
      // What the summary says to try works.
      expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    } finally {
      expect(await hub.stop()).toBe(0);
    }
    expect(plain(hub.output())).toMatch(/INFO: stopped/);
  });

  it('writes JSON lines on a pipe (auto) and when asked, the route mappings only at debug', async () => {
    for (const env of [{}, { LGSP_LOG_FORMAT: 'json', LGSP_LOG_LEVEL: 'debug' }] as Record<
      string,
      string
    >[]) {
      const hub = await startHubProcess({ env });
      try {
        const lines = hub
          .output()
          .split('\n')
          .filter((l) => l.trim() !== '');
        const records = lines.map((l) => JSON.parse(l) as { level: string; msg: string; context?: string });
        expect(records.some((r) => r.msg === 'lgsp-hub listening')).toBe(true);
        expect(hub.output()).not.toContain('lgsp-hub is ready');
        const mapped = records.filter((r) => r.msg.startsWith('Mapped {'));
        if (env.LGSP_LOG_LEVEL === 'debug') {
          expect(mapped.length).toBeGreaterThan(20);
          expect(new Set(mapped.map((r) => r.level))).toEqual(new Set(['debug']));
        } else {
          expect(mapped).toEqual([]);
          expect(records.length).toBeLessThan(20);
        }
      } finally {
        await hub.stop();
      }
    }
  });
});
