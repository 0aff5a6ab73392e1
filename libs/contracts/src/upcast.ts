import { DomainError, pointerToken, type Issue } from './errors.js';
import {
  EVENT_SCHEMA_NAMES,
  EVENT_SCHEMA_VERSIONS,
  type DossierPerson,
  type DossierSubmitted,
  type DossierSubmittedV2,
  type EventType,
  type IdentityDocument,
} from './generated/events.js';
import { EVENT_TYPES, eventSchemaId, isEventType } from './schemas.js';

/*
 * Event versions. A breaking change of an event's data is a new type, `vn.gov.lgsp.<name>.v<N+1>`, with
 * its own schema (`schemas/events/<name>/v<N+1>.json`), beside the old one, which stays valid for ever:
 *
 * - The version is in the type (as in v1), not only in the CloudEvents `dataschema`: every router of the
 *   hub and of its consumers already dispatches on `type` (subscription and webhook filters, Kafka
 *   consumers' switches, the SDKs' `type` checks), and `dataschema` is optional, so an event whose
 *   producer omits it would be ambiguous. `dataschema` is set as well on every event the hub
 *   converts (the `$id` of the schema of the version delivered), for tools that resolve schemas by it.
 * - Stored events are never rewritten: the log holds each event at the version it was ingested in, and
 *   ingest validated it with that version's schema. Readers convert when they read: this file is the one
 *   place that knows how (an upcaster per version step up, a downcaster per step down).
 * - The hub's own readers (the dossier projection, the connectors) read the newest version. External
 *   consumers say which version they receive (Kafka relay per province topic, webhooks per subscription);
 *   the default is the first version, so a consumer that said nothing sees what it always saw.
 * - A downcast may lose what the older version cannot hold: see {@link DOWNCAST_LOSSES}.
 */

/** The name of an event type without its version: `dossier.submitted` for `vn.gov.lgsp.dossier.submitted.v2`. */
export type EventFamily = string;

/** Which version of each family a consumer receives: `{"dossier.submitted": 2}`; a family not named: 1. */
export type EventVersions = Readonly<Record<EventFamily, number>>;

/** Every family, with its types in increasing version order. */
export const EVENT_FAMILIES: ReadonlyMap<EventFamily, readonly EventType[]> = (() => {
  const families = new Map<EventFamily, EventType[]>();
  for (const type of EVENT_TYPES) {
    const name = EVENT_SCHEMA_NAMES[type];
    const list = families.get(name) ?? [];
    list.push(type);
    families.set(name, list);
  }
  for (const list of families.values())
    list.sort((a, b) => EVENT_SCHEMA_VERSIONS[a] - EVENT_SCHEMA_VERSIONS[b]);
  return families;
})();

/** The family and version of a catalogue type; undefined for any other text. */
export function typeVersion(type: unknown): { family: EventFamily; version: number } | undefined {
  if (!isEventType(type)) return undefined;
  return { family: EVENT_SCHEMA_NAMES[type], version: EVENT_SCHEMA_VERSIONS[type] };
}

/** The type of `family` at `version`, if the catalogue has it. */
export function eventTypeAt(family: EventFamily, version: number): EventType | undefined {
  return EVENT_FAMILIES.get(family)?.find((t) => EVENT_SCHEMA_VERSIONS[t] === version);
}

/** The newest type of the family of `type` (`type` itself for a type outside the catalogue). */
export function newestType(type: string): string {
  const v = typeVersion(type);
  return v === undefined ? type : (EVENT_FAMILIES.get(v.family)!.at(-1) ?? type);
}

/** Every type of the families of `types` (a filter naming one version receives the others, converted). */
export function withAllVersions(types: readonly string[]): string[] {
  const out = new Set<string>();
  for (const type of types) {
    const v = typeVersion(type);
    for (const t of v === undefined ? [type] : EVENT_FAMILIES.get(v.family)!) out.add(t);
  }
  return [...out];
}

/**
 * The families that have more than one version, each with its versions: what a consumer's
 * {@link EventVersions} may name.
 */
