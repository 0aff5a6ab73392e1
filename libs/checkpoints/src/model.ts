/**
 * Signed checkpoints: at a position of the event log, the hub signs (Ed25519) the chain hash of the
 * record stored there. A checkpoint exported and kept elsewhere (anchored) lets anyone check later
 * that the log up to that position is the one the hub held, even against a log whose hash chain was
 * recomputed from scratch after a change.
 */

/** The component of `schema_version` for the checkpoint tables. */
export const CHECKPOINTS_COMPONENT = 'signed-checkpoints';

/** The version prefix of the signed message; a new format gets a new version. */
export const CHECKPOINT_MESSAGE_PREFIX = 'lgsp-checkpoint:v1';

/** The `format` of an export file. */
export const CHECKPOINT_EXPORT_FORMAT = 'lgsp-checkpoints/v1';

/** One signed checkpoint, as kept and exported. */
export interface SignedCheckpoint {
  /** The global position of the record whose chain hash is signed. */
  position: number;
  /** The `hash` of that record (SHA-256, 64 lowercase hex digits): it covers every record before it. */
  chainHash: string;
  /** When the hub signed it, RFC 3339 UTC with milliseconds. */
  signedAt: string;
  /** The key that signed it; see {@link keyIdOf}. */
  keyId: string;
  /** The exact signed bytes (UTF-8 of {@link checkpointMessage}), base64. */
  message: string;
  /** The Ed25519 signature of those bytes (64 bytes), base64. */
  signature: string;
}

/** A public key that signs checkpoints. */
export interface CheckpointKey {
  keyId: string;
  algorithm: 'Ed25519';
  /** The public key, PEM (SubjectPublicKeyInfo, `-----BEGIN PUBLIC KEY-----`). */
  publicKey: string;
  createdAt: string;
}

/** What `lgsp checkpoints export --json` writes and `lgsp verify --checkpoints FILE` reads. */
export interface CheckpointExport {
  format: typeof CHECKPOINT_EXPORT_FORMAT;
  algorithm: 'Ed25519';
  /** The key that signs now. */
  keyId: string;
  /** PEM SubjectPublicKeyInfo: `openssl pkeyutl -verify -pubin -inkey` reads it as it is. */
  publicKey: string;
  /**
   * Every key the hub has signed with, the one that signs now included, oldest first: a checkpoint is
   * checked under the key it names. Absent in an export of a hub that has signed with one key only.
   */
  keys?: PublicKey[];
  checkpoints: SignedCheckpoint[];
}

/** A public key of an export: its id and PEM. */
export interface PublicKey {
  keyId: string;
  publicKey: string;
}

const HASH = /^[0-9a-f]{64}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The signed message of a checkpoint, as text: `lgsp-checkpoint:v1:<position>:<chain hash>:<signedAt>`,
 * the position in decimal without leading zeros, the hash in lowercase hex, the time RFC 3339 UTC as the
 * hub wrote it (e.g. `2026-12-06T08:00:00.000Z`). The bytes signed are its UTF-8 (all ASCII).
 */
export function checkpointMessage(c: Pick<SignedCheckpoint, 'position' | 'chainHash' | 'signedAt'>): string {
  if (!Number.isSafeInteger(c.position) || c.position < 1)
    throw new TypeError(`a checkpoint position is a positive integer, not ${c.position}`);
  if (!HASH.test(c.chainHash)) throw new TypeError('a chain hash is 64 lowercase hex digits');
  if (!RFC3339.test(c.signedAt) || Number.isNaN(Date.parse(c.signedAt)))
    throw new TypeError(`signedAt must be an RFC 3339 time, not ${c.signedAt}`);
  return `${CHECKPOINT_MESSAGE_PREFIX}:${c.position}:${c.chainHash}:${c.signedAt}`;
}
