// The Kafka contract, schemas/asyncapi.yaml: parsed and validated with @asyncapi/parser, then checked
// against the event catalogue (schemas/events/<name>/v1.json) and the decided topics and headers.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  DiagnosticSeverity,
  Parser,
  fromFile,
  type AsyncAPIDocumentInterface,
  type ChannelInterface,
  type Diagnostic,
  type MessageInterface,
} from '@asyncapi/parser';
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import {
  AdminUnits,
  EVENT_TYPES,
  EventSchemas,
  INGEST_TYPES,
  eventSchemaId,
  findRepoFile,
} from '#lgsp/contracts';
import { DEAD_LETTER_CODES } from '#lgsp/kafka';

// ajv and ajv-formats are CommonJS: the default import is the export itself or a namespace holding it.
const interopDefault = <T>(mod: T | { default: T }): T =>
  typeof mod === 'object' && mod !== null && 'default' in mod ? mod.default : (mod as T);
const Ajv = interopDefault(AjvModule as unknown as typeof AjvModule.default);
const addFormats = interopDefault(addFormatsModule as unknown as typeof addFormatsModule.default);

const ASYNCAPI_FILE = findRepoFile('schemas/asyncapi.yaml');
const SCHEMAS_DIR = dirname(ASYNCAPI_FILE);

const PROVINCE_CHANNEL = 'lgsp.events.province.{provinceCode}';
const INGEST_CHANNEL = 'lgsp.ingest';
const DEAD_LETTER_CHANNEL = 'lgsp.ingest.dlq';
/** The payload format the contract declares for the event schemas (see the test "reads the same…" below). */
const DRAFT_07 = 'application/schema+json;version=draft-07';

const CLOUDEVENTS_HEADERS = ['ce_specversion', 'ce_id', 'ce_source', 'ce_type'];
const OPTIONAL_CLOUDEVENTS_HEADERS = [
  'ce_time',
  'ce_subject',
  'ce_dataschema',
  'ce_traceparent',
  'content-type',
  'traceparent',
];
const HUB_HEADERS = ['lgsp_position', 'lgsp_stream', 'lgsp_stream_version'];
const DEAD_LETTER_HEADERS = [
  'lgsp_dlq_reason',
  'lgsp_dlq_code',
  'lgsp_dlq_errors',
  'lgsp_original_topic',
  'lgsp_original_partition',
  'lgsp_original_offset',
  'lgsp_original_timestamp',
];

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The catalogue as the schema folders define it: `schemas/events/<name>/v<N>.json` →
 * `vn.gov.lgsp.<name>.v<N>`, every version.
 */
function catalogue(): { type: string; name: string; file: string; schema: Json }[] {
  return readdirSync(join(SCHEMAS_DIR, 'events'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) =>
      readdirSync(join(SCHEMAS_DIR, 'events', entry.name))
        .map((file) => /^v([1-9][0-9]*)\.json$/.exec(file))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => ({
          type: `vn.gov.lgsp.${entry.name}.v${m[1]}`,
          name: entry.name,
          file: join(SCHEMAS_DIR, 'events', entry.name, m[0]),
          schema: JSON.parse(readFileSync(join(SCHEMAS_DIR, 'events', entry.name, m[0]), 'utf8')) as Json,
        })),
    )
    .sort((a, b) => a.type.localeCompare(b.type));
}

/** The properties of an object schema and of the schemas it combines with `allOf`, merged. */
function headerProperties(schema: unknown): Map<string, Json> {
  const out = new Map<string, Json>();
  if (!isRecord(schema)) return out;
  for (const part of Array.isArray(schema['allOf']) ? schema['allOf'] : []) {
    for (const [name, definition] of headerProperties(part)) out.set(name, definition);
  }
  if (isRecord(schema['properties'])) {
    for (const [name, definition] of Object.entries(schema['properties'])) {
      if (isRecord(definition)) out.set(name, { ...out.get(name), ...definition });
    }
  }
  return out;
}

/** The `required` names of a schema and of the schemas it combines with `allOf`. */
function requiredHeaders(schema: unknown): Set<string> {
  const out = new Set<string>();
  if (!isRecord(schema)) return out;
  for (const part of Array.isArray(schema['allOf']) ? schema['allOf'] : []) {
    for (const name of requiredHeaders(part)) out.add(name);
  }
  for (const name of Array.isArray(schema['required']) ? schema['required'] : []) out.add(String(name));
  return out;
}

const channelAt = (document: AsyncAPIDocumentInterface, address: string): ChannelInterface | undefined =>
  document
    .channels()
    .all()
    .find((channel) => channel.address() === address);

