import { createHash } from 'node:crypto';
import type { StoredEvent } from './port.js';

/** prevHash of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted, so equal values always hash alike whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * SHA-256 (hex) of a stored record chained to the previous record's hash. Every adapter computes
 * it the same way, so a chain can be verified whatever store holds it.
 */
export function recordHash(prevHash: string, e: Omit<StoredEvent, 'hash' | 'prevHash'>): string {
  const material = canonicalJson([
    prevHash,
    e.position,
    e.stream,
    e.streamVersion,
    e.source,
    e.id,
    e.type,
    e.time ?? null,
    e.subject ?? null,
    e.datacontenttype ?? null,
    e.dataschema ?? null,
    e.recordedAt,
    e.data ?? null,
    e.extensions,
    e.provinceCode ?? null,
    e.communeCode ?? null,
  ]);
  return createHash('sha256').update(material).digest('hex');
}

/** Checks a contiguous run of records; returns the first position whose hash or link is wrong. */
export function verifyChain(
  events: readonly StoredEvent[],
  expectedPrevHash: string = GENESIS_HASH,
): { ok: true } | { ok: false; position: number; reason: string } {
  let prev = expectedPrevHash;
  for (const e of events) {
    if (e.prevHash !== prev) return { ok: false, position: e.position, reason: 'prevHash does not link' };
    const { hash, prevHash: _p, ...rest } = e;
    if (recordHash(prev, rest) !== hash) return { ok: false, position: e.position, reason: 'hash mismatch' };
    prev = hash;
  }
  return { ok: true };
}
