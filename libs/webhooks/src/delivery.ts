import type { KeyObject } from 'node:crypto';
import { EventConversionError, PERSON_ERASED, toVersions } from '#lgsp/contracts';
import { GenerationCache, type EventStore, type StoredEvent } from '#lgsp/event-store';
import { silentLogger, systemClock, tracing, type Clock, type Logger } from '#lgsp/observability';
import type { Page, Subscriber } from '#lgsp/subscriptions';
import type { ParkingStore } from '#lgsp/connectors';
import type { AuditLog } from '#lgsp/security';
import { RateLimiterStoppedError, TokenBucket } from '#lgsp/connectors';
import {
  dossierOfStream,
  webhookTarget,
  type AttemptOutcome,
  type DeliveryRow,
  type RequeuedDeliveries,
  type WebhookRecord,
} from './model.js';
import { messageId, signatureHeader, signingKey } from './signing.js';
import { sendTarget, type SendResult, type SendTarget, type WebhookSender } from './sender.js';
import type { DeliveryOutcome, SqlWebhookStore, WebhookChanges } from './sql-webhook-store.js';
import { matchesFilter } from './filter.js';

/** What the delivery tells the metrics. */
export interface WebhookObserver {
  attempted(webhookId: string, outcome: AttemptOutcome, seconds: number): void;
  disabled(webhookId: string, reason: 'gone' | 'failing'): void;
  /** A delivery queued `seconds` for the endpoint's rate limit before it went out. */
  rateLimitWaited?(webhookId: string, seconds: number): void;
  /** An event the webhook cannot receive at the version it asked for (see `eventVersions`): parked. */
  unreadable?(webhookId: string, event: StoredEvent, error: EventConversionError): void;
}

/** The schedule and limits of delivery (the `webhooks.*` settings). */
export interface WebhookDeliverySettings {
  /** Dossiers (streams) in flight at once per endpoint. @defaultValue 16 */
  concurrency: number;
  /**
   * Delays before the 2nd, 3rd… tries, in ms; once they are spent the dossier parks for the endpoint.
   * @defaultValue 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h
   */
  retryDelaysMs: readonly number[];
  /** Each delay is drawn from ±jitter around it. @defaultValue 0.2 */
  jitter: number;
  /** An endpoint failing continuously this long is disabled. @defaultValue 5 days */
  disableAfterMs: number;
  /** How often replicas look for changes made elsewhere (settings, redeliveries, parkings resolved). */
  pollMs: number;
  /** Deliveries queued in memory and in the table per endpoint; beyond it the endpoint's cursor waits. */
  maxQueued: number;
  /** Lines of the attempts log older than this are deleted (by the process that delivers). */
  attemptRetentionMs: number;
}

