import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  EVENT_SCHEMA_NAMES,
  EVENT_SCHEMA_VERSIONS,
  EVENT_TYPES,
  EventSchemas,
  INGEST_TYPES,
  eventSchemaId,
  type EventType,
} from '#lgsp/contracts';
import type { Role } from '#lgsp/security';

/**
 * The OpenAPI 3.1 document of the hub's HTTP API, served at `/openapi.json` (the reference page at
 * `/docs` reads it). It names every route the `api` role serves except the console's HTML pages
 * (`/console…`) and the reference page itself (`/docs…`): the route-coverage test compares it with the
 * routes the application registers, both ways. The event payloads are the catalogue's JSON Schemas
 * (`schemas/`), copied under `components.schemas` with their `$ref`s pointed there.
 *
 * Public by design: it is the route catalogue and nothing else (no configuration, no client, no
 * scope-dependent data), the same for every caller.
 */
export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, unknown>> };

/** Paths the application serves that the document leaves out, by prefix: HTML pages, not the API. */
export const UNDOCUMENTED_PREFIXES = ['/console', '/docs'] as const;

type Schema = Record<string, unknown>;
type Method = 'get' | 'post' | 'patch' | 'delete';

/** Who may call a route: client roles (bearer token), anyone, or the payment platform (signed body). */
type Callers = readonly Role[] | 'anyone' | 'metrics' | 'payment-platform';

interface Route {
  method: Method;
  /** OpenAPI form: `/v1/streams/{stream}`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  callers: Callers;
  query?: readonly Schema[];
  headers?: readonly Schema[];
  /** A JSON object body (`application/json`), or the full `requestBody`. */
  body?: Schema;
  requestBody?: Schema;
  /** The success answer: status, description, and a JSON schema or a full `content`. */
  ok: { status: number; description: string; schema?: Schema; content?: Schema };
  /** A second success answer, with the same body. */
  alsoOk?: { status: number; description: string };
  /** Failure statuses beyond the ones every route of its kind may answer. */
  errors?: readonly number[];
}

const ALL_CLIENTS: readonly Role[] = ['admin', 'operator', 'province', 'commune'];
const OPERATORS: readonly Role[] = ['admin', 'operator'];
const ADMIN: readonly Role[] = ['admin'];
const WRITERS: readonly Role[] = ['admin', 'province', 'commune'];
const WEBHOOK_MANAGERS: readonly Role[] = ['admin', 'operator', 'province'];

const PROBLEM_TYPE = 'application/problem+json';
const COMMON_SCHEMA = 'common.v1';
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str = (description?: string, extra: Schema = {}): Schema => ({
  type: 'string',
  ...(description ? { description } : {}),
  ...extra,
});
const int = (description: string, minimum = 0, maximum = Number.MAX_SAFE_INTEGER): Schema => ({
  type: 'integer',
  minimum,
  maximum,
  description,
});
const obj = (properties: Record<string, Schema>, required: string[] = [], closed = false): Schema => ({
  type: 'object',
  properties,
  ...(required.length > 0 ? { required } : {}),
  ...(closed ? { additionalProperties: false } : {}),
});
const list = (items: Schema, description?: string): Schema => ({
  type: 'array',
  items,
  ...(description ? { description } : {}),
});
/** An answer the document describes by its members only (their shapes are in the description). */
const record = (description: string): Schema => ({ type: 'object', description });

const queryParam = (name: string, schema: Schema, description: string, required = false): Schema => ({
  name,
  in: 'query',
  required,
  description,
  schema,
});
const limit = (max = 1000, fallback = 100): Schema =>
  queryParam('limit', { type: 'integer', minimum: 1, maximum: max, default: fallback }, 'Page size.');
const afterPosition = queryParam('after', int('a position', 0), 'The last item of the previous page.');
const afterId = queryParam('after', str(), 'The `next` (or last id) of the previous page.');
const note = str('A note kept with the action.', { minLength: 1, maxLength: 1000 });
const noteBody = obj({ note }, [], true);

const PATH_PARAMETERS: Record<string, string> = {
  stream: 'A stream name, `dossier-<dossierCode>`.',
  dossierCode: 'The dossier code.',
  ref: "A client's name or id.",
  target: 'A connector target: `portal`, `one-stop-shop`, `civil-registry` or `payments`.',
  dossier: 'The dossier code.',
  id: 'The id.',
  seq: "The mismatch's sequence number in its run.",
  type: 'An event type of the catalogue, with its version: `vn.gov.lgsp.dossier.submitted.v2`.',
};

const rateLimitPolicy = {
  'RateLimit-Policy': {
    description:
      'The client\'s bucket: `"client";q=<burst>;w=<seconds to refill>` (draft-ietf-httpapi-ratelimit-headers).',
    schema: { type: 'string' },
  },
  RateLimit: {
    description: 'What is left: `"client";r=<units left>;t=<seconds until one more>`.',
    schema: { type: 'string' },
  },
};

/** What a problem document says of its language. */
const LANGUAGE_HEADERS = {
  'Content-Language': {
    description: '`vi` or `en`: the language of the problem.',
    schema: { enum: ['vi', 'en'] },
  },
  Vary: { description: '`Accept-Language`.', schema: { type: 'string' } },
};

const PROBLEM_RESPONSES: Record<number, [string, string]> = {
  400: ['BadRequest', 'Malformed: bad JSON, a bad envelope or a bad parameter.'],
  401: ['Unauthenticated', 'No token, or one that is not valid (expired, revoked, unknown).'],
  403: ['Forbidden', "The client's role may not call this route, or the request is outside its scope."],
  404: ['NotFound', 'Nothing there, or nothing the caller may see.'],
  409: ['Conflict', 'The state refuses it: an expected-version conflict, or a state machine that refuses.'],
  413: ['TooLarge', 'The body, a batch, or a value in it is over a limit.'],
  415: ['UnsupportedMediaType', 'A media type the route does not take.'],
  422: ['Invalid', 'The body or the query breaks a rule; `errors` points at each violation.'],
  429: ['RateLimited', 'Over the rate limit; `Retry-After` says when to come back.'],
  503: ['Unavailable', 'The hub cannot serve it now (starting, stopping, or a store that fails).'],
};

/** The event types' components: the data schema and the structured CloudEvent carrying it. */
const dataSchemaName = (type: EventType): string =>
  `${EVENT_SCHEMA_NAMES[type]}.v${EVENT_SCHEMA_VERSIONS[type]}`;
const structuredName = (type: EventType): string =>
  `CloudEvent.${EVENT_SCHEMA_NAMES[type]}.v${EVENT_SCHEMA_VERSIONS[type]}`;

/**
 * A catalogue schema as the component `name`: without `$schema` (OpenAPI 3.1's dialect is 2020-12) and
 * `$id` (kept as `x-schema-id`), its `$ref`s pointed at components: into `common/v1.json` at the common
 * one, a local `#/$defs/…` at its own.
 */