export function versionedFamilies(): Map<EventFamily, number[]> {
  const out = new Map<EventFamily, number[]>();
  for (const [family, types] of EVENT_FAMILIES)
    if (types.length > 1)
      out.set(
        family,
        types.map((t) => EVENT_SCHEMA_VERSIONS[t]),
      );
  return out;
}

/**
 * The problems of a consumer's choice of versions (`at` is the JSON pointer of the object): each key a
 * family with several versions, each value one of its versions. Empty when it is valid.
 */
export function eventVersionsIssues(value: unknown, at: string): Issue[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [
      { pointer: at, message: 'must be an object: event name → version, e.g. {"dossier.submitted": 2}' },
    ];
  }
  const families = versionedFamilies();
  const issues: Issue[] = [];
  for (const [family, version] of Object.entries(value)) {
    const versions = families.get(family);
    const pointer = `${at}/${pointerToken(family)}`;
    if (versions === undefined) {
      const known = [...families.keys()].join(', ');
      issues.push({ pointer, message: `is not an event with several versions (${known})` });
    } else if (typeof version !== 'number' || !versions.includes(version)) {
      issues.push({ pointer, message: `must be one of the versions ${versions.join(', ')}` });
    }
  }
  return issues;
}

/** What a reader needs of an event to convert it: its type, data and (optional) `dataschema`. */
export interface VersionedEvent {
  type: string;
  data: unknown;
  dataschema?: string;
}

/** A stored event that cannot be read at the version a consumer asked for: bad data, or a bug here. */
export class EventConversionError extends DomainError {
  constructor(
    /** The type the event was stored as. */
    readonly from: string,
    /** The type that was asked for. */
    readonly to: string,
    reason: string,
  ) {
    super(
      'invalid',
      `event ${from} cannot be read as ${to}: ${reason}`,
      [{ pointer: '/data', message: reason }],
      {
        retriable: false,
      },
    );
    this.name = 'EventConversionError';
    this.reason = reason;
  }
  readonly reason: string;
}

/**
 * The event at `version` of its family: the same object when it already is (or its type is outside the
 * catalogue), else a copy with the converted `type`, `data` and `dataschema`, one version step at a time.
 * Values erased (`[erased]`) or sealed are carried over as they are.
 * @throws EventConversionError when its data cannot be converted: data its schema never allowed (what an
 *   upcaster's bug looks like from outside), or a downcast the older version cannot express (see
 *   {@link DOWNCAST_LOSSES}).
 */
export function convertEvent<E extends VersionedEvent>(event: E, version: number): E {
  const v = typeVersion(event.type);
  if (v === undefined || v.version === version) return event;
  const target = eventTypeAt(v.family, version);
  if (target === undefined) {
    throw new EventConversionError(
      event.type,
      `${v.family} v${version}`,
      'the catalogue has no such version',
    );
  }
  let type = event.type as EventType;
  let data = event.data;
  while (type !== target) {
    const step = EVENT_SCHEMA_VERSIONS[type] < version ? UPCASTERS[type] : DOWNCASTERS[type];
    const next = eventTypeAt(
      v.family,
      EVENT_SCHEMA_VERSIONS[type] + (EVENT_SCHEMA_VERSIONS[type] < version ? 1 : -1),
    );
    if (step === undefined || next === undefined) {
      throw new EventConversionError(event.type, target, 'no converter between these versions');
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new EventConversionError(event.type, target, 'data must be an object');
    }
    try {
      data = step(data as Record<string, unknown>);
    } catch (err) {
      if (err instanceof EventConversionError) throw err;
      // A converter's own failure (a TypeError) is a bug: told apart, its text (maybe data) not copied.
      throw new EventConversionError(
        event.type,
        target,
        err instanceof ConversionProblem ? err.message : 'the converter failed',
      );
    }
    type = next;
  }
  return { ...event, type, data, dataschema: eventSchemaId(type) };
}

