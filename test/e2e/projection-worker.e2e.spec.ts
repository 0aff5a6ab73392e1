import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { dossierCode, getJson, post, statusChanged, submitted } from '../support/events.js';
import {
  eventually,
  startHubProcess,
  tempDir,
  type HubProcess,
  createCommuneClient,
} from '../support/hub-process.js';

type LogLine = { msg?: string; thread?: string; checkpoint?: number; level?: string };
type Lag = { name: string; checkpoint: number; head: number; lagEvents: number; state: string };

const logLines = (hub: HubProcess): LogLine[] =>
  hub
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);

function tables(file: string): string[] {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
      .all()
      .map((r) => r.name as string);
  } finally {
    db.close();
  }
}

describe('the dossier projection runs in a worker thread of the hub process', () => {
  let hub: HubProcess | undefined;
  afterEach(async () => {
    await hub?.stop();
  });

  it('projects into projections.db off the main thread, reports its lag, and resumes from its checkpoint', async () => {
    const dataDir = tempDir();
    const adminToken = 'projection-admin-token';
    hub = await startHubProcess({ dataDir, adminToken });
    const token = await createCommuneClient(hub, 'p');

    // The worker logs in the hub's format, marked with its thread.
    const workerLines = logLines(hub).filter((l) => l.thread === 'projection');
    expect(workerLines.map((l) => l.msg)).toEqual(['subscriber started', 'projection worker ready']);
    const ready = await getJson(`${hub.url}/health/ready`, adminToken);
    expect(ready.body).toMatchObject({ status: 'ready', projection: 'running' });

    const codes = [dossierCode(), dossierCode()];
    for (const code of codes) {
      expect((await post(hub.url, token, submitted(code))).status).toBe(201);
      expect((await post(hub.url, token, statusChanged(code, 4))).status).toBe(201);
    }
    const first = hub;
    const lag = await eventually(async () => {
      const subs = await getJson(`${first.url}/v1/admin/subscriptions`, adminToken);
      const projection = (subs.body.subscriptions as Lag[]).find((s) => s.name === 'projection.dossiers');
      return projection?.lagEvents === 0 ? { head: subs.body.head, projection } : undefined;
    });
    expect(lag.head).toBe(4);
    expect(lag.projection).toMatchObject({
      checkpoint: 4,
      head: 4,
      lagSeconds: 0,
      state: 'running',
      attempts: 0,
    });
    for (const code of codes) {
      const view = await getJson(`${hub.url}/v1/dossiers/${code}`, token);
      expect(view.body).toMatchObject({ dossierCode: code, status: 4, eventCount: 2 });
    }

    // The views and their checkpoint are in projections.db; the event store's file has none.
    expect(tables(join(dataDir, 'projections.db'))).toEqual(
      expect.arrayContaining(['dossier_views', 'dossier_views_checkpoint']),
    );
    expect(tables(join(dataDir, 'events.db'))).not.toContain('dossier_views');

    // A graceful stop lets the worker finish and close its files before the hub exits.
    expect(await hub.stop()).toBe(0);
    const stopped = logLines(hub).map((l) => `${l.thread ?? 'main'}: ${l.msg}`);
    expect(stopped).toEqual(
      expect.arrayContaining([
        'projection: subscriber stopped',
        'projection: projection worker stopped',
        'main: stopped',
      ]),
    );
    expect(existsSync(join(dataDir, 'projections.db-wal'))).toBe(false);

    hub = await startHubProcess({ dataDir, adminToken });
    const restarted = logLines(hub).find((l) => l.thread === 'projection' && l.msg === 'subscriber started');
    expect(restarted?.checkpoint).toBe(4);
    expect((await getJson(`${hub.url}/v1/dossiers/${codes[0]}`, token)).body).toMatchObject({ status: 4 });
  });
});
