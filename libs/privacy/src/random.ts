import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

/**
 * `n` (≤ 256) random bytes from the CSPRNG, drawn from a pool filled 4 KiB at a time: one call into
 * OpenSSL per 4 KiB instead of one per IV (an IV per sealed value). Not for keys: a key's bytes would
 * stay in the pool. The view is valid until the next call; copy it to keep it.
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
