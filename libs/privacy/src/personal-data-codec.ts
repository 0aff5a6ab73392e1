import { openBody, sealPerson, sealedKid, sealedParts, valueOfBody, type SealedBodies } from './cipher.js';
import { ERASED, isSealed } from './model.js';
import { isObject, personsIn } from './personal-fields.js';
import type { SealingOptions, SubjectKeyProvider } from './subject-keys.js';

/** An event as far as sealing goes: its type, its stream and its data. */
export interface SealableEvent {
  type: string;
  stream: string;
  data: unknown;
}

export interface PersonalDataCodecOptions {
  /**
   * Most sealed bodies whose clear values are kept in memory (those sealed or opened last), so that the
   * subscribers reading the same events open each body once. Consulted only while the body's key opens
   * (see `SubjectKeyProvider.openingKeys`), dropped with it. 0: none. @defaultValue 8192
   */
  openedValues?: number;
}

/**
 * Seals the personal fields of events before they are stored, each value under its subject's key, and
 * opens sealed values wherever they were copied (events, views, pending work). A value whose key was
 * destroyed reads as {@link ERASED}.
 */
export class PersonalDataCodec {
  private readonly opened: OpenedValues;

  constructor(
    readonly keys: SubjectKeyProvider,
    options: PersonalDataCodecOptions = {},
  ) {
    this.opened = new OpenedValues(options.openedValues ?? 8192);
  }

  /**
   * The events with their personal fields sealed: new objects, copied only along the paths to the fields
   * (the others, and events without persons, returned as they are). A value already sealed stays as it
   * is; a person whose ID is already sealed keeps the subject of that ID's key.
   */
  async seal<E extends SealableEvent>(events: readonly E[], options?: SealingOptions): Promise<E[]> {
    const found = events.map((e) =>
      personsIn(e.type, e.data).filter((p) => p.spec.fields.some((f) => toSeal(p.holder[f]))),
    );
    if (found.every((persons) => persons.length === 0)) return [...events];
    const sealedIds = found.flat().flatMap((p) => {
      const kid = sealedKidOf(p.id);
      return kid === undefined ? [] : [kid];
    });
    const subjectOfKid =
      sealedIds.length > 0 ? await this.keys.subjectsOf(sealedIds) : new Map<string, string>();
    const refs = found.map((persons) =>
      persons.map((p) => {
        const kid = sealedKidOf(p.id);
        return (kid === undefined ? undefined : subjectOfKid.get(kid)) ?? this.keys.ref(p.subjectId);
      }),
    );
    const keys = await this.keys.sealingKeys(
      refs.flatMap((forEvent, i) => forEvent.map((ref) => ({ ref, stream: events[i]!.stream }))),
      options,
    );
    return events.map((event, i) => {
      const persons = found[i]!;
      if (persons.length === 0) return event;
      const data = { ...(event.data as Record<string, unknown>) };
      const copied = new Set<object>([data]);
      persons.forEach((person, j) => {
        const { kid, key } = keys.get(refs[i]![j]!)!;
        const holder = writableAt(data, person.at, copied);
        // The person's fields in one AES-GCM operation (`pd2`): each sealed string opens alone.
        const values: Record<string, unknown> = {};
        let scalars = true;
        for (const field of person.spec.fields) {
          const value = holder[field];
          if (!toSeal(value)) continue;
          values[field] = value;
          if (typeof value === 'object' && value !== null) scalars = false;
        }
        // Persons of scalars only: the same values sealed again under the same kid reuse their body.
        const sealed = sealPerson(kid, key, values, scalars ? this.opened : undefined);
        let body: string | undefined;
        for (const field in sealed) {
          holder[field] = sealed[field];
          body ??= sealedParts(sealed[field]!)?.body;
        }
        if (scalars && body !== undefined) this.opened.set(kid, body, Object.freeze(values));
      });
      return { ...event, data };
    });
  }

  /**
   * Opens every sealed value in `values` (any JSON: events' data, views, payloads), in one key lookup.
   * Values without a sealed string are returned as they are.
   */
  async reveal<T>(values: readonly T[]): Promise<T[]> {
    const kids = new Set<string>();
    for (const v of values) collectKids(v, kids);
    if (kids.size === 0) return [...values];
    const openOne = await this.opener(kids);
    return values.map((v) => openAll(v, openOne) as T);
  }

