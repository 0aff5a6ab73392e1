import { createLogger } from '#lgsp/observability';
import type { ReconciliationRun } from '#lgsp/reconciliation';
import type { SqlDatabase } from '#lgsp/storage';
import { postgresSchema, sqliteFile, type Backend } from '#lgsp/storage/testing';
import { openReconciliationStore, reconciliationParts } from './reconciliation-parts.js';

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

async function leftRunningIsInterrupted(backend: Backend): Promise<void> {
  const data = await backend.create();
  try {
    await leftRunningIn(await data.connect());
  } finally {
    await data.close();
  }
}

async function leftRunningIn(storage: SqlDatabase): Promise<void> {
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
    await leftRunningIsInterrupted(sqliteFile);
  });

  it("opens the store in the hub's PostgreSQL schema and fails the runs a stopped hub left running", async () => {
    await leftRunningIsInterrupted(postgresSchema);
  });
});