/** The `ce_type` a message is for: the `const` of its `ce_type` header. */
const eventTypeOf = (message: MessageInterface): unknown =>
  headerProperties(message.headers()?.json()).get('ce_type')?.['const'];

/** What the contract lacks, one sentence each; empty when it describes every decided topic, event type and header. */
function contractProblems(document: AsyncAPIDocumentInterface): string[] {
  const problems: string[] = [];
  for (const address of [PROVINCE_CHANNEL, INGEST_CHANNEL, DEAD_LETTER_CHANNEL]) {
    if (channelAt(document, address) === undefined) problems.push(`no channel ${address}`);
  }
  const expectOperation = (action: 'send' | 'receive', address: string) => {
    const found = document
      .operations()
      .all()
      .some(
        (op) =>
          op.action() === action &&
          op
            .channels()
            .all()
            .some((channel) => channel.address() === address),
      );
    if (!found) problems.push(`no ${action} operation on ${address}`);
  };
  expectOperation('send', PROVINCE_CHANNEL);
  expectOperation('receive', INGEST_CHANNEL);
  expectOperation('send', DEAD_LETTER_CHANNEL);

  const province = channelAt(document, PROVINCE_CHANNEL);
  if (province === undefined) return problems;
  if (!province.parameters().has('provinceCode'))
    problems.push(`${PROVINCE_CHANNEL} has no provinceCode parameter`);
  const messages = province.messages().all();
  for (const { type, schema } of catalogue()) {
    const message = messages.find((m) => eventTypeOf(m) === type);
    if (message === undefined) {
      problems.push(`no message for ${type} on ${PROVINCE_CHANNEL}`);
      continue;
    }
    const payload = message.payload();
    if (payload?.id() !== schema['$id'] || payload?.title() !== schema['title']) {
      problems.push(`the payload of ${type} is not ${String(schema['$id'])} (got ${String(payload?.id())})`);
    }
    const headers = headerProperties(message.headers()?.json());
    for (const name of [...CLOUDEVENTS_HEADERS, ...HUB_HEADERS]) {
      if (!headers.has(name)) problems.push(`the message of ${type} has no header ${name}`);
    }
  }
  return problems;
}

/** Parses a text as if it were schemas/asyncapi.yaml, so that its relative `$ref`s resolve from there. */
const parseAsContract = (text: string) => new Parser().parse(text, { source: ASYNCAPI_FILE });

const describeDiagnostic = (d: Diagnostic): string => `${d.code} at ${d.path.join('.')}: ${d.message}`;

