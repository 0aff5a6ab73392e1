/**
 * Transport-neutral domain errors. Libraries throw these; only the edges map a `code`: the HTTP layer
 * to a status, the Kafka ingest consumer to a dead-letter record or a retry. Every error says whether
 * retrying can help.
 */
export type DomainErrorCode =
  | 'malformed' // the input is not parseable (bad JSON, bad CloudEvents envelope)
  | 'unauthenticated'
  | 'forbidden' // authenticated, but out of the caller's scope
  | 'not-found'
  | 'conflict' // expected-version conflict
  | 'too-large'
  | 'unsupported-media-type'
  | 'invalid' // schema or semantic validation failed
  | 'rate-limited'
  | 'unavailable'; // a dependency (store, broker) is down; retry later

/** Every {@link DomainErrorCode}, for closed sets such as metric labels. */
export const DOMAIN_ERROR_CODES: readonly DomainErrorCode[] = Object.freeze(
  Object.keys({
    malformed: 0,
    unauthenticated: 0,
    forbidden: 0,
    'not-found': 0,
    conflict: 0,
    'too-large': 0,
    'unsupported-media-type': 0,
    invalid: 0,
    'rate-limited': 0,
    unavailable: 0,
  } satisfies Record<DomainErrorCode, 0>) as DomainErrorCode[],
);

/** One failing location in the input, as an RFC 6901 JSON pointer into the request body. */
export interface Issue {
  pointer: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly issues: readonly Issue[] = [],
    options?: { cause?: unknown; retriable?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainError';
    this.retriable = options?.retriable ?? (code === 'unavailable' || code === 'rate-limited');
  }
  readonly retriable: boolean;
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;

/** Escapes one reference token for an RFC 6901 JSON pointer. */
export const pointerToken = (token: string | number): string =>
  String(token).replace(/~/g, '~0').replace(/\//g, '~1');
