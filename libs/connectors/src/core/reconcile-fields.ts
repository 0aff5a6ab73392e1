import { time, type FieldRule } from '#lgsp/reconciliation';
import { parseVn, rfc3339Instant, type DateFormat } from './vn-time.js';

const FORMATS: readonly DateFormat[] = ['portal', 'legacy', 'iso', 'twelveHour', 'dateOnly'];

/**
 * The instant (epoch ms) of a time written in the system's `format`, or in another of the Vietnam
 * formats or RFC 3339 (a system that writes the same instant another way agrees with the log).
 */
export function vnInstant(text: string, format: DateFormat): number | undefined {
  const t = text.trim();
  for (const f of [format, ...FORMATS.filter((f) => f !== format)]) {
    const ms = parseVn(t, f);
    if (ms !== undefined) return ms;
  }
  const ms = rfc3339Instant(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A reconciliation field rule for a time a system writes in `format` (see {@link vnInstant}). */
export const vnTime = (format: DateFormat): FieldRule => time((text) => vnInstant(text, format));
