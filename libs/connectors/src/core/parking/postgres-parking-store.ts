import pg from 'pg';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { StoreUnavailableError } from '#lgsp/event-store';
import {
  applyPostgresMigrations,
  inPostgresTransaction,
  postgresUnavailable,
  type PostgresMigration,
} from '#lgsp/event-store/postgres';
import {
  NotParkedError,
  PARKING_COMPONENT,
  parkedEntry,
  resolutionEntry,
  type ListParkedQuery,
  type ParkRequest,
  type ParkedItem,
  type ParkingHistoryEntry,
  type ParkingResolution,
  type ParkingStore,
  type SkipResolution,
} from './parking-store.js';
import { toHistoryEntry, toParkedItem, type HistoryRow, type ParkedRow } from './rows.js';

const MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    description: 'connector parking and its history',
    // The columns of the SQLite tables; positions are BIGINT like the events' position.
    sql: `
      CREATE TABLE connector_parking (
        id BIGSERIAL PRIMARY KEY,
        target TEXT NOT NULL,
        dossier TEXT NOT NULL,
        reason TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('retriable', 'data')),
        attempts INTEGER NOT NULL,
        first_position BIGINT NOT NULL,
        last_position BIGINT NOT NULL,
        last_error TEXT NOT NULL,
        parked_at TEXT NOT NULL,
        CONSTRAINT connector_parking_pair UNIQUE (target, dossier)
      );
      CREATE TABLE connector_parking_history (
        seq BIGSERIAL PRIMARY KEY,
        target TEXT NOT NULL,
        dossier TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('parked', 'retried', 'skipped')),
        at TEXT NOT NULL,
        by TEXT NOT NULL,
        note TEXT,
        kind TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT NOT NULL,
        from_position BIGINT NOT NULL,
        through_position BIGINT NOT NULL
      );
      CREATE INDEX connector_parking_history_pair ON connector_parking_history (target, dossier, seq);
    `,
  },
];

const historyValues = (e: ParkingHistoryEntry): unknown[] => [
  e.target,
  e.dossier,
  e.action,
  e.at,
  e.by,
  e.note ?? null,
  e.kind,
  e.attempts,
  e.lastError,
  e.fromPosition,
  e.throughPosition,
];

/**
 * Parked (target, dossier) pairs in PostgreSQL, shared by every connector worker on the database.
 * The pair's unique constraint decides between two workers parking it at once; a resolution locks
 * the row, so a retry and a skip of the same parking cannot both succeed.
 */
export class PostgresParkingStore implements ParkingStore {
  private readonly parking: string;
  private readonly historyTable: string;

