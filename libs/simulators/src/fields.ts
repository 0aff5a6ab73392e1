import { SimInputError } from './faults.js';
import { parseVn, type DateFormat } from '#lgsp/connectors';
import { isRecord } from './http.js';

/** Field readers that fail with a {@link SimInputError} naming the path of the bad value. */
export function record(v: unknown, path: string): Record<string, unknown> {
  if (!isRecord(v)) throw new SimInputError(`${path}: expected a JSON object`);
  return v;
}

export function text(
  o: Record<string, unknown>,
  key: string,
  path: string,
  opts: { required?: boolean; max?: number; pattern?: RegExp; hint?: string } = {},
): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') {
    if (opts.required) throw new SimInputError(`${path}.${key}: required`);
    return undefined;
  }
  if (typeof v !== 'string') throw new SimInputError(`${path}.${key}: expected a string`);
  if (opts.max !== undefined && v.length > opts.max) {
    throw new SimInputError(`${path}.${key}: at most ${opts.max} characters, got ${v.length}`);
  }
  if (opts.pattern && !opts.pattern.test(v)) {
    throw new SimInputError(
      `${path}.${key}: ${JSON.stringify(v)} is not ${opts.hint ?? `like ${opts.pattern}`}`,
    );
  }
  return v;
}

export function requiredText(
  o: Record<string, unknown>,
  key: string,
  path: string,
  opts: { max?: number; pattern?: RegExp; hint?: string } = {},
): string {
  return text(o, key, path, { ...opts, required: true }) as string;
}

/** An integer code among `allowed`; numeric strings ("4") are accepted as legacy systems send them. */
export function code(
  o: Record<string, unknown>,
  key: string,
  path: string,
  allowed: readonly number[],
  required = true,
): number | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') {
    if (required) throw new SimInputError(`${path}.${key}: required`);
    return undefined;
  }
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !allowed.includes(n)) {
    throw new SimInputError(
      `${path}.${key}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`,
    );
  }
  return n;
}

export function date(
  o: Record<string, unknown>,
  key: string,
  path: string,
  format: DateFormat,
  required: boolean,
): string | undefined {
  const v = text(o, key, path, { required });
  if (v === undefined) return undefined;
  if (parseVn(v, format) === undefined) {
    throw new SimInputError(
      `${path}.${key}: ${JSON.stringify(v)} is not a valid ${FORMAT_HINT[format]} time`,
    );
  }
  return v;
}

const FORMAT_HINT: Record<DateFormat, string> = {
  portal: 'yyyyMMddHHmmss',
  legacy: 'dd/MM/yyyy HH:mm:ss',
  dateOnly: 'dd/MM/yyyy',
  dotted: 'dd.MM.yyyy',
  iso: 'yyyy-MM-ddTHH:mm:ss+07:00',
  twelveHour: 'dd/MM/yyyy hh:mm:ss AM|PM',
};

export function bool(o: Record<string, unknown>, key: string, path: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (v === true || v === 'true' || v === 1 || v === '1') return true;
  if (v === false || v === 'false' || v === 0 || v === '0') return false;
  throw new SimInputError(`${path}.${key}: expected true or false`);
}

export function array(o: Record<string, unknown>, key: string, path: string, required = false): unknown[] {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) throw new SimInputError(`${path}.${key}: required`);
    return [];
  }
  if (!Array.isArray(v)) throw new SimInputError(`${path}.${key}: expected an array`);
  return v;
}

export function integer(v: string | null, path: string, min: number, max: number, fallback: number): number {
  if (v === null || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new SimInputError(`${path}: expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return n;
}

/** Agency electronic ID (Decision 20/2020/QĐ-TTg): dot-separated 0–9/A–Z groups, ≤35 characters. */
export const AGENCY_ID = /^(?=.{1,35}$)[0-9A-Z]+(\.[0-9A-Z]+)*$/;
/** `{agency ID}-{yyMMdd}-{daily counter}`, e.g. `000.00.15.H12-250701-0001`. */
export const DOSSIER_CODE = /^(?=[0-9A-Z.]{1,35}-)[0-9A-Z]+(\.[0-9A-Z]+)*-\d{6}-\d{4,6}$/;
/** National procedure code, e.g. `1.001193`, optionally with a province's agency ID appended. */
export const PROCEDURE_CODE = /^\d{1,2}\.\d{6}(\.[0-9A-Z]+)*$/;

/** `o` without its undefined properties, so that stored records and answers carry no empty keys. */
export function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** A finite number ≥ 0. */
export function nonNegative(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new SimInputError(`${path}: expected a non-negative number`);
  }
  return v;
}

/**
 * Outcome weights `{name: weight}` for each of `keys` (an absent one weighs 0), at least one above 0:
 * the simulators draw their outcomes with them.
 */
export function weights<K extends string>(v: unknown, path: string, keys: readonly K[]): Record<K, number> {
  const w = record(v, path);
  const out = {} as Record<K, number>;
  for (const k of keys) out[k] = w[k] === undefined ? 0 : nonNegative(w[k], `${path}.${k}`);
  if (keys.reduce((sum, k) => sum + out[k], 0) <= 0) {
    throw new SimInputError(`${path}: at least one weight above 0`);
  }
  return out;
}
