import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dossierCode, getJson, post, submitted } from '../support/events.js';
import { eventually, startHubProcess, type HubProcess } from '../support/hub-process.js';

describe('privacy smoke', () => {
  let hub: HubProcess;
  beforeAll(async () => {
    hub = await startHubProcess();
  });
  afterAll(async () => {
    await hub.stop();
  });
  it('seals at rest and reads clear', async () => {
    const code = dossierCode();
    const r = await post(hub.url, hub.adminToken, submitted(code));
    expect(r.status).toBeLessThan(300);
    const view = await eventually(async () => {
      const v = await getJson(`${hub.url}/v1/dossiers/${code}`, hub.adminToken);
      return v.status === 200 ? v.body : undefined;
    });
    expect(JSON.stringify(view)).toContain('Nguyễn Thị Hoà');
    const ev = await getJson(`${hub.url}/v1/streams/dossier-${code}`, hub.adminToken);
    expect(JSON.stringify(ev.body)).toContain('051190001234');
    for (const f of readdirSync(hub.dataDir)) {
      if (!/\.db/.test(f)) continue;
      const raw = readFileSync(join(hub.dataDir, f));
      expect({
        f,
        name: raw.includes(Buffer.from('Nguyễn Thị Hoà')),
        id: raw.includes(Buffer.from('051190001234')),
      }).toEqual({ f, name: false, id: false });
    }
  });
});
