import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMUNE, dossierCode, post, submitted } from '../support/events.js';
import {
  HUB_ENTRY,
  REPO_ROOT,
  startHubProcess,
  tempDir,
  type HubProcess,
  createCommuneClient,
} from '../support/hub-process.js';

async function startExpectingFailure(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [HUB_ENTRY], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', LGSP_DATA_DIR: tempDir(), LGSP_HTTP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const code = await new Promise<number | null>((res) => child.once('exit', res));
  return { code, output };
}

describe('operations', () => {
  let hub: HubProcess;
  beforeAll(async () => {
    hub = await startHubProcess();
  });
  afterAll(async () => {
    await hub.stop();
  });

  it('serves liveness, readiness and Prometheus metrics with ingest counts, append latency and subscriber lag', async () => {
    const token = await createCommuneClient(hub, 'm', COMMUNE);
    expect((await post(hub.url, token, submitted(dossierCode()))).status).toBe(201);

    expect((await fetch(`${hub.url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${hub.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });

    const metrics = await (await fetch(`${hub.url}/metrics`)).text();
    expect(metrics).toMatch(
      /lgsp_ingest_events_total\{type="vn.gov.lgsp.dossier.submitted.v1",outcome="appended"\} 1/,
    );
    expect(metrics).toMatch(/lgsp_store_append_seconds_bucket\{le="0.01"\} \d+/);
    expect(metrics).toMatch(/lgsp_subscriber_lag_events\{subscriber="projection.dossiers"\} \d+/);
    expect(metrics).toMatch(/lgsp_subscriber_lag_seconds\{subscriber="projection.dossiers"\} [\d.]+/);
  });

  it('writes structured JSON logs with no citizen ID number or name in clear', async () => {
    const token = await createCommuneClient(hub, 'pii', COMMUNE);
    const event = submitted(dossierCode());
    Object.assign((event.data as { applicant: object }).applicant, {
      idNumber: '079203004567',
      fullName: 'Lê Văn Tám',
    });
    expect((await post(hub.url, token, event)).status).toBe(201);
    // A rejected event with personal data in it, which the hub may log about.
    const bad = submitted(dossierCode());
    Object.assign((bad.data as { applicant: object }).applicant, {
      idNumber: '079203004567',
      fullName: 'Lê Văn Tám',
      extra: 1,
    });
    expect((await post(hub.url, token, bad)).status).toBe(422);

    const lines = hub
      .output()
      .split('\n')
      .filter((l) => l.trim().length > 0);
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(hub.output()).not.toContain('079203004567');
    expect(hub.output()).not.toContain('Lê Văn Tám');
    expect(hub.output()).not.toContain(token);
    expect(hub.output()).not.toContain(hub.adminToken);
  });

  it('stops start-up on a bad setting, naming its path and the reason', async () => {
    const badEnv = await startExpectingFailure({ LGSP_HTTP_PORT: 'eighty' });
    expect(badEnv.code).toBe(78);
    expect(badEnv.output).toContain('LGSP_HTTP_PORT: "eighty" must be an integer from 0 to 65535');

    const file = join(tempDir(), 'hub.json');
    writeFileSync(file, JSON.stringify({ ingest: { maxBatchEvents: 0 }, http: { prot: 1 } }));
    const badFile = await startExpectingFailure({ LGSP_CONFIG: file });
    expect(badFile.code).toBe(78);
    expect(badFile.output).toContain('/ingest/maxBatchEvents must be >= 1');
    expect(badFile.output).toContain('/http/prot is not a known setting');
  });
});
