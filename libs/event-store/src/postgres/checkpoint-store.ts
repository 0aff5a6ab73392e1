import type pg from 'pg';
import type { Pool } from 'pg';
import { DomainError } from '#lgsp/contracts';
import type { CheckpointStore } from '../port.js';
import { postgresUnavailable } from './unavailable.js';

/** A query on `pool`; a driver's failure is answered as the store being unavailable (`failing`). */
export async function queryPool<R extends pg.QueryResultRow>(
  pool: Pool,
  sql: string,
  params: unknown[] | undefined,
  failing: string,
): Promise<pg.QueryResult<R>> {
  try {
    return await pool.query<R>(sql, params);
  } catch (err) {
    throw postgresUnavailable(err, failing);
  }
}

/** Subscribers' checkpoints, in the event store's schema. */
export class PostgresCheckpointStore implements CheckpointStore {
  constructor(
    private readonly pool: Pool,
    private readonly assertOpen: () => void,
  ) {}

  async load(subscriber: string): Promise<number> {
    const { rows } = await this.query<{ position: string }>(
      'SELECT position FROM checkpoints WHERE subscriber = $1',
      [subscriber],
    );
    return Number(rows[0]?.position ?? 0);
  }

  async save(subscriber: string, position: number): Promise<void> {
    if (!Number.isSafeInteger(position) || position < 0) {
      throw new DomainError('invalid', `checkpoint position must be a non-negative integer, got ${position}`);
    }
    await this.query(
      `INSERT INTO checkpoints (subscriber, position, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (subscriber) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
      [subscriber, position, new Date().toISOString()],
    );
  }

  async list(): Promise<{ subscriber: string; position: number; updatedAt: string }[]> {
    const { rows } = await this.query<{ subscriber: string; position: string; updated_at: string }>(
      'SELECT subscriber, position, updated_at FROM checkpoints ORDER BY subscriber',
    );
    return rows.map((r) => ({
      subscriber: r.subscriber,
      position: Number(r.position),
      updatedAt: r.updated_at,
    }));
  }

  private async query<R extends pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    this.assertOpen();
    return queryPool<R>(this.pool, sql, params, 'the checkpoint store is unavailable');
  }
}