describe('schemas/asyncapi.yaml', () => {
  let document: AsyncAPIDocumentInterface;
  let diagnostics: Diagnostic[];

  beforeAll(async () => {
    // fromFile passes the path as `source`, so `./events/...` and `../../common/...` resolve from the file.
    const parsed = await fromFile(new Parser(), ASYNCAPI_FILE).parse();
    diagnostics = parsed.diagnostics;
    if (parsed.document === undefined) {
      throw new Error(`asyncapi.yaml does not parse:\n${diagnostics.map(describeDiagnostic).join('\n')}`);
    }
    document = parsed.document;
  }, 60_000);

  it('is a valid AsyncAPI 3.0.0 document, with no error or warning', () => {
    expect(document.version()).toBe('3.0.0');
    const serious = diagnostics.filter(
      (d) => d.severity === DiagnosticSeverity.Error || d.severity === DiagnosticSeverity.Warning,
    );
    expect(serious.map(describeDiagnostic)).toEqual([]);
  });

  it('describes every topic, operation, event type and the headers the contract decides', () => {
    expect(contractProblems(document)).toEqual([]);
  });

  it('fails the checks when a topic or an event type is missing', async () => {
    const text = readFileSync(ASYNCAPI_FILE, 'utf8');
    const edit = (from: string, to: string, on: string): string => {
      expect(on).toContain(from);
      return on.replace(from, to);
    };
    // The dead-letter channel renamed, and the province channel's transferred message swapped for another.
    let mutated = edit(`address: ${DEAD_LETTER_CHANNEL}`, 'address: lgsp.ingest.rejected', text);
    mutated = edit(
      `dossierTransferred:\n        $ref: '#/components/messages/dossierTransferred'`,
      `dossierTransferred:\n        $ref: '#/components/messages/dossierSubmitted'`,
      mutated,
    );
    const { document: broken } = await parseAsContract(mutated);
    expect(broken).toBeDefined();
    expect(contractProblems(broken!)).toEqual([
      `no channel ${DEAD_LETTER_CHANNEL}`,
      `no send operation on ${DEAD_LETTER_CHANNEL}`,
      `no message for vn.gov.lgsp.dossier.transferred.v1 on ${PROVINCE_CHANNEL}`,
    ]);
  }, 60_000);

  it('has one message per catalogue type on the province channel, each with its resolved schema', () => {
    const types = catalogue().map((entry) => entry.type);
    expect(types).toEqual([...EVENT_TYPES]);
    const messages = channelAt(document, PROVINCE_CHANNEL)!.messages().all();
    expect(messages.map(eventTypeOf).sort()).toEqual(types);
    for (const { type, schema } of catalogue()) {
      const message = messages.find((m) => eventTypeOf(m) === type)!;
      expect(message.name()).toBe(type);
      const payload = message.payload()!;
      expect(payload.schemaFormat()).toBe(DRAFT_07);
      expect(payload.id()).toBe(eventSchemaId(type as (typeof EVENT_TYPES)[number]));
      expect(payload.title()).toBe(schema['title']);
      expect(payload.required()).toEqual(schema['required']);
      // The file's `$ref`s into common/v1.json are resolved from the file's own folder.
      expect(payload.properties()?.['dossierCode']?.pattern()).toBe('^[0-9A-Za-z][0-9A-Za-z._-]*$');
      expect(message.contentType()).toBe('application/json');
    }
  });

  it('documents every header of the province topics, the key and the partitions', () => {
    const province = channelAt(document, PROVINCE_CHANNEL)!;
    const parameter = province.parameters().get('provinceCode')!;
    expect(parameter.location()).toBe('$message.payload#/provinceCode');
    const codes = parameter.json<{ enum: string[] }>().enum;
    expect(codes).toHaveLength(34);
    expect(new Set(codes).size).toBe(34);
    for (const code of codes) expect(code).toMatch(/^[0-9]{2}$/);
    for (const { code } of AdminUnits.sample().provinces()) expect(codes).toContain(code);
    expect(province.bindings().get('kafka')?.value()).toMatchObject({ partitions: 6 });

    for (const message of province.messages().all()) {
      const schema = message.headers()!.json<Json>();
      const headers = headerProperties(schema);
      for (const name of [...CLOUDEVENTS_HEADERS, ...OPTIONAL_CLOUDEVENTS_HEADERS, ...HUB_HEADERS]) {
        expect([message.name(), name, headers.get(name)?.['description']]).toEqual([
          message.name(),
          name,
          expect.any(String),
        ]);
      }
      expect([...requiredHeaders(schema)].sort()).toEqual([...CLOUDEVENTS_HEADERS, ...HUB_HEADERS].sort());
      expect(headers.get('ce_specversion')?.['const']).toBe('1.0');
      expect(headers.get('content-type')?.['const']).toBe('application/json');
      expect(isRecord(schema['patternProperties'])).toBe(false); // extensions come from CloudEventsBinaryHeaders
      const key = message.bindings().get('kafka')?.value()?.['key'] as Json;
      expect(JSON.stringify(key)).toContain('^[0-9A-Za-z][0-9A-Za-z._-]*$');
    }
  });

  it('documents both ingest modes and the dead-letter headers', () => {
    const ingest = channelAt(document, INGEST_CHANNEL)!.messages().all();
    expect(ingest.map((m) => m.contentType()).sort()).toEqual([
      'application/cloudevents+json',
      'application/json',
    ]);
    const binary = ingest.find((m) => m.contentType() === 'application/json')!;
    const binaryHeaders = headerProperties(binary.headers()!.json());
    for (const name of [...CLOUDEVENTS_HEADERS, ...OPTIONAL_CLOUDEVENTS_HEADERS]) {
      expect(binaryHeaders.has(name)).toBe(true);
    }
    for (const name of HUB_HEADERS) expect(binaryHeaders.has(name)).toBe(false);
    const binaryData = (binary.payload()!.oneOf() ?? []).map((schema) => schema.id()).sort();
    expect(binaryData).toEqual(INGEST_TYPES.map(eventSchemaId).sort());
    const structured = ingest.find((m) => m.contentType() === 'application/cloudevents+json')!;
    const structuredData = (structured.payload()!.oneOf() ?? []).map((schema) =>
      schema.properties()?.['data']?.id(),
    );
    expect(structuredData.sort()).toEqual(INGEST_TYPES.map(eventSchemaId).sort());

    const [deadLetter, ...others] = channelAt(document, DEAD_LETTER_CHANNEL)!.messages().all();
    expect(others).toEqual([]);
    const schema = deadLetter!.headers()!.json();
    const headers = headerProperties(schema);
    for (const name of DEAD_LETTER_HEADERS)
      expect(headers.get(name)?.['description']).toEqual(expect.any(String));
    expect([...requiredHeaders(schema)].sort()).toEqual([...DEAD_LETTER_HEADERS].sort());
    // The contract lists exactly the codes the ingest consumer dead-letters.
    expect([...(headers.get('lgsp_dlq_code')?.['enum'] as string[])].sort()).toEqual(
      [...DEAD_LETTER_CODES].sort(),
    );
  });

  it('has examples that are valid events, with valid headers', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const schemas = EventSchemas.shared();
    let checked = 0;
    for (const message of document.messages().all()) {
      const validateHeaders = ajv.compile(message.headers()?.json() ?? {});
      for (const example of message.examples().all()) {
        const label = `${message.id()} example ${example.name() ?? ''}`;
        expect([label, validateHeaders(example.headers()), validateHeaders.errors ?? []]).toEqual([
          label,
          true,
          [],
        ]);
        const type = example.headers()?.['ce_type'];
        expect([label, type === eventTypeOf(message) || message.id() === 'deadLetter']).toEqual([
          label,
          true,
        ]);
        if (example.hasPayload()) {
          const validateData = schemas.validator(String(type))!;
          expect([label, validateData(example.payload()), validateData.errors ?? []]).toEqual([
            label,
            true,
            [],
          ]);
        }
        checked++;
      }
    }
    expect(checked).toBe(EVENT_TYPES.length + 1);
  });
});

