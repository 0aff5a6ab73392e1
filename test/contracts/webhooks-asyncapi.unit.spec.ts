// The webhook contract, schemas/webhooks.asyncapi.yaml: parsed with @asyncapi/parser, then the bodies
// and headers the delivery builds (`structuredEvent`, `messageId`, `signatureHeader`) checked against it.
import {
  DiagnosticSeverity,
  Parser,
  fromFile,
  type AsyncAPIDocumentInterface,
  type Diagnostic,
  type MessageInterface,
} from '@asyncapi/parser';
import AjvModule, { type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { Webhook } from 'standardwebhooks';
import { EVENT_TYPES, eventSchemaId, exampleEvent, findRepoFile, type EventType } from '#lgsp/contracts';
import type { Extensions, StoredEvent } from '#lgsp/event-store';
import {
  CLOUDEVENTS_JSON,
  generateSecret,
  messageId,
  newWebhookId,
  secretKey,
  signatureHeader,
  structuredEvent,
} from '#lgsp/webhooks';

// ajv and ajv-formats are CommonJS: the default import is the export itself or a namespace holding it.
const interopDefault = <T>(mod: T | { default: T }): T =>
  typeof mod === 'object' && mod !== null && 'default' in mod ? mod.default : (mod as T);
const Ajv = interopDefault(AjvModule as unknown as typeof AjvModule.default);
const addFormats = interopDefault(addFormatsModule as unknown as typeof addFormatsModule.default);

const CONTRACT_FILE = findRepoFile('schemas/webhooks.asyncapi.yaml');
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const REPLAY_ID = '0b6f3c1e-2d4a-4e8b-9f10-6a7c5d3e2b19';

type Json = Record<string, unknown>;

const describeDiagnostic = (d: Diagnostic): string => `${d.code} at ${d.path.join('.')}: ${d.message}`;

/** The example event of a type as the store returns it: core attributes, extensions apart, log metadata. */
function storedExample(type: EventType, position: number): StoredEvent {
  const event = exampleEvent(type, `evt-${position}`);
  const extensions: Extensions = { traceparent: TRACEPARENT, expectedversion: 2, urgent: false };
  return {
    id: event.id,
    source: event.source,
    type: event.type,
    ...(event.time === undefined ? {} : { time: event.time }),
    subject: 'example',
    ...(event.datacontenttype === undefined ? {} : { datacontenttype: event.datacontenttype }),
    dataschema: eventSchemaId(type),
    data: event.data,
    extensions,
    provinceCode: '51',
    communeCode: '21040',
    position,
    stream: 'dossier-000.00.15.H55-250701-0001',
    streamVersion: 3,
    recordedAt: '2025-07-01T01:30:05.123Z',
    hash: 'a'.repeat(64),
    prevHash: 'b'.repeat(64),
  };
}

/** The body as the receiver reads it: the JSON the delivery sends, parsed. */
const wire = (body: Json): Json => JSON.parse(JSON.stringify(body)) as Json;

/** The validation errors of a value, empty when it is valid. */
function errorsOf(validate: ValidateFunction, value: unknown): string[] {
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

describe('schemas/webhooks.asyncapi.yaml', () => {
  let document: AsyncAPIDocumentInterface;
  let diagnostics: Diagnostic[];
  let message: MessageInterface;
  let validateBody: ValidateFunction;
  let validateHeaders: ValidateFunction;

  beforeAll(async () => {
    const parsed = await fromFile(new Parser(), CONTRACT_FILE).parse();
    diagnostics = parsed.diagnostics;
    if (parsed.document === undefined) {
      throw new Error(
        `webhooks.asyncapi.yaml does not parse:\n${diagnostics.map(describeDiagnostic).join('\n')}`,
      );
    }
    document = parsed.document;
    const messages = document.messages().all();
    expect(messages).toHaveLength(1);
    message = messages[0]!;
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    // The payload is a multi-format schema: `{schemaFormat, schema}`, with its `$ref`s resolved.
    validateBody = ajv.compile(message.payload()!.json<{ schema: Json }>().schema);
    validateHeaders = ajv.compile(message.headers()!.json());
  }, 60_000);

  it('is a valid AsyncAPI 3.0.0 document, with no error or warning', () => {
    expect(document.version()).toBe('3.0.0');
    const serious = diagnostics.filter(
      (d) => d.severity === DiagnosticSeverity.Error || d.severity === DiagnosticSeverity.Warning,
    );
    expect(serious.map(describeDiagnostic)).toEqual([]);
  });

  it('has the hub send one signed message per event over HTTP POST to the subscriber’s https endpoint', () => {
    const [server, ...otherServers] = document.servers().all();
    expect(otherServers).toEqual([]);
    expect(server!.protocol()).toBe('https');
    expect(server!.host()).toBe('{host}');
    expect(server!.variables().has('host')).toBe(true);
    const [scheme] = server!.security().flatMap((requirement) => requirement.all());
    expect(scheme!.scheme().json()).toMatchObject({
      type: 'httpApiKey',
      in: 'header',
      name: 'webhook-signature',
    });
    expect(scheme!.scheme().description()).toContain('whsec_');

    const [channel, ...otherChannels] = document.channels().all();
    expect(otherChannels).toEqual([]);
    const [operation, ...otherOperations] = document.operations().all();
    expect(otherOperations).toEqual([]);
    expect(operation!.action()).toBe('send');
    expect(
      operation!
        .channels()
        .all()
        .map((c) => c.id()),
    ).toEqual([channel!.id()]);
    expect(operation!.bindings().get('http')?.value()).toMatchObject({ method: 'POST' });
    expect(
      operation!
        .messages()
        .all()
        .map((m) => m.id()),
    ).toEqual([message.id()]);

    expect(message.contentType()).toBe(CLOUDEVENTS_JSON);
    expect(message.payload()!.schemaFormat()).toBe('application/schema+json;version=draft-07');
    const data = (message.payload()!.oneOf() ?? []).map((schema) => schema.properties()?.['data']?.id());
    expect(data.sort()).toEqual(EVENT_TYPES.map(eventSchemaId).sort());
  });

  it.each([...EVENT_TYPES])(
    'accepts the body the delivery builds for %s, first sent and replayed',
    (type) => {
      const event = storedExample(type, 1041);
      expect(errorsOf(validateBody, wire(structuredEvent(event)))).toEqual([]);
      expect(errorsOf(validateBody, wire(structuredEvent(event, REPLAY_ID)))).toEqual([]);
      expect(errorsOf(validateBody, wire(structuredEvent({ ...event, extensions: {} })))).toEqual([]);
    },
  );

  it('refuses a body without lgspposition, or whose data is not of its type', () => {
    const body = wire(structuredEvent(storedExample('vn.gov.lgsp.payment.failed.v1', 7)));
    expect(errorsOf(validateBody, body)).toEqual([]);
    const { lgspposition: _position, ...withoutPosition } = body;
    expect(errorsOf(validateBody, withoutPosition)).toContain(" must have required property 'lgspposition'");
    expect(errorsOf(validateBody, { ...body, lgspposition: 0 })).not.toEqual([]);
    expect(errorsOf(validateBody, { ...body, lgspstreamversion: '3' })).not.toEqual([]);
    expect(errorsOf(validateBody, { ...body, type: 'vn.gov.lgsp.payment.completed.v1' })).not.toEqual([]);
    expect(errorsOf(validateBody, { ...body, 'Bad-Name': 'x' })).not.toEqual([]);
    expect(errorsOf(validateBody, { ...body, tags: ['x'] })).not.toEqual([]);
  });

  describe('the headers', () => {
    const webhook = newWebhookId(Date.parse('2026-12-06T02:00:00Z'));
    const event = storedExample('vn.gov.lgsp.civil-status.registered.v1', 1235);
    const body = JSON.stringify(structuredEvent(event));
    const timestamp = Math.floor(Date.now() / 1000);
    const current = generateSecret();
    const previous = generateSecret();

    const headersFor = (secrets: string[]): Record<string, string> => {
      const id = messageId(webhook, event.position);
      return {
        'content-type': CLOUDEVENTS_JSON,
        'user-agent': 'lgsp-hub-webhooks/1',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signatureHeader(secrets.map(secretKey), id, timestamp, body),
      };
    };

    it('accept a delivery signed with one key, and with two during a rotation', () => {
      const one = headersFor([current]);
      const two = headersFor([current, previous]);
      expect(two['webhook-signature']!.split(' ')).toHaveLength(2);
      expect(errorsOf(validateHeaders, one)).toEqual([]);
      expect(errorsOf(validateHeaders, two)).toEqual([]);
      // What the contract says to verify with verifies them, under either secret.
      expect(new Webhook(current).verify(body, one)).toEqual(JSON.parse(body));
      expect(new Webhook(previous).verify(body, two)).toEqual(JSON.parse(body));
    });

    it('refuse a bad webhook-signature, webhook-id or webhook-timestamp', () => {
      const good = headersFor([current]);
      const signature = good['webhook-signature']!;
      for (const bad of [
        '',
        signature.slice(3),
        signature.replace('v1,', 'v2,'),
        `${signature},${signature}`,
        `${signature} `,
        'v1,c2lnbmF0dXJl',
      ]) {
        expect([bad, errorsOf(validateHeaders, { ...good, 'webhook-signature': bad })]).toEqual([
          bad,
          [expect.stringContaining('/webhook-signature')],
        ]);
      }
      expect(errorsOf(validateHeaders, { ...good, 'webhook-id': webhook })).not.toEqual([]);
      expect(errorsOf(validateHeaders, { ...good, 'webhook-timestamp': '2026-12-06T02:00:00Z' })).not.toEqual(
        [],
      );
      expect(errorsOf(validateHeaders, { ...good, 'content-type': 'application/json' })).not.toEqual([]);
      const { 'webhook-signature': _signature, ...unsigned } = good;
      expect(errorsOf(validateHeaders, unsigned)).not.toEqual([]);
    });
  });

  it('has examples that are valid deliveries', () => {
    const examples = message.examples().all();
    expect(examples.length).toBeGreaterThan(0);
    for (const example of examples) {
      expect(errorsOf(validateHeaders, example.headers())).toEqual([]);
      expect(errorsOf(validateBody, example.payload())).toEqual([]);
    }
  });
});
