/** The CloudEvents distributed-tracing extension attributes (W3C Trace Context), stored with the event. */
export const TRACEPARENT_ATTRIBUTE = 'traceparent';
export const TRACESTATE_ATTRIBUTE = 'tracestate';

/** A parsed W3C `traceparent`: 32 and 16 lower-case hex digits, and the sampled flag. */
export interface TraceParent {
  traceId: string;
  spanId: string;
  /** The trace-flags byte (bit 0: sampled). */
  flags: number;
}

// version-traceid-parentid-flags; a later version may append fields after a dash (W3C §3.2.4).
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/**
 * Parses a W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header):
 * undefined when the text is not one, including version `ff`, an all-zero trace or parent id, upper-case
 * hex, and for version `00` anything after the flags.
 */
export function parseTraceparent(text: unknown): TraceParent | undefined {
  if (typeof text !== 'string' || text.length < 55 || text.length > 512) return undefined;
  const m = TRACEPARENT.exec(text);
  if (m === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, flags: parseInt(flags, 16) };
}

/** The `traceparent` text (version 00) of a trace context. */
export const formatTraceparent = (t: TraceParent): string =>
  `00-${t.traceId}-${t.spanId}-${(t.flags & 0xff).toString(16).padStart(2, '0')}`;
