/** The environment the configuration is read from (`process.env` in the hub). */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads an integer variable: undefined when unset or empty; a value out of `min`..`max` adds its
 * problem and is ignored, so that every bad variable is reported at once.
 */
export function intFromEnv(
  env: Env,
  problems: string[],
  name: string,
  min: number,
  max: number,
): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${name}: "${raw}" must be an integer from ${min} to ${max}`);
    return undefined;
  }
  return n;
}

/** The store's URL without its password, for logs and messages. */
export const redactUrl = (url: string): string => url.replace(/\/\/[^@/]*@/, '//***@');
