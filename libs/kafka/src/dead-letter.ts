import type { DomainError, Issue } from '#lgsp/contracts';
import type { ConsumedMessage, OutgoingHeaders, OutgoingMessage } from './client.js';

/** Headers the hub adds to a dead-lettered record (schemas/asyncapi.yaml). */
export const DLQ_REASON_HEADER = 'lgsp_dlq_reason';
export const DLQ_CODE_HEADER = 'lgsp_dlq_code';
/** JSON array of `{pointer, message}`, pointers into the event as in the HTTP API's problem details. */
export const DLQ_ERRORS_HEADER = 'lgsp_dlq_errors';
export const ORIGINAL_TOPIC_HEADER = 'lgsp_original_topic';
export const ORIGINAL_PARTITION_HEADER = 'lgsp_original_partition';
export const ORIGINAL_OFFSET_HEADER = 'lgsp_original_offset';
export const ORIGINAL_TIMESTAMP_HEADER = 'lgsp_original_timestamp';

const ADDED_HEADERS: ReadonlySet<string> = new Set([
  DLQ_REASON_HEADER,
  DLQ_CODE_HEADER,
  DLQ_ERRORS_HEADER,
  ORIGINAL_TOPIC_HEADER,
  ORIGINAL_PARTITION_HEADER,
  ORIGINAL_OFFSET_HEADER,
  ORIGINAL_TIMESTAMP_HEADER,
]);

/** Bounds what the headers add to the record, which must stay under the broker's record size limit. */
const MAX_ISSUES = 100;
const MAX_REASON_LENGTH = 2000;

/**
 * The dead-letter record for a refused ingest record: the original key, value and headers unchanged,
 * plus the reason (`lgsp_dlq_reason`, `lgsp_dlq_code`, `lgsp_dlq_errors`) and where the original was
 * (`lgsp_original_topic`, `_partition`, `_offset`, `_timestamp`). Headers of an earlier dead-lettering
 * (a record re-driven from the DLQ) are replaced, not repeated.
 */
export function deadLetterMessage(original: ConsumedMessage, error: DomainError): OutgoingMessage {
  const headers: OutgoingHeaders = {};
  for (const [name, value] of Object.entries(original.headers)) {
    if (value === undefined || ADDED_HEADERS.has(name.toLowerCase())) continue;
    headers[name] = Array.isArray(value) ? [...(value as (string | Buffer)[])] : (value as string | Buffer);
  }
  const issues: Issue[] = error.issues
    .slice(0, MAX_ISSUES)
    .map(({ pointer, message }) => ({ pointer, message }));
  headers[DLQ_REASON_HEADER] = error.message.slice(0, MAX_REASON_LENGTH);
  headers[DLQ_CODE_HEADER] = error.code;
  headers[DLQ_ERRORS_HEADER] = JSON.stringify(issues);
  headers[ORIGINAL_TOPIC_HEADER] = original.topic;
  headers[ORIGINAL_PARTITION_HEADER] = String(original.partition);
  headers[ORIGINAL_OFFSET_HEADER] = original.offset;
  headers[ORIGINAL_TIMESTAMP_HEADER] = original.timestamp;
  return { key: original.key, value: original.value, headers };
}