  /** Opens one sealed value with the keys of `kids`, read now (`[erased]` for a key destroyed). */
  private async opener(kids: ReadonlySet<string>): Promise<(sealed: string) => unknown> {
    const keys = await this.keys.openingKeys([...kids]);
    for (const [kid, key] of keys) if (key === null) this.opened.forget(kid);
    return (sealed: string): unknown => {
      const parts = sealedParts(sealed);
      const key = parts === undefined ? undefined : keys.get(parts.kid);
      if (!key) return ERASED;
      try {
        let body = this.opened.get(parts!.kid, parts!.body);
        if (body === MISSING) {
          body = openBody(parts!, key);
          // A person's fields are shared by their sealed strings: kept frozen, handed out one by one.
          if (parts!.field !== undefined) Object.freeze(body);
          this.opened.set(parts!.kid, parts!.body, body);
        }
        return valueOfBody(parts!, body);
      } catch {
        // Altered, sealed under another key, or naming a field its person does not hold: nothing readable.
        return ERASED;
      }
    };
  }

  /** {@link reveal} of one value. */
  async revealOne<T>(value: T): Promise<T> {
    return (await this.reveal([value]))[0]!;
  }

  /** The events with their data opened. */
  async revealEvents<E extends { data: unknown }>(events: readonly E[]): Promise<E[]> {
    const data = await this.reveal(events.map((e) => e.data));
    return events.map((e, i) => (data[i] === e.data ? e : { ...e, data: data[i] }));
  }

  /**
   * The events with their data opened when first read: the keys are read now (a key destroyed later
   * still opens what was read before, as with {@link revealEvents}), the values opened only for the
   * readers that look at the data (a subscriber that filters on the type or the scope opens nothing).
   */
  async revealEventsLazily<E extends { data: unknown }>(events: readonly E[]): Promise<E[]> {
    const kids = new Set<string>();
    const sealed = events.map((e) => collectKids(e.data, kids));
    if (kids.size === 0) return [...events];
    const openOne = await this.opener(kids);
    return events.map((e, i) => (sealed[i] ? openedOnRead(e, openOne) : e));
  }

  /** The kids of the sealed values in `value`. */
  kidsIn(value: unknown): Set<string> {
    const kids = new Set<string>();
    collectKids(value, kids);
    return kids;
  }
}

/** A value the sealing writes over: present and not sealed already. */
const toSeal = (value: unknown): boolean => value !== undefined && !isSealed(value);

const sealedKidOf = (value: unknown): string | undefined =>
  typeof value === 'string' ? sealedKid(value) : undefined;

/**
 * The object at `path` in `root` (list indexes included), each object or list on the way copied once
 * (`copied` holds the copies).
 */
function writableAt(
  root: Record<string, unknown>,
  path: readonly string[],
  copied: Set<object>,
): Record<string, unknown> {
  let node: Record<string, unknown> | unknown[] = root;
  for (const key of path) {
    const parent = node as Record<string, unknown>;
    const child = parent[key] as Record<string, unknown> | unknown[];
    if (!copied.has(child)) {
      const copy = Array.isArray(child) ? [...child] : { ...child };
      copied.add(copy);
      parent[key] = copy;
      node = copy;
    } else node = child;
  }
  return node as Record<string, unknown>;
}

/** Adds the kids of the sealed strings in `v` to `kids`; true when it holds one. */
function collectKids(v: unknown, kids: Set<string>): boolean {
  if (typeof v === 'string') {
    if (!isSealed(v)) return false;
    const kid = sealedKid(v);
    if (kid !== undefined) kids.add(kid);
    return true;
  }
  let found = false;
  if (Array.isArray(v)) {
    for (const item of v) found = collectKids(item, kids) || found;
  } else if (isObject(v)) {
    for (const key in v) found = collectKids(v[key], kids) || found;
  }
  return found;
}

