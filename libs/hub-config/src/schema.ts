/**
 * The JSON schema of a settings object in the configuration file: the named settings, each
 * optional, and nothing else (an unknown key is reported as "is not a known setting").
 */
export const settingsObject = <const P extends Record<string, unknown>>(properties: P) =>
  ({ type: 'object', additionalProperties: false, properties }) as const;

/** An integer setting from `minimum` to `maximum`. */
export const integer = (minimum: number, maximum: number) => ({ type: 'integer', minimum, maximum }) as const;

/** A number setting above 0, up to `maximum`. */
export const positive = (maximum: number) => ({ type: 'number', exclusiveMinimum: 0, maximum }) as const;

/** A true-or-false setting. */
export const BOOLEAN = { type: 'boolean' } as const;