function asComponent(schema: unknown, name: string): unknown {
  if (Array.isArray(schema)) return schema.map((item) => asComponent(item, name));
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$schema') continue;
    if (key === '$id') out['x-schema-id'] = value;
    else if (key === '$ref' && typeof value === 'string') out[key] = componentRef(value, name);
    else out[key] = asComponent(value, name);
  }
  return out;
}

function componentRef(target: string, own: string): string {
  const [file = '', pointer = ''] = target.split('#');
  if (file === '') return `#/components/schemas/${own}${pointer}`;
  if (file.endsWith('common/v1.json')) return `#/components/schemas/${COMMON_SCHEMA}${pointer}`;
  throw new Error(`an event schema refers to ${target}: only common/v1.json is expected`);
}

function eventComponents(schemas: EventSchemas): Record<string, Schema> {
  const common = JSON.parse(readFileSync(join(schemas.dir, 'common', 'v1.json'), 'utf8')) as Schema;
  const out: Record<string, Schema> = { [COMMON_SCHEMA]: asComponent(common, COMMON_SCHEMA) as Schema };
  for (const type of EVENT_TYPES) {
    out[dataSchemaName(type)] = asComponent(schemas.schema(type), dataSchemaName(type)) as Schema;
    out[structuredName(type)] = {
      description: `A \`${type}\` event in CloudEvents structured mode; its \`data\` schema is \`${eventSchemaId(type)}\`.`,
      allOf: [
        ref('CloudEvent'),
        obj(
          {
            type: { const: type },
            data: ref(dataSchemaName(type)),
          },
          ['data'],
        ),
      ],
    };
  }
  return out;
}

const CLOUD_EVENT: Schema = {
  type: 'object',
  description:
    'A CloudEvents 1.0 event in structured mode. Extension attributes are lower-case alphanumeric names: ' +
    '`expectedversion` (the stream version the event must follow; 409 otherwise), `traceparent`.',
  required: ['specversion', 'id', 'source', 'type'],
  properties: {
    specversion: { const: '1.0' },
    id: str('Unique per `source`: (`source`, `id`) is the deduplication key.', {
      minLength: 1,
      maxLength: 1024,
    }),
    source: str('A source bound to the client, e.g. `/communes/21040/one-stop-shop`.', {
      minLength: 1,
      maxLength: 1024,
    }),
    type: str('An event type of the catalogue, e.g. `vn.gov.lgsp.dossier.submitted.v1`.'),
    subject: str(undefined, { maxLength: 1024 }),
    time: str('RFC 3339 with an offset.', { format: 'date-time' }),
    datacontenttype: { const: 'application/json' },
    dataschema: str(undefined, { format: 'uri' }),
    expectedversion: {
      type: ['integer', 'string'],
      description: 'The stream version this event must follow.',
    },
    traceparent: str('W3C trace context.'),
    data: { description: "The event's payload, valid against its type's schema." },
  },
};

const TIME = str(undefined, { format: 'date-time' });
const POSITION_OR_NULL = { type: ['integer', 'null'], minimum: 1 };

/** The dossier view (`#lgsp/projections` DossierView) with its sync state; more members may come. */
const DOSSIER_VIEW = obj(
  {
    dossierCode: str(),
    provinceCode: str(),
    communeCode: str(),
    procedureCode: str(),
    procedureName: str(),
    agencyCode: str('The agency that received the dossier.'),
    channel: str(),
    applicant: obj({ fullName: str() }),
    coApplicants: int(
      'How many co-applicants the submission names (`dossier.submitted.v2`); absent when none.',
      1,
    ),
    status: int('National status code.', 1, 10),
    statusName: str(),
    statusLabel: obj({ vi: str(), en: str() }, ['vi', 'en'], true),
    receivedAt: TIME,
    dueAt: TIME,
    payment: obj(
      {
        state: { enum: ['none', 'due', 'paid', 'failed'] },
        amountDue: int('Fees declared at submission, whole VND.'),
        amountPaid: int('Distinct completed payments, whole VND.'),
        paymentRef: str(),
        transactionId: str(),
        transactionIds: list(str()),
        paidAt: TIME,
        failureReason: str(),
      },
      ['state', 'amountDue', 'amountPaid', 'transactionIds'],
    ),
    civilStatus: obj({ registrationType: str(), registrationNumber: str(), registeredAt: TIME }, [
      'registrationType',
      'registrationNumber',
      'registeredAt',
    ]),
    transfers: int('How many times the dossier moved between agencies.'),
    currentAgencyCode: str(),
    streamVersion: int('', 1),
    eventCount: int('', 1),
    firstPosition: int('', 1),
    lastPosition: int('', 1),
    lastEventType: str(),
    lastChangedAt: TIME,
    lastEventTime: TIME,
    sync: list(
      obj(
        {
          target: str('A connector target, or `webhook:<id>`.'),
          kind: { enum: ['connector', 'webhook'] },
          lastPosition: POSITION_OR_NULL,
          lastDeliveredAt: { type: ['string', 'null'], format: 'date-time' },
          parked: { type: 'boolean' },
          parkedReason: str(),
        },
        ['target', 'kind', 'lastPosition', 'lastDeliveredAt', 'parked'],
      ),
      'Per connector target and webhook the caller may see (a province its own, a commune none).',
    ),
  },
  [
    'dossierCode',
    'provinceCode',
    'communeCode',
    'payment',
    'transfers',
    'streamVersion',
    'eventCount',
    'firstPosition',
    'lastPosition',
    'lastEventType',
    'lastChangedAt',
    'sync',
  ],
);

const STORED_EVENT = obj(
  {
    position: int('Global position, gap-free.', 1),
    stream: str(),
    streamVersion: int('Version in the stream.', 1),
    recordedAt: str(undefined, { format: 'date-time' }),
    hash: str('Hash chaining the event to the one before it.'),
    event: ref('CloudEvent'),
  },
  ['position', 'stream', 'streamVersion', 'recordedAt', 'event'],
);

const INGEST_RESULT = obj(
  {
    results: list(
      obj(
        {
          id: str(),
          source: str(),
          stream: str(),
          streamVersion: int('', 1),
          position: int('', 1),
          duplicate: { type: 'boolean', description: 'The pair (`source`, `id`) was already stored.' },
        },
        ['id', 'source', 'stream', 'streamVersion', 'position', 'duplicate'],
      ),
    ),
    warnings: list(
      ref('Issue'),
      'With `ingest.codeCheck.mode: warn`: codes the national portal would refuse.',
    ),
  },
  ['results'],
);

const RATE_LIMIT = obj(
  { ratePerSecond: { type: 'number', exclusiveMinimum: 0 }, burst: { type: 'number', exclusiveMinimum: 0 } },
  ['ratePerSecond', 'burst'],
);

