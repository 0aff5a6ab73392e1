import { createHash, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, seal, sealedKid } from './cipher.js';
import type { KeyWrapper } from './subject-keys.js';

/**
 * A {@link KeyWrapper} over a 32-byte master key read from a file (base64 or hex): each subject key is
 * sealed with AES-256-GCM under it. The model for a KMS or HSM wrapper, whose `wrap` and `unwrap` call the
 * service's encrypt and decrypt instead.
 */
export class FileKeyWrapper implements KeyWrapper {
  readonly id: string;
  private readonly master: KeyObject;

  constructor(master: Buffer) {
    if (master.length !== 32) throw new Error('the master key must be 32 bytes (base64 or hex in its file)');
    this.master = createSecretKey(master);
    this.id = `file-${createHash('sha256').update(master).digest('hex').slice(0, 16)}`;
  }

  /** Reads the master key from `file`. @throws Error naming the file when it is missing or malformed. */
  static fromFile(file: string): FileKeyWrapper {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new Error(`privacy.masterKeyFile: cannot read ${file}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const bytes = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
    if (bytes.length !== 32) throw new Error(`privacy.masterKeyFile: ${file} does not hold a 32-byte key`);
    return new FileKeyWrapper(bytes);
  }

  wrap(key: Buffer): Promise<string> {
    return Promise.resolve(seal(this.id, this.master, key.toString('base64')));
  }

  /** @throws Error when `wrapped` was not made under this master key, or was altered. */
  unwrap(wrapped: string): Promise<Buffer> {
    let key: unknown;
    try {
      key = sealedKid(wrapped) === this.id ? open(wrapped, this.master) : undefined;
    } catch (err) {
      return Promise.reject(this.refused(err));
    }
    if (typeof key !== 'string') return Promise.reject(this.refused());
    return Promise.resolve(Buffer.from(key, 'base64'));
  }

  private refused(cause?: unknown): Error {
    return new Error(
      `a subject key does not open with the master key ${this.id}: the wrong privacy.masterKeyFile, or an altered key table`,
      cause === undefined ? undefined : { cause },
    );
  }
}