export const DEFAULT_WEBHOOK_DELIVERY_SETTINGS: Readonly<WebhookDeliverySettings> = {
  concurrency: 16,
  retryDelaysMs: [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
  jitter: 0.2,
  disableAfterMs: 5 * 24 * 3600 * 1000,
  pollMs: 1000,
  maxQueued: 20_000,
  attemptRetentionMs: 7 * 24 * 3600 * 1000,
};

export interface WebhookDeliveryOptions {
  store: SqlWebhookStore;
  events: Pick<EventStore, 'readAll' | 'head'>;
  parking: ParkingStore;
  sender: WebhookSender;
  settings?: Partial<WebhookDeliverySettings>;
  logger?: Logger;
  observer?: WebhookObserver;
  audit?: AuditLog;
  clock?: Pick<Clock, 'now'>;
  random?: () => number;
  /**
   * Opens the pages `handle` is given, when the runner reads the log as stored (personal data sealed,
   * see `Subscriptions.register`'s `store`): called only for a page some webhook takes, so that a hub
   * without webhooks opens nothing; the events read here (`events`) are expected opened already.
   * Absent: pages are queued as they come.
   */
  open?: (events: readonly StoredEvent[]) => Promise<StoredEvent[]>;
}

/** The CloudEvents structured-mode media type every delivery is sent as. */
export const CLOUDEVENTS_JSON = 'application/cloudevents+json';
const USER_AGENT = 'lgsp-hub-webhooks/1';
/** Log events read at once when a queued delivery's event is not in memory. */
const LOAD_PAGE = 200;
const EVENT_CACHE = 10_000;
/** Events read per step when an endpoint catches up (re-enabled, rewound, or back under maxQueued). */
const CATCH_UP_PAGE = 500;
/** The attempts log is pruned at most this often, this many lines per statement, so many statements per round. */
const PRUNE_EVERY_MS = 60_000;
/** The outcome writer gathers what comes within this long into one transaction. */
const WRITE_EVERY_MS = 50;

const PRUNE_BATCH = 5000;

const PRUNE_STEPS = 20;

interface Row extends DeliveryRow {
  event?: StoredEvent;
  /**
   * Kept in the table. A delivery queued from the log lives in memory only (the webhook's cursor and
   * delivered-through mark make it durable: after a restart it is read from the log again); it is
   * written to the table when a try fails (its retry must survive) or when it waits behind a parking.
   */
  persisted: boolean;
}

/** The positions of a webhook's in-memory deliveries, in log order, for its delivered-through mark. */
interface Unacknowledged {
  order: number[];
  /** Index in `order` of the first position that may still be outstanding. */
  head: number;
  outstanding: Set<number>;
}

/** One endpoint as the delivery works on it, in the process that holds the delivery's lease. */
interface Endpoint {
  record: WebhookRecord;
  target: SendTarget;
  /** `msg_<webhook>_`: a delivery's `webhook-id` is this and the event's position. */
  messagePrefix: string;
  keys: { current: KeyObject; previous?: KeyObject; previousUntil?: number };
  bucket: TokenBucket;
  /** Queued deliveries by stream, in log order. */
  streams: Map<string, Row[]>;
  /** Streams whose head is due and not in flight, in the order they became ready. */
  ready: Set<string>;
  inFlight: Set<string>;
  /** Streams whose head waits for its due time. */
  waiting: Set<string>;
  timer?: NodeJS.Timeout;
  timerAt?: number;
  queued: number;
  /** Deliveries done (removed) in memory whose removal is not yet committed. */
  unflushed: Set<number>;
  /** In-memory deliveries not yet acknowledged nor kept in the table. */
  unacknowledged: Unacknowledged;
  /** Its delivered-through mark may have moved since it was last written. */
  markDirty: boolean;
}

/**
 * Webhook delivery: one subscriber of the log (`webhooks`, under a lease on PostgreSQL) that queues
 * each event for every webhook it matches, in one transaction with its cursor; and, in the same
 * process, the dispatch of the queued deliveries:
 *
 * - in order per dossier (per stream): a stream's next event is sent only once the previous one was
 *   acknowledged with a 2xx; streams proceed in parallel up to `concurrency` per endpoint, at the
 *   endpoint's `ratePerSecond`;
 * - a failed try is retried on the schedule (`Retry-After` of a 429/503 honoured), each try and the
 *   next one it schedules written in one transaction; a spent schedule parks the stream for that
 *   endpoint only (the connectors' parking, target `webhook:<id>`) and its later events wait;
 * - a 410 disables the endpoint at once, and continuous failure for `disableAfterMs`; a disabled
 *   endpoint's cursor waits, and re-enabling catches up from it.
 *
 * Delivery is at least once: a try whose outcome was not yet written when the process died is made
 * again, with the same `webhook-id`.
 */
export class WebhookDelivery implements Subscriber {
  readonly name = 'webhooks';
  readonly batchSize = 500;
  readonly ownCheckpoint = { load: () => this.options.store.loadCursor() };
  private readonly settings: WebhookDeliverySettings;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly endpoints = new Map<string, Endpoint>();
  private revisions = new Map<string, number>();
  private logCursor = 0;
  private loaded = false;
  private lock: Promise<unknown> = Promise.resolve();
  private pollTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  private leader: () => boolean = () => true;
  /** Events read lately, by position (see {@link GenerationCache}: evicting from one Map's front is slow). */
  private readonly cache = new GenerationCache<StoredEvent, number>(EVENT_CACHE);
  private readonly writer: OutcomeWriter;
  private readonly bodies = new WeakMap<StoredEvent, Buffer>();
  private syncWanted = false;
  private readonly longestDelayMs: number;

  constructor(private readonly options: WebhookDeliveryOptions) {
    this.settings = { ...DEFAULT_WEBHOOK_DELIVERY_SETTINGS, ...options.settings };
    this.logger = options.logger ?? silentLogger;
    const clock = options.clock ?? systemClock;
    this.now = () => clock.now();
    this.random = options.random ?? Math.random;
    this.longestDelayMs = Math.max(1000, ...this.settings.retryDelaysMs);
    this.writer = new OutcomeWriter(options.store, options.parking, this.logger, () => this.collectMarks());
  }

  /**
   * Starts the dispatch. `leader` tells whether this process holds the delivery's lease (always true
   * without replicas); dispatch runs only while it does.
   */
  start(leader: () => boolean = () => true): void {
    this.leader = leader;
    this.stopped = false;
    const tick = () => {
      this.pollTimer = setTimeout(() => {
        void this.sync().finally(() => {
          if (!this.stopped) tick();
        });
      }, this.settings.pollMs);
    };
    tick();
  }

  /** Stops dispatching; deliveries in flight finish and their outcomes are written. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    await this.waitIdle();
    // The last marks are written now, so that a restart sends nothing again.
    this.writer.touch();
    await this.writer.flush();
    await this.exclusive(async () => this.drop());
    this.options.sender.close();
  }

  /** Queues a page of the log for every webhook it concerns (the subscriber's batch). */
  async handle(page: readonly StoredEvent[], { checkpoint }: Page): Promise<void> {
    const { open } = this.options;
    // A page no webhook takes is not opened, nor kept (a delivery reads its event again, opened). It is
    // opened before the dispatch's lock is taken when a webhook is active (the keys may be read), and
    // inside it only when that changed meanwhile (or before the webhooks are first loaded).
    const active = () => [...this.endpoints.values()].some((ep) => ep.record.state === 'active');
    let opened = open !== undefined && this.loaded && active() ? await open(page) : undefined;
    await this.exclusive(async () => {
      await this.ensureLoaded();
      const from = this.logCursor;
      const rows: Row[] = [];
      const cursors: { id: string; from: number; to: number }[] = [];
      const taking = [...this.endpoints.values()].filter(
        ({ record: w, queued }) =>
          w.state === 'active' && w.cursor >= from && queued < this.settings.maxQueued,
      );
      const events = open !== undefined && taking.length > 0 ? (opened ??= await open(page)) : page;
      for (const ep of taking) {
        const w = ep.record;
        for (const e of events)
          if (e.position > w.cursor && matchesFilter(w, e)) rows.push(this.newRow(w, e));
        cursors.push({ id: w.id, from: w.cursor, to: Math.max(w.cursor, checkpoint) });
      }
      // Only the cursors are written: the rows stay in memory (see Row.persisted).
      const moved = await this.options.store.enqueue([], cursors, checkpoint);
      this.logCursor = checkpoint;
      // A person's key was destroyed (person.erased follows it in each of their dossiers): what this
      // process holds of the dossier was read while the key existed, so later tries read it again.
      for (const e of events) if (e.type === PERSON_ERASED) this.forgetStream(e.stream);
      if (open === undefined || events !== page) for (const e of events) this.remember(e);
      this.accept(rows, cursors, moved);
    });
    if (!this.stopped) this.requestSync();
  }

  /** Dispatches now the endpoints a change concerns (the operator API calls it in this process). */
  poke(): void {
    this.requestSync();
  }

  /**
   * Deliveries a replay in this process has just queued in the table (`SqlWebhookStore.requeue`, which
   * raised the webhook's revision by one): taken into memory as they are, without reading the webhook's
   * queue again, when nothing else changed the webhook since this process last read it; otherwise the
   * next sync reloads the webhook, as for any change. (A replay queues its rows a chunk at a time:
   * reloading the whole queue at each chunk made a long replay quadratic.)
   */
  async requeued(requeued: RequeuedDeliveries): Promise<void> {
    const { webhookId, revision, rows, waiting = [] } = requeued;
    await this.exclusive(async () => {
      const ep = this.endpoints.get(webhookId);
      if (this.stopped || !this.loaded || ep === undefined) return;
      // Asked for again just after a delivery of the same event from the table: its row's removal, not
      // written yet, would take the replay's request with it. Queued again, and written back to the
      // table behind that removal (the writer deletes before it keeps).
      const again: Row[] = [];
      for (const r of waiting)
        if (ep.unflushed.has(r.position) && !ep.streams.get(r.stream)?.some((x) => x.position === r.position))
          again.push({ ...r, persisted: false });
      if (this.revisions.get(webhookId) !== revision - 1) {
        // Changed meanwhile: the sync reloads the webhook. Written behind their removal, these are taken by
        // that reload when it reads the table after the write, else by the next (or a restart).
        for (const row of again) this.writer.keep(row);
        return;
      }
      this.revisions.set(webhookId, revision);
      const fresh: Row[] = [...again];
      for (const r of rows) {
        // Read back by a reload after the insert and delivered since (its row's removal not yet written),
        // as in `rebuild`: not queued again.
        if (ep.unflushed.has(r.position)) continue;
        const mine = ep.streams.get(r.stream)?.find((x) => x.position === r.position);
        if (mine === undefined) fresh.push({ ...r, persisted: true });
        // Queued from the log and waiting in memory: the table holds it now (as a reload would find it).
        else this.persisted(ep, mine);
      }
      this.accept(fresh, [], new Set([webhookId]));
      for (const row of again) this.keep(ep, row);
    });
    if (!this.stopped) this.requestSync();
  }

  /** Webhooks whose queue this process works on (tests, status). */
  get active(): number {
    return this.endpoints.size;
  }

  // ------------------------------------------------------------------------------------------------
  // Loading and reloading

  private requestSync(): void {
    if (this.syncWanted) return;
    this.syncWanted = true;
    setImmediate(() => {
      this.syncWanted = false;
      void this.sync();
    });
  }

  /** Follows leadership, reloads what changed elsewhere and lets lagging endpoints catch up. */
  private async sync(): Promise<void> {
    try {
      await this.exclusive(async () => {
        if (this.stopped) return;
        if (!this.leader()) {
          if (this.loaded) {
            this.logger.info({}, 'webhook delivery stands by (another process holds its lease)');
            this.drop();
          }
          return;
        }
        await this.ensureLoaded();
        const revisions = await this.options.store.revisions();
        for (const [id, revision] of revisions)
          if (this.revisions.get(id) !== revision) await this.reload(id, revision);
        for (const id of [...this.endpoints.keys()]) if (!revisions.has(id)) this.forget(id);
        this.revisions = revisions;
        for (const ep of this.endpoints.values()) await this.catchUp(ep);
        await this.pruneAttempts();
      });
    } catch (err) {
      this.logger.error({ err: message(err) }, 'webhook delivery could not read its state; retrying');
    }
  }

  /** Deletes attempts older than the retention, at most once a minute, in bounded steps. */
  private async pruneAttempts(): Promise<void> {
    const now = this.now();
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    const before = new Date(now - this.settings.attemptRetentionMs).toISOString();
    let deleted = 0;
    for (let step = 0; step < PRUNE_STEPS; step++) {
      const n = await this.options.store.pruneAttempts(before, PRUNE_BATCH);
      deleted += n;
      if (n === 0) break;
    }
    if (deleted > 0) this.logger.info({ deleted, before }, 'webhook attempts past their retention deleted');
  }

  private prunedAt = 0;

  private async ensureLoaded(): Promise<void> {
    if (this.loaded) return;
    this.logCursor = await this.options.store.loadCursor();
    const all = await this.options.store.all();
    this.revisions = new Map();
    for (const w of all) {
      await this.reload(w.id, w.revision, w);
    }
    this.loaded = true;
  }

  /** (Re)reads a webhook and its queue, keeping what memory knows better (deliveries in flight, done). */
  private async reload(id: string, revision: number, known?: WebhookRecord): Promise<void> {
    const record = known ?? (await this.options.store.get(id));
    if (record === undefined) {
      this.forget(id);
      return;
    }
    this.revisions.set(id, revision);
    let ep = this.endpoints.get(id);
    const fresh = ep === undefined;
    if (ep === undefined) {
      ep = this.newEndpoint(record);
      this.endpoints.set(id, ep);
    } else {
      this.configure(ep, record);
    }
    // Outcomes not yet written would look undone in the table: write them first.
    await this.writer.flush();
    const rows: DeliveryRow[] = await this.options.store.outstanding(id);
    this.rebuild(ep, rows);
    // Loaded anew (start-up, the lease taken over): what was queued from the log but not acknowledged
    // is read from the log again, from the delivered-through mark to the cursor.
    if (fresh) await this.requeueFromLog(ep, new Set(rows.map((r) => r.position)));
    await this.repairParkings(ep);
    this.schedule(ep);
  }

  /** Queues again from the log the webhook's events after its delivered-through mark, up to its cursor. */
  private async requeueFromLog(ep: Endpoint, kept: ReadonlySet<number>): Promise<void> {
    const w = ep.record;
    let after = Math.min(w.deliveredThrough, w.cursor);
    const rows: Row[] = [];
    while (after < w.cursor) {
      const page = await this.options.events.readAll({ after, limit: CATCH_UP_PAGE });
      for (const e of page) {
        if (e.position > w.cursor) break;
        this.remember(e);
        if (!kept.has(e.position) && matchesFilter(w, e)) rows.push(this.newRow(w, e));
      }
      const last = page.at(-1);
      if (last === undefined || page.length < CATCH_UP_PAGE) break;
      after = last.position;
    }
    if (rows.length > 0) this.accept(rows, [], new Set([w.id]));
  }

  private newEndpoint(record: WebhookRecord): Endpoint {
    const ep: Endpoint = {
      record,
      target: sendTarget(new URL(record.url)),
      messagePrefix: messageId(record.id, 0).slice(0, -1),
      keys: { current: signingKey(record.secret) },
      bucket: this.bucketOf(record),
      streams: new Map(),
      ready: new Set(),
      inFlight: new Set(),
      waiting: new Set(),
      queued: 0,
      unflushed: new Set(),
      unacknowledged: { order: [], head: 0, outstanding: new Set() },
      markDirty: false,
    };
    this.configure(ep, record);
    return ep;
  }

  /** The endpoint's rate limit, its waits told to the observer. */
  private bucketOf(record: WebhookRecord): TokenBucket {
    const { observer } = this.options;
    return new TokenBucket(webhookTarget(record.id), {
      ratePerSecond: record.ratePerSecond,
      burst: Math.max(1, Math.ceil(record.ratePerSecond)),
      ...(observer?.rateLimitWaited
        ? { onWait: (ms: number) => observer.rateLimitWaited?.(record.id, ms / 1000) }
        : {}),
    });
  }

  private configure(ep: Endpoint, record: WebhookRecord): void {
    if (record.ratePerSecond !== ep.record.ratePerSecond) {
      ep.bucket.stop();
      ep.bucket = this.bucketOf(record);
    }
    ep.record = record;
    ep.target = sendTarget(new URL(record.url));
    const until = record.previousSecretExpiresAt ? Date.parse(record.previousSecretExpiresAt) : undefined;
    ep.keys = {
      current: signingKey(record.secret),
      ...(record.previousSecret && until !== undefined
        ? { previous: signingKey(record.previousSecret), previousUntil: until }
        : {}),
    };
  }

  /** The queue as the table has it, memory's newer knowledge kept (see {@link Endpoint.unflushed}). */
  private rebuild(ep: Endpoint, rows: readonly DeliveryRow[]): void {
    const inMemory = new Map<number, Row>();
    for (const q of ep.streams.values()) for (const r of q) inMemory.set(r.position, r);
    const streams = new Map<string, Row[]>();
    let queued = 0;
    const add = (row: Row) => {
      const q = streams.get(row.stream);
      if (q) q.push(row);
      else streams.set(row.stream, [row]);
      queued += 1;
    };
    const inTable = new Set<number>();
    for (const r of rows) {
      inTable.add(r.position);
      if (ep.unflushed.has(r.position)) continue;
      const mine = inMemory.get(r.position);
      let row: Row = { ...r, persisted: true };
      if (mine) {
        // A parking retried elsewhere comes back pending with no failed attempt; otherwise memory is newer.
        const retried = mine.state === 'parked' && r.state === 'pending' && r.attempts === 0;
        if (retried) row = { ...row, ...(mine.event ? { event: mine.event } : {}) };
        else {
          row = mine;
          this.persisted(ep, row);
        }
      }
      add(row);
    }
    // Deliveries that live in memory only are memory's to keep; a kept one missing from the table was
    // skipped (or delivered) elsewhere.
    for (const r of inMemory.values()) if (!r.persisted && !inTable.has(r.position)) add(r);
    for (const q of streams.values()) q.sort((a, b) => a.position - b.position);
    ep.streams = streams;
    ep.queued = queued;
    ep.ready.clear();
    ep.waiting.clear();
    for (const stream of streams.keys()) this.consider(ep, stream);
  }

  /** A stream whose head is parked in the table has its parking (a crash may have come in between). */
  private async repairParkings(ep: Endpoint): Promise<void> {
    for (const [stream, q] of ep.streams) {
      const head = q[0];
      if (head?.state !== 'parked') continue;
      await this.park(ep, stream, head, 'parked before a restart', head.attempts);
    }
  }

  private forget(id: string): void {
    const ep = this.endpoints.get(id);
    if (!ep) return;
    if (ep.timer) clearTimeout(ep.timer);
    ep.bucket.stop();
    this.endpoints.delete(id);
    this.revisions.delete(id);
  }

  /** Gives up the working set (the lease went to another process, or stopping). */
  private drop(): void {
    for (const id of [...this.endpoints.keys()]) this.forget(id);
    this.loaded = false;
  }

  private accept(
    rows: readonly Row[],
    cursors: readonly { id: string; to: number }[],
    moved: ReadonlySet<string>,
  ): void {
    for (const c of cursors) {
      const ep = this.endpoints.get(c.id);
      if (!ep) continue;
      if (moved.has(c.id)) {
        ep.record.cursor = c.to;
        ep.markDirty = true;
        this.writer.touch();
      }
      // The cursor moved elsewhere (a redelivery rewound it): reload the webhook on the next sync.
      else this.revisions.set(c.id, -1);
    }
    const touched = new Set<Endpoint>();
    for (const r of rows) {
      if (!moved.has(r.webhookId)) continue;
      const ep = this.endpoints.get(r.webhookId);
      if (!ep) continue;
      const q = ep.streams.get(r.stream);
      if (q) {
        if (q.some((x) => x.position === r.position)) continue;
        if (q.length > 0 && q[q.length - 1]!.position > r.position) {
          q.push(r);
          q.sort((a, b) => a.position - b.position);
        } else q.push(r);
      } else ep.streams.set(r.stream, [r]);
      ep.queued += 1;
      if (!r.persisted) this.unacknowledged(ep, r.position);
      if (q?.[0]?.state === 'parked' && q[0] !== r) {
        this.keep(ep, r);
        void this.hold(ep, r);
      }
      this.consider(ep, r.stream);
      touched.add(ep);
    }
    for (const ep of touched) this.pump(ep);
  }

  /** Lets an endpoint whose cursor is behind the log's queue its events, up to maxQueued. */
  private async catchUp(ep: Endpoint): Promise<void> {
    const w = ep.record;
    let steps = 0;
    while (
      w.state === 'active' &&
      w.cursor < this.logCursor &&
      ep.queued < this.settings.maxQueued &&
      steps < 20 &&
      !this.stopped
    ) {
      steps += 1;
      const page = (await this.options.events.readAll({ after: w.cursor, limit: CATCH_UP_PAGE })).filter(
        (e) => e.position <= this.logCursor,
      );
      const to =
        page.length === CATCH_UP_PAGE ? page[page.length - 1]!.position : Math.max(w.cursor, this.logCursor);
      const rows = page.filter((e) => matchesFilter(w, e)).map((e) => this.newRow(w, e));
      const cursors = [{ id: w.id, from: w.cursor, to }];
      const moved = await this.options.store.enqueue([], cursors);
      for (const e of page) this.remember(e);
      this.accept(rows, cursors, moved);
      if (!moved.has(w.id)) break;
    }
  }

  /** The delivery of `e` to `w`, marked when it is sent again after a redelivery. */
  private newRow(w: WebhookRecord, e: StoredEvent): Row {
    const redelivered = w.redeliverThrough !== undefined && e.position <= w.redeliverThrough;
    return {
      webhookId: w.id,
      position: e.position,
      stream: e.stream,
      recordedAt: e.recordedAt,
      state: 'pending',
      attempts: 0,
      nextAt: 0,
      ...(redelivered && w.redeliverMark !== undefined ? { replay: w.redeliverMark } : {}),
      event: e,
      persisted: false,
    };
  }

  // ------------------------------------------------------------------------------------------------
  // Dispatch

  /** Puts the stream's head in `ready` when it is due, or waits for its time. */
  private consider(ep: Endpoint, stream: string): void {
    const head = ep.streams.get(stream)?.[0];
    ep.ready.delete(stream);
    ep.waiting.delete(stream);
    if (head === undefined) {
      ep.streams.delete(stream);
      return;
    }
    if (ep.inFlight.has(stream) || head.state === 'parked') return;
    // No try is scheduled further ahead than the schedule's longest delay (its jitter included): one
    // that is means the wall clock stepped back since; it is brought within that delay, not waited out.
    const latest = this.now() + Math.ceil(this.longestDelayMs * (1 + this.settings.jitter));
    if (head.nextAt > latest) head.nextAt = latest;
    if (head.nextAt <= this.now()) ep.ready.add(stream);
    else {
      ep.waiting.add(stream);
      this.wakeAt(ep, head.nextAt);
    }
  }

  private schedule(ep: Endpoint): void {
    this.pump(ep);
  }

  private wakeAt(ep: Endpoint, at: number): void {
    if (ep.timer && ep.timerAt !== undefined && ep.timerAt <= at) return;
    if (ep.timer) clearTimeout(ep.timer);
    ep.timerAt = at;
    ep.timer = setTimeout(
      () => {
        ep.timer = undefined;
        ep.timerAt = undefined;
        for (const stream of [...ep.waiting]) this.consider(ep, stream);
        this.pump(ep);
      },
      Math.min(Math.max(0, at - this.now()), 2 ** 31 - 1),
    );
    ep.timer.unref?.();
  }

  private pump(ep: Endpoint): void {
    if (this.stopped || ep.record.state !== 'active' || this.endpoints.get(ep.record.id) !== ep) return;
    while (ep.inFlight.size < this.settings.concurrency && ep.ready.size > 0) {
      const stream = ep.ready.values().next().value!;
      ep.ready.delete(stream);
      const head = ep.streams.get(stream)?.[0];
      if (head === undefined || head.state === 'parked') continue;
      ep.inFlight.add(stream);
      this.inFlightTotal += 1;
      void this.deliver(ep, stream, head)
        .catch((err: unknown) => {
          // The hub's own failure (the log unreadable): try the stream again a little later.
          this.logger.error(
            { webhook: ep.record.id, position: head.position, err: message(err) },
            'webhook delivery failed inside the hub; retrying',
          );
          head.nextAt = this.now() + 1000;
        })
        .finally(() => {
          ep.inFlight.delete(stream);
          this.inFlightTotal -= 1;
          if (this.inFlightTotal === 0) for (const f of this.idleWaiters.splice(0)) f();
          this.consider(ep, stream);
          this.pump(ep);
        });
    }
  }

  private inFlightTotal = 0;
  private readonly idleWaiters: (() => void)[] = [];

  private waitIdle(): Promise<void> {
    if (this.inFlightTotal === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** One try of the stream's head. */
  private async deliver(ep: Endpoint, stream: string, row: Row): Promise<void> {
    const event = row.event ?? (await this.load(row.position));
    if (event === undefined) throw new Error(`event at position ${row.position} is not in the log`);
    row.event = event;
    try {
      if (!ep.bucket.tryAcquire()) await ep.bucket.acquire();
    } catch (err) {
      // The bucket was replaced (a new rate) or the endpoint dropped: the stream is considered again.
      if (err instanceof RateLimiterStoppedError) return;
      throw err;
    }
    if (this.stopped || this.endpoints.get(ep.record.id) !== ep || ep.record.state !== 'active') return;
    let delivered: StoredEvent;
    try {
      delivered = toVersions(event, ep.record.eventVersions);
    } catch (err) {
      if (!(err instanceof EventConversionError)) throw err;
      // The event's data, not the endpoint: parked at once for this webhook, the endpoint keeps going.
      this.options.observer?.unreadable?.(ep.record.id, event, err);
      this.settle(ep, stream, row, ep.messagePrefix + row.position, this.now(), {
        durationMs: 0,
        error: err.message,
        unreadable: true,
      });
      return;
    }
    const body = this.body(delivered, row.replay);
    const id = ep.messagePrefix + row.position;
    const startedAt = this.now();
    const timestamp = Math.floor(startedAt / 1000);
    const keys = [ep.keys.current];
    if (ep.keys.previous && ep.keys.previousUntil !== undefined && startedAt < ep.keys.previousUntil)
      keys.push(ep.keys.previous);
    const stored =
      typeof event.extensions['traceparent'] === 'string' ? event.extensions['traceparent'] : undefined;
    // Live, the delivery joins the trace its event was stored in; a replayed one links to it.
    const result = await tracing().span(
      'webhook deliver',
      {
        kind: 'producer',
        parent: row.replay === undefined ? stored : undefined,
        links: row.replay === undefined ? [] : [stored],
        attributes: {
          'lgsp.webhook.id': ep.record.id,
          'lgsp.dossier.code': stream.startsWith('dossier-') ? stream.slice('dossier-'.length) : undefined,
          'lgsp.event.type': event.type,
          'lgsp.position': row.position,
          'lgsp.webhook.attempt': row.attempts + 1,
        },
      },
      async (span) => {
        const sent = await this.options.sender.post(
          ep.target,
          {
            'content-type': CLOUDEVENTS_JSON,
            'user-agent': USER_AGENT,
            'webhook-id': id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signatureHeader(keys, id, timestamp, body),
            ...tracing().outboundHeaders(),
          },
          body,
        );
        if (sent.status !== undefined) span.setAttribute('http.response.status_code', sent.status);
        return sent;
      },
    );
    this.settle(ep, stream, row, id, startedAt, result);
  }

  /** What a try's answer does to the delivery, the stream and the endpoint. */
  private settle(
    ep: Endpoint,
    stream: string,
    row: Row,
    id: string,
    startedAt: number,
    result: SendResult & { unreadable?: boolean },
  ): void {
    const w = ep.record;
    const now = this.now();
    const attempt = row.attempts + 1;
    const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
    const changes: WebhookChanges = {};
    let outcome: AttemptOutcome;
    let record: DeliveryOutcome['result'];
    let nextAt: number | undefined;
    if (ok) {
      outcome = 'delivered';
      record = { delivered: true, persisted: row.persisted };
      if (!row.persisted) this.acknowledged(ep, row.position);
      const q = ep.streams.get(stream);
      if (q) {
        const i = q.indexOf(row);
        if (i >= 0) {
          q.splice(i, 1);
          ep.queued -= 1;
        }
      }
      if (row.persisted) ep.unflushed.add(row.position);
      if (w.failingSince !== undefined) {
        delete w.failingSince;
        changes.failingSince = null;
      }
    } else {
      row.attempts = attempt;
      // An event the endpoint cannot receive at its version is the data's fault: the endpoint is not failing.
      if (result.unreadable !== true && w.failingSince === undefined) {
        w.failingSince = new Date(now).toISOString();
        changes.failingSince = w.failingSince;
      }
      const failingFor = w.failingSince === undefined ? 0 : now - Date.parse(w.failingSince);
      if (result.unreadable === true) {
        outcome = 'parked';
        row.state = 'parked';
      } else if (result.status === 410) {
        outcome = 'disabled';
        row.nextAt = now;
        this.disable(ep, 'gone', `the endpoint answered 410 Gone`, changes);
      } else if (failingFor >= this.settings.disableAfterMs) {
        outcome = 'disabled';
        row.nextAt = now;
        this.disable(
          ep,
          'failing',
          `the endpoint failed every try since ${w.failingSince} (${Math.round(failingFor / 1000)} s)`,
          changes,
        );
      } else if (attempt > this.settings.retryDelaysMs.length) {
        outcome = 'parked';
        row.state = 'parked';
      } else {
        outcome = 'retry';
        const nominal = this.settings.retryDelaysMs[attempt - 1]!;
        const j = this.settings.jitter;
        let delay = Math.round(nominal * (1 - j + 2 * j * this.random()));
        // Honoured, up to the schedule's longest delay: an endpoint cannot hold a dossier for ever.
        if (result.retryAfterMs !== undefined)
          delay = Math.max(delay, Math.min(result.retryAfterMs, this.longestDelayMs));
        row.nextAt = now + delay;
        nextAt = row.nextAt;
      }
      record = {
        delivered: false,
        state: row.state,
        attempts: row.attempts,
        nextAt: row.nextAt,
        stream: row.stream,
        recordedAt: row.recordedAt,
        ...(row.replay === undefined ? {} : { replay: row.replay }),
      };
      // The row is written with this outcome: its retry survives a restart.
      if (!row.persisted) {
        row.persisted = true;
        this.acknowledged(ep, row.position);
      }
      // The stream's later deliveries wait behind the parking: they are kept in the table too.
      if (row.state === 'parked')
        for (const r of ep.streams.get(stream) ?? []) if (r !== row && !r.persisted) this.keep(ep, r);
    }
    const durationMs = result.durationMs;
    this.options.observer?.attempted(w.id, outcome, durationMs / 1000);
    const entry: DeliveryOutcome = {
      webhookId: w.id,
      position: row.position,
      stream,
      result: record,
      attempt: {
        webhookId: w.id,
        position: row.position,
        messageId: id,
        attempt,
        at: new Date(startedAt).toISOString(),
        ...(result.status === undefined ? {} : { status: result.status }),
        durationMs,
        ...(result.response === undefined ? {} : { response: result.response }),
        ...(result.error === undefined ? {} : { error: result.error }),
        outcome,
        ...(nextAt === undefined ? {} : { nextAt: new Date(nextAt).toISOString() }),
      },
    };
    const parked = outcome === 'parked';
    if (!ok) {
      this.logger.warn(
        {
          webhook: w.id,
          position: row.position,
          attempt,
          ...(result.status === undefined ? {} : { status: result.status }),
          err: result.error,
          outcome,
        },
        parked ? 'webhook delivery parked' : 'webhook delivery failed',
      );
    }
    this.writer.add(entry, w.id, changes, () => {
      if (ok && row.persisted) ep.unflushed.delete(row.position);
      // A webhook deleted meanwhile gets no parking; one dropped otherwise (stopping, the lease lost)
      // has its parking made when it is loaded again (see repairParkings).
      if (parked && this.endpoints.get(w.id) === ep)
        return this.park(ep, stream, row, result.error ?? 'failed', attempt, result.unreadable === true);
      return undefined;
    });
  }

  /** A delivery queued in memory, not yet acknowledged: it holds the delivered-through mark back. */
  private unacknowledged(ep: Endpoint, position: number): void {
    const u = ep.unacknowledged;
    if (u.outstanding.has(position)) return;
    u.outstanding.add(position);
    const last = u.order[u.order.length - 1];
    if (last !== undefined && u.order.length > u.head && position < last) {
      // Queued out of order (a redelivery rewound the cursor): insert it in place.
      let lo = u.head;
      let hi = u.order.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (u.order[mid]! < position) lo = mid + 1;
        else hi = mid;
      }
      u.order.splice(lo, 0, position);
    } else u.order.push(position);
    ep.markDirty = true;
  }

  /** The delivery was acknowledged, or is now kept in the table: it no longer holds the mark back. */
  private acknowledged(ep: Endpoint, position: number): void {
    if (ep.unacknowledged.outstanding.delete(position)) ep.markDirty = true;
  }

  /** Writes an in-memory delivery to the table (it waits behind a parking). */
  private keep(ep: Endpoint, row: Row): void {
    if (row.persisted) return;
    this.persisted(ep, row);
    this.writer.keep(row);
  }

  /**
   * The delivery is in the table (kept, or queued there by a replay): it no longer holds the
   * delivered-through mark back, and its success removes its row.
   */
  private persisted(ep: Endpoint, row: Row): void {
    if (row.persisted) return;
    row.persisted = true;
    this.acknowledged(ep, row.position);
  }

  /**
   * Every event of the filter through this position is acknowledged or kept in the table: the first
   * in-memory delivery not acknowledged, minus one, else the cursor.
   */
  private deliveredThrough(ep: Endpoint): number {
    const u = ep.unacknowledged;
    while (u.head < u.order.length && !u.outstanding.has(u.order[u.head]!)) u.head += 1;
    if (u.head > 4096 && u.head * 2 > u.order.length) {
      u.order = u.order.slice(u.head);
      u.head = 0;
    }
    const first = u.order[u.head];
    return first === undefined ? ep.record.cursor : Math.min(first - 1, ep.record.cursor);
  }

  /** The marks that moved since they were last written, for the writer's next transaction. */
  private collectMarks(): Map<string, number> {
    const marks = new Map<string, number>();
    for (const ep of this.endpoints.values()) {
      if (!ep.markDirty) continue;
      ep.markDirty = false;
      marks.set(ep.record.id, this.deliveredThrough(ep));
    }
    return marks;
  }

  private disable(ep: Endpoint, kind: 'gone' | 'failing', reason: string, changes: WebhookChanges): void {
    const w = ep.record;
    if (w.state === 'disabled') return;
    const at = new Date(this.now()).toISOString();
    w.state = 'disabled';
    w.disabledReason = reason;
    w.disabledAt = at;
    Object.assign(changes, { state: 'disabled', disabledReason: reason, disabledAt: at, updatedAt: at });
    ep.ready.clear();
    this.options.observer?.disabled(w.id, kind);
    this.logger.warn({ webhook: w.id, reason }, 'webhook disabled');
    void this.options.audit
      ?.record({
        at,
        actor: 'system',
        action: 'webhook.disable',
        subject: webhookTarget(w.id),
        scope: { url: redactedUrl(w.url) },
        outcome: { state: 'disabled', reason },
      })
      .catch((err: unknown) => this.logger.warn({ err: message(err) }, 'audit entry not written'));
  }

  private async park(
    ep: Endpoint,
    stream: string,
    row: Row,
    error: string,
    attempts: number,
    unreadable = false,
  ): Promise<void> {
    const w = ep.record;
    const target = webhookTarget(w.id);
    const dossier = dossierOfStream(stream);
    await this.options.parking.park(target, dossier, {
      reason: unreadable
        ? `the event at position ${row.position} cannot be sent at the version ${redactedUrl(w.url)} receives: ${error}`
        : `${redactedUrl(w.url)} refused the event at position ${row.position} ${attempts} times: ${error}`,
      kind: unreadable ? 'data' : 'retriable',
      attempts,
      firstPosition: row.position,
      lastError: error,
      parkedAt: new Date(this.now()).toISOString(),
    });
    const last = ep.streams.get(stream)?.at(-1);
    if (last && last.position > row.position) await this.options.parking.hold(target, dossier, last.position);
  }

  private async hold(ep: Endpoint, row: Row): Promise<void> {
    try {
      await this.options.parking.hold(webhookTarget(ep.record.id), dossierOfStream(row.stream), row.position);
    } catch (err) {
      this.logger.warn({ webhook: ep.record.id, err: message(err) }, 'parking hold not recorded');
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Events and bodies

  /** Drops the events of a stream held in memory (cache and queued deliveries): they are read again. */
  private forgetStream(stream: string): void {
    this.cache.deleteWhere((e) => e.stream === stream);
    for (const ep of this.endpoints.values())
      for (const row of ep.streams.get(stream) ?? []) delete row.event;
  }

  private remember(e: StoredEvent): void {
    this.cache.set(e.position, e);
  }

  private async load(position: number): Promise<StoredEvent | undefined> {
    const cached = this.cache.get(position);
    if (cached) return cached;
    const page = await this.options.events.readAll({ after: position - 1, limit: LOAD_PAGE });
    for (const e of page) this.remember(e);
    return page[0]?.position === position ? page[0] : undefined;
  }

  /** The CloudEvent in structured mode, with where the log put it (and the replay's mark), as UTF-8. */
  private body(e: StoredEvent, replay?: string): Buffer {
    if (replay === undefined) {
      const known = this.bodies.get(e);
      if (known !== undefined) return known;
    }
    const body = Buffer.from(JSON.stringify(structuredEvent(e, replay)));
    if (replay === undefined) this.bodies.set(e, body);
    return body;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

/**
 * A stored event as one structured-mode CloudEvent: its attributes (extensions first, so none shadows
 * a core attribute), `lgspposition`, `lgspstream`, `lgspstreamversion`, `lgspreplay` for a redelivery
 * or replay, and `data`.
 */
export function structuredEvent(e: StoredEvent, replay?: string): Record<string, unknown> {
  return {
    ...e.extensions,
    specversion: '1.0',
    id: e.id,
    source: e.source,
    type: e.type,
    ...(e.time !== undefined ? { time: e.time } : {}),
    ...(e.subject !== undefined ? { subject: e.subject } : {}),
    ...(e.datacontenttype !== undefined ? { datacontenttype: e.datacontenttype } : {}),
    ...(e.dataschema !== undefined ? { dataschema: e.dataschema } : {}),
    lgspposition: e.position,
    lgspstream: e.stream,
    lgspstreamversion: e.streamVersion,
    ...(replay === undefined ? {} : { lgspreplay: replay }),
    data: e.data,
  };
}

/** A webhook URL as logs and reasons show it: no credentials, no query (it may hold a token). */
export function redactedUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

/**
 * Writes tries' outcomes in groups: everything added while a write runs (or within the next
 * {@link WRITE_EVERY_MS}) goes into the next one, so the table sees few, larger transactions, each
 * with the attempt lines and the next tries they schedule, the rows kept behind parkings and the
 * delivered-through marks that moved. A failed write is kept and tried again.
 */
class OutcomeWriter {
  private outcomes: DeliveryOutcome[] = [];
  private changes = new Map<string, WebhookChanges>();
  private kept: Row[] = [];
  private marks = new Map<string, number>();
  private after: (() => Promise<void> | undefined)[] = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: SqlWebhookStore,
    private readonly parking: Pick<ParkingStore, 'delivered'>,
    private readonly logger: Logger,
    private readonly collectMarks: () => Map<string, number>,
  ) {}

  add(
    outcome: DeliveryOutcome,
    webhookId: string,
    changes: WebhookChanges,
    after: () => Promise<void> | undefined,
  ): void {
    const r = outcome.result;
    if (r.delivered && r.persisted) {
      // Delivered before its row was written to the table: neither is written (a row written after its
      // removal would stay behind, and be sent again after a restart). The attempt line is.
      const k = this.kept.findIndex(
        (row) => row.webhookId === webhookId && row.position === outcome.position,
      );
      if (k >= 0) {
        this.kept.splice(k, 1);
        outcome = { ...outcome, result: { ...r, persisted: false } };
      }
    }
    this.outcomes.push(outcome);
    if (Object.keys(changes).length > 0)
      this.changes.set(webhookId, { ...this.changes.get(webhookId), ...changes });
    this.after.push(after);
    this.running ??= this.drain();
  }

  /** A delivery to write to the table as it is (it waits behind a parking). */
  keep(row: Row): void {
    this.kept.push(row);
    this.running ??= this.drain();
  }

  /** A delivered-through mark may have moved: write it with the next group. */
  touch(): void {
    this.running ??= this.drain();
  }

  /** Resolves once everything added so far is written. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    await new Promise<void>((r) => setTimeout(r, WRITE_EVERY_MS));
    for (;;) {
      for (const [id, at] of this.collectMarks()) this.marks.set(id, at);
      if (
        this.outcomes.length === 0 &&
        this.changes.size === 0 &&
        this.kept.length === 0 &&
        this.marks.size === 0
      )
        break;
      const outcomes = this.outcomes;
      const changes = this.changes;
      const kept = this.kept;
      const marks = this.marks;
      const after = this.after;
      this.outcomes = [];
      this.changes = new Map();
      this.kept = [];
      this.marks = new Map();
      this.after = [];
      try {
        await this.store.record(outcomes, changes, {
          keep: kept.map((r) => ({
            webhookId: r.webhookId,
            position: r.position,
            stream: r.stream,
            recordedAt: r.recordedAt,
            nextAt: r.nextAt,
            ...(r.replay === undefined ? {} : { replay: r.replay }),
          })),
          deliveredThrough: marks,
        });
      } catch (err) {
        this.logger.error(
          { err: message(err), outcomes: outcomes.length },
          'webhook outcomes not written; retrying',
        );
        this.outcomes = [...outcomes, ...this.outcomes];
        for (const [id, c] of changes) this.changes.set(id, { ...c, ...this.changes.get(id) });
        this.kept = [...kept, ...this.kept];
        for (const [id, at] of marks) if (!this.marks.has(id)) this.marks.set(id, at);
        this.after = [...after, ...this.after];
        await new Promise<void>((r) => setTimeout(r, 1000));
        continue;
      }
      for (const f of after) {
        try {
          await f();
        } catch (err) {
          this.logger.warn({ err: message(err) }, 'webhook parking not recorded');
        }
      }
      await this.recordDelivered(outcomes);
    }
    this.running = undefined;
  }

  /**
   * The dossier positions the endpoints took, as each dossier's sync state shows them (`webhook:<id>`
   * beside the connectors' targets). Written after the outcomes: a failure here loses a display only.
   */
  private async recordDelivered(outcomes: readonly DeliveryOutcome[]): Promise<void> {
    const deliveries = outcomes.flatMap((o) =>
      o.result.delivered && o.stream?.startsWith('dossier-') && o.attempt
        ? [
            {
              target: webhookTarget(o.webhookId),
              dossier: dossierOfStream(o.stream),
              position: o.position,
              at: o.attempt.at,
            },
          ]
        : [],
    );
    try {
      await this.parking.delivered(deliveries);
    } catch (err) {
      this.logger.warn(
        { err: message(err), deliveries: deliveries.length },
        'webhook sync positions not recorded',
      );
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
