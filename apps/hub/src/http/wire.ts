import { DomainError, type CloudEvent } from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';

/** A stored event as the read API returns it: the CloudEvent, and where the store put it. */
export interface WireEvent {
  position: number;
  stream: string;
  streamVersion: number;
  recordedAt: string;
  hash: string;
  event: CloudEvent;
}

export function toWire(e: StoredEvent): WireEvent {
  const event: CloudEvent = {
    specversion: '1.0',
    id: e.id,
    source: e.source,
    type: e.type,
    ...(e.time !== undefined ? { time: e.time } : {}),
    ...(e.subject !== undefined ? { subject: e.subject } : {}),
    ...(e.datacontenttype !== undefined ? { datacontenttype: e.datacontenttype } : {}),
    ...(e.dataschema !== undefined ? { dataschema: e.dataschema } : {}),
    ...e.extensions,
    data: e.data,
  };
  return {
    position: e.position,
    stream: e.stream,
    streamVersion: e.streamVersion,
    recordedAt: e.recordedAt,
    hash: e.hash,
    event,
  };
}

/** Parses an optional non-negative integer query parameter. */
export function intParam(
  query: Record<string, unknown>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = query[name];
  if (raw === undefined || raw === '') return fallback;
  const n = typeof raw === 'string' && /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new DomainError('malformed', `query parameter ${name} must be an integer from ${min} to ${max}`, [
      { pointer: `/${name}`, message: `must be an integer from ${min} to ${max}` },
    ]);
  }
  return n;
}

/** Parses an optional comma-separated list query parameter. */
export function listParam(
  query: Record<string, unknown>,
  name: string,
  pattern?: RegExp,
): string[] | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  const items = (Array.isArray(raw) ? raw.join(',') : String(raw))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = pattern ? items.filter((i) => !pattern.test(i)) : [];
  if (bad.length > 0) {
    throw new DomainError('malformed', `query parameter ${name} has invalid values: ${bad.join(', ')}`, [
      { pointer: `/${name}`, message: `invalid: ${bad.join(', ')}` },
    ]);
  }
  return items;
}
