// Any UTF-16 code unit above 0x7f. ASCII text is already NFC, so such strings skip `normalize`.
const NON_ASCII = /[\u0080-\uffff]/;

const nfcString = (value: string): string => (NON_ASCII.test(value) ? value.normalize('NFC') : value);

// By tag, not prototype identity: objects from another realm (structuredClone in a VM context, a
// worker) are plain too and must not slip through unnormalised.
const isPlainObject = (value: object): value is Record<string, unknown> => {
  if (Object.prototype.toString.call(value) !== '[object Object]') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
};

function nfc(value: unknown): unknown {
  if (typeof value === 'string') return nfcString(value);
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out: unknown[] = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = nfc(value[i]);
    return out;
  }
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const normalized = nfc(value[key]);
    if (key === '__proto__') {
      // An own `__proto__` (from JSON.parse) must stay a plain property, not set the copy's prototype.
      Object.defineProperty(out, key, {
        value: normalized,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[nfcString(key)] = normalized;
    }
  }
  return out;
}

/**
 * Returns a deep copy of `value` in which every string — values and object keys — is in Unicode
 * Normalization Form C, so `Nguye\u0302\u0303n` (NFD, as macOS and some web forms send it) becomes
 * `Nguyễn`. Arrays and plain objects are copied; other values are returned as they are. When two keys
 * of one object normalise to the same key, the later one wins.
 */
export function normalizeNfc<T>(value: T): T {
  return nfc(value) as T;
}
