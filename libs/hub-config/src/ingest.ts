import { PORTAL_CODE_RULES, type CodeCheckMode, type PortalCodeRules } from '#lgsp/ingest';
import type { Env } from './env.js';
import { integer, settingsObject } from './schema.js';

export interface IngestConfig {
  /** Most events in one batch request; more gets 413. @defaultValue 1000 */
  maxBatchEvents: number;
  /**
   * The early check that dossier and agency codes have the form the national portal accepts:
   * `off`, `warn` (accepted, the answer lists `warnings`) or `refuse` (400 problem, nothing stored).
   * The patterns are configurable because the portal's rules are not published.
   * @defaultValue mode "off" (env `LGSP_INGEST_CODE_CHECK`), patterns as in PORTAL_CODE_RULES
   */
  codeCheck: { mode: CodeCheckMode } & PortalCodeRules;
}

const CODE_CHECK_MODES: readonly CodeCheckMode[] = ['off', 'warn', 'refuse'];

export const INGEST_DEFAULTS: IngestConfig = {
  maxBatchEvents: 1000,
  codeCheck: { mode: 'off', ...PORTAL_CODE_RULES },
};

const pattern = { type: 'string', minLength: 1, maxLength: 500 } as const;

export const INGEST_SCHEMA = settingsObject({
  maxBatchEvents: integer(1, 10_000),
  codeCheck: settingsObject({
    mode: { enum: CODE_CHECK_MODES },
    agencyPattern: pattern,
    dossierCodePattern: pattern,
  }),
});

export function applyIngestEnv(ingest: IngestConfig, env: Env, problems: string[]): void {
  const mode = env.LGSP_INGEST_CODE_CHECK;
  if (!mode) return;
  const known = CODE_CHECK_MODES.find((m) => m === mode);
  if (known === undefined)
    problems.push(`LGSP_INGEST_CODE_CHECK: must be one of ${CODE_CHECK_MODES.join(', ')}`);
  else ingest.codeCheck.mode = known;
}

/** A pattern that is not a regular expression stops start-up with its path. */
export function checkIngest(ingest: IngestConfig, problems: string[]): void {
  for (const key of ['agencyPattern', 'dossierCodePattern'] as const) {
    try {
      new RegExp(ingest.codeCheck[key], 'u');
    } catch (e) {
      problems.push(`ingest.codeCheck.${key}: not a regular expression: ${(e as Error).message}`);
    }
  }
}