/** A copy of `event` whose `data` is opened by `openOne` when first read (and can be set). */
function openedOnRead<E extends { data: unknown }>(event: E, openOne: (sealed: string) => unknown): E {
  const stored = event.data;
  let opened: { value: unknown } | undefined;
  const copy = { ...event };
  Object.defineProperty(copy, 'data', {
    enumerable: true,
    configurable: true,
    get: () => (opened ??= { value: openAll(stored, openOne) }).value,
    set: (value: unknown) => {
      opened = { value };
    },
  });
  return copy;
}

/** `v` with its sealed strings opened by `openOne`; the same object when it holds none. */
function openAll(v: unknown, openOne: (sealed: string) => unknown): unknown {
  if (typeof v === 'string') return isSealed(v) ? openOne(v) : v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    v.forEach((item, i) => {
      const o = openAll(item, openOne);
      if (o !== item) (out ??= [...v])[i] = o;
    });
    return out ?? v;
  }
  if (isObject(v)) {
    let out: Record<string, unknown> | undefined;
    for (const key in v) {
      const o = openAll(v[key], openOne);
      if (o !== v[key]) (out ??= { ...v })[key] = o;
    }
    return out ?? v;
  }
  return v;
}

const MISSING: unique symbol = Symbol('missing');

/** A scalar, or a frozen object of scalars (a sealed person's fields). */
function keepable(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (!Object.isFrozen(value) || Array.isArray(value)) return false;
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v === 'object' && v !== null) return false;
  }
  return true;
}

/**
 * What sealed bodies hold, by kid and body: a value sealed alone (`pd1`), or a person's fields (`pd2`, a
 * frozen object whose values the readers get one by one); and the other way, the body that sealed a
 * person's JSON under a kid (see {@link SealedBodies}). Only scalars are kept, and persons whose fields are
 * all scalars (an object handed to two readers could be changed by one under the other).
 * In two generations, as in the event store's `GenerationCache`: past half of `max` bodies the current
 * generation becomes the previous one, and the previous one is dropped (the cache bridges the moment
 * between a seal and the subscribers' reads; small maps cost less to fill and to collect). A kid whose
 * key is found destroyed is forgotten in both directions.
 */
class OpenedValues implements SealedBodies {
  private current = new Generation();
  private previous = new Generation();
  private readonly generation: number;

  constructor(max: number) {
    this.generation = Math.floor(max / 2);
  }

  get(kid: string, body: string): unknown {
    const v = this.current.opened.get(kid)?.get(body) ?? this.previous.opened.get(kid)?.get(body);
    return v === undefined ? MISSING : v;
  }

  set(kid: string, body: string, value: unknown): void {
    if (this.generation === 0 || !keepable(value)) return;
    this.next().add(this.current.opened, kid, body, value);
  }

  body(kid: string, json: string): string | undefined {
    return this.current.sealed.get(kid)?.get(json) ?? this.previous.sealed.get(kid)?.get(json);
  }

  sealed(kid: string, json: string, body: string): void {
    if (this.generation === 0) return;
    this.next().add(this.current.sealed, kid, json, body);
  }

  forget(kid: string): void {
    this.current.forget(kid);
    this.previous.forget(kid);
  }

  /** The current generation, a new one when it is full. */
  private next(): Generation {
    if (this.current.size >= this.generation) {
      this.previous = this.current;
      this.current = new Generation();
    }
    return this.current;
  }
}

/** One generation of {@link OpenedValues}: opened values by kid and body, bodies by kid and JSON. */
class Generation {
  readonly opened = new Map<string, Map<string, unknown>>();
  readonly sealed = new Map<string, Map<string, string>>();
  size = 0;

  add<V>(maps: Map<string, Map<string, V>>, kid: string, k: string, v: V): void {
    let values = maps.get(kid);
    if (values === undefined) maps.set(kid, (values = new Map()));
    if (!values.has(k)) this.size++;
    values.set(k, v);
  }

  forget(kid: string): void {
    this.size -= (this.opened.get(kid)?.size ?? 0) + (this.sealed.get(kid)?.size ?? 0);
    this.opened.delete(kid);
    this.sealed.delete(kid);
  }
}
