import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { createLogger } from '#lgsp/observability';
import type { ReconciliationRun } from '#lgsp/reconciliation';
import {
  openReconciliationStore,
  reconciliationParts,
  type ReconciliationStorage,
} from './reconciliation-parts.js';
import { POSTGRES_URL, dropSchema, schemaName } from '../../../../test/support/postgres.js';

const left: ReconciliationRun = {
  id: 'rc-left',
  target: 'portal',
  scope: {},
  state: 'running',
  by: 'ops',
  startedAt: '2026-11-23T07:00:00.000Z',
  progress: { expected: 0, scanned: 0, compared: 0 },
  mismatches: { total: 0, dossiers: 0, byCategory: {} },
};

async function leftRunningIsInterrupted(storage: ReconciliationStorage): Promise<void> {
  await (await openReconciliationStore(storage)).create(left);
  const service = await reconciliationParts({
    storage,
    logger: createLogger({ level: 'silent' }),
    reconcilers: new Map(),
    expected: async () => ({ dossiers: new Map(), logPosition: 0 }),
  });
  expect(await service.get('rc-left')).toMatchObject({ state: 'failed', error: 'interrupted by a restart' });
  await expect(service.start('portal', {}, 'ops')).rejects.toMatchObject({ code: 'not-found' });
}

describe('reconciliationParts', () => {
  it('opens the store in the events database and fails the runs a stopped hub left running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgsp-reconciliation-parts-'));
    const database = new DatabaseSync(join(dir, 'events.db'));
    try {
      await leftRunningIsInterrupted({ database });
    } finally {
      database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("opens the store in the hub's PostgreSQL schema and fails the runs a stopped hub left running", async () => {
    const schema = schemaName('reconciliation_parts');
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    try {
      await leftRunningIsInterrupted({ pool, schema });
    } finally {
      await pool.end();
      await dropSchema(schema);
    }
  });
});
