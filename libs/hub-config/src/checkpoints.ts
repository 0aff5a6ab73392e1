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
}

export const CHECKPOINTS_DEFAULTS: CheckpointsConfig = {
  enabled: true,
  every: 10_000,
  everySeconds: 600,
};

export const CHECKPOINTS_SCHEMA = settingsObject({
  enabled: BOOLEAN,
  every: integer(1, 100_000_000),
  everySeconds: integer(1, 7 * 24 * 3600),
});
