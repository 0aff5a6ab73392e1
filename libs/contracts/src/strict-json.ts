import { DomainError, pointerToken, type Issue } from './errors.js';

/**
 * Deepest nesting of arrays and objects accepted in JSON received from outside. The catalogue's
 * deepest value sits 4 levels down (event → data → fees → item); 64 is also the default of .NET's
 * System.Text.Json. Anything deeper would only exercise the recursion of the code that walks events
 * (normalisation, schema validation, canonical JSON) until the stack runs out.
 */
export const MAX_JSON_DEPTH = 64;
/**
 * Longest string (a value or a member name) accepted in received JSON, in UTF-16 code units. The
 * longest text of a dossier (a summary, a reason, a note) is a few thousand characters; this leaves
 * an order of magnitude of room while keeping one string from being most of a request.
 */
export const MAX_JSON_STRING_LENGTH = 65_536;
/** Most members of one JSON object. An event's `data` has about 15; an admin body fewer. */
export const MAX_JSON_OBJECT_MEMBERS = 1_000;
/**
 * Most elements of one JSON array. A batch is an array of events, and `ingest.maxBatchEvents` may be
 * configured up to 10,000.
 */
export const MAX_JSON_ARRAY_LENGTH = 10_000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** Index of the quote closing the string that opens at `start`, or `text.length` if it never closes. */
function stringEnd(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  while (end !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
  return text.length;
}

/** What {@link prescan} reads from the text before it is parsed. */
interface Prescan {
  /** Offset of the first array or object nested deeper than {@link MAX_JSON_DEPTH}, or -1. */
  tooDeepAt: number;
  /** Member separators (`:` outside strings): the number of object members the text spells out. */
  members: number;
}

/** One pass over the text. Strings are skipped with `indexOf`, so it costs about the structural characters. */
function prescan(text: string): Prescan {
  let depth = 0;
  let members = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = stringEnd(text, i);
    else if (c === COLON) members++;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > MAX_JSON_DEPTH) return { tooDeepAt: i, members };
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
  }
  return { tooDeepAt: -1, members };
}

interface Frame {
  array: boolean;
  index: number;
  key: string;
  keys: Set<string>;
  expectKey: boolean;
}

/**
 * Reads the text again keeping the path, for an error report only: the pointer (below `base`) of the
 * container opening at `offset`, or, with `offset` -1, of the first member name repeated in one object.
 */
function locate(text: string, offset: number, base: string): string | undefined {
  const stack: Frame[] = [];
  const pointer = (last?: string): string =>
    base +
    stack
      .map((f) => `/${pointerToken(f.array ? f.index : f.key)}`)
      .slice(0, last === undefined ? stack.length : stack.length - 1)
      .join('') +
    (last === undefined ? '' : `/${pointerToken(last)}`);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (top !== undefined && !top.array && top.expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, end + 1)) as string;
        } catch {
          key = text.slice(i + 1, end);
        }
        if (offset === -1 && top.keys.has(key)) return pointer(key);
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (i === offset) return pointer();
      stack.push({ array: c === OPEN_ARRAY, index: 0, key: '', keys: new Set(), expectKey: true });
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) stack.pop();
    else if (c === COMMA && top !== undefined) {
      if (top.array) top.index++;
      else top.expectKey = true;
    }
  }
  return undefined;
}

/** What {@link check} found wrong, with the path to it, collected innermost first. */
interface Fault {
  code: 'malformed' | 'too-large';
  detail: string;
  message: string;
  tokens: (string | number)[];
}

const fault = (code: Fault['code'], detail: string, message: string): Fault => ({
  code,
  detail,
  message,
  tokens: [],
});

const LONE_SURROGATE =
  'text must be valid Unicode: a lone UTF-16 surrogate (a \\ud800-\\udfff escape without its pair) is not accepted';

function checkString(value: string, unicode: boolean): Fault | undefined {
  if (value.length > MAX_JSON_STRING_LENGTH) {
    return fault(
      'too-large',
      `a string longer than ${MAX_JSON_STRING_LENGTH} characters is not accepted`,
      `is longer than ${MAX_JSON_STRING_LENGTH} characters`,
    );
  }
  if (unicode && !value.isWellFormed())
    return fault('malformed', LONE_SURROGATE, 'holds a lone UTF-16 surrogate');
  return undefined;
}

function checkNumber(value: number): Fault | undefined {
  if (!Number.isFinite(value)) {
    return fault(
      'malformed',
      'a number too large for a 64-bit float is not accepted',
      'is beyond the range of a 64-bit float',
    );
  }
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
    return fault(
      'malformed',
      'an integer beyond ±(2^53 − 1) is not accepted: it cannot be stored exactly; send it as a string',
      'is an integer beyond ±(2^53 − 1)',
    );
  }
  return undefined;
}

/** State of one {@link check} walk. */
interface Walk {
  /** Whether strings must be checked for lone surrogates (see {@link parse}). */
  unicode: boolean;
  /** Members seen, to tell a repeated member name (which JSON.parse silently drops) from the text's count. */
  members: number;
}

