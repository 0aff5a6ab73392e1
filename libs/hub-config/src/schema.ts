/**
 * The JSON schema of a settings object in the configuration file: the named settings, each
 * optional, and nothing else (an unknown key is reported as "is not a known setting").
 */
export const settingsObject = <const P extends Record<string, unknown>>(properties: P) =>
  ({ type: 'object', additionalProperties: false, properties }) as const;
