import { randomBytes } from 'node:crypto';
import {
  DomainError,
  eventVersionsIssues,
  isEventType,
  versionedFamilies,
  type EventVersions,
  type Issue,
} from '#lgsp/contracts';
import type { EventStore } from '#lgsp/event-store';
import { systemClock, type Clock } from '#lgsp/observability';
import type { AuditLog, Client } from '#lgsp/security';
import {
  dossierOfStream,
  type DeliveryAttempt,
  type WebhookFilter,
  type WebhookRecord,
  type WebhookView,
} from './model.js';
import { generateSecret } from './signing.js';
import type { SqlWebhookStore, WebhookChanges } from './sql-webhook-store.js';
import { assertPublicTarget, parseWebhookUrl, type LookupAll } from './target-safety.js';
import { matchesFilter } from './filter.js';
import { redactedUrl } from './delivery.js';

/** What the service needs of the administrative units: does a code exist, and whose is a commune. */
export interface UnitDirectory {
  hasProvince(code: string): boolean;
  provinceOfCommune(communeCode: string): string | undefined;
}

export interface WebhookServiceSettings {
  /** http and private or loopback targets allowed. @defaultValue false */
  allowInsecureTargets: boolean;
  /** How long a rotated-out secret keeps signing. @defaultValue 86400 */
  secretOverlapSeconds: number;
  /** An endpoint's `ratePerSecond` when none is given. @defaultValue 50 */
  defaultRatePerSecond: number;
  /** The greatest `ratePerSecond` an endpoint may ask. @defaultValue 1000 */
  maxRatePerSecond: number;
}

export interface WebhookServiceOptions {
  store: SqlWebhookStore;
  events: Pick<EventStore, 'head' | 'readAll'>;
  units: UnitDirectory;
  settings: WebhookServiceSettings;
  audit?: AuditLog;
  /** Tells this process's delivery that something changed (it also polls for changes of other replicas). */
  changed?: () => void;
  clock?: Pick<Clock, 'now'>;
  /** Name resolution of the creation-time check (tests inject one). */
  lookup?: LookupAll;
}

export interface NewWebhookInput {
  url: string;
  description?: string;
  filter?: WebhookFilter;
  /** The version of each event family it receives; a family not named: version 1. */
  eventVersions?: EventVersions;
  ratePerSecond?: number;
}

export type WebhookUpdateInput = Partial<NewWebhookInput>;

const MAX_LIST = 200;

/**
 * Webhook subscriptions as the API and the CLI see them, with the access rule: admin and operator for
 * any scope; a province client only inside its province (no filter means its province; a filter
 * reaching outside it is refused with 403) and only the webhooks it owns — any other answers 404, as
 * if it did not exist; commune clients not at all.
 */
export class WebhookService {
  private readonly now: () => number;

  constructor(private readonly options: WebhookServiceOptions) {
    const clock = options.clock ?? systemClock;
    this.now = () => clock.now();
  }

  async create(caller: Client, input: NewWebhookInput): Promise<{ webhook: WebhookView; secret: string }> {
    assertMayUse(caller);
    const url = await this.checkUrl(input.url);
    const { filter, province } = this.scopedFilter(caller, input.filter ?? {});
    const at = this.iso();
    const secret = generateSecret();
    const head = (await this.options.events.head()).position;
    const record: WebhookRecord = {
      id: newWebhookId(),
      url: url.href,
      ...(input.description === undefined ? {} : { description: input.description }),
      filter,
      ...(input.eventVersions === undefined ? {} : { eventVersions: checkedVersions(input.eventVersions) }),
      ratePerSecond: this.rate(input.ratePerSecond),
      state: 'active',
      ...(province === undefined ? {} : { province }),
      createdBy: caller.name,
      createdAt: at,
      updatedAt: at,
      secret,
      // Deliveries start with the next event appended.
      cursor: head,
      deliveredThrough: head,
      revision: 1,
    };
    await this.options.store.create(record);
    await this.audit(caller, 'webhook.create', record, {
      url: redactedUrl(record.url),
      filter,
      ...(record.eventVersions === undefined ? {} : { eventVersions: record.eventVersions }),
    });
    this.options.changed?.();
    return { webhook: await this.view(record), secret };
  }

