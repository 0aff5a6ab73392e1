import { randomBytes } from 'node:crypto';
import { DomainError, PERSON_ERASED, isDomainError, withAllVersions } from '#lgsp/contracts';
import { ANY_VERSION, type EventStore, type EventToAppend, type StoredEvent } from '#lgsp/event-store';
import { systemClock, type Clock } from '#lgsp/observability';
import type { AuditLog } from '#lgsp/security';
import { sealedKid } from '../cipher.js';
import { copySubject, isSealed } from '../model.js';
import { personsIn } from '../personal-fields.js';
import type { SubjectKeyProvider } from '../subject-keys.js';
import {
  ERASURE_SOURCE,
  ERASURE_TRANSITIONS,
  checkBasis,
  checkSubjectId,
  erasureDeadlines,
  erasureView,
  type ErasureDeadlineSettings,
  type ErasureExemption,
  type ErasureOutcome,
  type ErasureRecord,
  type ErasureState,
  type ErasureView,
} from './model.js';
import type { DossierEnd, SqlErasureStore } from './sql-erasure-store.js';

/** Every version of `dossier.submitted`: each names the procedure. */
const DOSSIER_SUBMITTED: ReadonlySet<string> = new Set(withAllVersions(['vn.gov.lgsp.dossier.submitted.v1']));
const STATUS_CHANGED = 'vn.gov.lgsp.dossier.status-changed.v1';
const DOSSIER_STREAM = 'dossier-';

/**
 * The national statuses that end a dossier (libs/projections DOSSIER_STATUS_NAMES): 3 rejected at
 * intake, 7 withdrawn by the applicant, 10 result returned.
 */
export const DOSSIER_END_STATUSES: ReadonlySet<number> = new Set([3, 7, 10]);

/** The subscriber name under which the retention keeps its place in the log. */
export const RETENTION_CURSOR = 'privacy-retention';

const DAY_MS = 24 * 3600_000;
const MAX_LIST = 200;
const PAGE = 1000;

export interface ErasureSettings extends ErasureDeadlineSettings {
  /** Procedure code → the legal basis under which its dossiers are kept (`privacy.erasure.exemptProcedures`). */
  exemptProcedures: Readonly<Record<string, string>>;
  /** Days after a dossier's end before its subjects' keys are destroyed; null: no retention. */
  retentionDays: number | null;
}

export interface ErasureServiceOptions {
  store: SqlErasureStore;
  keys: SubjectKeyProvider;
  /** The hub's event store (the sealing one): where the `person.erased` notices are appended. */
  events: Pick<EventStore, 'append' | 'checkpoints'>;
  /** The events as stored (sealed values, whose kids name their subjects). */
  stored: Pick<EventStore, 'readStream' | 'readAll'>;
  settings: ErasureSettings;
  /** Whether processors or third parties hold copies now (a connector, a webhook or a Kafka relay runs). */
  thirdParties: () => boolean | Promise<boolean>;
  audit?: AuditLog;
  clock?: Pick<Clock, 'now'>;
  /**
   * How long to wait between destroying the keys and appending the notices: the key cache of the other
   * processes sharing the store (`privacy.keyCacheMs`), so that a connector or webhook handling a notice in
   * another replica reads the values erased. 0 for a hub alone on its store. @defaultValue 0
   */
  settleMs?: number;
}

/** A dossier of a subject, as read from its stored events. */
interface SubjectDossier {
  code: string;
  stream: string;
  provinceCode: string;
  communeCode: string;
  procedure?: string;
  /** The subject's roles in it (empty when it holds none of the subject's values). */
  roles: string[];
}

/**
 * Erasure requests under Law 91/2025 (Art. 14) and the retention: a request records who asked, when,
 * its deadlines and the exemptions that apply; approving it destroys the subject's keys (and the
 * working-copy keys of its dossiers) and appends one `person.erased` notice per dossier; refusing it
 * records the legal basis. Every action and every refused attempt is audited, by subject reference only.
 */
export class ErasureService {
  private readonly clock: Pick<Clock, 'now'>;

