import { DOSSIER_STREAM_PREFIX } from '#lgsp/projections';
import { seal } from './cipher.js';
import { copySubject, ERASED } from './model.js';
import type { PersonalDataCodec } from './personal-data-codec.js';

/** One value to seal as a copy of a dossier's personal data. */
export interface WorkingCopy<T = unknown> {
  dossier: string;
  value: T;
}

/**
 * A dossier's working copies of personal data: what the hub keeps beside the log about a dossier
 * (connectors' pending work, reconciliation findings). Each is sealed whole, as one sealed string, under
 * the key of the dossier's {@link copySubject}; the erasure of any person of the dossier destroys that
 * key, and the copies then read as {@link ERASED}. Values are opened by the codec's `reveal`, like every
 * other sealed value.
 */
export class WorkingCopies {
  constructor(private readonly codec: PersonalDataCodec) {}

  /** `value` sealed under the copy key of `dossier`. */
  async seal(dossier: string, value: unknown): Promise<string> {
    return (await this.sealAll([{ dossier, value }]))[0]!;
  }

  /** Each value sealed under the copy key of its dossier, with one key lookup. */
  async sealAll(copies: readonly WorkingCopy[]): Promise<string[]> {
    if (copies.length === 0) return [];
    const { keys } = this.codec;
    const dossiers = [...new Set(copies.map((c) => c.dossier))];
    const found = await keys.sealingKeys(
      dossiers.map((d) => ({ ref: keys.ref(copySubject(d)), stream: `${DOSSIER_STREAM_PREFIX}${d}` })),
    );
    return copies.map((c) => {
      const key = found.get(keys.ref(copySubject(c.dossier)));
      if (key === undefined) throw new Error(`no copy key for dossier ${c.dossier}`);
      return seal(key.kid, key.key, c.value);
    });
  }

  /** The values opened (any JSON holding sealed strings); a copy whose key was destroyed reads {@link ERASED}. */
  reveal<T>(values: readonly T[]): Promise<T[]> {
    return this.codec.reveal(values);
  }

  /** {@link reveal} of one value. */
  revealOne<T>(value: T): Promise<T> {
    return this.codec.revealOne(value);
  }
}

/** True for a copy that was opened after its key was destroyed. */
export const isErasedCopy = (value: unknown): boolean => value === ERASED;
