import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMUNE, dossierCode, post, submitted } from '../support/events.js';
import { REPO_ROOT, startHubProcess, type HubProcess, createCommuneClient } from '../support/hub-process.js';

const EXAMPLE = join(REPO_ROOT, 'examples/push-with-sdk.mjs');

describe('the README examples run', () => {
  let hub: HubProcess;
  let token: string;
  beforeAll(async () => {
    hub = await startHubProcess();
    token = await createCommuneClient(hub, 'readme', COMMUNE);
  });
  afterAll(async () => {
    await hub.stop();
  });

  it('shows examples/push-with-sdk.mjs verbatim', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(readFileSync(EXAMPLE, 'utf8').trimEnd());
  });

  it('pushes an event with the SDK example', async () => {
    const code = dossierCode();
    expect((await post(hub.url, token, submitted(code))).status).toBe(201);
    const child = spawn(process.execPath, [EXAMPLE], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', LGSP_URL: hub.url, LGSP_TOKEN: token, DOSSIER_CODE: code },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exitCode = await new Promise<number | null>((res) => child.once('exit', res));
    expect(out).toMatch(/^201 \{"results":\[\{.*"streamVersion":2,.*"duplicate":false\}\]\}/);
    expect(exitCode).toBe(0);
  });
});
