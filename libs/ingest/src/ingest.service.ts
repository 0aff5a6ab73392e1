import {
  assertClientEmittable,
  CORE_ATTRIBUTES,
  DomainError,
  EXPECTED_VERSION_ATTRIBUTE,
  expectedVersionOf,
  normalizeNfc,
  pointerToken,
  streamOf,
  TRACEPARENT_ATTRIBUTE,
  type CloudEvent,
  type EventValidator,
  type Issue,
} from '#lgsp/contracts';
import {
  ANY_VERSION,
  WrongExpectedVersionError,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type Extensions,
  type VersionConflict,
} from '#lgsp/event-store';
import { tracing, type TraceSpan } from '#lgsp/observability';
import { assertIngestScope, coversOwner, type Client, type CommuneDirectory } from '#lgsp/security';
import type { PortalCodeCheck } from './portal-codes.js';
import { EMPTY_STREAM, evolveOwner, StreamOwners, type StreamState } from './stream-owners.js';

/**
 * One event's answer. A duplicate of an event stored in a stream outside the caller's scope (its
 * dossier was transferred away since) is acknowledged without saying where it is stored.
 */
export type IngestResult =
  AppendResult | { id: string; source: string; duplicate: true; stream?: never; position?: never };

/** True when the answer says where the event is stored (always, for an admin). */
export const isPlaced = (r: IngestResult): r is AppendResult => r.stream !== undefined;

export interface IngestOutcome {
  /** 201 when at least one event was appended, 200 when every event was already stored. */
  status: 201 | 200;
  results: IngestResult[];
  /** Codes the national portal would refuse, in `warn` mode of the code check; absent when none. */
  warnings?: Issue[];
}

/** What ingest reports to metrics; kept as an interface so the use case knows no metrics library. */
export interface IngestObserver {
  appended(type: string, seconds: number): void;
  duplicate(type: string): void;
  rejected(type: string, code: string): void;
}

export interface IngestServiceOptions {
  observer?: IngestObserver;
  /** Which province each commune is in, for the sources a province client may use. */
  units?: CommuneDirectory;
  /** Streams whose owner is cached. @defaultValue 100000 */
  ownerCacheSize?: number;
  /**
   * Where ownership reads a stream it does not know: it folds types and codes only, so the log as stored
   * serves (with privacy on, nothing is opened for it). @defaultValue the store appended to
   */
  ownersFrom?: Pick<EventStore, 'readStream'>;
  /** The optional early check of dossier and agency codes against the portal's forms. @defaultValue off */
  codeCheck?: PortalCodeCheck;
}

/** Where a call of {@link IngestService.ingest} came from. */
export interface IngestContext {
  /**
   * The W3C traceparent of the request that carried the events (the hub's ingest span, or the one the
   * request came with), stored as each event's `traceparent` extension unless the event has its own.
   * Must be valid (see `parseTraceparent`).
   */
  traceparent?: string | undefined;
}

/** Appends retried after a version conflict the client did not ask for (another writer came first). */
const MAX_ATTEMPTS = 16;

/** What {@link IngestService.plan} answers when it needs to know which events are stored already. */
const LOOK_UP = Symbol('look up stored events');

const NO_UNITS: CommuneDirectory = { provinceOfCommune: () => undefined };

/**
 * The ingest use case, shared by every transport (HTTP, the Kafka ingest topic, the connectors'
 * capture): normalise to NFC, validate against the schemas, check the client's scope and sources,
 * check that each dossier stream belongs to a commune the client covers, then append atomically.
 *
 * Ownership is checked at a stream version, and every event is appended with the version it was
 * checked at (the client's own `expectedversion` when it gives one), so a stream that changed hands
 * between the check and the commit is a version conflict, never a write into another's stream.
 * Deduplication on (source, id) and the version check happen inside the store's append, in one commit.
 */
