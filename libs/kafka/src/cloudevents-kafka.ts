/**
 * The CloudEvents Kafka protocol binding 1.0, as the hub speaks it. Pure functions: no client library.
 * - Out (the relay): binary content mode. `ce_<attribute>` headers carry the context attributes as
 *   UTF-8 text, `content-type` carries `datacontenttype`, the value is the JSON of `data`.
 * - In (the ingest topic): binary mode as above, or structured mode (`content-type:
 *   application/cloudevents+json`, the value is the whole event as JSON).
 * Unlike the HTTP binding, header values are not percent-encoded.
 */
import {
  CLOUDEVENTS_BATCH_JSON,
  CLOUDEVENTS_JSON,
  DomainError,
  hasUtf8Charset,
  isJsonEssence,
  parseMediaType,
  parseStrictJson,
  parseTraceparent,
  pointerToken,
  type CloudEvent,
  type Issue,
} from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import { UnroutableEventError } from './errors.js';

/** A header value as Kafka clients hand it over: bytes, or text that is sent as UTF-8. */
export type KafkaHeaderValue = Buffer | string;
/** Headers of a Kafka record; a name that occurs more than once carries an array. */
export type KafkaHeaders = Readonly<
  Record<string, KafkaHeaderValue | readonly KafkaHeaderValue[] | undefined>
>;

/** A relayed event as a Kafka record (the relay chooses the topic). */
export interface KafkaEventMessage {
  /** The dossier code: all events of a dossier go to one partition, in stream order. */
  key: string;
  /** The JSON of `data`; null for an event without data. */
  value: string | null;
  headers: Record<string, string>;
}

/** Prefix of the headers that carry CloudEvents attributes. */
export const CE_HEADER_PREFIX = 'ce_';
export const CONTENT_TYPE_HEADER = 'content-type';
/** W3C Trace Context headers, copied from the distributed-tracing extension so Kafka tooling sees them. */
export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';
/** Where the event sits in the hub's log; subscribers use them to detect a redelivery. */
export const LGSP_POSITION_HEADER = 'lgsp_position';
export const LGSP_STREAM_HEADER = 'lgsp_stream';
export const LGSP_STREAM_VERSION_HEADER = 'lgsp_stream_version';

const DOSSIER_STREAM_PREFIX = 'dossier-';
const JSON_CONTENT_TYPE = 'application/json';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const nonEmptyString = (value: unknown): value is string => typeof value === 'string' && value !== '';

/**
 * The Kafka key of a stored event: `data.dossierCode`, else the stream name without `dossier-`.
 * @throws UnroutableEventError when the event names no dossier.
 */
export function dossierCodeOf(event: StoredEvent): string {
  const fromData = isRecord(event.data) ? event.data['dossierCode'] : undefined;
  if (nonEmptyString(fromData)) return fromData;
  if (event.stream.startsWith(DOSSIER_STREAM_PREFIX) && event.stream.length > DOSSIER_STREAM_PREFIX.length) {
    return event.stream.slice(DOSSIER_STREAM_PREFIX.length);
  }
  throw new UnroutableEventError(
    event,
    'it names no dossier (no data.dossierCode, stream is not dossier-*)',
    [{ pointer: '/data/dossierCode', message: 'is required to choose the Kafka key' }],
  );
}

/**
 * The province whose topic receives a stored event: its indexed `provinceCode`, else `data.provinceCode`.
 * @throws UnroutableEventError when the event has none.
 */
export function provinceCodeOf(event: StoredEvent): string {
  if (nonEmptyString(event.provinceCode)) return event.provinceCode;
  const fromData = isRecord(event.data) ? event.data['provinceCode'] : undefined;
  if (nonEmptyString(fromData)) return fromData;
  throw new UnroutableEventError(event, 'it has no province code, so it has no province topic', [
    { pointer: '/data/provinceCode', message: 'is required to choose the province topic' },
  ]);
}

/**
 * A stored event as a binary-mode Kafka record: `ce_*` headers for the attributes (extensions included,
 * numbers and booleans as text), `content-type: application/json`, `traceparent`/`tracestate` when the
 * event carries them, and `lgsp_position`, `lgsp_stream`, `lgsp_stream_version`. The value is `data` as
 * JSON; the key is the dossier code.
 * @throws UnroutableEventError when the event names no dossier.
 */