  async list(
    caller: Client,
    query: { limit: number; after?: string },
  ): Promise<{ webhooks: WebhookView[]; next?: string }> {
    assertMayUse(caller);
    const limit = Math.min(query.limit, MAX_LIST);
    const records = await this.options.store.list({
      limit: limit + 1,
      ...(query.after === undefined ? {} : { after: query.after }),
      ...(caller.role === 'province' ? { province: caller.provinceCode ?? '\u0000' } : {}),
    });
    const page = records.slice(0, limit);
    const webhooks = await Promise.all(page.map((r) => this.view(r)));
    return { webhooks, ...(records.length > limit ? { next: page.at(-1)!.id } : {}) };
  }

  async get(caller: Client, id: string): Promise<WebhookView> {
    return this.view(await this.find(caller, id));
  }

  /**
   * The webhooks among `ids` the caller may see (admin and operator: all that exist; a province client:
   * its province's; a commune client: none), e.g. to show a dossier's sync state without revealing others.
   */
  async visible(caller: Client, ids: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    if (caller.role === 'commune' || (caller.role === 'province' && caller.provinceCode === undefined))
      return out;
    for (const id of ids) {
      const w = await this.options.store.get(id);
      if (w === undefined) continue;
      if (caller.role === 'province' && w.province !== caller.provinceCode) continue;
      out.add(id);
    }
    return out;
  }

  async update(caller: Client, id: string, input: WebhookUpdateInput): Promise<WebhookView> {
    const current = await this.find(caller, id);
    const changes: WebhookChanges = { updatedAt: this.iso() };
    if (input.url !== undefined) changes.url = (await this.checkUrl(input.url)).href;
    if (input.description !== undefined) changes.description = input.description;
    if (input.filter !== undefined) changes.filter = this.scopedFilter(caller, input.filter).filter;
    if (input.eventVersions !== undefined) changes.eventVersions = checkedVersions(input.eventVersions);
    if (input.ratePerSecond !== undefined) changes.ratePerSecond = this.rate(input.ratePerSecond);
    const updated = await this.change(current.id, changes);
    await this.audit(caller, 'webhook.update', updated, {
      ...(changes.url === undefined ? {} : { url: redactedUrl(changes.url) }),
      ...(changes.filter === undefined ? {} : { filter: changes.filter }),
      ...(changes.eventVersions === undefined ? {} : { eventVersions: changes.eventVersions }),
      ...(changes.ratePerSecond === undefined ? {} : { ratePerSecond: changes.ratePerSecond }),
    });
    return this.view(updated);
  }

  /** A new secret; the previous one keeps signing (a second signature) for the overlap. */
  async rotateSecret(caller: Client, id: string): Promise<{ webhook: WebhookView; secret: string }> {
    const current = await this.find(caller, id);
    const now = this.now();
    const secret = generateSecret();
    const until = new Date(now + this.options.settings.secretOverlapSeconds * 1000).toISOString();
    const updated = await this.change(current.id, {
      secret,
      previousSecret: current.secret,
      previousSecretExpiresAt: until,
      secretRotatedAt: new Date(now).toISOString(),
      updatedAt: new Date(now).toISOString(),
    });
    await this.audit(caller, 'webhook.rotate-secret', updated, { previousSecretExpiresAt: until });
    return { webhook: await this.view(updated), secret };
  }