export class IngestService {
  /** Owner and version of the dossier streams, shared with the read API. */
  readonly owners: StreamOwners;
  private readonly observer: IngestObserver | undefined;
  private readonly units: CommuneDirectory;
  private readonly codeCheck: PortalCodeCheck | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly validator: EventValidator,
    options: IngestServiceOptions = {},
  ) {
    this.observer = options.observer;
    this.units = options.units ?? NO_UNITS;
    this.codeCheck = options.codeCheck;
    this.owners = new StreamOwners(options.ownersFrom ?? store, options.ownerCacheSize);
  }

  /**
   * @param single true when the request carried one event (structured or binary mode): error
   *   pointers then start at the event, not at a batch index.
   */
  async ingest(
    client: Client,
    received: readonly CloudEvent[],
    single: boolean,
    context: IngestContext = {},
  ): Promise<IngestOutcome> {
    // NFC first, so that length limits and scope checks see the text as it will be stored.
    const events = received.map((e) => normalizeNfc(e));
    let appends: EventToAppend[];
    let warnings: Issue[];
    try {
      const issues = this.validator.validate(events, { single });
      if (issues.length > 0) {
        throw new DomainError('invalid', `${issues.length} schema violation(s)`, issues);
      }
      assertClientEmittable(events, single);
      assertIngestScope(client, events, single, this.units);
      warnings = this.codeCheck?.issues(events, single) ?? [];
      if (warnings.length > 0 && this.codeCheck?.mode === 'refuse') {
        throw new DomainError(
          'invalid',
          `${warnings.length} code(s) the national portal would refuse (ingest code check)`,
          warnings,
        );
      }
      appends = events.map((e) => toAppend(e, context.traceparent));
    } catch (e) {
      this.rejected(events, e);
      throw e;
    }

    const started = performance.now();
    let results: AppendResult[];
    try {
      results = await tracing().span('append', { attributes: { 'lgsp.events': appends.length } }, (span) =>
        this.appendOwned(client, appends, single, span),
      );
    } catch (e) {
      this.rejected(events, e);
      throw e;
    }
    const seconds = (performance.now() - started) / 1000;
    let appended = 0;
    results.forEach((r, i) => {
      const type = String(events[i]?.type);
      if (r.duplicate) this.observer?.duplicate(type);
      else {
        appended++;
        this.observer?.appended(type, seconds);
      }
    });
    const status = appended > 0 ? 201 : 200;
    const scoped =
      client.role === 'admin' || appended === results.length ? results : await this.scoped(client, results);
    return warnings.length > 0 ? { status, results: scoped, warnings } : { status, results: scoped };
  }

  private rejected(events: readonly CloudEvent[], e: unknown): void {
    if (!(e instanceof DomainError) || e.code === 'unavailable') return;
    for (const ev of events) this.observer?.rejected(String(ev.type), e.code);
  }

  /**
   * Appends with each event's version pinned to the one its stream's ownership was checked at (a
   * client's own `expectedversion` must equal it, or the answer is its 409). A conflict from the store
   * means another writer came first: the streams are read again and the batch planned anew, so nothing
   * is ever written on an ownership that no longer holds.
   */
  private async appendOwned(
    client: Client,
    appends: readonly EventToAppend[],
    single: boolean,
    span: TraceSpan,
  ): Promise<AppendResult[]> {
    // A stream this process has not seen is taken to be new (the commonest case: a first event), and
    // its events pinned from version 0: if it exists, the append conflicts and the stream is read. A
    // client's own expected version is checked against what the store really holds.
    const explicit = new Set(appends.filter((a) => a.expectedVersion !== ANY_VERSION).map((a) => a.stream));
    const streams = new Map<string, StreamState>();
    for (const a of appends) {
      if (streams.has(a.stream)) continue;
      const cached = this.owners.cached(a.stream);
      streams.set(
        a.stream,
        cached ?? (explicit.has(a.stream) ? await this.owners.refresh(a.stream) : EMPTY_STREAM),
      );
    }
    for (let attempt = 1; ; attempt++) {
      let plan = this.plan(client, appends, streams, undefined, single);
      // Which events are stored already (they take no version and need no check) matters only when
      // the plan found something to refuse, or a stream met twice, or a client's own version.
      if (plan === LOOK_UP) {
        const stored = await this.store.findStored(appends);
        plan = this.plan(client, appends, streams, stored, single) as EventToAppend[];
      }
      try {
        const results = await this.store.append(plan, {
          // The group commit this call joined: how many calls and events shared its transaction.
          onCommitted: (group) => {
            span.setAttribute('lgsp.commit.calls', group.calls);
            span.setAttribute('lgsp.commit.events', group.events);
            span.setAttribute('lgsp.append.attempts', attempt);
          },
        });
        this.rememberAppended(appends, results, streams);
        return results;
      } catch (e) {
        if (!(e instanceof WrongExpectedVersionError)) throw e;
        if (attempt >= MAX_ATTEMPTS) {
          throw new DomainError('unavailable', 'the dossier is being written concurrently; retry', [], {
            retriable: true,
          });
        }
        for (const c of e.conflicts) streams.set(c.stream, await this.owners.refresh(c.stream));
      }
    }
  }

  /**
   * Pins each event's expected version and checks ownership along the batch: an event may be written
   * only to a stream whose owner the client covers, and must name that owner's commune and province.
   * Without `stored` it returns LOOK_UP instead of refusing anything or trusting a batch that meets a
   * stream twice (a stored event there takes no version); with it, stored events are left to the
   * store, which answers them as duplicates.
   * @throws DomainError `forbidden` (owned by a commune outside the scope), `invalid` (names another
   *   commune than its dossier's), WrongExpectedVersionError (the client's `expectedversion` is not the
   *   stream's version).
   */
  private plan(
    client: Client,
    appends: readonly EventToAppend[],
    streams: ReadonlyMap<string, StreamState>,
    stored: readonly (AppendResult | undefined)[] | undefined,
    single: boolean,
  ): EventToAppend[] | typeof LOOK_UP {
    const state = new Map<string, StreamState>();
    const forbidden: Issue[] = [];
    const invalid: Issue[] = [];
    const conflicts: VersionConflict[] = [];
    let twice = false;
    const planned = appends.map((a, i) => {
      if (stored?.[i] !== undefined) return a;
      const at = single ? '' : `/${pointerToken(i)}`;
      const met = state.get(a.stream);
      const s = met ?? streams.get(a.stream) ?? EMPTY_STREAM;
      if (met !== undefined) twice = true;
      const owner = s.owner;
      if (owner !== undefined && !coversOwner(client, owner)) {
        forbidden.push({
          pointer: `${at}/data/dossierCode`,
          message: 'the dossier is outside the client scope',
        });
      } else if (
        owner !== undefined &&
        (a.provinceCode !== owner.provinceCode || a.communeCode !== owner.communeCode)
      ) {
        invalid.push({
          pointer: `${at}/data/communeCode`,
          message: `the dossier belongs to commune ${owner.communeCode} of province ${owner.provinceCode}; its events name them`,
        });
      } else if (a.expectedVersion !== ANY_VERSION && a.expectedVersion !== s.version) {
        conflicts.push({ index: i, stream: a.stream, expected: a.expectedVersion, actual: s.version });
      }
      state.set(a.stream, { version: s.version + 1, owner: evolveOwner(owner, a) });
      return { ...a, expectedVersion: s.version };
    });
    if (stored === undefined && (twice || forbidden.length + invalid.length + conflicts.length > 0)) {
      return LOOK_UP;
    }
    if (forbidden.length > 0) {
      throw new DomainError(
        'forbidden',
        `${forbidden.length} event(s) outside the client's scope`,
        forbidden,
      );
    }
    if (invalid.length > 0) {
      throw new DomainError(
        'invalid',
        `${invalid.length} event(s) name another commune than their dossier's`,
        invalid,
      );
    }
    if (conflicts.length > 0) throw new WrongExpectedVersionError(conflicts);
    return planned;
  }

  /** Caches the streams' new versions and owners from what was committed. */
  private rememberAppended(
    appends: readonly EventToAppend[],
    results: readonly AppendResult[],
    streams: ReadonlyMap<string, StreamState>,
  ): void {
    const next = new Map<string, { state: StreamState; made: number }>();
    results.forEach((r, i) => {
      const a = appends[i];
      if (r.duplicate || a === undefined) return;
      const before = next.get(a.stream);
      const owner = (before?.state ?? streams.get(a.stream) ?? EMPTY_STREAM).owner;
      next.set(a.stream, {
        state: { version: r.streamVersion, owner: evolveOwner(owner, a) },
        made: (before?.made ?? 0) + 1,
      });
    });
    for (const [stream, { state, made }] of next) {
      // Every event was pinned: the versions this call made follow the state it planned on.
      if (state.version === (streams.get(stream)?.version ?? 0) + made) this.owners.remember(stream, state);
    }
  }

  /** Duplicates stored in a stream outside the caller's scope are answered without their place. */
  private async scoped(client: Client, results: AppendResult[]): Promise<IngestResult[]> {
    const out: IngestResult[] = [];
    for (const r of results) {
      const owner = r.duplicate ? (await this.owners.known(r.stream)).owner : undefined;
      if (r.duplicate && (owner === undefined || !coversOwner(client, owner))) {
        out.push({ id: r.id, source: r.source, duplicate: true });
      } else out.push(r);
    }
    return out;
  }
}

