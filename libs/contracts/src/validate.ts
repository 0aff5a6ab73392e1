import type { AdminUnits } from './admin-units.js';
import { CORE_ATTRIBUTES, EXPECTED_VERSION_ATTRIBUTE, type CloudEvent } from './cloudevent.js';
import { DomainError, pointerToken, type Issue } from './errors.js';
import { EVENT_TYPES, EventSchemas, type ErrorObject } from './schemas.js';
import { isJsonMediaType } from './media-type.js';
import { parseTraceparent, TRACEPARENT_ATTRIBUTE } from './trace-context.js';

/** CloudEvents 1.0: extension attribute names are 1-20 lower-case ASCII letters or digits. */
export const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;

// URI-reference (RFC 3986) never contains whitespace or control characters.
// eslint-disable-next-line no-control-regex
const NOT_IN_URI = /[\s\u0000-\u001f\u007f]/;
const NON_NEGATIVE_INTEGER_TEXT = /^(0|[1-9][0-9]{0,15})$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

const KNOWN_TYPES = EVENT_TYPES.join(', ');

/**
 * Longest text of a context attribute (`id`, `source`, `type`, `subject`, `dataschema`,
 * `datacontenttype`, an extension), in characters. UUIDs are 36 long, the catalogue's types under 50,
 * a W3C `tracestate` at most 512; the attributes are indexed (`source`, `id`), copied into every Kafka
 * record's headers and into the hash chain, so they stay short.
 */
export const MAX_ATTRIBUTE_LENGTH = 1_024;

/** Options of {@link EventValidator.validate}. */
export interface ValidateOptions {
  /**
   * The request carried one event (structured or binary mode): pointers start at the event
   * (`/data/communeCode`) instead of at its index in a batch (`/0/data/communeCode`).
   */
  single?: boolean;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses `expectedversion`: a non-negative integer, or its decimal text (binary-mode headers are text). */
function parseExpectedVersion(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === 'string' && NON_NEGATIVE_INTEGER_TEXT.test(value)) {
    const parsed = Number(value);
    return Number.isSafeInteger(parsed) ? parsed : undefined;
  }
  return undefined;
}

/**
 * The optimistic-concurrency version an event asks for (extension attribute `expectedversion`), or
 * `undefined` when it sets none. Accepts an integer or its decimal text.
 * @throws DomainError `invalid` when the attribute is present but not an integer >= 0.
 */
export function expectedVersionOf(event: CloudEvent): number | undefined {
  const value = event[EXPECTED_VERSION_ATTRIBUTE];
  if (value === undefined) return undefined;
  const version = parseExpectedVersion(value);
  if (version === undefined) {
    const message = 'must be an integer >= 0';
    throw new DomainError('invalid', `${EXPECTED_VERSION_ATTRIBUTE} ${message}`, [
      { pointer: `/${EXPECTED_VERSION_ATTRIBUTE}`, message },
    ]);
  }
  return version;
}

/** Name of the stream holding a dossier's events: `dossier-<dossierCode>`. */
export const streamForDossier = (dossierCode: string): string => `dossier-${dossierCode}`;

/**
 * The stream an event belongs to: `dossier-<data.dossierCode>` (every catalogue event names its dossier).
 * @throws DomainError `invalid` when `data.dossierCode` is not a non-empty string.
 */
export function streamOf(event: CloudEvent): string {
  const data = event.data;
  const dossierCode = isRecord(data) ? data['dossierCode'] : undefined;
  if (typeof dossierCode !== 'string' || dossierCode === '') {
    const message = 'must be a non-empty string';
    throw new DomainError('invalid', `data.dossierCode ${message}`, [
      { pointer: '/data/dossierCode', message },
    ]);
  }
  return streamForDossier(dossierCode);
}