export function toKafkaMessage(event: StoredEvent): KafkaEventMessage {
  const headers: Record<string, string> = {};
  // Extensions first, so that no extension can shadow a core attribute's header.
  for (const [name, value] of Object.entries(event.extensions))
    headers[CE_HEADER_PREFIX + name] = String(value);
  headers['ce_specversion'] = '1.0';
  headers['ce_id'] = event.id;
  headers['ce_source'] = event.source;
  headers['ce_type'] = event.type;
  if (event.time !== undefined) headers['ce_time'] = event.time;
  if (event.subject !== undefined) headers['ce_subject'] = event.subject;
  if (event.dataschema !== undefined) headers['ce_dataschema'] = event.dataschema;
  const { traceparent, tracestate } = event.extensions;
  if (typeof traceparent === 'string') headers[TRACEPARENT_HEADER] = traceparent;
  if (typeof tracestate === 'string') headers[TRACESTATE_HEADER] = tracestate;
  headers[LGSP_POSITION_HEADER] = String(event.position);
  headers[LGSP_STREAM_HEADER] = event.stream;
  headers[LGSP_STREAM_VERSION_HEADER] = String(event.streamVersion);
  let value: string | null = null;
  if (event.data !== undefined) {
    // The value is re-serialised JSON in UTF-8, whatever JSON media type the producer declared.
    headers[CONTENT_TYPE_HEADER] = JSON_CONTENT_TYPE;
    value = JSON.stringify(event.data);
  }
  return { key: dossierCodeOf(event), value, headers };
}

// ---------------------------------------------------------------------------------------------------
// Reading (the ingest topic)

/** What {@link fromKafkaMessage} reads of a consumed record. */
export interface KafkaEventInput {
  headers: KafkaHeaders | undefined;
  value: Buffer | string | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const malformed = (message: string, issues: Issue[] = [{ pointer: '', message }]): DomainError =>
  new DomainError('malformed', message, issues);

const REQUIRED_ATTRIBUTES = ['specversion', 'id', 'source', 'type'] as const;

/** Attributes a binary-mode header may not set: the value is the data. */
const NOT_FROM_HEADERS: ReadonlySet<string> = new Set(['', '__proto__', 'data', 'data_base64']);

/** Text of a header or value: bytes must be UTF-8, and text handed over as a string valid Unicode. */
function decodeText(value: KafkaHeaderValue, what: string, pointer: string): string {
  if (typeof value === 'string') {
    if (value.isWellFormed()) return value;
    throw malformed(`${what} is not valid Unicode`, [{ pointer, message: 'holds a lone UTF-16 surrogate' }]);
  }
  try {
    return utf8.decode(value);
  } catch {
    throw malformed(`${what} is not valid UTF-8`, [{ pointer, message: 'is not valid UTF-8' }]);
  }
}

/** The `ce_*` and `content-type` headers, names lower-cased, each once, values decoded as UTF-8. */
function readHeaders(headers: KafkaHeaders | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const [rawName, rawValue] of Object.entries(headers ?? {})) {
    if (rawValue === undefined) continue;
    const name = rawName.toLowerCase();
    // Other headers (tracing, the producer's own) are not the event's business.
    if (!name.startsWith(CE_HEADER_PREFIX) && name !== CONTENT_TYPE_HEADER) continue;
    const values = Array.isArray(rawValue)
      ? (rawValue as readonly KafkaHeaderValue[])
      : [rawValue as KafkaHeaderValue];
    if (values.length === 0) continue;
    const pointer = name.startsWith(CE_HEADER_PREFIX)
      ? `/${pointerToken(name.slice(CE_HEADER_PREFIX.length))}`
      : '';
    if (values.length > 1 || out.has(name)) {
      throw malformed(`header ${name} appears more than once`, [
        { pointer, message: `header ${name} is repeated` },
      ]);
    }
    out.set(name, decodeText(values[0] as KafkaHeaderValue, `header ${name}`, pointer));
  }
  return out;
}

/**
 * Parses a JSON value: strict UTF-8, BOM stripped, no own `__proto__` member (so no later copy or merge
 * can turn it into a prototype). `pointer` is where the value sits in the event.
 */
function parseJson(value: Buffer | string, what: string, pointer: string): unknown {
  let text = decodeText(value, what, pointer);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return parseStrictJson(text, what, pointer);
}

const isEmpty = (value: Buffer | string | null): value is null => value === null || value.length === 0;

function structured(value: Buffer | string | null): Record<string, unknown> {
  if (isEmpty(value)) throw malformed(`a ${CLOUDEVENTS_JSON} message needs a value: the event as JSON`);
  const event = parseJson(value, 'the message value', '');
  if (!isRecord(event))
    throw malformed(`a ${CLOUDEVENTS_JSON} message value must be one JSON object (the event)`);
  return event;
}