const WEBHOOK_FILTER = obj(
  {
    types: list(str(undefined, { minLength: 1, maxLength: 200 })),
    provinces: list(str(undefined, { minLength: 1, maxLength: 200 })),
    communes: list(str(undefined, { minLength: 1, maxLength: 200 })),
  },
  [],
  true,
);

/** A client as the admin API shows it: never its token. */
const CLIENT = obj(
  {
    id: str(),
    name: str(),
    role: { enum: ['admin', 'operator', 'province', 'commune'] },
    provinceCode: str(),
    communeCodes: list(str()),
    sources: list(str()),
    rateLimit: RATE_LIMIT,
    createdAt: TIME,
    tokenIssuedAt: TIME,
    revokedAt: TIME,
  },
  ['id', 'name', 'role', 'communeCodes', 'sources', 'createdAt'],
);

/** `GET /v1/schemas`: the families with their versions. */
const EVENT_CATALOGUE = obj(
  {
    events: list(
      obj(
        {
          name: str('The family: the type without `vn.gov.lgsp.` and its version.'),
          newest: int('The newest version.', 1),
          hubEmitted: { type: 'boolean', description: 'Emitted by the hub only; clients never send it.' },
          versions: list(
            obj(
              {
                version: int('The version.', 1),
                type: str(),
                schema: str('The `$id` of the data schema (also `dataschema` of converted events).'),
                title: str(),
                downcastDrops: list(str(), 'What a downcast to the version below drops.'),
              },
              ['version', 'type', 'schema', 'title'],
            ),
          ),
        },
        ['name', 'newest', 'hubEmitted', 'versions'],
      ),
    ),
  },
  ['events'],
);

/** `{"dossier.submitted": 2}`: the version of each event family a webhook receives. */
const EVENT_VERSIONS: Schema = {
  type: 'object',
  description:
    'The version of each event family delivered, e.g. `{"dossier.submitted": 2}`; events stored at another ' +
    'version are converted (see `GET /v1/schemas`). A family not named is delivered at version 1.',
  additionalProperties: { type: 'integer', minimum: 1 },
};

/** A webhook as its managers see it (never its secret). */
const WEBHOOK = obj(
  {
    id: str(),
    url: str(),
    description: str(),
    filter: WEBHOOK_FILTER,
    eventVersions: EVENT_VERSIONS,
    ratePerSecond: { type: 'number' },
    state: { enum: ['active', 'disabled'] },
    disabledReason: str(),
    disabledAt: TIME,
    province: str(),
    createdBy: str(),
    createdAt: TIME,
    updatedAt: TIME,
    secretRotatedAt: TIME,
    previousSecretExpiresAt: TIME,
    checkpoint: int('Every event of the filter at or before it was delivered, parked or skipped.'),
    lag: obj({ events: int('Events behind.'), seconds: { type: 'number', minimum: 0 } }, [
      'events',
      'seconds',
    ]),
    pending: int('Deliveries waiting.'),
    parked: int('Dossiers parked for this endpoint.'),
    failingSince: TIME,
  },
  [
    'id',
    'url',
    'filter',
    'eventVersions',
    'ratePerSecond',
    'state',
    'createdBy',
    'createdAt',
    'updatedAt',
    'checkpoint',
    'lag',
    'pending',
    'parked',
  ],
);

const webhookBody = (required: string[]): Schema =>
  obj(
    {
      url: str('Where to deliver (https).', { minLength: 1, maxLength: 2048 }),
      description: str(undefined, { minLength: 1, maxLength: 500 }),
      filter: WEBHOOK_FILTER,
      eventVersions: EVENT_VERSIONS,
      ratePerSecond: { type: 'number' },
    },
    required,
    true,
  );

const PAYMENT_CALLBACK = obj({
  LoaiBanTin: str(),
  MaLoi: str(),
  MaDoiTac: str(),
  MaThamChieu: str(),
  SoTien: str(),
  MaTienTe: str(),
  MaGiaoDich: str(),
  MaNganHang: str(),
  ThoiGianGD: str(),
  ThongTinGiaoDich: str(),
  MaXacThuc: str('The digest signing the callback.'),
});
const PAYMENT_ANSWER = obj({
  MaLoi: str('`00` captured; `02` bad signature; `99` malformed or unknown dossier.'),
  MoTaLoi: str(),
  MaDoiTac: str(),
  MaThamChieu: str(),
  ThoiGianGD: str(),
  MaXacThuc: str(),
});

const CE_HEADERS: Schema[] = [
  ['ce-specversion', '`1.0`: its presence selects binary mode.'],
  ['ce-id', 'The event id (binary mode).'],
  ['ce-source', 'The event source (binary mode).'],
  ['ce-type', 'The event type (binary mode).'],
  ['ce-time', 'RFC 3339 with an offset (binary mode).'],
  ['ce-subject', 'The subject (binary mode).'],
  ['ce-dataschema', 'The data schema URI (binary mode).'],
  ['ce-expectedversion', 'The stream version the event must follow (binary mode).'],
].map(([name, description]) => ({
  name,
  in: 'header',
  required: false,
  description,
  schema: { type: 'string' },
}));

