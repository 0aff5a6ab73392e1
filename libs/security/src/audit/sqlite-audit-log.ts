import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { applyMigrations, type Migration } from '#lgsp/event-store/sqlite';
import type { AuditEntry, AuditLog, NewAuditEntry } from '../audit.js';
import { AUDIT_COMPONENT, checkNewEntry, checkQuery, type AuditQuery } from './audit-rules.js';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'the operators audit log',
    sql: `
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        scope TEXT NOT NULL,
        outcome TEXT NOT NULL
      ) STRICT;
      CREATE INDEX audit_log_subject ON audit_log (subject, id);
    `,
  },
];

interface Row {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  scope: string;
  outcome: string;
}

const toEntry = (r: Row): AuditEntry => ({
  id: Number(r.id),
  at: r.at,
  actor: r.actor,
  action: r.action,
  subject: r.subject,
  scope: JSON.parse(r.scope) as AuditEntry['scope'],
  outcome: JSON.parse(r.outcome) as AuditEntry['outcome'],
});

/**
 * The audit log in the embedded events database. AUTOINCREMENT never reuses an id, and SQLite
 * serialises writers, so ids grow in the order entries are committed and `after` never skips one.
 */
export class SqliteAuditLog implements AuditLog {
  constructor(private readonly db: DatabaseSync) {
    applyMigrations(db, AUDIT_COMPONENT, MIGRATIONS);
  }

  async record(entry: NewAuditEntry): Promise<AuditEntry> {
    const { scope, outcome } = checkNewEntry(entry);
    const row = this.db
      .prepare(
        `INSERT INTO audit_log (at, actor, action, subject, scope, outcome) VALUES (?, ?, ?, ?, ?, ?)
         RETURNING *`,
      )
      .get(entry.at, entry.actor, entry.action, entry.subject, scope, outcome) as unknown as Row;
    return toEntry(row);
  }

  async list(query: AuditQuery): Promise<AuditEntry[]> {
    const { limit, after } = checkQuery(query);
    const where = ['id > ?'];
    const params: SQLInputValue[] = [after];
    if (query.action !== undefined) {
      // A prefix compared as text: no LIKE, so `_` and `%` in an action mean themselves.
      where.push('substr(action, 1, length(?)) = ?');
      params.push(query.action, query.action);
    }
    if (query.subject !== undefined) {
      where.push('subject = ?');
      params.push(query.subject);
    }
    const rows = this.db
      .prepare(`SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`)
      .all(...params, limit) as unknown as Row[];
    return rows.map(toEntry);
  }
}
