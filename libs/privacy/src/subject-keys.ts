import type { KeyObject } from 'node:crypto';

/** A subject's current key, to seal new personal values with. */
export interface SealingKey {
  kid: string;
  key: KeyObject;
}

/** One subject whose data is about to be sealed, and the stream it goes into (recorded as a link). */
export interface SealingRequest {
  ref: string;
  stream?: string;
}

/** How the sealed values will be stored. */
export interface SealingOptions {
  /**
   * They go into the next append of the event store, which writes the new keys and links in its own
   * transaction when the provider rides with it (see `SqlSubjectKeyStore.commitCompanion`): the keys are
   * then durable exactly when the events are, without a transaction of their own.
   */
  withNextAppend?: boolean;
}

/** What is known of one subject's keys. */
export interface SubjectKeyState {
  ref: string;
  /** Keys ever made for the subject (one more after each erasure followed by new data). */
  keys: number;
  /** Keys destroyed. */
  destroyed: number;
  /** When its last key was destroyed. */
  destroyedAt?: string;
}

/**
 * Where the hub's data-subject keys live. The default ({@link SqlSubjectKeyStore}) keeps them in a table
 * of the hub's own store, optionally wrapped by a {@link KeyWrapper} (a KMS or HSM master key). Another
 * provider can keep them elsewhere altogether: the hub only needs these operations.
 *
 * A subject is known by a reference (`ref`): a keyed hash of its identifier (citizen ID or surrogate),
 * so that neither the key table nor the links reveal who the subjects are.
 */
export interface SubjectKeyProvider {
  /** The reference of a subject identifier: stable, and not reversible without the provider's secret. */
  ref(subjectId: string): string;
  /**
   * The current key of each subject, made when the subject has none (also after an erasure: later data
   * gets a new key). Records each (subject, stream) link. Durable when it resolves.
   */
  sealingKeys(
    requests: readonly SealingRequest[],
    options?: SealingOptions,
  ): Promise<Map<string, SealingKey>>;
  /** The keys by kid: `null` for a key destroyed (or unknown), whose values read as erased. */
  openingKeys(kids: readonly string[]): Promise<Map<string, KeyObject | null>>;
  /** The subject each kid belongs to (for the "who was affected" report); kids unknown are left out. */
  subjectsOf(kids: readonly string[]): Promise<Map<string, string>>;
  /** Destroys every key of a subject (erasure): its values, wherever copied, read as erased. */
  destroy(ref: string): Promise<SubjectKeyState>;
  /** The state of a subject's keys, undefined when it has none. */
  state(ref: string): Promise<SubjectKeyState | undefined>;
  /** The streams (dossiers) the subject's data was sealed into. */
  streams(ref: string): Promise<string[]>;
  /** The subjects linked to a stream. */
  subjectsIn(stream: string): Promise<string[]>;
}

/**
 * Wraps subject keys under a master key kept outside the store (envelope encryption). Plug a KMS or HSM
 * by implementing these two calls with its encrypt and decrypt operations.
 */
export interface KeyWrapper {
  /** A name recorded with each wrapped key (e.g. the KMS key's id), to refuse a wrong master key. */
  readonly id: string;
  wrap(key: Buffer): Promise<string>;
  unwrap(wrapped: string): Promise<Buffer>;
}
