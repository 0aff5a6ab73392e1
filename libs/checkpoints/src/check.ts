import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  CHECKPOINT_EXPORT_FORMAT,
  type CheckpointExport,
  type PublicKey,
  type SignedCheckpoint,
} from './model.js';
import { checkpointSignatureProblem, keyIdOf } from './signing.js';

/**
 * Why a checkpoint does not match the log:
 * - `signature`: its message or signature does not verify under the public key (a forged or altered
 *   checkpoint);
 * - `hash`: the record stored at its position has another chain hash (the log was changed at or
 *   before that position, even with its chain recomputed);
 * - `beyond-head`: the log ends before its position (truncated, or a copy older than the checkpoint).
 */
export type CheckpointMismatchKind = 'signature' | 'hash' | 'beyond-head';

export interface CheckpointMismatch {
  position: number;
  chainHash: string;
  signedAt: string;
  kind: CheckpointMismatchKind;
  /** What was found, for people. */
  reason: string;
}

export type CheckpointVerdict =
  | { ok: true; checked: number; last?: Pick<SignedCheckpoint, 'position' | 'chainHash' | 'signedAt'> }
  | { ok: false; checked: number; mismatch: CheckpointMismatch };

/**
 * Checks the records of a log against signed checkpoints: feed it the records of a walk over the chain
 * ({@link observe}), then ask for the {@link verdict} once the walk verified the chain up to its head.
 * It keeps only the hashes at the checkpoints' positions, so memory does not grow with the log.
 */
export class CheckpointCheck {
  /** The public keys by id. */
  private readonly keys = new Map<string, KeyObject>();
  private readonly checkpoints: SignedCheckpoint[];
  private readonly seen = new Map<number, string>();

  /** @throws TypeError when a public key is not an Ed25519 key with the id it is given. */
  constructor(set: Omit<CheckpointExport, 'format'>) {
    for (const k of [...(set.keys ?? []), { keyId: set.keyId, publicKey: set.publicKey }])
      this.keys.set(k.keyId, ed25519PublicKey(k.publicKey, k.keyId));
    this.checkpoints = [...set.checkpoints].sort((a, b) => a.position - b.position);
    for (const c of this.checkpoints) this.seen.set(c.position, '');
  }

  get size(): number {
    return this.checkpoints.length;
  }

  /** Takes a record of the walk (its position and stored hash). */
  observe(r: { position: number; hash: string }): void {
    if (this.seen.has(r.position)) this.seen.set(r.position, r.hash);
  }

  /** The first checkpoint, in position order, that does not match a log whose chain holds up to `head`. */
  verdict(head: number): CheckpointVerdict {
    let checked = 0;
    for (const c of this.checkpoints) {
      const mismatch = (kind: CheckpointMismatchKind, reason: string): CheckpointVerdict => ({
        ok: false,
        checked,
        mismatch: { position: c.position, chainHash: c.chainHash, signedAt: c.signedAt, kind, reason },
      });
      const key = this.keys.get(c.keyId);
      if (key === undefined)
        return mismatch('signature', `it names key ${c.keyId}, which is not among the public keys`);
      const problem = checkpointSignatureProblem(c, key, c.keyId);
      if (problem !== undefined) return mismatch('signature', problem);
      if (c.position > head) return mismatch('beyond-head', `the log ends at position ${head}`);
      const stored = this.seen.get(c.position);
      if (stored !== c.chainHash)
        return mismatch(
          'hash',
          `the record stored there has chain hash ${stored || 'none'}, not the signed ${c.chainHash}`,
        );
      checked += 1;
    }
    const last = this.checkpoints.at(-1);
    return {
      ok: true,
      checked,
      ...(last
        ? { last: { position: last.position, chainHash: last.chainHash, signedAt: last.signedAt } }
        : {}),
    };
  }
}

/** The KeyObject of a PEM Ed25519 public key whose id is `keyId`. */
export function ed25519PublicKey(pem: string, keyId: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new TypeError(`the public key is not a PEM public key: ${(err as Error).message}`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new TypeError(`the public key is ${key.asymmetricKeyType ?? 'unknown'}, not Ed25519`);
  const id = keyIdOf(key);
  if (id !== keyId) throw new TypeError(`the public key's id is ${id}, not ${keyId}`);
  return key;
}

/**
 * An export file's content, checked for shape (what each checkpoint claims is checked by
 * {@link CheckpointCheck}).
 * @throws TypeError naming the first member that is missing or of the wrong type.
 */
export function parseCheckpointExport(value: unknown): CheckpointExport {
  const fail = (where: string, what: string): never => {
    throw new TypeError(`${where}: ${what}`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('/', 'must be an object');
  const doc = value as Record<string, unknown>;
  if (doc.format !== CHECKPOINT_EXPORT_FORMAT) fail('/format', `must be "${CHECKPOINT_EXPORT_FORMAT}"`);
  if (doc.algorithm !== 'Ed25519') fail('/algorithm', 'must be "Ed25519"');
  for (const key of ['keyId', 'publicKey'] as const)
    if (typeof doc[key] !== 'string') fail(`/${key}`, 'must be a string');
  if (!Array.isArray(doc.checkpoints)) fail('/checkpoints', 'must be an array');
  const checkpoints = (doc.checkpoints as unknown[]).map((c, i): SignedCheckpoint => {
    const at = `/checkpoints/${i}`;
    if (c === null || typeof c !== 'object') fail(at, 'must be an object');
    const r = c as Record<string, unknown>;
    if (!Number.isSafeInteger(r.position)) fail(`${at}/position`, 'must be an integer');
    for (const key of ['chainHash', 'signedAt', 'keyId', 'message', 'signature'] as const)
      if (typeof r[key] !== 'string') fail(`${at}/${key}`, 'must be a string');
    return {
      position: r.position as number,
      chainHash: r.chainHash as string,
      signedAt: r.signedAt as string,
      keyId: r.keyId as string,
      message: r.message as string,
      signature: r.signature as string,
    };
  });
  let keys: PublicKey[] | undefined;
  if (doc.keys !== undefined) {
    if (!Array.isArray(doc.keys)) fail('/keys', 'must be an array');
    keys = (doc.keys as unknown[]).map((k, i): PublicKey => {
      const r = (k ?? {}) as Record<string, unknown>;
      for (const key of ['keyId', 'publicKey'] as const)
        if (typeof r[key] !== 'string') fail(`/keys/${i}/${key}`, 'must be a string');
      return { keyId: r.keyId as string, publicKey: r.publicKey as string };
    });
  }
  return {
    format: CHECKPOINT_EXPORT_FORMAT,
    algorithm: 'Ed25519',
    keyId: doc.keyId as string,
    publicKey: doc.publicKey as string,
    ...(keys ? { keys } : {}),
    checkpoints,
  };
}
