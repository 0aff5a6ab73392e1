import type { Pool, QueryResult, QueryResultRow } from 'pg';
import { DomainError } from '#lgsp/contracts';
import type { Lease, LeaseInfo, LeaseStore } from '../port.js';
import { postgresUnavailable } from './unavailable.js';

interface LeaseRow {
  subscriber: string;
  holder: string;
  epoch: string;
  expires_at: Date;
  acquired_at: Date;
  renewed_at: Date;
}

/**
 * Subscriber leases in the store's `subscriber_leases` table (migration 2), for hub replicas sharing
 * one PostgreSQL database. Expiry is decided by the database's clock (`now()`), never a process's, so
 * replicas with skewed clocks still agree on who holds a lease. Each statement is one round trip in
 * its own transaction:
 *
 * - `acquire` inserts the row, or takes it over when it has lapsed, raising the epoch;
 * - `renew` moves `expires_at` only while the lease is unexpired and still the caller's;
 * - `saveCheckpoint` writes the checkpoint only while the lease row (locked `FOR SHARE`) is still the
 *   caller's and unexpired, so a holder that paused past its TTL cannot move a checkpoint its
 *   successor owns: a takeover has to wait for that statement to commit, and then reads its result.
 */
export class PostgresLeaseStore implements LeaseStore {
  constructor(private readonly pool: Pool) {}

  async acquire(subscriber: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    const ttl = checkTtl(ttlMs);
    const { rows } = await this.query<{ epoch: string }>(
      `INSERT INTO subscriber_leases (subscriber, holder, epoch, expires_at, acquired_at, renewed_at)
       VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond', now(), now())
       ON CONFLICT (subscriber) DO UPDATE SET
         holder = excluded.holder,
         epoch = subscriber_leases.epoch + 1,
         expires_at = excluded.expires_at,
         acquired_at = excluded.acquired_at,
         renewed_at = excluded.renewed_at
       WHERE subscriber_leases.expires_at <= now() OR subscriber_leases.holder = excluded.holder
       RETURNING epoch`,
      [subscriber, holder, ttl],
    );
    const row = rows[0];
    return row ? { subscriber, holder, epoch: Number(row.epoch) } : undefined;
  }

  async renew(lease: Lease, ttlMs: number): Promise<boolean> {
    const ttl = checkTtl(ttlMs);
    const { rowCount } = await this.query(
      `UPDATE subscriber_leases SET expires_at = now() + $4 * interval '1 millisecond', renewed_at = now()
       WHERE subscriber = $1 AND holder = $2 AND epoch = $3 AND expires_at > now()`,
      [lease.subscriber, lease.holder, lease.epoch, ttl],
    );
    return rowCount === 1;
  }

  async release(lease: Lease): Promise<void> {
    // Lapsed rather than deleted, so that the epoch keeps growing across holders.
    await this.query(
      `UPDATE subscriber_leases SET expires_at = now(), renewed_at = now()
       WHERE subscriber = $1 AND holder = $2 AND epoch = $3 AND expires_at > now()`,
      [lease.subscriber, lease.holder, lease.epoch],
    );
  }

  async saveCheckpoint(lease: Lease, position: number): Promise<boolean> {
    if (!Number.isSafeInteger(position) || position < 0) {
      throw new DomainError('invalid', `checkpoint position must be a non-negative integer, got ${position}`);
    }
    const { rowCount } = await this.query(
      `INSERT INTO checkpoints (subscriber, position, updated_at)
       SELECT $1, $4, $5
       WHERE EXISTS (
         SELECT 1 FROM subscriber_leases
         WHERE subscriber = $1 AND holder = $2 AND epoch = $3 AND expires_at > now()
         FOR SHARE)
       ON CONFLICT (subscriber) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
      [lease.subscriber, lease.holder, lease.epoch, position, new Date().toISOString()],
    );
    return rowCount === 1;
  }

  async list(): Promise<LeaseInfo[]> {
    const { rows } = await this.query<LeaseRow>(
      `SELECT subscriber, holder, epoch, expires_at, acquired_at, renewed_at
       FROM subscriber_leases ORDER BY subscriber`,
    );
    return rows.map((r) => ({
      subscriber: r.subscriber,
      holder: r.holder,
      epoch: Number(r.epoch),
      expiresAt: r.expires_at.toISOString(),
      acquiredAt: r.acquired_at.toISOString(),
      renewedAt: r.renewed_at.toISOString(),
    }));
  }

  private async query<R extends QueryResultRow>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (err) {
      throw postgresUnavailable(err, 'the subscriber leases are unavailable');
    }
  }
}

function checkTtl(ttlMs: number): number {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 100)
    throw new RangeError(`a lease TTL is a whole number of milliseconds ≥ 100, got ${ttlMs}`);
  return ttlMs;
}