/** A readable message for one ajv error; `pattern` and `format` errors also quote the schema's description. */
function ajvMessage(error: ErrorObject): string {
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a known property';
    // A property the schema forbids where it is (`"level": false`: a VNeID level on another document).
    case 'false schema':
      return 'is not accepted here';
    case 'enum': {
      const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues ?? [];
      return `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    case 'pattern':
    case 'format': {
      const description = (error.parentSchema as { description?: unknown } | undefined)?.description;
      const base = error.message ?? `must match ${error.keyword}`;
      return typeof description === 'string' ? `${base} (${description})` : base;
    }
    default:
      return error.message ?? `fails ${error.keyword}`;
  }
}

/** The pointer below `data` that an ajv error is about; `required` and `additionalProperties` name the property. */
function ajvPointer(error: ErrorObject): string {
  if (error.keyword === 'required') {
    return `${error.instancePath}/${pointerToken(String((error.params as { missingProperty: unknown }).missingProperty))}`;
  }
  if (error.keyword === 'additionalProperties') {
    return `${error.instancePath}/${pointerToken(String((error.params as { additionalProperty: unknown }).additionalProperty))}`;
  }
  return error.instancePath;
}

/** `persons` of a `dossier.submitted.v2` (schema-valid): exactly one applicant. */
function checkPersons(persons: readonly unknown[], at: string, issues: Issue[]): void {
  const applicants = persons.flatMap((p, i) => (isRecord(p) && p['role'] === 'applicant' ? [i] : []));
  if (applicants.length === 0) {
    issues.push({ pointer: `${at}/persons`, message: 'must hold one person with role applicant' });
  }
  for (const i of applicants.slice(1)) {
    issues.push({
      pointer: `${at}/persons/${i}/role`,
      message: 'a dossier has one applicant: use co-applicant',
    });
  }
}

/**
 * Validates CloudEvents against the envelope rules of CloudEvents 1.0 and the catalogue's JSON Schemas
 * (and, when given a list of administrative units, that the commune belongs to the province). Schemas are
 * compiled once per process; one instance can validate concurrently and should be reused.
 */
export class EventValidator {
  private readonly schemas: EventSchemas;
  private readonly adminUnits: AdminUnits | undefined;

  constructor(options?: { adminUnits?: AdminUnits; schemas?: EventSchemas }) {
    this.schemas = options?.schemas ?? EventSchemas.shared();
    this.adminUnits = options?.adminUnits;
  }

  /**
   * Checks a batch and returns every issue found (empty when all events are valid). Pointers address the
   * request as sent: event `i` of a batch is at `/i`; with `{ single: true }` the one event is the root.
   * Events are expected to be NFC-normalised already.
   */
  validate(events: readonly CloudEvent[], options?: ValidateOptions): Issue[] {
    const single = options?.single === true;
    if (single && events.length !== 1) {
      throw new RangeError(`validate({ single: true }) needs exactly one event, got ${events.length}`);
    }
    const issues: Issue[] = [];
    for (let i = 0; i < events.length; i++) {
      this.check(events[i], single ? '' : `/${i}`, issues);
    }
    return issues;
  }

  private check(event: unknown, at: string, issues: Issue[]): void {
    if (!isRecord(event)) {
      issues.push({ pointer: at, message: 'an event must be a JSON object' });
      return;
    }
    if (this.hasLongAttribute(event, at, issues)) return;
    const specversion = event['specversion'];
    if (specversion !== '1.0') {
      issues.push({
        pointer: `${at}/specversion`,
        message: specversion === undefined ? 'is required and must be "1.0"' : 'must be "1.0"',
      });
    }
    const id = event['id'];
    if (typeof id !== 'string' || id === '') {
      issues.push({ pointer: `${at}/id`, message: 'is required: a non-empty string' });
    }
    const source = event['source'];
    if (typeof source !== 'string' || source === '') {
      issues.push({ pointer: `${at}/source`, message: 'is required: a non-empty URI-reference' });
    } else if (NOT_IN_URI.test(source)) {
      issues.push({
        pointer: `${at}/source`,
        message: 'must be a URI-reference (no whitespace or control characters)',
      });
    }
    const time = event['time'];
    if (time !== undefined && !this.schemas.isDateTime(time)) {
      issues.push({
        pointer: `${at}/time`,
        message: 'must be an RFC 3339 date-time with an offset, e.g. 2025-07-01T08:30:00+07:00',
      });
    }
    const subject = event['subject'];
    if (subject !== undefined && (typeof subject !== 'string' || subject === '')) {
      issues.push({ pointer: `${at}/subject`, message: 'must be a non-empty string' });
    }
    const dataschema = event['dataschema'];
    if (
      dataschema !== undefined &&
      (typeof dataschema !== 'string' || dataschema === '' || NOT_IN_URI.test(dataschema))
    ) {
      issues.push({ pointer: `${at}/dataschema`, message: 'must be a non-empty URI' });
    }
    const contentType = event['datacontenttype'];
    if (contentType !== undefined && (typeof contentType !== 'string' || !isJsonMediaType(contentType))) {
      issues.push({
        pointer: `${at}/datacontenttype`,
        message: 'must be application/json or a +json media type (charset utf-8 if any)',
      });
    }
    if (event['data_base64'] !== undefined) {
      issues.push({
        pointer: `${at}/data_base64`,
        message: 'is not accepted: data must be JSON, in the data attribute',
      });
    }
    for (const name in event) {
      if (CORE_ATTRIBUTES.has(name)) continue;
      this.checkExtension(name, event[name], at, issues);
    }

    const type = event['type'];
    if (typeof type !== 'string' || type === '') {
      issues.push({ pointer: `${at}/type`, message: `is required: one of ${KNOWN_TYPES}` });
      return;
    }
    const validateData = this.schemas.validator(type);
    if (validateData === undefined) {
      issues.push({
        pointer: `${at}/type`,
        message: `unknown event type ${JSON.stringify(type)}; known types: ${KNOWN_TYPES}`,
      });
      return;
    }
    const data = event['data'];
    if (data === undefined) {
      issues.push({ pointer: `${at}/data`, message: `is required for ${type}` });
      return;
    }
    if (!validateData(data)) {
      this.pushSchemaIssues(validateData.errors ?? [], `${at}/data`, issues);
      return;
    }
    const record = data as Record<string, unknown>;
    if ((record['toProvinceCode'] === undefined) !== (record['toCommuneCode'] === undefined)) {
      const missing = record['toProvinceCode'] === undefined ? 'toProvinceCode' : 'toCommuneCode';
      issues.push({
        pointer: `${at}/data/${missing}`,
        message: 'is required with the other: a transfer to another commune names its province and commune',
      });
    }
    if (Array.isArray(record['persons'])) checkPersons(record['persons'] as unknown[], `${at}/data`, issues);
    if (this.adminUnits !== undefined) this.checkAdminUnits(record, `${at}/data`, issues);
  }

  /** Reports every attribute text longer than {@link MAX_ATTRIBUTE_LENGTH}; true when there is one. */
  private hasLongAttribute(event: Record<string, unknown>, at: string, issues: Issue[]): boolean {
    let found = false;
    for (const name in event) {
      const value = event[name];
      if (name === 'data' || typeof value !== 'string' || value.length <= MAX_ATTRIBUTE_LENGTH) continue;
      issues.push({
        pointer: `${at}/${pointerToken(name)}`,
        message: `must be at most ${MAX_ATTRIBUTE_LENGTH} characters`,
      });
      found = true;
    }
    return found;
  }

  private checkExtension(name: string, value: unknown, at: string, issues: Issue[]): void {
    const pointer = `${at}/${pointerToken(name)}`;
    if (!EXTENSION_NAME.test(name)) {
      issues.push({
        pointer,
        message: 'is not a CloudEvents attribute; extension names are 1-20 lower-case letters or digits',
      });
      return;
    }
    if (name === EXPECTED_VERSION_ATTRIBUTE) {
      if (parseExpectedVersion(value) === undefined) {
        issues.push({ pointer, message: 'must be an integer >= 0 (the stream version this append expects)' });
      }
      return;
    }
    // Stored with the event and sent on with it (Kafka headers, webhooks, the connectors' calls), where
    // a malformed one would break every tracer downstream: refused rather than passed on.
    if (name === TRACEPARENT_ATTRIBUTE) {
      if (parseTraceparent(value) === undefined) {
        issues.push({
          pointer,
          message:
            'must be a W3C traceparent: 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>, lower case, ids not all zero',
        });
      }
      return;
    }
    const valid =
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (Number.isInteger(value) && (value as number) >= INT32_MIN && (value as number) <= INT32_MAX);
    if (!valid) {
      issues.push({
        pointer,
        message: 'an extension attribute must be a string, a 32-bit integer or a boolean',
      });
    }
  }

  private pushSchemaIssues(errors: readonly ErrorObject[], at: string, issues: Issue[]): void {
    // A string failing both `format` and `pattern` of one definition is reported once.
    let lastTextPointer: string | undefined;
    for (const error of errors) {
      const pointer = at + ajvPointer(error);
      if (error.keyword === 'format' || error.keyword === 'pattern') {
        if (pointer === lastTextPointer) continue;
        lastTextPointer = pointer;
      }
      issues.push({ pointer, message: ajvMessage(error) });
    }
  }

  private checkAdminUnits(data: Record<string, unknown>, at: string, issues: Issue[]): void {
    this.checkUnitPair(data, 'provinceCode', 'communeCode', at, issues);
    // A transfer to another commune names the receiving one too (dossier.transferred).
    this.checkUnitPair(data, 'toProvinceCode', 'toCommuneCode', at, issues);
  }

  private checkUnitPair(
    data: Record<string, unknown>,
    provinceKey: string,
    communeKey: string,
    at: string,
    issues: Issue[],
  ): void {
    const units = this.adminUnits;
    const provinceCode = data[provinceKey];
    const communeCode = data[communeKey];
    if (units === undefined || typeof provinceCode !== 'string' || typeof communeCode !== 'string') return;
    if (!units.hasProvince(provinceCode)) {
      issues.push({ pointer: `${at}/${provinceKey}`, message: `unknown province code ${provinceCode}` });
    }
    const commune = units.commune(communeCode);
    if (commune === undefined) {
      issues.push({ pointer: `${at}/${communeKey}`, message: `unknown commune code ${communeCode}` });
    } else if (commune.provinceCode !== provinceCode) {
      issues.push({
        pointer: `${at}/${communeKey}`,
        message: `commune ${communeCode} belongs to province ${commune.provinceCode}, not ${provinceCode}`,
      });
    }
  }
}
