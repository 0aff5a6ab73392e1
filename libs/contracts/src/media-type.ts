/** A parsed media type (RFC 9110 §8.3.1): lower-case `type/subtype` and its parameters. */
export interface MediaType {
  /** `type/subtype`, lower-case, without parameters, e.g. `application/cloudevents+json`. */
  essence: string;
  /** Parameters by lower-case name, values unquoted; `charset` is lower-cased. */
  parameters: ReadonlyMap<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const NO_PARAMETERS: ReadonlyMap<string, string> = new Map();

/** Parses a `Content-Type` value case-insensitively; `undefined` when it is not a media type. */
export function parseMediaType(value: string): MediaType | undefined {
  const semicolon = value.indexOf(';');
  const essence = (semicolon < 0 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  const slash = essence.indexOf('/');
  if (slash <= 0 || !TOKEN.test(essence.slice(0, slash)) || !TOKEN.test(essence.slice(slash + 1))) {
    return undefined;
  }
  if (semicolon < 0) return { essence, parameters: NO_PARAMETERS };
  const parameters = new Map<string, string>();
  for (const part of value.slice(semicolon + 1).split(';')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) return undefined;
    const name = trimmed.slice(0, eq).trim().toLowerCase();
    let parameterValue = trimmed.slice(eq + 1).trim();
    if (parameterValue.length >= 2 && parameterValue.startsWith('"') && parameterValue.endsWith('"')) {
      parameterValue = parameterValue.slice(1, -1).replace(/\\(.)/g, '$1');
    }
    parameters.set(name, name === 'charset' ? parameterValue.toLowerCase() : parameterValue);
  }
  return { essence, parameters };
}

/** Whether a media type's essence is JSON: `application/json` or any `type/subtype+json`. */
export const isJsonEssence = (essence: string): boolean =>
  essence === 'application/json' || essence.endsWith('+json');

/** Whether a parsed media type declares no charset or UTF-8 (the only encoding of JSON, RFC 8259 §8.1). */
export const hasUtf8Charset = (mediaType: MediaType): boolean => {
  const charset = mediaType.parameters.get('charset');
  return charset === undefined || charset === 'utf-8';
};

/**
 * Whether a `Content-Type`/`datacontenttype` value is a JSON media type in UTF-8:
 * `application/json` or `*\/*+json`, optionally with `charset=utf-8`.
 */
export function isJsonMediaType(value: string): boolean {
  const mediaType = parseMediaType(value);
  return mediaType !== undefined && isJsonEssence(mediaType.essence) && hasUtf8Charset(mediaType);
}