function toAppend(event: CloudEvent, traceparent: string | undefined): EventToAppend {
  const data = event.data as { provinceCode?: string; communeCode?: string };
  const extensions: Extensions = {};
  for (const [name, value] of Object.entries(event)) {
    if (CORE_ATTRIBUTES.has(name) || name === EXPECTED_VERSION_ATTRIBUTE) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      extensions[name] = value;
    }
  }
  // The event's own trace context (its producer's) wins; else the request's. Stored, so hashed in the chain.
  if (traceparent !== undefined && extensions[TRACEPARENT_ATTRIBUTE] === undefined) {
    extensions[TRACEPARENT_ATTRIBUTE] = traceparent;
  }
  const expected = expectedVersionOf(event);
  return {
    stream: streamOf(event),
    expectedVersion: expected ?? ANY_VERSION,
    id: event.id,
    source: event.source,
    type: event.type,
    ...(event.time !== undefined ? { time: event.time } : {}),
    ...(event.subject !== undefined ? { subject: event.subject } : {}),
    ...(event.datacontenttype !== undefined ? { datacontenttype: event.datacontenttype } : {}),
    ...(event.dataschema !== undefined ? { dataschema: event.dataschema } : {}),
    data: event.data,
    extensions,
    ...(data.provinceCode !== undefined ? { provinceCode: data.provinceCode } : {}),
    ...(data.communeCode !== undefined ? { communeCode: data.communeCode } : {}),
  };
}
