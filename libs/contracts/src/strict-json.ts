import { DomainError, pointerToken } from './errors.js';

/** The first own `__proto__` key below `value`, as a pointer relative to it. */
function findProtoKey(value: unknown, at: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findProtoKey(value[i], `${at}/${i}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (Object.hasOwn(value, '__proto__')) return `${at}/__proto__`;
  for (const key of Object.keys(value)) {
    const found = findProtoKey((value as Record<string, unknown>)[key], `${at}/${pointerToken(key)}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Parses JSON text received from outside (an HTTP body, a Kafka record). An own `__proto__` member is
 * refused, so that no later copy or merge can turn it into a prototype.
 * @param what names the text in the error (`body`, `the message value`).
 * @param pointer where the text sits in the event, the base of every error pointer.
 * @throws DomainError `malformed`.
 */
export function parseStrictJson(text: string, what: string, pointer = ''): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new DomainError('malformed', `${what} is not valid JSON: ${reason}`, [
      { pointer, message: reason },
    ]);
  }
  // `__proto__` can only be spelt out literally or with \u escapes: scan only then.
  if (text.includes('__proto__') || text.includes('\\u')) {
    const found = findProtoKey(parsed, pointer);
    if (found !== undefined) {
      throw new DomainError('malformed', 'a "__proto__" member is not accepted', [
        { pointer: found, message: 'is not accepted' },
      ]);
    }
  }
  return parsed;
}