/**
 * Checks a parsed value against the limits and I-JSON (RFC 7493): valid Unicode, numbers a 64-bit
 * float carries exactly, no `__proto__` member. Recursion is bounded: the text was checked against
 * {@link MAX_JSON_DEPTH} before parsing.
 */
function check(value: unknown, walk: Walk): Fault | undefined {
  if (typeof value === 'string') return checkString(value, walk.unicode);
  if (typeof value === 'number') return checkNumber(value);
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    if (value.length > MAX_JSON_ARRAY_LENGTH) {
      return fault(
        'too-large',
        `an array of more than ${MAX_JSON_ARRAY_LENGTH} elements is not accepted`,
        `has more than ${MAX_JSON_ARRAY_LENGTH} elements`,
      );
    }
    for (let i = 0; i < value.length; i++) {
      const found = check(value[i], walk);
      if (found !== undefined) {
        found.tokens.push(i);
        return found;
      }
    }
    return undefined;
  }
  const keys = Object.keys(value);
  if (keys.length > MAX_JSON_OBJECT_MEMBERS) {
    return fault(
      'too-large',
      `an object of more than ${MAX_JSON_OBJECT_MEMBERS} members is not accepted`,
      `has more than ${MAX_JSON_OBJECT_MEMBERS} members`,
    );
  }
  walk.members += keys.length;
  for (const key of keys) {
    let found: Fault | undefined;
    if (key === '__proto__')
      found = fault('malformed', 'a "__proto__" member is not accepted', 'is not accepted');
    else if (key.length > MAX_JSON_STRING_LENGTH || (walk.unicode && !key.isWellFormed())) {
      found = checkString(key, walk.unicode);
      if (found !== undefined) found.message = `member name ${found.message}`;
    } else found = check((value as Record<string, unknown>)[key], walk);
    if (found !== undefined) {
      found.tokens.push(key);
      return found;
    }
  }
  return undefined;
}

/**
 * Parses JSON text received from outside (an HTTP body, a Kafka record) and holds it to what the hub can
 * store exactly and walk safely:
 * - nesting at most {@link MAX_JSON_DEPTH} deep (checked on the text, before parsing), strings at most
 *   {@link MAX_JSON_STRING_LENGTH} long, objects of at most {@link MAX_JSON_OBJECT_MEMBERS} members,
 *   arrays of at most {@link MAX_JSON_ARRAY_LENGTH} elements — `too-large` otherwise;
 * - I-JSON (RFC 7493): no lone UTF-16 surrogate (from a `\ud800` escape) in a value or a member name,
 *   no number beyond a 64-bit float (`1e400`) nor integer beyond ±(2^53 − 1), no member name twice in
 *   one object; and no own `__proto__` member, so that no later copy or merge can turn it into a
 *   prototype — `malformed` otherwise.
 * Every error points at the offending value or member.
 * @param what names the text in the error (`body`, `the message value`).
 * @param pointer where the text sits in the event, the base of every error pointer.
 * @throws DomainError `malformed` or `too-large`.
 */
export function parseStrictJson(text: string, what: string, pointer = ''): unknown {
  return parse(text, what, pointer, false);
}

/**
 * @param wellFormed the text is known to be valid Unicode (decoded from UTF-8): then only `\u` escapes
 *   can make a lone surrogate, and strings are checked only when the text has one.
 */
function parse(text: string, what: string, pointer: string, wellFormed: boolean): unknown {
  const scanned = prescan(text);
  if (scanned.tooDeepAt !== -1) {
    const message = `nests deeper than ${MAX_JSON_DEPTH} levels`;
    throw new DomainError(
      'too-large',
      `${what} nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`,
      [{ pointer: locate(text, scanned.tooDeepAt, pointer) ?? pointer, message }],
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new DomainError('malformed', `${what} is not valid JSON: ${reason}`, [
      { pointer, message: reason },
    ]);
  }
  const walk: Walk = { unicode: !wellFormed || text.includes('\\u'), members: 0 };
  const found = check(parsed, walk);
  if (found !== undefined) {
    let at = pointer;
    for (let i = found.tokens.length - 1; i >= 0; i--)
      at += `/${pointerToken(found.tokens[i] as string | number)}`;
    throw new DomainError(found.code, `${what}: ${found.detail}`, [{ pointer: at, message: found.message }]);
  }
  if (walk.members !== 0 && walk.members !== scanned.members) {
    const issues: Issue[] = [
      { pointer: locate(text, -1, pointer) ?? pointer, message: 'is repeated in its object' },
    ];
    throw new DomainError('malformed', `${what}: a member name appears twice in one object`, issues);
  }
  return parsed;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * {@link parseStrictJson} over bytes: strict UTF-8 (a malformed sequence is refused, not replaced),
 * a leading byte order mark skipped.
 * @throws DomainError `malformed` (bad UTF-8 or JSON, see parseStrictJson) or `too-large`.
 */
export function parseStrictJsonBytes(bytes: Uint8Array, what: string, pointer = ''): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new DomainError('malformed', `${what} is not valid UTF-8`, [
      { pointer, message: 'is not valid UTF-8' },
    ]);
  }
  return parse(text, what, pointer, true);
}
