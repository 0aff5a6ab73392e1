/**
 * Reading a message of a province topic: a CloudEvent in the Kafka binding's binary mode, as the hub
 * publishes it (schemas/asyncapi.yaml). Pure functions, no Kafka client.
 */

/** What the view needs of an event. */
export interface ProvinceEvent {
  /** `ce_source`: with `id`, the event's identity; a redelivery or a replay keeps both. */
  source: string;
  /** `ce_id` */
  id: string;
  /** `ce_type`, e.g. `vn.gov.lgsp.dossier.status-changed.v1` */
  type: string;
  /** `ce_time`, when the event has one. */
  time?: string;
  /** From `lgsp_stream` (`dossier-<code>`). */
  dossierCode: string;
  /** `lgsp_position`: the event's global position in the hub's log. */
  position: number;
  /** `lgsp_stream_version`: the event's version in its dossier's stream. */
  streamVersion: number;
  /** The value, parsed: the event's `data`. */
  data: unknown;
}

/** A message that is not a province event of the contract. Not retriable: the same bytes fail again. */
export class UnreadableMessageError extends Error {
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = 'UnreadableMessageError';
  }
}

const utf8 = new TextDecoder('utf-8');
const DECIMAL = /^[1-9][0-9]{0,15}$/;
const STREAM = /^dossier-([0-9A-Za-z][0-9A-Za-z._-]*)$/;

/**
 * A header value as text. kafkajs hands over Buffers (an array of them for a repeated header); the
 * NestJS Kafka transport decodes them first: to a string, to the parsed JSON when the text starts with
 * `{` or `[`, and leaves a Buffer that starts with a zero byte. Parsed JSON is written back with
 * `JSON.stringify`, which gives the same text for the same input, so a duplicate is still recognised.
 * @throws UnreadableMessageError for a repeated header.
 */
export function headerText(value: unknown, name = 'header'): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return utf8.decode(value);
  if (Array.isArray(value) && value.length > 0 && value.every((part) => part instanceof Uint8Array)) {
    if (value.length > 1) throw new UnreadableMessageError(`${name} appears ${value.length} times`);
    return utf8.decode(value[0] as Uint8Array);
  }
  return JSON.stringify(value);
}

/** Header names lower-cased, values as text. */
export function readHeaders(headers: Readonly<Record<string, unknown>> | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(headers ?? {})) {
    const text = headerText(value, name);
    if (text !== undefined) out.set(name.toLowerCase(), text);
  }
  return out;
}

function required(headers: Map<string, string>, name: string): string {
  const value = headers.get(name);
  if (value === undefined || value === '') throw new UnreadableMessageError(`header ${name} is missing`);
  return value;
}

function decimal(headers: Map<string, string>, name: string): number {
  const value = required(headers, name);
  if (!DECIMAL.test(value)) {
    throw new UnreadableMessageError(
      `header ${name} must be a positive decimal, got ${JSON.stringify(value)}`,
    );
  }
  return Number(value);
}

/** The value as JSON: bytes (the transport's `keepBinary`), text, or what the transport already parsed. */
function parseValue(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof Uint8Array || typeof value === 'string') {
    const text = typeof value === 'string' ? value : utf8.decode(value);
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new UnreadableMessageError(
        `the value is not JSON: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
  return value;
}

/**
 * The event in a province-topic message.
 * @throws UnreadableMessageError when a required header is missing or wrong, or the value is not JSON.
 */
export function readProvinceEvent(message: {
  headers?: Readonly<Record<string, unknown>>;
  value: unknown;
}): ProvinceEvent {
  const headers = readHeaders(message.headers);
  const specversion = required(headers, 'ce_specversion');
  if (specversion !== '1.0') {
    throw new UnreadableMessageError(`ce_specversion ${JSON.stringify(specversion)} is not 1.0`);
  }
  const stream = required(headers, 'lgsp_stream');
  const dossierCode = STREAM.exec(stream)?.[1];
  if (dossierCode === undefined) {
    throw new UnreadableMessageError(
      `header lgsp_stream must be dossier-<dossierCode>, got ${JSON.stringify(stream)}`,
    );
  }
  const contentType = headers.get('content-type');
  if (contentType !== undefined && !/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new UnreadableMessageError(`content-type ${JSON.stringify(contentType)} is not application/json`);
  }
  const event: ProvinceEvent = {
    source: required(headers, 'ce_source'),
    id: required(headers, 'ce_id'),
    type: required(headers, 'ce_type'),
    dossierCode,
    position: decimal(headers, 'lgsp_position'),
    streamVersion: decimal(headers, 'lgsp_stream_version'),
    data: parseValue(message.value),
  };
  const time = headers.get('ce_time');
  if (time !== undefined) event.time = time;
  return event;
}