const ROUTES: readonly Route[] = [
  {
    method: 'post',
    path: '/v1/events',
    tag: 'events',
    summary: 'Ingest one event (structured or binary mode) or a batch',
    description:
      '**201** appended; **200** every event was already stored. Nothing is appended unless the answer is ' +
      '2xx, and a 2xx comes only after the commit is on disk. Batches are all-or-nothing; in a batch, ' +
      "pointers start with the event's index (`/1/data/status`). An operator may not ingest.",
    callers: WRITERS,
    headers: CE_HEADERS,
    requestBody: {
      required: true,
      content: {
        'application/cloudevents+json': {
          schema: { oneOf: INGEST_TYPES.map((t) => ref(structuredName(t))) },
        },
        'application/cloudevents-batch+json': {
          schema: list(
            { oneOf: INGEST_TYPES.map((t) => ref(structuredName(t))) },
            'At most `ingest.maxBatchEvents` events.',
          ),
        },
        'application/json': {
          schema: {
            description:
              "Binary mode: the body is the event's `data`, the context attributes are the `ce-*` headers.",
            oneOf: INGEST_TYPES.map((t) => ref(dataSchemaName(t))),
          },
        },
      },
    },
    ok: { status: 201, description: 'Appended.', schema: INGEST_RESULT },
    alsoOk: { status: 200, description: 'Every event was already stored: nothing appended.' },
    errors: [400, 409, 413, 415, 422],
  },
  {
    method: 'get',
    path: '/v1/streams/{stream}',
    tag: 'events',
    summary: "A stream's events in version order",
    description: "A stream outside the caller's scope answers 404.",
    callers: ALL_CLIENTS,
    query: [
      queryParam('from', { type: 'integer', minimum: 1, default: 1 }, 'The first stream version.'),
      limit(),
    ],
    ok: {
      status: 200,
      description: 'The events.',
      schema: obj({ stream: str(), version: int('The stream version.'), events: list(STORED_EVENT) }, [
        'stream',
        'version',
        'events',
      ]),
    },
    errors: [400, 404],
  },
  {
    method: 'get',
    path: '/v1/events',
    tag: 'events',
    summary: 'The global log after a position, or live as server-sent events',
    description:
      'Pass `next` as `after` to page. With `Accept: text/event-stream` it streams events live (the ' +
      'position as event id, so `Last-Event-ID` resumes).',
    callers: ALL_CLIENTS,
    query: [
      afterPosition,
      limit(),
      queryParam('type', str(), 'Event types, comma-separated.'),
      queryParam(
        'province',
        str(undefined, { pattern: '^[0-9]{2}(,[0-9]{2})*$' }),
        'Province codes, comma-separated.',
      ),
    ],
    headers: [
      {
        name: 'Last-Event-ID',
        in: 'header',
        required: false,
        description: 'Resumes a stream after this position.',
        schema: { type: 'string' },
      },
    ],
    ok: {
      status: 200,
      description: 'A page of the log, or the live stream.',
      content: {
        'application/json': {
          schema: obj(
            {
              events: list(STORED_EVENT),
              next: int('The `after` of the next page.'),
              head: int('The last position.'),
            },
            ['events', 'next', 'head'],
          ),
        },
        'text/event-stream': { schema: str('Server-sent events: `id` the position, `data` a stored event.') },
      },
    },
    errors: [400],
  },
  {
    method: 'get',
    path: '/v1/dossiers/{dossierCode}',
    tag: 'events',
    summary: 'The dossier view and its sync state',
    description:
      'Status, applicant, agency, channel, dates, payment state, civil record, `streamVersion`, ' +
      '`lastPosition`, `lastChangedAt` (updated by a subscriber, it can trail an ingest by a fraction of a ' +
      'second), and `sync`: per connector target and webhook the caller may see, ' +
      '`{target, kind, lastPosition, lastDeliveredAt, parked, parkedReason?}`.',
    callers: ALL_CLIENTS,
    ok: { status: 200, description: 'The dossier.', schema: ref('DossierView') },
    errors: [404],
  },
  {
    method: 'get',
    path: '/v1/schemas',
    tag: 'events',
    summary: 'The event catalogue with its versions',
    description:
      'Every event family (`dossier.submitted`), each with its versions: type, schema `$id`, title and what a ' +
      'downcast to the version below drops. `newest` is the version the projection and the connectors read.',
    callers: ALL_CLIENTS,
    ok: { status: 200, description: 'The catalogue.', schema: ref('EventCatalogue') },
  },
  {
    method: 'get',
    path: '/v1/schemas/{type}',
    tag: 'events',
    summary: "One event type's JSON Schema",
    description:
      'The type, its family and version, and `schema`: its data schema (JSON Schema 2020-12) as the hub ' +
      'validates it (`$ref`s into `common/v1.json` as in the file).',
    callers: ALL_CLIENTS,
    ok: {
      status: 200,
      description: 'The schema.',
      schema: obj(
        {
          type: str(),
          name: str(),
          version: int('The version.', 1),
          newest: int('The newest version of the family.', 1),
          schemaId: str(),
          schema: record('The JSON Schema of `data`.'),
          downcastDrops: list(str()),
        },
        ['type', 'name', 'version', 'newest', 'schemaId', 'schema'],
      ),
    },
    errors: [404],
  },
  {
    method: 'post',
    path: '/v1/admin/clients',
    tag: 'clients',
    summary: 'Create a client',
    description: 'Answers 201 with the client and its `token`, shown only this once.',
    callers: ADMIN,
    body: obj(
      {
        name: str(undefined, { minLength: 1, maxLength: 100 }),
        communes: { ...list(str(undefined, { pattern: '^[0-9]{5}$' })), maxItems: 500 },
        province: str(undefined, { pattern: '^[0-9]{2}$' }),
        role: { enum: [...ALL_CLIENTS] },
        sources: { ...list(str()), maxItems: 50, description: 'Exact sources, or prefixes ending in `*`.' },
        rateLimit: RATE_LIMIT,
      },
      ['name'],
      true,
    ),
    ok: {
      status: 201,
      description: 'The client, with its `token`.',
      schema: { allOf: [ref('Client'), obj({ token: str('Shown only this once.') }, ['token'])] },
    },
    errors: [409, 422],
  },
  {
    method: 'patch',
    path: '/v1/admin/clients/{ref}',
    tag: 'clients',
    summary: "Change a client's rate limit",
    description: 'Applies from its next request (in another replica within 5 s); audited as `client.update`.',
    callers: ADMIN,
    body: obj(
      { rateLimit: { oneOf: [RATE_LIMIT, { type: 'null' }], description: "`null`: the hub's default." } },
      ['rateLimit'],
      true,
    ),
    ok: {
      status: 200,
      description: 'The client.',
      schema: ref('Client'),
    },
    errors: [404, 422],
  },
  {
    method: 'post',
    path: '/v1/admin/clients/{ref}/rotate-token',
    tag: 'clients',
    summary: 'A new token for a client',
    description:
      'The token is shown only this once. The previous token keeps working until `previousTokenExpiresAt` ' +
      '(`auth.rotationOverlapSeconds`), then gets 401. Audited as `client.rotate-token`.',
    callers: ADMIN,
    ok: {
      status: 200,
      description: 'The client and its new token.',
      schema: obj(
        {
          client: ref('Client'),
          token: str(),
          previousTokenExpiresAt: str(undefined, { format: 'date-time' }),
        },
        ['client', 'token'],
      ),
    },
    errors: [404, 409],
  },
  {
    method: 'post',
    path: '/v1/admin/clients/{ref}/revoke',
    tag: 'clients',
    summary: 'Revoke a client',
    description:
      'Every token of it gets 401 from then on (in another replica within 5 s). Audited as `client.revoke`.',
    callers: ADMIN,
    ok: {
      status: 200,
      description: 'The client with its `revokedAt`.',
      schema: obj({ client: ref('Client') }, ['client']),
    },
    errors: [404],
  },
  {
    method: 'get',
    path: '/v1/admin/clients',
    tag: 'clients',
    summary: 'The clients (never their tokens)',
    callers: OPERATORS,
    ok: {
      status: 200,
      description: 'The clients.',
      schema: obj({ clients: list(ref('Client')) }, ['clients']),
    },
  },
  {
    method: 'get',
    path: '/v1/admin/subscriptions',
    tag: 'operations',
    summary: 'Every subscriber: checkpoint, lag, state, last error',
    callers: OPERATORS,
    ok: {
      status: 200,
      description: 'The subscribers.',
      schema: obj(
        {
          head: int('The last position of the log.'),
          subscriptions: list(
            obj(
              {
                name: str(),
                checkpoint: int('The last position the subscriber finished.'),
                head: int('The last position of the log.'),
                lagEvents: int('`head` − `checkpoint`.'),
                lagSeconds: {
                  type: 'number',
                  minimum: 0,
                  description: 'Age of the first event after the checkpoint.',
                },
                state: { enum: ['running', 'retrying', 'standby', 'stopped'] },
                lastError: str('The last failure, while the subscriber retries it.'),
                attempts: int('Consecutive failed attempts of the current batch.'),
                leaseHolder: str('With leases: the process holding the subscriber.'),
              },
              ['name', 'checkpoint', 'head', 'lagEvents', 'lagSeconds', 'state', 'attempts'],
            ),
          ),
        },
        ['head', 'subscriptions'],
      ),
    },
  },
  {
    method: 'get',
    path: '/v1/admin/parked',
    tag: 'operations',
    summary: 'The parked (target, dossier) pairs of the running connectors',
    callers: OPERATORS,
    query: [
      limit(),
      queryParam('after', int('an id', 0), 'The last `id` of the previous page.'),
      queryParam('target', str(), 'One target.'),
    ],
    ok: {
      status: 200,
      description: 'The parked pairs, in parking order.',
      schema: obj({ parked: list(record('A parked pair.')) }, ['parked']),
    },
    errors: [400, 404],
  },
  {
    method: 'post',
    path: '/v1/admin/parked/{target}/{dossier}/retry',
    tag: 'operations',
    summary: 'Retry a parked dossier',
    description:
      "Resolves the parking as retried and delivers the dossier's current state to the target again; " +
      '`delivery` is `delivered` or `parked` (the target still refuses it; the pair is parked again).',
    callers: OPERATORS,
    body: noteBody,
    ok: {
      status: 200,
      description: 'The history line and the delivery.',
      schema: obj({ entry: record('The history line.'), delivery: str() }),
    },
    errors: [404, 422],
  },
  {
    method: 'post',
    path: '/v1/admin/parked/{target}/{dossier}/skip',
    tag: 'operations',
    summary: "Skip a parked dossier's held events",
    description:
      "Drops the dossier's held events for that target (through `throughPosition`, default every held one); later events flow.",
    callers: OPERATORS,
    body: obj({ note, throughPosition: int('The last held position to drop.', 1) }, [], true),
    ok: {
      status: 200,
      description: 'The history line.',
      schema: obj({ entry: record('The history line.') }),
    },
    errors: [404, 422],
  },
  {
    method: 'get',
    path: '/v1/admin/parked/{target}/{dossier}/history',
    tag: 'operations',
    summary: 'Every parking, retry and skip of a pair, oldest first',
    callers: OPERATORS,
    ok: {
      status: 200,
      description: 'The history.',
      schema: obj({ history: list(record('A history line.')) }, ['history']),
    },
    errors: [404],
  },
  {
    method: 'post',
    path: '/v1/admin/reconciliations',
    tag: 'reconciliation and replay',
    summary: 'Start a reconciliation run',
    description: "It goes on in the background. 404 when that target's connector is not enabled.",
    callers: OPERATORS,
    body: obj(
      {
        target: str(undefined, { minLength: 1, maxLength: 100 }),
        scope: obj({
          provinceCode: str(),
          communeCode: str(),
          from: str(),
          to: str(),
          dossiers: list(str()),
        }),
      },
      ['target'],
      true,
    ),
    ok: { status: 202, description: 'The run, started.', schema: obj({ run: record('The run.') }, ['run']) },
    errors: [404, 422],
  },
  {
    method: 'get',
    path: '/v1/admin/reconciliations',
    tag: 'reconciliation and replay',
    summary: 'The reconciliation runs, newest first',
    callers: OPERATORS,
    query: [limit(1000, 50), afterId],
    ok: { status: 200, description: 'The runs.', schema: obj({ runs: list(record('A run.')) }, ['runs']) },
    errors: [400],
  },
  {
    method: 'get',
    path: '/v1/admin/reconciliations/{id}',
    tag: 'reconciliation and replay',
    summary: 'One run with a page of its mismatches',
    description: '`run.mismatches.resolved` counts the extras captured or acknowledged.',
    callers: OPERATORS,
    query: [
      limit(),
      queryParam('after', int('a sequence number', 0), 'The last `seq` of the previous page.'),
      queryParam('category', str(), 'One mismatch category.'),
    ],
    ok: {
      status: 200,
      description: 'The run and its mismatches.',
      schema: obj(
        {
          run: record('The run.'),
          mismatches: list(record('A mismatch.')),
          next: int('The `after` of the next page.'),
        },
        ['run', 'mismatches'],
      ),
    },
    errors: [400, 404],
  },
  ...(['capture', 'acknowledge'] as const).map((action): Route => ({
    method: 'post',
    path: `/v1/admin/reconciliations/{id}/mismatches/{seq}/${action}`,
    tag: 'reconciliation and replay',
    summary:
      action === 'capture'
        ? "Capture an unexpected extra: append the system's record to the log"
        : 'Acknowledge an unexpected extra: leave it there',
    description:
      'For an `unexpected-extra` finding only (422 for another category, 409 when resolved already or the run ' +
      'still runs). ' +
      (action === 'capture'
        ? 'Appends events from that system (409 where a system cannot tell its record, 422 where the record lacks what the event requires).'
        : 'The note is required; later runs inherit the acknowledgement.') +
      ' Audited, refusals too.',
    callers: OPERATORS,
    body: action === 'capture' ? noteBody : obj({ note }, ['note'], true),
    ok: {
      status: 200,
      description: 'The mismatch and its run.',
      schema: obj({ mismatch: record('The mismatch.'), run: record('The run.') }, ['mismatch', 'run']),
    },
    errors: [404, 409, 422],
  })),
  {
    method: 'post',
    path: '/v1/admin/replays/plan',
    tag: 'reconciliation and replay',
    summary: 'Plan a replay (dry run)',
    description:
      "No `target`: the reconciliation run's. `cannotFix` lists the run's open extras, which no replay fixes; " +
      '`effects` what it causes beyond the target. Sends nothing; audited, refusals too.',
    callers: OPERATORS,
    body: obj(
      { target: str(undefined, { minLength: 1, maxLength: 200 }), scope: ref('ReplayScope') },
      [],
      true,
    ),
    ok: { status: 200, description: 'The plan.', schema: obj({ plan: record('The plan.') }, ['plan']) },
    errors: [404, 422],
  },
  {
    method: 'post',
    path: '/v1/admin/replays',
    tag: 'reconciliation and replay',
    summary: 'Start a replay',
    description:
      'The replay is `completed` at once when the plan has nothing to send; 409 when the plan is above ' +
      '`replay.confirmAbove` items and `confirm` is not `true`. Audited, refusals too.',
    callers: OPERATORS,
    body: obj(
      {
        target: str(undefined, { minLength: 1, maxLength: 200 }),
        scope: ref('ReplayScope'),
        confirm: { type: 'boolean' },
        chunkSize: int('Events per chunk.', 1, 1000),
        ratePerSecond: { type: 'number', minimum: 0.001, maximum: 10000 },
      },
      [],
      true,
    ),
    ok: {
      status: 201,
      description: 'The replay and its plan.',
      schema: obj({ replay: record('The replay.'), plan: record('The plan.') }, ['replay', 'plan']),
    },
    errors: [404, 409, 422],
  },
  {
    method: 'get',
    path: '/v1/admin/replays',
    tag: 'reconciliation and replay',
    summary: 'The replays with their progress',
    callers: OPERATORS,
    query: [limit(1000, 50), afterId],
    ok: {
      status: 200,
      description: 'The replays.',
      schema: obj({ replays: list(record('A replay.')) }, ['replays']),
    },
    errors: [400],
  },
  {
    method: 'get',
    path: '/v1/admin/replays/{id}',
    tag: 'reconciliation and replay',
    summary: 'One replay with its progress',
    description: '`total`, `done`, `failed`, `rate`, `etaSeconds`, `state`.',
    callers: OPERATORS,
    ok: {
      status: 200,
      description: 'The replay.',
      schema: obj({ replay: record('The replay.') }, ['replay']),
    },
    errors: [404],
  },
  ...(['pause', 'resume', 'cancel'] as const).map((command): Route => ({
    method: 'post',
    path: `/v1/admin/replays/{id}/${command}`,
    tag: 'reconciliation and replay',
    summary: `${command[0]!.toUpperCase()}${command.slice(1)} a replay`,
    description: '409 when the state machine refuses it.',
    callers: OPERATORS,
    body: noteBody,
    ok: {
      status: 200,
      description: 'The replay.',
      schema: obj({ replay: record('The replay.') }, ['replay']),
    },
    errors: [404, 409, 422],
  })),
  {
    method: 'post',
    path: '/v1/webhooks',
    tag: 'webhooks',
    summary: 'Create a webhook',
    description:
      "The signing secret is shown only this once. A province client manages only its province's webhooks.",
    callers: WEBHOOK_MANAGERS,
    body: webhookBody(['url']),
    ok: {
      status: 201,
      description: 'The webhook and its secret.',
      schema: obj({ webhook: ref('Webhook'), secret: str() }, ['webhook', 'secret']),
    },
    errors: [422],
  },
  {
    method: 'get',
    path: '/v1/webhooks',
    tag: 'webhooks',
    summary: 'The webhooks the caller may see',
    callers: WEBHOOK_MANAGERS,
    query: [limit(), queryParam('after', str(), 'The last webhook id of the previous page.')],
    ok: {
      status: 200,
      description: 'The webhooks.',
      schema: obj({ webhooks: list(ref('Webhook')), next: str('The `after` of the next page.') }, [
        'webhooks',
      ]),
    },
    errors: [400],
  },
  {
    method: 'get',
    path: '/v1/webhooks/{id}',
    tag: 'webhooks',
    summary: 'One webhook',
    description: "One outside the caller's scope answers 404.",
    callers: WEBHOOK_MANAGERS,
    ok: {
      status: 200,
      description: 'The webhook.',
      schema: obj({ webhook: ref('Webhook') }, ['webhook']),
    },
    errors: [404],
  },
  {
    method: 'patch',
    path: '/v1/webhooks/{id}',
    tag: 'webhooks',
    summary: 'Change a webhook',
    callers: WEBHOOK_MANAGERS,
    body: webhookBody([]),
    ok: {
      status: 200,
      description: 'The webhook.',
      schema: obj({ webhook: ref('Webhook') }, ['webhook']),
    },
    errors: [404, 422],
  },
  {
    method: 'delete',
    path: '/v1/webhooks/{id}',
    tag: 'webhooks',
    summary: 'Delete a webhook',
    callers: WEBHOOK_MANAGERS,
    ok: { status: 204, description: 'Deleted.' },
    errors: [404],
  },
  {
    method: 'post',
    path: '/v1/webhooks/{id}/rotate-secret',
    tag: 'webhooks',
    summary: "Rotate a webhook's signing secret",
    callers: WEBHOOK_MANAGERS,
    body: obj({}, [], true),
    ok: {
      status: 200,
      description: 'The webhook and its new secret.',
      schema: obj({ webhook: ref('Webhook'), secret: str() }),
    },
    errors: [404],
  },
  {
    method: 'post',
    path: '/v1/webhooks/{id}/enable',
    tag: 'webhooks',
    summary: 'Enable a webhook',
    callers: WEBHOOK_MANAGERS,
    body: obj({}, [], true),
    ok: {
      status: 200,
      description: 'The webhook.',
      schema: obj({ webhook: ref('Webhook') }, ['webhook']),
    },
    errors: [404],
  },
  {
    method: 'post',
    path: '/v1/webhooks/{id}/disable',
    tag: 'webhooks',
    summary: 'Disable a webhook',
    callers: WEBHOOK_MANAGERS,
    body: obj({ reason: str(undefined, { minLength: 1, maxLength: 500 }) }, [], true),
    ok: {
      status: 200,
      description: 'The webhook.',
      schema: obj({ webhook: ref('Webhook') }, ['webhook']),
    },
    errors: [404, 422],
  },
  {
    method: 'get',
    path: '/v1/webhooks/{id}/attempts',
    tag: 'webhooks',
    summary: "A webhook's delivery attempts",
    callers: WEBHOOK_MANAGERS,
    query: [
      limit(),
      afterPosition,
      queryParam('position', int('a position', 0), 'Only the attempts of this position.'),
    ],
    ok: { status: 200, description: 'The attempts.', schema: record('The attempts, and `next`.') },
    errors: [400, 404],
  },
  {
    method: 'post',
    path: '/v1/webhooks/{id}/redeliver',
    tag: 'webhooks',
    summary: 'Redeliver from a position',
    callers: WEBHOOK_MANAGERS,
    body: obj({ fromPosition: int('The first position to deliver again.', 1) }, ['fromPosition'], true),
    ok: {
      status: 202,
      description: 'Accepted: delivery restarts there.',
      schema: obj({ webhook: ref('Webhook'), fromPosition: int('', 1) }, ['webhook', 'fromPosition']),
    },
    errors: [404, 422],
  },
  {
    method: 'get',
    path: '/v1/admin/audit',
    tag: 'operations',
    summary: 'The audit log, oldest first',
    callers: OPERATORS,
    query: [
      limit(),
      queryParam('after', int('an entry id', 0), 'The last `id` of the previous page.'),
      queryParam('action', str(), 'An action prefix.'),
      queryParam('subject', str(), 'A subject.'),
    ],
    ok: {
      status: 200,
      description: 'The entries.',
      schema: obj(
        {
          entries: list(
            obj(
              {
                id: int('Increasing: the cursor.', 1),
                at: TIME,
                actor: str('The client who acted, or `system`.'),
                action: str('e.g. `client.create`, `replay.run`, `http.post`.'),
                subject: str('What the action is about.'),
                scope: { type: 'object' },
                outcome: { type: 'object' },
                hash: str('SHA-256 (hex) chaining the entry to the one before it.'),
              },
              ['id', 'at', 'actor', 'action', 'subject', 'scope', 'outcome'],
            ),
          ),
          next: int('The `after` of the next page.'),
        },
        ['entries'],
      ),
    },
    errors: [400],
  },
  {
    method: 'get',
    path: '/v1/admin/audit/verify',
    tag: 'operations',
    summary: "Recompute the audit log's hash chain",
    callers: OPERATORS,
    ok: {
      status: 200,
      description: 'Whether the chain holds.',
      schema: obj(
        {
          ok: { type: 'boolean' },
          entries: int('Entries checked.'),
          brokenAt: int('The first entry that breaks it.'),
        },
        ['ok', 'entries'],
      ),
    },
  },
  {
    method: 'get',
    path: '/v1/admin/checkpoints',
    tag: 'operations',
    summary: 'The signed checkpoints of the log, with the public key',
    description: '404 when `checkpoints.enabled` is false.',
    callers: OPERATORS,
    query: [limit(1000, 1000), queryParam('after', int('a position', 0), 'A position.')],
    ok: {
      status: 200,
      description: 'The checkpoints.',
      schema: record('`{format, algorithm, keyId, publicKey, checkpoints, next?}`.'),
    },
    errors: [400, 404],
  },
  {
    method: 'post',
    path: '/v1/admin/erasures',
    tag: 'personal data',
    summary: "Request the erasure of a data subject's personal data",
    description:
      '`subjectId` is a citizen ID (12 or 9 digits) or a surrogate `dossier:<dossierCode>:<role>`; anything else ' +
      'is a 422 that does not repeat it. With `privacy.enabled: false` every erasure route answers 409.',
    callers: OPERATORS,
    body: obj({ subjectId: str(), note: str(undefined, { minLength: 1 }) }, ['subjectId'], true),
    ok: {
      status: 201,
      description: 'The request.',
      schema: obj({ erasure: record('The erasure request.') }, ['erasure']),
    },
    errors: [409, 422],
  },
  {
    method: 'get',
    path: '/v1/admin/erasures',
    tag: 'personal data',
    summary: 'The erasure requests',
    callers: OPERATORS,
    query: [limit(), afterId],
    ok: {
      status: 200,
      description: 'The requests.',
      schema: obj({ erasures: list(record('A request.')), next: str() }, ['erasures']),
    },
    errors: [400, 409],
  },
  {
    method: 'get',
    path: '/v1/admin/erasures/{id}',
    tag: 'personal data',
    summary: 'One erasure request',
    callers: OPERATORS,
    ok: {
      status: 200,
      description: 'The request.',
      schema: obj({ erasure: record('The erasure request.') }, ['erasure']),
    },
    errors: [404, 409],
  },
  {
    method: 'post',
    path: '/v1/admin/erasures/{id}/approve',
    tag: 'personal data',
    summary: "Approve an erasure: destroy the subject's key",
    description: '409 when an exemption applies (refuse citing its basis instead).',
    callers: OPERATORS,
    body: obj({}, [], true),
    ok: {
      status: 200,
      description: 'The request.',
      schema: obj({ erasure: record('The erasure request.') }, ['erasure']),
    },
    errors: [404, 409],
  },
  {
    method: 'post',
    path: '/v1/admin/erasures/{id}/refuse',
    tag: 'personal data',
    summary: 'Refuse an erasure, citing its legal basis',
    callers: OPERATORS,
    body: obj(
      { basis: str(undefined, { minLength: 1, maxLength: 1000 }), note: str(undefined, { minLength: 1 }) },
      ['basis'],
      true,
    ),
    ok: {
      status: 200,
      description: 'The request.',
      schema: obj({ erasure: record('The erasure request.') }, ['erasure']),
    },
    errors: [404, 409, 422],
  },
  {
    method: 'get',
    path: '/v1/admin/privacy/affected',
    tag: 'personal data',
    summary: 'Who was affected: the data subjects in the events of a window (breach report)',
    callers: OPERATORS,
    query: [
      queryParam('from', str(undefined, { format: 'date-time' }), 'Events recorded at or after it.', true),
      queryParam(
        'to',
        str(undefined, { format: 'date-time' }),
        'Events recorded before it; at most 366 days after `from`.',
        true,
      ),
      queryParam('province', str(), 'Province codes, comma-separated.'),
      queryParam('commune', str(), 'Commune codes, comma-separated.'),
      queryParam('target', str(), 'What a system received: a connector, `webhook:<id>` or `kafka`.'),
      limit(),
      afterId,
    ],
    ok: {
      status: 200,
      description: 'The subjects.',
      schema: record('`{window, subjects, total, erasedOmitted, scanned, next?}`.'),
    },
    errors: [409, 422],
  },
  {
    method: 'post',
    path: '/v1/callbacks/payments',
    tag: 'callbacks',
    summary: "The payment platform's result callbacks",
    description:
      'Authenticated by the `MaXacThuc` digest, not a token. Answered signed: 200 (`00`) when captured or ' +
      'already captured; 401 (`02`) when `MaXacThuc` does not verify; 400 (`99`) malformed; 404 (`99`) unknown ' +
      'dossier; 503 when the store cannot take it (the platform sends it again).',
    callers: 'payment-platform',
    body: PAYMENT_CALLBACK,
    ok: { status: 200, description: 'Captured (or already captured).', schema: PAYMENT_ANSWER },
    errors: [400, 401, 404, 503],
  },
  {
    method: 'get',
    path: '/health/live',
    tag: 'health',
    summary: 'Liveness: 200 while the process runs',
    callers: 'anyone',
    ok: { status: 200, description: 'Alive.', schema: obj({ status: { const: 'ok' } }, ['status']) },
  },
  {
    method: 'get',
    path: '/health/ready',
    tag: 'health',
    summary: 'Readiness: 200 once started and while the store answers',
    description:
      "503 while starting, shutting down or when the store fails, and when Kafka refused the hub's " +
      'credentials or certificate. An unreachable broker does not make it 503.',
    callers: 'anyone',
    ok: {
      status: 200,
      description: 'Ready.',
      schema: record('`{status, head, projection, roles, kafka?}`.'),
    },
    errors: [503],
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'health',
    summary: 'Prometheus metrics',
    description:
      'Open by default; `metrics.token` asks for `Authorization: Bearer <metrics.token>` (401 otherwise); ' +
      '`metrics.port` serves it on a listener of its own instead (then 404 here).',
    callers: 'metrics',
    ok: {
      status: 200,
      description: 'The metrics.',
      content: { 'text/plain': { schema: { type: 'string' } } },
    },
    errors: [401, 404],
  },
  {
    method: 'get',
    path: '/openapi.json',
    tag: 'health',
    summary: 'This document',
    description: 'Public: the route catalogue, the same for every caller. `/docs` renders it.',
    callers: 'anyone',
    ok: { status: 200, description: 'The OpenAPI document.', schema: { type: 'object' } },
  },
];