function binary(headers: Map<string, string>, value: Buffer | string | null): Record<string, unknown> {
  const event: Record<string, unknown> = {};
  for (const [name, text] of headers) {
    if (!name.startsWith(CE_HEADER_PREFIX)) continue;
    const attribute = name.slice(CE_HEADER_PREFIX.length);
    if (NOT_FROM_HEADERS.has(attribute)) {
      throw malformed(`header ${name} is not accepted: in binary mode the message value is the event data`, [
        { pointer: `/${pointerToken(attribute)}`, message: `header ${name} is not accepted` },
      ]);
    }
    event[attribute] = text;
  }
  // The binding maps `content-type` to `datacontenttype`; some producers (the CloudEvents SDK among
  // them) send `ce_datacontenttype` as well, which is accepted when the two agree.
  const contentType = headers.get(CONTENT_TYPE_HEADER);
  const declared = headers.get('ce_datacontenttype');
  if (contentType !== undefined && declared !== undefined && contentType !== declared) {
    throw malformed(`header ce_datacontenttype (${declared}) contradicts content-type (${contentType})`, [
      { pointer: '/datacontenttype', message: 'ce_datacontenttype and content-type differ' },
    ]);
  }
  const dataContentType = contentType ?? declared;
  if (dataContentType !== undefined) {
    const mediaType = parseMediaType(dataContentType);
    if (mediaType === undefined || !isJsonEssence(mediaType.essence) || !hasUtf8Charset(mediaType)) {
      throw malformed(
        `content-type ${dataContentType} is not accepted: the event data must be JSON in UTF-8`,
        [{ pointer: '/datacontenttype', message: 'must be application/json or a +json media type' }],
      );
    }
    event['datacontenttype'] = dataContentType;
  }
  // No value is an event without data; the schema then says whether its type needs data.
  if (!isEmpty(value)) event['data'] = parseJson(value, 'the message value (the event data)', '/data');
  return event;
}

/**
 * Reads a CloudEvent from a Kafka record of the ingest topic: structured mode when `content-type` is
 * `application/cloudevents+json`, binary mode when there is a `ce_specversion` header. Header names are
 * matched case-insensitively; values must be UTF-8. JSON is held to the limits and I-JSON rules of
 * `parseStrictJson`. Checks the envelope only (the required attributes are non-empty text); the schemas
 * are checked at ingest.
 * @throws DomainError `malformed` for anything that is not one JSON CloudEvent (batch mode, no CloudEvents
 *   headers, a media type other than JSON, bad UTF-8 or JSON, not I-JSON, repeated headers), `too-large`
 *   for JSON beyond a limit.
 */
export function fromKafkaMessage(message: KafkaEventInput): CloudEvent {
  const headers = readHeaders(message.headers);
  const contentType = headers.get(CONTENT_TYPE_HEADER);
  const mediaType = contentType === undefined ? undefined : parseMediaType(contentType);
  let event: Record<string, unknown>;
  if (mediaType?.essence === CLOUDEVENTS_JSON) {
    if (!hasUtf8Charset(mediaType))
      throw malformed(`content-type ${contentType} is not accepted: JSON is UTF-8`);
    event = structured(message.value);
  } else if (mediaType?.essence === CLOUDEVENTS_BATCH_JSON) {
    throw malformed(`${CLOUDEVENTS_BATCH_JSON} is not accepted on Kafka: produce one event per message`);
  } else if (headers.has('ce_specversion')) {
    event = binary(headers, message.value);
  } else {
    throw malformed(
      'the message is not a CloudEvent: send content-type application/cloudevents+json (structured mode) ' +
        'or ce_specversion, ce_id, ce_source and ce_type headers with JSON data (binary mode)',
    );
  }
  const issues: Issue[] = [];
  for (const attribute of REQUIRED_ATTRIBUTES) {
    if (!nonEmptyString(event[attribute])) {
      issues.push({ pointer: `/${attribute}`, message: 'is required: a non-empty string' });
    }
  }
  if (issues.length > 0) {
    throw malformed(`the CloudEvent lacks ${issues.map((i) => i.pointer.slice(1)).join(', ')}`, issues);
  }
  return event as CloudEvent;
}

/**
 * The record's W3C `traceparent` header (the trace the producer sent it in), when it holds one valid
 * traceparent; undefined otherwise (absent, repeated or malformed: W3C Trace Context says to ignore it).
 */
export function traceparentHeader(headers: KafkaHeaders | undefined): string | undefined {
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() !== TRACEPARENT_HEADER || value === undefined || Array.isArray(value)) continue;
    const text = Buffer.isBuffer(value) ? value.toString('latin1') : (value as string);
    return parseTraceparent(text) === undefined ? undefined : text;
  }
  return undefined;
}
