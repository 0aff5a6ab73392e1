import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventConversionError } from '#lgsp/contracts';
import { ANY_VERSION, type EventToAppend } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { Subscriptions } from '#lgsp/subscriptions';
import { DossierProjection } from '../dossier-projection.js';
import type { DossierViewRepository } from '../dossier-view-repository.js';
import { dossierCodeOf, evolveDossier, type DossierView } from '../dossier-view.js';

/** One empty repository for one test, and how to dispose of it. */
export interface DossierViewRepositoryHarness {
  repository: DossierViewRepository;
  /** Another repository on the same data, as a second process (or the same one restarted) opens it. */
  another(): Promise<DossierViewRepository>;
  /** The version `schema_version` holds for the component `projection.dossiers`. */
  schemaVersion(): Promise<number>;
  /** True while `repository` has a transaction open. */
  inTransaction(): boolean;
  /** Closes every repository the harness opened and deletes their data. */
  close(): Promise<void>;
}

let seq = 0;

/** A dossier event as ingest would append it. */
export function dossierEvent(
  code: string,
  type: string,
  data: object,
  provinceCode = '51',
  communeCode = '21040',
): EventToAppend {
  seq += 1;
  return {
    stream: `dossier-${code}`,
    expectedVersion: ANY_VERSION,
    id: `evt-${seq}`,
    source: `/communes/${communeCode}`,
    type,
    data: { dossierCode: code, provinceCode, communeCode, ...data },
    extensions: {},
    provinceCode,
    communeCode,
  };
}

export const submitted = (code: string, fees: number[], provinceCode = '51', communeCode = '21040') =>
  dossierEvent(
    code,
    'vn.gov.lgsp.dossier.submitted.v1',
    {
      procedureCode: '1.001193',
      agencyCode: '000.00.15.H51',
      channel: 'online',
      applicant: { fullName: 'Lê Văn Tám', idNumber: '051090001234' },
      receivedAt: '2025-07-01T08:00:00+07:00',
      fees: fees.map((amount, i) => ({ name: `Lệ phí ${i}`, amount })),
    },
    provinceCode,
    communeCode,
  );
export const status = (code: string, value: number) =>
  dossierEvent(code, 'vn.gov.lgsp.dossier.status-changed.v1', {
    status: value,
    changedAt: '2025-07-02T08:00:00+07:00',
  });
export const paid = (code: string, transactionId: string, amount: number) =>
  dossierEvent(code, 'vn.gov.lgsp.payment.completed.v1', {
    paymentRef: `PR-${code}`,
    transactionId,
    amount,
    paidAt: '2025-07-02T09:00:00+07:00',
  });
const failed = (code: string) =>
  dossierEvent(code, 'vn.gov.lgsp.payment.failed.v1', {
    paymentRef: `PR-${code}`,
    failedAt: '2025-07-02T09:00:00+07:00',
    reason: 'bank timeout',
  });

