import type { Clock } from '#lgsp/observability';
import type {
  ExpectedDossier,
  Mismatch,
  MismatchCategory,
  ReconciliationScope,
  ReconciliationTarget,
} from './model.js';

/**
 * How a field is normalised before two systems' values of it are compared, so that only a real
 * difference is a mismatch:
 * - `text`: Unicode NFC (NFD from macOS or a web form is the same name);
 * - `code`: a number or a numeric string is the number (legacy systems send `"4"` for 4);
 * - `status`: a code, or a name of `names` (the one-stop-shop's `DANG_XU_LY`) as its code;
 * - `time`: the instant (epoch ms), as the system's room parses its time texts (another formatting
 *   of the same instant is equal; `#lgsp/connectors` has the Vietnam formats);
 * - `records`: a list of objects compared as a set (duplicates and order do not count), each
 *   object's fields by `fields` (unknown fields as `value`);
 * - `value`: any JSON, its strings NFC.
 * Absent, `null`, `""` and `[]` are all "no value".
 */
export type FieldRule =
  | { kind: 'text' }
  | { kind: 'code' }
  | { kind: 'status'; names?: Readonly<Record<number, string>> }
  | { kind: 'time'; instant: (text: string) => number | undefined }
  | { kind: 'records'; fields: FieldRules }
  | { kind: 'value' };

export type FieldRules = Readonly<Record<string, FieldRule>>;

export const TEXT: FieldRule = { kind: 'text' };
export const CODE: FieldRule = { kind: 'code' };
export const VALUE: FieldRule = { kind: 'value' };
export const time = (instant: (text: string) => number | undefined): FieldRule => ({
  kind: 'time',
  instant,
});

/** `value` in its comparable form under `rule`; `null` for no value. Pure. */
export function canonical(value: unknown, rule: FieldRule): unknown {
  if (value === undefined || value === null || value === '') return null;
  if (Array.isArray(value) && value.length === 0) return null;
  switch (rule.kind) {
    case 'text':
      return typeof value === 'string' ? value.normalize('NFC') : deepNfc(value);
    case 'code':
      return asCode(value);
    case 'status':
      return statusCode(value, rule.names);
    case 'time': {
      if (typeof value !== 'string') return deepNfc(value);
      const ms = rule.instant(value.trim());
      // An unparseable time stays text: it differs from any real instant, and the report shows it.
      return ms === undefined ? `unparseable:${value.normalize('NFC')}` : ms;
    }
    case 'records': {
      if (!Array.isArray(value)) return deepNfc(value);
      const keys = new Set(
        value.map((item) => stableJson(isObject(item) ? canonicalRecord(item, rule.fields) : deepNfc(item))),
      );
      return [...keys].sort();
    }
    case 'value':
      return deepNfc(value);
  }
}

/** An object with each field canonical under `rules` (unlisted fields as `value`), no-value fields dropped. */
export function canonicalRecord(
  record: Readonly<Record<string, unknown>>,
  rules: FieldRules,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    const c = canonical(value, rules[key] ?? VALUE);
    if (c !== null) out[key] = c;
  }
  return out;
}

/** The status code of a code or a status name, or the NFC text when it is neither. */
export function statusCode(value: unknown, names?: Readonly<Record<number, string>>): unknown {
  const code = asCode(value);
  if (typeof code === 'number') return code;
  if (typeof code === 'string' && names !== undefined) {
    for (const [n, name] of Object.entries(names)) if (name === code) return Number(n);
  }
  return code;
}

/** A number for a number or a numeric string, else the NFC text (or JSON). */
function asCode(value: unknown): unknown {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const t = value.trim();
    return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : value.normalize('NFC');
  }
  return deepNfc(value);
}

function deepNfc(value: unknown): unknown {
  if (typeof value === 'string') return value.normalize('NFC');
  if (Array.isArray(value)) return value.map(deepNfc);
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = deepNfc(v);
    return out;
  }
  return value;
}

/** JSON with object keys sorted, so equal values have one text. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Whether two lists hold, in the same order, records with the same scalar fields (an `undefined`
 * field counts as absent): then they are equal under any rule, without canonicalising them. Any
 * other pair (a nested value, another order, another length) answers false and is compared in full.
 */
function sameRecordList(a: unknown, b: unknown): boolean {
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x: unknown = a[i];
    const y: unknown = b[i];
    if (x === y && !isObjectOrArray(x)) continue;
    if (!isObject(x) || !isObject(y)) return false;
    let fields = 0;
    for (const key in x) {
      const value = x[key];
      if (value === undefined) continue;
      if (isObjectOrArray(value) || value !== y[key]) return false;
      fields++;
    }
    for (const key in y) if (y[key] !== undefined) fields--;
    if (fields !== 0) return false;
  }
  return true;
}