  /** Active again; deliveries resume from the webhook's checkpoint (nothing between is lost). */
  async enable(caller: Client, id: string): Promise<WebhookView> {
    const current = await this.find(caller, id);
    const at = this.iso();
    const updated = await this.change(current.id, {
      state: 'active',
      disabledReason: null,
      disabledAt: null,
      failingSince: null,
      updatedAt: at,
    });
    await this.audit(caller, 'webhook.enable', updated, { state: 'active' });
    return this.view(updated);
  }

  async disable(caller: Client, id: string, reason?: string): Promise<WebhookView> {
    const current = await this.find(caller, id);
    const at = this.iso();
    const why = reason ?? `disabled by ${caller.name}`;
    const updated = await this.change(current.id, {
      state: 'disabled',
      disabledReason: why,
      disabledAt: at,
      updatedAt: at,
    });
    await this.audit(caller, 'webhook.disable', updated, { state: 'disabled', reason: why });
    return this.view(updated);
  }

  async attempts(
    caller: Client,
    id: string,
    query: { limit: number; after?: number; position?: number },
  ): Promise<{ attempts: DeliveryAttempt[]; next?: number }> {
    const w = await this.find(caller, id);
    const limit = Math.min(query.limit, MAX_LIST);
    const rows = await this.options.store.attempts(w.id, { ...query, limit: limit + 1 });
    const attempts = rows.slice(0, limit);
    return { attempts, ...(rows.length > limit ? { next: attempts.at(-1)!.seq } : {}) };
  }

  /**
   * Sends every event of the webhook's filter from `fromPosition` on again (same `webhook-id`s), marked
   * `lgspreplay: redeliver:<client>`.
   */
  async redeliver(caller: Client, id: string, fromPosition: number): Promise<WebhookView> {
    const w = await this.find(caller, id);
    const head = (await this.options.events.head()).position;
    if (!Number.isSafeInteger(fromPosition) || fromPosition < 1) {
      throw new DomainError('invalid', `fromPosition must be a log position (1 or more)`, [
        { pointer: '/fromPosition', message: 'must be an integer of at least 1' },
      ]);
    }
    if (fromPosition > head + 1) {
      throw new DomainError('invalid', `position ${fromPosition} is beyond the log's head (${head})`, [
        { pointer: '/fromPosition', message: `must be at most ${head + 1}` },
      ]);
    }
    await this.options.store.rewind(w.id, fromPosition - 1, this.iso(), `redeliver:${caller.name}`);
    await this.audit(caller, 'webhook.redeliver', w, { fromPosition });
    this.options.changed?.();
    return this.view((await this.options.store.get(w.id)) ?? w);
  }

  async delete(caller: Client, id: string): Promise<void> {
    const w = await this.find(caller, id);
    await this.options.store.delete(w.id);
    await this.audit(caller, 'webhook.delete', w, { deleted: true });
    this.options.changed?.();
  }

  /** A parking of the webhook was retried: its parked deliveries of the dossier are due again. */
  async retryParked(id: string, dossier: string): Promise<number> {
    const n = await this.resolveParked(id, dossier, 'retry', Number.MAX_SAFE_INTEGER);
    this.options.changed?.();
    return n;
  }

  /** A parking of the webhook was skipped: its deliveries of the dossier through `through` are dropped. */
  async skipParked(id: string, dossier: string, through: number): Promise<number> {
    const n = await this.resolveParked(id, dossier, 'skip', through);
    this.options.changed?.();
    return n;
  }

  /** The stored webhook, or undefined: for the operator API (parkings, replays), which has no scope. */
  record(id: string): Promise<WebhookRecord | undefined> {
    return this.options.store.get(id);
  }