/** Waits until every registered subscriber has read up to the head. */
export async function caughtUp(subscriptions: Subscriptions): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const lag = await subscriptions.lag();
    if (lag.every((l) => l.lagEvents === 0)) return;
    if (Date.now() > deadline) throw new Error(`projection did not catch up: ${JSON.stringify(lag)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * The behaviours every `DossierViewRepository` adapter must have, written against the port only. The
 * events come from an embedded event store; `factory` gives each test an empty repository.
 */
export function describeDossierViewRepositoryContract(
  name: string,
  factory: () => Promise<DossierViewRepositoryHarness>,
): void {
  describe(`DossierViewRepository contract: ${name}`, () => {
    let dir: string;
    let store: SqliteEventStore;
    let harness: DossierViewRepositoryHarness | undefined;
    let repository: DossierViewRepository;
    let subscriptions: Subscriptions | undefined;

    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'lgsp-projections-'));
      store = SqliteEventStore.open({ file: join(dir, 'events.db') });
      harness = await factory();
      repository = harness.repository;
    });

    afterEach(async () => {
      await subscriptions?.stop();
      subscriptions = undefined;
      await harness?.close();
      harness = undefined;
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    async function project(batchSize?: number): Promise<Subscriptions> {
      subscriptions = new Subscriptions({ store });
      subscriptions.register(new DossierProjection(repository, batchSize ? { batchSize } : {}));
      await subscriptions.start();
      await caughtUp(subscriptions);
      return subscriptions;
    }

    it('projects the dossiers once the subscriber has caught up', async () => {
      await store.append([submitted('D-1', [8000, 3000]), submitted('D-2', [50000], '08', '02230')]);
      await store.append([status('D-1', 2), status('D-1', 6), failed('D-1')]);
      await Promise.all([
        store.append([paid('D-1', 'TX-1', 11000)]),
        store.append([status('D-2', 4)]),
        store.append([
          dossierEvent('D-3', 'vn.gov.lgsp.dossier.transferred.v1', {
            fromAgencyCode: '000.00.15.H51',
            toAgencyCode: '000.00.16.H51',
            transferredAt: '2025-07-02T10:00:00+07:00',
          }),
        ]),
        store.append([{ ...dossierEvent('D-1', 'vn.gov.lgsp.other.v1', {}), stream: 'other' }]),
      ]);
      // A repeated bank callback: a new event id, the same transaction.
      await store.append([paid('D-1', 'TX-1', 11000), status('D-1', 9)]);
      await project(3);

      const d1 = await repository.get('D-1');
      expect(d1).toMatchObject({
        dossierCode: 'D-1',
        provinceCode: '51',
        communeCode: '21040',
        status: 9,
        statusName: 'processing finished',
        applicant: { fullName: 'Lê Văn Tám' },
        payment: { state: 'paid', amountDue: 11000, amountPaid: 11000, transactionId: 'TX-1' },
        eventCount: 7,
        streamVersion: 7,
        firstPosition: 1,
        lastEventType: 'vn.gov.lgsp.dossier.status-changed.v1',
      });
      expect(JSON.stringify(d1)).not.toContain('051090001234');
      expect(await repository.get('D-2')).toMatchObject({
        provinceCode: '08',
        communeCode: '02230',
        status: 4,
        payment: { state: 'none', amountDue: 50000, amountPaid: 0 },
        eventCount: 2,
      });
      expect(await repository.get('D-3')).toMatchObject({
        transfers: 1,
        currentAgencyCode: '000.00.16.H51',
        eventCount: 1,
      });
      expect(await repository.get('D-404')).toBeUndefined();
    });

    it('does not count a batch twice when it is redelivered after a crash before the checkpoint was saved', async () => {
      await store.append([submitted('D-1', [11000]), status('D-1', 6)]);
      await store.append([paid('D-1', 'TX-1', 5000)]);
      await store.append([paid('D-1', 'TX-2', 6000)]);

      // The "crashed" run: the views were committed, the checkpoint was not.
      const firstRun = await store.readAll({ limit: 3 });
      expect(await repository.applyBatch(firstRun)).toEqual({ applied: 3, skipped: 0, dossiers: 1 });
      expect(await repository.checkpoint()).toBe(0);
      expect(await repository.get('D-1')).toMatchObject({ eventCount: 3, payment: { amountPaid: 5000 } });

      expect(await repository.applyBatch(firstRun)).toEqual({ applied: 0, skipped: 3, dossiers: 0 });

      await project();
      expect(await repository.get('D-1')).toMatchObject({
        eventCount: 4,
        lastPosition: 4,
        payment: { state: 'paid', amountDue: 11000, amountPaid: 11000, transactionIds: ['TX-1', 'TX-2'] },
      });
      expect(await repository.checkpoint()).toBe(4);
      expect(await store.checkpoints.load('projection.dossiers')).toBe(0);
    });

    it('applies a batch all or nothing', async () => {
      await store.append([submitted('D-1', [1000]), status('D-1', 2), submitted('D-2', [1000])]);
      const events = await store.readAll();
      const third = events[2];
      if (!third) throw new Error('three events were appended');
      const malformed = { ...third, data: { dossierCode: 'D-2', provinceCode: '51', communeCode: '21040' } };

      await expect(
        repository.applyBatch([events[0]!, events[1]!, malformed], { checkpoint: 3 }),
      ).rejects.toThrow(EventConversionError);
      expect(harness!.inTransaction()).toBe(false);
      expect(await repository.get('D-1')).toBeUndefined();
      expect(await repository.get('D-2')).toBeUndefined();
      expect(await repository.checkpoint()).toBe(0);
      await expect(repository.applyBatch(events, { checkpoint: -1 })).rejects.toThrow(RangeError);

      expect(await repository.applyBatch(events, { checkpoint: 3 })).toEqual({
        applied: 3,
        skipped: 0,
        dossiers: 2,
      });
      expect(await repository.get('D-1')).toMatchObject({ status: 2, eventCount: 2 });
      expect(await repository.checkpoint()).toBe(3);
    });

    it('moves the checkpoint over pages without a dossier event, and keeps it apart from the store', async () => {
      await store.append([submitted('D-1', [1000]), status('D-1', 2)]);
      await store.append(
        Array.from({ length: 5 }, (_, i) => ({
          ...dossierEvent('X', 'vn.gov.lgsp.other.v1', {}),
          stream: `other-${i}`,
        })),
      );
      const running = await project(2);
      expect(await repository.checkpoint()).toBe(7);
      expect(await running.lag()).toMatchObject([{ checkpoint: 7, head: 7, lagEvents: 0 }]);
      expect(await store.checkpoints.load('projection.dossiers')).toBe(0);
      expect(await repository.applyBatch([], { checkpoint: 8 })).toEqual({
        applied: 0,
        skipped: 0,
        dossiers: 0,
      });
      expect(await repository.checkpoint()).toBe(8);
    });

    it('keeps its views, checkpoint and schema version where another connection reads them', async () => {
      await store.append([submitted('D-1', [1000]), status('D-1', 2)]);
      await repository.applyBatch(await store.readAll(), { checkpoint: 2 });
      const reader = await harness!.another();
      expect(await reader.get('D-1')).toMatchObject({
        status: 2,
        eventCount: 2,
        payment: { amountDue: 1000 },
      });
      expect(await reader.checkpoint()).toBe(2);
      expect(await harness!.schemaVersion()).toBe(2);
    });

    it('ends with every event counted once when two processes apply overlapping batches at once', async () => {
      const codes = Array.from({ length: 12 }, (_, i) => `C-${i}`);
      for (const code of codes) await store.append([submitted(code, [1000, 2000])]);
      for (let round = 0; round < 6; round++) {
        // Interleaved across the dossiers, so that every batch touches most of them.
        await store.append(
          codes.map((code, i) =>
            round % 2 === 0 ? status(code, ((round + i) % 9) + 1) : paid(code, `TX-${round}`, 100),
          ),
        );
      }
      const events = await store.readAll({ limit: 10_000 });
      const other = await harness!.another();
      // Each process goes through the log in batches of its own size, from the start: a lease handed
      // over while the old holder still runs.
      const runThrough = async (repo: DossierViewRepository, size: number) => {
        for (let i = 0; i < events.length; i += size) {
          await repo.applyBatch(events.slice(i, i + size), {
            checkpoint: events[Math.min(i + size, events.length) - 1]!.position,
          });
        }
      };
      await Promise.all([runThrough(repository, 7), runThrough(other, 11), runThrough(repository, 5)]);

      const expected = new Map<string, DossierView>();
      for (const e of events) {
        const code = dossierCodeOf(e)!;
        expected.set(code, evolveDossier(expected.get(code), e));
      }
      for (const code of codes) {
        expect(await repository.get(code)).toEqual(expected.get(code));
        expect(await other.get(code)).toMatchObject({ eventCount: 7 });
      }
    });
  });
}
