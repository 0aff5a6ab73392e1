import { DomainError } from '#lgsp/contracts';
import type { AuditLog, NewAuditEntry } from '../audit.js';

/** The component name the audit table is versioned under in `schema_version` (SQLite and PostgreSQL). */
export const AUDIT_COMPONENT = 'security.audit';

export type AuditQuery = Parameters<AuditLog['list']>[0];

/**
 * Checks what every adapter stores. Entries outlive the data they describe and are read by every
 * operator, so callers pass codes, ids and counts only (dossier codes, targets, states, numbers),
 * never a citizen's name or ID number: the log cannot tell a name from a code, so this is the
 * callers' rule, stated here once.
 * @throws DomainError `malformed` for an empty actor, action or subject, or a scope/outcome that is
 * not a JSON object.
 */
export function checkNewEntry(entry: NewAuditEntry): { scope: string; outcome: string } {
  for (const field of ['actor', 'action', 'subject', 'at'] as const) {
    if (typeof entry[field] !== 'string' || entry[field] === '')
      throw new DomainError('malformed', `an audit entry needs a non-empty ${field}`, [
        { pointer: `/${field}`, message: 'must be a non-empty string' },
      ]);
  }
  return { scope: jsonObject(entry.scope, 'scope'), outcome: jsonObject(entry.outcome, 'outcome') };
}

/** The limit and cursor of a list, as integers the stores can use. */
export function checkQuery(query: AuditQuery): { limit: number; after: number } {
  const { limit, after = 0 } = query;
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new DomainError('malformed', 'the audit list limit must be a positive integer', [
      { pointer: '/limit', message: 'must be a positive integer' },
    ]);
  if (!Number.isSafeInteger(after) || after < 0)
    throw new DomainError('malformed', 'the audit list cursor must be a non-negative integer', [
      { pointer: '/after', message: 'must be a non-negative integer' },
    ]);
  return { limit, after };
}

function jsonObject(value: unknown, field: string): string {
  const text =
    value !== null && typeof value === 'object' && !Array.isArray(value) ? JSON.stringify(value) : '';
  if (!text)
    throw new DomainError('malformed', `an audit entry's ${field} must be a JSON object`, [
      { pointer: `/${field}`, message: 'must be a JSON object' },
    ]);
  return text;
}