const REPLAY_SCOPE = obj({
  dossiers: list(str()),
  from: str(),
  to: str(),
  types: list(str()),
  provinceCode: str(),
  communeCode: str(),
  reconciliationRun: str(),
});

const problemResponse = (status: number): Schema => ({
  $ref: `#/components/responses/${PROBLEM_RESPONSES[status]![0]}`,
});

function operation(route: Route): Schema {
  const { callers } = route;
  const byToken = Array.isArray(callers);
  const pathParams = [...route.path.matchAll(/\{([^}]+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    description: PATH_PARAMETERS[name!] ?? name,
    schema: { type: 'string' },
  }));
  const parameters = [
    ...pathParams,
    ...(route.query ?? []),
    ...(route.headers ?? []),
    { $ref: '#/components/parameters/AcceptLanguage' },
  ];
  const statuses = new Set<number>(route.errors ?? []);
  if (byToken) for (const s of [401, 403, 429]) statuses.add(s);
  if (route.body !== undefined || route.requestBody !== undefined)
    for (const s of [400, 413, 415]) statuses.add(s);
  if (callers === 'metrics' || callers === 'payment-platform') statuses.add(429);
  const responses: Record<string, Schema> = {
    [String(route.ok.status)]: {
      description: route.ok.description,
      ...(route.ok.content
        ? { content: route.ok.content }
        : route.ok.schema
          ? { content: { 'application/json': { schema: route.ok.schema } } }
          : {}),
    },
  };
  if (route.alsoOk) {
    responses[String(route.alsoOk.status)] = {
      ...responses[String(route.ok.status)],
      description: route.alsoOk.description,
    };
  }
  for (const status of [...statuses].sort()) {
    // The payment platform gets its own signed answers, not problems, for these.
    if (callers === 'payment-platform' && [400, 401, 404].includes(status)) {
      responses[String(status)] = {
        description: 'Refused, signed.',
        content: { 'application/json': { schema: PAYMENT_ANSWER } },
      };
    } else responses[String(status)] = problemResponse(status);
  }
  const operationId = `${route.method}${route.path
    .split(/[/{}.-]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('')}`;
  return {
    operationId,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    parameters,
    ...(route.requestBody
      ? { requestBody: route.requestBody }
      : route.body
        ? { requestBody: { required: false, content: { 'application/json': { schema: route.body } } } }
        : {}),
    responses,
    security: byToken ? [{ bearer: [] }] : callers === 'metrics' ? [{}, { metricsToken: [] }] : [],
    'x-lgsp-callers': byToken ? [...callers] : [callers],
  };
}

