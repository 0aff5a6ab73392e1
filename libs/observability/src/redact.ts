/**
 * Personal data and secrets never reach the logs in clear: citizen ID numbers (9 or 12 digits),
 * Vietnamese phone numbers, e-mail addresses and bearer tokens are masked wherever they appear in a string, and fields
 * that hold names, ID numbers or secrets are masked whole, at any depth. Names cannot be recognised in
 * free text: code that logs must not log text received from outside at all (log the route, the
 * problem type and masked pointers instead).
 */
const ID_RUN = /(?<![0-9])([0-9]{12}|[0-9]{9})(?![0-9])/g;
/**
 * Vietnamese phone numbers: `0` then 9 digits (mobile) or 10 (landline, `02x`), or the same without the
 * `0` after `+84`, `0084` or `84`; digits may be grouped with spaces, dots, dashes or parentheses.
 */
const PHONE = /(?<![0-9+])(?:\+84|0084|84|0)(?:[ .()-]{0,2}[0-9]){8,10}(?![0-9])/g;
/**
 * An e-mail address (the portal's dialect carries the applicant's `Email`). Bounded repetitions, so
 * a long run of letters without `@` costs linear time, not quadratic.
 */
const EMAIL = /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}/g;
const DIGIT_BEFORE_LAST_THREE = /[0-9](?=(?:[^0-9]*[0-9]){3})/g;
/** `Bearer <token>`, the hub's own tokens (`lgsp_` and 256 bits in base64url), and secrets in query strings. */
const BEARER = /\b(Bearer\s+)[^\s",]+/gi;
const HUB_TOKEN = /\blgsp_[A-Za-z0-9_-]{32,}/g;
const SECRET_PARAMETER = /\b((?:access_|refresh_|id_)?token|api[_-]?key|password|secret)=[^&\s"',;]*/gi;

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
  'email',
  'phone',
  'sodienthoai',
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

/**
 * A UUID (event, replay, erasure and request ids) is no personal data, yet its digit groups can look
 * like a phone number (`…0912-3427…`) or hold a 12-digit run; UUIDs are left whole.
 */
const UUID =
  /(?<![0-9A-Za-z])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![0-9A-Za-z])/g;

/** Masks ID numbers, phone numbers (keeping their last 3 digits, as for IDs) and tokens in free text. */
export function maskText(text: string): string {
  let out = '';
  let from = 0;
  for (const m of text.matchAll(UUID)) {
    out += maskFreeText(text.slice(from, m.index)) + m[0];
    from = m.index + m[0].length;
  }
  return from === 0 ? maskFreeText(text) : out + maskFreeText(text.slice(from));
}

function maskFreeText(text: string): string {
  return maskIdNumbers(text)
    .replace(PHONE, (m) => m.replace(DIGIT_BEFORE_LAST_THREE, '*'))
    .replace(EMAIL, MASK)
    .replace(BEARER, `$1${MASK}`)
    .replace(HUB_TOKEN, `lgsp_${MASK}`)
    .replace(SECRET_PARAMETER, (m) => `${m.slice(0, m.indexOf('=') + 1)}${MASK}`);
}

/** Deepest level of a log payload that is copied; anything deeper is masked whole. */
const MAX_DEPTH = 8;

/** A deep copy of a log payload with personal data and secrets masked. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return MASK;
  if (value instanceof Error) {
    return { type: value.name, message: maskText(value.message) };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SENSITIVE_KEYS.has(k.toLowerCase()) ? MASK : redact(v, depth + 1);
  }
  return out;
}

/** Array indexes (a batch of at most 10,000 events) and other short numbers are no personal data. */
const INDEX_TOKEN = /^[0-9]{1,5}$/;

/**
 * A JSON pointer into received input as it may be logged: every reference token that is neither a
 * short number nor a name `isKnown` accepts becomes `*`, since a member name chosen by the sender may
 * be a citizen's name.
 */
export function maskPointer(pointer: string, isKnown: (name: string) => boolean): string {
  if (pointer === '') return pointer;
  return pointer
    .split('/')
    .map((token, i) => (i === 0 || INDEX_TOKEN.test(token) || isKnown(token) ? token : '*'))
    .join('/');
}
