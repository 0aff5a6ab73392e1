/** A CloudEvents 1.0 event as the hub receives and stores it (JSON event format). */
export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time?: string;
  subject?: string;
  datacontenttype?: string;
  dataschema?: string;
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
