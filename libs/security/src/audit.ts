/**
 * The audit log: who did what to which scope, when, with what outcome. Operators' actions that reach
 * external systems or the hub's delivery (reconciliation runs, replay plans, runs, pauses, resumes,
 * cancels) each leave one entry. Entries are append-only.
 */
export interface AuditEntry {
  /** Increasing; the cursor of {@link AuditLog.list}. */
  id: number;
  /** RFC 3339. */
  at: string;
  /** The client (name) who acted, or `system` for the hub itself (e.g. a replay completing). */
  actor: string;
  /** e.g. `reconciliation.run`, `replay.plan`, `replay.run`, `replay.pause`, `replay.resume`, `replay.cancel`, `replay.complete`. */
  action: string;
  /** What the action is about: `reconciliation:<id>`, `replay:<id>`, or the target of a plan. */
  subject: string;
  /** The scope as given (target, dossiers, window, types…). */
  scope: Record<string, unknown>;
  /** What came of it: counts, state, error. */
  outcome: Record<string, unknown>;
  /**
   * SHA-256 (hex) chaining this entry to the one before it (see `auditHash`); absent on entries
   * written before the log was chained.
   */
  hash?: string;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'hash'>;

export interface AuditLog {
  record(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Oldest first after `after`; filtered by action prefix (`replay.`) and subject when given. */
  list(query: { limit: number; after?: number; action?: string; subject?: string }): Promise<AuditEntry[]>;
  /** Recomputes the log's hash chain (a chained log only); names the first entry that does not match. */
  verify?(): Promise<{ ok: true; entries: number } | { ok: false; entries: number; brokenAt: number }>;
}
