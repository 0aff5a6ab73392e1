import { SqlSchema, readJson, sqlMigration, type SqlColumnTypes, type SqlDatabase } from '#lgsp/storage';
import { createHash } from 'node:crypto';
import { GENESIS_HASH, canonicalJson } from '#lgsp/event-store';
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

const chainColumns = () => `
  ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
  ALTER TABLE audit_log ADD COLUMN hash TEXT;
`;

const SCHEMA = new SqlSchema(AUDIT_COMPONENT, [
  sqlMigration(1, 'the operators audit log', auditTable),
  sqlMigration(2, 'the audit log hash-chained', chainColumns),
]);

interface Row {
  prev_hash: string | null;
  hash: string | null;
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
    const row = await this.db.transaction(async (tx) => {
      // Blocks other writers (not readers) until COMMIT, so ids commit in increasing order and each
      // entry chains to the one before it.
      if (tx.dialect === 'postgres') await tx.run('LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE');
      const [last] = await tx.query<{ hash: string | null }>(
        'SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1',
      );
      const prevHash = last?.hash ?? AUDIT_GENESIS;
      const [inserted] = await tx.query<Row>(
        `INSERT INTO audit_log (at, actor, action, subject, scope, outcome)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
        [entry.at, entry.actor, entry.action, entry.subject, scope, outcome],
      );
      const id = Number(inserted!.id);
      const hash = auditHash(prevHash, { ...entry, id });
      await tx.run('UPDATE audit_log SET prev_hash = $2, hash = $3 WHERE id = $1', [id, prevHash, hash]);
      return { ...inserted!, prev_hash: prevHash, hash };
    });
    return this.toEntry(row);
  }

  /**
   * Recomputes the chain over every entry in id order: each entry's hash covers its content and the
   * hash before it. Entries written before the chain existed (no hash) are passed over; the chain
   * starts at the first hashed one. Names the first entry that does not match.
   */
  async verify(): Promise<AuditChainVerdict> {
    let after = 0;
    let prev: string | undefined;
    let checked = 0;
    for (;;) {
      const rows = await this.db.query<Row>('SELECT * FROM audit_log WHERE id > $1 ORDER BY id LIMIT 1000', [
        after,
      ]);
      for (const r of rows) {
        after = Number(r.id);
        if (r.hash === null && prev === undefined) continue;
        const entry = this.toEntry(r);
        const expectedPrev = prev ?? r.prev_hash ?? AUDIT_GENESIS;
        if (r.prev_hash !== expectedPrev || r.hash !== auditHash(expectedPrev, entry))
          return { ok: false, entries: checked, brokenAt: entry.id };
        prev = r.hash;
        checked += 1;
      }
      if (rows.length < 1000) return { ok: true, entries: checked };
    }
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
      ...(r.hash === null ? {} : { hash: r.hash }),
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

/** The hash the first entry of the chain follows. */
export const AUDIT_GENESIS = GENESIS_HASH;

/** What {@link SqlAuditLog.verify} found. */
export type AuditChainVerdict =
  { ok: true; entries: number } | { ok: false; entries: number; brokenAt: number };

/**
 * SHA-256 (hex) of an entry chained to the one before: the previous hash and the entry's id, time,
 * actor, action, subject, scope and outcome as canonical JSON (keys sorted, so that PostgreSQL's
 * JSONB, which reorders them, hashes alike).
 */
export function auditHash(prevHash: string, e: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256')
    .update(prevHash)
    .update('\n')
    .update(canonicalJson([e.id, e.at, e.actor, e.action, e.subject, e.scope, e.outcome]))
    .digest('hex');
}
