import { SqlSchema, readJson, sqlMigration, type SqlColumnTypes, type SqlDatabase } from '#lgsp/storage';
import type { AuditEntry, AuditLog, NewAuditEntry } from '../audit.js';
import { AUDIT_COMPONENT, checkNewEntry, checkQuery, type AuditQuery } from './audit-rules.js';

const auditTable = (types: SqlColumnTypes) => `
  CREATE TABLE audit_log (
    id ${types.serial},
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    scope ${types.json} NOT NULL,
    outcome ${types.json} NOT NULL
  )${types.strict};
  CREATE INDEX audit_log_subject ON audit_log (subject, id);
`;

const SCHEMA = new SqlSchema(AUDIT_COMPONENT, [sqlMigration(1, 'the operators audit log', auditTable)]);

interface Row {
  id: number | string;
  at: string;
  actor: string;
  action: string;
  subject: string;
  scope: unknown;
  outcome: unknown;
}

/**
 * The audit log beside the events (the SQLite file or the PostgreSQL schema shared by every replica).
 * Ids must grow in the order entries commit, so that a reader paging with `after` never skips one:
 * AUTOINCREMENT never reuses an id and SQLite serialises writers; on PostgreSQL, whose sequence values
 * are handed out before commit, each insert holds the table's lock until it commits (audited actions
 * are rare; the lock costs nothing that matters).
 */
export class SqlAuditLog implements AuditLog {
  /** Creates or migrates the audit table (see {@link SqlSchema.opener}). */
  static readonly open = SCHEMA.opener((db) => new SqlAuditLog(db));

  private constructor(private readonly db: SqlDatabase) {}

  async record(entry: NewAuditEntry): Promise<AuditEntry> {
    const { scope, outcome } = checkNewEntry(entry);
    const [row] = await this.db.transaction(async (tx) => {
      // Blocks other writers (not readers) until COMMIT, so ids commit in increasing order.
      if (tx.dialect === 'postgres') await tx.run('LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE');
      return tx.query<Row>(
        `INSERT INTO audit_log (at, actor, action, subject, scope, outcome)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
        [entry.at, entry.actor, entry.action, entry.subject, scope, outcome],
      );
    });
    return this.toEntry(row!);
  }

  async list(query: AuditQuery): Promise<AuditEntry[]> {
    const { limit, after } = checkQuery(query);
    const where = ['id > $1'];
    const params: unknown[] = [after];
    if (query.action !== undefined) {
      params.push(query.action);
      // A prefix compared as text: no LIKE, so `_` and `%` in an action mean themselves.
      where.push(`substr(action, 1, length($${params.length})) = $${params.length}`);
    }
    if (query.subject !== undefined) {
      params.push(query.subject);
      where.push(`subject = $${params.length}`);
    }
    params.push(limit);
    const rows = await this.db.query<Row>(
      `SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => this.toEntry(r));
  }

  private toEntry(r: Row): AuditEntry {
    return {
      id: Number(r.id),
      at: r.at,
      actor: r.actor,
      action: r.action,
      subject: r.subject,
      scope: readJson(this.db.dialect, r.scope),
      outcome: readJson(this.db.dialect, r.outcome),
    };
  }
}
