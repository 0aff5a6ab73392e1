import type { DossierSyncOutcome } from '#lgsp/connectors';
import { connectorReplayTarget } from './connector-target.js';

const outcome = (dossier: string, status: DossierSyncOutcome['status']): DossierSyncOutcome => ({
  dossier,
  firstPosition: 1,
  lastPosition: 1,
  status,
});

describe('connectorReplayTarget', () => {
  it('sends a batch through replayMany and answers per dossier, in order: sent, held behind a parking, or failed', async () => {
    const calls: { dossiers: readonly string[]; replayId: string }[] = [];
    const connector = {
      target: 'portal',
      replay: () => Promise.reject(new Error('a batch goes through replayMany')),
      replayMany: async (dossiers: readonly string[], replayId: string) => {
        calls.push({ dossiers, replayId });
        return dossiers.map((d) =>
          d === 'GONE' ? undefined : outcome(d, d === 'OK' ? 'delivered' : 'parked'),
        );
      },
    };
    const target = connectorReplayTarget(connector, {
      ratePerSecond: 20,
      callsPerItem: 2,
      parking: { isParked: async (_t, d) => d === 'WAS-PARKED' },
    });
    expect(target.batchSize).toBe(32);
    expect(await target.sendBatch!(['OK', 'WAS-PARKED', 'PARKS-NOW', 'GONE'], 'r-1')).toEqual([
      'sent',
      'held',
      'failed',
      'failed',
    ]);
    expect(calls).toEqual([{ dossiers: ['OK', 'WAS-PARKED', 'PARKS-NOW', 'GONE'], replayId: 'r-1' }]);
    expect(
      connectorReplayTarget(connector, { ratePerSecond: 1, callsPerItem: 1, batchSize: 4 }).batchSize,
    ).toBe(4);
  });
});