  /** The webhook as the API shows it: no secret, with its checkpoint, lag and queue. */
  async view(w: WebhookRecord): Promise<WebhookView> {
    const progress = await this.options.store.progress(w.id);
    const head = await this.options.events.head();
    // Acknowledged through `deliveredThrough`, except what the table keeps for a retry.
    const through = Math.min(w.deliveredThrough, w.cursor);
    const checkpoint = progress.oldest ? Math.min(progress.oldest.position - 1, through) : through;
    let seconds = 0;
    if (checkpoint < head.position) {
      const [first] = await this.options.events.readAll({ after: checkpoint, limit: 1 });
      if (first) seconds = (this.now() - Date.parse(first.recordedAt)) / 1000;
    }
    return {
      id: w.id,
      url: w.url,
      ...(w.description === undefined ? {} : { description: w.description }),
      filter: w.filter,
      eventVersions: deliveredVersions(w.eventVersions),
      ratePerSecond: w.ratePerSecond,
      state: w.state,
      ...(w.disabledReason === undefined ? {} : { disabledReason: w.disabledReason }),
      ...(w.disabledAt === undefined ? {} : { disabledAt: w.disabledAt }),
      ...(w.province === undefined ? {} : { province: w.province }),
      createdBy: w.createdBy,
      createdAt: w.createdAt,
      updatedAt: w.updatedAt,
      ...(w.secretRotatedAt === undefined ? {} : { secretRotatedAt: w.secretRotatedAt }),
      ...(w.previousSecretExpiresAt === undefined || Date.parse(w.previousSecretExpiresAt) <= this.now()
        ? {}
        : { previousSecretExpiresAt: w.previousSecretExpiresAt }),
      checkpoint,
      lag: { events: Math.max(0, head.position - checkpoint), seconds: Math.max(0, seconds) },
      // Kept for a retry, plus queued from the log and not yet acknowledged (events the filter skips
      // between them count too: an upper bound while deliveries are in flight).
      pending: progress.pending + Math.max(0, w.cursor - through),
      parked: progress.parked,
      ...(w.failingSince === undefined ? {} : { failingSince: w.failingSince }),
    };
  }

  /** True when the event is one this webhook receives (replays select with it). */
  matches = matchesFilter;

  private async resolveParked(
    id: string,
    dossier: string,
    action: 'retry' | 'skip',
    through: number,
  ): Promise<number> {
    let total = 0;
    for (const stream of new Set([`dossier-${dossier}`, dossier])) {
      if (dossierOfStream(stream) !== dossier) continue;
      total += await this.options.store.resolveParked(id, stream, action, through, this.now());
    }
    return total;
  }

  private async change(id: string, changes: WebhookChanges): Promise<WebhookRecord> {
    const updated = await this.options.store.update(id, changes);
    if (updated === undefined) throw notFound(id);
    this.options.changed?.();
    return updated;
  }

  /** The webhook when the caller may see it; 404 otherwise (its existence is not revealed). */
  private async find(caller: Client, id: string): Promise<WebhookRecord> {
    assertMayUse(caller);
    const w = /^wh_[0-9a-z]{26}$/.test(id) ? await this.options.store.get(id) : undefined;
    if (w === undefined) throw notFound(id);
    if (caller.role === 'province' && (w.province === undefined || w.province !== caller.provinceCode))
      throw notFound(id);
    return w;
  }

  private async checkUrl(raw: string): Promise<URL> {
    const insecure = this.options.settings.allowInsecureTargets;
    const url = parseWebhookUrl(raw, insecure);
    await assertPublicTarget(url, insecure, this.options.lookup);
    return url;
  }

  private rate(given: number | undefined): number {
    const { defaultRatePerSecond, maxRatePerSecond } = this.options.settings;
    if (given === undefined) return defaultRatePerSecond;
    if (!(given > 0) || given > maxRatePerSecond) {
      throw new DomainError('invalid', `ratePerSecond must be above 0 and at most ${maxRatePerSecond}`, [
        { pointer: '/ratePerSecond', message: `must be above 0 and at most ${maxRatePerSecond}` },
      ]);
    }
    return given;
  }