/**
 * Builds the document. `version` is the hub's package version. The routes are listed once here;
 * {@link documentedRoutes} gives them to the tests and the README check.
 */
export function openApiDocument(
  version: string,
  schemas: EventSchemas = EventSchemas.shared(),
): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) (paths[route.path] ??= {})[route.method] = operation(route);
  const responses: Record<string, Schema> = {};
  for (const [status, [name, description]] of Object.entries(PROBLEM_RESPONSES)) {
    responses[name] = {
      description,
      headers: {
        ...LANGUAGE_HEADERS,
        ...(status === '429'
          ? {
              'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' } },
              ...rateLimitPolicy,
            }
          : {}),
      },
      content: { [PROBLEM_TYPE]: { schema: ref('Problem') } },
    };
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'lgsp-hub HTTP API',
      version,
      license: { name: 'MIT', identifier: 'MIT' },
      description:
        "The HTTP API of lgsp-hub, the event-sourced data-exchange hub of Vietnam's two-tier local government. " +
        'Clients send `Authorization: Bearer <token>`; `x-lgsp-callers` on each operation names the client ' +
        'roles that may call it (`commune`, `province`, `operator`, `admin`), or `anyone`. A commune client ' +
        'reads and writes only its communes, a province client only its province, and an answer never reveals ' +
        "anything outside the caller's scope (404, as if absent). Errors are RFC 9457 problem documents " +
        '(`application/problem+json`) with `errors: [{pointer, message}]`, in Vietnamese with ' +
        '`Accept-Language: vi` (English otherwise). Every limited answer carries the ' +
        '`RateLimit-Policy` and `RateLimit` fields. The event payloads are the JSON Schemas of `schemas/`; ' +
        'the Kafka topics are in `schemas/asyncapi.yaml`, the webhooks in `schemas/webhooks.asyncapi.yaml`. ' +
        'The web console (`/console`) and this reference (`/docs`) are HTML pages, not listed here.',
    },
    servers: [{ url: '/', description: 'The hub that serves this document.' }],
    tags: [...new Set(ROUTES.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            "A client's token (`lgsp_…`), the bootstrap admin token, or a JWT of the configured identity " +
            'provider. The route names the roles it admits (`x-lgsp-callers`); another role gets 403.',
        },
        metricsToken: {
          type: 'http',
          scheme: 'bearer',
          description: '`metrics.token`, when one is configured.',
        },
      },
      responses,
      parameters: {
        AcceptLanguage: {
          name: 'Accept-Language',
          in: 'header',
          required: false,
          description:
            '`vi` (or `vi-VN`, or a list whose q-values put Vietnamese first): problem `title`, `detail` and ' +
            'issue messages in Vietnamese; English otherwise.',
          schema: { type: 'string' },
        },
      },
      schemas: {
        Problem: obj(
          {
            type: str('A URI naming the problem, e.g. `https://lgsp-hub.vn/problems/invalid`.', {
              format: 'uri',
            }),
            title: str(),
            status: { type: 'integer' },
            detail: str(),
            instance: str('The path of the request.'),
            errors: list(ref('Issue')),
          },
          ['type', 'title', 'status', 'detail', 'errors'],
        ),
        Issue: obj(
          { pointer: str('A JSON Pointer into the request.'), message: str('What is wrong there.') },
          ['pointer', 'message'],
        ),
        CloudEvent: CLOUD_EVENT,
        DossierView: DOSSIER_VIEW,
        Client: CLIENT,
        Webhook: WEBHOOK,
        EventCatalogue: EVENT_CATALOGUE,
        ReplayScope: REPLAY_SCOPE,
        ...eventComponents(schemas),
      },
    },
  };
}

/** Every documented route, `GET /v1/streams/{stream}` style, in document order. */
export function documentedRoutes(document: OpenApiDocument): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
  );
}