/** The event at the newest version of its family (what the projection and the connectors read). */
export function toNewestVersion<E extends VersionedEvent>(event: E): E {
  const newest = newestType(event.type);
  return newest === event.type ? event : convertEvent(event, EVENT_SCHEMA_VERSIONS[newest as EventType]);
}

/** The event at the version `versions` names for its family (1 when it names none). */
export function toVersions<E extends VersionedEvent>(event: E, versions: EventVersions | undefined): E {
  const v = typeVersion(event.type);
  if (v === undefined) return event;
  const wanted = versions?.[v.family] ?? EVENT_SCHEMA_VERSIONS[EVENT_FAMILIES.get(v.family)![0]!];
  return convertEvent(event, wanted);
}

/**
 * What a downcast loses, by the type it starts from: the fields of the newer version that the older one
 * has no place for. A consumer that needs them subscribes to the newer version.
 */
export const DOWNCAST_LOSSES: Readonly<Partial<Record<EventType, readonly string[]>>> = {
  'vn.gov.lgsp.dossier.submitted.v2': [
    'persons[] with role co-applicant (v1 holds the applicant only)',
    "the applicant's documents other than the one ID v1 holds (the first citizen ID, else the personal ID number of a VNeID account, else the first legacy 9-digit ID): passports, VNeID levels, further IDs",
    "the applicant's dateOfBirth",
    'the whole event when the applicant holds no citizen, VNeID or legacy ID (a passport only): not sent at v1, parked for that consumer',
  ],
};

/** A reason a converter cannot go on (its message says what of the data); becomes an {@link EventConversionError}. */
class ConversionProblem extends DomainError {
  constructor(message: string) {
    super('invalid', message);
  }
}

type Converter = (data: Record<string, unknown>) => Record<string, unknown>;

/** From the type it reads to the next version up. */
const UPCASTERS: Readonly<Partial<Record<EventType, Converter>>> = {
  'vn.gov.lgsp.dossier.submitted.v1': (data) => submittedV1ToV2(data as unknown as DossierSubmitted) as never,
};

/** From the type it reads to the next version down. */
const DOWNCASTERS: Readonly<Partial<Record<EventType, Converter>>> = {
  'vn.gov.lgsp.dossier.submitted.v2': (data) =>
    submittedV2ToV1(data as unknown as DossierSubmittedV2) as never,
};

const LEGACY_ID = /^[0-9]{9}$/;
const CITIZEN_ID = /^[0-9]{12}$/;

/**
 * v1 → v2: the applicant becomes the one person of the list, role `applicant`, their ID a document
 * (`legacy-id` for 9 digits, `citizen-id` otherwise: an erased or sealed one too, carried as it is).
 * Values are copied as they are, valid or not (sealed ones, `[erased]`): only a missing applicant stops it.
 */
function submittedV1ToV2(d: DossierSubmitted): DossierSubmittedV2 {
  const { applicant, ...rest } = d;
  if (typeof applicant !== 'object' || applicant === null || Array.isArray(applicant)) {
    throw new ConversionProblem('applicant must be an object');
  }
  const { fullName, idNumber, email, phone } = applicant as Partial<DossierSubmitted['applicant']>;
  const person = {
    role: 'applicant',
    ...(fullName === undefined ? {} : { fullName }),
    documents:
      idNumber === undefined
        ? []
        : [{ kind: LEGACY_ID.test(idNumber) ? 'legacy-id' : 'citizen-id', number: idNumber }],
    ...(email === undefined ? {} : { email }),
    ...(phone === undefined ? {} : { phone }),
  } as DossierPerson;
  return { ...rest, persons: [person] };
}

/**
 * v2 → v1: the applicant's name, e-mail, phone and first citizen ID (else legacy ID); see
 * {@link DOWNCAST_LOSSES}. Documents that read as one value (erased) give that value as the ID.
 * @throws ConversionProblem for an applicant who holds no citizen or legacy ID (a passport only):
 *   v1 requires one, and no v1 event can stand for that dossier.
 */
