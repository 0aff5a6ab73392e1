import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hash,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { checkpointMessage, type SignedCheckpoint } from './model.js';

/** An Ed25519 key pair as the hub keeps it: PEM text, the private key PKCS#8, the public key SPKI. */
export interface SigningKeyPair {
  keyId: string;
  publicKey: string;
  privateKey: string;
}

/** A new Ed25519 key pair (node:crypto, OpenSSL's implementation). */
export function generateSigningKey(): SigningKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519', {
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { keyId: keyIdOf(publicKey), publicKey, privateKey };
}

/**
 * The key pair of an Ed25519 private key in PEM (PKCS#8, e.g. made by `openssl genpkey -algorithm
 * ed25519`), such as a key file given to the hub.
 * @throws TypeError when the text is not an Ed25519 private key (the message never quotes it).
 */
export function signingKeyFromPem(privateKey: string): SigningKeyPair {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKey);
  } catch (err) {
    throw new TypeError('no PEM private key', { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new TypeError(`a ${key.asymmetricKeyType ?? 'unknown'} key, not an Ed25519 key`);
  const publicKey = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  return { keyId: keyIdOf(publicKey), publicKey, privateKey };
}

/**
 * The id of a public key: `ed25519:` and the first 16 bytes (32 hex digits) of the SHA-256 of its DER
 * SubjectPublicKeyInfo, so anyone holding the PEM can compute it again.
 */
export function keyIdOf(publicKey: string | KeyObject): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const der = key.export({ type: 'spki', format: 'der' });
  return `ed25519:${hash('sha256', der, 'hex').slice(0, 32)}`;
}

/** Signs checkpoints with one private key; the key stays inside this object (never logged, never returned). */
export class CheckpointSigner {
  readonly keyId: string;
  readonly publicKey: string;
  readonly #privateKey: KeyObject;

  constructor(pair: SigningKeyPair) {
    this.#privateKey = createPrivateKey(pair.privateKey);
    if (this.#privateKey.asymmetricKeyType !== 'ed25519')
      throw new TypeError('a checkpoint signing key is an Ed25519 key');
    const derived = createPublicKey(this.#privateKey).export({ type: 'spki', format: 'pem' }).toString();
    this.publicKey = derived;
    this.keyId = keyIdOf(derived);
    if (this.keyId !== pair.keyId) throw new TypeError('the public key does not belong to the private key');
  }

  /** The signed checkpoint of `chainHash` at `position`, signed at `signedAt`. */
  sign(position: number, chainHash: string, signedAt: string): SignedCheckpoint {
    const message = Buffer.from(checkpointMessage({ position, chainHash, signedAt }), 'utf8');
    return {
      position,
      chainHash,
      signedAt,
      keyId: this.keyId,
      message: message.toString('base64'),
      signature: sign(null, message, this.#privateKey).toString('base64'),
    };
  }
}

/**
 * Why a checkpoint does not stand on its own: undefined when its message is the canonical message of
 * its position, hash and time, and its signature verifies under `publicKey` (whose id it names).
 */
export function checkpointSignatureProblem(
  c: SignedCheckpoint,
  publicKey: KeyObject,
  keyId: string,
): string | undefined {
  if (c.keyId !== keyId) return `it names key ${c.keyId}, not the public key given (${keyId})`;
  let expected: string;
  try {
    expected = checkpointMessage(c);
  } catch (err) {
    return `its fields are not those of a checkpoint: ${(err as Error).message}`;
  }
  const message = Buffer.from(c.message, 'base64');
  if (!message.equals(Buffer.from(expected, 'utf8'))) return `its signed message is not "${expected}"`;
  const signature = Buffer.from(c.signature, 'base64');
  if (signature.length !== 64 || !verify(null, message, publicKey, signature))
    return 'its signature does not verify under the public key';
  return undefined;
}
