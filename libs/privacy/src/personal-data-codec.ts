import type { KeyObject } from 'node:crypto';
import { open, seal, sealedKid } from './cipher.js';
import { ERASED, SEALED_PREFIX } from './model.js';
import { isObject, personsIn } from './personal-fields.js';
import type { SubjectKeyProvider } from './subject-keys.js';

/** An event as far as sealing goes: its type, its stream and its data. */
export interface SealableEvent {
  type: string;
  stream: string;
  data: unknown;
}

/**
 * Seals the personal fields of events before they are stored, each value under its subject's key, and
 * opens sealed values wherever they were copied (events, views, pending work). A value whose key was
 * destroyed reads as {@link ERASED}.
 */
export class PersonalDataCodec {
  constructor(readonly keys: SubjectKeyProvider) {}

  /** The events with their personal fields sealed (new objects; the others returned as they are). */
  async seal<E extends SealableEvent>(events: readonly E[]): Promise<E[]> {
    const found = events.map((e) => personsIn(e.type, e.data));
    if (found.every((persons) => persons.length === 0)) return [...events];
    const requests = found.flatMap((persons, i) =>
      persons.map((p) => ({ ref: this.keys.ref(p.subjectId), stream: events[i]!.stream })),
    );
    const keys = await this.keys.sealingKeys(requests);
    return events.map((event, i) => {
      if (found[i]!.length === 0) return event;
      const data = structuredClone(event.data);
      for (const person of personsIn(event.type, data)) {
        const { kid, key } = keys.get(this.keys.ref(person.subjectId))!;
        for (const field of person.spec.fields) {
          const value = person.holder[field];
          if (value !== undefined && !(typeof value === 'string' && value.startsWith(SEALED_PREFIX)))
            person.holder[field] = seal(kid, key, value);
        }
      }
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
    const keys = await this.keys.openingKeys([...kids]);
    return values.map((v) => openAll(v, keys) as T);
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

  /** The kids of the sealed values in `value`. */
  kidsIn(value: unknown): Set<string> {
    const kids = new Set<string>();
    collectKids(value, kids);
    return kids;
  }
}

function collectKids(v: unknown, kids: Set<string>): void {
  if (typeof v === 'string') {
    if (v.startsWith(SEALED_PREFIX)) {
      const kid = sealedKid(v);
      if (kid !== undefined) kids.add(kid);
    }
  } else if (Array.isArray(v)) {
    for (const item of v) collectKids(item, kids);
  } else if (isObject(v)) {
    for (const key in v) collectKids(v[key], kids);
  }
}

/** `v` with its sealed strings opened; the same object when it holds none. */
function openAll(v: unknown, keys: Map<string, KeyObject | null>): unknown {
  if (typeof v === 'string') {
    if (!v.startsWith(SEALED_PREFIX)) return v;
    const key = keys.get(sealedKid(v) ?? '');
    if (!key) return ERASED;
    try {
      return open(v, key);
    } catch {
      // Altered, or sealed under another key: nothing readable.
      return ERASED;
    }
  }
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    v.forEach((item, i) => {
      const o = openAll(item, keys);
      if (o !== item) (out ??= [...v])[i] = o;
    });
    return out ?? v;
  }
  if (isObject(v)) {
    let out: Record<string, unknown> | undefined;
    for (const key in v) {
      const o = openAll(v[key], keys);
      if (o !== v[key]) (out ??= { ...v })[key] = o;
    }
    return out ?? v;
  }
  return v;
}
