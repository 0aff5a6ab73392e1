import pg from 'pg';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { StoreUnavailableError } from '#lgsp/event-store';
import {
  applyPostgresMigrations,
  postgresUnavailable,
  type PostgresMigration,
} from '#lgsp/event-store/postgres';
import { PENDING_WORK_COMPONENT, type PendingItem, type PendingWorkStore } from './pending-work-store.js';

const MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    description: 'connector follow-up work (pending payments, undecided registrations)',
    sql: `
      CREATE TABLE connector_pending (
        target TEXT NOT NULL,
        key TEXT NOT NULL,
        dossier TEXT NOT NULL,
        payload JSONB NOT NULL,
        due_at BIGINT NOT NULL,
        attempts INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (target, key)
      );
      CREATE INDEX connector_pending_due ON connector_pending (target, due_at);
    `,
  },
];

interface Row {
  target: string;
  key: string;
  dossier: string;
  payload: unknown;
  due_at: string;
  attempts: number;
  created_at: string;
}

const toItem = (r: Row): PendingItem => ({
  target: r.target,
  key: r.key,
  dossier: r.dossier,
  payload: r.payload,
  dueAt: Number(r.due_at),
  attempts: Number(r.attempts),
  createdAt: r.created_at,
});

/**
 * Pending follow-up work in PostgreSQL, shared by every replica: each call is one statement, so two
 * replicas scheduling the same key keep one item. Two replicas may poll the same due item; the
 * events a poll appends are deduplicated by (source, id), so that costs a call, not a duplicate.
 */
export class PostgresPendingWorkStore implements PendingWorkStore {
  private readonly table: string;

  private constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.table = `${pg.escapeIdentifier(schema)}.connector_pending`;
  }

  /**
   * Creates or migrates the table in `schema`. The pool stays the caller's to end.
   * @throws StoreUnavailableError when PostgreSQL cannot be reached or holds a newer schema.
   */
  static async open(pool: Pool, schema: string): Promise<PostgresPendingWorkStore> {
    let client: PoolClient | undefined;
    const ignore = () => undefined;
    try {
      client = await pool.connect();
      client.on('error', ignore);
      await applyPostgresMigrations(client, schema, MIGRATIONS, PENDING_WORK_COMPONENT);
    } catch (err) {
      client?.release(true);
      throw new StoreUnavailableError(
        `cannot open the pending-work store on PostgreSQL (schema ${schema}): ${err instanceof Error ? err.message : String(err)}`,
        err,
      );
    }
    client.off('error', ignore);
    client.release();
    return new PostgresPendingWorkStore(pool, schema);
  }

  async schedule(item: Omit<PendingItem, 'attempts'> & { attempts?: number }): Promise<boolean> {
    const rows = await this.query(
      'schedule',
      `INSERT INTO ${this.table} (target, key, dossier, payload, due_at, attempts, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (target, key) DO NOTHING RETURNING key`,
      [
        item.target,
        item.key,
        item.dossier,
        JSON.stringify(item.payload ?? null),
        Math.trunc(item.dueAt),
        item.attempts ?? 0,
        item.createdAt,
      ],
    );
    return rows.length === 1;
  }

  async due(target: string, now: number, limit: number): Promise<PendingItem[]> {
    const rows = await this.query<Row>(
      'read',
      `SELECT * FROM ${this.table} WHERE target = $1 AND due_at <= $2 ORDER BY due_at, key LIMIT $3`,
      [target, Math.trunc(now), limit],
    );
    return rows.map(toItem);
  }

  async reschedule(
    target: string,
    key: string,
    dueAt: number,
    attempts: number,
    payload?: unknown,
  ): Promise<void> {
    await this.query(
      'reschedule',
      `UPDATE ${this.table} SET due_at = $3, attempts = $4, payload = COALESCE($5::jsonb, payload)
       WHERE target = $1 AND key = $2`,
      [target, key, Math.trunc(dueAt), attempts, payload === undefined ? null : JSON.stringify(payload)],
    );
  }

  async complete(target: string, key: string): Promise<void> {
    await this.query('complete', `DELETE FROM ${this.table} WHERE target = $1 AND key = $2`, [target, key]);
  }

  async get(target: string, key: string): Promise<PendingItem | undefined> {
    const rows = await this.query<Row>('read', `SELECT * FROM ${this.table} WHERE target = $1 AND key = $2`, [
      target,
      key,
    ]);
    return rows[0] === undefined ? undefined : toItem(rows[0]);
  }

  async count(target: string): Promise<number> {
    const rows = await this.query<{ n: string }>(
      'read',
      `SELECT count(*) AS n FROM ${this.table} WHERE target = $1`,
      [target],
    );
    return Number(rows[0]?.n ?? 0);
  }

  private async query<R extends QueryResultRow>(what: string, sql: string, params: unknown[]): Promise<R[]> {
    try {
      return (await this.pool.query<R>(sql, params)).rows;
    } catch (err) {
      throw postgresUnavailable(err, `the pending-work store cannot ${what}`);
    }
  }
}
