/**
 * The CloudEvents 1.0 context attributes an event has besides `specversion`: `id`, `source` and
 * `type` always, the others when set. Shared by the CloudEvent as received and the event store's records.
 */
export interface CloudEventAttributes {
  id: string;
  source: string;
  type: string;
  time?: string;
  subject?: string;
  datacontenttype?: string;
  dataschema?: string;
}

/** A CloudEvents 1.0 event as the hub receives and stores it (JSON event format). */
export interface CloudEvent extends CloudEventAttributes {
  specversion: '1.0';
  data?: unknown;
  /** Extension attributes (lower-case alphanumeric names), e.g. `expectedversion`, `traceparent`. */
  [extension: string]: unknown;
}

/** The context attributes defined by the CloudEvents 1.0 specification; all other names are extensions. */
export const CORE_ATTRIBUTES: ReadonlySet<string> = new Set([
  'specversion',
  'id',
  'source',
  'type',
  'time',
  'subject',
  'datacontenttype',
  'dataschema',
  'data',
  'data_base64',
]);

/** The extension attribute a producer sets to make an append conditional on the stream's version. */
export const EXPECTED_VERSION_ATTRIBUTE = 'expectedversion';