function submittedV2ToV1(d: DossierSubmittedV2): DossierSubmitted {
  const { persons, ...rest } = d;
  if (!Array.isArray(persons)) throw new ConversionProblem('persons must be a list');
  const applicant = persons.find((p) => typeof p === 'object' && p !== null && p.role === 'applicant');
  if (applicant === undefined) throw new ConversionProblem('persons holds no applicant');
  const idNumber = v1IdNumber(applicant.documents as unknown);
  if (idNumber === undefined) {
    throw new ConversionProblem('the applicant has no citizen ID or legacy ID, which v1 requires');
  }
  return {
    ...rest,
    applicant: {
      fullName: applicant.fullName,
      idNumber,
      ...(applicant.email === undefined ? {} : { email: applicant.email }),
      ...(applicant.phone === undefined ? {} : { phone: applicant.phone }),
    },
  };
}

function v1IdNumber(documents: unknown): string | undefined {
  if (typeof documents === 'string') return documents;
  if (!Array.isArray(documents)) return undefined;
  const list = documents as IdentityDocument[];
  const pick = (kind: IdentityDocument['kind'], shape: RegExp): string | undefined =>
    list.find((doc) => doc.kind === kind && typeof doc.number === 'string' && shape.test(doc.number))?.number;
  // A number that is not digits (erased, or sealed where the stored data is read) still stands for the ID.
  const any = list.find(
    (doc) => (doc.kind === 'citizen-id' || doc.kind === 'legacy-id') && typeof doc.number === 'string',
  )?.number;
  // A VNeID account's number is the person's 12-digit personal ID: the citizen ID itself.
  return pick('citizen-id', CITIZEN_ID) ?? pick('vneid', CITIZEN_ID) ?? pick('legacy-id', LEGACY_ID) ?? any;
}

/** The applicant of a `dossier.submitted` at the newest version (the person with role `applicant`). */
export function applicantOf(data: DossierSubmittedV2): DossierPerson | undefined {
  return data.persons.find((p) => p.role === 'applicant');
}

/**
 * A person's citizen ID for the systems that know only those (the portal's `DinhDanhCHS`, the
 * one-stop-shop): the first 12-digit citizen ID, else the first 9-digit legacy one. A value that reads
 * as one (erased) is returned as it is.
 */
export function citizenIdOf(person: Pick<DossierPerson, 'documents'> | undefined): string | undefined {
  return person === undefined ? undefined : v1IdNumber(person.documents as unknown);
}

/** One version of an event family, as the catalogue (`GET /v1/schemas`, `lgsp schemas`) lists it. */
export interface CatalogueVersion {
  version: number;
  type: EventType;
  /** The `$id` of its data schema, also the `dataschema` of the events the hub converts to it. */
  schema: string;
  title: string;
  /** What a downcast from it to the version below drops (absent when nothing, or for version 1). */
  downcastDrops?: readonly string[];
}

/** An event family of the catalogue with its versions (oldest first). */
export interface CatalogueEntry {
  name: EventFamily;
  versions: CatalogueVersion[];
  /** The newest version: what the hub's projection and connectors read. */
  newest: number;
  /** Emitted by the hub only (`person.erased`): clients never send it. */
  hubEmitted: boolean;
}

/** The catalogue: every family with its versions, sorted by name. */
export function eventCatalogue(
  schemas: { schema(type: EventType): Readonly<Record<string, unknown>> },
  hubEmitted: (type: EventType) => boolean,
): CatalogueEntry[] {
  return [...EVENT_FAMILIES]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, types]) => ({
      name,
      versions: types.map((type) => {
        const drops = DOWNCAST_LOSSES[type];
        return {
          version: EVENT_SCHEMA_VERSIONS[type],
          type,
          schema: eventSchemaId(type),
          title: String(schemas.schema(type)['title'] ?? ''),
          ...(drops === undefined ? {} : { downcastDrops: drops }),
        };
      }),
      newest: EVENT_SCHEMA_VERSIONS[types.at(-1)!],
      hubEmitted: types.every(hubEmitted),
    }));
}
