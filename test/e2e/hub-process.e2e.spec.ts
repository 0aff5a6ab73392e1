import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { post, submitted } from '../support/events.js';
import { createCommuneClient, startHubProcess } from '../support/hub-process.js';

/**
 * The helper that starts hub processes for the end-to-end tests and the benchmarks: `stop` leaves the
 * data folder to the caller (tests read the files afterwards), `discard` removes it (a benchmark's hub
 * leaves 60–100 MB, and a full `npm run bench` starts some thirty of them).
 */
describe('startHubProcess', () => {
  it('stop leaves the data folder; discard removes it once the hub has exited', async () => {
    const kept = await startHubProcess();
    const discarded = await startHubProcess();
    try {
      for (const [i, hub] of [kept, discarded].entries()) {
        const token = await createCommuneClient(hub, 'e2e-hub-process', '21040');
        const response = await post(hub.url, token, submitted(`000.00.51.H56-251208-00000${i}`));
        expect(response.status).toBe(201);
      }
      expect(await kept.stop()).toBe(0);
      expect(existsSync(join(kept.dataDir, 'events.db'))).toBe(true);

      expect(await discarded.discard()).toBe(0);
      expect(discarded.child.exitCode).toBe(0);
      expect(existsSync(discarded.dataDir)).toBe(false);
    } finally {
      await kept.discard();
      await discarded.discard();
    }
    expect(existsSync(kept.dataDir)).toBe(false);
  });
});
