import type {
  ExtraResolution,
  Mismatch,
  MismatchCategory,
  ReconciliationRun,
  ReconciliationState,
  ReconciliationTarget,
} from '../model.js';

/** The schema_version component of the reconciliation tables. */
export const RECONCILIATION_COMPONENT = 'reconciliation';

/** A run row as SQLite returns it (JSON columns as text) or PostgreSQL (JSONB parsed, BIGINT as text). */
export interface RunRow {
  id: string;
  target: string;
  scope: unknown;
  state: string;
  by: string;
  started_at: string;
  finished_at: string | null;
  log_position: number | string | null;
  progress: unknown;
  mismatches: unknown;
  error: string | null;
}

export interface MismatchRow {
  seq: number | string;
  dossier: string;
  system: string;
  field: string;
  expected: unknown;
  actual: unknown;
  category: string;
  detected_at: string;
  resolution?: unknown;
}

const json = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value);

/** `expected`/`actual` as stored: JSON text, an absent value as null. */
export const jsonValue = (value: unknown): string => JSON.stringify(value ?? null);

export function toRun(row: RunRow): ReconciliationRun {
  return {
    id: row.id,
    target: row.target as ReconciliationTarget,
    scope: json(row.scope) as ReconciliationRun['scope'],
    state: row.state as ReconciliationState,
    by: row.by,
    startedAt: row.started_at,
    ...(row.finished_at === null ? {} : { finishedAt: row.finished_at }),
    ...(row.log_position === null ? {} : { logPosition: Number(row.log_position) }),
    progress: json(row.progress) as ReconciliationRun['progress'],
    mismatches: json(row.mismatches) as ReconciliationRun['mismatches'],
    ...(row.error === null ? {} : { error: row.error }),
  };
}

/**
 * A mismatch row; JSON text is parsed only on SQLite. PostgreSQL's JSONB arrives parsed, so a
 * string value there is the value itself.
 */
export function toMismatch(row: MismatchRow, parsed: boolean): Mismatch & { seq: number } {
  const value = (v: unknown) => (parsed ? v : JSON.parse(v as string));
  return {
    seq: Number(row.seq),
    dossier: row.dossier,
    system: row.system as ReconciliationTarget,
    field: row.field,
    expected: value(row.expected),
    actual: value(row.actual),
    category: row.category as MismatchCategory,
    detectedAt: row.detected_at,
    ...(row.resolution === null || row.resolution === undefined
      ? {}
      : { resolution: json(row.resolution) as ExtraResolution }),
  };
}