  constructor(private readonly options: ErasureServiceOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Records a request for `subjectId` (a citizen ID or a surrogate), with its deadlines and exemptions. */
  async request(actor: string, input: { subjectId: unknown; note?: string }): Promise<ErasureView> {
    return this.attempt(actor, 'erasure.request', 'erasure', async () => {
      const subject = checkSubjectId(input.subjectId);
      const subjectRef = this.options.keys.ref(input.subjectId as string);
      const now = this.clock.now();
      const dossiers = await this.dossiersOf(subjectRef);
      const record: ErasureRecord = {
        id: newErasureId(now),
        state: 'requested',
        subjectRef,
        subject,
        requestedBy: actor,
        requestedAt: new Date(now).toISOString(),
        ...(input.note === undefined ? {} : { note: input.note }),
        deadlines: erasureDeadlines(now, await this.options.thirdParties(), this.options.settings),
        exemptions: this.exemptions(dossiers),
      };
      await this.options.store.create(record);
      await this.record(actor, 'erasure.request', record, {
        state: record.state,
        deadlines: record.deadlines,
        dossiers: dossiers.length,
        exemptions: record.exemptions.map((e) => e.procedure),
      });
      return this.view(record);
    });
  }

  async get(id: string): Promise<ErasureView> {
    return this.view(await this.find(id));
  }

  async list(query: { limit: number; after?: string }): Promise<{ erasures: ErasureView[]; next?: string }> {
    const limit = Math.min(query.limit, MAX_LIST);
    const records = await this.options.store.list({
      limit: limit + 1,
      ...(query.after === undefined ? {} : { after: query.after }),
    });
    const page = records.slice(0, limit);
    return {
      erasures: page.map((r) => this.view(r)),
      ...(records.length > limit ? { next: page.at(-1)!.id } : {}),
    };
  }

  /**
   * Erases the subject: refused (409) while an exemption applies, or once the request is decided.
   * Safe to retry after a failure part way: the keys stay destroyed, the notices have fixed ids, and the
   * request turns `erased` only once every notice is appended.
   */
  async approve(actor: string, id: string): Promise<ErasureView> {
    return this.attempt(actor, 'erasure.approve', `erasure:${id}`, async (scope) => {
      const current = await this.find(id);
      Object.assign(scope, { subjectRef: current.subjectRef, subject: current.subject });
      assertMove(current, 'erased');
      const dossiers = await this.dossiersOf(current.subjectRef);
      const exemptions = this.exemptions(dossiers);
      if (exemptions.length > 0) {
        const [first] = exemptions;
        throw new DomainError(
          'conflict',
          `the subject has a dossier of procedure ${first!.procedure}, kept by law (${first!.basis}): ` +
            'the request cannot be approved; refuse it citing that basis',
          exemptions.map((e, i) => ({
            pointer: `/exemptions/${i}`,
            message: `procedure ${e.procedure}: ${e.basis}`,
          })),
        );
      }
      const now = this.clock.now();
      const outcome = await this.erase(current.subjectRef, dossiers, now, {
        reason: 'request',
        erasureId: id,
        noticeId: (code) => `erasure/${id}/${code}`,
      });
      const erased: ErasureRecord = {
        ...current,
        state: 'erased',
        exemptions,
        decidedBy: actor,
        decidedAt: new Date(now).toISOString(),
        outcome,
      };
      if (!(await this.options.store.update(erased, 'requested'))) {
        // Another call decided it meanwhile (its erasure did the same): answer as a second approve.
        assertMove(await this.find(id), 'erased');
      }
      await this.record(actor, 'erasure.approve', erased, { state: 'erased', ...outcome });
      return this.view(erased);
    });
  }

  /** Refuses the request, citing its legal basis; 409 once it is decided. */
  async refuse(actor: string, id: string, input: { basis: unknown; note?: string }): Promise<ErasureView> {
    return this.attempt(actor, 'erasure.refuse', `erasure:${id}`, async (scope) => {
      const current = await this.find(id);
      Object.assign(scope, { subjectRef: current.subjectRef, subject: current.subject });
      const basis = checkBasis(input.basis);
      assertMove(current, 'refused');
      const refused: ErasureRecord = {
        ...current,
        state: 'refused',
        decidedBy: actor,
        decidedAt: new Date(this.clock.now()).toISOString(),
        refusal: { basis, ...(input.note === undefined ? {} : { note: input.note }) },
      };
      if (!(await this.options.store.update(refused, 'requested')))
        assertMove(await this.find(id), 'refused');
      await this.record(actor, 'erasure.refuse', refused, { state: 'refused', basis });
      return this.view(refused);
    });
  }

  /**
   * One pass of the retention: reads the dossiers' status changes since the last pass, then destroys the
   * keys of every subject all of whose dossiers ended more than the retention period ago, none of them
   * exempt. Idempotent: replicas may run it at once. Returns how many subjects it erased.
   */
  async retain(): Promise<number> {
    const days = this.options.settings.retentionDays;
    if (days === null) return 0;
    await this.scanEnds();
    const now = this.clock.now();
    const cutoff = new Date(now - days * DAY_MS).toISOString();
    const { store, keys } = this.options;
    let erased = 0;
    // Each page is marked checked, so the next one is new; bounded all the same.
    for (let pages = 0; pages < 1000; pages++) {
      const due = await store.endedBefore(cutoff, 100);
      if (due.length === 0) break;
      for (const end of due) {
        const copies = keys.ref(copySubject(end.dossierCode));
        for (const ref of await keys.subjectsIn(DOSSIER_STREAM + end.dossierCode)) {
          if (ref !== copies && (await this.retainSubject(ref, cutoff, now))) erased++;
        }
        await store.markChecked(end, new Date(now).toISOString());
      }
    }
    return erased;
  }

  private async retainSubject(ref: string, cutoff: string, now: number): Promise<boolean> {
    const state = await this.options.keys.state(ref);
    if (state === undefined || state.destroyed === state.keys) return false;
    const dossiers = await this.dossiersOf(ref);
    if (this.exemptions(dossiers).length > 0) return false;
    for (const d of dossiers) {
      const end: DossierEnd | undefined = await this.options.store.end(d.code);
      if (end?.endedAt == null || end.endedAt >= cutoff) return false;
    }
    const outcome = await this.erase(ref, dossiers, now, {
      reason: 'retention',
      noticeId: (code) => `retention/${ref}/${state.keys}/${code}`,
    });
    await this.options.audit?.record({
      at: new Date(now).toISOString(),
      actor: 'system',
      action: 'erasure.retention',
      subject: `subject:${ref}`,
      scope: { subjectRef: ref, retentionDays: this.options.settings.retentionDays, endedBefore: cutoff },
      outcome: { ...outcome },
    });
    return true;
  }

  /** Records the dossiers' ends (and reopenings) from the status changes appended since the last scan. */
  private async scanEnds(): Promise<void> {
    const { checkpoints } = this.options.events;
    let after = await checkpoints.load(RETENTION_CURSOR);
    for (;;) {
      const page = await this.options.stored.readAll({ after, limit: PAGE, types: [STATUS_CHANGED] });
      for (const event of page) {
        const data = event.data as { dossierCode?: unknown; status?: unknown; changedAt?: unknown };
        if (typeof data.dossierCode !== 'string') continue;
        const ended = typeof data.status === 'number' && DOSSIER_END_STATUSES.has(data.status);
        await this.options.store.recordEnd({
          dossierCode: data.dossierCode,
          endedAt: ended ? endTime(event) : null,
          position: event.position,
        });
      }
      if (page.length === 0) break;
      after = page.at(-1)!.position;
      await checkpoints.save(RETENTION_CURSOR, after);
      if (page.length < PAGE) break;
    }
  }

  /**
   * Destroys the subject's keys and its dossiers' working-copy keys, then appends a notice to each dossier
   * where the subject has a role (fixed ids: a retry appends none twice).
   */
  private async erase(
    ref: string,
    dossiers: readonly SubjectDossier[],
    now: number,
    how: { reason: 'request' | 'retention'; erasureId?: string; noticeId: (dossierCode: string) => string },
  ): Promise<ErasureOutcome> {
    const { keys, events } = this.options;
    const state = await keys.destroy(ref);
    for (const d of dossiers) await keys.destroy(keys.ref(copySubject(d.code)));
    const settle = this.options.settleMs ?? 0;
    if (settle > 0) await new Promise((resolve) => setTimeout(resolve, settle));
    const erasedAt = new Date(now).toISOString();
    const notices: EventToAppend[] = dossiers
      .filter((d) => d.roles.length > 0)
      .map((d) => ({
        id: how.noticeId(d.code),
        source: ERASURE_SOURCE,
        type: PERSON_ERASED,
        time: erasedAt,
        datacontenttype: 'application/json',
        data: {
          dossierCode: d.code,
          provinceCode: d.provinceCode,
          communeCode: d.communeCode,
          subjectRef: ref,
          roles: d.roles,
          erasedAt,
          reason: how.reason,
          ...(how.erasureId === undefined ? {} : { erasureId: how.erasureId }),
        },
        extensions: {},
        provinceCode: d.provinceCode,
        communeCode: d.communeCode,
        stream: d.stream,
        expectedVersion: ANY_VERSION,
      }));
    if (notices.length > 0) await events.append(notices);
    return { keysDestroyed: state.destroyed, dossiers: dossiers.length, notices: notices.length };
  }

  /** The subject's dossiers (the streams its data was sealed into), with its roles in each. */
  private async dossiersOf(ref: string): Promise<SubjectDossier[]> {
    const streams = (await this.options.keys.streams(ref)).filter((s) => s.startsWith(DOSSIER_STREAM));
    const out: SubjectDossier[] = [];
    for (const stream of streams) {
      const dossier = await this.readDossier(stream, ref);
      if (dossier !== undefined) out.push(dossier);
    }
    return out;
  }

  private async readDossier(stream: string, ref: string): Promise<SubjectDossier | undefined> {
    const events: StoredEvent[] = [];
    for (let from = 1; ;) {
      const page = await this.options.stored.readStream(stream, { fromVersion: from, limit: PAGE });
      events.push(...page);
      if (page.length < PAGE) break;
      from = page.at(-1)!.streamVersion + 1;
    }
    const first = events[0];
    if (first === undefined) return undefined;
    // The kid of each sealed value, by the role of the person holding it.
    const kidsByRole = new Map<string, Set<string>>();
    let procedure: string | undefined;
    for (const event of events) {
      const data = event.data as Record<string, unknown>;
      if (DOSSIER_SUBMITTED.has(event.type) && typeof data.procedureCode === 'string')
        procedure = data.procedureCode;
      for (const person of personsIn(event.type, data)) {
        for (const field of person.spec.fields) {
          const value = person.holder[field];
          const kid = isSealed(value) ? sealedKid(value) : undefined;
          if (kid === undefined) continue;
          const kids = kidsByRole.get(person.role) ?? new Set<string>();
          kids.add(kid);
          kidsByRole.set(person.role, kids);
        }
      }
    }
    const subjects = await this.options.keys.subjectsOf([...kidsByRole.values()].flatMap((k) => [...k]));
    const roles = [...kidsByRole]
      .filter(([, kids]) => [...kids].some((kid) => subjects.get(kid) === ref))
      .map(([role]) => role);
    return {
      code: stream.slice(DOSSIER_STREAM.length),
      stream,
      provinceCode: first.provinceCode ?? String((first.data as { provinceCode?: unknown }).provinceCode),
      communeCode: first.communeCode ?? String((first.data as { communeCode?: unknown }).communeCode),
      ...(procedure === undefined ? {} : { procedure }),
      roles,
    };
  }

  private exemptions(dossiers: readonly SubjectDossier[]): ErasureExemption[] {
    const exempt = this.options.settings.exemptProcedures;
    const out = new Map<string, ErasureExemption>();
    for (const d of dossiers) {
      if (d.procedure !== undefined && Object.hasOwn(exempt, d.procedure))
        out.set(d.procedure, { procedure: d.procedure, basis: exempt[d.procedure]! });
    }
    return [...out.values()];
  }

  private async find(id: string): Promise<ErasureRecord> {
    const found = await this.options.store.get(id);
    if (found === undefined) throw new DomainError('not-found', `no erasure request ${id}`);
    return found;
  }

  private view(record: ErasureRecord): ErasureView {
    return erasureView(record, this.clock.now());
  }

  /** Runs an action; a refusal of it (a domain error) is audited before it is thrown. */
  private async attempt<T>(
    actor: string,
    action: string,
    subject: string,
    run: (scope: Record<string, unknown>) => Promise<T>,
  ): Promise<T> {
    // What the action was about, as far as it got (the subject's reference once the request is found).
    const scope: Record<string, unknown> = {};
    try {
      return await run(scope);
    } catch (err) {
      if (isDomainError(err)) {
        await this.options.audit?.record({
          at: new Date(this.clock.now()).toISOString(),
          actor,
          action,
          subject,
          scope,
          outcome: { refused: true, code: err.code, reason: err.message },
        });
      }
      throw err;
    }
  }

  private async record(
    actor: string,
    action: string,
    r: ErasureRecord,
    outcome: Record<string, unknown>,
  ): Promise<void> {
    await this.options.audit?.record({
      at: new Date(this.clock.now()).toISOString(),
      actor,
      action,
      subject: `erasure:${r.id}`,
      scope: { subjectRef: r.subjectRef, subject: r.subject },
      outcome,
    });
  }
}

/** @throws DomainError `conflict` when the request cannot move to `next` (it is decided). */
function assertMove(record: ErasureRecord, next: ErasureState): void {
  if (!ERASURE_TRANSITIONS[record.state].includes(next))
    throw new DomainError(
      'conflict',
      `erasure request ${record.id} is ${record.state} already: it cannot be ${next === 'erased' ? 'approved' : 'refused'}`,
    );
}

/** When a dossier ended: its final status's `changedAt` (the business time), else when it was recorded. */
function endTime(event: StoredEvent): string {
  const changedAt = (event.data as { changedAt?: unknown }).changedAt;
  const at = typeof changedAt === 'string' ? Date.parse(changedAt) : NaN;
  return new Date(Number.isNaN(at) ? Date.parse(event.recordedAt) : at).toISOString();
}

/** `er_` + the time in base 36 + randomness: ids sort by creation. */
function newErasureId(now: number): string {
  return `er_${now.toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
}