  /**
   * The filter to store and the owning province: checked against the codes that exist (422), then
   * against the caller's scope (403). A province client's filter is pinned to its province.
   */
  private scopedFilter(caller: Client, given: WebhookFilter): { filter: WebhookFilter; province?: string } {
    const { units } = this.options;
    const issues: Issue[] = [];
    const filter: WebhookFilter = {};
    if (given.types !== undefined) {
      given.types.forEach((t, i) => {
        if (!isEventType(t))
          issues.push({ pointer: `/filter/types/${i}`, message: `unknown event type ${t}` });
      });
      filter.types = [...new Set(given.types)];
    }
    if (given.provinces !== undefined) {
      given.provinces.forEach((p, i) => {
        if (!units.hasProvince(p))
          issues.push({ pointer: `/filter/provinces/${i}`, message: `unknown province ${p}` });
      });
      filter.provinces = [...new Set(given.provinces)];
    }
    if (given.communes !== undefined) {
      given.communes.forEach((c, i) => {
        if (units.provinceOfCommune(c) === undefined)
          issues.push({ pointer: `/filter/communes/${i}`, message: `unknown commune ${c}` });
      });
      filter.communes = [...new Set(given.communes)];
    }
    if (issues.length > 0) throw new DomainError('invalid', 'the webhook filter is not valid', issues);
    if (caller.role !== 'province') return { filter };
    const own = caller.provinceCode;
    if (own === undefined) throw new DomainError('forbidden', `client ${caller.name} has no province`);
    const outside: Issue[] = [];
    (filter.provinces ?? []).forEach((p, i) => {
      if (p !== own) outside.push({ pointer: `/filter/provinces/${i}`, message: `outside province ${own}` });
    });
    (filter.communes ?? []).forEach((c, i) => {
      if (units.provinceOfCommune(c) !== own)
        outside.push({ pointer: `/filter/communes/${i}`, message: `outside province ${own}` });
    });
    if (outside.length > 0) {
      throw new DomainError(
        'forbidden',
        `client ${caller.name} may subscribe only to events of province ${own}`,
        outside,
      );
    }
    return { filter: { ...filter, provinces: [own] }, province: own };
  }

  private async audit(
    caller: Client,
    action: string,
    w: WebhookRecord,
    outcome: Record<string, unknown>,
  ): Promise<void> {
    await this.options.audit?.record({
      at: this.iso(),
      actor: caller.name,
      action,
      subject: `webhook:${w.id}`,
      scope: { ...(w.province === undefined ? {} : { province: w.province }) },
      outcome,
    });
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}

/**
 * A webhook's `eventVersions` as given, checked against the catalogue.
 * @throws DomainError `invalid` naming each bad family or version.
 */
function checkedVersions(given: EventVersions): EventVersions {
  const issues = eventVersionsIssues(given, '/eventVersions');
  if (issues.length > 0) throw new DomainError('invalid', 'the event versions are not valid', issues);
  return { ...given };
}

/** Every family with several versions, at the version the webhook receives (1 when it chose none). */
function deliveredVersions(chosen: EventVersions | undefined): EventVersions {
  const out: Record<string, number> = {};
  for (const [family, versions] of versionedFamilies()) out[family] = chosen?.[family] ?? versions[0]!;
  return out;
}

/** Commune clients may not subscribe; every other role may, within its scope. */
function assertMayUse(caller: Client): void {
  if (caller.role === 'commune') throw new DomainError('forbidden', 'commune clients cannot use webhooks');
  if (caller.role === 'province' && caller.provinceCode === undefined)
    throw new DomainError('forbidden', `client ${caller.name} has no province`);
}

function notFound(id: string): DomainError {
  return new DomainError('not-found', `no webhook ${id}`);
}

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** `wh_` and 26 characters: 10 of time (ms, sortable) and 16 random. */
export function newWebhookId(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let rand = '';
  for (const b of bytes) rand += ALPHABET[b % 32]!;
  return `wh_${time}${rand}`;
}

export { matchesFilter };