// The event schemas are JSON Schema 2020-12 files, and the contract declares them as draft-07
// (`application/schema+json;version=draft-07`), the JSON Schema format every AsyncAPI 3.0 tool supports.
// That is exact only while they use keywords that mean the same in both drafts: this test keeps it so.
describe('the event schemas, read as draft-07', () => {
  const SAME_IN_BOTH = new Set([
    '$schema',
    '$id',
    '$ref',
    '$defs',
    'title',
    'description',
    'type',
    'enum',
    'const',
    'format',
    'pattern',
    'minLength',
    'maxLength',
    'minimum',
    'maximum',
    'minItems',
    'maxItems',
    'uniqueItems',
    'items',
    'properties',
    'required',
    'additionalProperties',
    'oneOf',
    'anyOf',
    'allOf',
    'not',
    // Conditionals (draft-07 introduced them; 2020-12 kept their meaning): a document's number by its kind.
    'if',
    'then',
    'else',
    // An annotation (the personal fields, #lgsp/privacy), with no meaning for validation in either draft.
    'x-personal-data',
  ]);

  /** Keywords outside SAME_IN_BOTH, and `$ref`s with siblings (ignored by draft-07), as pointers. */
  function differences(schema: unknown, at: string): string[] {
    if (!isRecord(schema)) return [];
    const found: string[] = [];
    for (const [keyword, value] of Object.entries(schema)) {
      if (!SAME_IN_BOTH.has(keyword)) found.push(`${at}/${keyword}`);
      // An annotation beside a `$ref` means nothing in either draft.
      const siblings = Object.keys(schema).filter((k) => k !== '$ref' && k !== 'x-personal-data');
      if (keyword === '$ref' && siblings.length > 0) found.push(`${at}/$ref has siblings`);
      if (keyword === 'properties' || keyword === '$defs') {
        for (const [name, sub] of Object.entries(isRecord(value) ? value : {})) {
          found.push(...differences(sub, `${at}/${keyword}/${name}`));
        }
      } else if (Array.isArray(value)) {
        if (keyword === 'items') found.push(`${at}/items is an array`);
        value.forEach((sub, i) => found.push(...differences(sub, `${at}/${keyword}/${i}`)));
      } else if (isRecord(value)) {
        found.push(...differences(value, `${at}/${keyword}`));
      }
    }
    return found;
  }

  it('use only keywords that mean the same in draft-07 and 2020-12', () => {
    const files = [join(SCHEMAS_DIR, 'common', 'v1.json'), ...catalogue().map(({ file }) => file)];
    for (const file of files) {
      const schema: unknown = JSON.parse(readFileSync(file, 'utf8'));
      expect([file, differences(schema, '')]).toEqual([file, []]);
    }
  });

  it('are told apart from keywords that differ', () => {
    expect(
      differences(
        {
          prefixItems: [{ type: 'string' }],
          properties: { a: { $ref: '#/$defs/x', description: 'x' }, b: { items: [{}] } },
        },
        '',
      ),
    ).toEqual(['/prefixItems', '/properties/a/$ref has siblings', '/properties/b/items is an array']);
  });
});
