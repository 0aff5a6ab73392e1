import { hash } from 'node:crypto';
import type { StoredEvent } from './port.js';

/** prevHash of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted, so equal values always hash alike whatever their key order. */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + canonicalJson(value[i]);
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      // Default sort compares UTF-16 code units, the order every adapter must reproduce.
      const keys = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const v = record[key];
        if (v === undefined) continue;
        out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(v)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      return JSON.stringify(value) ?? 'null';
  }
}

/**
 * SHA-256 (hex) of a stored record chained to the previous record's hash. Every adapter computes
 * it the same way, so a chain can be verified whatever store holds it.
 */
export function recordHash(prevHash: string, e: Omit<StoredEvent, 'hash' | 'prevHash'>): string {
  return recordHashOfJson(prevHash, e, canonicalJson(e.data ?? null), canonicalJson(e.extensions));
}

/**
 * `recordHash` for a writer that already holds the canonical JSON of `data` and `extensions` (it
 * stores that text), so nothing is serialised twice. The material is the canonical JSON array
 * [prevHash, position, stream, streamVersion, source, id, type, time, subject, datacontenttype,
 * dataschema, recordedAt, data, extensions, provinceCode, communeCode].
 */
export function recordHashOfJson(
  prevHash: string,
  e: Omit<StoredEvent, 'hash' | 'prevHash' | 'data' | 'extensions'>,
  dataJson: string,
  extensionsJson: string,
): string {
  const material =
    `[${JSON.stringify(prevHash)},${canonicalJson(e.position)},${JSON.stringify(e.stream)},` +
    `${canonicalJson(e.streamVersion)},${JSON.stringify(e.source)},${JSON.stringify(e.id)},` +
    `${JSON.stringify(e.type)},${canonicalJson(e.time ?? null)},${canonicalJson(e.subject ?? null)},` +
    `${canonicalJson(e.datacontenttype ?? null)},${canonicalJson(e.dataschema ?? null)},` +
    `${JSON.stringify(e.recordedAt)},${dataJson},${extensionsJson},` +
    `${canonicalJson(e.provinceCode ?? null)},${canonicalJson(e.communeCode ?? null)}]`;
  return hash('sha256', material, 'hex');
}
