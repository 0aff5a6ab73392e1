import type { AuditEntry, AuditLog, NewAuditEntry } from '../audit.js';
import { checkNewEntry, checkQuery, matches, type AuditQuery } from './audit-rules.js';

/** An {@link AuditLog} in memory, for tests and single-run tools: nothing survives a restart. */
export class InMemoryAuditLog implements AuditLog {
  private readonly entries: AuditEntry[] = [];

  async record(entry: NewAuditEntry): Promise<AuditEntry> {
    const json = checkNewEntry(entry);
    // Stored as the other adapters store it: a JSON copy, so later changes by the caller do not leak in.
    const stored: AuditEntry = {
      id: this.entries.length + 1,
      at: entry.at,
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject,
      scope: JSON.parse(json.scope) as AuditEntry['scope'],
      outcome: JSON.parse(json.outcome) as AuditEntry['outcome'],
    };
    this.entries.push(stored);
    return structuredClone(stored);
  }

  async list(query: AuditQuery): Promise<AuditEntry[]> {
    const { limit, after } = checkQuery(query);
    return this.entries
      .filter((e) => e.id > after && matches(e, query))
      .slice(0, limit)
      .map((e) => structuredClone(e));
  }
}
