import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { DomainError } from '#lgsp/contracts';
import { withUnsyncedCommits } from '#lgsp/storage/sqlite';
import { ReadOnlyStoreError } from '../errors.js';
import type { CheckpointSaveOptions, CheckpointStore } from '../port.js';

/** Subscribers' checkpoints, in the event store's file. */
export class SqliteCheckpointStore implements CheckpointStore {
  private readonly selectOne: StatementSync;
  private readonly upsert: StatementSync;
  private readonly selectAll: StatementSync;

  constructor(
    private readonly db: DatabaseSync,
    private readonly assertOpen: () => void,
    /** The file, when the store is open read-only. */
    private readonly readOnlyFile: string | null,
  ) {
    this.selectOne = db.prepare('SELECT position FROM checkpoints WHERE subscriber = ?');
    this.upsert = db.prepare(
      `INSERT INTO checkpoints (subscriber, position, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (subscriber) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
    );
    this.selectAll = db.prepare(
      'SELECT subscriber, position, updated_at FROM checkpoints ORDER BY subscriber',
    );
  }

  async load(subscriber: string): Promise<number> {
    this.assertOpen();
    const row = this.selectOne.get(subscriber);
    return row === undefined ? 0 : (row.position as number);
  }

  async save(subscriber: string, position: number, options?: CheckpointSaveOptions): Promise<void> {
    this.assertOpen();
    if (this.readOnlyFile !== null) throw new ReadOnlyStoreError(this.readOnlyFile, 'save a checkpoint');
    if (!Number.isSafeInteger(position) || position < 0) {
      throw new DomainError('invalid', `checkpoint position must be a non-negative integer, got ${position}`);
    }
    const updatedAt = new Date().toISOString();
    // The safety level applies to a commit and cannot change inside a transaction: within one (another
    // writer's, on this connection), the row is that transaction's, as always.
    if (options?.withNextCommit !== true || this.db.isTransaction) {
      this.upsert.run(subscriber, position, updatedAt);
      return;
    }
    withUnsyncedCommits(this.db, () => this.upsert.run(subscriber, position, updatedAt));
  }

  async list(): Promise<{ subscriber: string; position: number; updatedAt: string }[]> {
    this.assertOpen();
    return this.selectAll.all().map((r) => ({
      subscriber: r.subscriber as string,
      position: r.position as number,
      updatedAt: r.updated_at as string,
    }));
  }
}
