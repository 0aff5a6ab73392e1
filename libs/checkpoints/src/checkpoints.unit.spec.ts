import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import {
  CHECKPOINT_EXPORT_FORMAT,
  CheckpointCheck,
  CheckpointSigner,
  checkpointMessage,
  generateSigningKey,
  keyIdOf,
  parseCheckpointExport,
  signingKeyFromPem,
  type CheckpointExport,
  type SignedCheckpoint,
} from './index.js';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);
const AT = '2026-12-06T08:00:00.000Z';

const pair = generateSigningKey();
const signer = new CheckpointSigner(pair);

function exportOf(checkpoints: SignedCheckpoint[]): CheckpointExport {
  return {
    format: CHECKPOINT_EXPORT_FORMAT,
    algorithm: 'Ed25519',
    keyId: signer.keyId,
    publicKey: signer.publicKey,
    checkpoints,
  };
}

/** A check fed the records at `hashes` (position → hash), then asked at `head`. */
function verdictOf(checkpoints: SignedCheckpoint[], hashes: Record<number, string>, head: number) {
  const check = new CheckpointCheck(exportOf(checkpoints));
  for (const [position, hash] of Object.entries(hashes)) check.observe({ position: Number(position), hash });
  return check.verdict(head);
}

describe('checkpointMessage', () => {
  it('is lgsp-checkpoint:v1:<position>:<chain hash>:<signedAt>', () => {
    expect(checkpointMessage({ position: 10000, chainHash: HASH_A, signedAt: AT })).toBe(
      `lgsp-checkpoint:v1:10000:${HASH_A}:${AT}`,
    );
  });

  it.each([
    [{ position: 0, chainHash: HASH_A, signedAt: AT }, 'positive integer'],
    [{ position: 1.5, chainHash: HASH_A, signedAt: AT }, 'positive integer'],
    [{ position: 1, chainHash: HASH_A.toUpperCase(), signedAt: AT }, '64 lowercase hex'],
    [{ position: 1, chainHash: 'ab', signedAt: AT }, '64 lowercase hex'],
    [{ position: 1, chainHash: HASH_A, signedAt: '6 Dec 2026' }, 'RFC 3339'],
  ])('refuses %j', (c, why) => {
    expect(() => checkpointMessage(c)).toThrow(why);
  });
});

describe('CheckpointSigner', () => {
  it('signs the UTF-8 of the message with Ed25519, verifiable with the PEM public key alone', () => {
    const c = signer.sign(42, HASH_A, AT);
    const message = Buffer.from(c.message, 'base64');
    expect(message.toString('utf8')).toBe(`lgsp-checkpoint:v1:42:${HASH_A}:${AT}`);
    expect(c).toMatchObject({ position: 42, chainHash: HASH_A, signedAt: AT, keyId: pair.keyId });
    const signature = Buffer.from(c.signature, 'base64');
    expect(signature).toHaveLength(64);
    expect(verify(null, message, createPublicKey(signer.publicKey), signature)).toBe(true);
    expect(
      verify(null, Buffer.from(`${message.toString()}x`), createPublicKey(signer.publicKey), signature),
    ).toBe(false);
  });

  it('exposes the public key as PEM SPKI and an id derived from it, never the private key', () => {
    expect(signer.publicKey).toMatch(
      /^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n$/,
    );
    expect(signer.keyId).toMatch(/^ed25519:[0-9a-f]{32}$/);
    expect(keyIdOf(signer.publicKey)).toBe(signer.keyId);
    expect(JSON.stringify(signer)).not.toContain('PRIVATE');
    expect(Object.values(signer).join()).not.toContain('PRIVATE');
  });

  it('refuses a key pair whose halves do not belong together, and a key that is not Ed25519', () => {
    const other = generateSigningKey();
    expect(() => new CheckpointSigner({ ...pair, keyId: other.keyId })).toThrow('does not belong');
    const rsa = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    expect(
      () => new CheckpointSigner({ keyId: 'x', publicKey: rsa.publicKey, privateKey: rsa.privateKey }),
    ).toThrow('Ed25519');
  });
});

