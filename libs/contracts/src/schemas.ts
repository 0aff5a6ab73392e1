import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020Module from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { EVENT_SCHEMA_NAMES, EVENT_SCHEMA_VERSIONS, type EventType } from './generated/events.js';

export type { ErrorObject, ValidateFunction };

// ajv and ajv-formats are CommonJS: depending on the loader the default import is the export itself or
// a namespace holding it under `default`.
const interopDefault = <T>(mod: T | { default: T }): T =>
  typeof mod === 'object' && mod !== null && 'default' in mod ? mod.default : (mod as T);
const Ajv2020 = interopDefault(Ajv2020Module as unknown as typeof Ajv2020Module.default);
const addFormats = interopDefault(addFormatsModule as unknown as typeof addFormatsModule.default);

const moduleDir = dirname(fileURLToPath(import.meta.url));

/**
 * Finds `relative` (a file or folder path such as `schemas/events` or `reference/x.json`) in the
 * nearest folder at or above `from` that holds it, and returns its absolute path. The default start is
 * this module's folder, so it works from the sources (`libs/contracts/src`) and from the build
 * (`dist/libs/contracts/src`) alike.
 * @throws Error when no ancestor folder holds `relative`.
 */
export function findRepoFile(relative: string, from: string = moduleDir): string {
  let dir = from;
  for (;;) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${relative} not found in ${from} or any folder above it`);
    dir = parent;
  }
}

/** Base of every schema `$id`: `<base>common/v1.json`, `<base>events/<name>/v<version>.json`. */
export const SCHEMA_BASE_URI = 'https://schemas.lgsp-hub.vn/';

/** The file of an event type's schema below `schemas/events/`: `<name>/v<version>.json`. */
export const eventSchemaFile = (type: EventType): string =>
  `${EVENT_SCHEMA_NAMES[type]}/v${EVENT_SCHEMA_VERSIONS[type]}.json`;

/**
 * The `$id` of the JSON Schema of an event type's `data`, e.g.
 * `https://schemas.lgsp-hub.vn/events/dossier.submitted/v2.json`; the hub sets it as the CloudEvents
 * `dataschema` of the events it converts to another version.
 */
export const eventSchemaId = (type: EventType): string => `${SCHEMA_BASE_URI}events/${eventSchemaFile(type)}`;

/** Whether `type` is an event type of the catalogue. */
export const isEventType = (type: unknown): type is EventType =>
  typeof type === 'string' && Object.hasOwn(EVENT_SCHEMA_NAMES, type);

/** Every event type of the catalogue, sorted. */
export const EVENT_TYPES: readonly EventType[] = Object.freeze(
  (Object.keys(EVENT_SCHEMA_NAMES) as EventType[]).sort(),
);

type JsonSchema = Record<string, unknown>;

const readSchema = (file: string): JsonSchema => {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${file} is not a JSON Schema object`);
  }
  return parsed as JsonSchema;
};

/**
 * The catalogue's JSON Schemas (`schemas/common/v1.json` and `schemas/events/<name>/v<N>.json`), loaded
 * into one Ajv (JSON Schema 2020-12, `allErrors`, `strict`, ajv-formats) and compiled once per event type.
 * Use {@link EventSchemas.shared} rather than constructing one per use: compiling is slow.
 */
export class EventSchemas {
  private static instance: EventSchemas | undefined;

  /** The schemas of this repository, loaded and compiled on first use. */
  static shared(): EventSchemas {
    EventSchemas.instance ??= new EventSchemas();
    return EventSchemas.instance;
  }

  /** Absolute path of the `schemas/` folder the schemas were read from. */
  readonly dir: string;
  private readonly sources = new Map<EventType, JsonSchema>();
  private readonly common: JsonSchema;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly dateTimeValidator: ValidateFunction;

  /** @param dir the `schemas/` folder; by default the one found above this module. */
  constructor(dir: string = dirname(findRepoFile('schemas/events'))) {
    this.dir = dir;
    const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true });
    addFormats(ajv);
    // Marks a personal field (sealed per data subject at rest, #lgsp/privacy PERSONAL_FIELDS); no rule.
    ajv.addKeyword({ keyword: 'x-personal-data', schemaType: 'boolean' });
    const common = readSchema(join(dir, 'common', 'v1.json'));
    this.common = common;
    ajv.addSchema(common);
    for (const type of EVENT_TYPES) {
      const file = join(dir, 'events', eventSchemaFile(type));
      const schema = readSchema(file);
      const id = eventSchemaId(type);
      if (schema['$id'] !== id) throw new Error(`${file}: $id must be ${id}`);
      this.sources.set(type, schema);
      this.validators.set(type, ajv.compile(schema));
    }
    this.dateTimeValidator = ajv.compile({ $ref: `${SCHEMA_BASE_URI}common/v1.json#/$defs/dateTime` });
  }

  /** The compiled validator of an event type's `data`, or `undefined` for a type outside the catalogue. */
  validator(type: string): ValidateFunction | undefined {
    return this.validators.get(type);
  }

  /** The JSON Schema of an event type's `data`, as read from its file. */
  schema(type: EventType): Readonly<JsonSchema> {
    const schema = this.sources.get(type);
    if (schema === undefined) throw new Error(`no schema for ${type}`);
    return schema;
  }

  /** Every property name the schemas define (keys of a `properties` object, at any depth). */
  propertyNames(): ReadonlySet<string> {
    const names = new Set<string>();
    const collect = (node: unknown): void => {
      if (typeof node !== 'object' || node === null) return;
      if (Array.isArray(node)) {
        for (const item of node) collect(item);
        return;
      }
      for (const [key, value] of Object.entries(node)) {
        if (key === 'properties' && typeof value === 'object' && value !== null) {
          for (const name of Object.keys(value)) names.add(name);
        }
        collect(value);
      }
    };
    collect(this.common);
    for (const schema of this.sources.values()) collect(schema);
    return names;
  }

  /** Whether `value` is an RFC 3339 date-time with an explicit offset, as the schemas' `dateTime` requires. */
  isDateTime(value: unknown): boolean {
    return this.dateTimeValidator(value);
  }
}
