import { citizenIdOf } from '#lgsp/contracts';
import type { EventStore, StoredEvent } from '#lgsp/event-store';
import { sealedKid } from '../cipher.js';
import { isSealed } from '../model.js';
import type { PersonalDataCodec } from '../personal-data-codec.js';
import { personsIn } from '../personal-fields.js';
import { firstPositionAt, pageAfter, type AffectedWindow } from './window.js';

/**
 * A system the hub's data went to, as a breach report scopes it: which events it took, how far it
 * got, and whether it received the event itself or the dossier's state as of the event.
 */
export interface AffectedTarget {
  /** As the query names it: `portal`, `webhook:<id>`, `kafka`, `kafka:<client>`. */
  readonly name: string;
  /**
   * `event`: the event's own data reached the target (webhooks, Kafka). `dossier`: the dossier's state
   * as of the event did (a connector sends the whole dossier, the applicant included, for a status
   * change that carries no personal field).
   */
  readonly sends: 'event' | 'dossier';
  /** Only events of these types can reach it (narrows the reads of the log). */
  readonly types?: readonly string[];
  /** True for an event (as stored: personal fields sealed) the target takes. */
  takes(event: StoredEvent): boolean;
  /** The last position the target has processed (its checkpoint or delivered-through mark). */
  through(): Promise<number>;
}

export interface AffectedQuery {
  window: AffectedWindow;
  /** Events of these provinces only (and of these communes, when both are given). */
  provinces?: readonly string[];
  communes?: readonly string[];
  target?: AffectedTarget;
  /** Subjects per page. */
  limit: number;
  /** The `next` of the previous page: the subjects whose ref sorts after it. */
  after?: string;
  signal?: AbortSignal;
}

/** One data subject whose personal data was in the window. */
export interface AffectedSubject {
  /** The subject's reference (a keyed hash of its citizen ID or surrogate). */
  subjectRef: string;
  /** Its roles in the dossiers (`applicant`, `person`, `mother`, `father`). */
  roles: string[];
  dossiers: string[];
  /** Recording times of the first and last event of the window that carried (or sent) its data. */
  firstSeen: string;
  lastSeen: string;
  /** Its personal fields as the hub holds them (opened now), from the latest event of the window. */
  fields: Record<string, unknown>;
}

export interface AffectedReport {
  subjects: AffectedSubject[];
  /** Subjects in the whole answer (every page), erased subjects not counted. */
  total: number;
  /** Always true: a subject whose key was destroyed is left out of the list and of `total`. */
  erasedOmitted: true;
  /** The stretch of the log read: positions `fromPosition` to `throughPosition`, `events` of them in scope. */
  scanned: { fromPosition: number; throughPosition: number; events: number };
  /** The cursor of the next page (`after`), when there is one. */
  next?: string;
}

export interface AffectedSubjectsOptions {
  /** The log as stored (personal fields sealed): the SealingEventStore's `inner`. */
  events: Pick<EventStore, 'readAll' | 'readStream' | 'head'>;
  codec: PersonalDataCodec;
  /** Events per read of the log. @defaultValue 1000 */
  pageSize?: number;
  /** Kids mapped to subjects per call of the key provider. @defaultValue 1000 */
  keyBatch?: number;
}

/** What the window holds of one kid (one subject key). */
interface Seen {
  roles: Set<string>;
  dossiers: Set<string>;
  first: number;
  last: number;
  /** Position of the event the fields come from, and the fields (sealed). */
  at: number;
  fields: Record<string, unknown>;
}

/** A dossier sent to a `dossier` target: its stream up to `version`, and when. */
interface Sent {
  stream: string;
  version: number;
  first: number;
  last: number;
}

/**
 * "Who was affected" (Law 91/2025 Art. 23, a breach report within 72 hours): the data subjects whose
 * personal data was in the events recorded in a window, within a scope (provinces, communes) and a
 * target (what a connector, a webhook or Kafka received of them). It reads the log as stored: the
 * window's first and last positions by binary search on the recording times, then pages forward
 * with the store's province and commune filters; each sealed value names its subject key, mapped to
 * its subject in batches. A key destroyed (an erased subject) contributes nothing: neither the
 * subject nor its reference appears, nor is it counted.
 */
export class AffectedSubjects {
  private readonly pageSize: number;
  private readonly keyBatch: number;

  constructor(private readonly options: AffectedSubjectsOptions) {
    this.pageSize = options.pageSize ?? 1000;
    this.keyBatch = options.keyBatch ?? 1000;
  }

