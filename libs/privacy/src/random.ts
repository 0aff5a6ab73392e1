import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

/**
 * `n` (≤ 256) random bytes from the CSPRNG, drawn from a pool filled 4 KiB at a time: one call into
 * OpenSSL per 4 KiB instead of one per IV (an IV per sealed value). The view is valid until the next
 * call; copy it to keep it. For secret bytes, see {@link randomSecret}.
 */
export function randomView(n: number): Buffer {
  if (used + n > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const view = pool.subarray(used, used + n);
  used += n;
  return view;
}

/**
 * `n` secret random bytes (a key's) from the same pool, the pool's copy overwritten with zeros at once:
 * the caller owns the only copy, and zeroes it when done.
 */
export function randomSecret(n: number): Buffer {
  const view = randomView(n);
  const bytes = Buffer.allocUnsafeSlow(n);
  view.copy(bytes);
  view.fill(0);
  return bytes;
}

/**
 * A key id that sorts by creation time: the milliseconds in base 36 (9 characters), then 12 random
 * bytes (base64url). New keys then land at the end of the kid index instead of on a random page of it.
 */
export function timeOrderedId(nowMs: number): string {
  return Math.floor(nowMs).toString(36).padStart(9, '0') + randomView(12).toString('base64url');
}