function isObjectOrArray(v: unknown): boolean {
  return typeof v === 'object' && v !== null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One field on which a system's record differs from the expected one. */
export interface FieldDifference {
  field: string;
  /** As the expected record holds it (null: absent). */
  expected: unknown;
  /** As the system holds it (null: absent). */
  actual: unknown;
}

/**
 * The fields on which `actual` differs from `expected` after normalisation, one per field, in the
 * order of `rules` then of the records' own keys. Fields in `ignore` (the system's own bookkeeping,
 * e.g. when it stored the record) are not compared. Pure.
 */
export function differences(
  expected: Readonly<Record<string, unknown>>,
  actual: Readonly<Record<string, unknown>>,
  rules: FieldRules,
  ignore: readonly string[] = [],
): FieldDifference[] {
  const fields = new Set([...Object.keys(rules), ...Object.keys(expected), ...Object.keys(actual)]);
  const out: FieldDifference[] = [];
  for (const field of fields) {
    if (ignore.includes(field)) continue;
    // The same scalar on both sides is equal under any rule (canonical is a function of the value):
    // the common case of a scan that finds nothing, and it spares parsing times and NFC.
    if (expected[field] === actual[field] && !isObjectOrArray(expected[field])) continue;
    if (sameRecordList(expected[field], actual[field])) continue;
    const rule = rules[field] ?? VALUE;
    const e = canonical(expected[field], rule);
    const a = canonical(actual[field], rule);
    if (e === a) continue;
    // Two canonical scalars (text, number, null) that are not identical differ; only lists and
    // objects need their stable JSON to be compared.
    if (isObjectOrArray(e) || isObjectOrArray(a) ? stableJson(e) !== stableJson(a) : true) {
      out.push({ field, expected: expected[field] ?? null, actual: actual[field] ?? null });
    }
  }
  return out;
}

/**
 * The statuses a dossier had before its current one, by the log: 1 (a dossier is synchronised as
 * "new submission" before any status change) and every status it changed to, except the current.
 */
export function earlierStatuses(dossier: ExpectedDossier): Set<number> {
  const statuses = new Set<number>([1]);
  for (const e of dossier.events) {
    if (e.type !== 'vn.gov.lgsp.dossier.status-changed.v1') continue;
    const s = (e.data as { status?: unknown }).status;
    if (typeof s === 'number') statuses.add(s);
  }
  statuses.delete(dossier.view.status ?? 1);
  return statuses;
}

/**
 * The category of a difference of the status field: `stale-status` when the system holds a status the
 * dossier had earlier in the log, else `wrong-field`.
 */
export function statusCategory(
  dossier: ExpectedDossier,
  actual: unknown,
  names?: Readonly<Record<number, string>>,
): MismatchCategory {
  const code = statusCode(actual, names);
  return typeof code === 'number' && earlierStatuses(dossier).has(code) ? 'stale-status' : 'wrong-field';
}

/**
 * Whether a system's record that the log does not imply is judged as an extra under `scope`: never
 * with a time window (a record outside it may be a dossier of the log outside it), only the listed
 * codes with a dossier list, and by the record's unit code (`unit`) with a province or commune.
 * A commune code is taken to be in the scope's province when a dossier of the log in scope has it.
 */
export function judgesExtra(
  scope: ReconciliationScope,
  code: string,
  unit: string | undefined,
  communesInScope: ReadonlySet<string>,
): boolean {
  if (scope.from !== undefined || scope.to !== undefined) return false;
  if (scope.dossiers !== undefined && !scope.dossiers.includes(code)) return false;
  if (scope.communeCode !== undefined && unit !== scope.communeCode) return false;
  if (scope.provinceCode !== undefined && scope.communeCode === undefined) {
    if (unit === undefined) return false;
    if (unit !== scope.provinceCode && !communesInScope.has(unit)) return false;
  }
  return true;
}

/** The communes of the expected dossiers (for {@link judgesExtra}). */
export function communesOf(expected: ReadonlyMap<string, ExpectedDossier>): Set<string> {
  const out = new Set<string>();
  for (const d of expected.values()) out.add(d.view.communeCode);
  return out;
}

/** Collects mismatches and hands them out in batches of at most `size`. */
export class MismatchBatcher {
  private pending: Mismatch[] = [];

  constructor(
    private readonly system: ReconciliationTarget,
    /** Stamps `detectedAt` (ISO 8601, UTC). */
    private readonly clock: Pick<Clock, 'now'>,
    readonly size = 500,
  ) {}

  add(dossier: string, field: string, expected: unknown, actual: unknown, category: MismatchCategory): void {
    this.pending.push({
      dossier,
      system: this.system,
      field,
      expected,
      actual,
      category,
      detectedAt: new Date(this.clock.now()).toISOString(),
    });
  }

  /** Full batches (all of them when `all`), removed from the pending ones. */
  *take(all = false): Generator<Mismatch[]> {
    while (this.pending.length >= this.size || (all && this.pending.length > 0)) {
      yield this.pending.splice(0, this.size);
    }
  }
}

/** Runs `work` over `items` with at most `limit` at a time, in order of start. */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
