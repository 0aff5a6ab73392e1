/**
 * Personal data under Law 91/2025: how the hub stores it (encrypted per data subject) and what a reader
 * sees once a subject's key is destroyed.
 */

/** The component name of the key tables in `schema_version`. */
export const PRIVACY_COMPONENT = 'personal-data-keys';

/**
 * The prefix of a value sealed alone: `lgsp:pd1:<kid>:<base64url(iv ‖ tag ‖ ciphertext)>`, the
 * AES-256-GCM encryption of the value's JSON under the subject key `kid` (the kid is the additional
 * authenticated data). Working copies, wrapped keys, and events stored before `pd2`.
 */
export const SEALED_PREFIX = 'lgsp:pd1:';

/**
 * The prefix of a person's field sealed with the person's other fields:
 * `lgsp:pd2:<kid>:<field>:<base64url(iv ‖ tag ‖ ciphertext)>`, the ciphertext the AES-256-GCM encryption
 * of the JSON object of the person's fields (one operation per person), `field` the one this string
 * reads. Every field of the person carries the same body, so each opens alone.
 */
export const PERSON_PREFIX = 'lgsp:pd2:';

/** What a personal value reads as once its subject's key was destroyed. */
export const ERASED = '[erased]';

/** The subject of a surrogate identity: a person without a citizen ID, known by their place in a dossier. */
export const surrogateSubject = (dossierCode: string, role: string): string =>
  `dossier:${dossierCode}:${role}`;

/** True for a string written by the hub's sealing (a personal value at rest). */
export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && (value.startsWith(SEALED_PREFIX) || value.startsWith(PERSON_PREFIX));
}

/**
 * The subject whose key seals a dossier's working copies of personal data (pending connector work,
 * reconciliation findings): erasing any person of the dossier destroys it too.
 */
export const copySubject = (dossierCode: string): string => `dossier:${dossierCode}:copies`;