  private constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.parking = `${pg.escapeIdentifier(schema)}.connector_parking`;
    this.historyTable = `${pg.escapeIdentifier(schema)}.connector_parking_history`;
  }

  /**
   * Creates or migrates the parking tables in `schema`. The pool stays the caller's to end.
   * @throws StoreUnavailableError when PostgreSQL cannot be reached or holds a newer schema.
   */
  static async open(pool: Pool, schema: string): Promise<PostgresParkingStore> {
    let client: PoolClient | undefined;
    // pg emits 'error' on a checked-out client whose server went away; the running statement reports it.
    const ignore = () => undefined;
    try {
      client = await pool.connect();
      client.on('error', ignore);
      await applyPostgresMigrations(client, schema, MIGRATIONS, PARKING_COMPONENT);
    } catch (err) {
      client?.release(true);
      throw new StoreUnavailableError(
        `cannot open the parking store on PostgreSQL (schema ${schema}): ${errorMessage(err)}`,
        err,
      );
    }
    client.off('error', ignore);
    client.release();
    return new PostgresParkingStore(pool, schema);
  }

  async park(target: string, dossier: string, request: ParkRequest): Promise<ParkedItem> {
    return this.transaction('park', async (client) => {
      const inserted = await client.query<ParkedRow>(
        `INSERT INTO ${this.parking}
           (target, dossier, reason, kind, attempts, first_position, last_position, last_error, parked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)
         ON CONFLICT ON CONSTRAINT connector_parking_pair DO NOTHING
         RETURNING *`,
        [
          target,
          dossier,
          request.reason,
          request.kind,
          request.attempts,
          request.firstPosition,
          request.lastError,
          request.parkedAt,
        ],
      );
      const row = inserted.rows[0];
      if (row === undefined) {
        const existing = await client.query<ParkedRow>(
          `SELECT * FROM ${this.parking} WHERE target = $1 AND dossier = $2`,
          [target, dossier],
        );
        // ON CONFLICT DO NOTHING waited for the other insert to commit, so its row is visible.
        return toParkedItem(existing.rows[0]!);
      }
      const parked = toParkedItem(row);
      await client.query(this.insertHistory(), historyValues(parkedEntry(parked)));
      return parked;
    });
  }

  async isParked(target: string, dossier: string): Promise<boolean> {
    return (await this.get(target, dossier)) !== undefined;
  }

  async hold(target: string, dossier: string, position: number): Promise<boolean> {
    const rows = await this.query(
      `UPDATE ${this.parking} SET last_position = GREATEST(last_position, $3)
       WHERE target = $1 AND dossier = $2 RETURNING id`,
      [target, dossier, position],
    );
    return rows.length > 0;
  }

  async get(target: string, dossier: string): Promise<ParkedItem | undefined> {
    const rows = await this.query<ParkedRow>(
      `SELECT * FROM ${this.parking} WHERE target = $1 AND dossier = $2`,
      [target, dossier],
    );
    return rows[0] && toParkedItem(rows[0]);
  }

  async list(query: ListParkedQuery): Promise<ParkedItem[]> {
    const rows = await this.query<ParkedRow>(
      `SELECT * FROM ${this.parking} WHERE ($1::text IS NULL OR target = $1) AND id > $2 ORDER BY id LIMIT $3`,
      [query.target ?? null, query.after ?? 0, query.limit],
    );
    return rows.map(toParkedItem);
  }

  async retry(target: string, dossier: string, resolution: ParkingResolution): Promise<ParkingHistoryEntry> {
    return this.resolve(target, dossier, 'retried', resolution);
  }

  async skip(target: string, dossier: string, resolution: SkipResolution): Promise<ParkingHistoryEntry> {
    return this.resolve(target, dossier, 'skipped', resolution);
  }

  async history(target: string, dossier: string): Promise<ParkingHistoryEntry[]> {
    const rows = await this.query<HistoryRow>(
      `SELECT * FROM ${this.historyTable} WHERE target = $1 AND dossier = $2 ORDER BY seq`,
      [target, dossier],
    );
    return rows.map(toHistoryEntry);
  }

  private resolve(
    target: string,
    dossier: string,
    action: 'retried' | 'skipped',
    resolution: SkipResolution,
  ): Promise<ParkingHistoryEntry> {
    return this.transaction(action === 'retried' ? 'retry' : 'skip', async (client) => {
      const locked = await client.query<ParkedRow>(
        `SELECT * FROM ${this.parking} WHERE target = $1 AND dossier = $2 FOR UPDATE`,
        [target, dossier],
      );
      const row = locked.rows[0];
      if (row === undefined) throw new NotParkedError(target, dossier);
      const entry = resolutionEntry(toParkedItem(row), action, resolution);
      await client.query(`DELETE FROM ${this.parking} WHERE id = $1`, [row.id]);
      await client.query(this.insertHistory(), historyValues(entry));
      return entry;
    });
  }

  private insertHistory(): string {
    return `INSERT INTO ${this.historyTable}
      (target, dossier, action, at, by, note, kind, attempts, last_error, from_position, through_position)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`;
  }

  private transaction<T>(what: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return inPostgresTransaction(this.pool, `the parking store cannot ${what}`, fn);
  }

  private async query<R extends QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]> {
    try {
      return (await this.pool.query<R>(sql, params)).rows;
    } catch (err) {
      throw postgresUnavailable(err, 'the parking store cannot read');
    }
  }
}

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));