  async find(query: AffectedQuery): Promise<AffectedReport> {
    const { events } = this.options;
    const { window, target, signal } = query;
    const head = (await events.head()).position;
    const recordedAt = async (position: number) => {
      const [e] = await events.readAll({ after: position - 1, limit: 1 });
      return e === undefined ? undefined : Date.parse(e.recordedAt);
    };
    const start = await firstPositionAt(head, window.from, recordedAt);
    const end = (await firstPositionAt(head, window.to, recordedAt)) - 1;
    const last = target === undefined ? end : Math.min(end, await target.through());

    const seen = new Map<string, Seen>();
    const sent = new Map<string, Sent>();
    let scanned = 0;
    let after = start - 1;
    while (after < last) {
      signal?.throwIfAborted();
      const page = await events.readAll({
        after,
        limit: this.pageSize,
        ...(query.provinces === undefined ? {} : { provinceCodes: query.provinces }),
        ...(query.communes === undefined ? {} : { communeCodes: query.communes }),
        ...(target?.types === undefined ? {} : { types: target.types }),
      });
      for (const e of page) {
        if (e.position > last) break;
        if (target !== undefined && !target.takes(e)) continue;
        scanned++;
        const at = Date.parse(e.recordedAt);
        if (target?.sends === 'dossier') noteSent(sent, e, at);
        else noteSeen(seen, e, at, at);
      }
      const end = page.at(-1);
      if (end === undefined || page.length < this.pageSize || end.position >= last) break;
      after = end.position;
    }
    for (const s of sent.values()) {
      signal?.throwIfAborted();
      for (const e of await events.readStream(s.stream, { limit: s.version }))
        noteSeen(seen, e, s.first, s.last);
    }

    const subjects = await this.bySubject(seen);
    const page = pageAfter(subjects, (s) => s.subjectRef, query.limit, query.after);
    const fields = await this.options.codec.reveal(page.items.map((s) => s.fields));
    return {
      subjects: page.items.map((s, i) => ({ ...s, fields: withIdNumber(fields[i]!) })),
      total: subjects.length,
      erasedOmitted: true,
      scanned: { fromPosition: start, throughPosition: Math.max(start - 1, last), events: scanned },
      ...(page.next === undefined ? {} : { next: page.next }),
    };
  }

  /** The kids' subjects, those of destroyed keys left out, sorted by reference; fields still sealed. */
  private async bySubject(seen: Map<string, Seen>): Promise<AffectedSubject[]> {
    const { keys } = this.options.codec;
    const kids = [...seen.keys()];
    const merged = new Map<string, Seen>();
    for (let i = 0; i < kids.length; i += this.keyBatch) {
      const batch = kids.slice(i, i + this.keyBatch);
      const [refs, live] = await Promise.all([keys.subjectsOf(batch), keys.openingKeys(batch)]);
      for (const kid of batch) {
        const ref = refs.get(kid);
        if (ref === undefined || !live.get(kid)) continue;
        const s = seen.get(kid)!;
        const into = merged.get(ref);
        if (into === undefined)
          merged.set(ref, { ...s, roles: new Set(s.roles), dossiers: new Set(s.dossiers) });
        else merge(into, s);
      }
    }
    return [...merged]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([subjectRef, s]) => ({
        subjectRef,
        roles: [...s.roles].sort(),
        dossiers: [...s.dossiers].sort(),
        firstSeen: new Date(s.first).toISOString(),
        lastSeen: new Date(s.last).toISOString(),
        fields: s.fields,
      }));
  }
}

const DOSSIER_STREAM = 'dossier-';

function dossierOf(e: StoredEvent): string {
  const code = (e.data as { dossierCode?: unknown } | null)?.dossierCode;
  if (typeof code === 'string') return code;
  return e.stream.startsWith(DOSSIER_STREAM) ? e.stream.slice(DOSSIER_STREAM.length) : e.stream;
}

/** Records the persons of `e` (each under the kid its values are sealed with) as seen from `first` to `last`. */
function noteSeen(seen: Map<string, Seen>, e: StoredEvent, first: number, last: number): void {
  for (const person of personsIn(e.type, e.data)) {
    const fields: Record<string, unknown> = {};
    let kid: string | undefined;
    for (const field of person.spec.fields) {
      const value = person.holder[field];
      if (value === undefined) continue;
      fields[field] = value;
      if (kid === undefined && isSealed(value)) kid = sealedKid(value);
    }
    // A person stored in clear (the store was written before sealing) names no key: not reported.
    if (kid === undefined) continue;
    const found: Seen = {
      roles: new Set([person.role]),
      dossiers: new Set([dossierOf(e)]),
      first,
      last,
      at: e.position,
      fields,
    };
    const s = seen.get(kid);
    if (s === undefined) seen.set(kid, found);
    else merge(s, found);
  }
}

function noteSent(sent: Map<string, Sent>, e: StoredEvent, at: number): void {
  const s = sent.get(e.stream);
  if (s === undefined)
    sent.set(e.stream, { stream: e.stream, version: e.streamVersion, first: at, last: at });
  else {
    s.version = Math.max(s.version, e.streamVersion);
    s.first = Math.min(s.first, at);
    s.last = Math.max(s.last, at);
  }
}

function merge(into: Seen, s: Seen): void {
  for (const r of s.roles) into.roles.add(r);
  for (const d of s.dossiers) into.dossiers.add(d);
  into.first = Math.min(into.first, s.first);
  into.last = Math.max(into.last, s.last);
  // The latest event's values win, field by field (a person's fields may be split across objects).
  if (s.at >= into.at) {
    into.fields = { ...into.fields, ...s.fields };
    into.at = s.at;
  } else into.fields = { ...s.fields, ...into.fields };
}

/**
 * A person of `dossier.submitted.v2` holds its IDs in `documents`: the report names its citizen ID (else
 * legacy ID) as `idNumber` too, as for the other persons.
 */
function withIdNumber(fields: Record<string, unknown>): Record<string, unknown> {
  if (fields['idNumber'] !== undefined || fields['documents'] === undefined) return fields;
  const id = citizenIdOf({ documents: fields['documents'] as never });
  return id === undefined ? fields : { ...fields, idNumber: id };
}
