import type { Env } from './env.js';
import { BOOLEAN, integer, settingsObject } from './schema.js';

/** Signed checkpoints of the event log (README, "Signed checkpoints"). */
export interface CheckpointsConfig {
  /** The hub signs checkpoints (a log subscriber, under a lease with PostgreSQL replicas). @defaultValue true */
  enabled: boolean;
  /** A checkpoint at every `every`-th position after the last one. @defaultValue 10000 */
  every: number;
  /**
   * A checkpoint at the head once events after the last one have waited this many seconds (a quiet log
   * gets none). @defaultValue 600
   */
  everySeconds: number;
  /**
   * A file holding an Ed25519 private key (PEM PKCS#8, readable only by the hub's user) to sign with
   * instead of the key pair the hub makes and keeps in its store. null: the store's key.
   * @defaultValue null (env `LGSP_CHECKPOINTS_KEY_FILE`)
   */
  keyFile: string | null;
}

export const CHECKPOINTS_DEFAULTS: CheckpointsConfig = {
  enabled: true,
  every: 10_000,
  everySeconds: 600,
  keyFile: null,
};

export const CHECKPOINTS_SCHEMA = settingsObject({
  enabled: BOOLEAN,
  every: integer(1, 100_000_000),
  everySeconds: integer(1, 7 * 24 * 3600),
  keyFile: { type: ['string', 'null'], minLength: 1 },
});

export function applyCheckpointsEnv(checkpoints: CheckpointsConfig, env: Env): void {
  if (env.LGSP_CHECKPOINTS_KEY_FILE) checkpoints.keyFile = env.LGSP_CHECKPOINTS_KEY_FILE;
}
