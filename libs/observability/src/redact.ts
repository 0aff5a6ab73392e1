/**
 * Personal data never reaches the logs in clear: citizen ID numbers (9 or 12 digits) are masked
 * wherever they appear in a string, and fields that hold names, ID numbers or secrets are masked
 * whole, at any depth.
 */
const ID_RUN = /(?<![0-9])([0-9]{12}|[0-9]{9})(?![0-9])/g;

/** Field names whose values are personal data or secrets, masked whatever their content. */
const SENSITIVE_KEYS = new Set([
  'idnumber',
  'fullname',
  'applicant',
  'person',
  'chuhoso',
  'sogiaytochuhoso',
  'sodinhdanh',
  'civilregistration',
  'mother',
  'father',
  'thongtin',
  'hoten',
  'hotenme',
  'hotencha',
  'sodinhdanhme',
  'sodinhdanhcha',
  'hotenchong',
  'hotenvo',
  'sodinhdanhchong',
  'sodinhdanhvo',
  'sodinhdanhcanhan',
  'filegiaychungnhan',
  'ho_ten_nguoi_nop',
  'so_giay_to',
  'token',
  'authorization',
  'password',
  'secret',
]);

export const MASK = '[redacted]';

/** Masks 9- and 12-digit runs, keeping the last 3 digits so operators can still tell records apart. */
export function maskIdNumbers(text: string): string {
  return text.replace(ID_RUN, (m) => `${'*'.repeat(m.length - 3)}${m.slice(-3)}`);
}

/** A deep copy of a log payload with personal data masked. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskIdNumbers(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) {
    return { type: value.name, message: maskIdNumbers(value.message) };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SENSITIVE_KEYS.has(k.toLowerCase()) ? MASK : redact(v, depth + 1);
  }
  return out;
}
