import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './hub-process.js';

export type SimName = 'national-portal' | 'one-stop-shop' | 'civil-registry' | 'payments' | 'dvclt';
export const SIM_NAMES: readonly SimName[] = [
  'national-portal',
  'one-stop-shop',
  'civil-registry',
  'payments',
  'dvclt',
];

const SIMULATORS_ENTRY = join(REPO_ROOT, 'dist/apps/simulators/src/main.js');

export interface SimulatorsProcess {
  urls: Record<SimName, string>;
  child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output: () => string;
}

/**
 * The five simulators as one process (`npm run simulators`), each on a free port; resolves once the
 * five print their URL. `env` adds settings, e.g. `LGSP_SIM_PAYMENTS_SECRET`.
 */
export async function startSimulators(env: Record<string, string> = {}): Promise<SimulatorsProcess> {
  const child = spawn(process.execPath, [SIMULATORS_ENTRY], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      LGSP_SIM_PORTAL_PORT: '0',
      LGSP_SIM_ONE_STOP_SHOP_PORT: '0',
      LGSP_SIM_CIVIL_REGISTRY_PORT: '0',
      LGSP_SIM_PAYMENTS_PORT: '0',
      LGSP_SIM_DVCLT_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  const urls = await new Promise<Record<SimName, string>>((resolve, reject) => {
    const found: Record<string, string> = {};
    let buffered = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      buffered += d;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const { simulator, url } = JSON.parse(line) as { simulator: string; url: string };
          found[simulator] = url;
        } catch {
          // not a start line
        }
        if (Object.keys(found).length === SIM_NAMES.length) resolve(found as Record<SimName, string>);
      }
    });
    child.once('exit', (code) => reject(new Error(`simulators exited with ${code}: ${out}`)));
  });
  return { urls, child, output: () => out };
}

/** Calls each simulator received so far (`GET /_sim/calls`), in {@link SIM_NAMES} order. */
export async function simulatorCalls(
  urls: Record<SimName, string>,
): Promise<{ total: number; replayed?: { total: number; byReplay: Record<string, number> } }[]> {
  return Promise.all(
    SIM_NAMES.map(async (name) => {
      const res = await fetch(`${urls[name]}/_sim/calls`);
      if (!res.ok) throw new Error(`GET ${urls[name]}/_sim/calls: ${res.status}`);
      return (await res.json()) as {
        total: number;
        replayed?: { total: number; byReplay: Record<string, number> };
      };
    }),
  );
}

/**
 * Writes `<dataDir>/hub.json` pointing every connector at the simulators (5,000 calls/s, no online
 * capture, registry results polled every 200 ms), with `extra` settings beside; returns its path, for
 * `LGSP_CONFIG`.
 */
export function connectorsConfig(
  dataDir: string,
  urls: Record<SimName, string>,
  extra: Record<string, unknown> = {},
): string {
  const file = join(dataDir, 'hub.json');
  writeFileSync(
    file,
    JSON.stringify({
      connectors: {
        portal: { url: urls['national-portal'], ratePerSecond: 5000, onlineCapture: { enabled: false } },
        oneStopShop: { url: urls['one-stop-shop'], ratePerSecond: 5000 },
        civilRegistry: {
          url: urls['civil-registry'],
          dvcltUrl: urls.dvclt,
          ratePerSecond: 5000,
          pollIntervalMs: 200,
        },
        payments: { url: urls.payments, ratePerSecond: 5000 },
      },
      ...extra,
    }),
  );
  return file;
}
