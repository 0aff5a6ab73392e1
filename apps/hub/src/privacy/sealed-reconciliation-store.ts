import type {
  ExtraResolution,
  ListQuery,
  Mismatch,
  MismatchCategory,
  ReconciliationRun,
  ReconciliationStore,
} from '#lgsp/reconciliation';
import type { WorkingCopies } from '#lgsp/privacy';

/**
 * Reconciliation findings with the values they compare sealed as working copies of their dossiers: a
 * mismatch's `expected` and `actual` (an applicant's name, an ID number, a whole record) are stored
 * sealed and read in clear while the dossier's copy key exists, `[erased]` after.
 */
export class SealedReconciliationStore implements ReconciliationStore {
  constructor(
    private readonly inner: ReconciliationStore,
    private readonly copies: WorkingCopies,
  ) {}

  create(run: ReconciliationRun): Promise<void> {
    return this.inner.create(run);
  }

  update(run: ReconciliationRun): Promise<void> {
    return this.inner.update(run);
  }

  async addMismatches(runId: string, mismatches: readonly Mismatch[]): Promise<void> {
    const sealed = await this.copies.sealAll(
      mismatches.flatMap((m) => [
        { dossier: m.dossier, value: m.expected },
        { dossier: m.dossier, value: m.actual },
      ]),
    );
    await this.inner.addMismatches(
      runId,
      mismatches.map((m, i) => ({ ...m, expected: sealed[2 * i], actual: sealed[2 * i + 1] })),
    );
  }

  get(id: string): Promise<ReconciliationRun | undefined> {
    return this.inner.get(id);
  }

  list(query: ListQuery): Promise<ReconciliationRun[]> {
    return this.inner.list(query);
  }

  async mismatches(
    runId: string,
    query: { limit: number; after?: number; category?: MismatchCategory },
  ): Promise<(Mismatch & { seq: number })[]> {
    return this.copies.reveal(await this.inner.mismatches(runId, query));
  }

  async mismatch(runId: string, seq: number): Promise<(Mismatch & { seq: number }) | undefined> {
    const found = await this.inner.mismatch(runId, seq);
    return found && (await this.copies.reveal([found]))[0];
  }

  /** A resolution holds no personal data (who, when, the operator's note, a position). */
  resolve(runId: string, seq: number, resolution: ExtraResolution): Promise<boolean> {
    return this.inner.resolve(runId, seq, resolution);
  }

  acknowledged(
    system: string,
    dossiers: readonly string[],
  ): Promise<Map<string, ExtraResolution & { fromRun: string }>> {
    return this.inner.acknowledged(system, dossiers);
  }
}
