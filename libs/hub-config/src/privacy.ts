import type { Env } from './env.js';
import { BOOLEAN, integer, settingsObject } from './schema.js';

/** Personal data under Law 91/2025 (README, "Personal data"). */
export interface PrivacyConfig {
  /**
   * Personal fields (names, identity numbers, dates and places of birth, e-mail, phone) are stored
   * sealed with a key per data subject (AES-256-GCM), so that destroying the key erases them.
   * @defaultValue true (env `LGSP_PRIVACY_ENABLED`)
   */
  enabled: boolean;
  /**
   * A file holding a 32-byte master key (base64 or hex, readable only by the hub's user) that wraps every
   * subject key in the store. null: the subject keys are stored as they are (a backup of the store then
   * holds them; keep the key table out of backups, or use a master key or a KMS).
   * @defaultValue null (env `LGSP_PRIVACY_MASTER_KEY_FILE`)
   */
  masterKeyFile: string | null;
  /**
   * How long a process trusts a key it read, in ms: with PostgreSQL replicas, a key destroyed in one
   * replica stops opening values in the others within this time. @defaultValue 5000
   */
  keyCacheMs: number;
  erasure: {
    /** An erasure request must be answered within this many working days (Decree 356/2025). @defaultValue 2 */
    acknowledgeWorkingDays: number;
    /** ... and completed within this many days. @defaultValue 20 */
    completeDays: number;
    /** ... or this many when processors or third parties hold copies (connectors, webhooks, Kafka). @defaultValue 30 */
    completeDaysWithThirdParties: number;
    /** Public holidays (YYYY-MM-DD, Vietnam time) that are not working days. @defaultValue [] */
    holidays: string[];
    /**
     * The procedures whose dossiers a state agency keeps by law (Law 91/2025 Art. 14(2), Art. 19(1)(c)):
     * procedure code → the legal basis a refusal cites. An erasure of a subject with such a dossier
     * cannot be approved, only refused. @defaultValue {}
     */
    exemptProcedures: Record<string, string>;
  };
  retention: {
    /**
     * Destroy a subject's keys this many days after the end of the last of its dossiers (returned to the
     * citizen, rejected or withdrawn), unless one of them is of an exempt procedure. null: never.
     * @defaultValue null
     */
    afterDossierEndDays: number | null;
    /** How often the retention is checked, in seconds. @defaultValue 3600 */
    checkEverySeconds: number;
  };
}

export const PRIVACY_DEFAULTS: PrivacyConfig = {
  enabled: true,
  masterKeyFile: null,
  keyCacheMs: 5000,
  erasure: {
    acknowledgeWorkingDays: 2,
    completeDays: 20,
    completeDaysWithThirdParties: 30,
    holidays: [],
    exemptProcedures: {},
  },
  retention: { afterDossierEndDays: null, checkEverySeconds: 3600 },
};

export const PRIVACY_SCHEMA = settingsObject({
  enabled: BOOLEAN,
  masterKeyFile: { type: ['string', 'null'], minLength: 1 },
  keyCacheMs: integer(0, 3_600_000),
  erasure: settingsObject({
    acknowledgeWorkingDays: integer(1, 60),
    completeDays: integer(1, 365),
    completeDaysWithThirdParties: integer(1, 365),
    holidays: {
      type: 'array',
      maxItems: 1000,
      items: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
    },
    exemptProcedures: {
      type: 'object',
      maxProperties: 10_000,
      propertyNames: { minLength: 1, maxLength: 100 },
      additionalProperties: { type: 'string', minLength: 1, maxLength: 1000 },
    },
  }),
  retention: settingsObject({
    afterDossierEndDays: { type: ['integer', 'null'], minimum: 1, maximum: 36_500 },
    checkEverySeconds: integer(10, 7 * 24 * 3600),
  }),
});

export function applyPrivacyEnv(privacy: PrivacyConfig, env: Env, problems: string[]): void {
  const enabled = env.LGSP_PRIVACY_ENABLED;
  if (enabled === 'true') privacy.enabled = true;
  else if (enabled === 'false') privacy.enabled = false;
  else if (enabled !== undefined && enabled !== '')
    problems.push('LGSP_PRIVACY_ENABLED: must be true or false');
  if (env.LGSP_PRIVACY_MASTER_KEY_FILE) privacy.masterKeyFile = env.LGSP_PRIVACY_MASTER_KEY_FILE;
}