describe('signingKeyFromPem', () => {
  it('takes an Ed25519 private key in PEM (PKCS#8), as a key file holds it', () => {
    const { privateKey } = generateKeyPairSync('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const pairOfFile = signingKeyFromPem(privateKey);
    expect(pairOfFile.privateKey).toBe(privateKey);
    expect(pairOfFile.keyId).toBe(keyIdOf(pairOfFile.publicKey));
    expect(new CheckpointSigner(pairOfFile).keyId).toBe(pairOfFile.keyId);
  });

  it('refuses another kind of key, or text that is no key, without quoting it', () => {
    const rsa = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    expect(() => signingKeyFromPem(rsa.privateKey)).toThrow('a rsa key, not an Ed25519 key');
    expect(() => signingKeyFromPem('secret-looking text')).toThrow(/^no PEM private key$/);
  });
});

describe('CheckpointCheck', () => {
  const c3 = signer.sign(3, HASH_A, AT);
  const c6 = signer.sign(6, HASH_B, '2026-12-06T08:10:00.000Z');

  it('holds when each signature verifies and the record at each position has the signed hash', () => {
    expect(verdictOf([c6, c3], { 3: HASH_A, 6: HASH_B }, 7)).toEqual({
      ok: true,
      checked: 2,
      last: { position: 6, chainHash: HASH_B, signedAt: '2026-12-06T08:10:00.000Z' },
    });
    expect(verdictOf([], {}, 7)).toEqual({ ok: true, checked: 0 });
  });

  it('names the first checkpoint, in position order, whose record has another hash', () => {
    expect(verdictOf([c3, c6], { 3: HASH_B, 6: HASH_A }, 7)).toEqual({
      ok: false,
      checked: 0,
      mismatch: {
        position: 3,
        chainHash: HASH_A,
        signedAt: AT,
        kind: 'hash',
        reason: `the record stored there has chain hash ${HASH_B}, not the signed ${HASH_A}`,
      },
    });
    expect(verdictOf([c3, c6], { 3: HASH_A, 6: HASH_A }, 7)).toMatchObject({
      ok: false,
      checked: 1,
      mismatch: { position: 6, kind: 'hash' },
    });
  });

  it('fails a checkpoint beyond the head of the log (a truncated log)', () => {
    expect(verdictOf([c3, c6], { 3: HASH_A }, 5)).toMatchObject({
      ok: false,
      checked: 1,
      mismatch: { position: 6, kind: 'beyond-head', reason: 'the log ends at position 5' },
    });
  });

  it('fails a checkpoint whose hash, time or signature was changed, or that another key signed', () => {
    const hashes = { 3: HASH_A, 6: HASH_B };
    const changed: [SignedCheckpoint, string][] = [
      [{ ...c3, chainHash: HASH_B }, 'its signed message is not'],
      [{ ...c3, signedAt: '2026-12-07T08:00:00.000Z' }, 'its signed message is not'],
      [
        {
          ...c3,
          chainHash: HASH_B,
          message: Buffer.from(checkpointMessage({ ...c3, chainHash: HASH_B })).toString('base64'),
        },
        'its signature does not verify',
      ],
      [{ ...c3, signature: Buffer.alloc(64).toString('base64') }, 'its signature does not verify'],
      [{ ...c3, signature: 'AAAA' }, 'its signature does not verify'],
      [new CheckpointSigner(generateSigningKey()).sign(3, HASH_A, AT), 'it names key'],
    ];
    for (const [c, reason] of changed) {
      const verdict = verdictOf([c, c6], { ...hashes, 3: c.chainHash }, 7);
      expect(verdict).toMatchObject({ ok: false, checked: 0, mismatch: { position: 3, kind: 'signature' } });
      expect(verdict.ok ? '' : verdict.mismatch.reason).toContain(reason);
    }
  });

  it('checks each checkpoint under the key it names, among every key of the export', () => {
    const next = new CheckpointSigner(generateSigningKey());
    const c9 = next.sign(9, HASH_A, AT);
    const both = {
      ...exportOf([c3, c6, c9]),
      keyId: next.keyId,
      publicKey: next.publicKey,
      keys: [
        { keyId: signer.keyId, publicKey: signer.publicKey },
        { keyId: next.keyId, publicKey: next.publicKey },
      ],
    };
    const check = new CheckpointCheck(both);
    for (const [position, hash] of [
      [3, HASH_A],
      [6, HASH_B],
      [9, HASH_A],
    ] as const)
      check.observe({ position, hash });
    expect(check.verdict(9)).toMatchObject({ ok: true, checked: 3 });
    const withoutOld = new CheckpointCheck({ ...both, keys: undefined });
    withoutOld.observe({ position: 3, hash: HASH_A });
    expect(withoutOld.verdict(9)).toMatchObject({
      ok: false,
      mismatch: {
        position: 3,
        kind: 'signature',
        reason: `it names key ${signer.keyId}, which is not among the public keys`,
      },
    });
  });

  it('refuses a public key that is not the named Ed25519 key', () => {
    const other = generateSigningKey();
    expect(() => new CheckpointCheck({ ...exportOf([]), publicKey: other.publicKey })).toThrow(
      `the public key's id is ${other.keyId}, not ${signer.keyId}`,
    );
    expect(() => new CheckpointCheck({ ...exportOf([]), publicKey: 'nope' })).toThrow('not a PEM public key');
  });
});

describe('parseCheckpointExport', () => {
  it('reads an export back as written, with its keys when it has them', () => {
    const e = exportOf([signer.sign(3, HASH_A, AT)]);
    expect(parseCheckpointExport(JSON.parse(JSON.stringify(e)))).toEqual(e);
    const withKeys = { ...e, keys: [{ keyId: e.keyId, publicKey: e.publicKey }] };
    expect(parseCheckpointExport(JSON.parse(JSON.stringify(withKeys)))).toEqual(withKeys);
    expect(() => parseCheckpointExport({ ...e, keys: [{ keyId: 1 }] })).toThrow(
      '/keys/0/keyId: must be a string',
    );
  });

  it.each([
    [[], '/: must be an object'],
    [{ format: 'other' }, '/format: must be "lgsp-checkpoints/v1"'],
    [{ format: CHECKPOINT_EXPORT_FORMAT, algorithm: 'Ed448' }, '/algorithm'],
    [{ format: CHECKPOINT_EXPORT_FORMAT, algorithm: 'Ed25519', keyId: 'k' }, '/publicKey: must be a string'],
    [
      {
        format: CHECKPOINT_EXPORT_FORMAT,
        algorithm: 'Ed25519',
        keyId: 'k',
        publicKey: 'p',
        checkpoints: [{}],
      },
      '/checkpoints/0/position: must be an integer',
    ],
    [
      {
        format: CHECKPOINT_EXPORT_FORMAT,
        algorithm: 'Ed25519',
        keyId: 'k',
        publicKey: 'p',
        checkpoints: [{ position: 1, chainHash: HASH_A, signedAt: AT, keyId: 'k', message: 'm' }],
      },
      '/checkpoints/0/signature: must be a string',
    ],
  ])('names the first bad member of %j', (value, message) => {
    expect(() => parseCheckpointExport(value)).toThrow(message);
  });
});
