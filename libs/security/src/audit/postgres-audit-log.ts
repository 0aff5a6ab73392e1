import pg from 'pg';
import type { Pool, PoolClient } from 'pg';
import { StoreUnavailableError } from '#lgsp/event-store';
import {
  applyPostgresMigrations,
  postgresUnavailable,
  type PostgresMigration,
} from '#lgsp/event-store/postgres';
import type { AuditEntry, AuditLog, NewAuditEntry } from '../audit.js';
import { AUDIT_COMPONENT, checkNewEntry, checkQuery, type AuditQuery } from './audit-rules.js';

const MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    description: 'the operators audit log',
    // The columns of the SQLite table; scope and outcome are JSONB.
    sql: `
      CREATE TABLE audit_log (
        id BIGSERIAL PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        scope JSONB NOT NULL,
        outcome JSONB NOT NULL
      );
      CREATE INDEX audit_log_subject ON audit_log (subject, id);
    `,
  },
];

interface Row {
  id: string;
  at: string;
  actor: string;
  action: string;
  subject: string;
  scope: AuditEntry['scope'];
  outcome: AuditEntry['outcome'];
}

const toEntry = (r: Row): AuditEntry => ({
  id: Number(r.id),
  at: r.at,
  actor: r.actor,
  action: r.action,
  subject: r.subject,
  scope: r.scope,
  outcome: r.outcome,
});

/**
 * The audit log in the hub's PostgreSQL schema, shared by every replica. Each insert holds the
 * table's lock until it commits: sequence values are otherwise handed out before commit, so a reader
 * paging with `after` could pass an id whose row commits later. Audited actions are rare; the lock
 * costs nothing that matters.
 */
export class PostgresAuditLog implements AuditLog {
  private readonly table: string;

  private constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.table = `${pg.escapeIdentifier(schema)}.audit_log`;
  }

  /**
   * Creates or migrates the audit table in `schema`. The pool stays the caller's to end.
   * @throws StoreUnavailableError when PostgreSQL cannot be reached or holds a newer schema.
   */
  static async open(pool: Pool, schema: string): Promise<PostgresAuditLog> {
    let client: PoolClient | undefined;
    // pg emits 'error' on a checked-out client whose server went away; the running statement reports it.
    const ignore = () => undefined;
    try {
      client = await pool.connect();
      client.on('error', ignore);
      await applyPostgresMigrations(client, schema, MIGRATIONS, AUDIT_COMPONENT);
    } catch (err) {
      client?.release(true);
      throw new StoreUnavailableError(
        `cannot open the audit log on PostgreSQL (schema ${schema}): ${errorMessage(err)}`,
        err,
      );
    }
    client.off('error', ignore);
    client.release();
    return new PostgresAuditLog(pool, schema);
  }

  async record(entry: NewAuditEntry): Promise<AuditEntry> {
    const { scope, outcome } = checkNewEntry(entry);
    let client: PoolClient | undefined;
    const ignore = () => undefined;
    try {
      client = await this.pool.connect();
      client.on('error', ignore);
      await client.query('BEGIN');
      // Blocks other writers (not readers) until COMMIT, so ids commit in increasing order.
      await client.query(`LOCK TABLE ${this.table} IN SHARE ROW EXCLUSIVE MODE`);
      const { rows } = await client.query<Row>(
        `INSERT INTO ${this.table} (at, actor, action, subject, scope, outcome)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
        [entry.at, entry.actor, entry.action, entry.subject, scope, outcome],
      );
      await client.query('COMMIT');
      const stored = toEntry(rows[0]!);
      client.off('error', ignore);
      client.release();
      return stored;
    } catch (err) {
      if (client) {
        await client.query('ROLLBACK').catch(() => undefined);
        client.release(true);
      }
      throw postgresUnavailable(err, 'the audit log cannot write');
    }
  }

  async list(query: AuditQuery): Promise<AuditEntry[]> {
    const { limit, after } = checkQuery(query);
    const where = ['id > $1'];
    const params: unknown[] = [after];
    if (query.action !== undefined) {
      params.push(query.action);
      // A prefix compared as text: no LIKE, so `_` and `%` in an action mean themselves.
      where.push(`left(action, length($${params.length})) = $${params.length}`);
    }
    if (query.subject !== undefined) {
      params.push(query.subject);
      where.push(`subject = $${params.length}`);
    }
    params.push(limit);
    try {
      const { rows } = await this.pool.query<Row>(
        `SELECT * FROM ${this.table} WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${params.length}`,
        params,
      );
      return rows.map(toEntry);
    } catch (err) {
      throw postgresUnavailable(err, 'the audit log cannot read');
    }
  }
}

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));
